import XCTest
import MeetingKit
@testable import MeetingIngest

/// Ingest into real SQLite files: what lands in the store, failures, and incremental runs.
final class IngestTests: XCTestCase {
    private var log: [String] = []

    private func ingester(_ corpus: URL) throws -> Ingester {
        try Ingester(corpusPath: corpus.path) { [unowned self] in log.append($0) }
    }

    /// Copies the named fixtures into a fresh folder.
    private func folder(with fixtures: [String]) throws -> URL {
        let folder = try makeScratchFolder(self)
        for name in fixtures {
            try FileManager.default.copyItem(at: TestPaths.fixture(name), to: folder.appendingPathComponent(name))
        }
        return folder
    }

    private func count(_ corpus: Corpus, _ sql: String, _ arguments: StatementArguments = []) throws -> Int {
        try corpus.reader.read { try Int.fetchOne($0, sql: sql, arguments: arguments) ?? -1 }
    }

    func testSeedAndFixturesLandInTheStoreSearchableAndExportable() throws {
        let folder = try folder(with: ["talks_with_press.txt", "standup.vtt", "interview.srt", "planning.txt", "own_form.json"])
        try FileManager.default.copyItem(at: TestPaths.seed, to: folder.appendingPathComponent("seed.txt"))
        let corpusURL = folder.appendingPathComponent("corpus.sqlite")
        let report = try ingester(corpusURL).ingest(paths: [folder.path], prune: false)
        XCTAssertEqual(report.failed, [])
        XCTAssertEqual(report.added.count, 6)
        XCTAssertEqual(report.meetingsWritten, 6)
        try assertCorpusConsistent(corpusURL.path)

        let corpus = try Corpus.openReadOnly(path: corpusURL.path)
        let figures = try corpus.figures()
        XCTAssertEqual(figures.meetings, 6)
        XCTAssertEqual(figures.turns, 1 + 8 + 4 + 2 + 4 + 2)
        XCTAssertEqual(figures.firstDate, "2020-12-18")
        XCTAssertEqual(figures.lastDate, "2024-01-15T10:00:00+01:00")
        XCTAssertGreaterThan(figures.words, 900)

        // The search index: stemmed, diacritics folded, turns found by speaker, marks and chrome not indexed.
        func hits(_ query: String, phrase: Bool = false, speaker: String? = nil) throws -> [String] {
            try indexedMeetings(corpus, query, phrase: phrase, speaker: speaker)
        }
        XCTAssertEqual(try hits("Sputnik V", phrase: true), ["seed"])
        XCTAssertEqual(try hits("vaccinate"), ["seed"])
        XCTAssertEqual(try hits("commercial", speaker: "Vladimir Putin"), ["talks_with_press"])
        XCTAssertEqual(try hits("commercial", speaker: "Kassym-Jomart Tokayev"), [])
        XCTAssertEqual(try hits("commercial", speaker: "putin"), ["talks_with_press"])
        XCTAssertEqual(try hits("commercial", speaker: "tokayev"), [])
        XCTAssertEqual(try hits("vocalsound"), [])
        XCTAssertEqual(try hits("disfmarker"), [])
        XCTAssertEqual(try hits("font size", phrase: true), [])
        XCTAssertEqual(try hits("budget").sorted(), ["own_form", "standup"].map { $0 == "own_form" ? "board-2024-01" : $0 }.sorted())

        // The seed's people, aliases and sentence offsets.
        XCTAssertEqual(try count(corpus, """
            SELECT count(DISTINCT person_id) FROM person_alias WHERE key IN ('putin', 'vladimir putin', 'president of russia vladimir putin')
            """), 1)
        let sentenceCheck = try corpus.reader.read { db in
            try Row.fetchAll(db, sql: """
                SELECT text, sentences FROM turn JOIN meeting ON meeting.pk = turn.meeting_pk WHERE meeting.id = 'seed' ORDER BY turn.id
                """).flatMap { row -> [String] in
                    let scalars = Array((row["text"] as String).unicodeScalars)
                    return TranscriptText.decodeSentences(row["sentences"] as Data).map {
                        String(String.UnicodeScalarView(scalars[$0.start..<$0.end]))
                    }
                }
        }
        XCTAssertEqual(sentenceCheck.first, "Colleagues,")
        XCTAssertEqual(sentenceCheck.last, "Thank you for your attention.")
        XCTAssertTrue(sentenceCheck.contains("I am referring to the Sputnik V and EpiVacCorona vaccines."))

        // Export gives back what was parsed, for every format, with the language ingest read
        // from the text where the reader could not tell it (an official page can).
        for name in ["talks_with_press.txt", "standup.vtt", "interview.srt", "planning.txt", "own_form.json"] {
            var parsed = try XCTUnwrap(parseFile(folder.appendingPathComponent(name)).meetings.first)
            parsed.source = parsed.source.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
            XCTAssertEqual(parsed.language, name == "talks_with_press.txt" ? .english : nil, name)
            parsed.language = .english
            XCTAssertEqual(try corpus.meeting(id: parsed.id), parsed, name)
        }
    }

