// A small JSON value with its own parser and writer. The daemon parses every
// request and the module SDK every params object, so this sits on the hot path:
// it works on UTF-8 bytes directly, keeps object keys in order, and tells
// integers from doubles so ids and counts round-trip exactly.

public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// An ordered JSON object. Lookups are linear: request and params objects are small,
/// and order matters for readable output.
public struct JSONObject: Sendable, Equatable, ExpressibleByDictionaryLiteral, Sequence {
    public private(set) var members: [(key: String, value: JSONValue)]

    public init() { members = [] }
    public init(_ members: [(key: String, value: JSONValue)]) { self.members = members }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        members = elements.map { (key: $0.0, value: $0.1) }
    }

    public var count: Int { members.count }
    public var keys: [String] { members.map(\.key) }

    public subscript(key: String) -> JSONValue? {
        get { members.first(where: { $0.key == key })?.value }
        set {
            if let index = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append((key: key, value: newValue))
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> { members.makeIterator() }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    public init(_ value: String?) { self = value.map(JSONValue.string) ?? .null }
    public init(_ value: Int) { self = .int(Int64(value)) }
    public init(_ value: Double) { self = .double(value) }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var isNull: Bool { self == .null }

    /// The value as an integer, also when written as a whole double such as `3.0`.
    public var intValue: Int? {
        switch self {
        case .int(let i): return Int(exactly: i)
        case .double(let d): return Int(exactly: d)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// The JSON type name, as JSON Schema spells it.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

// MARK: - Parsing

public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "\(reason) at byte \(offset)" }
}

extension JSONValue {
    /// Parses one JSON text (RFC 8259). Nesting deeper than `maxDepth` is refused, so
    /// a hostile request cannot exhaust the stack.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 256) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes.bindMemory(to: UInt8.self), maxDepth: maxDepth)
        return try parser.parseDocument()
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var copy = text
        return try copy.withUTF8 { buffer in
            Result { () throws(JSONParseError) -> JSONValue in try JSONValue.parse(UnsafeRawBufferPointer(buffer)) }
        }.get()
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONParseError) -> JSONValue in try JSONValue.parse(buffer) }
        }.get()
    }
}

extension JSONValue {
    /// Where the first member named `key` of each request-like object sits in `bytes`:
    /// one entry for a top-level object, one per element of a top-level array (nil
    /// where the element is no object or lacks the member). Values are skipped, not
    /// built, so this costs a pass over the bytes and no allocation per value. It is
    /// how JSON-RPC ids are echoed exactly as written: `9223372036854775808` has no
    /// Int64 and `1e400` no Double form. Returns [] for text that is not JSON.
    public static func memberSpans(_ key: String, in bytes: UnsafeRawBufferPointer,
                                   maxDepth: Int = 256) -> [Range<Int>?] {
        var parser = JSONParser(bytes: bytes.bindMemory(to: UInt8.self), maxDepth: maxDepth)
        do { return try parser.memberSpans(key) } catch { return [] }
    }
}

