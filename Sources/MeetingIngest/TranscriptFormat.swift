import Foundation
import MeetingKit

/// Why one file could not be ingested; it changes nothing in the corpus.
public struct IngestError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

public enum TranscriptFormat: String, Sendable, CaseIterable {
    case officialPage = "official-page"
    case qmsum
    case meetingJSON = "meetingd-json"
    case webVTT = "webvtt"
    case srt
    case plain

    /// The format of `text`, decided from its content; the extension only breaks ties
    /// between JSON and JSONL.
    static func detect(_ text: Substring) throws -> TranscriptFormat {
        let start = text.drop(while: { $0.isWhitespace })
        if start.hasPrefix("WEBVTT") { return .webVTT }
        // "[00:00:05] Name: text" is a stamped plain transcript, not a JSON array.
        if start.hasPrefix("{") || (start.hasPrefix("[") && !PlainTranscriptParser.looksLikePlainTranscript(start)) {
            return try JSONTranscriptParser.detect(start)
        }
        let lines = start.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false)
        if lines.count >= 2, lines[0].trimmingCharacters(in: .whitespaces).allSatisfy(\.isNumber),
           lines[1].contains("-->") {
            return .srt
        }
        if OfficialPageParser.looksLikeOfficialPage(start) { return .officialPage }
        if PlainTranscriptParser.looksLikePlainTranscript(start) { return .plain }
        throw IngestError("not a transcript: no known format (official page, QMSum, meetingd JSON, WebVTT, SRT, `Speaker: text` lines)")
    }
}

/// Reads one source file into meetings.
public enum TranscriptParser {
    public struct Parsed: Sendable {
        public let format: TranscriptFormat
        public let meetings: [Meeting]
    }

    /// A byte search with memchr: Data's and String's own walk a byte at a time.
    static func contains(_ data: Data, byte: UInt8) -> Bool {
        data.withUnsafeBytes { contains($0, byte: byte) }
    }

    static func contains(_ bytes: UnsafeRawBufferPointer, byte: UInt8) -> Bool {
        bytes.baseAddress.map { memchr($0, Int32(byte), bytes.count) != nil } ?? false
    }

    /// A file's bytes as the text every reader gets: UTF-8 without NUL or BOM, lines ending in "\n".
    static func text(of data: Data) throws -> String {
        if data.isEmpty { throw IngestError("empty file") }
        if contains(data, byte: 0) {
            throw IngestError("binary file (contains NUL bytes), not a transcript")
        }
        guard var text = String(validating: data, as: UTF8.self) else {
            throw IngestError("not valid UTF-8 text")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        if contains(data, byte: UInt8(ascii: "\r")) {
            text = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        }
        return text
    }

    /// `stem` gives meeting ids (file name without extension); `path` is the default `source`.
    public static func parse(_ data: Data, stem: String, path: String) throws -> Parsed {
        let text = try text(of: data)
        let format = try TranscriptFormat.detect(text[...])
        let meetings: [Meeting]
        switch format {
        case .officialPage: meetings = [try OfficialPageParser.parse(text, id: stem, source: path)]
        case .qmsum, .meetingJSON:
            meetings = try JSONTranscriptParser.parse(text, format: format, stem: stem, source: path,
                                                      jsonLines: isJSONLines(path: path))
        case .webVTT: meetings = [try CaptionParser.parseWebVTT(text, id: stem, source: path)]
        case .srt: meetings = [try CaptionParser.parseSRT(text, id: stem, source: path)]
        case .plain: meetings = [try PlainTranscriptParser.parse(text, id: stem, source: path)]
        }
        if meetings.isEmpty { throw IngestError("no meetings in the file") }
        try refuseUnsafeIDs(meetings)
        return Parsed(format: format, meetings: meetings)
    }

    /// JSONL by its name: each line is a meeting, and the ingester reads it a line at a time.
    static func isJSONLines(path: String) -> Bool { path.hasSuffix(".jsonl") || path.hasSuffix(".ndjson") }

    /// An id is shown in terminals and logs and typed back by people: refused, not mangled.
    static func refuseUnsafeIDs(_ meetings: [Meeting]) throws {
        if let meeting = meetings.first(where: { $0.id.hasUnsafeControls }) {
            throw IngestError("the meeting id '\(meeting.id.escapingControls)' holds control characters; "
                              + "rename the file (ids come from file names) or fix the id in it")
        }
    }
}
