// Top-k retrieval over one segment with exact BM25 (see BM25) and dynamic pruning.
//
// Documents are visited in ordinal order, so ties break by the rule the results
// follow: higher score first, then lower document id (ordinals ascend with ids). A
// document that only ties the k-th best score cannot enter, which is what lets
// pruning drop any document whose score bound is not above the k-th best score.
//
// A query of one clause (OR) runs block-max MaxScore (Turtle & Flood 1995; with block maxima as in
// Lucene's MaxScoreBulkScorer): terms whose summed score bounds cannot reach the
// k-th best score are "non-essential" and only looked up for documents that an
// essential term holds; windows of ordinals (up to the nearest end of an essential
// term's block) whose summed block maxima cannot reach it are skipped unread.
// A query of several clauses (AND of ORs) intersects them, driven by the clause with
// the fewest postings, skipping windows the same way, and reads the other clauses for
// a document only if the driving clause's score plus their block maxima can enter.
// Excluded (NOT) terms and phrases are looked up for each document that would be counted or kept.
//
// A query of more terms than `termAtATimeAbove` (a prefix covering dozens or thousands) is
// scored term at a time instead, a window of ordinals at a time: each term's postings add into
// the window's accumulators, then every match is offered, with no pruning. Merging many cursors
// document by document costs the terms times the documents (a second per query for `con*`'s
// thousand terms over 2.5 million turns); this costs their postings.
//
// `total` counts every match until `exactTotalUpTo` have been counted; only then may
// pruning skip documents, and `total` is then the number counted, a lower bound, with
// `totalExact` false. A one-term query without exclusions needs no counting: its
// total is the term's document frequency.

public struct IndexQuery: Sendable {
    /// One word, an exact phrase (words at consecutive positions), or a phrase whose last
    /// position holds any of several words (a phrase ending in a prefix: "remote contr*").
    public struct Term: Sendable {
        /// The words before the last position; none for a single word.
        public var leading: [String]
        /// The words the last position may hold: one, or each term a prefix covers.
        public var lastWords: [String]
        /// Multiplies the term's BM25 weight; must be positive.
        public var boost: Double

        public init(_ text: String, boost: Double = 1) {
            leading = []
            lastWords = [text]
            self.boost = boost
        }

        /// Scored as Lucene scores a phrase: BM25 with the phrase's frequency in the
        /// document (every position it starts at) as tf, and the sum of its words' idf as idf.
        public init(phrase words: [String], boost: Double = 1) {
            precondition(!words.isEmpty, "a phrase needs a word")
            leading = Array(words.dropLast())
            lastWords = [words.last!]
            self.boost = boost
        }

        /// Matched as Lucene's MultiPhraseQuery matches, in one pass over the leading words'
        /// positions with the last words' postings as one union, and scored exactly as the
        /// OR of one phrase per last word (`leading + [word]`, each a phrase as above) would
        /// be: a document scores the sum of the phrases it holds, in `lastWords`' order.
        public init(phrase leading: [String], endingInAnyOf lastWords: [String], boost: Double = 1) {
            precondition(!leading.isEmpty && !lastWords.isEmpty, "a phrase needs a leading word and a last one")
            self.leading = leading
            self.lastWords = lastWords
            self.boost = boost
        }

        /// Every word the term may match: for statistics and for marking snippets.
        public var words: [String] { leading + lastWords }
        /// The word, or the phrase's words joined by spaces (no analyzer term holds a
        /// space); the last words joined by "|" when there are several.
        public var text: String { (leading + [lastWords.joined(separator: "|")]).joined(separator: " ") }
        public var isPhrase: Bool { !leading.isEmpty }
        /// The words or exact phrases the term is the OR of, each as its words.
        public var alternatives: [[String]] { lastWords.map { leading + [$0] } }
    }

    /// As the search language reads a query: a document matches when it holds a term of
    /// every clause (AND of ORs); empty clauses are ignored. Every distinct term the
    /// document holds adds to its score; a term repeated in the query counts once, with
    /// its boosts summed.
    public var clauses: [[Term]]
    /// Words and phrases no match may hold (their boosts are not read).
    public var excluded: [Term]
    public var limit: Int
    public var exactTotalUpTo: Int
    /// False scores every match: the exhaustive path the benchmark measures pruning against.
    public var dynamicPruning: Bool
    /// More distinct terms than this (excluded ones too) are scored term at a time.
    public var termAtATimeAbove: Int

    public init(clauses: [[Term]], excluded: [Term] = [], limit: Int = 10,
                exactTotalUpTo: Int = 1000, dynamicPruning: Bool = true, termAtATimeAbove: Int = 256) {
        self.clauses = clauses
        self.excluded = excluded
        self.limit = limit
        self.exactTotalUpTo = exactTotalUpTo
        self.dynamicPruning = dynamicPruning
        self.termAtATimeAbove = termAtATimeAbove
    }

    /// Documents holding any of `terms` (OR).
    public static func any(_ terms: [Term], excluded: [Term] = [], limit: Int = 10) -> IndexQuery {
        IndexQuery(clauses: [terms], excluded: excluded, limit: limit)
    }

    /// Documents holding every one of `terms` (AND).
    public static func all(_ terms: [Term], excluded: [Term] = [], limit: Int = 10) -> IndexQuery {
        IndexQuery(clauses: terms.map { [$0] }, excluded: excluded, limit: limit)
    }
}

public struct IndexHit: Sendable, Equatable {
    public var documentID: UInt32
    public var score: Double

    public init(documentID: UInt32, score: Double) {
        self.documentID = documentID
        self.score = score
    }
}

public struct IndexSearchResult: Sendable {
    /// Best first: higher score, then lower document id.
    public var hits: [IndexHit]
    public var total: Int
    public var totalExact: Bool
    /// Postings blocks unpacked, and how many the query's terms (excluded ones too) have.
    public var blocksDecoded: Int
    public var blocksInQueryTerms: Int
}

/// Which documents of a segment may match: those not deleted and, when `allowed` is
/// set, inside one of its ordinal ranges (ascending, disjoint). A filter of many ranges (a
/// speaker's turns) is as cheap to test as one: `admits` reads one bit.
public struct DocumentMask: Sendable {
    /// Bit `ordinal` is set when that document may match.
    let admitted: [UInt64]
    let allowed: [ClosedRange<UInt32>]?
    /// With none, the admitted bits are exactly the allowed ranges.
    let hasDeletions: Bool

    /// `deleted` are ordinals.
    public init(deleted: some Sequence<UInt32>, documentCount: Int, allowed: [ClosedRange<UInt32>]?) {
        var bits = [UInt64](repeating: allowed == nil ? ~0 : 0, count: (documentCount + 63) / 64)
        var anyDeleted = false
        bits.withUnsafeMutableBufferPointer { bits in
            for range in allowed ?? [] {
                let low = Int(range.lowerBound), high = Int(range.upperBound)
                let lowBits = UInt64.max << UInt64(low % 64), highBits = UInt64.max >> UInt64(63 - high % 64)
                if low / 64 == high / 64 {
                    bits[low / 64] |= lowBits & highBits
                    continue
                }
                bits[low / 64] |= lowBits
                for word in (low / 64 + 1)..<(high / 64) { bits[word] = .max }
                bits[high / 64] |= highBits
            }
            for ordinal in deleted {
                bits[Int(ordinal) / 64] &= ~(1 << UInt64(ordinal % 64))
                anyDeleted = true
            }
        }
        admitted = bits
        self.allowed = allowed
        hasDeletions = anyDeleted
    }

