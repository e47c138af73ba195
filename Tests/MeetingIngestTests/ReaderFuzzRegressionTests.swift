// Inputs that crashed a transcript reader under scripts/fuzz, kept as they were found
// (Fuzz/ and the README's "Fuzzing" say how to run the fuzzers).

import Foundation
import XCTest
@testable import MeetingIngest

final class ReaderFuzzRegressionTests: XCTestCase {
    func parse(_ text: String, path: String) throws -> TranscriptParser.Parsed {
        try TranscriptParser.parse(Data(text.utf8), stem: "fuzz", path: path)
    }

    /// An hours field of 18 digits overflowed Int while timings were counted (trap, the ingest died).
    func testSRTTimingPastIntIsReadNotTrapped() throws {
        let found = "1\n00:00:00,500 --> 888888888888888800:00:03,000\nAnna: He-lo.\n\n2\n00:00:03,000 --> 00500 --> 00:"
        XCTAssertThrowsError(try parse(found, path: "fuzz.srt")) { error in
            XCTAssertTrue("\(error)".contains("line 6: bad cue timing"), "\(error)")
        }
        let turns = try XCTUnwrap(parse("1\n00:00:00,500 --> 888888888888888800:00:03,000\nAnna: Hello.\n", path: "fuzz.srt").meetings.first).turns
        XCTAssertEqual(turns.first?.speaker, "Anna")
        XCTAssertEqual(try XCTUnwrap(turns.first?.end), 888888888888888800 * 3600 + 3, accuracy: 1e6)
    }

    func testWebVTTTimingPastIntIsReadNotTrapped() throws {
        let text = "WEBVTT\n\n99999999999999999:59:59.000 --> 99999999999999999:59:59.999\n<v Bob>Late.\n"
        let turns = try XCTUnwrap(parse(text, path: "fuzz.vtt").meetings.first).turns
        XCTAssertEqual(turns.map(\.speaker), ["Bob"])
        XCTAssertGreaterThan(try XCTUnwrap(turns.first?.start), 3.5e20)
    }
}
