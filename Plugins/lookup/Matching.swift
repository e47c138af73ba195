// Turning params into the bounds and words the queries compare against.

import Foundation
import MeetingKit

/// Date params as half-open bounds on the stored ISO 8601 text: `from` is compared
/// with `>=`, and `to` becomes the start of the next day, month or year, so that a
/// date with a time ("2020-12-18T10:00+03:00") still falls inside its day.
enum DateBounds {
    static let pattern = "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"

    /// `from` as a lower bound, after checking it is a calendar date.
    static func lower(_ text: String, field: String) throws(MethodError) -> String {
        _ = try parts(text, field: field)
        return text
    }

    /// The exclusive upper bound that makes `to` inclusive.
    static func upperExclusive(_ text: String, field: String) throws(MethodError) -> String {
        var (year, month, day) = try parts(text, field: field)
        switch (month, day) {
        case (nil, _):
            return format(year + 1)
        case (let m?, nil):
            return m == 12 ? format(year + 1, 1) : format(year, m + 1)
        case (let m?, let d?):
            if d < daysIn(month: m, year: year) { day = d + 1 } else if m < 12 { month = m + 1; day = 1 } else {
                year += 1; month = 1; day = 1
            }
            return format(year, month, day)
        }
    }

    /// Checks `to` is not before `from`, comparing both as first days ("2021" is 2021-01-01).
    static func checkOrder(lower: String?, upperExclusive: String?, field: String) throws(MethodError) {
        func firstDay(_ bound: String) -> String { bound + String("-01-01".suffix(10 - bound.count)) }
        if let lower, let upperExclusive, firstDay(upperExclusive) <= firstDay(lower) {
            throw MethodError.invalidParams(field: field, reason: "is before from")
        }
    }

    private static func parts(_ text: String, field: String) throws(MethodError) -> (Int, Int?, Int?) {
        let numbers = text.split(separator: "-").map { Int($0) }
        guard (1...3).contains(numbers.count), numbers.allSatisfy({ $0 != nil }), let year = numbers[0] else {
            throw MethodError.invalidParams(field: field, reason: "expected YYYY, YYYY-MM or YYYY-MM-DD, got \"\(text)\"")
        }
        let month = numbers.count > 1 ? numbers[1] : nil
        let day = numbers.count > 2 ? numbers[2] : nil
        if let month, !(1...12).contains(month) {
            throw MethodError.invalidParams(field: field, reason: "\(text) has no month \(month)")
        }
        if let month, let day, !(1...daysIn(month: month, year: year)).contains(day) {
            throw MethodError.invalidParams(field: field, reason: "\(text) is not a calendar date")
        }
        return (year, month, day)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func format(_ year: Int, _ month: Int? = nil, _ day: Int? = nil) -> String {
        var text = String(format: "%04d", year)
        if let month { text += String(format: "-%02d", month) }
        if let day { text += String(format: "-%02d", day) }
        return text
    }
}

/// Whole-word matching for titles, places and document titles: the SQL function
/// `lookup_has_words(text, words)` is true when every word of `words` (already
/// folded, space-separated) is a word of `text`, case and accents ignored. It is
/// added to a reader connection the first time a query there needs it.
enum WordMatch {
    static let sqlName = "lookup_has_words"

    static let function = DatabaseFunction(sqlName, argumentCount: 2, pure: true) { values in
        guard let text = String.fromDatabaseValue(values[0]), let wanted = String.fromDatabaseValue(values[1]) else {
            return false
        }
        let present = words(of: text)
        return wanted.split(separator: " ").allSatisfy { present.contains(String($0)) }
    }

    /// The words of `text`, lowercased and without accents; ASCII text (most of it)
    /// is folded without Foundation.
    static func words(of text: String) -> [String] {
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            return text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        }
        return text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
            .split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
    }

    /// The `words` argument for a param, or -32602 if it has no words at all.
    static func argument(_ text: String, field: String) throws(MethodError) -> String {
        let folded = words(of: text)
        guard !folded.isEmpty else { throw MethodError.invalidParams(field: field, reason: "has no words to match") }
        return folded.joined(separator: " ")
    }
}
