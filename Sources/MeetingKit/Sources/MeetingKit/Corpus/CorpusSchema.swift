import Foundation

/// The corpus schema, in versioned migrations. Only `meetingd ingest` migrates;
/// readers refuse a corpus whose migrations they do not all know.
///
/// Tables (times in seconds; text offsets in Unicode scalars, as SQLite's `substr` counts):
/// - `source(id, path UNIQUE, hash, bytes, format, ingested_at)`: one row per ingested file.
/// - `meeting(pk, id UNIQUE, source_id, ordinal, title, date, place, format, source, lead,
///   first_turn, turns, words, duration)`: `id` is the public meeting id; `lead` is its
///   paragraphs joined by "\n". A meeting's turns are the rows `turn.id` in
///   `first_turn ..< first_turn + turns`, so `turn.id - first_turn` is the turn index and a
///   meeting's turns in the search index are the document ids in that range.
/// - `person(id, name, key UNIQUE)` and `person_alias(key, person_id, alias)`: people shared
///   across meetings; `key` is `PersonName.key` of the name or alias.
/// - `participant(meeting_pk, ordinal, person_id, role, country, organisation)`.
/// - `speaker(meeting_pk, person_id, turns, words)`: who spoke in a meeting, how much.
/// - `document(meeting_pk, ordinal, title)`, `section(meeting_pk, ordinal, title)`.
/// - `turn(id, meeting_pk, idx, section, person_id, role, text, start_time, end_time, words, sentences)`:
///   `text` is the paragraphs joined by "\n", transcription marks kept; `sentences` is the
///   sentence spans in `text`, encoded by `TranscriptText.encodeSentences` (decode with
///   `TranscriptText.decodeSentences`). Indexed by id and by `person_id` (`turn_person`, a
///   speaker's turns); otherwise reach turns through `meeting.first_turn`.
/// - `meeting.language`: "en" or "ru" (`Language`); `turn.label`: the speaker label as the
///   source wrote it, where it is not the person's stored name (null otherwise).
/// - `person_romanised(key, person_id)`: each person's `PersonResolver.romanisedKey`, so that a
///   name written in Cyrillic and in Latin letters is stored as one person.
/// - `change_log(seq, at, topic, meeting, source)`: what ingest added, updated and removed, in
///   commit order (`ChangeLog`); `seq` is never reused.
/// - `term_stat(term, turns)`: how many turns hold each of the analyzer's terms (`TermStatistics`).
/// - `corpus_state(generation)`: one row; every change to the corpus raises it (`CorpusGeneration`).
/// - `index_segment(id, first_turn, last_turn, turns, bytes)`: the search index (`CorpusIndex`): immutable
///   segments in MeetingIndex's format, document id = `turn.id`, holding disjoint id ranges;
///   `index_deleted(segment_id, turn_id)`: turns removed since their segment was written.
///   A new turn's id is above every id a segment has held (`CorpusIndex.firstFreeTurnID`).
/// Up to v5 the corpus also held `turn_fts`, an FTS5 table over the turns, and its content
/// view `turn_fts_content`; v6 drops them, as the search index answers every search.
/// v7 rebuilds the index's segments in format 2 (`SegmentFormat.version`), which holds word forms.
/// v8 indexes `turn.person_id`, from which `SpeakerTurns` reads a speaker's turns.
public enum CorpusSchema {
    /// SQL that strips `TranscriptText.marks` from `column`, as `TranscriptText.strippingMarks` does;
    /// text without a brace (most text) is passed through without copies.
    static func strippingMarksSQL(_ column: String) -> String {
        let replaced = TranscriptText.marks.reduce(column) { sql, mark in "replace(\(sql), '\(mark)', '')" }
        return "CASE WHEN instr(\(column), '{') = 0 THEN \(column) ELSE \(replaced) END"
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
                    pk INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    source_id INTEGER NOT NULL REFERENCES source(id) ON DELETE CASCADE,
                    ordinal INTEGER NOT NULL,
                    title TEXT NOT NULL,
                    date TEXT,
                    place TEXT,
                    format TEXT,
                    source TEXT,
                    lead TEXT NOT NULL,
                    first_turn INTEGER NOT NULL,
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
                    meeting_pk INTEGER NOT NULL REFERENCES meeting(pk) ON DELETE CASCADE,
                    ordinal INTEGER NOT NULL,
                    person_id INTEGER NOT NULL REFERENCES person(id),
                    role TEXT,
                    country TEXT,
                    organisation TEXT,
                    PRIMARY KEY (meeting_pk, ordinal)
                ) WITHOUT ROWID;
                CREATE INDEX participant_person ON participant(person_id);
                CREATE TABLE speaker (
                    meeting_pk INTEGER NOT NULL REFERENCES meeting(pk) ON DELETE CASCADE,
                    person_id INTEGER NOT NULL REFERENCES person(id),
                    turns INTEGER NOT NULL,
                    words INTEGER NOT NULL,
                    PRIMARY KEY (meeting_pk, person_id)
                ) WITHOUT ROWID;
                CREATE INDEX speaker_person ON speaker(person_id);
                CREATE TABLE document (
                    meeting_pk INTEGER NOT NULL REFERENCES meeting(pk) ON DELETE CASCADE,
                    ordinal INTEGER NOT NULL,
                    title TEXT NOT NULL,
                    PRIMARY KEY (meeting_pk, ordinal)
                ) WITHOUT ROWID;
                CREATE TABLE section (
                    meeting_pk INTEGER NOT NULL REFERENCES meeting(pk) ON DELETE CASCADE,
                    ordinal INTEGER NOT NULL,
                    title TEXT NOT NULL,
                    PRIMARY KEY (meeting_pk, ordinal)
                ) WITHOUT ROWID;
                -- Turns have no foreign keys: an index per key would cost a fifth of the text's
                -- size. The writer keeps them whole: a meeting's turns are written and deleted
                -- with it, by id range, and every person_id has its `speaker` row.
                CREATE TABLE turn (
                    id INTEGER PRIMARY KEY,
                    meeting_pk INTEGER NOT NULL,
                    idx INTEGER NOT NULL,
                    section INTEGER,
                    person_id INTEGER,
                    role TEXT,
                    text TEXT NOT NULL,
                    start_time REAL,
                    end_time REAL,
                    words INTEGER NOT NULL,
                    sentences BLOB NOT NULL
                );
                CREATE VIEW turn_fts_content AS
                    SELECT turn.id AS turn_id,
                           \(strippingMarksSQL("turn.text")) AS text,
                           coalesce(person.name, '') AS speaker,
                           meeting.id AS meeting_id,
                           meeting.date AS date
                    FROM turn
                    JOIN meeting ON meeting.pk = turn.meeting_pk
                    LEFT JOIN person ON person.id = turn.person_id;
                CREATE VIRTUAL TABLE turn_fts USING fts5(
                    text, speaker, meeting_id UNINDEXED, date UNINDEXED,
                    content='turn_fts_content', content_rowid='turn_id',
                    tokenize='porter unicode61 remove_diacritics 2'
                );
                """)
        }
        migrator.registerMigration("v2: people found by plain name and surname") { db in
            // Labels such as "Kirsty Williams AM" or "Hon. X (Minister of Y)" had their last
            // word ("AM", "Y)") as a surname, which named every AM; that alias goes, and the
            // plain name and its last word come in.
            let insert = try db.makeStatement(sql: "INSERT OR IGNORE INTO person_alias (key, person_id, alias) VALUES (?, ?, ?)")
            let delete = try db.makeStatement(sql: "DELETE FROM person_alias WHERE key = ? AND person_id = ? AND alias = ?")
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM person") {
                let name: String = row["name"]
                let aliases = PersonName.aliases(of: name)
                let words = name.split(separator: " ")
                if words.count > 1, let lastWord = words.last.map(String.init), !aliases.contains(lastWord) {
                    try delete.execute(arguments: [PersonName.key(lastWord), row["id"], lastWord])
                }
                for alias in aliases {
                    try insert.execute(arguments: [PersonName.key(alias), row["id"], alias])
                }
            }
        }
        migrator.registerMigration("v3: the language layer: meeting language, speaker labels, term statistics, generation") { db in
            try db.execute(sql: """
                ALTER TABLE meeting ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
                ALTER TABLE turn ADD COLUMN label TEXT;
                CREATE TABLE term_stat (term TEXT PRIMARY KEY, turns INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE person_romanised (
                    key TEXT NOT NULL,
                    person_id INTEGER NOT NULL REFERENCES person(id) ON DELETE CASCADE,
                    PRIMARY KEY (key, person_id)
                ) WITHOUT ROWID;
                CREATE INDEX person_romanised_person ON person_romanised(person_id);
                CREATE TABLE corpus_state (generation INTEGER NOT NULL);
                -- From a random number, so that a corpus made anew at the same path never
                -- repeats a generation its predecessor had.
                INSERT INTO corpus_state (generation) VALUES (abs(random() % 4611686018427387904));
                """)
            let analyzer = Analyzer()
            var counts: [String: Int] = [:]
            let meetings = try Row.fetchAll(db, sql: "SELECT pk, title, lead, first_turn, turns FROM meeting")
            let turnTexts = try db.makeStatement(sql: "SELECT text FROM turn WHERE id BETWEEN ? AND ? ORDER BY id")
            let setLanguage = try db.makeStatement(sql: "UPDATE meeting SET language = ? WHERE pk = ?")
            for meeting in meetings {
                let first: Int64 = meeting["first_turn"], turns: Int64 = meeting["turns"]
                var sample: [String] = [meeting["title"], meeting["lead"]]
                let texts = try String.fetchCursor(turnTexts, arguments: [first, first + turns - 1])
                while let text = try texts.next() {
                    if sample.count < 22 { sample.append(text) }
                    for term in TermStatistics.distinctTerms(ofStoredText: text, analyzer: analyzer) { counts[term, default: 0] += 1 }
                }
                try setLanguage.execute(arguments: [Language.detect(in: sample.joined(separator: " ")).rawValue, meeting["pk"]])
            }
            try TermStatistics.apply(counts, sign: 1, db)
            let romanise = try db.makeStatement(sql: "INSERT OR IGNORE INTO person_romanised (key, person_id) VALUES (?, ?)")
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM person") {
                try romanise.execute(arguments: [PersonResolver.romanisedKey(row["name"]), row["id"]])
            }
        }
        migrator.registerMigration("v4: change log of meetings added, updated and removed") { db in
            try db.execute(sql: """
                CREATE TABLE change_log (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    at TEXT NOT NULL,
                    topic TEXT NOT NULL,
                    meeting TEXT NOT NULL,
                    source TEXT
                );
                """)
        }
        migrator.registerMigration("v5: the search index, segments and deletion sets") { db in
            try db.execute(sql: """
                -- AUTOINCREMENT from a random number: a segment id is never reused, even by a
                -- corpus made anew at the same path, so readers may keep segments by id.
                CREATE TABLE index_segment (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    first_turn INTEGER NOT NULL,
                    last_turn INTEGER NOT NULL,
                    turns INTEGER NOT NULL,
                    bytes BLOB NOT NULL
                );
                CREATE TABLE index_deleted (
                    segment_id INTEGER NOT NULL REFERENCES index_segment(id) ON DELETE CASCADE,
                    turn_id INTEGER NOT NULL,
                    PRIMARY KEY (segment_id, turn_id)
                ) WITHOUT ROWID;
                INSERT INTO sqlite_sequence (name, seq) VALUES ('index_segment', abs(random() % 4611686018427387904));
                """)
            try CorpusIndex.rebuild(db)
            try CorpusGeneration.advance(db)
        }
        migrator.registerMigration("v6: FTS5 dropped, the search index answers every search") { db in
            // Dropping the FTS5 table drops its shadow tables; their pages are reused by
            // later ingests (`VACUUM` gives them back to the file system at once).
            try db.execute(sql: """
                DROP TABLE IF EXISTS turn_fts;
                DROP VIEW IF EXISTS turn_fts_content;
                """)
        }
        migrator.registerMigration("v7: index segments in format 2, with word forms for prefixes") { db in
            // Segments of format 1 cannot say which words a prefix covers: they are built anew,
            // unless v5 has just built them all in this format (a corpus from before v5).
            let thisFormat = withUnsafeBytes(of: SegmentFormat.version.littleEndian) { Data($0) }
            let outdated = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM index_segment WHERE substr(bytes, 5, 4) != ?)",
                                             arguments: [thisFormat]) ?? true
            guard outdated else { return }
            try CorpusIndex.rebuild(db)
            try CorpusGeneration.advance(db)
        }
        migrator.registerMigration("v8: turns indexed by speaker") { db in
            // A speaker's first query of a generation read their turns through a join of every
            // meeting they spoke in: 13.5 ms of CPU for the busiest of 10,000 meetings, 4.5 ms this way.
            try db.execute(sql: "CREATE INDEX turn_person ON turn(person_id)")
        }
        return migrator
    }
}
