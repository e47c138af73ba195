// Validates method params against the JSON Schema a module declares, before the
// module sees them, and names the first offending field and why. It covers the
// keywords modules use to describe params (type, properties, required,
// additionalProperties, enum, const, bounds, lengths, items, pattern, anyOf);
// unknown keywords are ignored, as JSON Schema itself says. String lengths count
// Unicode scalars (code points), as JSON Schema defines them: a grapheme cluster
// may hold any number of combining marks.

import Foundation
import MeetingKit

public struct SchemaViolation: Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public var description: String { "\(field): \(reason)" }
}

public enum SchemaValidator {
    public static func validate(_ value: JSONValue, against schema: JSONValue, at path: String = "params") -> SchemaViolation? {
        guard case .object(let rules) = schema else { return nil }  // `true`/`{}` accept anything

        if let types = rules["type"] {
            let allowed = types.arrayValue?.compactMap(\.stringValue) ?? [types.stringValue].compactMap { $0 }
            if !allowed.contains(where: { matches(value, type: $0) }) {
                return SchemaViolation(field: path, reason: "expected \(allowed.joined(separator: " or ")), got \(describe(value))")
            }
        }
        if let options = rules["enum"]?.arrayValue, !options.contains(value) {
            return SchemaViolation(field: path, reason: "expected one of \(options.map(\.serialized).joined(separator: ", ")), got \(shortened(value))")
        }
        if let constant = rules["const"], constant != value {
            return SchemaViolation(field: path, reason: "expected \(constant.serialized), got \(shortened(value))")
        }
        // An empty anyOf is not a valid schema (JSON Schema requires one form or more): ignored.
        if let alternatives = rules["anyOf"]?.arrayValue, let first = alternatives.first,
           !alternatives.contains(where: { validate(value, against: $0, at: path) == nil }) {
            return validate(value, against: first, at: path)
                ?? SchemaViolation(field: path, reason: "matches none of the allowed forms")
        }

        switch value {
        case .int, .double:
            let number = value.doubleValue!
            if let minimum = rules["minimum"]?.doubleValue, number < minimum {
                return SchemaViolation(field: path, reason: "must be at least \(format(minimum)), got \(value.serialized)")
            }
            if let maximum = rules["maximum"]?.doubleValue, number > maximum {
                return SchemaViolation(field: path, reason: "must be at most \(format(maximum)), got \(value.serialized)")
            }
        case .string(let string):
            let length = string.unicodeScalars.count
            if let minLength = rules["minLength"]?.intValue, length < minLength {
                return SchemaViolation(field: path, reason: minLength == 1 ? "must not be empty" : "must be at least \(minLength) characters long")
            }
            if let maxLength = rules["maxLength"]?.intValue, length > maxLength {
                return SchemaViolation(field: path, reason: "must be at most \(maxLength) characters long, got \(length)")
            }
            if let pattern = rules["pattern"]?.stringValue, string.range(of: pattern, options: .regularExpression) == nil {
                return SchemaViolation(field: path, reason: "does not match the pattern \(pattern)")
            }
        case .array(let elements):
            if let minItems = rules["minItems"]?.intValue, elements.count < minItems {
                return SchemaViolation(field: path, reason: "must have at least \(minItems) items, got \(elements.count)")
            }
            if let maxItems = rules["maxItems"]?.intValue, elements.count > maxItems {
                return SchemaViolation(field: path, reason: "must have at most \(maxItems) items, got \(elements.count)")
            }
            if let itemSchema = rules["items"] {
                for (index, element) in elements.enumerated() {
                    if let violation = validate(element, against: itemSchema, at: "\(path)[\(index)]") { return violation }
                }
            }
        case .object(let object):
            let properties = rules["properties"]?.objectValue ?? [:]
            for required in rules["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[required] == nil {
                return SchemaViolation(field: join(path, required), reason: "is required")
            }
            for (key, member) in object {
                if let propertySchema = properties[key] {
                    if let violation = validate(member, against: propertySchema, at: join(path, key)) { return violation }
                } else if rules["additionalProperties"] == .bool(false) {
                    let known = properties.keys.joined(separator: ", ")
                    return SchemaViolation(field: join(path, key), reason: "is not a known parameter (known: \(known.isEmpty ? "none" : known))")
                }
            }
        default:
            break
        }
        return nil
    }

    /// The first string (or member name) in `value` holding U+0000. SQLite's C API reads
    /// text up to its first NUL, so such a param would reach a query cut short.
    public static func firstNUL(in value: JSONValue, at path: String = "params") -> SchemaViolation? {
        func hasNUL(_ string: String) -> Bool { string.utf8.contains(0) }
        switch value {
        case .string(let string) where hasNUL(string):
            return SchemaViolation(field: path, reason: "must not contain NUL (U+0000)")
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                if let violation = firstNUL(in: element, at: "\(path)[\(index)]") { return violation }
            }
        case .object(let object):
            for (key, member) in object {
                if hasNUL(key) { return SchemaViolation(field: path, reason: "a member name must not contain NUL (U+0000)") }
                if let violation = firstNUL(in: member, at: join(path, key)) { return violation }
            }
        default:
            break
        }
        return nil
    }

    /// Top-level params are named by their own name (`id`), nested ones by path (`filter.from`).
    /// An empty member name is written `""`, so the field an error names is never blank.
    static func join(_ path: String, _ key: String) -> String {
        let name = key.isEmpty ? #""""# : key
        return path == "params" ? name : "\(path).\(name)"
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object),
             ("number", .int), ("number", .double), ("integer", .int):
            return true
        case ("integer", .double(let d)):
            return d == d.rounded()
        default:
            return false
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .string, .int, .double, .bool, .null: return "\(value.typeName) \(shortened(value))"
        default: return value.typeName
        }
    }

    /// A value as quoted in a reason: enough to recognise, never the whole of a long string.
    static func shortened(_ value: JSONValue) -> String {
        let text = value.serialized
        return text.unicodeScalars.count > 40 ? String(String.UnicodeScalarView(text.unicodeScalars.prefix(40))) + "…" : text
    }

    /// A bound as written in a reason: `5`, not `5.0`. Bounds past Int64 (`1e300`, or `1e400`,
    /// which parses as infinity) keep their Double form rather than trap in the conversion.
    static func format(_ number: Double) -> String {
        Int64(exactly: number).map { String($0) } ?? String(number)
    }
}
