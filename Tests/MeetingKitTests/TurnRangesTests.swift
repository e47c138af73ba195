@testable import MeetingKit
import XCTest

/// Date and speaker filters as the index's turn-id ranges, read from a corpus database
/// of four meetings (turns 1–3, 4–5, 6–7, 8–10; the third without a date).
final class TurnRangesTests: XCTestCase {
    private func corpus() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try CorpusSchema.migrator.migrate(queue)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO source (id, path, hash, bytes, format, ingested_at) VALUES (1, 'p', 'h', 0, 'txt', '')")
            try db.execute(sql: "INSERT INTO person (id, name, key) VALUES (1, 'Ann', 'ann'), (2, 'Bob', 'bob')")
            let meetings: [(date: String?, first: Int64, turns: Int64, speakers: [Int64])] = [
                ("2020-12-18", 1, 3, [1, 2, 1]), ("2021-03-01", 4, 2, [2, 1]), (nil, 6, 2, [1, 1]), ("2023-10-03", 8, 3, [2, 2, 1]),
            ]
            for (pk, meeting) in meetings.enumerated() {
                try db.execute(sql: """
                    INSERT INTO meeting (pk, id, source_id, ordinal, title, date, lead, first_turn, turns, words)
                    VALUES (?, ?, 1, ?, 't', ?, '', ?, ?, 0)
                    """, arguments: [pk + 1, "m\(pk + 1)", pk, meeting.date, meeting.first, meeting.turns])
                for person in Set(meeting.speakers) {
                    try db.execute(sql: "INSERT INTO speaker (meeting_pk, person_id, turns, words) VALUES (?, ?, 1, 1)",
                                   arguments: [pk + 1, person])
                }
                for (idx, person) in meeting.speakers.enumerated() {
                    try db.execute(sql: """
                        INSERT INTO turn (id, meeting_pk, idx, person_id, text, words, sentences) VALUES (?, ?, ?, ?, 'x', 1, x'')
                        """, arguments: [meeting.first + Int64(idx), pk + 1, idx, person])
                }
            }
        }
        return queue
    }

    func testDatesKeepTheTurnsOfTheMeetingsInRangeJoiningNeighbours() throws {
        let queue = try corpus()
        try queue.read { db in
            XCTAssertNil(try TurnRanges.dated(db, from: nil, to: nil))
            // "2021" as `to` takes in the whole year; meetings 1 and 2 are neighbours in id order.
            XCTAssertEqual(try TurnRanges.dated(db, from: "2020-12", to: "2021"), [1...5])
            // The undated meeting is in no dated range.
            XCTAssertEqual(try TurnRanges.dated(db, from: "2021-01-01", to: nil), [4...5, 8...10])
            XCTAssertEqual(try TurnRanges.dated(db, from: nil, to: "2020-12-17"), [])
        }
    }

    func testSpeakerTurnsAreRunsOfTheirIdsAndIntersectWithDates() throws {
        let queue = try corpus()
        try queue.read { db in
            let speakers = SpeakerTurns()
            let ann = try speakers.turns(db, people: [1])
            XCTAssertEqual(ann, [1...1, 3...3, 5...7, 10...10])
            XCTAssertEqual(try speakers.turns(db, people: [2, 1]), [1...10])
            let dated = try TurnRanges.dated(db, from: "2021", to: nil)!
            XCTAssertEqual(TurnRanges.intersection(dated, ann), [5...5, 10...10])
        }
    }
}
