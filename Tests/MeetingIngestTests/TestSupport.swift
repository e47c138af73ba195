import Foundation
import XCTest
import MeetingKit
@testable import MeetingIngest

/// Paths the tests read: the package root, the shared folder beside it, fixtures here.
enum TestPaths {
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixtures = testsFolder.appendingPathComponent("Fixtures")
    static let packageRoot = testsFolder.deletingLastPathComponent().deletingLastPathComponent()
    static let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    static let seed = shared.appendingPathComponent("seed/000_16830d1d99dc7d5d.txt")
    static let qmsum = shared.appendingPathComponent("qmsum")

    static func fixture(_ name: String) -> URL { fixtures.appendingPathComponent(name) }
}

/// Parses one file the way ingest does.
func parseFile(_ url: URL) throws -> TranscriptParser.Parsed {
    try TranscriptParser.parse(try Data(contentsOf: url), stem: url.deletingPathExtension().lastPathComponent, path: url.path)
}

/// A fresh folder for one test, removed after it.
func makeScratchFolder(_ test: XCTestCase) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("meetingd-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
    return folder
}

/// SQLite, foreign keys and the search index agree: every turn is indexed once, sits in
/// its meeting's id range, every speaker is counted in `speaker`, and `term_stat` and the
/// index's document frequencies hold what the analyzer counts in the turns now stored.
func assertCorpusConsistent(_ corpusPath: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let queue = try DatabaseQueue(path: corpusPath)
    try queue.write { db in
        func number(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? -1 }
        XCTAssertEqual(try String.fetchOne(db, sql: "PRAGMA integrity_check"), "ok", file: file, line: line)
        XCTAssertTrue(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty, file: file, line: line)
        XCTAssertEqual(try number("SELECT count(*) FROM sqlite_master WHERE name LIKE 'turn_fts%'"), 0,
                       "FTS5 is gone (migration v6)", file: file, line: line)
        let turns = try number("SELECT count(*) FROM turn")
        XCTAssertEqual(try number("SELECT coalesce(sum(turns), 0) FROM meeting"), turns, file: file, line: line)
        XCTAssertEqual(try number("""
            SELECT count(*) FROM turn JOIN meeting ON meeting.pk = turn.meeting_pk
            WHERE turn.id - meeting.first_turn = turn.idx AND turn.idx < meeting.turns
            """), turns, file: file, line: line)
        XCTAssertEqual(try number("SELECT coalesce(sum(turns), 0) FROM speaker"),
                       try number("SELECT count(*) FROM turn JOIN person ON person.id = turn.person_id"), file: file, line: line)
        XCTAssertEqual(try number("SELECT count(*) FROM turn WHERE person_id IS NOT NULL"),
                       try number("SELECT count(*) FROM turn JOIN person ON person.id = turn.person_id"), file: file, line: line)
        let analyzer = Analyzer()
        var recounted: [String: Int] = [:], withStopWords: [String: Int] = [:], tokens = 0
        for text in try String.fetchAll(db, sql: "SELECT text FROM turn") {
            let words = analyzer.words(TranscriptText.strippingMarks(text))
            for term in Set(words.filter { !$0.isStopWord }.map(\.term)) { recounted[term, default: 0] += 1 }
            for term in Set(words.map(\.term)) { withStopWords[term, default: 0] += 1 }
            tokens += words.count
        }
        XCTAssertFalse(recounted.isEmpty && turns > 0, file: file, line: line)
        XCTAssertEqual(try TermStatistics.load(db).turnsWithTerm, recounted, file: file, line: line)
        // The search index holds every turn once, live, and nothing else, with the terms
        // of the text stored now (stop words too), as FTS5's integrity-check compared its own.
        XCTAssertEqual(try CorpusIndex.problems(db), [], file: file, line: line)
        let index = try CorpusIndex.load(db)
        XCTAssertEqual(index.documentCount, turns, file: file, line: line)
        XCTAssertEqual(index.totalTokens, UInt64(tokens), file: file, line: line)
        for (term, turns) in withStopWords where index.documentFrequency(term) != turns {
            XCTFail("the index has \(index.documentFrequency(term)) turns with \(term), the store \(turns)", file: file, line: line)
        }
    }
}

/// The meetings of the turns the search index finds holding every word of `text` (as the
/// analyzer reads it; with `phrase`, at consecutive positions), best first, one per turn;
/// with `speaker` (a name or alias), among the turns that person spoke only.
func indexedMeetings(_ corpus: Corpus, _ text: String, phrase: Bool = false, speaker: String? = nil) throws -> [String] {
    try corpus.reader.read { db in
        let terms = Analyzer().words(text).map(\.term)
        guard !terms.isEmpty else { return [] }
        let query = phrase ? IndexQuery.all([.init(phrase: terms)], limit: 1000) : IndexQuery.all(terms.map { .init($0) }, limit: 1000)
        let spoken = try speaker.map { speaker in
            try Int64.fetchAll(db, sql: """
                SELECT DISTINCT turn.id FROM turn JOIN person_alias ON person_alias.person_id = turn.person_id
                WHERE person_alias.key = ? ORDER BY turn.id
                """, arguments: [PersonName.key(speaker)]).map { UInt32($0)...UInt32($0) }
        }
        let meetingOfTurn = try db.makeStatement(sql: "SELECT meeting.id FROM turn JOIN meeting ON meeting.pk = turn.meeting_pk WHERE turn.id = ?")
        return try CorpusIndex.load(db).search(query, idRanges: spoken).hits.map {
            try String.fetchOne(meetingOfTurn, arguments: [Int64($0.documentID)]) ?? "turn \($0.documentID) has no meeting"
        }
    }
}
