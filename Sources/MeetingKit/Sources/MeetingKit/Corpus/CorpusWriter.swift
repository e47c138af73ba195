import Foundation
// The C API, for the one statement that runs per turn (see `insertTurn`).
import GRDBSQLite

public struct CorpusError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The one writer of a corpus (used by `meetingd ingest`). Every change goes through
/// `replaceSource`/`removeSource` inside a transaction the caller opens, so a killed
/// process leaves the corpus as of the last commit; each records its meetings' changes in
/// the change log (`ChangeLog`) in that transaction, and the caller trims the log there
/// (`ChangeLog.trim`) by its retention.
public final class CorpusWriter {
    public let database: DatabasePool

    /// Opens (creating if needed) and migrates the corpus at `path`.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // A second ingest (the daemon's at start, a command line one) waits its turn.
        configuration.busyMode = .timeout(60)
        configuration.prepareDatabase { db in
            // WAL with synchronous=NORMAL: a killed process never loses a commit;
            // only a power loss may drop the last ones, still consistently. Rarer checkpoints
            // (each one syncs) keep bulk loads near SQLite's own speed. The cache is 16 MB:
            // ingest appends to its tables, so a bigger one mostly holds pages it will not read
            // again, and each MB of it is a MB of the ingest's RSS.
            try db.execute(sql: """
                PRAGMA synchronous = NORMAL;
                PRAGMA cache_size = -16384;
                PRAGMA wal_autocheckpoint = 16384;
                PRAGMA journal_size_limit = 67108864;
                """)
        }
        // A new corpus is for its owner and group (the daemon's) only. It is made empty with
        // that mode before SQLite opens it, so the -wal and -shm files SQLite adds get it too.
        if !FileManager.default.fileExists(atPath: path) {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o640)
            if fd >= 0 { fchmod(fd, 0o640); close(fd) }
        }
        database = try DatabasePool(path: path, configuration: configuration)
        try CorpusSchema.migrator.migrate(database)
    }

    /// A meeting with what ingest computes per turn (text, words, sentences, terms), so
    /// that this work can run on another thread than the writer.
    public struct PreparedMeeting: Sendable {
        public let meeting: Meeting
        let language: Language
        let texts: [String]
        let words: [Int]
        let sentences: [Data]
        /// How many of the meeting's turns hold each term.
        let termCounts: [String: Int]
        /// Each turn as the search index holds it.
        let indexDocuments: [CorpusIndex.Document]

        /// `analyzer` is the calling thread's own.
        public init(_ meeting: Meeting, analyzer: Analyzer) {
            self.meeting = meeting
            language = meeting.languageOrDetected
            texts = meeting.turns.map(\.text)
            words = texts.map(TranscriptText.wordCount)
            sentences = texts.map { Data(TranscriptText.encodeSentences(TranscriptText.sentences(in: $0))) }
            // Counted by term number, and named once per meeting: a term was hashed once per turn.
            analyzer.startOverIfFull()
            var counts = NumberedSlots()
            swap(&counts, &analyzer.meetingTermCounts)
            var documents: [CorpusIndex.Document] = []
            documents.reserveCapacity(texts.count)
            for text in texts {
                documents.append(CorpusIndex.Document(storedText: text, analyzer: analyzer) { term in
                    counts.set(term, to: (counts.value(of: term) ?? 0) + 1)
                })
            }
            var termCounts: [String: Int] = [:]
            termCounts.reserveCapacity(counts.numbers.count)
            for term in counts.numbers { termCounts[analyzer.termsByNumber[Int(term)]] = Int(counts.value(of: term)!) }
            counts.removeAll()
            swap(&counts, &analyzer.meetingTermCounts)
            self.termCounts = termCounts
            indexDocuments = documents
        }
    }

    public struct StoredSource: Sendable, Equatable {
        public let id: Int64
        public let hash: String
    }

    /// The ingested files by path, with the hash of the content that was ingested.
    public func storedSources() throws -> [String: StoredSource] {
        try database.read { db in
            var sources: [String: StoredSource] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT id, path, hash FROM source")
            while let row = try rows.next() {
                sources[row["path"]] = StoredSource(id: row["id"], hash: row["hash"])
            }
            return sources
        }
    }

    /// Replaces whatever `path` contributed before with `meetings`. A `CorpusError` (an
    /// invalid meeting, or an id another file owns) is thrown before anything is written,
    /// so the caller can go on with other files in the same transaction.
    public static func replaceSource(_ db: Database, path: String, hash: String, bytes: Int,
                                     format: String, meetings: [PreparedMeeting]) throws {
        var progress = SourceInParts()
        try writePart(db, path: path, hash: hash, bytes: bytes, format: format, meetings: meetings,
                      of: &progress, isLast: true)
    }

    /// How far a file written in several parts (a JSONL file, a batch of lines at a time,
    /// so that it never has to be in memory whole) has got: the meetings it held before
    /// and those written so far. Start with a fresh value for each file.
    public struct SourceInParts: Sendable {
        public init() {}
        /// Nil until the first part is written, which removes the file's old meetings.
        var before: Set<String>?
        var written = Set<String>()
    }

    /// Writes one part of a file, as `replaceSource` writes a whole one: the first part
    /// replaces what the file contributed before, later ones add to it, and the last one
    /// records the meetings the file no longer holds. The caller records a hash that no
    /// file has until the last part is committed, so that a run killed in between reads
    /// the file again. Throws a `CorpusError` before writing anything, as `replaceSource`.
    public static func writePart(_ db: Database, path: String, hash: String, bytes: Int, format: String,
                                 meetings: [PreparedMeeting], of progress: inout SourceInParts, isLast: Bool) throws {
        var seenIDs = progress.written
        let ownerStatement = try db.cachedStatement(sql: """
            SELECT source.path FROM meeting JOIN source ON source.id = meeting.source_id WHERE meeting.id = ? AND source.path <> ?
            """)
        for meeting in meetings.map(\.meeting) {
            try validate(meeting)
            guard seenIDs.insert(meeting.id).inserted else {
                throw CorpusError("meeting id \"\(meeting.id)\" appears twice in the file")
            }
            if let owner = try String.fetchOne(ownerStatement, arguments: [meeting.id, path]) {
                throw CorpusError("meeting id \"\(meeting.id)\" already comes from \(owner)")
            }
        }
        // The index's ids are 32-bit. Checked before anything is written; deleting the
        // file's old meetings below can only lower the first free id.
        let turns = meetings.reduce(0) { $0 + $1.indexDocuments.count }
        guard try CorpusIndex.firstFreeTurnID(db) - 1 + Int64(turns) <= Int64(UInt32.max) else {
            throw CorpusError("the file's \(turns) turns would take ids beyond the index's 32-bit ids")
        }
        let now = Date.now.ISO8601Format()
        let sourceID: Int64
        var before = progress.before ?? []
        if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM source WHERE path = ?", arguments: [path]) {
            if progress.before == nil {
                before = Set(try String.fetchAll(db, sql: "SELECT id FROM meeting WHERE source_id = ?", arguments: [existing]))
                try deleteMeetings(db, sourceID: existing)
            }
            try db.execute(sql: "UPDATE source SET hash = ?, bytes = ?, format = ?, ingested_at = ? WHERE id = ?",
                           arguments: [hash, bytes, format, now, existing])
            sourceID = existing
        } else {
            try db.execute(sql: "INSERT INTO source (path, hash, bytes, format, ingested_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [path, hash, bytes, format, now])
            sourceID = db.lastInsertedRowID
        }
        // Turn ids are consecutive per meeting and from meeting to meeting, so a meeting's
        // turns are an id range, and all of them are known before a row is written.
        var firstTurns: [Int64] = []
        var indexed: [(id: Int64, document: CorpusIndex.Document)] = []
        var nextTurn = try CorpusIndex.firstFreeTurnID(db)
        for prepared in meetings {
            firstTurns.append(nextTurn)
            for document in prepared.indexDocuments {
                indexed.append((nextTurn, document))
                nextTurn += 1
            }
        }
        let segment = CorpusIndex.SegmentInProgress(indexed, of: db, buildingOnAnotherThread: true)
        // Summed over the part and written once: most terms recur from meeting to meeting,
        // and an upsert per meeting and term cost more than inserting the turns.
        var termCounts: [String: Int] = [:]
        for (position, prepared) in meetings.enumerated() {
            try insert(db, prepared, sourceID: sourceID, firstTurn: firstTurns[position], ordinal: progress.written.count + position)
            termCounts.merge(prepared.termCounts, uniquingKeysWith: +)
            let id = prepared.meeting.id
            try ChangeLog.record(db, before.contains(id) ? .updated : .added, meeting: id, source: path)
        }
        if isLast {
            for id in before.subtracting(seenIDs).sorted() {
                try ChangeLog.record(db, .removed, meeting: id, source: path)
            }
        }
        try TermStatistics.apply(termCounts, sign: 1, db)
        try segment.insert(db)
        // Also when the file has no meetings left: its old segment may now be all deleted.
        try CorpusIndex.mergeIfNeeded(db)
        try CorpusGeneration.advance(db)
        progress.before = before
        progress.written = seenIDs
    }

    /// Removes a file's meetings and its record (for `--prune`).
    public static func removeSource(_ db: Database, path: String) throws {
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM source WHERE path = ?", arguments: [path]) else { return }
        for meeting in try String.fetchAll(db, sql: "SELECT id FROM meeting WHERE source_id = ? ORDER BY ordinal", arguments: [id]) {
            try ChangeLog.record(db, .removed, meeting: meeting, source: path)
        }
        try deleteMeetings(db, sourceID: id)
        try CorpusIndex.mergeIfNeeded(db)
        try db.execute(sql: "DELETE FROM source WHERE id = ?", arguments: [id])
        try CorpusGeneration.advance(db)
    }

    /// Forgets people that no meeting mentions any more (after replacements and prunes).
    public static func removeUnreferencedPeople(_ db: Database) throws {
        try db.execute(sql: """
            DELETE FROM person
            WHERE NOT EXISTS (SELECT 1 FROM participant WHERE participant.person_id = person.id)
              AND NOT EXISTS (SELECT 1 FROM speaker WHERE speaker.person_id = person.id)
            """)
    }

    private static func validate(_ meeting: Meeting) throws {
        if !meeting.id.contains(where: { !$0.isWhitespace }) { throw CorpusError("a meeting has an empty id") }
        for (position, turn) in meeting.turns.enumerated() {
            guard turn.index == position else {
                throw CorpusError("meeting \(meeting.id): turn at position \(position) has index \(turn.index)")
            }
            if let section = turn.section, !meeting.sections.indices.contains(section) {
                throw CorpusError("meeting \(meeting.id): turn \(position) names section \(section), which does not exist")
            }
            if let speaker = turn.speaker, !speaker.contains(where: { !$0.isWhitespace }) {
                throw CorpusError("meeting \(meeting.id): turn \(position) has an empty speaker name")
            }
        }
        for participant in meeting.participants where PersonName.key(participant.name).isEmpty {
            throw CorpusError("meeting \(meeting.id): a participant has an empty name")
        }
    }

    private static func deleteMeetings(_ db: Database, sourceID: Int64) throws {
        let meetings = try Row.fetchAll(db, sql: "SELECT pk, first_turn, turns FROM meeting WHERE source_id = ?", arguments: [sourceID])
        let analyzer = meetings.isEmpty ? nil : Analyzer()
        // Summed over the file's meetings and written once, as ingest adds them.
        var termCounts: [String: Int] = [:]
        for meeting in meetings {
            let first: Int64 = meeting["first_turn"], last = first + (meeting["turns"] as Int64) - 1
            let texts = try String.fetchCursor(db, sql: "SELECT text FROM turn WHERE id BETWEEN ? AND ?", arguments: [first, last])
            while let text = try texts.next() {
                for term in TermStatistics.distinctTerms(ofStoredText: text, analyzer: analyzer!) { termCounts[term, default: 0] += 1 }
            }
            try db.execute(sql: "DELETE FROM turn WHERE id BETWEEN ? AND ?", arguments: [first, last])
            if last >= first { try CorpusIndex.markDeleted(db, turns: first...last) }
            try db.execute(sql: "DELETE FROM meeting WHERE pk = ?", arguments: [meeting["pk"] as Int64])
        }
        try TermStatistics.apply(termCounts, sign: -1, db)
    }

    /// `firstTurn`: the meeting's first turn id; the others follow it.
    private static func insert(_ db: Database, _ prepared: PreparedMeeting, sourceID: Int64, firstTurn: Int64, ordinal: Int) throws {
        let meeting = prepared.meeting
        var people = PeopleCache()
        let starts = meeting.turns.compactMap(\.start), ends = meeting.turns.compactMap(\.end)
        let duration: Double? = if let first = starts.min(), let last = ends.max() { last - first } else { nil }

        try db.cachedStatement(sql: """
            INSERT INTO meeting (id, source_id, ordinal, title, date, place, format, source, lead, first_turn, turns, words, duration,
                                 language)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                meeting.id, sourceID, ordinal, meeting.title, meeting.date, meeting.place, meeting.format?.rawValue,
                meeting.source, meeting.lead.joined(separator: "\n"), firstTurn, meeting.turns.count,
                prepared.words.reduce(0, +), duration, prepared.language.rawValue,
            ])
        let meetingPK = db.lastInsertedRowID

        let participantStatement = try db.cachedStatement(sql: """
            INSERT INTO participant (meeting_pk, ordinal, person_id, role, country, organisation) VALUES (?, ?, ?, ?, ?, ?)
            """)
        for (position, participant) in meeting.participants.enumerated() {
            let person = try people.person(db, name: participant.name, role: participant.role)
            try participantStatement.execute(arguments: [
                meetingPK, position, person.id, participant.role, participant.country, participant.organisation,
            ])
        }
        let documentStatement = try db.cachedStatement(sql: "INSERT INTO document (meeting_pk, ordinal, title) VALUES (?, ?, ?)")
        for (position, title) in meeting.documents.enumerated() {
            try documentStatement.execute(arguments: [meetingPK, position, title])
        }
        let sectionStatement = try db.cachedStatement(sql: "INSERT INTO section (meeting_pk, ordinal, title) VALUES (?, ?, ?)")
        for (position, section) in meeting.sections.enumerated() {
            try sectionStatement.execute(arguments: [meetingPK, position, section.title])
        }

        let turnStatement = try db.cachedStatement(sql: """
            INSERT INTO turn (id, meeting_pk, idx, section, person_id, role, text, start_time, end_time, words, sentences, label)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var spoken: [Int64: (turns: Int, words: Int)] = [:]
        for (position, turn) in meeting.turns.enumerated() {
            let words = prepared.words[position]
            let speaker = try turn.speaker.map { try people.person(db, name: $0, role: turn.role) }
            if let speaker { spoken[speaker.id, default: (0, 0)].turns += 1; spoken[speaker.id]!.words += words }
            let turnID = firstTurn + Int64(turn.index)
            // The label as written, where it is not the person's stored name, so export gives it back.
            let label = turn.speaker.flatMap { $0 == speaker?.name ? nil : $0 }
            try insertTurn(db, turnStatement, id: turnID, meetingPK: meetingPK, turn: turn, label: label,
                           personID: speaker?.id, text: prepared.texts[position], words: words, sentences: prepared.sentences[position])
        }
        let speakerStatement = try db.cachedStatement(sql: "INSERT INTO speaker (meeting_pk, person_id, turns, words) VALUES (?, ?, ?, ?)")
        for (personID, counts) in spoken {
            try speakerStatement.execute(arguments: [meetingPK, personID, counts.turns, counts.words])
        }
    }

    /// Binds and steps the turn insert through the C API: it runs once per turn, and
    /// GRDB's general argument path (boxing, copies) costs as much as SQLite's own work here.
    private static func insertTurn(_ db: Database, _ statement: Statement, id: Int64, meetingPK: Int64, turn: Turn, label: String?,
                                   personID: Int64?, text: String, words: Int, sentences: Data) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        func bind(_ index: Int32, _ value: Int64?) {
            if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
        }
        func bind(_ index: Int32, _ value: Double?) {
            if let value { sqlite3_bind_double(handle, index, value) } else { sqlite3_bind_null(handle, index) }
        }
        bind(1, id)
        bind(2, meetingPK)
        bind(3, Int64(turn.index))
        bind(4, turn.section.map(Int64.init))
        bind(5, personID)
        if let role = turn.role {
            sqlite3_bind_text(handle, 6, role, -1, transientDestructor)
        } else {
            sqlite3_bind_null(handle, 6)
        }
        if let label {
            sqlite3_bind_text(handle, 12, label, -1, transientDestructor)
        } else {
            sqlite3_bind_null(handle, 12)
        }
        bind(8, turn.start)
        bind(9, turn.end)
        bind(10, Int64(words))
        var text = text
        let code = text.withUTF8 { utf8 in
            // Text and sentences stay alive and unchanged until the step, so SQLite need not copy them.
            sqlite3_bind_text(handle, 7, utf8.baseAddress.map(UnsafeRawPointer.init) ?? emptyText, Int32(utf8.count), nil)
            return sentences.withUnsafeBytes { bytes in
                sqlite3_bind_blob(handle, 11, bytes.baseAddress ?? emptyText, Int32(bytes.count), nil)
                return sqlite3_step(handle)
            }
        }
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    private static let transientDestructor = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
    private static var emptyText: UnsafeRawPointer { UnsafeRawPointer(("" as StaticString).utf8Start) }

    /// People by speaker label or name within one meeting, creating them and their aliases on
    /// first sight. One person is one plain name (`PersonName.plainName`): "Hon. Seamus O'Regan
    /// (Minister of Natural Resources)" and "Seamus O'Regan" are the same person, stored under
    /// the plain name. Aliases: the label as written, the plain name and surname, each role
    /// (the one given and one in brackets, whole and each part between commas) alone and
    /// before the name ("President of Russia Vladimir Putin"), so that `PersonResolver` finds
    /// the person by role. The name given back is the stored one, which the index shows as
    /// the speaker.
    private struct PeopleCache {
        private var people: [String: (id: Int64, name: String)] = [:]
        private var aliasesDone: Set<String> = []

        mutating func person(_ db: Database, name label: String, role: String?) throws -> (id: Int64, name: String) {
            if let cached = people[label], role == nil || aliasesDone.contains("\(cached.id)\u{0}\(role!)") { return cached }
            let plain = PersonName.plainName(label)
            let name = plain.isEmpty ? label : plain
            let key = PersonName.key(name)
            let person: (id: Int64, name: String)
            if let stored = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, name FROM person WHERE key = ?"), arguments: [key]) {
                person = (stored["id"], stored["name"])
            } else if let id = try PersonResolver.storedPerson(spelling: name, in: db),
                      let stored = try String.fetchOne(db.cachedStatement(sql: "SELECT name FROM person WHERE id = ?"), arguments: [id]) {
                // The same person in the other script or another romanisation: this name becomes an alias.
                person = (id, stored)
            } else {
                try db.cachedStatement(sql: "INSERT INTO person (name, key) VALUES (?, ?)").execute(arguments: [name, key])
                person = (db.lastInsertedRowID, name)
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO person_romanised (key, person_id) VALUES (?, ?)")
                    .execute(arguments: [PersonResolver.romanisedKey(name), person.id])
            }
            people[label] = person
            var aliases = [label, name, person.name]
            for role in [role, PersonName.bracketedRole(label)].compactMap({ $0 }) where !role.isEmpty {
                let parts = role.components(separatedBy: ", ").filter { !$0.isEmpty }
                for part in Set([role] + parts).sorted() { aliases += [part, "\(part) \(name)"] }
            }
            aliases += PersonName.aliases(of: label)
            let aliasStatement = try db.cachedStatement(sql: "INSERT OR IGNORE INTO person_alias (key, person_id, alias) VALUES (?, ?, ?)")
            for alias in aliases where aliasesDone.insert("\(person.id)\u{0}\(alias)").inserted {
                let aliasKey = PersonName.key(alias)
                if !aliasKey.isEmpty { try aliasStatement.execute(arguments: [aliasKey, person.id, alias]) }
            }
            return person
        }
    }
}
