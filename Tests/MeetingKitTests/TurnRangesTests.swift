@testable import MeetingKit
import Foundation
import Synchronization
import XCTest

/// Date and speaker filters as the index's turn-id ranges, read from a corpus database
/// of four meetings (turns 1–3, 4–5, 6–7, 8–10; the third without a date).
final class TurnRangesTests: XCTestCase {
    private func corpus(path: String? = nil) throws -> DatabaseQueue {
        let queue = try path.map { try DatabaseQueue(path: $0) } ?? DatabaseQueue()
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
            let speakers = try SpeakerTurns(db)
            let ann = try speakers.turns(db, people: [1])
            XCTAssertEqual(ann, [1...1, 3...3, 5...7, 10...10])
            XCTAssertEqual(try speakers.turns(db, people: [2]), [2...2, 4...4, 8...9])
            XCTAssertEqual(try speakers.turns(db, people: [2, 1]), [1...10])
            XCTAssertEqual(try speakers.turns(db, people: [1, 1]), ann)
            XCTAssertEqual(try speakers.turns(db, people: [3]), [])
            let dated = try TurnRanges.dated(db, from: "2021", to: nil)!
            XCTAssertEqual(TurnRanges.intersection(dated, ann), [5...5, 10...10])
        }
    }

    /// A table answers from the runs it first read for its generation, and reads a person it was
    /// not made with (no table should meet one) every time.
    func testSpeakerTurnsAreKeptForTheirGenerationAndPeopleAddedLaterAreRead() throws {
        let queue = try corpus()
        let speakers = try queue.read { db in try SpeakerTurns(db) }
        try queue.read { db in XCTAssertEqual(try speakers.turns(db, people: [1]), [1...1, 3...3, 5...7, 10...10]) }
        try queue.write { db in
            try db.execute(sql: "UPDATE turn SET person_id = 2 WHERE id = 10")
            try db.execute(sql: "INSERT INTO person (id, name, key) VALUES (3, 'Cy', 'cy')")
            try db.execute(sql: "INSERT INTO speaker (meeting_pk, person_id, turns, words) VALUES (4, 3, 1, 1)")
            try db.execute(sql: "UPDATE turn SET person_id = 3 WHERE id = 9")
        }
        try queue.read { db in
            XCTAssertEqual(try speakers.turns(db, people: [1]), [1...1, 3...3, 5...7, 10...10])
            XCTAssertEqual(try speakers.turns(db, people: [3]), [9...9])
            // The next generation's table reads the turns as they are now.
            XCTAssertEqual(try SpeakerTurns(db).turns(db, people: [1]), [1...1, 3...3, 5...7])
            XCTAssertEqual(try SpeakerTurns(db).turns(db, people: [2, 3]), [2...2, 4...4, 8...10])
        }
    }

    /// Workers reading one table at once, the first read of each person racing, all get the same runs.
    func testSpeakerTurnsReadConcurrentlyAgree() throws {
        let path = NSTemporaryDirectory() + "turn-ranges-\(UUID().uuidString).sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try corpus(path: path).close()
        let pool = try DatabasePool(path: path)
        for _ in 0..<20 {
            let speakers = try pool.read { db in try SpeakerTurns(db) }
            let answers = Mutex<[[ClosedRange<UInt32>]]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { worker in
                let runs = try? pool.read { db in try speakers.turns(db, people: worker % 2 == 0 ? [1] : [1, 2]) }
                answers.withLock { $0.append(runs ?? []) }
            }
            let all = answers.withLock { $0 }
            XCTAssertEqual(all.count, 8)
            for runs in all { XCTAssert(runs == [1...1, 3...3, 5...7, 10...10] || runs == [1...10], "\(runs)") }
        }
    }

    /// An index of the test corpus's ten turns, each holding the word "x", in two segments.
    private static func index() throws -> SegmentSet {
        try SegmentSet([1...5, 6...10].map { ids in
            var writer = SegmentWriter()
            for id in ids { try writer.addDocument(id: UInt32(id), length: 1, terms: [(term: "x", positions: [0])]) }
            return (try writer.finish().bytes().withUnsafeBytes { SegmentBytes(key: Int64(ids.lowerBound), copying: $0) }, [])
        })
    }

    /// A person's masks are kept while the budget lasts and made per request past it, and are
    /// made for the index searched when the table was made for another; either way, a search
    /// within them finds that person's turns.
    func testSpeakerMasksAreKeptWithinTheirBudgetAndOnlyForTheirIndex() throws {
        let queue = try corpus()
        let index = try Self.index()
        let query = IndexQuery(clauses: [[IndexQuery.Term("x")]], limit: 20)
        func found(_ set: SegmentSet, _ masks: SegmentMasks) -> [UInt32] { set.search(query, within: masks).hits.map(\.documentID).sorted() }
        try queue.read { db in
            let speakers = try SpeakerTurns(db)
            let ann = try speakers.turns(db, people: [1]), bob = try speakers.turns(db, people: [2])
            let roomForAnn = try SpeakerMasks(db, index: index, byteBudget: index.masks(within: ann).byteCount)
            XCTAssertEqual(found(index, roomForAnn.masks(person: 1, turns: ann, in: index)), [1, 3, 5, 6, 7, 10])
            XCTAssertTrue(roomForAnn.keeps(1))
            XCTAssertEqual(found(index, roomForAnn.masks(person: 2, turns: bob, in: index)), [2, 4, 8, 9])
            XCTAssertFalse(roomForAnn.keeps(2), "past the budget")
            XCTAssertEqual(found(index, roomForAnn.masks(person: 1, turns: ann, in: index)), [1, 3, 5, 6, 7, 10])

            let table = try SpeakerMasks(db, index: index)
            let nextIndex = try Self.index()
            // Masks of the table's own index would trap a search of another set.
            XCTAssertEqual(found(nextIndex, table.masks(person: 2, turns: bob, in: nextIndex)), [2, 4, 8, 9])
            XCTAssertFalse(table.keeps(2), "made for another index")
            XCTAssertEqual(found(index, table.masks(person: 3, turns: [9...9], in: index)), [9])
            XCTAssertFalse(table.keeps(3), "not a person of the table's generation")
            XCTAssertEqual(found(index, table.masks(person: 2, turns: bob, in: index)), [2, 4, 8, 9])
            XCTAssertTrue(table.keeps(2))
        }
    }

    func testUnionJoinsOverlappingAndTouchingRangesAsASetWould() {
        var generator = SystemRandomNumberGenerator()
        func ranges() -> [ClosedRange<UInt32>] {
            var result: [ClosedRange<UInt32>] = []
            var next: UInt32 = .random(in: 0...3, using: &generator)
            while next < 60 {
                let end = next + .random(in: 0...4, using: &generator)
                result.append(next...end)
                next = end + .random(in: 2...6, using: &generator)
            }
            return result
        }
        // Two to five lists, as a query naming that many people.
        for round in 0..<500 {
            let lists = (0..<(2 + round % 4)).map { _ in ranges() }
            let union = TurnRanges.union(lists)
            XCTAssertEqual(Set(union.flatMap { Array($0) }), Set(lists.joined().flatMap { Array($0) }))
            // Ascending, disjoint and not touching: each range starts past the one before's end + 1.
            for (before, after) in zip(union, union.dropFirst()) { XCTAssertGreaterThan(after.lowerBound, before.upperBound + 1) }
        }
        XCTAssertEqual(TurnRanges.union([[0...UInt32.max], [5...6]]), [0...UInt32.max])
        XCTAssertEqual(TurnRanges.union([[], [5...6], []]), [5...6])
        XCTAssertEqual(TurnRanges.union([[1...2], [4...4], [3...3]]), [1...4])
    }
}
