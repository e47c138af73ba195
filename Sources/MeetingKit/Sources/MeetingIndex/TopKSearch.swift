// Top-k retrieval over one segment with exact BM25 (see BM25) and dynamic pruning.
//
// Documents are visited in ordinal order, so ties break by the rule the results
// follow: higher score first, then lower document id (ordinals ascend with ids). A
// document that only ties the k-th best score cannot enter, which is what lets
// pruning drop any document whose score bound is not above the k-th best score.
//
// `.any` (OR) runs block-max MaxScore (Turtle & Flood 1995; with block maxima as in
// Lucene's MaxScoreBulkScorer): terms whose summed score bounds cannot reach the
// k-th best score are "non-essential" and only looked up for documents that an
// essential term holds; windows of ordinals (up to the nearest end of an essential
// term's block) whose summed block maxima cannot reach it are skipped unread.
// `.all` (AND) intersects, driven by the rarest term, skipping windows the same way,
// and reads the other terms for a document only if the rarest term's score plus their
// block maxima can enter.
// Excluded (NOT) terms are looked up for each document that would be counted or kept.
//
// `total` counts every match until `exactTotalUpTo` have been counted; only then may
// pruning skip documents, and `total` is then the number counted, a lower bound, with
// `totalExact` false. A one-term query without exclusions needs no counting: its
// total is the term's document frequency.

public struct IndexQuery: Sendable {
    public enum Mode: Sendable {
        /// A document matches when it holds any term (OR).
        case any
        /// A document matches when it holds every term (AND).
        case all
    }

    public struct Term: Sendable {
        public var text: String
        /// Multiplies the term's BM25 weight; must be positive.
        public var boost: Double

        public init(_ text: String, boost: Double = 1) {
            self.text = text
            self.boost = boost
        }
    }

    /// Repeated terms count once, with their boosts summed.
    public var terms: [Term]
    public var excluded: [String]
    public var mode: Mode
    public var limit: Int
    public var exactTotalUpTo: Int
    /// False scores every match: the exhaustive path the benchmark measures pruning against.
    public var dynamicPruning: Bool