    func testRetentionKeepsTheNewestEventsByCountAndAgeAndAlwaysTheLast() throws {
        let folder = try makeScratchFolder(self)
        for index in 0..<5 { try "Alice: Note \(index).\n".write(to: folder.appendingPathComponent("n\(index).txt"), atomically: true, encoding: .utf8) }
        let corpusURL = folder.appendingPathComponent("corpus.sqlite")
        let ingest = try ingester(corpusURL)
        ingest.retention = ChangeLog.Retention(count: 3)
        _ = try ingest.ingest(paths: [folder.path], prune: false)
        let corpus = try Corpus.openReadOnly(path: corpusURL.path)
        XCTAssertEqual(try corpus.reader.read { try ChangeLog.events(after: 0, limit: 10, $0).map(\.seq) }, [3, 4, 5])

        // Ten days later, a 7-day retention leaves only the newest event: it keeps the last number known.
        try CorpusWriter(path: corpusURL.path).database.write { db in
            try ChangeLog.trim(db, ChangeLog.Retention(count: 100, maxAgeDays: 7), now: .now.addingTimeInterval(10 * 86_400))
        }
        XCTAssertEqual(try corpus.reader.read { try ChangeLog.events(after: 0, limit: 10, $0).map(\.seq) }, [5])
        XCTAssertEqual(try corpus.reader.read { try ChangeLog.lastSeq($0) }, 5)
    }