private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var index = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        if index == bytes.count { throw fail("empty document") }
        let value = try parseValue()
        skipWhitespace()
        if index != bytes.count { throw fail("unexpected data after the JSON value") }
        return value
    }

    func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: index, reason: reason) }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[index])))'")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count,
              memcmp(bytes.baseAddress! + index, literal.utf8Start, count) == 0
        else { throw fail("invalid literal") }
        index += count
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth) levels") }
    }

    mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter()
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(JSONObject(members))
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            members.append((key: key, value: try parseValue()))
            skipWhitespace()
            guard index < bytes.count else { throw fail("unterminated object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; break }
            throw fail("expected ',' or '}'")
        }
        depth -= 1
        return .object(JSONObject(members))
    }

    mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw fail("unterminated array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; break }
            throw fail("expected ',' or ']'")
        }
        depth -= 1
        return .array(elements)
    }

    mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes, so the bytes can be decoded as they are.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                guard let string = String(validating: slice, as: UTF8.self) else {
                    throw JSONParseError(offset: start, reason: "string is not valid UTF-8")
                }
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail("control character in string") }
            index += 1
        }
        var scratch = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let string = String(validating: scratch, as: UTF8.self) else {
                    throw JSONParseError(offset: start, reason: "string is not valid UTF-8")
                }
                return string
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw fail("unterminated escape") }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""): scratch.append(0x22)
                case UInt8(ascii: "\\"): scratch.append(0x5C)
                case UInt8(ascii: "/"): scratch.append(0x2F)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                              bytes[index + 1] == UInt8(ascii: "u") else { throw fail("unpaired surrogate") }
                        index += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("unpaired surrogate")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                    scratch.append(contentsOf: UTF8.encode(unicode)!)
                default: throw fail("invalid escape")
                }
            default:
                if byte < 0x20 { throw fail("control character in string") }
                scratch.append(byte)
                index += 1
            }
        }
        throw fail("unterminated string")
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid number") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid number") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let value = Int64(text) { return .int(value) }
        guard let value = Double(text) else { throw JSONParseError(offset: start, reason: "invalid number") }
        return .double(value)
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    // MARK: Skipping (for memberSpans)

    mutating func memberSpans(_ key: String) throws(JSONParseError) -> [Range<Int>?] {
        skipWhitespace()
        guard index < bytes.count else { throw fail("empty document") }
        if bytes[index] == UInt8(ascii: "{") { return [try memberSpan(key)] }
        guard bytes[index] == UInt8(ascii: "[") else { return [] }
        try enter()
        index += 1
        var spans: [Range<Int>?] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { return spans }
        while true {
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "{") {
                spans.append(try memberSpan(key))
            } else {
                try skipValue()
                spans.append(nil)
            }
            skipWhitespace()
            guard index < bytes.count else { throw fail("unterminated array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { return spans }
            throw fail("expected ',' or ']'")
        }
    }

    /// The span of the first `key` member of the object at `index`; skips the whole object.
    mutating func memberSpan(_ key: String) throws(JSONParseError) -> Range<Int>? {
        try enter()
        index += 1
        var span: Range<Int>? = nil
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return nil
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            // Keys are decoded, so that an escaped "\u0069d" is "id" here as in `parse`.
            let member = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            let start = index
            try skipValue()
            if span == nil, member == key { span = start..<index }
            skipWhitespace()
            guard index < bytes.count else { throw fail("unterminated object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; break }
            throw fail("expected ',' or '}'")
        }
        depth -= 1
        return span
    }

    /// Moves past one value without building it. Checks structure, not content: what
    /// a caller echoes it still parses.
    mutating func skipValue() throws(JSONParseError) {
        guard index < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            try enter()
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == close { index += 1; depth -= 1; return }
            while true {
                skipWhitespace()
                if close == UInt8(ascii: "}") {
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                    try skipString()
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                    index += 1
                    skipWhitespace()
                }
                try skipValue()
                skipWhitespace()
                guard index < bytes.count else { throw fail("unterminated value") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == close { index += 1; break }
                throw fail("expected ',' or a closing bracket")
            }
            depth -= 1
        case UInt8(ascii: "\""):
            try skipString()
        default:
            let start = index
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), 0x20, 0x0A, 0x0D, 0x09: break
                default: index += 1; continue
                }
                break
            }
            if index == start { throw fail("unexpected character") }
        }
    }

    mutating func skipString() throws(JSONParseError) {
        index += 1  // opening quote
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""): index += 1; return
            case UInt8(ascii: "\\"): index += 2
            default: index += 1
            }
        }
        throw fail("unterminated string")
    }
}

// MARK: - Reading documents of a known shape