    /// The first ordinal at or after `ordinal` inside the allowed ranges, or nil when none is.
    func firstAllowed(atOrAfter ordinal: UInt32) -> UInt32? {
        guard let allowed else { return ordinal }
        if Int(ordinal) / 64 < admitted.count && admits(ordinal) { return ordinal }
        // A speaker's next turn is usually a few words of bits on: found there, it costs no
        // binary search of their thousands of runs (a cache miss a step).
        if !hasDeletions {
            var word = Int(ordinal) / 64
            guard word < admitted.count else { return nil }
            var bits = admitted[word] & (UInt64.max << UInt64(ordinal % 64))
            let scanEnd = min(admitted.count, word + Self.wordsScanned)
            while bits == 0 && word + 1 < scanEnd {
                word += 1
                bits = admitted[word]
            }
            if bits != 0 { return UInt32(word * 64 + bits.trailingZeroBitCount) }
            if scanEnd == admitted.count { return nil }
        }
        var low = 0, high = allowed.count
        while low < high {
            let middle = (low + high) / 2
            if allowed[middle].upperBound < ordinal { low = middle + 1 } else { high = middle }
        }
        return low < allowed.count ? max(ordinal, allowed[low].lowerBound) : nil
    }

    /// Eight words of bits (512 turns), about a cache line's worth.
    static let wordsScanned = 8

    func admits(_ ordinal: UInt32) -> Bool {
        admitted[Int(ordinal) / 64] & (1 << UInt64(ordinal % 64)) != 0
    }
}

/// A query compiled once for a search, however many segments it reads (as Lucene's Weight):
/// its distinct words, its distinct terms as indexes into them and its clauses as indexes into
/// the terms. A segment then only looks its words up and binds cursors to the terms it holds
/// (`SegmentReader.search(_:weights:entries:scoring:mask:floor:exactTotalUpTo:)`).
struct CompiledQuery {
    struct Term {
        /// The term's words in order, as indexes into `words`: one, or an exact phrase's.
        let words: [Int]
        /// A phrase's distinct words (indexes into `words`), and for each of its words the
        /// index of its own among them: what a phrase cursor is made of (empty for a word).
        let distinctWords: [Int]
        let slotOfWord: [Int]
        /// The boosts of its every appearance in the query, summed.
        var boost: Double
    }

    /// A phrase ending in any of several words, matched once for all of them (`SegmentReader.phraseMatches`);
    /// `terms` are its alternatives' terms, in the order of its last words.
    struct PhraseEndingInAnyOf {
        let leading: [String]
        let lastWords: [String]
        let terms: [Int]
    }

    let query: IndexQuery
    /// The words of the clauses' terms, each once, in order of first appearance.
    let words: [String]
    /// Distinct terms (by text) in order of first appearance: scores are summed in this order.
    let terms: [Term]
    /// The non-empty clauses, as indexes into `terms`.
    let clauses: [[Int]]
    let phrasesEndingInAnyOf: [PhraseEndingInAnyOf]
    /// Per non-empty clause, each of its terms as its leading and last words (indexes into
    /// `words`): a segment can match the clause only if it holds every leading word and a last one.
    let requirements: [[(leading: [Int], last: [Int])]]

    init(_ query: IndexQuery) {
        self.query = query
        var words: [String] = []
        var wordIndex: [String: Int] = [:]
        func index(of word: String) -> Int {
            if let index = wordIndex[word] { return index }
            wordIndex[word] = words.count
            words.append(word)
            return words.count - 1
        }
        for term in query.clauses.joined() { for word in term.words { _ = index(of: word) } }
        var terms: [Term] = []
        var clauses: [[Int]] = []
        var requirements: [[(leading: [Int], last: [Int])]] = []
        var termIndex: [String: Int] = [:]
        for clause in query.clauses where !clause.isEmpty {
            var indexes: [Int] = []
            // A set, not `indexes.contains`: a prefix's clause holds thousands of terms.
            var inClause = Set<Int>()
            var requirement: [(leading: [Int], last: [Int])] = []
            for term in clause {
                precondition(term.boost > 0, "a term's boost must be positive")
                requirement.append((term.leading.map { index(of: $0) }, term.lastWords.map { index(of: $0) }))
                for alternative in term.alternatives {
                    let text = alternative.joined(separator: " ")
                    if let index = termIndex[text] {
                        terms[index].boost += term.boost
                        if inClause.insert(index).inserted { indexes.append(index) }
                        continue
                    }
                    let wordIndexes = alternative.map { index(of: $0) }
                    var distinct: [Int] = []
                    if wordIndexes.count > 1 { for word in wordIndexes where !distinct.contains(word) { distinct.append(word) } }
                    termIndex[text] = terms.count
                    terms.append(Term(words: wordIndexes, distinctWords: distinct,
                                      slotOfWord: distinct.isEmpty ? [] : wordIndexes.map { distinct.firstIndex(of: $0)! }, boost: term.boost))
                    inClause.insert(terms.count - 1)
                    indexes.append(terms.count - 1)
                }
            }
            clauses.append(indexes)
            requirements.append(requirement)
        }
        var phrasesEndingInAnyOf: [PhraseEndingInAnyOf] = []
        var seen = Set<[[String]]>()
        for term in query.clauses.joined() where term.lastWords.count > 1 && seen.insert([term.leading, term.lastWords]).inserted {
            phrasesEndingInAnyOf.append(PhraseEndingInAnyOf(leading: term.leading, lastWords: term.lastWords,
                                                            terms: term.alternatives.map { termIndex[$0.joined(separator: " ")]! }))
        }
        self.words = words
        self.terms = terms
        self.clauses = clauses
        self.requirements = requirements
        self.phrasesEndingInAnyOf = phrasesEndingInAnyOf
    }

    /// Each term's boost × idf, a phrase's idf the sum of its words' in its order (as Lucene
    /// scores a phrase); `idf` by word index.
    func weights(idf: [Double]) -> [Double] {
        terms.map { term in
            term.words.count == 1 ? term.boost * idf[term.words[0]] : term.boost * term.words.reduce(0) { $0 + idf[$1] }
        }
    }
}

extension SegmentReader {
    /// Searches this segment alone, with its own statistics, among the documents `mask`
    /// admits (a set of segments is searched by `SegmentSet`, with the collection's). Once
    /// `exactTotalUpTo` matches are counted, no document scoring at or below `floor` is kept:
    /// the caller knows `limit` better ones, or as good ones of lower ids.
    public func search(_ query: IndexQuery, mask: DocumentMask? = nil, floor: Double = -.infinity) -> IndexSearchResult {
        let compiled = CompiledQuery(query)
        let entries = compiled.words.map { lookup($0) }
        // A word the segment lacks has no idf here, and no term of it is bound: 0 is never read.
        let idf = entries.map { info in BM25.idf(documentFrequency: info?.documentFrequency ?? 0, documentCount: documentCount) }
        return search(compiled, weights: compiled.weights(idf: idf), entries: entries[...], scoring: bm25,
                      mask: mask, floor: floor, exactTotalUpTo: query.exactTotalUpTo)
    }

