import Foundation
import MeetingKit

/// QMSum meetings and the project's own JSON form, one meeting per `.json` file
/// (an object, or an array of objects) or one per line of a JSONL file.
enum JSONTranscriptParser {
    /// QMSum if the first object has `meeting_transcripts`, the meetingd form if it has `turns` or `id`.
    static func detect(_ text: Substring) throws -> TranscriptFormat {
        if containsBytes(text, #""meeting_transcripts""#, within: 65_536) { return .qmsum }
        if containsBytes(text, #""turns""#, within: 65_536) { return .meetingJSON }
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

    /// A plain byte search: the generic `firstRange(of:)` is slow on UTF-8 views.
    private static func containsBytes(_ text: Substring, _ needle: String, within limit: Int) -> Bool {
        var text = text
        let pattern = Array(needle.utf8)
        return text.withUTF8 { whole in
            let haystack = UnsafeBufferPointer(rebasing: whole.prefix(limit))
            guard haystack.count >= pattern.count else { return false }
            var start = 0
            while start <= haystack.count - pattern.count {
                if haystack[start] == pattern[0] {
                    var matched = 1
                    while matched < pattern.count, haystack[start + matched] == pattern[matched] { matched += 1 }
                    if matched == pattern.count { return true }
                }
                start += 1
            }
            return false
        }
    }

    /// One meeting from one JSON document (a JSONL line, an array element, a whole file);
    /// `location` ("line 7: ") starts the message of a decoding error.
    static func decode(_ data: Data, format: TranscriptFormat, defaultID: String, source: String, location: String,
                       decoder: JSONDecoder = JSONDecoder()) throws -> Meeting {
        decoder.userInfo[Meeting.defaultIDKey] = defaultID
        do {
            if format == .qmsum {
                return try qmsumMeeting(decoder.decode(QMSumMeeting.self, from: data), id: defaultID, source: source)
            }
            var meeting = try decoder.decode(Meeting.self, from: data)
            if meeting.source == nil { meeting.source = source }
            return meeting
        } catch let error as DecodingError {
            throw IngestError(location + describe(error))
        }
    }

    /// `jsonLines` (from a `.jsonl`/`.ndjson` name) numbers every meeting, even a lone one.
    static func parse(_ text: String, format: TranscriptFormat, stem: String, source: String, jsonLines: Bool) throws -> [Meeting] {
        let decoder = JSONDecoder()
        func decode(_ data: Data, defaultID: String, location: String) throws -> Meeting {
            try Self.decode(data, format: format, defaultID: defaultID, source: source, location: location, decoder: decoder)
        }

        let body = text.drop(while: \.isWhitespace)
        if body.hasPrefix("[") {
            // An array of meetings: each element decoded on its own, to number the ids.
            guard let elements = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [Any] else {
                throw IngestError("invalid or truncated JSON")
            }
            return try elements.enumerated().map { position, element in
                guard JSONSerialization.isValidJSONObject(element) else {
                    throw IngestError("item \(position): expected a JSON object for a meeting")
                }
                return try decode(try JSONSerialization.data(withJSONObject: element), defaultID: "\(stem)-\(position)",
                                  location: "item \(position): ")
            }
        }
        if !jsonLines {
            do {
                return [try decode(Data(body.utf8), defaultID: stem, location: "")]
            } catch let error as IngestError where !body.contains("\n") || !error.description.hasPrefix("invalid") {
                throw error
            } catch {
                // Several lines that are not one document: read it as JSONL.
            }
        }
        var meetings: [Meeting] = []
        for (lineIndex, line) in body.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            meetings.append(try decode(Data(line.utf8), defaultID: "\(stem)-\(meetings.count)", location: "line \(lineIndex + 1): "))
        }
        return meetings
    }

    private struct QMSumMeeting: Decodable {
        struct Entry: Decodable {
            let speaker: String
            let content: String
        }
        struct Topic: Decodable {
            let topic: String
            /// Inclusive turn ranges, as strings: [["0", "134"], ...].
            let spans: [[String]]
            enum CodingKeys: String, CodingKey { case topic, spans = "relevant_text_span" }
        }
        let transcript: [Entry]
        let topics: [Topic]?
        enum CodingKeys: String, CodingKey { case transcript = "meeting_transcripts", topics = "topic_list" }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            transcript = try container.decode([Entry].self, forKey: .transcript)
            // The topic list only adds sections: one of another shape leaves the transcript readable.
            topics = try? container.decodeIfPresent([Topic].self, forKey: .topics)
        }
    }

    /// QMSum turns keep their order and count, so turn i is QMSum's span index i. The
    /// topic list is the meeting's agenda: each topic is a section, and a turn belongs to
    /// the first topic whose spans hold it. Spans that are not numbers or fall outside the
    /// transcript are skipped.
    private static func qmsumMeeting(_ qmsum: QMSumMeeting, id: String, source: String) throws -> Meeting {
        guard !qmsum.transcript.isEmpty else { throw IngestError("meeting_transcripts is empty") }
        var turns = qmsum.transcript.enumerated().map { index, entry in
            let name = entry.speaker.trimmingCharacters(in: .whitespaces)
            return Turn(index: index, speaker: name.isEmpty ? nil : name, paragraphs: entry.content.components(separatedBy: "\n"))
        }
        var sections: [Section] = []
        for topic in qmsum.topics ?? [] {
            let title = topic.topic.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !title.isEmpty else { continue }
            let section = sections.count
            var holds = false
            for span in topic.spans {
                guard span.count == 2, let first = Int(span[0]).map({ max($0, 0) }),
                      let last = Int(span[1]).map({ min($0, turns.count - 1) }), first <= last else { continue }
                for index in first...last where turns[index].section == nil {
                    turns[index].section = section
                    holds = true
                }
            }
            if holds { sections.append(Section(title: title)) }
        }
        return Meeting(id: id, title: id, source: source, sections: sections, turns: turns)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "" : " at " + keys.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty: return "invalid or truncated JSON"
        case .keyNotFound(let key, let context): return "missing \"\(key.stringValue)\"\(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(context.debugDescription)\(path(context))"
        @unknown default: return "\(error)"
        }
    }
}