    public init(terms: [Term], excluded: [String] = [], mode: Mode = .all, limit: Int = 10,
                exactTotalUpTo: Int = 1000, dynamicPruning: Bool = true) {
        self.terms = terms
        self.excluded = excluded
        self.mode = mode
        self.limit = limit
        self.exactTotalUpTo = exactTotalUpTo
        self.dynamicPruning = dynamicPruning
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

extension SegmentReader {
    public func search(_ query: IndexQuery) -> IndexSearchResult {
        var merged: [(text: String, boost: Double)] = []
        for term in query.terms {
            precondition(term.boost > 0, "a term's boost must be positive")
            if let index = merged.firstIndex(where: { $0.text == term.text }) { merged[index].boost += term.boost }
            else { merged.append((term.text, term.boost)) }
        }
        var scored: [ScoredTerm] = []
        for (order, term) in merged.enumerated() {
            guard let info = lookup(term.text) else {
                if query.mode == .all { return IndexSearchResult(hits: [], total: 0, totalExact: true, blocksDecoded: 0, blocksInQueryTerms: 0) }
                continue
            }
            let weight = term.boost * BM25.idf(documentFrequency: info.documentFrequency, documentCount: documentCount)
            scored.append(ScoredTerm(cursor: postings(info), weight: weight, order: order,
                                     maxScore: weight * bm25.saturation(frequency: info.maxScoreFrequency, length: info.maxScoreLength)))
        }
        let excluded = Set(query.excluded).compactMap { lookup($0) }.map(postings)
        guard !scored.isEmpty, query.limit > 0 else {
            return IndexSearchResult(hits: [], total: 0, totalExact: true, blocksDecoded: 0, blocksInQueryTerms: 0)
        }
        let countsMatches = scored.count > 1 || !excluded.isEmpty
        var collector = TopKCollector(limit: query.limit, termCount: merged.count,
                                      exactTotalUpTo: countsMatches ? query.exactTotalUpTo : 0,
                                      dynamicPruning: query.dynamicPruning, excluded: excluded)
        switch query.mode {
        case .any: collector.collectAny(scored, self)
        case .all: collector.collectAll(scored, self)
        }
        let allCursors = scored.map(\.cursor) + excluded
        return IndexSearchResult(
            hits: collector.heap.sortedBestFirst().map { IndexHit(documentID: documentID(ordinal: Int($0.ordinal)), score: $0.score) },
            total: countsMatches ? collector.counted : scored[0].cursor.documentFrequency,
            totalExact: countsMatches ? !collector.skippedAny : true,
            blocksDecoded: allCursors.reduce(0) { $0 + $1.blocksDecoded },
            blocksInQueryTerms: allCursors.reduce(0) { $0 + $1.blockCount })
    }
}

struct ScoredTerm {
    let cursor: PostingsCursor
    /// boost × idf.
    let weight: Double
    /// Position among the query's terms: scores are summed in this order.
    let order: Int
    let maxScore: Double
}

/// Bounds are compared with this much room, so that a bound summed in another order
/// than the exact score (and rounded differently) never prunes a document that would enter.
let boundSlack = 1 + 1e-9

struct TopKCollector: ~Copyable {
    var heap: TopKHeap
    var counted = 0
    var skippedAny = false
    let exactTotalUpTo: Int
    let dynamicPruning: Bool
    let excluded: [PostingsCursor]
    /// Per query term (by order): its score in the document being scored, or 0.
    let contributions: UnsafeMutablePointer<Double>
    let termCount: Int

    init(limit: Int, termCount: Int, exactTotalUpTo: Int, dynamicPruning: Bool, excluded: [PostingsCursor]) {
        heap = TopKHeap(limit: limit)
        self.exactTotalUpTo = exactTotalUpTo
        self.dynamicPruning = dynamicPruning
        self.excluded = excluded
        self.termCount = termCount
        contributions = .allocate(capacity: termCount)
        contributions.initialize(repeating: 0, count: termCount)
    }

    deinit { contributions.deallocate() }

    /// Documents scoring at or below this cannot enter; -∞ while every match must be seen.
    var threshold: Double {
        dynamicPruning && counted >= exactTotalUpTo && heap.isFull ? heap.worstScore : -.infinity
    }

    func cannotEnter(_ bound: Double, _ threshold: Double) -> Bool {
        bound * boundSlack <= threshold
    }

    func isExcluded(_ ordinal: UInt32) -> Bool {
        for cursor in excluded where cursor.advance(to: ordinal) == ordinal { return true }
        return false
    }

    /// Sums the contributions in query order, clears them and offers the document.
    mutating func accept(_ ordinal: UInt32) {
        var score = 0.0
        for order in 0..<termCount {
            score += contributions[order]
            contributions[order] = 0
        }
        if isExcluded(ordinal) { return }
        counted += 1
        heap.offer(score: score, ordinal: ordinal)
    }

    func clearContributions() {
        contributions.update(repeating: 0, count: termCount)
    }

    // MARK: OR: block-max MaxScore

    mutating func collectAny(_ terms: [ScoredTerm], _ segment: SegmentReader) {
        let bm25 = segment.bm25
        // Ascending bound: a prefix of this order is non-essential.
        let byBound = terms.sorted { $0.maxScore < $1.maxScore }
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

            var windowEnd = UInt32.max
            var anyLeft = false
            for position in firstEssential..<byBound.count where byBound[position].cursor.advanceShallow(to: windowStart) {
                anyLeft = true
                windowEnd = min(windowEnd, byBound[position].cursor.blockLastDoc)
            }
            if !anyLeft { return }
            var windowBound = 0.0
            for position in 0..<byBound.count {
                let term = byBound[position]
                if !term.cursor.advanceShallow(to: windowStart) {
                    windowBounds[position] = 0
                } else if position >= firstEssential || term.cursor.blockLastDoc >= windowEnd {
                    windowBounds[position] = term.cursor.blockMaxScore(weight: term.weight, bm25)
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
            for position in firstEssential..<byBound.count { byBound[position].cursor.advance(to: windowStart) }
            while true {
                var ordinal = PostingsCursor.exhausted
                for position in firstEssential..<byBound.count { ordinal = min(ordinal, byBound[position].cursor.doc) }
                if ordinal > windowEnd { break }
                let length = segment.documentLength(ordinal: Int(ordinal))
                var partial = 0.0
                for position in firstEssential..<byBound.count where byBound[position].cursor.doc == ordinal {
                    let term = byBound[position]
                    let contribution = term.weight * bm25.saturation(frequency: term.cursor.frequency, length: length)
                    contributions[term.order] = contribution
                    partial += contribution
                    term.cursor.next()
                }
                threshold = self.threshold
                var remaining = nonEssentialBound
                var competitive = !cannotEnter(partial + remaining, threshold)
                var position = firstEssential - 1
                while competitive && position >= 0 {
                    let term = byBound[position]
                    remaining -= windowBounds[position]
                    if term.cursor.advance(to: ordinal) == ordinal {
                        let contribution = term.weight * bm25.saturation(frequency: term.cursor.frequency, length: length)
                        contributions[term.order] = contribution
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
            }
            windowStart = windowEnd + 1
        }
    }

    // MARK: AND: block-max intersection

    mutating func collectAll(_ terms: [ScoredTerm], _ segment: SegmentReader) {
        let bm25 = segment.bm25
        let byRarity = terms.sorted { $0.cursor.documentFrequency < $1.cursor.documentFrequency }
        let lead = byRarity[0].cursor
        var windowStart: UInt32 = 0
        while true {
            var windowEnd = UInt32.max
            var othersBound = 0.0
            for (position, term) in byRarity.enumerated() {
                guard term.cursor.advanceShallow(to: windowStart) else { return }
                windowEnd = min(windowEnd, term.cursor.blockLastDoc)
                if position > 0 { othersBound += term.cursor.blockMaxScore(weight: term.weight, bm25) }
            }
            if cannotEnter(othersBound + lead.blockMaxScore(weight: byRarity[0].weight, bm25), threshold) {
                skippedAny = true
                windowStart = windowEnd + 1
                continue
            }
            var ordinal = lead.advance(to: windowStart)
            candidates: while ordinal <= windowEnd {
                // The lead's own score may already rule the document out, before the others are read.
                let length = segment.documentLength(ordinal: Int(ordinal))
                let leadContribution = byRarity[0].weight * bm25.saturation(frequency: lead.frequency, length: length)
                if cannotEnter(leadContribution + othersBound, threshold) {
                    skippedAny = true
                    ordinal = lead.next()
                    continue
                }
                for term in byRarity.dropFirst() {
                    let other = term.cursor.advance(to: ordinal)
                    if other > ordinal {
                        ordinal = lead.advance(to: other)
                        continue candidates
                    }
                }
                contributions[byRarity[0].order] = leadContribution
                for term in byRarity.dropFirst() {
                    contributions[term.order] = term.weight * bm25.saturation(frequency: term.cursor.frequency, length: length)
                }
                accept(ordinal)
                ordinal = lead.next()
            }
            windowStart = windowEnd + 1
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
        entries.reserveCapacity(limit)
    }

    var isFull: Bool { entries.count == limit }
    var worstScore: Double { entries[0].score }

    /// Lower score is worse; at equal scores the higher ordinal is.
    private static func isWorse(_ a: Entry, than b: Entry) -> Bool {
        a.score < b.score || (a.score == b.score && a.ordinal > b.ordinal)
    }

    mutating func offer(score: Double, ordinal: UInt32) {
        let entry = Entry(score: score, ordinal: ordinal)
        if entries.count < limit {
            entries.append(entry)
            var child = entries.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard Self.isWorse(entries[child], than: entries[parent]) else { break }
                entries.swapAt(child, parent)
                child = parent
            }
        } else if Self.isWorse(entries[0], than: entry) {
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