    /// Searches the segment for `query`, compiled once for every segment searched: `weights`
    /// are its terms' (`CompiledQuery.weights`), `entries` this segment's dictionary entries
    /// of its words, by word index (nil where it lacks one), `scoring` the BM25 of the
    /// collection. Here a term is only bound to its cursor, and one the segment lacks drops out.
    /// Not public: another segment's entries would point outside this one's postings.
    func search(_ query: CompiledQuery, weights: [Double], entries: ArraySlice<TermInfo?>, scoring: BM25,
                mask: DocumentMask?, floor: Double, exactTotalUpTo: Int) -> IndexSearchResult {
        let nothing = IndexSearchResult(hits: [], total: 0, totalExact: true, blocksDecoded: 0, blocksInQueryTerms: 0)
        guard query.query.limit > 0 else { return nothing }
        func entry(_ word: Int) -> TermInfo? { entries[entries.startIndex + word] }
        var phraseBlocksDecoded = 0, phraseBlocksInQueryTerms = 0
        // A phrase ending in any of several words is matched once for all of them, each
        // word's matches kept apart (by term) to be scored as its own phrase.
        var matchedTogether = [PhraseMatches?](repeating: nil, count: query.phrasesEndingInAnyOf.isEmpty ? 0 : query.terms.count)
        for phrase in query.phrasesEndingInAnyOf {
            let found = phraseMatches(phrase.leading, endingInAnyOf: phrase.lastWords, mask: mask,
                                      blocksDecoded: &phraseBlocksDecoded, blocksInWords: &phraseBlocksInQueryTerms)
            for (term, matches) in zip(phrase.terms, found) { matchedTogether[term] = matches }
        }
        // Terms the segment does not hold match nothing and drop out. A phrase is walked lazily
        // (see PhraseCursor); one ending in any of several words is found here and packed as a
        // term's postings, so that it is scored and pruned like one. Scores sum in the order of the terms kept (a term left out would add 0).
        var scored: [ScoredTerm] = []
        scored.reserveCapacity(query.terms.count)
        var phrasePostings: [SegmentBytes] = []
        // Each term's index in `scored`, made at the first term the segment lacks (until then they are the same).
        var position: [Int?]?
        for (order, term) in query.terms.enumerated() {
            let bound: (cursor: PostingsCursor, maxScorePair: (frequency: UInt32, length: UInt32))?
            if term.words.count == 1 {
                bound = entry(term.words[0]).map { (postings($0), ($0.maxScoreFrequency, $0.maxScoreLength)) }
            } else if !matchedTogether.isEmpty, let matches = matchedTogether[order] {
                bound = packed(matches).map { phrase in
                    phrasePostings.append(phrase.bytes)
                    return (phrase.cursor, phrase.maxScorePair)
                }
            } else {
                var infos: [TermInfo] = []
                for word in term.distinctWords {
                    guard let info = entry(word) else { break }
                    infos.append(info)
                }
                bound = infos.count == term.distinctWords.count ? phraseCursor(infos, slotOfWord: term.slotOfWord, mask: mask) : nil
            }
            guard let bound else {
                if position == nil { position = (0..<order).map { Optional($0) } }
                position!.append(nil)
                continue
            }
            position?.append(scored.count)
            let weight = weights[order]
            scored.append(ScoredTerm(cursor: bound.cursor, weight: weight, order: scored.count,
                                     maxScore: weight * scoring.saturationBound(frequency: bound.maxScorePair.frequency,
                                                                                length: bound.maxScorePair.length,
                                                                                chosenWith: bm25.averageLength)))
        }
        let clauses = position.map { position in query.clauses.map { $0.compactMap { position[$0] } } } ?? query.clauses
        guard !scored.isEmpty, !clauses.contains(where: { $0.isEmpty }) else { return nothing }
        let excluded = excludedCursors(query.query.excluded, mask: mask, keeping: &phrasePostings,
                                       blocksDecoded: &phraseBlocksDecoded, blocksInWords: &phraseBlocksInQueryTerms)
        // A lazy phrase's document frequency is its rarest word's, a bound: its matches are counted.
        let countsMatches = scored.count > 1 || !excluded.isEmpty || mask != nil || scored[0].cursor.phrase != nil
        let entryThreshold = EntryThreshold()
        let boundsSum = scored.reduce(0) { $0 + $1.maxScore }
        for term in scored {
            term.cursor.phrase?.competition = PhraseSource.Competition(
                weight: term.weight, bm25: scoring, otherTermsBound: boundsSum - term.maxScore, segment: self, threshold: entryThreshold)
        }
        var collector = TopKCollector(limit: query.query.limit, termCount: scored.count,
                                      exactTotalUpTo: countsMatches ? exactTotalUpTo : 0,
                                      dynamicPruning: query.query.dynamicPruning, floor: floor, entryThreshold: entryThreshold,
                                      excluded: excluded, mask: mask, bm25: scoring, segmentAverage: bm25.averageLength)
        withExtendedLifetime(phrasePostings) {
            if scored.count + excluded.count > query.query.termAtATimeAbove {
                collector.collectTermAtATime(scored, clauses: clauses, self)
            } else if clauses.count == 1 {
                collector.collectAny(scored, self)
            } else {
                collector.collectAll(scored, clauses: clauses, self)
            }
        }
        let scoredBlocks = Self.blocks(of: scored.lazy.map { $0.cursor }), excludedBlocks = Self.blocks(of: excluded)
        return IndexSearchResult(
            hits: collector.heap.sortedBestFirst().map { IndexHit(documentID: documentID(ordinal: Int($0.ordinal)), score: $0.score) },
            total: countsMatches ? collector.counted : scored[0].cursor.documentFrequency,
            totalExact: countsMatches ? !(collector.skippedAny || entryThreshold.phraseSkippedAny) : true,
            blocksDecoded: phraseBlocksDecoded + scoredBlocks.decoded + excludedBlocks.decoded,
            blocksInQueryTerms: phraseBlocksInQueryTerms + scoredBlocks.held + excludedBlocks.held)
    }

    /// Every live document `mask` admits that holds none of `excluded`, in ordinal order, up
    /// to `limit`, with their exact count: the answer to a query with no word to rank by
    /// (speakers alone), where every document scores 0 and the tie rule orders them.
    public func documents(excluding excluded: [IndexQuery.Term], mask: DocumentMask, limit: Int) -> IndexSearchResult {
        var phrasePostings: [SegmentBytes] = []
        var blocksDecoded = 0, blocksInQueryTerms = 0
        let cursors = excludedCursors(excluded, mask: mask, keeping: &phrasePostings,
                                      blocksDecoded: &blocksDecoded, blocksInWords: &blocksInQueryTerms)
        var hits: [IndexHit] = []
        var total = 0
        withExtendedLifetime(phrasePostings) {
            guard documentCount > 0 else { return }
            for range in mask.allowed ?? [0...UInt32(documentCount - 1)] {
                for ordinal in range where mask.admits(ordinal) && !cursors.contains(where: { $0.holds(ordinal) }) {
                    total += 1
                    if hits.count < limit { hits.append(IndexHit(documentID: documentID(ordinal: Int(ordinal)), score: 0)) }
                }
            }
        }
        let cursorBlocks = Self.blocks(of: cursors)
        return IndexSearchResult(hits: hits, total: total, totalExact: true,
                                 blocksDecoded: blocksDecoded + cursorBlocks.decoded,
                                 blocksInQueryTerms: blocksInQueryTerms + cursorBlocks.held)
    }

    /// Blocks decoded and blocks held by `cursors` and by the word cursors of those that walk
    /// a phrase: every cursor that decodes blocks.
    static func blocks(of cursors: some Sequence<PostingsCursor>) -> (decoded: Int, held: Int) {
        var decoded = 0, held = 0
        for cursor in cursors {
            decoded += cursor.blocksDecoded
            held += cursor.blockCount
            for word in cursor.phrase?.cursors ?? [] {
                decoded += word.blocksDecoded
                held += word.blockCount
            }
        }
        return (decoded, held)
    }

