// Saved-query alerts: a name and a search.query (q, speaker?, place?, unit?), kept in a
// small writable SQLite database in the state directory, never in the corpus (which the
// daemon only reads). The event stream runs each alert's query against every meeting
// added or updated, through search.query restricted to that meeting, and publishes the
// hits on `alert.<name>`.

import Foundation
import Logging
import MeetingKit
import Synchronization

struct Alert: Sendable, Equatable {
    let name: String
    let q: String
    let speaker: String?
    let place: String?
    let unit: String?

    var json: JSONValue {
        ["name": .string(name), "q": .string(q), "speaker": JSONValue(speaker), "place": JSONValue(place), "unit": JSONValue(unit)]
    }

    /// The search.query params that run this alert against one meeting.
    func searchParams(meeting: String, limit: Int) -> JSONValue {
        var params: JSONObject = ["q": .string(q), "meeting": .string(meeting), "limit": JSONValue(limit)]
        if let speaker { params["speaker"] = .string(speaker) }
        if let place { params["place"] = .string(place) }
        if let unit { params["unit"] = .string(unit) }
        return .object(params)
    }
}

/// The alerts, in `state.sqlite` in the state directory, opened (and made) on first use
/// so that a daemon that never uses alerts needs no writable folder.
final class AlertStore: Sendable {
    let path: String
    private let opened = Mutex<DatabaseQueue?>(nil)

    init(stateDirectory: String) {
        path = stateDirectory + "/state.sqlite"
    }

    private func database() throws -> DatabaseQueue {
        try opened.withLock { opened in
            if let opened { return opened }
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1: alerts") { db in
                try db.execute(sql: """
                    CREATE TABLE alert (
                        name TEXT PRIMARY KEY,
                        q TEXT NOT NULL,
                        speaker TEXT,
                        place TEXT,
                        unit TEXT,
                        created_at TEXT NOT NULL
                    );
                    """)
            }
            try migrator.migrate(queue)
            opened = queue
            return queue
        }
    }

    /// Saves `alert`, replacing one of the same name; true when it replaced one.
    func add(_ alert: Alert) throws -> Bool {
        try database().write { db in
            let existed = try Bool.fetchOne(db, sql: "SELECT 1 FROM alert WHERE name = ?", arguments: [alert.name]) ?? false
            try db.execute(sql: "INSERT OR REPLACE INTO alert (name, q, speaker, place, unit, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [alert.name, alert.q, alert.speaker, alert.place, alert.unit, Date.now.ISO8601Format()])
            return existed
        }
    }

    func list() throws -> [Alert] {
        try database().read { db in
            try Row.fetchAll(db, sql: "SELECT name, q, speaker, place, unit FROM alert ORDER BY name").map { row in
                Alert(name: row["name"], q: row["q"], speaker: row["speaker"], place: row["place"], unit: row["unit"])
            }
        }
    }

    /// True when there was such an alert.
    func remove(name: String) throws -> Bool {
        try database().write { db in
            try db.execute(sql: "DELETE FROM alert WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }
}

/// alerts.add, alerts.list and alerts.remove: built into the host, which owns the state
/// directory and the event stream that publishes what alerts find.
enum AlertMethods {
    static let namePattern = "^[A-Za-z0-9_-]{1,64}$"
    static let alertSchema: JSONValue = [
        "type": "object", "required": ["name", "q", "speaker", "place", "unit"],
        "properties": [
            "name": ["type": "string"], "q": ["type": "string"], "speaker": ["type": ["string", "null"]],
            "place": ["type": ["string", "null"]], "unit": ["type": ["string", "null"]],
        ],
    ]
    static let nameSchema: JSONValue = [
        "type": "string", "pattern": .string(namePattern),
        "description": "Letters, digits, _ and -, at most 64: the alert publishes on alert.<name>.",
    ]

    static let all: [MethodInfo] = [
        MethodInfo(
            name: "alerts.add",
            summary: """
                Saves a query as an alert (replacing one of the same name): every meeting ingest adds or updates is \
                searched with it (search.query restricted to that meeting), and the hits are published on the event \
                stream as alert.<name>. A query the search query language refuses is -32602, as search.query answers it.
                """,
            paramsSchema: [
                "type": "object", "additionalProperties": false, "required": ["name", "q"],
                "properties": [
                    "name": nameSchema,
                    "q": ["type": "string", "minLength": 1, "maxLength": 2000, "description": "The query, in the search query language."],
                    "speaker": ["type": "string", "minLength": 1, "maxLength": 200, "description": "Only turns by this person, as search.query's speaker."],
                    "place": ["type": "string", "minLength": 1, "maxLength": 200, "description": "Only meetings whose place contains this text."],
                    "unit": ["type": "string", "enum": ["turn", "sentence", "meeting"], "description": "What a hit is, as search.query's unit (default turn)."],
                ],
            ],
            resultSchema: ["type": "object", "required": ["alert", "replaced"],
                           "properties": ["alert": alertSchema, "replaced": ["type": "boolean"]]]),
        MethodInfo(
            name: "alerts.list", summary: "The saved alerts, by name.",
            paramsSchema: BuiltinMethods.noParams,
            resultSchema: ["type": "object", "required": ["alerts"],
                           "properties": ["alerts": ["type": "array", "items": alertSchema]]]),
        MethodInfo(
            name: "alerts.remove", summary: "Removes an alert; an unknown name is -32004.",
            paramsSchema: [
                "type": "object", "additionalProperties": false, "required": ["name"],
                "properties": ["name": nameSchema],
            ],
            resultSchema: ["type": "object", "required": ["removed"], "properties": ["removed": ["type": "string"]]]),
    ]

    static func handle(_ method: String, _ params: JSONValue, state: ServerState, logger: Logger) throws(MethodError) -> JSONValue {
        let store = state.runtime.alerts
        do {
            switch method {
            case "alerts.add":
                let q = params["q"]?.stringValue ?? ""
                do { _ = try QueryLanguage.parse(q) } catch { throw error.invalidParams }
                // An alert nobody could receive is refused rather than kept silently.
                guard !state.config.eventEndpoints.isEmpty else {
                    throw MethodError(code: ErrorCode.unavailable,
                                      message: "Unavailable: alerts are published on the event stream, and events.endpoints is empty")
                }
                guard state.modules.contains(where: { $0.methods.contains { $0.name == "search.query" } }) else {
                    throw MethodError(code: ErrorCode.unavailable, message: "Unavailable: alerts run search.query, and the search module is not loaded")
                }
                let alert = Alert(name: params["name"]?.stringValue ?? "", q: q, speaker: params["speaker"]?.stringValue,
                                  place: params["place"]?.stringValue, unit: params["unit"]?.stringValue)
                return ["alert": alert.json, "replaced": .bool(try store.add(alert))]
            case "alerts.list":
                return ["alerts": .array(try store.list().map(\.json))]
            case "alerts.remove":
                let name = params["name"]?.stringValue ?? ""
                guard try store.remove(name: name) else { throw MethodError.notFound("alert", id: name) }
                return ["removed": .string(name)]
            default:
                throw MethodError(code: ErrorCode.methodNotFound, message: "Method not found: \(method)")
            }
        } catch let error as MethodError {
            throw error
        } catch {
            // The path and SQLite's words go to the log, not to the client.
            logger.error("alerts: the state database failed", metadata: ["path": "\(store.path)", "error": "\(error)"])
            throw MethodError(code: ErrorCode.unavailable,
                              message: "Unavailable: the alert store cannot be read or written; the daemon's log says why")
        }
    }
}
