// Snippets of the turns the index found, made from the stored text with the analyzer
// that indexed it, so that the words marked are exactly those that matched; and of
// long turns FTS5 found, from its highlight(), since its snippet() takes time that
// grows with the square of the matches in a turn. Both are one pass over the turn.

import MeetingKit

enum IndexSnippet {
    /// Words in a snippet, as FTS5's snippet() was asked for.
    static let words = 24
    /// Words shown before the first match in the window, for context.
    static let lead = 3
    /// Turns longer than this (in characters) get their FTS5 snippet from `highlighted`.
    static let longTurnCharacters = 20_000
    /// How often (in matches) a long pass checks the request's deadline.
    static let checkEvery = 4096

    /// The stretch of `text` (a stored turn, transcription marks stripped) of up to `words`
    /// words holding the most distinct `terms`, then the most matches, earliest first;
    /// matched words between the markers, "…" where the turn goes on. Nil when no word matches.
    static func snippet(of text: String, terms: Set<String>, markers: Markers, analyzer: Analyzer,
                        budget: RequestBudget) throws(MethodError) -> String? {
        let analyzed = analyzer.words(text)
        let matched = analyzed.indices.filter { terms.contains(analyzed[$0].term) }
        guard !matched.isEmpty else { return nil }
        let start = try bestWindow(wordCount: analyzed.count, matched: matched, term: { analyzed[$0].term }, budget: budget)
        let end = min(analyzed.count, start + words)
        let utf8 = Array(text.utf8)
        var out = start > 0 ? "…" : ""
        var cursor = analyzed[start].bytes.lowerBound
        for index in start..<end {
            let word = analyzed[index]
            out += String(decoding: utf8[cursor..<word.bytes.lowerBound], as: UTF8.self)
            let written = String(decoding: utf8[word.bytes], as: UTF8.self)
            out += terms.contains(word.term) ? markers.open + written + markers.close : written
            cursor = word.bytes.upperBound
        }
        return out + (end < analyzed.count ? "…" : "")
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

    /// The snippet of a turn FTS5's highlight() marked with `open` and `close` (characters
    /// that never occur in a turn): the window chosen as `snippet` chooses it, over
    /// whitespace-separated words, a word counting as matched when a mark touches it.
    static func snippet(ofHighlighted text: String, open: Unicode.Scalar, close: Unicode.Scalar, markers: Markers,
                        budget: RequestBudget) throws(MethodError) -> String {
        struct Word {
            var range: Range<String.UnicodeScalarView.Index>
            var matched: Bool
            /// Inside a highlight at its first character (the mark opened on an earlier word).
            var opensInside: Bool
            var closesInside: Bool
        }
        let scalars = text.unicodeScalars
        var found: [Word] = []
        var inside = false
        var index = scalars.startIndex
        while index < scalars.endIndex {
            while index < scalars.endIndex, scalars[index].properties.isWhitespace { index = scalars.index(after: index) }
            guard index < scalars.endIndex else { break }
            let start = index
            let startsInside = inside
            var touched = inside
            while index < scalars.endIndex, !scalars[index].properties.isWhitespace {
                if scalars[index] == open { inside = true; touched = true }
                if scalars[index] == close { inside = false }
                index = scalars.index(after: index)
            }
            found.append(Word(range: start..<index, matched: touched, opensInside: startsInside, closesInside: inside))
        }
        func plain(_ word: Word) -> String {
            String(String.UnicodeScalarView(scalars[word.range].filter { $0 != open && $0 != close })).lowercased()
        }
        let matched = found.indices.filter { found[$0].matched }
        guard !matched.isEmpty else { return SearchModule.opening(of: text.replacing(String(open), with: "").replacing(String(close), with: ""), words: words) }
        let start = try bestWindow(wordCount: found.count, matched: matched, term: { plain(found[$0]) }, budget: budget)
        let end = min(found.count, start + words)
        var out = start > 0 ? "…" : ""
        if found[start].opensInside { out += markers.open }
        out += String(String.UnicodeScalarView(scalars[found[start].range.lowerBound..<found[end - 1].range.upperBound]))
            .replacing(String(open), with: markers.open).replacing(String(close), with: markers.close)
        if found[end - 1].closesInside { out += markers.close }
        return out + (end < found.count ? "…" : "")
    }

    /// The snippet column for an FTS5 statement over `table` that binds the markers (open, close):
    /// FTS5's snippet() for most turns, highlight() with `highlightOpen`/`highlightClose` for long
    /// ones; then whether the turn is long, for `finish`.
    static func ftsSnippetSQL(_ table: String) -> String {
        "CASE WHEN length(\(table).text) > \(longTurnCharacters) THEN highlight(\(table), 0, char(2), char(3)) "
            + "ELSE snippet(\(table), 0, ?, ?, '…', \(words)) END, length(\(table).text) > \(longTurnCharacters)"
    }

    /// The snippet an `ftsSnippetSQL` row holds, finished for a long turn.
    static func finish(_ column: String, isLong: Bool, markers: Markers, budget: RequestBudget) throws(MethodError) -> String {
        guard isLong else { return column }
        return try snippet(ofHighlighted: column, open: "\u{2}", close: "\u{3}", markers: markers, budget: budget)
    }

    /// Where the window of `words` words starts that holds the most distinct terms, then the
    /// most matches, earliest first, among the windows that open `lead` words before a match.
    /// `matched` are the matched word positions, ascending. One pass: the window only moves
    /// forward, adding the matches it reaches and dropping those it leaves.
    static func bestWindow(wordCount: Int, matched: [Int], term: (Int) -> String,
                           budget: RequestBudget) throws(MethodError) -> Int {
        var best = (start: 0, distinct: -1, count: -1)
        var inWindow: [String: Int] = [:]
        var first = 0, past = 0   // matched[first..<past] lie in the window
        for (position, match) in matched.enumerated() {
            if position % checkEvery == checkEvery - 1 { try budget.checkDeadline() }
            let start = max(0, min(match - lead, wordCount - words))
            while past < matched.count, matched[past] < start + words {
                inWindow[term(matched[past]), default: 0] += 1
                past += 1
            }
            while first < past, matched[first] < start {
                let key = term(matched[first])
                inWindow[key]! -= 1
                if inWindow[key] == 0 { inWindow[key] = nil }
                first += 1
            }
            if (inWindow.count, past - first) > (best.distinct, best.count) { best = (start, inWindow.count, past - first) }
        }
        return best.start
    }
}
