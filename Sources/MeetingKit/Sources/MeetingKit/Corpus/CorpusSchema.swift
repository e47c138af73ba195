import Foundation

/// The corpus schema, in versioned migrations. Only `meetingd ingest` migrates;
/// readers refuse a corpus whose migrations they do not all know.
///
/// Tables (times in seconds, offsets in Unicode scalars):
/// - `source(id, path UNIQUE, hash, bytes, format, ingested_at)`: one row per ingested file.
/// - `meeting(id, source_id, ordinal, title, date, place, format, source, lead, turns, words, duration)`;
///   `lead` is its paragraphs joined by "\n".
/// - `person(id, name, key UNIQUE)` and `person_alias(key, person_id, alias)`: people shared
///   across meetings; `key` is `PersonName.key` of the name or alias.
/// - `participant(meeting_id, ordinal, person_id, role, country, organisation)`.
/// - `document(meeting_id, ordinal, title)`, `section(meeting_id, ordinal, title)`.
/// - `turn(id, meeting_id, idx, section, person_id, role, text, start_time, end_time, words)`;
///   `text` is the paragraphs joined by "\n", marks kept.
/// - `sentence(turn_id, ordinal, start_offset, end_offset)`: `substr(turn.text, start_offset + 1, end_offset - start_offset)`.
/// - `turn_fts(text, speaker, meeting_id UNINDEXED, date UNINDEXED)`: FTS5 over turn text without
///   marks and over the speaker's canonical name; rowid = `turn.id`; external content
///   `turn_fts_content` (a view), so the text is stored once.
public enum CorpusSchema {
    public static let ftsTable = "turn_fts"
    public static let ftsContentView = "turn_fts_content"

    /// SQL that strips `TranscriptText.marks` from `column`, as `TranscriptText.strippingMarks` does.
    static func strippingMarksSQL(_ column: String) -> String {
        TranscriptText.marks.reduce(column) { sql, mark in "replace(\(sql), '\(mark)', '')" }
    }

    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: meetings, people, turns, sentences, FTS5") { db in
            try db.execute(sql: """
                CREATE TABLE source (
                    id INTEGER PRIMARY KEY,
                    path TEXT NOT NULL UNIQUE,
                    hash TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    format TEXT NOT NULL,
                    ingested_at TEXT NOT NULL
                );
                CREATE TABLE meeting (
                    id TEXT PRIMARY KEY,
                    source_id INTEGER NOT NULL REFERENCES source(id) ON DELETE CASCADE,
                    ordinal INTEGER NOT NULL,
                    title TEXT NOT NULL,
                    date TEXT,
                    place TEXT,
                    format TEXT,
                    source TEXT,
                    lead TEXT NOT NULL,
                    turns INTEGER NOT NULL,
                    words INTEGER NOT NULL,
                    duration REAL
                );
                CREATE INDEX meeting_source ON meeting(source_id);
                CREATE INDEX meeting_date ON meeting(date);
                CREATE TABLE person (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    key TEXT NOT NULL UNIQUE
                );
                -- Key columns first: SQLite 3.40's integrity_check misreads a WITHOUT ROWID
                -- table whose key columns are not leading.
                CREATE TABLE person_alias (
                    key TEXT NOT NULL,
                    person_id INTEGER NOT NULL REFERENCES person(id) ON DELETE CASCADE,
                    alias TEXT NOT NULL,
                    PRIMARY KEY (key, person_id)
                ) WITHOUT ROWID;
                CREATE INDEX person_alias_person ON person_alias(person_id);
                CREATE TABLE participant (
                    meeting_id TEXT NOT NULL REFERENCES meeting(id) ON DELETE CASCADE,
                    ordinal INTEGER NOT NULL,
                    person_id INTEGER NOT NULL REFERENCES person(id),
                    role TEXT,
                    country TEXT,
                    organisation TEXT,
                    PRIMARY KEY (meeting_id, ordinal)
                ) WITHOUT ROWID;
                CREATE INDEX participant_person ON participant(person_id);
                CREATE TABLE document (
                    meeting_id TEXT NOT NULL REFERENCES meeting(id) ON DELETE CASCADE,
                    ordinal INTEGER NOT NULL,
                    title TEXT NOT NULL,
                    PRIMARY KEY (meeting_id, ordinal)
                ) WITHOUT ROWID;
                CREATE TABLE section (
                    meeting_id TEXT NOT NULL REFERENCES meeting(id) ON DELETE CASCADE,
                    ordinal INTEGER NOT NULL,
                    title TEXT NOT NULL,
                    PRIMARY KEY (meeting_id, ordinal)
                ) WITHOUT ROWID;
                CREATE TABLE turn (
                    id INTEGER PRIMARY KEY,
                    meeting_id TEXT NOT NULL REFERENCES meeting(id) ON DELETE CASCADE,
                    idx INTEGER NOT NULL,
                    section INTEGER,
                    person_id INTEGER REFERENCES person(id),
                    role TEXT,
                    text TEXT NOT NULL,
                    start_time REAL,
                    end_time REAL,
                    words INTEGER NOT NULL,
                    UNIQUE (meeting_id, idx)
                );
                CREATE INDEX turn_person ON turn(person_id);
                CREATE TABLE sentence (
                    turn_id INTEGER NOT NULL REFERENCES turn(id) ON DELETE CASCADE,
                    ordinal INTEGER NOT NULL,
                    start_offset INTEGER NOT NULL,
                    end_offset INTEGER NOT NULL,
                    PRIMARY KEY (turn_id, ordinal)
                ) WITHOUT ROWID;
                CREATE VIEW \(ftsContentView) AS
                    SELECT turn.id AS turn_id,
                           \(strippingMarksSQL("turn.text")) AS text,
                           coalesce(person.name, '') AS speaker,
                           turn.meeting_id AS meeting_id,
                           meeting.date AS date
                    FROM turn
                    JOIN meeting ON meeting.id = turn.meeting_id
                    LEFT JOIN person ON person.id = turn.person_id;
                CREATE VIRTUAL TABLE \(ftsTable) USING fts5(
                    text, speaker, meeting_id UNINDEXED, date UNINDEXED,
                    content='\(ftsContentView)', content_rowid='turn_id',
                    tokenize='porter unicode61 remove_diacritics 2'
                );
                """)
        }
        return migrator
    }
}