    /// Cursors over the documents holding each excluded word or phrase (once each). A phrase
    /// ending in any of several words is one cursor over the documents holding any of them,
    /// its matches packed and appended to `keeping`, which must outlive the cursors.
    func excludedCursors(_ excluded: [IndexQuery.Term], mask: DocumentMask?, keeping phrasePostings: inout [SegmentBytes],
                         blocksDecoded: inout Int, blocksInWords: inout Int) -> [PostingsCursor] {
        var cursors: [PostingsCursor] = []
        var seen = Set<[[String]]>()
        for term in excluded where seen.insert([term.leading, term.lastWords]).inserted {
            if !term.isPhrase {
                for word in term.lastWords { if let info = lookup(word) { cursors.append(postings(info)) } }
                continue
            }
            if term.lastWords.count == 1 {
                if let phrase = phraseCursor(term.words, mask: mask) { cursors.append(phrase.cursor) }
                continue
            }
            let found = phraseMatches(term.leading, endingInAnyOf: term.lastWords, mask: mask,
                                      blocksDecoded: &blocksDecoded, blocksInWords: &blocksInWords)
            if let phrase = packed(found.count == 1 ? found[0] : PhraseMatches(union: found)) {
                phrasePostings.append(phrase.bytes)
                cursors.append(phrase.cursor)
            }
        }
        return cursors
    }

    /// A phrase's matches packed as one term's postings (with block maxima), so that it is
    /// scored, pruned and excluded as a term is; nil when no document holds it. The bytes
    /// must outlive the cursor.
    func packed(_ matches: PhraseMatches) -> (cursor: PostingsCursor, bytes: SegmentBytes, maxScorePair: (frequency: UInt32, length: UInt32))? {
        guard !matches.ordinals.isEmpty else { return nil }
        let packed = SegmentWriter.postings(ordinals: matches.ordinals, frequencies: matches.frequencies,
                                            lengths: DocumentLengths(reader: self), bm25: bm25)
        let owned = packed.bytes.withUnsafeBytes { SegmentBytes(key: 0, copying: $0) }
        // Positions are not packed: nothing reads a phrase's.
        let cursor = PostingsCursor(postings: owned.buffer.baseAddress!, positions: owned.buffer.baseAddress!,
                                    documentFrequency: matches.ordinals.count)
        return (cursor, owned, (packed.maxFrequency, packed.maxLength))
    }

    /// For each of `lastWords`, the live documents `mask` admits that hold `leading` then
    /// that word at consecutive positions, in ordinal order, with how many positions the
    /// phrase starts at in each (`PhrasePositions.phraseStarts`). As Lucene's
    /// MultiPhraseQuery, the last position is one union of the last words' postings, so
    /// that the leading words' postings and positions are read once for all of them. The
    /// distinct leading words and the union are intersected, rarest first, and positions
    /// are read only for documents holding them all; the last words' only where the
    /// leading words make their own phrase.
    func phraseMatches(_ leading: some Collection<String>, endingInAnyOf lastWords: [String], mask: DocumentMask?,
                       blocksDecoded: inout Int, blocksInWords: inout Int) -> [PhraseMatches] {
        let leading = Array(leading)
        precondition(!leading.isEmpty, "a phrase has a word before its last")
        var matches = [PhraseMatches](repeating: PhraseMatches(), count: lastWords.count)
        var distinct: [String] = []
        for word in leading where !distinct.contains(word) { distinct.append(word) }
        let infos = distinct.compactMap(lookup)
        let lastInfos = lastWords.map(lookup)
        guard infos.count == distinct.count, lastInfos.contains(where: { $0 != nil }) else { return matches }
        let cursors = infos.map(postings)
        // Last words the segment does not hold are left out of the union.
        let held = lastInfos.indices.filter { lastInfos[$0] != nil }
        let last = PostingsUnion(held.map { postings(lastInfos[$0]!) })
        defer {
            let all = cursors + last.members
            blocksDecoded += all.reduce(0) { $0 + $1.blocksDecoded }
            blocksInWords += all.reduce(0) { $0 + $1.blockCount }
        }
        // The leading words' cursors by index, the union as index `cursors.count`.
        func advance(_ participant: Int, to target: UInt32) -> UInt32 {
            participant < cursors.count ? cursors[participant].advance(to: target) : last.advance(to: target)
        }
        func postingsCount(_ participant: Int) -> Int {
            participant < cursors.count ? cursors[participant].documentFrequency : last.documentFrequency
        }
        let byRarity = (0...cursors.count).sorted { postingsCount($0) < postingsCount($1) }
        // A list per distinct leading word, and one after them for the last word.
        let positions = PhrasePositions(slotOfWord: leading.map { distinct.firstIndex(of: $0)! } + [distinct.count])
        var members: [Int] = []
        var target: UInt32 = 0
        search: while true {
            guard let allowed = mask.map({ $0.firstAllowed(atOrAfter: target) }) ?? target else { break }
            var candidate = advance(byRarity[0], to: allowed)
            if candidate == PostingsCursor.exhausted { break }
            // Leapfrog until every participant is on one document.
            var next = 1
            while next < byRarity.count {
                let found = advance(byRarity[next], to: candidate)
                if found == PostingsCursor.exhausted { break search }
                if found > candidate {
                    candidate = advance(byRarity[0], to: found)
                    if candidate == PostingsCursor.exhausted { break search }
                    next = 1
                } else {
                    next += 1
                }
            }
            target = candidate &+ 1
            if let mask, !mask.admits(candidate) { continue }
            for list in cursors.indices { positions.read(list, from: cursors[list]) }
            // Leading words that are not side by side here rule out every last word unread.
            // (One word alone always starts its own phrase.)
            if leading.count > 1 && positions.phraseStarts(stoppingAtFirst: true, ofFirst: leading.count) == 0 { continue }
            last.membersOnDocument(into: &members)
            for member in members {
                positions.read(distinct.count, from: last.members[member])
                let frequency = positions.phraseStarts(stoppingAtFirst: false)
                if frequency > 0 {
                    matches[held[member]].ordinals.append(candidate)
                    matches[held[member]].frequencies.append(frequency)
                }
            }
        }
        return matches
    }
}

/// A phrase's matches in one segment: ordinals ascending, with the phrase's frequency in each.
struct PhraseMatches {
    var ordinals: [UInt32] = []
    var frequencies: [UInt32] = []

    init() {}

    /// The documents any of `parts` holds, each with its frequencies summed.
    init(union parts: [PhraseMatches]) {
        var summed: [UInt32: UInt32] = [:]
        for part in parts { for (ordinal, frequency) in zip(part.ordinals, part.frequencies) { summed[ordinal, default: 0] += frequency } }
        ordinals = summed.keys.sorted()
        frequencies = ordinals.map { summed[$0]! }
    }
}

/// Several terms' postings walked as one (ordinals in order, each once), as Lucene's
/// UnionPostingsEnum: a binary heap of the member cursors by their current ordinal.
final class PostingsUnion {
    let members: [PostingsCursor]
    /// (ordinal << 32 | member index), lowest on top: comparing keys reads no cursor, and
    /// the buffer has no copy-on-write or exclusivity checks (a prefix has hundreds of members).
    private let heap: UnsafeMutablePointer<UInt64>
    private let heapCount: Int
    /// Postings of all members: a bound on the documents the union holds.
    let documentFrequency: Int