/// A parsed document that does not have the shape its reader expects: what is wrong,
/// and where (`turns.3.speaker`, keys and array positions from the root).
public struct JSONShapeError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public private(set) var path: [String] = []

    public init(_ reason: String) { self.reason = reason }

    public var description: String { path.isEmpty ? reason : "\(reason) at \(path.joined(separator: "."))" }

    /// The same error seen from the value holding `component`: the path is built as the
    /// error unwinds, so a read that succeeds builds none.
    func inside(_ component: String) -> JSONShapeError {
        var error = self
        error.path.insert(component, at: 0)
        return error
    }
}

/// A type read from a parsed JSON value (where Foundation's decoder was too slow for
/// ingest: it took a tenth of its CPU).
public protocol JSONReadable {
    init(json: JSONValue) throws(JSONShapeError)
}

extension JSONValue {
    public func object() throws(JSONShapeError) -> JSONObject {
        guard case .object(let object) = self else { throw mismatch("object") }
        return object
    }

    func mismatch(_ expected: String) -> JSONShapeError { JSONShapeError("expected \(expected) but found \(typeName)") }
}

extension JSONObject {
    /// The member `key`, which must be present (null only where `T` reads null).
    public func required<T: JSONReadable>(_ key: String, as type: T.Type = T.self) throws(JSONShapeError) -> T {
        guard let value = self[key] else { throw JSONShapeError("missing \"\(key)\"") }
        do throws(JSONShapeError) { return try T(json: value) } catch { throw error.inside(key) }
    }

    /// The member `key`, nil when absent or null.
    public func optional<T: JSONReadable>(_ key: String, as type: T.Type = T.self) throws(JSONShapeError) -> T? {
        guard let value = self[key] else { return nil }
        if case .null = value { return nil }
        do throws(JSONShapeError) { return try T(json: value) } catch { throw error.inside(key) }
    }
}

extension String: JSONReadable {
    public init(json: JSONValue) throws(JSONShapeError) {
        guard case .string(let string) = json else { throw json.mismatch("string") }
        self = string
    }
}

extension Int: JSONReadable {
    /// Also from a whole number written as a double (`3.0`), as Foundation's decoder reads it.
    public init(json: JSONValue) throws(JSONShapeError) {
        guard let value = json.intValue else { throw json.mismatch("integer") }
        self = value
    }
}

extension Double: JSONReadable {
    public init(json: JSONValue) throws(JSONShapeError) {
        guard let value = json.doubleValue else { throw json.mismatch("number") }
        // The parser reads 1e400 as infinity; Foundation's decoder refused it.
        guard value.isFinite else { throw JSONShapeError("number out of range") }
        self = value
    }
}

extension Float: JSONReadable {
    /// Finite only: past Float's range is out of range, as past Double's is.
    public init(json: JSONValue) throws(JSONShapeError) {
        let value = Float(try Double(json: json))
        guard value.isFinite else { throw JSONShapeError("number out of range") }
        self = value
    }
}

extension Array: JSONReadable where Element: JSONReadable {
    public init(json: JSONValue) throws(JSONShapeError) {
        guard case .array(let elements) = json else { throw json.mismatch("array") }
        self = []
        reserveCapacity(elements.count)
        for (position, element) in elements.enumerated() {
            do throws(JSONShapeError) { append(try Element(json: element)) } catch { throw error.inside(String(position)) }
        }
    }
}

