// Snippets of the turns the index found, made from the stored text with the analyzer
// that indexed it, so that the words marked are exactly those that matched, in one pass
// over the turn however many matches it holds.

import MeetingKit

enum IndexSnippet {
    /// Words in a snippet.
    static let words = 24
    /// Words shown before the first match in the window, for context.
    static let lead = 3
    /// How often (in matches) a long pass checks the request's deadline.
    static let checkEvery = 4096

    /// The stretch of `text` (a stored turn, transcription marks stripped) of up to `words`
    /// words holding the most distinct `terms`, then the most matches, earliest first;
    /// matched words between the markers, "…" where the turn goes on. Nil when no word matches.
    static func snippet(of text: String, terms: Set<String>, markers: Markers, analyzer: Analyzer,
                        budget: RequestBudget) throws(MethodError) -> String? {
        // Each word's bytes, and the positions and terms of those that match: no per-word record
        // beyond that (a snippet reads every word of its turn, most of which match nothing).
        var words: [Range<Int>] = []
        var matched: [Int] = [], matchedTerms: [String] = []
        analyzer.forEachWord(text) { bytes, normalized in
            let term = analyzer.term(normalized)
            if terms.contains(term) { matched.append(words.count); matchedTerms.append(term) }
            words.append(bytes)
        }
        guard !matched.isEmpty else { return nil }
        let start = try bestWindow(wordCount: words.count, matched: matched, term: { matchedTerms[$0] }, budget: budget)
        let end = min(words.count, start + Self.words)
        let utf8 = Array(text.utf8)
        var out = start > 0 ? "…" : ""
        var cursor = words[start].lowerBound
        var nextMatch = matched.firstIndex { $0 >= start } ?? matched.count
        for index in start..<end {
            let word = words[index]
            out += String(decoding: utf8[cursor..<word.lowerBound], as: UTF8.self)
            let written = String(decoding: utf8[word], as: UTF8.self)
            if nextMatch < matched.count, matched[nextMatch] == index {
                out += markers.open + written + markers.close
                nextMatch += 1
            } else {
                out += written
            }
            cursor = word.upperBound
        }
        return out + (end < words.count ? "…" : "")
    }

    /// `text` with every word whose term is one of `terms` between `open` and `close`.
    static func marking(_ terms: Set<String>, in text: String, open: String, close: String, analyzer: Analyzer) -> String {
        let utf8 = Array(text.utf8)
        var out = ""
        var cursor = 0
        for word in analyzer.words(text) where terms.contains(word.term) {
            out += String(decoding: utf8[cursor..<word.bytes.lowerBound], as: UTF8.self)
            out += open + String(decoding: utf8[word.bytes], as: UTF8.self) + close
            cursor = word.bytes.upperBound
        }
        return out + String(decoding: utf8[cursor...], as: UTF8.self)
    }

    /// Where the window of `words` words starts that holds the most distinct terms, then the
    /// most matches, earliest first, among the windows that open `lead` words before a match.
    /// `matched` are the matched word positions, ascending, and `term(i)` the term of the
    /// `i`-th of them. One pass: the window only moves forward, adding the matches it reaches
    /// and dropping those it leaves.
    static func bestWindow(wordCount: Int, matched: [Int], term: (Int) -> String,
                           budget: RequestBudget) throws(MethodError) -> Int {
        var best = (start: 0, distinct: -1, count: -1)
        var inWindow: [String: Int] = [:]
        var first = 0, past = 0   // matched[first..<past] lie in the window
        for (position, match) in matched.enumerated() {
            if position % checkEvery == checkEvery - 1 { try budget.checkDeadline() }
            let start = max(0, min(match - lead, wordCount - words))
            while past < matched.count, matched[past] < start + words {
                inWindow[term(past), default: 0] += 1
                past += 1
            }
            while first < past, matched[first] < start {
                let key = term(first)
                inWindow[key]! -= 1
                if inWindow[key] == 0 { inWindow[key] = nil }
                first += 1
            }
            if (inWindow.count, past - first) > (best.distinct, best.count) { best = (start, inWindow.count, past - first) }
        }
        return best.start
    }
}
