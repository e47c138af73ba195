import Foundation

public struct CorpusError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The one writer of a corpus (used by `meetingd ingest`). Every change goes through
/// `replaceSource`/`removeSource` inside a transaction the caller opens, so a killed
/// process leaves the corpus as of the last commit.
public final class CorpusWriter {
    public let database: DatabasePool

    /// Opens (creating if needed) and migrates the corpus at `path`.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            // WAL with synchronous=NORMAL: a killed process never loses a commit;
            // only a power loss may drop the last ones, still consistently.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        database = try DatabasePool(path: path, configuration: configuration)
        try CorpusSchema.migrator.migrate(database)
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

    /// Replaces whatever `path` contributed before with `meetings`. Throws, leaving the
    /// transaction for the caller to roll back, when a meeting is invalid or its id
    /// already belongs to another file.
    public static func replaceSource(_ db: Database, path: String, hash: String, bytes: Int,
                                     format: String, meetings: [Meeting]) throws {
        var seenIDs = Set<String>()
        for meeting in meetings {
            try validate(meeting)
            guard seenIDs.insert(meeting.id).inserted else {
                throw CorpusError("meeting id \"\(meeting.id)\" appears twice in the file")
            }
        }
        let now = ISO8601DateFormatter().string(from: Date())
        let sourceID: Int64
        if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM source WHERE path = ?", arguments: [path]) {
            try deleteMeetings(db, sourceID: existing)
            try db.execute(sql: "UPDATE source SET hash = ?, bytes = ?, format = ?, ingested_at = ? WHERE id = ?",
                           arguments: [hash, bytes, format, now, existing])
            sourceID = existing
        } else {
            try db.execute(sql: "INSERT INTO source (path, hash, bytes, format, ingested_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [path, hash, bytes, format, now])
            sourceID = db.lastInsertedRowID
        }
        for (ordinal, meeting) in meetings.enumerated() {
            if let owner = try String.fetchOne(db, sql: """
                SELECT source.path FROM meeting JOIN source ON source.id = meeting.source_id WHERE meeting.id = ?
                """, arguments: [meeting.id]) {
                throw CorpusError("meeting id \"\(meeting.id)\" already comes from \(owner)")
            }
            try insert(db, meeting: meeting, sourceID: sourceID, ordinal: ordinal)
        }
    }

    /// Removes a file's meetings and its record (for `--prune`).
    public static func removeSource(_ db: Database, path: String) throws {
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM source WHERE path = ?", arguments: [path]) else { return }
        try deleteMeetings(db, sourceID: id)
        try db.execute(sql: "DELETE FROM source WHERE id = ?", arguments: [id])
    }

    /// Forgets people that no meeting mentions any more (after replacements and prunes).
    public static func removeUnreferencedPeople(_ db: Database) throws {
        try db.execute(sql: """
            DELETE FROM person
            WHERE NOT EXISTS (SELECT 1 FROM participant WHERE participant.person_id = person.id)
              AND NOT EXISTS (SELECT 1 FROM turn WHERE turn.person_id = person.id)
            """)
    }

    private static func validate(_ meeting: Meeting) throws {
        if meeting.id.trimmingCharacters(in: .whitespaces).isEmpty { throw CorpusError("a meeting has an empty id") }
        for (position, turn) in meeting.turns.enumerated() {
            guard turn.index == position else {
                throw CorpusError("meeting \(meeting.id): turn at position \(position) has index \(turn.index)")
            }
            if let section = turn.section, !meeting.sections.indices.contains(section) {
                throw CorpusError("meeting \(meeting.id): turn \(position) names section \(section), which does not exist")
            }
            if let speaker = turn.speaker, PersonName.key(speaker).isEmpty {
                throw CorpusError("meeting \(meeting.id): turn \(position) has an empty speaker name")
            }
        }
        for participant in meeting.participants where PersonName.key(participant.name).isEmpty {
            throw CorpusError("meeting \(meeting.id): a participant has an empty name")
        }
    }

    private static func deleteMeetings(_ db: Database, sourceID: Int64) throws {
        // External-content FTS5 needs the indexed values to delete a row; the content
        // view gives exactly what was inserted.
        try db.execute(sql: """
            INSERT INTO \(CorpusSchema.ftsTable) (\(CorpusSchema.ftsTable), rowid, text, speaker, meeting_id, date)
            SELECT 'delete', turn_id, text, speaker, meeting_id, date FROM \(CorpusSchema.ftsContentView)
            WHERE meeting_id IN (SELECT id FROM meeting WHERE source_id = ?)
            """, arguments: [sourceID])
        try db.execute(sql: "DELETE FROM meeting WHERE source_id = ?", arguments: [sourceID])
    }