extension JSONReadable where Self: RawRepresentable & CaseIterable, RawValue == String {
    public init(json: JSONValue) throws(JSONShapeError) {
        let raw = try String(json: json)
        guard let value = Self(rawValue: raw) else {
            throw JSONShapeError("\"\(raw)\" is none of " + Self.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
        }
        self = value
    }
}

// MARK: - Writing

extension JSONValue {
    /// Compact JSON text.
    public var serialized: String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the compact JSON text of this value to `out`. Every reply is written here,
    /// so nothing is made on the way: no String per number, strings copied from their
    /// UTF-8 storage a run at a time.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: JSONValue.append("null", to: &out)
        case .bool(let b): JSONValue.append(b ? "true" : "false", to: &out)
        case .int(let i): JSONValue.writeInteger(i, to: &out)
        case .double(let d):
            if d.isFinite {
                if d == d.rounded(), abs(d) < 1e15 { JSONValue.writeInteger(Int64(d), to: &out) }
                else { var text = d.description; text.withUTF8 { out.append(contentsOf: $0) } }
            } else {
                JSONValue.append("null", to: &out)  // JSON has no NaN or infinity
            }
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                element.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func append(_ literal: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// The decimal digits of `value`, as `String(value)` writes them.
    static func writeInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        // Room for UInt64's 20 digits, filled from the end.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func writeString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // A native string's bytes are read in place; withUTF8 needs a copy of the String to mutate.
        if string.utf8.withContiguousStorageIfAvailable({ writeEscaped($0, to: &out) }) == nil {
            var string = string
            string.withUTF8 { writeEscaped($0, to: &out) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends `bytes` with quotes, backslashes and control characters escaped. Most strings
    /// need no escape: they are checked eight bytes at a time and the runs between escapes
    /// copied whole.
    private static func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        guard let base = bytes.baseAddress else { return }
        var written = 0, index = 0
        while index < bytes.count {
            if index + 8 <= bytes.count, !anyNeedsEscape(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)) {
                index += 8
                continue
            }
            for position in index..<min(index + 8, bytes.count) where needsEscape(base[position]) {
                out.append(contentsOf: UnsafeBufferPointer(start: base + written, count: position - written))
                appendEscape(of: base[position], to: &out)
                written = position + 1
            }
            index += 8
        }
        out.append(contentsOf: UnsafeBufferPointer(start: base + written, count: bytes.count - written))
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// Whether any of the eight bytes in `word` needs an escape (exact: bytes of 0x80 and
    /// above, as in UTF-8's multi-byte scalars, never count), by the bit tricks of
    /// "Determine if a word has a byte less than n": a byte below 0x20, or one that is 0
    /// once XORed with the quote or the backslash.
    @inline(__always)
    private static func anyNeedsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highBits: UInt64 = 0x8080_8080_8080_8080
        func hasByteBelow(_ limit: UInt64, _ x: UInt64) -> Bool { (x &- ones &* limit) & ~x & highBits != 0 }
        return hasByteBelow(0x20, word) || hasByteBelow(1, word ^ (ones &* 0x22)) || hasByteBelow(1, word ^ (ones &* 0x5C))
    }

    private static func appendEscape(of byte: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        default:
            out.append(contentsOf: "u00".utf8)
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0xF)])
        }
    }

    /// Indented JSON text, for people.
    public func pretty(indent: String = "  ") -> String {
        var out = ""
        writePretty(to: &out, level: 0, indent: indent)
        return out
    }

    private func writePretty(to out: inout String, level: Int, indent: String) {
        let pad = String(repeating: indent, count: level + 1)
        let closePad = String(repeating: indent, count: level)
        switch self {
        case .array(let elements) where !elements.isEmpty:
            out += "[\n"
            for (i, element) in elements.enumerated() {
                out += pad
                element.writePretty(to: &out, level: level + 1, indent: indent)
                out += i + 1 < elements.count ? ",\n" : "\n"
            }
            out += closePad + "]"
        case .object(let object) where object.count > 0:
            out += "{\n"
            for (i, member) in object.members.enumerated() {
                out += pad + JSONValue.string(member.key).serialized + ": "
                member.value.writePretty(to: &out, level: level + 1, indent: indent)
                out += i + 1 < object.count ? ",\n" : "\n"
            }
            out += closePad + "}"
        default:
            out += serialized
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import Foundation

extension JSONValue {
    /// The JSON form of any Encodable value (through Foundation's encoder).
    public init<T: Encodable>(encoding value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        self = try JSONValue.parse(Array(encoder.encode(value)))
    }
}
