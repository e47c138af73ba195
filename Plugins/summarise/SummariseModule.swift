// The summarise module: extractive summaries of meetings.

import MeetingKit

final class SummariseModule: MeetingdModule {
    static let name = "summarise"
    static let version = "0.1.0"
    static let methods = [
        MethodSpec(
            "summarise.meeting",
            summary: "An extractive summary of a meeting within a word budget, each sentence cited by turn and offsets.",
            params: [
                "type": "object", "additionalProperties": false, "required": ["meeting"],
                "properties": [
                    "meeting": ["type": "string", "minLength": 1, "description": "The meeting id."],
                    "max_words": ["type": "integer", "minimum": 10, "maximum": 2000, "description": "Word budget (default 100)."],
                ],
            ],
            result: ["type": "object", "required": ["summary", "sentences"]]),
    ]

    private let corpus: Corpus

    init(context: ModuleContext) throws {
        corpus = try Corpus.openReadOnly(path: context.corpusPath)
    }

    func handle(method: String, params: JSONValue) throws(MethodError) -> JSONValue {
        switch method {
        case "summarise.meeting":
            return try summarise(meeting: params["meeting"]?.stringValue ?? "", maxWords: params["max_words"]?.intValue ?? 100)
        default: throw MethodError(code: ErrorCode.methodNotFound, message: "summarise has no method \(method)")
        }
    }

    private struct Candidate {
        let text: String
        let turn: Int
        let speaker: String?
        let start: Int
        let end: Int
        let words: [String]
    }

    /// Scores sentences by the mean corpus-free frequency of their content words, then
    /// takes the best in transcript order within the budget, never cutting one.
    private func summarise(meeting id: String, maxWords: Int) throws(MethodError) -> JSONValue {
        let candidates: [Candidate]
        do {
            candidates = try corpus.reader.read { db -> [Candidate]? in
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM meeting WHERE id = ?", arguments: [id]) != nil else { return nil }
                return try Row.fetchAll(db, sql: """
                    SELECT t.idx, p.name AS speaker, s.start_offset, s.end_offset,
                           substr(t.text, s.start_offset + 1, s.end_offset - s.start_offset) AS text
                    FROM turn t JOIN sentence s ON s.turn_id = t.id LEFT JOIN person p ON p.id = t.person_id
                    WHERE t.meeting_id = ? ORDER BY t.idx, s.ordinal
                    """, arguments: [id]).map { row in
                    let text: String = row["text"]
                    return Candidate(text: text, turn: row["idx"], speaker: row["speaker"], start: row["start_offset"],
                                     end: row["end_offset"], words: text.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init))
                }
            } ?? { throw MethodError.notFound("meeting", id: id) }()
        } catch let error as MethodError {
            throw error
        } catch {
            throw MethodError(code: ErrorCode.internalError, message: "corpus read failed: \(error)")
        }
        var frequency: [String: Int] = [:]
        for candidate in candidates { for word in candidate.words where word.count > 3 { frequency[word, default: 0] += 1 } }
        let scored = candidates.indices.filter { candidates[$0].words.count >= 5 }.map { index -> (Int, Double) in
            let content = candidates[index].words.filter { $0.count > 3 }
            let score = content.reduce(0.0) { $0 + Double(frequency[$1] ?? 0) } / Double(max(content.count, 1))
            return (index, score)
        }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        var chosen: [Int] = []
        var words = 0
        for (index, _) in scored where words + candidates[index].words.count <= maxWords {
            chosen.append(index)
            words += candidates[index].words.count
        }
        chosen.sort()
        let sentences: [JSONValue] = chosen.map { index in
            let c = candidates[index]
            return ["text": .string(c.text), "turn": JSONValue(c.turn), "speaker": JSONValue(c.speaker),
                    "start": JSONValue(c.start), "end": JSONValue(c.end)]
        }
        return ["summary": .string(chosen.map { candidates[$0].text }.joined(separator: " ")),
                "words": JSONValue(words), "sentences": .array(sentences)]
    }
}

@_cdecl("meetingd_module_entry")
public func meetingdModuleEntry() -> UnsafeRawPointer { exportModule(SummariseModule.self) }
