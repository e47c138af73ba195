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
    static func snippet(of text: String, terms: HighlightTerms, markers: Markers, joining: SpanJoining,
                        analyzer: Analyzer, budget: RequestBudget) throws(MethodError) -> String? {
        let found = MatchedWords(text, terms: terms, analyzer: analyzer)
        guard !found.matched.isEmpty else { return nil }
        let start = try bestWindow(wordCount: found.words.count, matched: found.matched, term: { found.matchedTerms[$0] },
                                   budget: budget)
        let end = min(found.words.count, start + Self.words)
        // Built as bytes and decoded once: the words and what lies between them are whole scalars.
        var text = text
        let out = text.withUTF8 { utf8 -> [UInt8] in
            var out: [UInt8] = []
            out.reserveCapacity(found.words[end - 1].upperBound - found.words[start].lowerBound + 8 * (end - start) + 8)
            if start > 0 { out += Self.ellipsis }
            write(utf8, found, words: start..<end, markers: markers, joining: joining, into: &out)
            if end < found.words.count { out += Self.ellipsis }
            return out
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let ellipsis = Array("…".utf8)

    /// `text` with every word whose term is one of `terms` between the markers, as a snippet marks them.
    static func marking(_ text: String, terms: HighlightTerms, markers: Markers, joining: SpanJoining, analyzer: Analyzer) -> String {
        let found = MatchedWords(text, terms: terms, analyzer: analyzer)
        guard !found.matched.isEmpty else { return text }
        var text = text
        let out = text.withUTF8 { utf8 -> [UInt8] in
            var out = Array(UnsafeBufferPointer(rebasing: utf8[..<found.words[0].lowerBound]))
            write(utf8, found, words: 0..<found.words.count, markers: markers, joining: joining, into: &out)
            out += UnsafeBufferPointer(rebasing: utf8[found.words[found.words.count - 1].upperBound...])
            return out
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `found.words[words]` and what lies between them, each matched word between the
    /// markers; a span of matched words that `joining` joins shares one pair. The text is copied
    /// a run at a time, from one marker to the next, not word by word.
    private static func write(_ utf8: UnsafeBufferPointer<UInt8>, _ found: MatchedWords, words: Range<Int>, markers: Markers,
                              joining: SpanJoining, into out: inout [UInt8]) {
        var copied = found.words[words.lowerBound].lowerBound
        func copy(upTo end: Int) {
            out += UnsafeBufferPointer(rebasing: utf8[copied..<end])
            copied = end
        }
        var cursor = copied
        var nextMatch = found.matched.firstIndex { $0 >= words.lowerBound } ?? found.matched.count
        var spanOpen = false
        for index in words {
            let word = found.words[index]
            let isMatch = nextMatch < found.matched.count && found.matched[nextMatch] == index
            if isMatch { nextMatch += 1 }
            if spanOpen, !(isMatch && joining.joins(UnsafeBufferPointer(rebasing: utf8[cursor..<word.lowerBound]))) {
                copy(upTo: cursor)
                out += markers.close.utf8
                spanOpen = false
            }
            if isMatch, !spanOpen {
                copy(upTo: word.lowerBound)
                out += markers.open.utf8
                spanOpen = true
            }
            cursor = word.upperBound
        }
        copy(upTo: cursor)
        if spanOpen { out += markers.close.utf8 }
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

/// A text's words (their bytes) and which of them a highlight's terms match: no per-word record
/// beyond that (a snippet reads every word of its turn, most of which match nothing).
struct MatchedWords {
    private(set) var words: [Range<Int>] = []
    /// The matched words' positions in `words`, ascending, and their term numbers.
    private(set) var matched: [Int] = [], matchedTerms: [Int32] = []

    init(_ text: String, terms: HighlightTerms, analyzer: Analyzer) {
        analyzer.forEachWordTerm(text) { bytes, term in
            if terms.contains(term) { matched.append(words.count); matchedTerms.append(term) }
            words.append(bytes)
        }
    }
}

/// Which adjacent matched words share one pair of markers, so that a phrase reads as one span
/// ("[remote control]", not "[remote] [control]").
enum SpanJoining {
    /// Each matched word has its own pair.
    case none
    /// Words that only white space (Unicode's White_Space) separates.
    case overWhiteSpace
    /// The same within a line: a line break ends a sentence (`TranscriptText.sentences`),
    /// and sentence hits are cut from the marked text.
    case overWhiteSpaceWithinALine

    init(_ highlight: Highlight, withinALine: Bool = false) {
        self = highlight.joinsPhrases ? (withinALine ? .overWhiteSpaceWithinALine : .overWhiteSpace) : .none
    }

    func joins(_ gap: UnsafeBufferPointer<UInt8>) -> Bool {
        switch self {
        case .none: return false
        case .overWhiteSpace: return Self.isWhiteSpace(gap)
        case .overWhiteSpaceWithinALine: return Self.isWhiteSpace(gap) && !gap.contains(UInt8(ascii: "\n"))
        }
    }

    /// Words always have something between them; a single space is the common case.
    private static func isWhiteSpace(_ gap: UnsafeBufferPointer<UInt8>) -> Bool {
        if gap.count == 1, gap[0] == UInt8(ascii: " ") { return true }
        return !gap.isEmpty && String(decoding: gap, as: UTF8.self).unicodeScalars.allSatisfy(\.properties.isWhitespace)
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
