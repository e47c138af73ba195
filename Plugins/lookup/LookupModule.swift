// The lookup module: meetings, people, turns and documents by key and by filter.
// Every query is a cached prepared statement on the corpus's read pool; params
// reach SQL only as bound arguments.

import MeetingKit

final class LookupModule: MeetingdModule {
    static let name = "lookup"
    static let version = "1.0.0"
    static let methods = lookupMethods

    private let corpus: Corpus
    private var preparedConnections: Set<ObjectIdentifier> = []
    let cache = CorpusCache()

    init(context: ModuleContext) throws {
        corpus = try Corpus.openReadOnly(path: context.corpusPath, budget: context.budget)
    }

    func handle(method: String, params: JSONValue) throws(MethodError) -> JSONValue {
        let request = Params(params)
        switch method {
        case "lookup.meeting": return try read { db in try self.meeting(db, id: request.string("id") ?? "") }
        case "lookup.meetings":
            let filter = try MeetingFilter(request)
            return try read { db in try self.meetings(db, filter) }
        case "lookup.turns":
            let query = try TurnQuery(request)
            return try read { db in try self.turns(db, query) }
        case "lookup.person":
            let page = request.page(LookupLimits.personMeetings)
            return try read { db in try self.person(db, name: request.string("name") ?? "", page: page) }
        case "lookup.speakers":
            let page = request.page(LookupLimits.speakers)
            return try read { db in try self.speakers(db, meeting: request.string("meeting"), page: page) }
        case "lookup.documents":
            let query = try DocumentQuery(request)
            return try read { db in try self.documents(db, query) }
        case "lookup.stats": return try read { db in try self.stats(db) }
        default: throw MethodError(code: ErrorCode.methodNotFound, message: "lookup has no method \(method)")
        }
    }

    /// Runs `body` in one read transaction (one consistent snapshot). Corpus failures
    /// become JSON-RPC errors: an unreadable corpus is -32007, anything else -32603.
    private func read(_ body: (Database) throws -> JSONValue) throws(MethodError) -> JSONValue {
        do {
            return try corpus.reader.read { db in
                if preparedConnections.insert(ObjectIdentifier(db)).inserted { try Self.prepare(db) }
                try cache.validate(db)
                do { return try body(db) } catch let error as DatabaseError
                    where error.message?.contains("no such function: \(WordMatch.sqlName)") == true {
                    // A connection GRDB reopened at a recycled address: prepare it after all.
                    try Self.prepare(db)
                    return try body(db)
                }
            }
        } catch {
            throw .corpusFailure(error, in: Self.name)
        }
    }

    /// Sets up a reader connection on first use: the word-matching SQL function, and a page
    /// cache that holds the meeting, people and participant tables and their indexes (about
    /// 5 MB at 10,000 meetings; SQLite's default 2 MB holds less than half, and every miss
    /// is a read from the file).
    private static func prepare(_ db: Database) throws {
        db.add(function: WordMatch.function)
        try db.execute(sql: "PRAGMA cache_size = -\(pageCacheKiB)")
    }
    private static let pageCacheKiB = 32 * 1024
}

extension Statement {
    /// Each row turned into JSON as the cursor passes it: `Row.fetchAll` would copy every
    /// row first, which costs as much as SQLite's own work on a page of results.
    func jsonRows(_ arguments: StatementArguments, _ transform: (Row) throws -> JSONValue) throws -> [JSONValue] {
        let rows = try Row.fetchCursor(self, arguments: arguments)
        var values: [JSONValue] = []
        while let row = try rows.next() { values.append(try transform(row)) }
        return values
    }
}

extension Database {
    func jsonRows(_ sql: String, _ arguments: StatementArguments = [],
                  _ transform: (Row) throws -> JSONValue) throws -> [JSONValue] {
        try cachedStatement(sql: sql).jsonRows(arguments, transform)
    }
}

/// Typed access to params the host has already checked against the schema.
struct Params {
    let value: JSONValue
    init(_ value: JSONValue) { self.value = value }

    func string(_ key: String) -> String? { value[key]?.stringValue }
    func int(_ key: String) -> Int? { value[key]?.intValue }

    func page(_ bounds: (default: Int, max: Int)) -> Page {
        Page(limit: min(int("limit") ?? bounds.default, bounds.max), offset: int("offset") ?? 0)
    }
}

struct Page {
    let limit: Int
    let offset: Int
    var arguments: StatementArguments { ["limit": limit, "offset": offset] }

    /// The page's envelope around its items.
    func answer(total: Int, _ key: String, _ items: [JSONValue], extra: JSONObject = [:]) -> JSONValue {
        var object: JSONObject = ["total": JSONValue(total), "offset": JSONValue(offset), "limit": JSONValue(limit)]
        for (name, value) in extra { object[name] = value }
        object[key] = .array(items)
        return .object(object)
    }
}

@_cdecl("meetingd_module_entry")
public func meetingdModuleEntry() -> UnsafeRawPointer { exportModule(LookupModule.self) }