    func testBrokenFilesFailAloneWithTheirReasons() throws {
        let folder = try folder(with: ["planning.txt", "broken_truncated_page.txt", "broken_timing.vtt", "broken_truncated.srt",
                                       "broken_notes.txt", "broken_own_form.json"])
        let qmsumLines = try String(contentsOf: TestPaths.qmsum.appendingPathComponent("val.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        let cut = qmsumLines[0] + "\n" + qmsumLines[1].prefix(qmsumLines[1].count / 2)
        try Data(cut.utf8).write(to: folder.appendingPathComponent("broken_qmsum.jsonl"))
        try Data([0x53, 0x70, 0x65, 0x61, 0x6B, 0x65, 0x72, 0x3A, 0x20, 0xFF, 0xFE, 0x0A]).write(to: folder.appendingPathComponent("broken_encoding.txt"))
        try Data("{\"speaker\": \"A\", \"content\": \"hi\"}".utf8).write(to: folder.appendingPathComponent("broken_not_meeting.json"))

        let corpusURL = folder.appendingPathComponent("corpus.sqlite")
        let report = try ingester(corpusURL).ingest(paths: [folder.path], prune: false)
        // A JSONL file keeps its good lines: broken_qmsum.jsonl's first meeting is written.
        XCTAssertEqual(report.added.map { URL(fileURLWithPath: $0).lastPathComponent }, ["broken_qmsum.jsonl", "planning.txt"])
        let reasons = Dictionary(uniqueKeysWithValues: report.failed.map { (URL(fileURLWithPath: $0.path).lastPathComponent, $0.reason) })
        let expected = [
            "broken_truncated_page.txt": "truncated official page",
            "broken_timing.vtt": "bad cue timing",
            "broken_truncated.srt": "cue without text (truncated?)",
            "broken_notes.txt": "not a transcript",
            "broken_own_form.json": "missing \"title\"",
            "broken_qmsum.jsonl": "line 2: invalid or truncated JSON",
            "broken_encoding.txt": "not valid UTF-8",
            "broken_not_meeting.json": "neither QMSum",
        ]
        XCTAssertEqual(Set(reasons.keys), Set(expected.keys))
        for (name, fragment) in expected {
            XCTAssertTrue(reasons[name]?.contains(fragment) == true, "\(name): \(reasons[name] ?? "no failure")")
        }
        XCTAssertTrue(report.summary.contains("failed: \(folder.path)/broken_timing.vtt: "), report.summary)
        let corpus = try Corpus.openReadOnly(path: corpusURL.path)
        XCTAssertEqual(Set(try corpus.meetingIDs()), ["broken_qmsum-0", "planning"])
        XCTAssertEqual(try count(corpus, "SELECT count(*) FROM source"), 2)
    }

    func testUnchangedFolderChangesNothingAndAChangedFileUpdatesOnlyItsMeeting() throws {
        let folder = try folder(with: ["talks_with_press.txt", "standup.vtt", "planning.txt"])
        let corpusURL = folder.appendingPathComponent("corpus.sqlite")
        XCTAssertEqual(try ingester(corpusURL).ingest(paths: [folder.path], prune: false).added.count, 3)

        func snapshot() throws -> [Row] {
            try DatabaseQueue(path: corpusURL.path).read { db in
                try Row.fetchAll(db, sql: """
                    SELECT 'source', id, path, hash, ingested_at FROM source
                    UNION ALL SELECT 'turn', turn.id, meeting.id, idx, text FROM turn JOIN meeting ON meeting.pk = turn.meeting_pk
                    UNION ALL SELECT 'person', id, name, key, '' FROM person ORDER BY 1, 2
                    """)
            }
        }
        let before = try snapshot()
        func generation() throws -> Int64 { try DatabaseQueue(path: corpusURL.path).read(CorpusGeneration.current) }
        let generationBefore = try generation()
        let again = try ingester(corpusURL).ingest(paths: [folder.path], prune: false)
        XCTAssertEqual(again.unchanged.count, 3)
        XCTAssertEqual(again.added + again.updated, [])
        XCTAssertEqual(try snapshot(), before)
        XCTAssertEqual(try generation(), generationBefore, "nothing changed, so readers keep what they derived")

        let planning = folder.appendingPathComponent("planning.txt")
        var text = try String(contentsOf: planning, encoding: .utf8)
        text = text.replacingOccurrences(of: "simpler remote", with: "rechargeable remote")
        try Data(text.utf8).write(to: planning)
        let changed = try ingester(corpusURL).ingest(paths: [folder.path], prune: false)
        XCTAssertEqual(changed.updated, [planning.resolvingSymlinksInPath().path])
        XCTAssertEqual(changed.unchanged.count, 2)
        XCTAssertGreaterThan(try generation(), generationBefore)

        let after = try snapshot()
        let untouched = { (rows: [Row]) in rows.filter { $0[0] == "turn" && ($0[2] as String) != "planning" } }
        XCTAssertEqual(untouched(after), untouched(before))
        let corpus = try Corpus.openReadOnly(path: corpusURL.path)
        XCTAssertEqual(try indexedMeetings(corpus, "rechargeable"), ["planning"])
        XCTAssertEqual(try indexedMeetings(corpus, "simpler"), [])
        XCTAssertEqual(try corpus.meeting(id: "planning")?.turns[1].paragraphs.last, "The survey shows users want a rechargeable remote.")
        try assertCorpusConsistent(corpusURL.path)
    }

    func testAFileReadByOlderReadersIsReadAgainOnce() throws {
        let folder = try folder(with: ["planning.txt"])
        let corpusURL = folder.appendingPathComponent("corpus.sqlite")
        XCTAssertEqual(try ingester(corpusURL).ingest(paths: [folder.path], prune: false).added.count, 1)
        // As version 1 of the readers stored it: the fingerprint without its prefix.
        let queue = try DatabaseQueue(path: corpusURL.path)
        try queue.write { try $0.execute(sql: "UPDATE source SET hash = substr(hash, instr(hash, ':') + 1)") }
        try queue.close()
        XCTAssertEqual(try ingester(corpusURL).ingest(paths: [folder.path], prune: false).updated.count, 1)
        XCTAssertEqual(try ingester(corpusURL).ingest(paths: [folder.path], prune: false).unchanged.count, 1)
    }

    func testPruneRemovesMeetingsOfVanishedFilesAndTheirPeople() throws {
        let folder = try folder(with: ["standup.vtt", "planning.txt"])
        let corpusURL = folder.appendingPathComponent("corpus.sqlite")
        _ = try ingester(corpusURL).ingest(paths: [folder.path], prune: false)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("standup.vtt"))

        let kept = try ingester(corpusURL).ingest(paths: [folder.path], prune: false)
        XCTAssertEqual(kept.pruned, [])
        XCTAssertEqual(try Corpus.openReadOnly(path: corpusURL.path).meetingIDs().sorted(), ["planning", "standup"])

        let pruned = try ingester(corpusURL).ingest(paths: [folder.path], prune: true)
        XCTAssertEqual(pruned.pruned.map { URL(fileURLWithPath: $0).lastPathComponent }, ["standup.vtt"])
        let corpus = try Corpus.openReadOnly(path: corpusURL.path)
        XCTAssertEqual(try corpus.meetingIDs(), ["planning"])
        XCTAssertEqual(try count(corpus, "SELECT count(*) FROM person WHERE name = 'Alice Smith'"), 0)
        XCTAssertEqual(try indexedMeetings(corpus, "release"), [])
        try assertCorpusConsistent(corpusURL.path)
    }

    func testABudgetInterruptsAStatementAtItsDeadlineAndTheNextReadRuns() throws {
        let folder = try folder(with: ["planning.txt"])
        let corpusURL = folder.appendingPathComponent("corpus.sqlite")
        _ = try ingester(corpusURL).ingest(paths: [folder.path], prune: false)
        let budget = RequestBudget()
        let corpus = try Corpus.openReadOnly(path: corpusURL.path, budget: budget)
        // Seconds of SQLite's own work, with no Swift in between to check a clock.
        let endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000000) SELECT count(*) FROM n"
        budget.setDeadline(MonotonicClock.nanoseconds() + 50_000_000)
        let started = MonotonicClock.nanoseconds()
        XCTAssertThrowsError(try corpus.reader.read { try Int.fetchOne($0, sql: endless) }) { error in
            XCTAssertEqual(MethodError.corpusFailure(error, in: "test").code, ErrorCode.deadlineExceeded, "\(error)")
            XCTAssertEqual(MethodError.corpusFailure(error, in: "test").data?["phase"], "running")
        }
        XCTAssertLessThan(MonotonicClock.nanoseconds() - started, 2_000_000_000)
        XCTAssertThrowsError(try budget.checkDeadline())
        // No budget: the same connection answers again.
        budget.setDeadline(0)
        XCTAssertEqual(try corpus.reader.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM meeting") }, 1)
    }

    func testAMeetingIDOwnedByAnotherFileFailsOnlyThatFile() throws {
        let folder = try folder(with: ["planning.txt"])
        let other = folder.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try Data("Anna: A different meeting with the same stem.\n".utf8).write(to: other.appendingPathComponent("planning.txt"))
        let corpusURL = folder.appendingPathComponent("corpus.sqlite")
        let report = try ingester(corpusURL).ingest(paths: [folder.path], prune: false)
        XCTAssertEqual(report.added.count, 1)
        XCTAssertEqual(report.failed.count, 1)
        XCTAssertTrue(report.failed.first?.reason.contains("already comes from") == true, report.summary)
        try assertCorpusConsistent(corpusURL.path)
    }

    /// Marks next to combining characters, doubled or unclosed braces: the index holds the
    /// words around them and no mark, and replacing the file masks the old turns.
    func testMarksNextToUnusualTextAreLeftOutOfTheIndex() throws {
        let folder = try makeScratchFolder(self)
        let file = folder.appendingPathComponent("marks.txt")
        let text = "Ann: a {gap}\u{301} b {disfmarker}{disfmarker} c {{vocalsound}} d {pause e {comment}é\u{301}\n"
            + "Bob: {nonvocalsound}\n"
        try Data(text.utf8).write(to: file)
        let corpusURL = folder.appendingPathComponent("corpus.sqlite")
        XCTAssertEqual(try ingester(corpusURL).ingest(paths: [file.path], prune: false).added.count, 1)
        try assertCorpusConsistent(corpusURL.path)
        let corpus = try Corpus.openReadOnly(path: corpusURL.path)
        for mark in ["disfmarker", "gap", "comment", "vocalsound", "nonvocalsound"] {
            XCTAssertEqual(try indexedMeetings(corpus, mark), [], mark)
        }
        XCTAssertEqual(try indexedMeetings(corpus, "pause"), ["marks"])
        XCTAssertEqual(try corpus.meeting(id: "marks")?.turns.first?.text, "a {gap}\u{301} b {disfmarker}{disfmarker} c {{vocalsound}} d {pause e {comment}é\u{301}")

        // Replacing the file masks the old turns in the index.
        try Data("Ann: fresh words\n".utf8).write(to: file)
        XCTAssertEqual(try ingester(corpusURL).ingest(paths: [file.path], prune: false).updated.count, 1)
        try assertCorpusConsistent(corpusURL.path)
        XCTAssertEqual(try indexedMeetings(corpus, "pause"), [])
        XCTAssertEqual(try indexedMeetings(corpus, "fresh words", phrase: true), ["marks"])
    }

    func testPeopleAreSharedAcrossMeetings() throws {
        let folder = try folder(with: ["talks_with_press.txt", "security_council.txt"])
        try FileManager.default.copyItem(at: TestPaths.seed, to: folder.appendingPathComponent("seed.txt"))
        let corpusURL = folder.appendingPathComponent("corpus.sqlite")
        _ = try ingester(corpusURL).ingest(paths: [folder.path], prune: false)
        let corpus = try Corpus.openReadOnly(path: corpusURL.path)
        let putinMeetings = try corpus.reader.read { db in
            try String.fetchAll(db, sql: """
                SELECT DISTINCT meeting.id FROM participant JOIN person ON person.id = participant.person_id
                JOIN meeting ON meeting.pk = participant.meeting_pk WHERE person.key = ? ORDER BY meeting.id
                """, arguments: [PersonName.key("Vladimir Putin")])
        }
        XCTAssertEqual(putinMeetings, ["security_council", "seed", "talks_with_press"])
        XCTAssertEqual(try count(corpus, "SELECT count(*) FROM person WHERE name = 'Valentina Matviyenko'"), 1)
    }

    func testANewCorpusIsReadableByItsOwnerAndGroupOnly() throws {
        let folder = try folder(with: ["planning.txt"])
        let corpusURL = folder.appendingPathComponent("corpus.sqlite")
        let previous = umask(0)  // the mode must not depend on the caller's umask
        defer { umask(previous) }
        _ = try ingester(corpusURL).ingest(paths: [folder.path], prune: false)
        let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: corpusURL.path)[.posixPermissions] as? Int)
        XCTAssertEqual(mode, 0o640)
    }

    func testLabelledSpeakersAreOnePersonFoundByPlainNameSurnameAndRole() throws {
        let folder = try makeScratchFolder(self)
        let file = folder.appendingPathComponent("hearing.txt")
        try Data("""
            Kirsty Williams AM: Good morning.
            Hon. Navdeep Bains (Minister of Industry): Thank you, Chair.
            Professor C: And the digits?
            Hon. Navdeep Bains: The digits are fine.
            Hon. Seamus O’Regan (Minister of Energy): And mine?
            Seamus O'Regan: Also fine.

            """.utf8).write(to: file)
        let corpusURL = folder.appendingPathComponent("corpus.sqlite")
        _ = try ingester(corpusURL).ingest(paths: [file.path], prune: false)
        let corpus = try Corpus.openReadOnly(path: corpusURL.path)
        func people(_ key: String) throws -> [String] {
            try corpus.reader.read { db in
                try String.fetchAll(db, sql: """
                    SELECT person.name FROM person_alias JOIN person ON person.id = person_alias.person_id
                    WHERE person_alias.key = ? ORDER BY person.name
                    """, arguments: [key])
            }
        }
        XCTAssertEqual(try people("kirsty williams am"), ["Kirsty Williams"])
        XCTAssertEqual(try people("williams"), ["Kirsty Williams"])
        XCTAssertEqual(try people("am"), [])
        // Each label, with or without its role or title, is one person under the plain name.
        XCTAssertEqual(try people("navdeep bains"), ["Navdeep Bains"])
        XCTAssertEqual(try people("hon navdeep bains (minister of industry)"), ["Navdeep Bains"])
        XCTAssertEqual(try people("bains"), ["Navdeep Bains"])
        XCTAssertEqual(try people("industry)"), [])
        XCTAssertEqual(try people("minister of industry"), ["Navdeep Bains"])
        XCTAssertEqual(try people("o'regan"), ["Seamus O’Regan"])
        XCTAssertEqual(try people("minister of energy"), ["Seamus O’Regan"])
        XCTAssertEqual(try count(corpus, "SELECT count(*) FROM person"), 4)
        // A role label keeps its own words.
        XCTAssertEqual(try people("c"), ["Professor C"])
        // Export gives back each turn's label as written.
        XCTAssertEqual(try corpus.meeting(id: "hearing")?.turns.map(\.speaker), [
            "Kirsty Williams AM", "Hon. Navdeep Bains (Minister of Industry)", "Professor C", "Hon. Navdeep Bains",
            "Hon. Seamus O’Regan (Minister of Energy)", "Seamus O'Regan",
        ])
        XCTAssertEqual(PersonName.plainName("Ms. Heather McPherson (Edmonton Strathcona, NDP)"), "Heather McPherson")
        XCTAssertEqual(PersonName.plainName("Industrial Designer"), "Industrial Designer")
        XCTAssertEqual(PersonName.plainName("Right Hon. Justin Trudeau"), "Justin Trudeau")
    }

    func testMigrationGivesAnOlderCorpusThePlainNameAliases() throws {
        let path = try makeScratchFolder(self).appendingPathComponent("v1.sqlite").path
        let queue = try DatabaseQueue(path: path)
        try CorpusSchema.migrator.migrate(queue, upTo: "v1: meetings, people, turns, sentences, FTS5")
        // What version 1 stored for this label: the name, and its last word as the surname.
        try queue.write { db in
            try db.execute(sql: "INSERT INTO person (id, name, key) VALUES (7, 'Kirsty Williams AM', 'kirsty williams am')")
            try db.execute(sql: """
                INSERT INTO person_alias (key, person_id, alias) VALUES ('kirsty williams am', 7, 'Kirsty Williams AM'), ('am', 7, 'AM')
                """)
        }
        try CorpusSchema.migrator.migrate(queue)
        let keys = try queue.read { try String.fetchAll($0, sql: "SELECT key FROM person_alias WHERE person_id = 7 ORDER BY key") }
        XCTAssertEqual(keys, ["kirsty williams", "kirsty williams am", "williams"])
    }

    func testMigrationDropsFTS5FromAnOlderCorpusWhoseTurnsStaySearchable() throws {
        let folder = try folder(with: ["planning.txt", "standup.vtt"])
        let current = folder.appendingPathComponent("current.sqlite")
        _ = try ingester(current).ingest(paths: [folder.path], prune: false)
        // The same corpus as v5 left it: every table's rows, and FTS5 filled from its content view.
        let older = folder.appendingPathComponent("older.sqlite")
        let queue = try DatabaseQueue(path: older.path)
        try CorpusSchema.migrator.migrate(queue, upTo: "v5: the search index, segments and deletion sets")
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS current", arguments: [current.path])
            try db.inTransaction {
                let tables = try String.fetchAll(db, sql: """
                    SELECT name FROM current.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'
                    """)
                for table in tables {
                    try db.execute(sql: "DELETE FROM main.\(table); INSERT INTO main.\(table) SELECT * FROM current.\(table)")
                }
                try db.execute(sql: "INSERT INTO turn_fts(turn_fts) VALUES ('rebuild')")
                return .commit
            }
            try db.execute(sql: "DETACH DATABASE current")
        }
        let turns = try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM turn") ?? 0 }
        XCTAssertGreaterThan(turns, 0)
        XCTAssertEqual(try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM turn_fts_docsize") }, turns)
        try queue.close()

        // Ingest migrates: the unchanged files stay as they are, FTS5 goes.
        let again = try ingester(older).ingest(paths: [folder.path], prune: false)
        XCTAssertEqual(again.unchanged.count, 2)
        try assertCorpusConsistent(older.path)
        let corpus = try Corpus.openReadOnly(path: older.path)
        XCTAssertEqual(try corpus.figures().turns, turns)
        XCTAssertEqual(try indexedMeetings(corpus, "remote"), try indexedMeetings(try Corpus.openReadOnly(path: current.path), "remote"))
        XCTAssertFalse(try indexedMeetings(corpus, "remote").isEmpty)
    }

    func testAnIngestAddsSegmentsThatTheNextLoadReadsAloneSharingTheOthers() throws {
        let corpus = try makeScratchFolder(self).appendingPathComponent("corpus.sqlite")
        _ = try ingester(corpus).ingest(paths: [TestPaths.qmsum.appendingPathComponent("val.jsonl").path], prune: false)
        let queue = try DatabaseQueue(path: corpus.path)
        let before = try queue.read { db in try CorpusIndex.load(db) }
        _ = try ingester(corpus).ingest(paths: [TestPaths.seed.path], prune: false)
        let (reloaded, fresh) = try queue.read { db in (try CorpusIndex.load(db, reusing: before), try CorpusIndex.load(db)) }
        XCTAssertEqual(reloaded.parts.count, before.parts.count + 1)
        for (old, new) in zip(before.parts, reloaded.parts) { XCTAssertTrue(old.bytes === new.bytes) }
        XCTAssertFalse(fresh.parts[0].bytes === before.parts[0].bytes)
        // The statistics are the new corpus's: scores change with N, and agree with a fresh load.
        let query = IndexQuery(clauses: [[.init("vaccin"), .init("remot")]], limit: 20)
        XCTAssertEqual(reloaded.search(query).hits, fresh.search(query).hits)
        XCTAssertNotEqual(reloaded.search(query).hits.map(\.score), before.search(query).hits.map(\.score))
    }

    /// A corpus whose segments are of format 1 (no word forms) is refused by readers until
    /// `meetingd ingest` migrates it, which rebuilds them in the current format.
    func testIngestRebuildsSegmentsOfAnOlderFormat() throws {
        let corpus = try makeScratchFolder(self).appendingPathComponent("corpus.sqlite")
        _ = try ingester(corpus).ingest(paths: [TestPaths.qmsum.appendingPathComponent("val.jsonl").path], prune: false)
        let queue = try DatabaseQueue(path: corpus.path)
        let remote = try queue.read { db in try CorpusIndex.load(db).terms(ofWordsStartingWith: "remote") }
        XCTAssertTrue(remote.contains("remot"))
        // The corpus as the version before word forms left it: v7 not run, segments of format 1.
        try queue.write { db in
            for id in try Int64.fetchAll(db, sql: "SELECT id FROM index_segment") {
                var bytes = try XCTUnwrap(Data.fetchOne(db, sql: "SELECT bytes FROM index_segment WHERE id = ?", arguments: [id]))
                bytes[4] = 1
                try db.execute(sql: "UPDATE index_segment SET bytes = ? WHERE id = ?", arguments: [bytes, id])
            }
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v7:%'")
        }
        XCTAssertThrowsError(try queue.read { db in try CorpusIndex.load(db) }) {
            XCTAssert("\($0)".contains("unsupportedVersion(1)"), "\($0)")
        }
        XCTAssertThrowsError(try Corpus.openReadOnly(path: corpus.path)) {
            XCTAssert("\($0)".contains("run `meetingd ingest` to upgrade it"), "\($0)")
        }
        try queue.close()

        let again = try ingester(corpus).ingest(paths: [TestPaths.qmsum.appendingPathComponent("val.jsonl").path], prune: false)
        XCTAssertEqual(again.added, [])
        try assertCorpusConsistent(corpus.path)
        let reader = try Corpus.openReadOnly(path: corpus.path).reader
        let versions = try reader.read { db in
            try Data.fetchAll(db, sql: "SELECT bytes FROM index_segment").map { UInt32(littleEndian: $0.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) }) }
        }
        XCTAssertFalse(versions.isEmpty)
        XCTAssertEqual(Set(versions), [SegmentFormat.version])
        XCTAssertEqual(try reader.read { db in try CorpusIndex.load(db).terms(ofWordsStartingWith: "remote") }, remote)
    }

    /// v8 indexes the turns by speaker: `meetingd ingest` adds the index to a corpus v7 left,
    /// and each person's turns read through it are the runs of the ids of the turns they spoke.
    func testIngestIndexesTheTurnsOfACorpusBySpeaker() throws {
        let corpus = try makeScratchFolder(self).appendingPathComponent("corpus.sqlite")
        let source = TestPaths.qmsum.appendingPathComponent("val.jsonl").path
        _ = try ingester(corpus).ingest(paths: [source], prune: false)
        func hasIndex(_ db: Database) throws -> Bool {
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'turn_person')") ?? false
        }
        let queue = try DatabaseQueue(path: corpus.path)
        XCTAssertTrue(try queue.read(hasIndex))
        // The corpus as v7 left it.
        try queue.write { db in
            try db.execute(sql: "DROP INDEX turn_person; DELETE FROM grdb_migrations WHERE identifier LIKE 'v8:%'")
        }
        XCTAssertFalse(try queue.read(hasIndex))
        XCTAssertThrowsError(try Corpus.openReadOnly(path: corpus.path)) {
            XCTAssert("\($0)".contains("run `meetingd ingest` to upgrade it"), "\($0)")
        }
        // A migration this build does not know: a newer meetingd wrote the corpus.
        try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')") }
        XCTAssertThrowsError(try Corpus.openReadOnly(path: corpus.path)) {
            XCTAssert("\($0)".contains("was written by a newer meetingd"), "\($0)")
        }
        try queue.write { db in try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v99:%'") }
        try queue.close()
        _ = try ingester(corpus).ingest(paths: [source], prune: false)
        try assertCorpusConsistent(corpus.path)
        let reader = try Corpus.openReadOnly(path: corpus.path).reader
        try reader.read { db in
            XCTAssertTrue(try hasIndex(db))
            let speakers = try SpeakerTurns(db)
            var spoken: [Int64: [UInt32]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT person_id, id FROM turn WHERE person_id IS NOT NULL") {
                spoken[row[0], default: []].append(UInt32(row[1] as Int64))
            }
            XCTAssertGreaterThan(spoken.count, 5)
            for (person, ids) in spoken {
                XCTAssertEqual(try speakers.turns(db, people: [person]).flatMap { Array($0) }, ids.sorted(), "person \(person)")
            }
        }
    }

    func testMigrationIndexesACorpusThatHadNoIndex() throws {
        let corpus = try makeScratchFolder(self).appendingPathComponent("corpus.sqlite")
        _ = try ingester(corpus).ingest(paths: [TestPaths.qmsum.appendingPathComponent("val.jsonl").path], prune: false)
        let query = IndexQuery(clauses: [[.init("remot")], [.init("control"), .init("the")]], limit: 20)
        let queue = try DatabaseQueue(path: corpus.path)
        let ingested = try queue.read { db in try CorpusIndex.load(db).search(query) }
        // The corpus as the version before the index left it.
        try queue.write { db in
            try db.execute(sql: """
                DROP TABLE index_deleted; DROP TABLE index_segment;
                DELETE FROM grdb_migrations WHERE identifier LIKE 'v5:%'
                """)
        }
        try CorpusSchema.migrator.migrate(queue)
        try assertCorpusConsistent(corpus.path)
        let migrated = try queue.read { db in try CorpusIndex.load(db).search(query) }
        XCTAssertGreaterThan(ingested.total, 20)
        XCTAssertEqual(migrated.hits, ingested.hits)
        XCTAssertEqual(migrated.total, ingested.total)
    }
}
