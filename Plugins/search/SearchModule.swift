// The search module: ranked full-text search over the turns of the corpus.

import MeetingKit

final class SearchModule: MeetingdModule {
    static let name = "search"
    static let version = "0.1.0"
    static let maxLimit = 100
    static let methods = [
        MethodSpec(
            "search.query",
            summary: "BM25-ranked turns matching every word of q, with highlighted snippets.",
            params: [
                "type": "object", "additionalProperties": false, "required": ["q"],
                "properties": [
                    "q": ["type": "string", "minLength": 1, "maxLength": 1000, "description": "Words to find (all must match)."],
                    "meeting": ["type": "string", "minLength": 1, "description": "Search only this meeting."],
                    "limit": ["type": "integer", "minimum": 0, "maximum": .int(Int64(maxLimit)), "description": "Hits to return (default 10)."],
                ],
            ],
            result: ["type": "object", "required": ["total", "hits"]]),
    ]

    private let corpus: Corpus

    init(context: ModuleContext) throws {
        corpus = try Corpus.openReadOnly(path: context.corpusPath)
    }

    func handle(method: String, params: JSONValue) throws(MethodError) -> JSONValue {
        switch method {
        case "search.query":
            return try query(params["q"]?.stringValue ?? "", meeting: params["meeting"]?.stringValue,
                             limit: params["limit"]?.intValue ?? 10)
        default: throw MethodError(code: ErrorCode.methodNotFound, message: "search has no method \(method)")
        }
    }

    /// Each word becomes a quoted FTS5 string, so user text is never read as query syntax.
    static func matchExpression(_ q: String) -> String? {
        let words = q.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map { "\"\($0)\"" }
        return words.isEmpty ? nil : words.joined(separator: " ")
    }

    private func query(_ q: String, meeting: String?, limit: Int) throws(MethodError) -> JSONValue {
        guard let match = Self.matchExpression(q) else {
            throw MethodError.invalidParams(field: "q", reason: "has no words to search for")
        }
        let table = CorpusSchema.ftsTable
        let filter = meeting == nil ? "" : "AND meeting_id = :meeting"
        var arguments: StatementArguments = ["match": match, "limit": limit]
        if let meeting { arguments += ["meeting": meeting] }
        do {
            return try corpus.reader.read { db in
                let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table) WHERE \(table) MATCH :match \(filter)",
                                             arguments: arguments) ?? 0
                let rows = try Row.fetchAll(db, sql: """
                    SELECT f.meeting_id, m.title, m.date, t.idx, f.speaker, bm25(\(table)) AS score,
                           snippet(\(table), 0, '[', ']', '…', 16) AS snippet
                    FROM \(table) f
                    JOIN turn t ON t.id = f.rowid
                    JOIN meeting m ON m.id = f.meeting_id
                    WHERE \(table) MATCH :match \(filter)
                    ORDER BY rank LIMIT :limit
                    """, arguments: arguments)
                let hits: [JSONValue] = rows.map { row in
                    [
                        "meeting": .string(row["meeting_id"]), "title": .string(row["title"]),
                        "date": JSONValue(row["date"] as String?), "turn": JSONValue(row["idx"] as Int),
                        "speaker": JSONValue(row["speaker"] as String?),
                        "score": .double(-(row["score"] as Double)), "snippet": .string(row["snippet"]),
                    ]
                }
                return ["total": JSONValue(total), "hits": .array(hits)]
            }
        } catch {
            throw MethodError(code: ErrorCode.internalError, message: "search failed: \(error)")
        }
    }
}

@_cdecl("meetingd_module_entry")
public func meetingdModuleEntry() -> UnsafeRawPointer { exportModule(SearchModule.self) }
