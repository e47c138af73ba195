// The rules issue 14 ("Hardening") added, checked on their own: exact id spans,
// string checks on params, limit bounds, control-character escapes, module file
// permissions, and the broker's overloaded answer. The same defects are checked
// end to end over sockets in Tests/python/test_hostile.py.

import Foundation
@testable import MeetingdCore
import MeetingKit
import XCTest

final class HardeningTests: XCTestCase {
    func spans(_ text: String) -> [String?] {
        var copy = text
        return copy.withUTF8 { buffer in
            let bytes = UnsafeRawBufferPointer(buffer)
            return JSONValue.memberSpans("id", in: bytes).map { span in
                span.map { String(decoding: bytes[$0], as: UTF8.self) }
            }
        }
    }

    func testMemberSpansGiveTheIdAsWritten() {
        XCTAssertEqual(spans(#"{"params":{"id":2,"x":[1,"}"]},"id" : 9223372036854775808 ,"method":"m"}"#),
                       ["9223372036854775808"])
        XCTAssertEqual(spans(#"{"\u0069d":1e400,"id":2}"#), ["1e400"], "an escaped key is the same key; the first wins")
        XCTAssertEqual(spans(#"[{"id":"a\"b"}, 5, {"method":"x"}, {"id":-0}]"#), [#""a\"b""#, nil, nil, "-0"])
        XCTAssertEqual(spans(#"{"id":1"#), [], "text that is not JSON has no spans")
        XCTAssertEqual(spans(#""id""#), [])
    }

    func testStringLengthsCountUnicodeScalars() {
        let schema: JSONValue = ["type": "object", "properties": ["q": ["type": "string", "maxLength": 3]]]
        XCTAssertNil(SchemaValidator.validate(["q": "e\u{301}e"], against: schema))
        let accented = "a" + String(repeating: "\u{301}", count: 3)  // one character, four scalars
        XCTAssertEqual(accented.count, 1)
        XCTAssertEqual(SchemaValidator.validate(["q": .string(accented)], against: schema)?.field, "q")
    }

    func testNULIsFoundAtAnyDepthAndOtherControlsPass() {
        XCTAssertEqual(SchemaValidator.firstNUL(in: ["a": ["b": ["x", "y\u{0}"]]])?.field, "a.b[1]")
        XCTAssertEqual(SchemaValidator.firstNUL(in: ["a": ["k\u{0}": 1]])?.field, "a")
        XCTAssertNil(SchemaValidator.firstNUL(in: ["a": "\u{1}\u{1b}\t\n"]))
    }

    func testReasonsQuoteLongValuesShort() {
        let schema: JSONValue = ["type": "object", "properties": ["sort": ["enum": ["date"]]]]
        let reason = SchemaValidator.validate(["sort": .string(String(repeating: "x", count: 100_000))], against: schema)?.reason ?? ""
        XCTAssertLessThan(reason.count, 100, reason)
    }

    func testEveryLimitIsBoundedAndTheBoundsKeepNanosecondsInRange() throws {
        for bound in Limits.bounds {
            let file = try temporaryDirectory(self).appendingPathComponent("meetingd.yaml")
            try "limits: {\(bound.key): \(bound.range.upperBound + 1)}\n".write(to: file, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try ConfigLoader.load(file: file.path, environment: [:])) { error in
                XCTAssertTrue("\(error)".contains("limits.\(bound.key)"), "\(error)")
            }
            if bound.key.hasSuffix("_ms") {
                XCTAssertFalse(UInt64(bound.range.upperBound).multipliedReportingOverflow(by: 1_000_000).overflow)
                XCTAssertFalse(bound.range.upperBound.multipliedReportingOverflow(by: 1_000_000).overflow)
            }
        }
        let environment = ["MEETINGD_LIMITS_SHUTDOWN_GRACE_MS": "100000000000000"]
        XCTAssertThrowsError(try ConfigLoader.load(file: nil, environment: environment))
    }

    func testControlCharactersAreEscapedVisibly() {
        XCTAssertEqual("a\u{1b}[31m\nb\u{202e}c\u{85}".escapingControls, #"a\u{1b}[31m\u{a}b\u{202e}c\u{85}"#)
        XCTAssertEqual("Zürich 😀 — fine".escapingControls, "Zürich 😀 — fine")
        XCTAssertFalse("Zürich".hasUnsafeControls)
    }

    func testModuleFilesOthersCouldWriteAreNamed() throws {
        let folder = try temporaryDirectory(self)
        let library = folder.appendingPathComponent("m.so")
        try Data("x".utf8).write(to: library)
        chmod(folder.path, 0o755)
        chmod(library.path, 0o644)
        XCTAssertNil(ModuleLoader.insecurity(ofLibrary: library.path))
        chmod(library.path, 0o664)
        XCTAssertTrue(ModuleLoader.insecurity(ofLibrary: library.path)?.contains("library") == true)
        chmod(library.path, 0o644)
        chmod(folder.path, 0o757)
        XCTAssertTrue(ModuleLoader.insecurity(ofLibrary: library.path)?.contains("folder") == true)
    }

    func overloaded(_ frame: String) -> String {
        var copy = frame
        let reply = copy.withUTF8 { Dispatcher.overloadedReply(to: UnsafeRawBufferPointer($0), queued: 3, limit: 3) }
        return String(decoding: reply, as: UTF8.self)
    }

    func testOverloadedAnswerKeepsASingleIdAndParsesNoBatch() throws {
        XCTAssertTrue(overloaded(#"{"jsonrpc":"2.0","method":"m","id":1e400}"#).hasPrefix(#"{"jsonrpc":"2.0","id":1e400,"error":{"code":-32006"#))
        XCTAssertEqual(overloaded(#"{"jsonrpc":"2.0","method":"m"}"#), "", "a notification gets an empty frame")
        XCTAssertTrue(overloaded(#"{"jsonrpc":"2.0","method":"m","id":{"x":1}}"#).hasPrefix(#"{"jsonrpc":"2.0","id":null,"#))
        let batch = try JSONValue.parse(overloaded(#" [{"jsonrpc":"2.0","method":"m","id":1},{"id":2}]"#))
        XCTAssertEqual(batch["id"], .null)
        XCTAssertEqual(batch["error"]?["code"], -32006)
    }

    func testConnectionsPastTheCapCloseTheOldest() {
        var gate = ConnectionGate(limit: 2)
        XCTAssertEqual(gate.accepted(10), [])
        XCTAssertEqual(gate.accepted(11), [])
        XCTAssertEqual(gate.accepted(12), [10])
        gate.disconnected(10)  // the evicted one's DISCONNECTED changes nothing
        gate.disconnected(11)
        XCTAssertEqual(gate.accepted(11), [], "a reused descriptor is a new connection")
        XCTAssertEqual(gate.accepted(13), [12], "the old 11 is gone, so 12 is the oldest")
        XCTAssertEqual(gate.count, 2)
    }
}
