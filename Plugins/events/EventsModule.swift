// The events module: the corpus's change log read back, for subscribers to the daemon's
// event stream that connected late or missed messages (the zguide's Clone pattern:
// the stream for what is new, this method for what was missed).

import MeetingKit

final class EventsModule: MeetingdModule {
    static let name = "events"
    static let version = "1.0.0"
    static let maxLimit = 1000
    static let methods = [
        MethodSpec(
            "events.since",
            summary: """
                The change-log events after sequence number `seq` (0 for all that are kept), oldest first: the same \
                bodies the event stream publishes. `last` is the newest sequence number; a `seq` older than the log \
                keeps is -32602 with `data.first`: resync from lookup.meetings.
                """,
            params: [
                "type": "object", "additionalProperties": false, "required": ["seq"],
                "properties": [
                    "seq": ["type": "integer", "minimum": 0, "description": "The last sequence number the subscriber has."],
                    "limit": ["type": "integer", "minimum": 1, "maximum": .int(Int64(maxLimit)), "description": "At most this many events (default 1000)."],
                ],
            ],
            result: [
                "type": "object", "required": ["events", "last"],
                "properties": [
                    "events": ["type": "array", "items": [
                        "type": "object", "required": ["seq", "topic", "meeting", "source", "at"],
                        "properties": [
                            "seq": ["type": "integer"], "topic": ["type": "string", "enum": ["meeting.added", "meeting.updated", "meeting.removed"]],
                            "meeting": ["type": "string"], "source": ["type": ["string", "null"]], "at": ["type": "string"],
                        ],
                    ]],
                    "last": ["type": "integer", "description": "The newest sequence number in the log (0 when empty)."],
                ],
            ]),
    ]

    private let corpus: Corpus

    init(context: ModuleContext) throws {
        corpus = try Corpus.openReadOnly(path: context.corpusPath)
    }

    func handle(method: String, params: JSONValue) throws(MethodError) -> JSONValue {
        guard method == "events.since" else {
            throw MethodError(code: ErrorCode.methodNotFound, message: "events has no method \(method)")
        }
        let seq = params["seq"]?.intValue ?? 0
        let limit = params["limit"]?.intValue ?? Self.maxLimit
        do {
            return try corpus.reader.read { db -> JSONValue in
                let last = try ChangeLog.lastSeq(db)
                // Events after seq are all kept only if seq + 1 is the oldest kept or newer.
                if let first = try ChangeLog.firstSeq(db), Int64(seq) + 1 < first {
                    throw MethodError(code: ErrorCode.invalidParams,
                                      message: "Invalid params: seq: events after \(seq) are no longer kept (the oldest is \(first)): resync from lookup.meetings",
                                      data: ["field": "seq", "first": .int(first), "last": .int(last)])
                }
                let events = try ChangeLog.events(after: Int64(seq), limit: limit, db)
                return ["events": .array(events.map(\.json)), "last": .int(last)]
            }
        } catch let error as MethodError {
            throw error
        } catch {
            throw .corpusFailure(error, in: Self.name)
        }
    }
}

@_cdecl("meetingd_module_entry")
public func meetingdModuleEntry() -> UnsafeRawPointer { exportModule(EventsModule.self) }
