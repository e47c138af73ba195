import Foundation

/// A read-only handle on a corpus, for the daemon and the modules. `reader` is open
/// for any SQL of their own (see `CorpusSchema` for the tables).
public final class Corpus: Sendable {
    public let path: String
    public let reader: DatabasePool
    /// What interrupts the reader's statements at a request's deadline; kept as long as the pool.
    public let budget: RequestBudget?
    /// Opened as immutable: this process could not share the corpus's WAL (see `sqliteLocation`).
    public let isImmutable: Bool

    private init(path: String, reader: DatabasePool, budget: RequestBudget?, isImmutable: Bool) {
        self.path = path
        self.reader = reader
        self.budget = budget
        self.isImmutable = isImmutable
    }

    /// Where SQLite is to open the corpus at `path`. Ingest writes it in WAL mode,
    /// and a WAL reader needs the shared-memory index beside it (`-shm`) writable,
    /// or a directory to create it in; without them SQLite still reads a write-ahead
    /// log that is there (through a read-only `-shm`). Otherwise nothing can be
    /// waiting in a log, and the file is opened as immutable (`immutable=1`: no
    /// locks, no WAL), so that a corpus in a read-only directory, file system or
    /// snapshot is served; it must then not change while it is (a reload re-opens it).
    static func sqliteLocation(of path: String) -> (location: String, isImmutable: Bool) {
        let shm = path + "-shm"
        let directory = (path as NSString).deletingLastPathComponent
        let canShareWAL = FileManager.default.fileExists(atPath: shm)
            ? access(shm, W_OK) == 0
            : access(directory.isEmpty ? "." : directory, W_OK) == 0
        let walSize = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        if canShareWAL || walSize > 0 { return (path, false) }
        // Debian's and Ubuntu's SQLite read URIs (SQLITE_USE_URI); GRDB passes no flag for them.
        let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
        return ("file:\(encoded)?immutable=1", true)
    }

    /// Opens an existing corpus read-only. Fails if the file is missing, is not a
    /// corpus, or was made by another version of the schema. With a `budget` (a module's
    /// `context.budget`), a statement still running at the request's deadline is
    /// interrupted and the read fails with -32005 (through `MethodError.corpusFailure`).
    public static func openReadOnly(path: String, budget: RequestBudget? = nil) throws -> Corpus {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CorpusError("no corpus at \(path): run `meetingd ingest` first")
        }
        var configuration = Configuration()
        configuration.readonly = true
        if let budget {
            configuration.prepareDatabase { db in budget.interruptStatements(of: db) }
        }
        let (location, isImmutable) = sqliteLocation(of: path)
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: location, configuration: configuration)
        } catch {
            let how = isImmutable ? " as immutable (\(path)-shm can be neither written nor created)" : ""
            throw CorpusError("cannot open corpus \(path)\(how): \(error)")
        }
        try pool.read { db in
            let migrator = CorpusSchema.migrator
            if try migrator.hasBeenSuperseded(db) {
                throw CorpusError("corpus \(path) was written by a newer meetingd")
            }
            guard try migrator.hasCompletedMigrations(db) else {
                throw CorpusError("corpus \(path) has an older or no schema: run `meetingd ingest` to upgrade it")
            }
        }
        return Corpus(path: path, reader: pool, budget: budget, isImmutable: isImmutable)
    }

    public func figures() throws -> CorpusFigures {
        try reader.read { db in try CorpusFigures.fetch(db) }
    }

    /// One meeting with its turns, in the lossless model; nil if the id is unknown.
    public func meeting(id: String) throws -> Meeting? {
        try reader.read { db in try Meeting.fetch(db, id: id) }
    }

    /// All meeting ids, by date then id.
    public func meetingIDs() throws -> [String] {
        try reader.read { db in try String.fetchAll(db, sql: "SELECT id FROM meeting ORDER BY date, id") }
    }
}

public struct CorpusFigures: Sendable, Equatable {
    public var meetings: Int
    public var turns: Int
    public var words: Int
    public var people: Int
    public var firstDate: String?
    public var lastDate: String?

