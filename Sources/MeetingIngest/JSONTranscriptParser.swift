import Foundation
import MeetingKit

/// QMSum meetings and the project's own JSON form, one meeting per `.json` file
/// (an object, or an array of objects) or one per line of a JSONL file.
enum JSONTranscriptParser {
    /// QMSum if the first object has `meeting_transcripts`, the meetingd form if it has `turns` or `id`.
    static func detect(_ text: Substring) throws -> TranscriptFormat {
        let sample = text.prefix(65_536)
        if sample.contains("\"meeting_transcripts\"") { return .qmsum }
        if sample.contains("\"turns\"") { return .meetingJSON }
        // The keys may come late in a big object: decide on the first parsed document,
        // a line of JSONL or else the whole text.
        let firstLine = text.prefix(while: { $0 != "\n" })
        guard let object = (try? JSONSerialization.jsonObject(with: Data(firstLine.utf8)))
            ?? (try? JSONSerialization.jsonObject(with: Data(text.utf8))) else {
            throw IngestError("invalid or truncated JSON")
        }
        let first = (object as? [Any])?.first ?? object
        guard let keys = (first as? [String: Any]).map({ Set($0.keys) }) else {
            throw IngestError("JSON that is not a meeting: expected an object (or array of objects)")
        }
        if keys.contains("meeting_transcripts") { return .qmsum }
        if keys.contains("turns") || keys.contains("title") { return .meetingJSON }
        throw IngestError("JSON that is neither QMSum (meeting_transcripts) nor a meetingd meeting (id, title, turns)")
    }

    /// `jsonLines` (from a `.jsonl`/`.ndjson` name) numbers every meeting, even a lone one.
    static func parse(_ text: String, stem: String, source: String, jsonLines: Bool) throws -> [Meeting] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        // A whole-document parse first: a pretty-printed `.json` spans lines.
        if !jsonLines || !trimmed.contains("\n"), let whole = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) {
            let objects = (whole as? [Any]) ?? [whole]
            return try objects.enumerated().map { position, object in
                let id = objects.count == 1 && !(whole is [Any]) && !jsonLines ? stem : "\(stem)-\(position)"
                return try meeting(from: object, defaultID: id, source: source, where: objects.count == 1 ? "" : "item \(position): ")
            }
        }
        let lines = trimmed.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > 1 || jsonLines else { throw IngestError("invalid or truncated JSON") }
        var meetings: [Meeting] = []
        for (lineIndex, line) in lines.enumerated() where !line.allSatisfy(\.isWhitespace) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) else {
                throw IngestError("line \(lineIndex + 1): invalid or truncated JSON")
            }
            meetings.append(try meeting(from: object, defaultID: "\(stem)-\(meetings.count)", source: source,
                                        where: "line \(lineIndex + 1): "))
        }
        return meetings
    }

    private static func meeting(from object: Any, defaultID: String, source: String, where location: String) throws -> Meeting {
        guard var fields = object as? [String: Any] else {
            throw IngestError("\(location)expected a JSON object for a meeting")
        }
        if let transcript = fields["meeting_transcripts"] {
            return try qmsumMeeting(transcript, id: defaultID, source: source, location: location)
        }
        if fields["id"] == nil { fields["id"] = defaultID }
        do {
            let data = try JSONSerialization.data(withJSONObject: fields)
            var meeting = try JSONDecoder().decode(Meeting.self, from: data)
            if meeting.source == nil { meeting.source = source }
            return meeting
        } catch let error as DecodingError {
            throw IngestError("\(location)not a meetingd meeting: \(describe(error))")
        }
    }

    /// QMSum turns keep their order and count, so turn i is QMSum's span index i.
    private static func qmsumMeeting(_ transcript: Any, id: String, source: String, location: String) throws -> Meeting {
        guard let entries = transcript as? [[String: Any]] else {
            throw IngestError("\(location)meeting_transcripts is not a list of {speaker, content}")
        }
        var turns: [Turn] = []
        turns.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            guard let content = entry["content"] as? String, let speaker = entry["speaker"] as? String else {
                throw IngestError("\(location)turn \(index) lacks a speaker or content string")
            }
            let name = speaker.trimmingCharacters(in: .whitespaces)
            turns.append(Turn(index: index, speaker: name.isEmpty ? nil : name,
                              paragraphs: content.components(separatedBy: "\n")))
        }
        guard !turns.isEmpty else { throw IngestError("\(location)meeting_transcripts is empty") }
        return Meeting(id: id, title: id, source: source, turns: turns)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "" : " at " + keys.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing \"\(key.stringValue)\"\(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(context.debugDescription)\(path(context))"
        @unknown default: return "\(error)"
        }
    }
}