    init(_ members: [PostingsCursor]) {
        self.members = members
        documentFrequency = members.reduce(0) { $0 + $1.documentFrequency }
        heapCount = members.count
        heap = .allocate(capacity: members.count)
        // Sorted is a heap; an exhausted member sinks to the bottom and stays there.
        let keys = members.indices.map { UInt64(members[$0].advance(to: 0)) << 32 | UInt64($0) }.sorted()
        heap.initialize(from: keys, count: keys.count)
    }

    deinit { heap.deallocate() }

    private func ordinal(_ key: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: key >> 32) }
    private func member(_ key: UInt64) -> Int { Int(truncatingIfNeeded: key & 0xFFFF_FFFF) }

    /// Moves every member below `target` to its first posting at or after it; returns the lowest ordinal.
    func advance(to target: UInt32) -> UInt32 {
        guard heapCount > 0 else { return PostingsCursor.exhausted }
        while ordinal(heap[0]) < target {
            let index = member(heap[0])
            siftDownTop(UInt64(members[index].advance(to: target)) << 32 | UInt64(index))
        }
        return ordinal(heap[0])
    }

    /// The members on the union's current (lowest) ordinal, into `found`: the heap's top and
    /// every node under it with the same ordinal. `found` is reused from document to document.
    func membersOnDocument(into found: inout [Int]) {
        found.removeAll(keepingCapacity: true)
        guard heapCount > 0 else { return }
        let doc = ordinal(heap[0])
        found.append(0)
        // `found` holds heap nodes until the walk ends (children come after their parent).
        var next = 0
        while next < found.count {
            let node = found[next]
            next += 1
            let left = 2 * node + 1, right = left + 1
            if left < heapCount && ordinal(heap[left]) == doc { found.append(left) }
            if right < heapCount && ordinal(heap[right]) == doc { found.append(right) }
        }
        for slot in found.indices { found[slot] = member(heap[found[slot]]) }
    }

    private func siftDownTop(_ moving: UInt64) { siftDownFromTop(moving, in: heap, count: heapCount) }
}

/// Puts `moving` at the top of the binary heap `heap[0..<count]` (lowest key on top) and
/// sifts it down to its place: the heaps of (ordinal << 32 | index) keys of a postings
/// union and of the OR collector's essential terms.
@inline(__always)
func siftDownFromTop(_ moving: UInt64, in heap: UnsafeMutablePointer<UInt64>, count: Int) {
    var parent = 0
    while true {
        var child = 2 * parent + 1
        if child >= count { break }
        if child + 1 < count && heap[child + 1] < heap[child] { child += 1 }
        if moving <= heap[child] { break }
        heap[parent] = heap[child]
        parent = child
    }
    heap[parent] = moving
}

/// A segment's document lengths by ordinal, as the postings writer reads them.
struct DocumentLengths: RandomAccessCollection {
    let reader: SegmentReader
    var startIndex: Int { 0 }
    var endIndex: Int { reader.documentCount }
    subscript(ordinal: Int) -> UInt32 { reader.documentLength(ordinal: ordinal) }
}

struct ScoredTerm {
    let cursor: PostingsCursor
    /// boost × idf.
    let weight: Double
    /// Position among the query's terms: scores are summed in this order.
    let order: Int
    let maxScore: Double
}

/// A `ScoredTerm` as the collectors' loops read it. A class reference read out of an array
/// is retained and released around its use (an eighth of a two-word query's instructions);
/// this one is unretained and lent to each call at +0, so its cursor must be kept alive by
/// another reference while it is read: a collector borrows the terms it was given (or a
/// sorted copy of them, holding the same cursors) for the call.
struct BorrowedTerm {
    private let cursor: Unmanaged<PostingsCursor>
    let weight: Double
    let order: Int
    let maxScore: Double

    /// `terms` in a buffer to deallocate before they are released.
    static func borrow(_ terms: some Collection<ScoredTerm>) -> UnsafeMutableBufferPointer<BorrowedTerm> {
        let borrowed = UnsafeMutableBufferPointer<BorrowedTerm>.allocate(capacity: terms.count)
        _ = borrowed.initialize(from: terms.lazy.map {
            BorrowedTerm(cursor: .passUnretained($0.cursor), weight: $0.weight, order: $0.order, maxScore: $0.maxScore)
        })
        return borrowed
    }

    @inline(__always) var doc: UInt32 { cursor._withUnsafeGuaranteedRef { $0.doc } }
    @inline(__always) var frequency: UInt32 { cursor._withUnsafeGuaranteedRef { $0.frequency } }
    @inline(__always) var blockLastDoc: UInt32 { cursor._withUnsafeGuaranteedRef { $0.blockLastDoc } }

    @inline(__always) @discardableResult
    func advance(to target: UInt32) -> UInt32 { cursor._withUnsafeGuaranteedRef { $0.advance(to: target) } }

    @inline(__always) @discardableResult
    func advanceShallow(to target: UInt32) -> Bool { cursor._withUnsafeGuaranteedRef { $0.advanceShallow(to: target) } }

    @inline(__always) @discardableResult
    func next() -> UInt32 { cursor._withUnsafeGuaranteedRef { $0.next() } }

    @inline(__always)
    func documentLength(in segment: SegmentReader, through: UInt32, mask: DocumentMask?) -> UInt32 {
        cursor._withUnsafeGuaranteedRef { $0.documentLength(in: segment, through: through, mask: mask) }
    }

    /// The bound on this term's score in the block at the skip position (see `PostingsCursor.blockMaxScore`).
    @inline(__always)
    func blockMaxScore(_ bm25: BM25, chosenWith segmentAverage: Double) -> Double {
        cursor._withUnsafeGuaranteedRef { $0.blockMaxScore(weight: weight, bm25, chosenWith: segmentAverage) }
    }

    /// The term's score in the current posting's document, of `length`.
    @inline(__always)
    func score(length: UInt32, _ bm25: BM25) -> Double {
        weight * bm25.saturation(frequency: frequency, length: length)
    }
}

/// Bounds are compared with this much room, so that a bound summed in another order
/// than the exact score (and rounded differently) never prunes a document that would enter.
let boundSlack = 1 + 1e-9

/// The score a document must beat to enter the top k, published by a collector for the lazy
/// phrases it reads, so that a phrase matches positions only where a match could enter.
final class EntryThreshold {
    @exclusivity(unchecked) var value = -Double.infinity
    /// Set by a phrase that left a document out unread: the collector's count is then a lower bound.
    @exclusivity(unchecked) var phraseSkippedAny = false
}

struct TopKCollector: ~Copyable {
    var heap: TopKHeap
    var counted = 0
    var skippedAny = false
    let exactTotalUpTo: Int
    let dynamicPruning: Bool
    /// No document scoring at or below this can enter: the k-th best score of the segments
    /// searched before, whose documents all have lower ids (see `SegmentSet.search`).
    let floor: Double
    /// `threshold`, kept up to date for the query's lazy phrases.
    let entryThreshold: EntryThreshold
    let excluded: [PostingsCursor]
    let mask: DocumentMask?
    /// Scores with this; block bounds were chosen with `segmentAverage` (see `BM25.saturationBound`).
    let bm25: BM25
    let segmentAverage: Double
    /// Per query term (by order): its score in the document being scored, or 0.
    let contributions: UnsafeMutablePointer<Double>
    let termCount: Int
    /// Above this many terms (a prefix's), a document's sum reads only the orders it holds
    /// a score at, `contributedOrders`, kept sorted: it costs its own terms, not the query's.
    static let sumsAllTermsUpTo = 16
    let tracksContributed: Bool
    let contributedOrders: UnsafeMutablePointer<Int32>
    var contributedCount = 0
    /// `collectAny`'s essential terms on the window, as (ordinal << 32 | position in its
    /// order by bound), lowest first: a heap above `scansEssentialsUpTo` terms.
    let essentialHeap: UnsafeMutablePointer<UInt64>
    static let scansEssentialsUpTo = 8