    public static func fetch(_ db: Database) throws -> CorpusFigures {
        let row = try Row.fetchOne(db, sql: """
            SELECT count(*) AS meetings, coalesce(sum(turns), 0) AS turns, coalesce(sum(words), 0) AS words,
                   (SELECT count(*) FROM person) AS people, min(date) AS first_date, max(date) AS last_date
            FROM meeting
            """)!
        return CorpusFigures(meetings: row["meetings"], turns: row["turns"], words: row["words"],
                             people: row["people"], firstDate: row["first_date"], lastDate: row["last_date"])
    }
}

extension Meeting {
    /// Reads one meeting back into the model (what `meetingd export` writes).
    public static func fetch(_ db: Database, id: String) throws -> Meeting? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT pk, id, title, date, place, format, source, lead, language FROM meeting WHERE id = ?
            """, arguments: [id]) else { return nil }
        let pk: Int64 = row["pk"]
        let lead: String = row["lead"]
        var meeting = Meeting(
            id: row["id"], title: row["title"], date: row["date"], place: row["place"],
            format: (row["format"] as String?).flatMap(MeetingFormat.init(rawValue:)),
            source: row["source"], lead: lead.isEmpty ? [] : lead.components(separatedBy: "\n"),
            language: (row["language"] as String?).flatMap(Language.init(rawValue:)))
        meeting.participants = try Row.fetchAll(db, sql: """
            SELECT person.name, role, country, organisation FROM participant
            JOIN person ON person.id = participant.person_id WHERE meeting_pk = ? ORDER BY ordinal
            """, arguments: [pk]).map {
                Participant(name: $0["name"], role: $0["role"], country: $0["country"], organisation: $0["organisation"])
            }
        meeting.documents = try String.fetchAll(db, sql: "SELECT title FROM document WHERE meeting_pk = ? ORDER BY ordinal",
                                                arguments: [pk])
        meeting.sections = try String.fetchAll(db, sql: "SELECT title FROM section WHERE meeting_pk = ? ORDER BY ordinal",
                                               arguments: [pk]).map(Section.init(title:))
        meeting.turns = try Row.fetchAll(db, sql: """
            SELECT idx, section, coalesce(turn.label, person.name) AS speaker, role, text, start_time, end_time
            FROM meeting JOIN turn ON turn.id BETWEEN meeting.first_turn AND meeting.first_turn + meeting.turns - 1
            LEFT JOIN person ON person.id = turn.person_id WHERE meeting.pk = ? ORDER BY turn.id
            """, arguments: [pk]).map {
                let text: String = $0["text"]
                return Turn(index: $0["idx"], section: $0["section"], speaker: $0["speaker"], role: $0["role"],
                            paragraphs: text.isEmpty ? [] : text.components(separatedBy: "\n"),
                            start: $0["start_time"], end: $0["end_time"])
            }
        return meeting
    }
}

extension MethodError {
    /// The answer to a failure while reading the corpus: -32007 (unavailable) when the
    /// file cannot be read as a database right now (damaged, locked, gone, out of
    /// memory), -32005 when the request's budget interrupted it, -32603 for anything else. The host logs an internal error's detail.
    public static func corpusFailure(_ error: any Error, in module: String) -> MethodError {
        if let error = error as? MethodError { return error }
        if let error = error as? DatabaseError, error.resultCode.primaryResultCode == .SQLITE_INTERRUPT {
            return .runningDeadlineExceeded
        }
        if let error = error as? DatabaseError, unreadable.contains(error.resultCode.primaryResultCode) {
            return MethodError(code: ErrorCode.unavailable,
                               message: "Unavailable: the corpus cannot be read (\(error.resultCode.primaryResultCode))")
        }
        return MethodError(code: ErrorCode.internalError, message: "\(module) failed: \(error)")
    }

    private static let unreadable: [ResultCode] = [.SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_IOERR, .SQLITE_CORRUPT,
                                                   .SQLITE_NOTADB, .SQLITE_CANTOPEN, .SQLITE_NOMEM]
}
