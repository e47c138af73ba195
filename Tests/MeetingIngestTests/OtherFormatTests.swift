import XCTest
import MeetingKit
@testable import MeetingIngest

final class OtherFormatTests: XCTestCase {
    func testWebVTTVoicesMergeConsecutiveCuesAndKeepTimes() throws {
        let parsed = try parseFile(TestPaths.fixture("standup.vtt"))
        XCTAssertEqual(parsed.format, .webVTT)
        let turns = try XCTUnwrap(parsed.meetings.first).turns
        XCTAssertEqual(turns.map(\.speaker), ["Alice Smith", "Bob Jones", "Alice Smith", "Bob Jones"])
        XCTAssertEqual(turns[0].paragraphs, ["Good morning, everyone. Let's start with the release."])
        XCTAssertEqual(turns[1].paragraphs, ["The build is green & the notes are ready."])
        XCTAssertEqual(turns[3].paragraphs, ["One more thing {vocalsound} about the budget."])
        XCTAssertEqual(turns.map(\.start), [1, 8, 12.5, 60])
        XCTAssertEqual(turns.map(\.end), [7.5, 12.25, 15, 63])
    }

    func testSRTNamePrefixesAndContinuationCues() throws {
        let parsed = try parseFile(TestPaths.fixture("interview.srt"))
        XCTAssertEqual(parsed.format, .srt)
        let turns = try XCTUnwrap(parsed.meetings.first).turns
        XCTAssertEqual(turns.map(\.speaker), ["Interviewer", "Dr Maria Keller"])
        XCTAssertEqual(turns[0].paragraphs, ["Welcome to the show. Today we talk about solar energy."])
        XCTAssertEqual(turns[1].paragraphs, ["Thank you for having me. It is a pleasure. Solar panels got cheaper every year."])
        XCTAssertEqual(turns[1].start, 6.5)
        XCTAssertEqual(turns[1].end, 12)
    }

    func testPlainSpeakerLines() throws {
        let parsed = try parseFile(TestPaths.fixture("planning.txt"))
        XCTAssertEqual(parsed.format, .plain)
        let meeting = try XCTUnwrap(parsed.meetings.first)
        XCTAssertEqual(meeting.id, "planning")
        XCTAssertEqual(meeting.turns.map(\.speaker), ["Project Manager", "Marketing", "Industrial Designer", "Project Manager"])
        XCTAssertEqual(meeting.turns[1].paragraphs, ["Sounds good. I have the survey results.", "The survey shows users want a simpler remote."])
        XCTAssertEqual(meeting.turns.map(\.start), [5, nil, 70, nil])
    }

    func testOwnJSONFormRoundTripsExactly() throws {
        let url = TestPaths.fixture("own_form.json")
        let parsed = try parseFile(url)
        XCTAssertEqual(parsed.format, .meetingJSON)
        let meeting = try XCTUnwrap(parsed.meetings.first)
        XCTAssertEqual(meeting.id, "board-2024-01")
        XCTAssertEqual(meeting.format, .inPerson)
        XCTAssertEqual(meeting.source, url.path)
        XCTAssertEqual(try Meeting(json: JSONValue(encoding: meeting), defaultID: nil), meeting)
    }

