import Foundation
import MeetingKit

/// WebVTT and SRT captions as meeting tools export them. Speakers come from `<v Name>`
/// voice tags or a `Name:` prefix; a cue without one continues the previous speaker;
/// consecutive cues of one speaker make one turn spanning their times.
enum CaptionParser {
    private struct Cue {
        var start: Double
        var end: Double
        var speaker: String?
        var text: String
    }

    static func parseWebVTT(_ text: String, id: String, source: String) throws -> Meeting {
        let blocks = blocks(of: text)
        guard let header = blocks.first, header.lines[0].hasPrefix("WEBVTT") else {
            throw IngestError("WebVTT without the WEBVTT header")
        }
        var cues: [Cue] = []
        for block in blocks.dropFirst() {
            let first = block.lines[0]
            if first.hasPrefix("NOTE") || first == "STYLE" || first.hasPrefix("REGION") { continue }
            guard let timingLine = block.lines.firstIndex(where: { $0.contains("-->") }), timingLine <= 1 else {
                throw IngestError("line \(block.lineNumber): a cue without a `start --> end` timing line")
            }
            cues.append(try cue(block, timingLine: timingLine, decimalSeparator: "."))
        }
        return try meeting(from: cues, id: id, source: source)
    }

    static func parseSRT(_ text: String, id: String, source: String) throws -> Meeting {
        var cues: [Cue] = []
        for block in blocks(of: text) {
            guard block.lines[0].allSatisfy(\.isNumber) else {
                throw IngestError("line \(block.lineNumber): expected a cue number, found \"\(block.lines[0].prefix(40))\"")
            }
            guard block.lines.count >= 2, block.lines[1].contains("-->") else {
                throw IngestError("line \(block.lineNumber): cue \(block.lines[0]) has no timing line (truncated?)")
            }
            cues.append(try cue(block, timingLine: 1, decimalSeparator: ","))
        }
        return try meeting(from: cues, id: id, source: source)
    }

    private struct Block {
        var lineNumber: Int
        var lines: [String]
    }

    private static func blocks(of text: String) -> [Block] {
        var blocks: [Block] = []
        var current: Block?
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                if let block = current { blocks.append(block) }
                current = nil
            } else if current == nil {
                current = Block(lineNumber: number + 1, lines: [trimmed])
            } else {
                current!.lines.append(trimmed)
            }
        }
        if let block = current { blocks.append(block) }
        return blocks
    }

    private static func cue(_ block: Block, timingLine: Int, decimalSeparator: Character) throws -> Cue {
        let timing = block.lines[timingLine].components(separatedBy: "-->")
        let lineNumber = block.lineNumber + timingLine
        guard timing.count == 2,
              let start = seconds(timing[0].trimmingCharacters(in: .whitespaces), decimalSeparator),
              let end = seconds(timing[1].trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? "",
                                decimalSeparator)
        else { throw IngestError("line \(lineNumber): bad cue timing \"\(block.lines[timingLine].prefix(60))\"") }
        guard end >= start else { throw IngestError("line \(lineNumber): cue ends before it starts") }
        let textLines = block.lines[(timingLine + 1)...]
        guard !textLines.isEmpty else {
            throw IngestError("line \(lineNumber): cue without text (truncated?)")
        }
        var speaker: String?
        var text = textLines.joined(separator: " ")
        if let voice = text.firstMatch(of: #/<v(?:\.[^\s>]*)?\s+([^>]+)>/#) {
            speaker = voice.output.1.trimmingCharacters(in: .whitespaces)
        }
        text = decodeEntities(text.replacing(#/<[^>]*>/#, with: "").replacing(#/\{\\[^}]*\}/#, with: ""))
            .trimmingCharacters(in: .whitespaces)
        if speaker == nil, let prefix = text.firstMatch(of: #/^(\p{Lu}[\p{L}\p{N}'’.\- ]{0,40}?):\s+/#) {
            let name = String(prefix.output.1)
            if name.split(separator: " ").count <= 4 {
                speaker = name
                text.removeSubrange(prefix.range)
            }
        }
        return Cue(start: start, end: end, speaker: speaker, text: text)
    }

    /// `hh:mm:ss.ttt` or `mm:ss.ttt` (SRT writes `,` for the decimal point).
    private static func seconds(_ text: String, _ decimalSeparator: Character) -> Double? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count) else { return nil }
        let fraction = parts.last!.split(separator: decimalSeparator, omittingEmptySubsequences: false)
        guard fraction.count == 2, fraction[1].count == 3, let milliseconds = Int(fraction[1]),
              let secondsPart = Int(fraction[0]), secondsPart < 60, fraction[0].count == 2 else { return nil }
        // Counted in Double: "888888888888888800:00:03,000" would overflow an Int.
        var total = 0.0
        for part in parts.dropLast() {
            guard let value = Int(part), part.allSatisfy(\.isNumber) else { return nil }
            total = total * 60 + Double(value)
        }
        return total * 60 + Double(secondsPart) + Double(milliseconds) / 1000
    }

    private static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&nbsp;", with: " ").replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    private static func meeting(from cues: [Cue], id: String, source: String) throws -> Meeting {
        guard !cues.isEmpty else { throw IngestError("captions without any cue") }
        var turns: [Turn] = []
        var speaker: String?
        for cue in cues {
            let cueSpeaker = cue.speaker ?? speaker
            if let last = turns.indices.last, turns[last].speaker == cueSpeaker {
                turns[last].paragraphs[0] += turns[last].paragraphs[0].isEmpty ? cue.text : " " + cue.text
                turns[last].end = cue.end
            } else {
                turns.append(Turn(index: turns.count, speaker: cueSpeaker, paragraphs: [cue.text], start: cue.start, end: cue.end))
            }
            speaker = cueSpeaker
        }
        return Meeting(id: id, title: id, source: source, turns: turns)
    }
}
