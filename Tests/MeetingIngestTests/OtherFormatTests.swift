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
        let encoded = try JSONEncoder().encode(meeting)
        XCTAssertEqual(try JSONDecoder().decode(Meeting.self, from: encoded), meeting)
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
