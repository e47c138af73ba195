// The lookup module: meetings, people, turns and documents by key.

import MeetingKit

final class LookupModule: MeetingdModule {
    static let name = "lookup"
    static let version = "0.1.0"
    static let methods = [
        MethodSpec(
            "lookup.meeting",
            summary: "Everything the corpus knows about one meeting except the turn texts.",
            params: [
                "type": "object", "additionalProperties": false, "required": ["id"],
                "properties": ["id": ["type": "string", "minLength": 1, "description": "The meeting id."]],
            ],
            result: ["type": "object", "required": ["id", "title"]]),
    ]

    private let corpus: Corpus

    init(context: ModuleContext) throws {
        corpus = try Corpus.openReadOnly(path: context.corpusPath)
    }

    func handle(method: String, params: JSONValue) throws(MethodError) -> JSONValue {
        switch method {
        case "lookup.meeting": return try meeting(id: params["id"]?.stringValue ?? "")
        default: throw MethodError(code: ErrorCode.methodNotFound, message: "lookup has no method \(method)")
        }
    }

    private func meeting(id: String) throws(MethodError) -> JSONValue {
        let found: Meeting?
        do { found = try corpus.meeting(id: id) } catch {
            throw MethodError(code: ErrorCode.internalError, message: "corpus read failed: \(error)")
        }
        guard let meeting = found else { throw MethodError.notFound("meeting", id: id) }
        var speakers: [String: (turns: Int, words: Int)] = [:]
        var order: [String] = []
        for turn in meeting.turns {
            let speaker = turn.speaker ?? "(unknown)"
            if speakers[speaker] == nil { order.append(speaker) }
            speakers[speaker, default: (0, 0)].turns += 1
            speakers[speaker]!.words += turn.paragraphs.reduce(0) { $0 + $1.split(whereSeparator: \.isWhitespace).count }
        }
        var answer = (try? JSONValue(encoding: meeting).objectValue) ?? [:]
        answer["turns"] = nil
        answer["turn_count"] = JSONValue(meeting.turns.count)
        answer["speakers"] = .array(order.map { name in
            ["name": .string(name), "turns": JSONValue(speakers[name]!.turns), "words": JSONValue(speakers[name]!.words)]
        })
        answer["words"] = JSONValue(speakers.values.reduce(0) { $0 + $1.words })
        return .object(answer)
    }
}

@_cdecl("meetingd_module_entry")
public func meetingdModuleEntry() -> UnsafeRawPointer { exportModule(LookupModule.self) }