    private static func insert(_ db: Database, meeting: Meeting, sourceID: Int64, ordinal: Int) throws {
        var people = PeopleCache()
        let texts = meeting.turns.map(\.text)
        let wordCounts = texts.map { TranscriptText.wordCount($0) }
        let starts = meeting.turns.compactMap(\.start), ends = meeting.turns.compactMap(\.end)
        let duration: Double? = if let first = starts.min(), let last = ends.max() { last - first } else { nil }

        try db.cachedStatement(sql: """
            INSERT INTO meeting (id, source_id, ordinal, title, date, place, format, source, lead, turns, words, duration)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                meeting.id, sourceID, ordinal, meeting.title, meeting.date, meeting.place, meeting.format?.rawValue,
                meeting.source, meeting.lead.joined(separator: "\n"), meeting.turns.count,
                wordCounts.reduce(0, +), duration,
            ])

        let participantStatement = try db.cachedStatement(sql: """
            INSERT INTO participant (meeting_id, ordinal, person_id, role, country, organisation) VALUES (?, ?, ?, ?, ?, ?)
            """)
        for (position, participant) in meeting.participants.enumerated() {
            let personID = try people.id(db, name: participant.name, role: participant.role)
            try participantStatement.execute(arguments: [
                meeting.id, position, personID, participant.role, participant.country, participant.organisation,
            ])
        }
        let documentStatement = try db.cachedStatement(sql: "INSERT INTO document (meeting_id, ordinal, title) VALUES (?, ?, ?)")
        for (position, title) in meeting.documents.enumerated() {
            try documentStatement.execute(arguments: [meeting.id, position, title])
        }
        let sectionStatement = try db.cachedStatement(sql: "INSERT INTO section (meeting_id, ordinal, title) VALUES (?, ?, ?)")
        for (position, section) in meeting.sections.enumerated() {
            try sectionStatement.execute(arguments: [meeting.id, position, section.title])
        }

        let turnStatement = try db.cachedStatement(sql: """
            INSERT INTO turn (meeting_id, idx, section, person_id, role, text, start_time, end_time, words)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let sentenceStatement = try db.cachedStatement(sql: """
            INSERT INTO sentence (turn_id, ordinal, start_offset, end_offset) VALUES (?, ?, ?, ?)
            """)
        for (position, turn) in meeting.turns.enumerated() {
            let personID = try turn.speaker.map { try people.id(db, name: $0, role: turn.role) }
            try turnStatement.execute(arguments: [
                meeting.id, turn.index, turn.section, personID, turn.role, texts[position],
                turn.start, turn.end, wordCounts[position],
            ])
            let turnID = db.lastInsertedRowID
            for (ordinal, span) in TranscriptText.sentences(in: texts[position]).enumerated() {
                try sentenceStatement.execute(arguments: [turnID, ordinal, span.start, span.end])
            }
        }

        try db.cachedStatement(sql: """
            INSERT INTO \(CorpusSchema.ftsTable) (rowid, text, speaker, meeting_id, date)
            SELECT turn_id, text, speaker, meeting_id, date FROM \(CorpusSchema.ftsContentView) WHERE meeting_id = ?
            """).execute(arguments: [meeting.id])
    }

    /// Person ids by name within one meeting, creating people and aliases on first sight:
    /// the name, "role name" ("President of Russia Vladimir Putin") and the surname.
    private struct PeopleCache {
        private var ids: [String: Int64] = [:]
        private var aliasesDone: Set<String> = []

        mutating func id(_ db: Database, name: String, role: String?) throws -> Int64 {
            let key = PersonName.key(name)
            let personID: Int64
            if let cached = ids[key] {
                personID = cached
            } else if let stored = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM person WHERE key = ?"), arguments: [key]) {
                personID = stored
            } else {
                try db.cachedStatement(sql: "INSERT INTO person (name, key) VALUES (?, ?)").execute(arguments: [name, key])
                personID = db.lastInsertedRowID
            }
            ids[key] = personID
            var aliases = [name]
            if let role, !role.isEmpty { aliases.append("\(role) \(name)") }
            let words = name.split(separator: " ")
            if words.count > 1, let surname = words.last { aliases.append(String(surname)) }
            let aliasStatement = try db.cachedStatement(sql: "INSERT OR IGNORE INTO person_alias (key, alias, person_id) VALUES (?, ?, ?)")
            for alias in aliases where aliasesDone.insert("\(personID)\u{0}\(alias)").inserted {
                try aliasStatement.execute(arguments: [PersonName.key(alias), alias, personID])
            }
            return personID
        }
    }
}