    init(limit: Int, termCount: Int, exactTotalUpTo: Int, dynamicPruning: Bool, floor: Double, entryThreshold: EntryThreshold,
         excluded: [PostingsCursor], mask: DocumentMask?, bm25: BM25, segmentAverage: Double) {
        heap = TopKHeap(limit: limit)
        self.floor = floor
        self.entryThreshold = entryThreshold
        self.mask = mask
        self.bm25 = bm25
        self.segmentAverage = segmentAverage
        self.exactTotalUpTo = exactTotalUpTo
        self.dynamicPruning = dynamicPruning
        self.excluded = excluded
        self.termCount = termCount
        contributions = .allocate(capacity: termCount)
        contributions.initialize(repeating: 0, count: termCount)
        tracksContributed = termCount > Self.sumsAllTermsUpTo
        contributedOrders = .allocate(capacity: tracksContributed ? termCount : 0)
        essentialHeap = .allocate(capacity: termCount > Self.scansEssentialsUpTo ? termCount : 0)
        entryThreshold.value = threshold
    }

    deinit {
        contributions.deallocate()
        contributedOrders.deallocate()
        essentialHeap.deallocate()
    }

    /// Documents scoring at or below this cannot enter; -∞ while every match must be seen.
    var threshold: Double {
        guard dynamicPruning && counted >= exactTotalUpTo else { return -.infinity }
        return heap.isFull ? max(heap.worstScore, floor) : floor
    }

    /// Counts a match and offers it to the heap.
    @inline(__always)
    mutating func offer(score: Double, ordinal: UInt32) {
        counted += 1
        heap.offer(score: score, ordinal: ordinal)
        entryThreshold.value = threshold
    }

    func cannotEnter(_ bound: Double, _ threshold: Double) -> Bool {
        bound * boundSlack <= threshold
    }

    /// Where the next window may start: a filter to one meeting reads that meeting's blocks alone.
    func firstAllowed(atOrAfter ordinal: UInt32) -> UInt32? {
        guard let mask else { return ordinal }
        return mask.firstAllowed(atOrAfter: ordinal)
    }

    /// Inlined into `accept`: as a call a match it was a seventieth of a two-word query,
    /// which has neither a mask nor exclusions.
    @inline(__always)
    func isExcluded(_ ordinal: UInt32) -> Bool {
        if let mask, !mask.admits(ordinal) { return true }
        if excluded.isEmpty { return false }
        for cursor in excluded where cursor.holds(ordinal) { return true }
        return false
    }

    /// A term's score in the document being scored; a term contributes at most once a document.
    mutating func contribute(_ score: Double, order: Int) {
        contributions[order] = score
        guard tracksContributed else { return }
        // Inserted in order: a document holds few of a prefix's terms.
        var slot = contributedCount
        while slot > 0 && Int(contributedOrders[slot - 1]) > order {
            contributedOrders[slot] = contributedOrders[slot - 1]
            slot -= 1
        }
        contributedOrders[slot] = Int32(order)
        contributedCount += 1
    }

    /// Sums the contributions in query order, clears them and offers the document.
    /// (Only the orders contributed to are read when tracked: the others would add zeros.)
    mutating func accept(_ ordinal: UInt32) {
        var score = 0.0
        if tracksContributed {
            for slot in 0..<contributedCount {
                let order = Int(contributedOrders[slot])
                score += contributions[order]
                contributions[order] = 0
            }
            contributedCount = 0
        } else {
            for order in 0..<termCount {
                score += contributions[order]
                contributions[order] = 0
            }
        }
        if isExcluded(ordinal) { return }
        offer(score: score, ordinal: ordinal)
    }

    mutating func clearContributions() {
        if tracksContributed {
            for slot in 0..<contributedCount { contributions[Int(contributedOrders[slot])] = 0 }
            contributedCount = 0
        } else {
            contributions.update(repeating: 0, count: termCount)
        }
    }

    // MARK: Many terms: term at a time

    /// Ordinals scored together by `collectTermAtATime`: its accumulators (a score, a clause
    /// count and a bit per ordinal) stay in cache, and are cleared only where a match was.
    static let termAtATimeWindow = 2048

    /// Every match, scored a window of ordinals at a time (as Lucene's BooleanScorer): each
    /// term's postings in the window add into the window's scores in query order (so that
    /// sums are those `accept` makes), then the window's matches are offered in ordinal
    /// order. A window starts at the lowest ordinal a term is on, so stretches that no term
    /// holds cost nothing. `clauses` index into `terms`.
    mutating func collectTermAtATime(_ scoredTerms: [ScoredTerm], clauses: [[Int]], _ segment: SegmentReader) {
        let window = Self.termAtATimeWindow
        let words = window / 64
        let scores = UnsafeMutablePointer<Double>.allocate(capacity: window)
        scores.initialize(repeating: 0, count: window)
        var matched = [UInt64](repeating: 0, count: words)
        var excludedBits = [UInt64](repeating: 0, count: words)
        // With several clauses, how many each matched document holds; a clause of several
        // terms marks each document once, in its own bits.
        let countsClauses = clauses.count > 1
        var clausesHeld = [UInt16](repeating: 0, count: countsClauses ? window : 0)
        var clausesOfTerm = [[Int]](repeating: [], count: scoredTerms.count)
        if countsClauses {
            for (index, clause) in clauses.enumerated() { for term in clause { clausesOfTerm[term].append(index) } }
        }
        var heldBy = clauses.map { countsClauses && $0.count > 1 ? [UInt64](repeating: 0, count: words) : [] }
        defer { scores.deallocate() }
        let terms = BorrowedTerm.borrow(scoredTerms)
        defer { withExtendedLifetime(scoredTerms) { terms.deallocate() } }
        for term in terms { term.advance(to: 0) }
        while true {
            var lowest = PostingsCursor.exhausted
            for term in terms { lowest = min(lowest, term.doc) }
            guard lowest != PostingsCursor.exhausted, let start = firstAllowed(atOrAfter: lowest) else { return }
            if start > lowest {
                for term in terms { term.advance(to: start) }
                continue
            }
            let base = start & ~UInt32(window - 1)
            let end = UInt64(base) + UInt64(window)
            for (index, term) in terms.enumerated() {
                var ordinal = term.doc
                while UInt64(ordinal) < end {
                    let slot = Int(ordinal - base)
                    scores[slot] += term.weight * bm25.saturation(frequency: term.frequency,
                                                                  length: segment.documentLength(ordinal: Int(ordinal)))
                    matched[slot >> 6] |= 1 << UInt64(slot & 63)
                    for clause in clausesOfTerm[index] {
                        if heldBy[clause].isEmpty {
                            clausesHeld[slot] &+= 1
                        } else if heldBy[clause][slot >> 6] & (1 << UInt64(slot & 63)) == 0 {
                            heldBy[clause][slot >> 6] |= 1 << UInt64(slot & 63)
                            clausesHeld[slot] &+= 1
                        }
                    }
                    ordinal = term.next()
                }
            }
            for cursor in excluded {
                var ordinal = cursor.advance(to: base)
                while UInt64(ordinal) < end {
                    let slot = Int(ordinal - base)
                    excludedBits[slot >> 6] |= 1 << UInt64(slot & 63)
                    ordinal = cursor.next()
                }
            }
            for word in 0..<words where matched[word] != 0 {
                var bits = matched[word]
                matched[word] = 0
                while bits != 0 {
                    let slot = word << 6 | bits.trailingZeroBitCount
                    bits &= bits - 1
                    let score = scores[slot]
                    scores[slot] = 0
                    if countsClauses {
                        let held = Int(clausesHeld[slot])
                        clausesHeld[slot] = 0
                        guard held == clauses.count else { continue }
                    }
                    guard excludedBits[word] & (1 << UInt64(slot & 63)) == 0 else { continue }
                    let ordinal = base + UInt32(slot)
                    if let mask, !mask.admits(ordinal) { continue }
                    offer(score: score, ordinal: ordinal)
                }
            }
            // Excluded documents are marked whether or not they matched.
            if !excluded.isEmpty { for word in 0..<words { excludedBits[word] = 0 } }
            for clause in heldBy.indices where !heldBy[clause].isEmpty {
                for word in 0..<words { heldBy[clause][word] = 0 }
            }
        }
    }

