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

/// SQLite, foreign keys and the FTS index agree: every turn is indexed once, sits in
/// its meeting's id range, every speaker is counted in `speaker`, and `term_stat` holds
/// what the analyzer counts in the turns now stored.
func assertCorpusConsistent(_ corpusPath: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let queue = try DatabaseQueue(path: corpusPath)
    try queue.write { db in
        func number(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? -1 }
        XCTAssertEqual(try String.fetchOne(db, sql: "PRAGMA integrity_check"), "ok", file: file, line: line)
        XCTAssertTrue(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty, file: file, line: line)
        // rank 1: also compare the index with the external content (the view).
        try db.execute(sql: "INSERT INTO turn_fts(turn_fts, rank) VALUES ('integrity-check', 1)")
        let turns = try number("SELECT count(*) FROM turn")
        XCTAssertEqual(try number("SELECT count(*) FROM turn_fts_docsize"), turns, file: file, line: line)
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
        var recounted: [String: Int] = [:]
        for text in try String.fetchAll(db, sql: "SELECT text FROM turn") {
            for term in Set(analyzer.terms(TranscriptText.strippingMarks(text))) { recounted[term, default: 0] += 1 }
        }
        XCTAssertFalse(recounted.isEmpty && turns > 0, file: file, line: line)
        XCTAssertEqual(try TermStatistics.load(db).turnsWithTerm, recounted, file: file, line: line)
        // The search index holds every turn once, live, and nothing else.
        XCTAssertEqual(try CorpusIndex.problems(db), [], file: file, line: line)
    }
}