    /// A document of the wrong shape names what is wrong and where; hostile input (deep
    /// nesting, numbers past Double, lone surrogates) is refused with a reason, never a crash.
    func testOwnJSONFormErrorsSayWhatAndWhere() throws {
        let folder = try makeScratchFolder(self)
        let deep = String(repeating: "[", count: 100_000)
        let cases: [(json: String, reason: String)] = [
            (#"{"id": "x", "title": "t", "turns": [{"index": 0, "paragraphs": ["a"]}, {"index": "1", "paragraphs": []}]}"#,
             "expected integer but found string at turns.1.index"),
            (#"{"title": "t", "turns": [{"index": 0}]}"#, #"missing "paragraphs" at turns.0"#),
            (#"{"title": "t", "participants": [{"name": "A"}, {"role": "Chair"}]}"#, #"missing "name" at participants.1"#),
            (#"{"title": "t", "format": "videocall"}"#, #""videocall" is none of "in person", "videoconference", "telephone" at format"#),
            (#"{"title": null, "turns": []}"#, "expected string but found null at title"),
            (#"{"title": "t", "turns": [{"index": 0, "paragraphs": ["a"], "start": 1e400}]}"#, "number out of range at turns.0.start"),
            (#"{"title": "t", "turns": [{"index": 1.5, "paragraphs": ["a"]}]}"#, "expected integer but found number at turns.0.index"),
            (#"{"title": "t", "lead": "one paragraph"}"#, "expected array but found string at lead"),
            (#"{"title": "t", "lead": ["\ud800"]}"#, "invalid or truncated JSON (unpaired surrogate"),
            (#"{"title": "t", "lead": []"#, "invalid or truncated JSON (unterminated object"),
            (#"{"title": "t", "lead": \#(deep)"#, "invalid or truncated JSON (nesting deeper than 256 levels"),
        ]
        for (json, reason) in cases {
            let file = folder.appendingPathComponent("meeting.json")
            try Data(json.utf8).write(to: file)
            XCTAssertThrowsError(try parseFile(file), String(json.prefix(80))) { error in
                XCTAssertTrue("\(error)".contains(reason), "\(error) should say \(reason)")
            }
        }

        // A document written over several lines and broken inside is not read as JSONL: its
        // error is the whole file's, not "line 1" (a lone "{").
        let pretty = folder.appendingPathComponent("pretty.json")
        try Data("{\n  \"title\": \"t\",\n  \"turns\": [\n    {\"index\": 0, \"paragraphs\": [\"a\"]},,\n  ]\n}\n".utf8).write(to: pretty)
        XCTAssertThrowsError(try parseFile(pretty)) { error in
            XCTAssertTrue("\(error)".contains("invalid or truncated JSON ("), "\(error)")
            XCTAssertFalse("\(error)".contains("line 1"), "\(error)")
        }

        // Null members are absent ones, a whole number written as a double is an integer, and
        // the first of two equal keys counts: as Foundation's decoder read them.
        let file = folder.appendingPathComponent("lenient.json")
        try Data(#"{"id": null, "title": "t", "title": "second", "lead": null, "turns": [{"index": 0.0, "paragraphs": ["a"], "end": 3}]}"#.utf8)
            .write(to: file)
        let meeting = try XCTUnwrap(try parseFile(file).meetings.first)
        XCTAssertEqual(meeting.id, "lenient")
        XCTAssertEqual(meeting.title, "t")
        XCTAssertEqual(meeting.lead, [])
        XCTAssertEqual(meeting.turns.map(\.index), [0])
        XCTAssertEqual(meeting.turns.map(\.end), [3])
    }

    /// Every QMSum meeting: one turn per transcript entry, same speakers, same text.
    func testQMSumTurnsAndSpeakersMatchTheJSON() throws {
        for name in ["val.jsonl", "committee-train.jsonl"] {
            let url = TestPaths.qmsum.appendingPathComponent(name)
            let parsed = try parseFile(url)
            XCTAssertEqual(parsed.format, .qmsum)
            let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(parsed.meetings.count, lines.count)
            for (number, line) in lines.enumerated() {
                let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let transcript = try XCTUnwrap(object["meeting_transcripts"] as? [[String: String]])
                let meeting = parsed.meetings[number]
                XCTAssertEqual(meeting.id, "\(url.deletingPathExtension().lastPathComponent)-\(number)")
                XCTAssertEqual(meeting.turns.count, transcript.count)
                XCTAssertEqual(meeting.turns.map(\.speaker), transcript.map { $0["speaker"] })
                XCTAssertEqual(meeting.turns.map(\.text), transcript.map { $0["content"]! })
            }
        }
    }

    func testOneQMSumMeetingPerJSONFileTakesTheStem() throws {
        let folder = try makeScratchFolder(self)
        let line = try String(contentsOf: TestPaths.qmsum.appendingPathComponent("val.jsonl"), encoding: .utf8)
            .split(separator: "\n")[2]
        let file = folder.appendingPathComponent("product-meeting.json")
        try Data(line.utf8).write(to: file)
        let meeting = try XCTUnwrap(try parseFile(file).meetings.first)
        XCTAssertEqual(meeting.id, "product-meeting")
        XCTAssertFalse(meeting.turns.isEmpty)
    }

    /// The topic list is the agenda: a section per topic, its spans' turns in it, the first
    /// topic winning a turn two claim; spans out of range or not numbers are skipped.
    func testQMSumTopicsBecomeSections() throws {
        let folder = try makeScratchFolder(self)
        let file = folder.appendingPathComponent("topics.json")
        try Data("""
            {"topic_list": [
                {"topic": "Budget", "relevant_text_span": [["0", "1"], ["4", "4"]]},
                {"topic": "Remote design", "relevant_text_span": [["1", "3"]]},
                {"topic": "Nowhere", "relevant_text_span": [["40", "50"], ["x", "2"]]},
                {"topic": "  ", "relevant_text_span": [["5", "5"]]}],
             "meeting_transcripts": [
                {"speaker": "A", "content": "one"}, {"speaker": "B", "content": "two"}, {"speaker": "A", "content": "three"},
                {"speaker": "B", "content": "four"}, {"speaker": "A", "content": "five"}, {"speaker": "B", "content": "six"}]}
            """.utf8).write(to: file)
        let meeting = try XCTUnwrap(try parseFile(file).meetings.first)
        XCTAssertEqual(meeting.sections.map(\.title), ["Budget", "Remote design"])
        XCTAssertEqual(meeting.turns.map(\.section), [0, 0, 1, 1, 0, nil])

        // A topic list of another shape (spans as numbers) is ignored, not a reason to fail the file.
        try Data("""
            {"topic_list": [{"topic": "Budget", "relevant_text_span": [[0, 1]]}],
             "meeting_transcripts": [{"speaker": "A", "content": "one"}, {"speaker": "B", "content": "two"}]}
            """.utf8).write(to: file)
        let unshaped = try XCTUnwrap(try parseFile(file).meetings.first)
        XCTAssertEqual(unshaped.sections, [])
        XCTAssertEqual(unshaped.turns.map(\.text), ["one", "two"])
    }
}