    // MARK: OR: block-max MaxScore

    mutating func collectAny(_ terms: [ScoredTerm], _ segment: SegmentReader) {
        let bm25 = self.bm25
        // Ascending bound: a prefix of this order is non-essential.
        let byBound = BorrowedTerm.borrow(terms.sorted { $0.maxScore < $1.maxScore })
        defer { withExtendedLifetime(terms) { byBound.deallocate() } }
        var boundBelow = [0.0]
        for term in byBound { boundBelow.append(boundBelow.last! + term.maxScore) }
        var firstEssential = 0
        var windowBounds = [Double](repeating: 0, count: byBound.count)
        var windowStart: UInt32 = 0
        while true {
            var threshold = self.threshold
            while firstEssential < byBound.count && cannotEnter(boundBelow[firstEssential + 1], threshold) {
                firstEssential += 1
            }
            if firstEssential > 0 { skippedAny = true }
            if firstEssential == byBound.count { return }
            guard let allowedStart = firstAllowed(atOrAfter: windowStart) else { return }
            windowStart = allowedStart

            var windowEnd = UInt32.max
            var anyLeft = false
            for position in firstEssential..<byBound.count where byBound[position].advanceShallow(to: windowStart) {
                anyLeft = true
                windowEnd = min(windowEnd, byBound[position].blockLastDoc)
            }
            if !anyLeft { return }
            var windowBound = 0.0
            for position in 0..<byBound.count {
                let term = byBound[position]
                if !term.advanceShallow(to: windowStart) {
                    windowBounds[position] = 0
                } else if position >= firstEssential || term.blockLastDoc >= windowEnd {
                    windowBounds[position] = term.blockMaxScore(bm25, chosenWith: segmentAverage)
                } else {
                    windowBounds[position] = term.maxScore
                }
                windowBound += windowBounds[position]
            }
            if cannotEnter(windowBound, threshold) {
                skippedAny = true
                windowStart = windowEnd + 1
                continue
            }

            var nonEssentialBound = 0.0
            for position in 0..<firstEssential { nonEssentialBound += windowBounds[position] }
            // Many essential terms (a prefix's) sit in a heap by ordinal: a document then costs
            // its own terms, where a scan costs all of them twice.
            let heaped = byBound.count - firstEssential > Self.scansEssentialsUpTo
            let heap = essentialHeap
            var heapCount = 0
            for position in firstEssential..<byBound.count {
                let ordinal = byBound[position].advance(to: windowStart)
                if heaped && ordinal <= windowEnd { Self.push(UInt64(ordinal) << 32 | UInt64(position), into: heap, count: &heapCount) }
            }
            while true {
                var ordinal = PostingsCursor.exhausted
                // An essential term on the document, whose cursor reads its length.
                var onDocument = firstEssential
                if heaped {
                    if heapCount > 0 {
                        ordinal = UInt32(truncatingIfNeeded: heap[0] >> 32)
                        onDocument = Int(truncatingIfNeeded: heap[0] & 0xFFFF_FFFF)
                    }
                } else {
                    for position in firstEssential..<byBound.count where byBound[position].doc < ordinal {
                        ordinal = byBound[position].doc
                        onDocument = position
                    }
                }
                if ordinal > windowEnd { break }
                if let mask, !mask.admits(ordinal) {
                    // Passed over unscored, to the filters' next document.
                    guard let next = mask.firstAllowed(atOrAfter: ordinal + 1), next <= windowEnd else { break }
                    if heaped {
                        while heapCount > 0 && heap[0] >> 32 < UInt64(next) {
                            let position = Int(truncatingIfNeeded: heap[0] & 0xFFFF_FFFF)
                            Self.replaceTop(of: heap, count: &heapCount, position: position,
                                            ordinal: byBound[position].advance(to: next), windowEnd: windowEnd)
                        }
                    } else {
                        for position in firstEssential..<byBound.count { byBound[position].advance(to: next) }
                    }
                    continue
                }
                let length = byBound[onDocument].documentLength(in: segment, through: windowEnd, mask: mask)
                var partial = 0.0
                if heaped {
                    while heapCount > 0 && heap[0] >> 32 == UInt64(ordinal) {
                        let position = Int(truncatingIfNeeded: heap[0] & 0xFFFF_FFFF)
                        let term = byBound[position]
                        let contribution = term.score(length: length, bm25)
                        contribute(contribution, order: term.order)
                        partial += contribution
                        // At the window's end the next window moves the cursor, decoding only if it is not skipped.
                        Self.replaceTop(of: heap, count: &heapCount, position: position,
                                        ordinal: ordinal < windowEnd ? term.next() : PostingsCursor.exhausted, windowEnd: windowEnd)
                    }
                } else {
                    for position in firstEssential..<byBound.count where byBound[position].doc == ordinal {
                        let term = byBound[position]
                        let contribution = term.score(length: length, bm25)
                        contribute(contribution, order: term.order)
                        partial += contribution
                        // At the window's end the next window moves the cursor, decoding only if it is not skipped.
                        if ordinal < windowEnd { term.next() }
                    }
                }
                threshold = self.threshold
                var remaining = nonEssentialBound
                var competitive = !cannotEnter(partial + remaining, threshold)
                var position = firstEssential - 1
                while competitive && position >= 0 {
                    let term = byBound[position]
                    remaining -= windowBounds[position]
                    if term.advance(to: ordinal) == ordinal {
                        let contribution = term.score(length: length, bm25)
                        contribute(contribution, order: term.order)
                        partial += contribution
                    }
                    competitive = !cannotEnter(partial + remaining, threshold)
                    position -= 1
                }
                if competitive {
                    accept(ordinal)
                } else {
                    skippedAny = true
                    clearContributions()
                }
                if ordinal == windowEnd { break }
            }
            windowStart = windowEnd + 1
        }
    }

    /// Adds `key` to the binary heap `heap[0..<count]`, lowest key on top.
    static func push(_ key: UInt64, into heap: UnsafeMutablePointer<UInt64>, count: inout Int) {
        var child = count
        count += 1
        while child > 0 {
            let parent = (child - 1) / 2
            if heap[parent] <= key { break }
            heap[child] = heap[parent]
            child = parent
        }
        heap[child] = key
    }

