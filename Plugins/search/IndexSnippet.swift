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
    static func snippet(of text: String, terms: HighlightTerms, markers: Markers, analyzer: Analyzer,
                        budget: RequestBudget) throws(MethodError) -> String? {
        // Each word's bytes, and the positions and term numbers of those that match: no per-word
        // record beyond that (a snippet reads every word of its turn, most of which match nothing).
        var words: [Range<Int>] = []
        var matched: [Int] = [], matchedTerms: [Int32] = []
        analyzer.forEachWordTerm(text) { bytes, term in
            if terms.contains(term) { matched.append(words.count); matchedTerms.append(term) }
            words.append(bytes)
        }
        guard !matched.isEmpty else { return nil }
        let start = try bestWindow(wordCount: words.count, matched: matched, term: { matchedTerms[$0] }, budget: budget)
        let end = min(words.count, start + Self.words)
        // Built as bytes and decoded once: the words and what lies between them are whole scalars.
        var text = text
        let out = text.withUTF8 { utf8 -> [UInt8] in
            var out: [UInt8] = []
            out.reserveCapacity(words[end - 1].upperBound - words[start].lowerBound + 8 * (end - start) + 8)
            if start > 0 { out += Self.ellipsis }
            var cursor = words[start].lowerBound
            var nextMatch = matched.firstIndex { $0 >= start } ?? matched.count
            for index in start..<end {
                let word = words[index]
                out += UnsafeBufferPointer(rebasing: utf8[cursor..<word.lowerBound])
                if nextMatch < matched.count, matched[nextMatch] == index {
                    out += markers.open.utf8
                    out += UnsafeBufferPointer(rebasing: utf8[word])
                    out += markers.close.utf8
                    nextMatch += 1
                } else {
                    out += UnsafeBufferPointer(rebasing: utf8[word])
                }
                cursor = word.upperBound
            }
            if end < words.count { out += Self.ellipsis }
            return out
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let ellipsis = Array("…".utf8)

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
    static func bestWindow(wordCount: Int, matched: [Int], term: (Int) -> Int32,
                           budget: RequestBudget) throws(MethodError) -> Int {
        var best = (start: 0, distinct: -1, count: -1)
        var inWindow: [Int32: Int] = [:]
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

/// A highlight's terms by the numbers an analyzer gives them, sorted: a snippet compares each
/// word's term number with them instead of hashing the word's stem a second time.
struct HighlightTerms {
    private let numbers: [Int32]

    /// Valid while `analyzer` does not start its vocabulary over (`Analyzer.termNumbers(of:)`).
    init(_ terms: Set<String>, analyzer: Analyzer) {
        numbers = analyzer.termNumbers(of: terms).sorted()
    }

    func contains(_ number: Int32) -> Bool {
        var low = 0, high = numbers.count
        while low < high {
            let middle = (low + high) / 2
            if numbers[middle] < number { low = middle + 1 } else { high = middle }
        }
        return low < numbers.count && numbers[low] == number
    }
}
