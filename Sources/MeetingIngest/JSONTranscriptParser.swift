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
        let document = try (try? parse(firstLine)) ?? parse(text)
        guard let keys = (document.arrayValue?.first ?? document).objectValue.map({ Set($0.keys) }) else {
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

    /// One JSON document (a JSONL line, a whole file), parsed by MeetingKit's parser: a
    /// syntax error is "invalid or truncated JSON", with the parser's reason and byte offset.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        do throws(JSONParseError) { return try JSONValue.parse(bytes) } catch {
            throw IngestError("invalid or truncated JSON (\(error))")
        }
    }

    static func parse(_ text: Substring) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { try parse(UnsafeRawBufferPointer($0)) }
    }

    /// One meeting from one parsed JSON document (a JSONL line, an array element, a whole
    /// file); `location` ("item 7: ") starts the message of an error in its shape.
    static func meeting(_ document: JSONValue, format: TranscriptFormat, defaultID: String, source: String,
                        location: String) throws -> Meeting {
        do {
            if format == .qmsum { return try qmsumMeeting(QMSumMeeting(json: document), id: defaultID, source: source) }
            var meeting = try Meeting(json: document, defaultID: defaultID)
            if meeting.source == nil { meeting.source = source }
            return meeting
        } catch let error as JSONShapeError {
            throw IngestError(location + error.description)
        }
    }

    /// `jsonLines` (from a `.jsonl`/`.ndjson` name) numbers every meeting, even a lone one.
    static func parse(_ text: String, format: TranscriptFormat, stem: String, source: String, jsonLines: Bool) throws -> [Meeting] {
        let body = text.drop(while: \.isWhitespace)
        if body.hasPrefix("[") {
            // An array of meetings: each element read on its own, to number the ids.
            // Starting with "[", it parses as an array or not at all.
            let elements = try parse(body).arrayValue ?? []
            return try elements.enumerated().map { position, element in
                guard element.objectValue != nil else {
                    throw IngestError("item \(position): expected a JSON object for a meeting")
                }
                return try meeting(element, format: format, defaultID: "\(stem)-\(position)", source: source,
                                   location: "item \(position): ")
            }
        }
        if !jsonLines {
            do {
                return [try meeting(parse(body), format: format, defaultID: stem, source: source, location: "")]
            } catch let error as IngestError where !body.contains("\n") || !error.description.hasPrefix("invalid") {
                throw error
            } catch {
                // Several lines that are not one document are JSONL when the first line is a document
                // of its own; else the file was meant as one, and its own error says where it breaks.
                let firstLine = body.split(separator: "\n", maxSplits: 1).first ?? body
                guard (try? parse(firstLine)) != nil else { throw error }
            }
        }
        var meetings: [Meeting] = []
        for (lineIndex, line) in body.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            do {
                guard let read = try meeting(line: line, format: format, defaultID: "\(stem)-\(meetings.count)",
                                             source: source) else { continue }
                meetings.append(read.meeting)
            } catch {
                throw IngestError("line \(lineIndex + 1): \(error)")
            }
        }
        return meetings
    }

    /// One line of JSONL, as a JSON file of a meeting a line and a `.jsonl` file read a line
    /// at a time both read it: nil for a blank line. `format` is the file's, or nil for its
    /// first meeting, whose line then decides it.
    static func meeting(line: Substring, format: TranscriptFormat?, defaultID: String,
                        source: String) throws -> (meeting: Meeting, format: TranscriptFormat)? {
        if line.allSatisfy(\.isWhitespace) { return nil }
        let lineFormat = try format ?? detect(line)
        return (try meeting(parse(line), format: lineFormat, defaultID: defaultID, source: source, location: ""), lineFormat)
    }

    private struct QMSumMeeting {
        struct Entry: JSONReadable {
            let speaker: String
            let content: String
            init(json: JSONValue) throws(JSONShapeError) {
                let object = try json.object()
                speaker = try object.required("speaker")
                content = try object.required("content")
            }
        }
        struct Topic: JSONReadable {
            let topic: String
            /// Inclusive turn ranges, as strings: [["0", "134"], ...].
            let spans: [[String]]
            init(json: JSONValue) throws(JSONShapeError) {
                let object = try json.object()
                topic = try object.required("topic")
                spans = try object.required("relevant_text_span")
            }
        }
        let transcript: [Entry]
        let topics: [Topic]?

        init(json: JSONValue) throws(JSONShapeError) {
            let object = try json.object()
            transcript = try object.required("meeting_transcripts")
            // The topic list only adds sections: one of another shape leaves the transcript readable.
            topics = try? object.optional("topic_list")
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
}