    /// Puts the essential term at `position` (the heap's top) back at its new `ordinal`, or
    /// drops it if that is past the window.
    static func replaceTop(of heap: UnsafeMutablePointer<UInt64>, count: inout Int, position: Int, ordinal: UInt32, windowEnd: UInt32) {
        let moving: UInt64
        if ordinal <= windowEnd {
            moving = UInt64(ordinal) << 32 | UInt64(position)
        } else {
            count -= 1
            if count == 0 { return }
            moving = heap[count]
        }
        siftDownFromTop(moving, in: heap, count: count)
    }

    // MARK: AND of ORs: block-max intersection

    /// `clauses` index into `terms`; a term may sit in more than one clause.
    mutating func collectAll(_ terms: [ScoredTerm], clauses: [[Int]], _ segment: SegmentReader) {
        let bm25 = self.bm25
        func postings(_ clause: [Int]) -> Int { clause.reduce(0) { $0 + terms[$1].cursor.documentFrequency } }
        let byRarity = clauses.sorted { postings($0) < postings($1) }
        let lead = byRarity[0]
        // The other clauses' terms end to end, clause `c` ending before `otherEnds[c]`: a
        // candidate walks them without retaining each clause's array (a tenth of this loop's time).
        let otherTerms = Array(byRarity.dropFirst().joined())
        var otherEnds: [Int] = []
        for clause in byRarity.dropFirst() { otherEnds.append((otherEnds.last ?? 0) + clause.count) }
        let outsideLead = terms.indices.filter { !lead.contains($0) }
        var termBounds = [Double](repeating: 0, count: terms.count)
        var hasPostingsLeft = [Bool](repeating: true, count: terms.count)
        let borrowed = BorrowedTerm.borrow(terms)
        defer { withExtendedLifetime(terms) { borrowed.deallocate() } }

        /// The lowest ordinal a clause holds at or after `target`. (Left to itself the compiler
        /// calls it, once a candidate.)
        @inline(__always)
        func advance(_ clause: [Int], to target: UInt32) -> UInt32 {
            var lowest = PostingsCursor.exhausted
            for term in clause { lowest = min(lowest, borrowed[term].advance(to: target)) }
            return lowest
        }
        /// The same for the other clause whose terms are `otherTerms[slots]`.
        func advanceOther(_ slots: Range<Int>, to target: UInt32) -> UInt32 {
            var lowest = PostingsCursor.exhausted
            for slot in slots { lowest = min(lowest, borrowed[otherTerms[slot]].advance(to: target)) }
            return lowest
        }

        var windowStart: UInt32 = 0
        while true {
            guard let allowedStart = firstAllowed(atOrAfter: windowStart) else { return }
            windowStart = allowedStart
            var windowEnd = UInt32.max
            for (index, term) in borrowed.enumerated() {
                hasPostingsLeft[index] = term.advanceShallow(to: windowStart)
                if hasPostingsLeft[index] {
                    windowEnd = min(windowEnd, term.blockLastDoc)
                    termBounds[index] = term.blockMaxScore(bm25, chosenWith: segmentAverage)
                } else {
                    termBounds[index] = 0
                }
            }
            // A clause whose terms have no postings left ends the query.
            if byRarity.contains(where: { $0.allSatisfy { !hasPostingsLeft[$0] } }) { return }
            let othersBound = outsideLead.reduce(0) { $0 + termBounds[$1] }
            if cannotEnter(othersBound + lead.reduce(0) { $0 + termBounds[$1] }, threshold) {
                skippedAny = true
                windowStart = windowEnd + 1
                continue
            }
            var ordinal = advance(lead, to: windowStart)
            candidates: while ordinal <= windowEnd {
                if let mask, !mask.admits(ordinal) {
                    // Passed over unread, to the filters' next document.
                    guard let next = mask.firstAllowed(atOrAfter: ordinal + 1), next <= windowEnd else { break }
                    ordinal = advance(lead, to: next)
                    continue
                }
                // The other clauses are read first: they are in their decoded blocks, while the
                // document's length is a cache miss (three quarters of a two-word query's time;
                // now read for the rest of the window at once, see `PostingsCursor.documentLength`).
                var clauseStart = 0
                for clauseEnd in otherEnds {
                    let next = advanceOther(clauseStart..<clauseEnd, to: ordinal)
                    if next > ordinal {
                        // Past the window, the lead clause is moved by the next window, if it is not skipped.
                        if next > windowEnd { break candidates }
                        ordinal = advance(lead, to: next)
                        continue candidates
                    }
                    clauseStart = clauseEnd
                }
                var onDocument = lead[0]
                for index in lead where borrowed[index].doc == ordinal {
                    onDocument = index
                    break
                }
                let length = borrowed[onDocument].documentLength(in: segment, through: windowEnd, mask: mask)
                // The lead clause's own score may already rule the document out.
                var leadScore = 0.0
                for index in lead where borrowed[index].doc == ordinal {
                    let term = borrowed[index]
                    let contribution = term.score(length: length, bm25)
                    contribute(contribution, order: term.order)
                    leadScore += contribution
                }
                if cannotEnter(leadScore + othersBound, threshold) {
                    skippedAny = true
                    clearContributions()
                } else {
                    for index in outsideLead where borrowed[index].doc == ordinal {
                        let term = borrowed[index]
                        contribute(term.score(length: length, bm25), order: term.order)
                    }
                    accept(ordinal)
                }
                if ordinal == windowEnd { break }
                ordinal = advance(lead, to: ordinal + 1)
            }
            // Every match holds the lead clause.
            if ordinal == PostingsCursor.exhausted { return }
            // While every match is counted no window is pruned: past the lead's next posting at once.
            windowStart = ordinal > windowEnd && threshold == -.infinity ? ordinal : windowEnd + 1
        }
    }
}

/// The k best (score, ordinal) pairs seen, as a binary heap with the worst on top.
struct TopKHeap {
    struct Entry {
        var score: Double
        var ordinal: UInt32
    }

    private var entries: [Entry] = []
    let limit: Int

    init(limit: Int) {
        self.limit = limit
        // A limit of "everything" must not reserve that much.
        entries.reserveCapacity(min(limit, 1024))
    }

    var isFull: Bool { entries.count == limit }
    var worstScore: Double { entries[0].score }

    /// Lower score is worse; at equal scores the higher ordinal is.
    private static func isWorse(_ a: Entry, than b: Entry) -> Bool {
        a.score < b.score || (a.score == b.score && a.ordinal > b.ordinal)
    }

    /// Inlined up to the test that most offers fail once the heap is full.
    @inline(__always)
    mutating func offer(score: Double, ordinal: UInt32) {
        let entry = Entry(score: score, ordinal: ordinal)
        if entries.count == limit && !Self.isWorse(entries[0], than: entry) { return }
        insert(entry)
    }

    /// Adds `entry`: in place of the worst when the heap is full (`offer` found it better).
    @inline(never)
    private mutating func insert(_ entry: Entry) {
        if entries.count < limit {
            entries.append(entry)
            var child = entries.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard Self.isWorse(entries[child], than: entries[parent]) else { break }
                entries.swapAt(child, parent)
                child = parent
            }
        } else {
            entries[0] = entry
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var worst = parent
                if left < entries.count && Self.isWorse(entries[left], than: entries[worst]) { worst = left }
                if right < entries.count && Self.isWorse(entries[right], than: entries[worst]) { worst = right }
                if worst == parent { break }
                entries.swapAt(parent, worst)
                parent = worst
            }
        }
    }

    func sortedBestFirst() -> [Entry] {
        entries.sorted { Self.isWorse($1, than: $0) }
    }
}
