import Foundation
import MeetingKit

/// Titles of what was signed or adopted, from the lead sentences that say so:
/// "The documents include resolutions On A; On B; as well as decisions on X and on Y."
/// gives "Resolution On A", "Resolution On B", "Decision on X", "Decision on Y".
enum DocumentsOfPage {
    private static let kinds: [(pattern: String, singular: String)] = [
        ("resolutions", "Resolution"), ("resolution", "Resolution"), ("agreements", "Agreement"), ("agreement", "Agreement"),
        ("decisions", "Decision"), ("decision", "Decision"), ("memoranda", "Memorandum"), ("memorandums", "Memorandum"),
        ("memorandum", "Memorandum"), ("declarations", "Declaration"), ("declaration", "Declaration"),
        ("treaties", "Treaty"), ("treaty", "Treaty"), ("protocols", "Protocol"), ("protocol", "Protocol"),
        ("conventions", "Convention"), ("convention", "Convention"), ("joint statements", "Joint statement"),
        ("joint statement", "Joint statement"), ("statements", "Statement"), ("statement", "Statement"),
        ("programmes", "Programme"), ("programme", "Programme"), ("roadmaps", "Roadmap"), ("roadmap", "Roadmap"),
    ]
    private static let signingVerbs = ["signed", "adopted", "approved", "documents include", "documents included"]
    // Regex is immutable but not marked Sendable, hence nonisolated(unsafe).
    nonisolated(unsafe) private static let verbAfterKind = #/^(?:was|were|has been|have been|had been)(?: also)? (?:signed|adopted|approved) /#
    nonisolated(unsafe) private static let documentsSignedTo = #/[Dd]ocuments (?:were|was|have been|has been)(?: also)? (?:signed|adopted) (to \p{L}+) (.+)$/#

    static func documents(in lead: [String]) -> [String] {
        var titles: [String] = []
        for paragraph in lead {
            for span in MeetingKitSentences.split(paragraph) {
                let lowered = span.lowercased()
                guard signingVerbs.contains(where: lowered.contains) else { continue }
                titles += documents(inSentence: span.hasSuffix(".") ? String(span.dropLast()) : span)
            }
        }
        return titles
    }

    private static func documents(inSentence sentence: String) -> [String] {
        if let match = sentence.firstMatch(of: documentsSignedTo) {
            // "Documents were signed to declare A, and B": the verb carries over to B.
            let verb = String(match.output.1)
            return String(match.output.2).components(separatedBy: ", and ").map { item in
                var item = item.trimmingCharacters(in: .whitespaces)
                if let comma = item.firstIndex(of: ","), !item.hasPrefix(verb), item[..<comma].allSatisfy({ $0.isNumber }) {
                    item.remove(at: comma)
                }
                return "Document " + (item.hasPrefix(verb) ? item : "\(verb) \(item)")
            }
        }
        guard let first = firstKind(in: sentence, from: sentence.startIndex) else { return [] }
        var titles: [String] = []
        var kind = first.singular
        var plural = false
        for part in sentence[first.range.lowerBound...].components(separatedBy: ";") {
            var item = part.trimmingCharacters(in: .whitespaces)
            for lead in ["as well as ", "and "] where item.hasPrefix(lead) { item.removeFirst(lead.count) }
            // "an agreement ... and a decision on ...": each kind starts a new document.
            for (index, piece) in splitAtNewKind(item).enumerated() {
                var piece = piece
                if let found = firstKind(in: piece, from: piece.startIndex), found.range.lowerBound == piece.startIndex {
                    kind = found.singular
                    plural = found.isPlural
                    piece = String(piece[found.range.upperBound...]).trimmingCharacters(in: .whitespaces)
                    if let verb = piece.firstMatch(of: verbAfterKind) { piece.removeSubrange(verb.range) }
                } else if index > 0 {
                    continue
                }
                guard !piece.isEmpty else { continue }
                titles += (plural ? splitAlternatives(piece) : [piece]).map { "\(kind) \($0)" }
            }
        }
        return titles
    }

    private static func firstKind(in text: String, from start: String.Index)
        -> (singular: String, isPlural: Bool, range: Range<String.Index>)? {
        var best: (singular: String, isPlural: Bool, range: Range<String.Index>)?
        for (pattern, singular) in kinds {
            var searchStart = start
            while let range = text.range(of: pattern, options: .caseInsensitive, range: searchStart..<text.endIndex) {
                let before = range.lowerBound == text.startIndex || !text[text.index(before: range.lowerBound)].isLetter
                let after = range.upperBound == text.endIndex || !text[range.upperBound].isLetter
                if before && after {
                    if best == nil || range.lowerBound < best!.range.lowerBound
                        || (range.lowerBound == best!.range.lowerBound && range.upperBound > best!.range.upperBound) {
                        best = (singular, pattern != singular.lowercased(), range)
                    }
                    break
                }
                searchStart = range.upperBound
            }
        }
        return best
    }

    /// Splits "agreement on X and a decision on Y" before "a decision" (also "and adopted a ...").
    private static func splitAtNewKind(_ item: String) -> [String] {
        var pieces: [String] = []
        var rest = item[...]
        while let joint = rest.firstMatch(of: #/,? and (?:(?:signed|adopted|approved) )?an? /#),
              let kind = firstKind(in: String(rest[joint.range.upperBound...]), from: String(rest[joint.range.upperBound...]).startIndex),
              kind.range.lowerBound == String(rest[joint.range.upperBound...]).startIndex {
            pieces.append(String(rest[..<joint.range.lowerBound]))
            rest = rest[joint.range.upperBound...]
        }
        pieces.append(String(rest))
        return pieces
    }

    /// "on joint statements on A and on B" names two documents: "on joint statements on A"
    /// and "on joint statements on B".
    private static func splitAlternatives(_ item: String) -> [String] {
        let alternatives = item.components(separatedBy: " and on ")
        guard alternatives.count > 1, let first = alternatives.first else { return [item] }
        let head: String
        if first.hasPrefix("on "), let second = first.dropFirst(3).range(of: " on ") {
            head = String(first[..<second.lowerBound]) + " "
        } else {
            head = ""
        }
        return [first] + alternatives.dropFirst().map { head + "on " + $0 }
    }
}

/// Sentences of a paragraph as strings, by the corpus's one sentence splitter.
enum MeetingKitSentences {
    static func split(_ paragraph: String) -> [String] {
        let scalars = Array(paragraph.unicodeScalars)
        return TranscriptText.sentences(in: paragraph).map {
            String(String.UnicodeScalarView(scalars[$0.start..<$0.end]))
        }
    }
}
