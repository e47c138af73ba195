import Foundation
import MeetingKit

/// Plain transcripts of `Speaker: text` lines, optionally stamped `[hh:mm:ss]`;
/// a line without a speaker is a new paragraph of the current turn.
enum PlainTranscriptParser {
    // Regex is immutable but not marked Sendable, hence nonisolated(unsafe).
    nonisolated(unsafe) private static let speakerLine = #/^(?:\[?(\d{1,2}:\d{2}(?::\d{2})?)\]?\s+)?([\p{L}\p{N}][\p{L}\p{N}'’.\-() ]{0,60}?):\s+(.*)$/#

    private static func speakerLineParts(_ line: Substring) -> (time: Double?, speaker: String, text: String)? {
        guard let match = try? speakerLine.wholeMatch(in: line) else { return nil }
        let speaker = match.output.2.trimmingCharacters(in: .whitespaces)
        guard speaker.split(separator: " ").count <= 6, !speaker.hasSuffix(".") else { return nil }
        let time = match.output.1.map { stamp in
            stamp.split(separator: ":").reduce(0.0) { $0 * 60 + (Double($1) ?? 0) }
        }
        return (time, speaker, String(match.output.3))
    }

    /// The first line opens a turn and most lines are speaker lines.
    static func looksLikePlainTranscript(_ text: Substring) -> Bool {
        let lines = text.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }.prefix(200)
        guard let first = lines.first, speakerLineParts(first) != nil else { return false }
        return lines.filter { speakerLineParts($0) != nil }.count * 2 >= lines.count
    }

    static func parse(_ text: String, id: String, source: String) throws -> Meeting {
        var turns: [Turn] = []
        for (number, rawLine) in text.split(separator: "\n").enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if let parts = speakerLineParts(line[...]) {
                if let last = turns.indices.last, let time = parts.time, turns[last].start != nil { turns[last].end = time }
                turns.append(Turn(index: turns.count, speaker: parts.speaker, paragraphs: [parts.text], start: parts.time))
            } else if let last = turns.indices.last {
                turns[last].paragraphs.append(line)
            } else {
                throw IngestError("line \(number + 1): text before any `Speaker:` line")
            }
        }
        guard !turns.isEmpty else { throw IngestError("no `Speaker: text` lines") }
        return Meeting(id: id, title: id, source: source, turns: turns)
    }
}
