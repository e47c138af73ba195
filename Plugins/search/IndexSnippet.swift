// Snippets of the turns the index found, made from the stored text with the analyzer
// that indexed it, so that the words marked are exactly those that matched.

import MeetingKit

enum IndexSnippet {
    /// Words in a snippet, as FTS5's snippet() was asked for.
    static let words = 24
    /// Words shown before the first match in the window, for context.
    static let lead = 3

    /// The stretch of `text` (a stored turn, transcription marks stripped) of up to `words`
    /// words holding the most distinct `terms`, then the most matches, earliest first;
    /// matched words between the markers, "…" where the turn goes on. Nil when no word matches.
    static func snippet(of text: String, terms: Set<String>, markers: Markers, analyzer: Analyzer) -> String? {
        let analyzed = analyzer.words(text)
        let matched = analyzed.indices.filter { terms.contains(analyzed[$0].term) }
        guard !matched.isEmpty else { return nil }
        var best = (start: 0, distinct: -1, count: -1)
        for first in matched {
            let start = max(0, min(first - lead, analyzed.count - words))
            let inWindow = matched.filter { $0 >= start && $0 < start + words }
            let distinct = Set(inWindow.map { analyzed[$0].term }).count
            if (distinct, inWindow.count) > (best.distinct, best.count) { best = (start, distinct, inWindow.count) }
        }
        let end = min(analyzed.count, best.start + words)
        let utf8 = Array(text.utf8)
        var out = best.start > 0 ? "…" : ""
        var cursor = analyzed[best.start].bytes.lowerBound
        for index in best.start..<end {
            let word = analyzed[index]
            out += String(decoding: utf8[cursor..<word.bytes.lowerBound], as: UTF8.self)
            let written = String(decoding: utf8[word.bytes], as: UTF8.self)
            out += terms.contains(word.term) ? markers.open + written + markers.close : written
            cursor = word.bytes.upperBound
        }
        return out + (end < analyzed.count ? "…" : "")
    }
}
