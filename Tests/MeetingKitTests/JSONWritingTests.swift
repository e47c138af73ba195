import MeetingKit
import XCTest

/// The writer's text, byte for byte: every reply is written by it, and clients compare
/// replies as text (Benchmarks/search/same_results.py).
final class JSONWritingTests: XCTestCase {
    func text(_ value: JSONValue) -> String { value.serialized }

    func testEveryEscapeClass() {
        XCTAssertEqual(text("plain"), #""plain""#)
        XCTAssertEqual(text("a\"b\\c"), #""a\"b\\c""#)
        XCTAssertEqual(text("\n\r\t"), #""\n\r\t""#)
        // Other control characters as \u00XX, lowercase, \b and \f included; DEL and "/" as they are.
        XCTAssertEqual(text("\u{0}\u{1}\u{8}\u{C}\u{1B}\u{1F}\u{7F}/"), #""\u0000\u0001\u0008\u000c\u001b\u001f\#u{7F}/""#)
        XCTAssertEqual(text("Zürich — 😀 \u{85}\u{2028}"), "\"Zürich — 😀 \u{85}\u{2028}\"")
        XCTAssertEqual(text(""), #""""#)
        XCTAssertEqual(text(["k\"ey": "v"]), #"{"k\"ey":"v"}"#)
    }

    /// Strings are checked eight bytes at a time: an escape in every position of a word, and
    /// in the bytes after the last whole word, is found; non-ASCII bytes next to it are kept.
    func testAnEscapeIsFoundAtEveryPosition() {
        let escapes: [(String, String)] = [("\"", #"\""#), ("\\", #"\\"#), ("\n", #"\n"#), ("\u{1}", #"\u0001"#), ("\u{1F}", #"\u001f"#)]
        for length in 1...19 {
            for position in 0..<length {
                for (raw, escaped) in escapes {
                    let before = String(repeating: "a", count: position), after = String(repeating: "é", count: (length - position - 1) / 2)
                    XCTAssertEqual(text(.string(before + raw + after)), "\"" + before + escaped + after + "\"", "\(length) \(position)")
                }
            }
        }
        // Bytes just outside the escaped ranges: space, "!", "#", "[", "]" and 0x80 and above.
        let near = " !#[]~\u{80}\u{FF}" + String(repeating: "\u{21}\u{23}\u{5B}\u{5D}", count: 3)
        XCTAssertEqual(text(.string(near)), "\"" + near + "\"")
    }

    func testNumbers() {
        for value: Int64 in [0, 7, -7, 10, -10, 1234567890, .max, .min, .min + 1] {
            XCTAssertEqual(text(.int(value)), String(value))
        }
        XCTAssertEqual(text(.double(3.0)), "3")
        XCTAssertEqual(text(.double(-0.0)), "0")
        XCTAssertEqual(text(.double(1e15)), "1000000000000000.0")
        XCTAssertEqual(text(.double(999999999999999.0)), "999999999999999")
        XCTAssertEqual(text(.double(12.345678901234567)), "12.345678901234567")
        XCTAssertEqual(text(.double(-2.5e-10)), "-2.5e-10")
        XCTAssertEqual(text(.double(.nan)), "null")
        XCTAssertEqual(text(.double(-.infinity)), "null")
    }

    func testStructure() {
        XCTAssertEqual(text(["a": [1, "x", nil, true, false, 2.5, [:], []], "b": ["c": -1]]),
                       #"{"a":[1,"x",null,true,false,2.5,{},[]],"b":{"c":-1}}"#)
    }
}
