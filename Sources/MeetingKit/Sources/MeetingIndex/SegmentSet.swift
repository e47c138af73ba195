// An index of several segments, each with the ids of its deleted documents, searched
// as one: every segment is scored with the statistics of the live documents of all
// of them (N, average length, document frequencies), so that scores are exactly those
// of one segment built from the live documents alone.

import Glibc

/// One segment's bytes in memory of their own, 8-byte aligned; immutable, so that a new
/// set (after an ingest) can share them with the set it replaces instead of reading them again.
public final class SegmentBytes: @unchecked Sendable {
    /// What the caller knows the segment by (its row id).
    public let key: Int64
    let buffer: UnsafeMutableRawBufferPointer
    private let isMapped: Bool

    public init(key: Int64, copying bytes: UnsafeRawBufferPointer) {
        self.key = key
        buffer = .allocate(byteCount: bytes.count, alignment: 8)
        buffer.copyMemory(from: bytes)
        isMapped = false
    }

    /// `count` bytes, handed over in order a piece at a time by `copy` (each piece to its
    /// `write`, which says whether it was written), copied into an unnamed file in
    /// `directory` (gone with the last mapping) and mapped from it, read-only: the pages
    /// are the kernel's page cache, which it can drop and read again, not the process's
    /// anonymous memory, and a daemon's index stays off its heap; nor is the segment ever
    /// whole in memory on its way. Nil where the directory takes no such file or a write fails.
    public init?(key: Int64, count: Int, in directory: String,
                 copying copy: (_ write: (UnsafeRawBufferPointer) -> Bool) throws -> Void) rethrows {
        guard count > 0, let fd = UnnamedFile.open(in: directory) else { return nil }
        defer { close(fd) }
        var written = 0, failed = false
        try copy { piece in
            failed = failed || !UnnamedFile.write(fd, piece)
            written += piece.count
            return !failed
        }
        guard !failed, written == count,
              let mapped = mmap(nil, count, PROT_READ, MAP_SHARED, fd, 0), mapped != MAP_FAILED else { return nil }
        self.key = key
        buffer = UnsafeMutableRawBufferPointer(start: mapped, count: count)
        isMapped = true
    }

    /// Lets a mapped segment's resident pages go (touched again, they come back from the
    /// page cache): reading through a segment once then keeps resident only what was read lately.
    public func releaseResidentPages() {
        if isMapped { madvise(buffer.baseAddress, buffer.count, MADV_DONTNEED) }
    }

    deinit {
        if isMapped { munmap(buffer.baseAddress, buffer.count) } else { buffer.deallocate() }
    }
}

public final class SegmentSet: Sendable {
    public struct Part: Sendable {
        public let bytes: SegmentBytes
        public let reader: SegmentReader
        /// Ordinals of deleted documents, ascending.
        public let deletedOrdinals: [UInt32]
        let deletedTokens: UInt64
        /// The live documents, made once for the queries with no filter; nil when all are.
        let liveMask: DocumentMask?

        /// How many live documents of the segment hold the term of `info`, an entry of its dictionary.
        func liveDocumentFrequency(_ info: TermInfo) -> Int {
            guard !deletedOrdinals.isEmpty else { return info.documentFrequency }
            let cursor = reader.postings(info)
            return info.documentFrequency - deletedOrdinals.count(where: { cursor.advance(to: $0) == $0 })
        }

        /// The live documents whose ids lie in `idRanges` (ascending, disjoint), or nil when there are none.
        func mask(within idRanges: [ClosedRange<UInt32>]) -> DocumentMask? {
            let allowed = reader.ordinalRanges(ofDocumentIDs: idRanges)
            if allowed.isEmpty { return nil }
            return DocumentMask(deleted: deletedOrdinals, documentCount: reader.documentCount, allowed: allowed)
        }
    }

    public let parts: [Part]
    /// Indexes into `parts` in ascending order of their documents' ids (segments hold
    /// disjoint ranges): searched in this order, a document can only tie the best of the
    /// segments before it with a higher id, so their k-th best score bounds what may enter.
    private let idOrder: [Int]
    /// Live documents and their tokens, across the segments.
    public let documentCount: Int
    public let totalTokens: UInt64
    public let bm25: BM25

    /// `segments`: each segment's bytes (the parts keep them alive) and the ids of its
    /// deleted documents (ids it does not hold are ignored).
    public init(_ segments: [(bytes: SegmentBytes, deletedIDs: [UInt32])]) throws(SegmentFormatError) {
        var parts: [Part] = []
        for (bytes, deletedIDs) in segments {
            let reader = try SegmentReader(UnsafeRawBufferPointer(bytes.buffer))
            let deleted = deletedIDs.compactMap { reader.ordinal(ofDocumentID: $0) }.sorted()
            let tokens = deleted.reduce(UInt64(0)) { $0 + UInt64(reader.documentLength(ordinal: Int($1))) }
            let liveMask = deleted.isEmpty ? nil : DocumentMask(deleted: deleted, documentCount: reader.documentCount, allowed: nil)
            parts.append(Part(bytes: bytes, reader: reader, deletedOrdinals: deleted, deletedTokens: tokens, liveMask: liveMask))
        }
        self.parts = parts
        idOrder = parts.indices.filter { parts[$0].reader.documentCount > 0 }
            .sorted { parts[$0].reader.documentID(ordinal: 0) < parts[$1].reader.documentID(ordinal: 0) }
        documentCount = parts.reduce(0) { $0 + $1.reader.documentCount - $1.deletedOrdinals.count }
        totalTokens = parts.reduce(0) { $0 + $1.reader.totalTokens - $1.deletedTokens }
        bm25 = BM25(totalTokens: totalTokens, documentCount: documentCount)
    }

    /// Live documents holding `term`.
    public func documentFrequency(_ term: String) -> Int {
        parts.reduce(0) { count, part in count + (part.reader.lookup(term).map(part.liveDocumentFrequency) ?? 0) }
    }

    /// The best `query.limit` live documents whose ids lie in `idRanges` (ascending,
    /// disjoint; nil for all), best first: higher score, then lower id. The segments share
    /// one count up to `query.exactTotalUpTo`, and each is pruned with the best found before it.
    public func search(_ query: IndexQuery, idRanges: [ClosedRange<UInt32>]? = nil) -> IndexSearchResult {
        // A segment's mask is made only if it can match.
        search(query, mask: idRanges.map { ranges in { self.parts[$0].mask(within: ranges) } })
    }

    /// The best `query.limit` live documents that `masks` (made by this set) admit, as `search(_:idRanges:)` finds them.
    public func search(_ query: IndexQuery, within masks: SegmentMasks) -> IndexSearchResult {
        precondition(masks.set === self, "masks made by another segment set")
        return search(query, mask: { masks.masks[$0] })
    }

    /// `mask`: the filter's mask of part `index`, nil when it admits none of its documents; nil for no filter.
    private func search(_ query: IndexQuery, mask filterMask: ((_ index: Int) -> DocumentMask?)?) -> IndexSearchResult {
        // Compiled once, then bound to each segment that can match (as Lucene's Weight and Scorer).
        let compiled = CompiledQuery(query)
        let wordCount = compiled.words.count
        // Each word looked up once per segment: its entries give the corpus's document frequency,
        // and each segment's search binds its own instead of looking the words up again.
        var entries = [TermInfo?](repeating: nil, count: parts.count * wordCount)
        var idf: [Double] = []
        idf.reserveCapacity(wordCount)
        for (word, text) in compiled.words.enumerated() {
            var count = 0
            for (index, part) in parts.enumerated() {
                guard let info = part.reader.lookup(text) else { continue }
                entries[index * wordCount + word] = info
                count += part.liveDocumentFrequency(info)
            }
            idf.append(BM25.idf(documentFrequency: count, documentCount: documentCount))
        }
        let weights = compiled.weights(idf: idf)
        // By id, as a segment's collector keeps them: a tie goes to the lower id.
        var best = TopKHeap(limit: query.limit)
        var total = 0, totalExact = true, blocksDecoded = 0, blocksInQueryTerms = 0
        for index in idOrder {
            let segmentEntries = entries[index * wordCount ..< (index + 1) * wordCount]
            guard Self.canMatch(compiled, entries: segmentEntries) else { continue }
            let part = parts[index]
            var mask = part.liveMask
            if let filterMask {
                guard let filtered = filterMask(index) else { continue }
                mask = filtered
            }
            let found = part.reader.search(compiled, weights: weights, entries: segmentEntries, scoring: bm25, mask: mask,
                                           floor: query.limit > 0 && best.isFull ? best.worstScore : -.infinity,
                                           exactTotalUpTo: max(0, query.exactTotalUpTo - total))
            for hit in found.hits { best.offer(score: hit.score, ordinal: hit.documentID) }
            total += found.total
            totalExact = totalExact && found.totalExact
            blocksDecoded += found.blocksDecoded
            blocksInQueryTerms += found.blocksInQueryTerms
        }
        return IndexSearchResult(hits: best.sortedBestFirst().map { IndexHit(documentID: $0.ordinal, score: $0.score) },
                                 total: total, totalExact: totalExact,
                                 blocksDecoded: blocksDecoded, blocksInQueryTerms: blocksInQueryTerms)
    }

    /// Whether a segment whose dictionary entries for the query's words are `entries` (by word
    /// index, nil where it lacks one) can hold a match: every clause needs a term whose words
    /// it all holds (a phrase ending in any of several words, one of those). A segment that
    /// cannot is passed over before binding the query, which a rare word would otherwise pay
    /// in each of the segments lacking it.
    static func canMatch(_ query: CompiledQuery, entries: ArraySlice<TermInfo?>) -> Bool {
        func holds(_ word: Int) -> Bool { entries[entries.startIndex + word] != nil }
        return query.requirements.allSatisfy { clause in
            clause.contains { term in term.leading.allSatisfy(holds) && term.last.contains(where: holds) }
        }
    }

    /// Every live document whose id lies in `idRanges` (ascending, disjoint) and that holds
    /// none of `excluded`, lowest id first, up to `limit`, each scoring 0; `total` is exact.
    public func documents(in idRanges: [ClosedRange<UInt32>], excluding excluded: [IndexQuery.Term], limit: Int) -> IndexSearchResult {
        documents(excluding: excluded, limit: limit, ordinalRanges: { self.parts[$0].reader.ordinalRanges(ofDocumentIDs: idRanges) },
                  mask: { self.parts[$0].mask(within: idRanges) })
    }

    /// Every live document `masks` (made by this set) admit that holds none of `excluded`, as `documents(in:excluding:limit:)`.
    public func documents(in masks: SegmentMasks, excluding excluded: [IndexQuery.Term], limit: Int) -> IndexSearchResult {
        precondition(masks.set === self, "masks made by another segment set")
        return documents(excluding: excluded, limit: limit, ordinalRanges: { masks.masks[$0]?.allowed ?? [] }, mask: { masks.masks[$0] })
    }

    /// `ordinalRanges` and `mask`: the filter's documents in part `index`, as ordinal ranges or as a mask (nil when none).
    private func documents(excluding excluded: [IndexQuery.Term], limit: Int, ordinalRanges: (_ index: Int) -> [ClosedRange<UInt32>],
                           mask filterMask: (_ index: Int) -> DocumentMask?) -> IndexSearchResult {
        var hits: [IndexHit] = []
        var total = 0, blocksDecoded = 0, blocksInQueryTerms = 0
        // In id order, so that the first `limit` found are the lowest ids of all.
        for index in idOrder {
            let part = parts[index]
            if excluded.isEmpty && part.deletedOrdinals.isEmpty {
                // Every document in the ranges is a hit: counted from the ranges, with no mask to build.
                for range in ordinalRanges(index) {
                    total += range.count
                    for ordinal in range.prefix(max(0, limit - hits.count)) {
                        hits.append(IndexHit(documentID: part.reader.documentID(ordinal: Int(ordinal)), score: 0))
                    }
                }
                continue
            }
            guard let mask = filterMask(index) else { continue }
            let found = part.reader.documents(excluding: excluded, mask: mask, limit: max(0, limit - hits.count))
            hits += found.hits
            total += found.total
            blocksDecoded += found.blocksDecoded
            blocksInQueryTerms += found.blocksInQueryTerms
        }
        return IndexSearchResult(hits: hits, total: total, totalExact: true,
                                 blocksDecoded: blocksDecoded, blocksInQueryTerms: blocksInQueryTerms)
    }
}

extension SegmentSet {
    /// The live documents whose ids lie in `idRanges` (ascending, disjoint), segment by
    /// segment: what a search within those ids reads. Making them reads every range in every
    /// segment, so a caller searching within the same ids again (a speaker's turns) keeps them.
    public func masks(within idRanges: [ClosedRange<UInt32>]) -> SegmentMasks {
        SegmentMasks(set: self, masks: parts.map { $0.mask(within: idRanges) })
    }
}

/// A segment set's documents within some ids, per segment (`SegmentSet.masks(within:)`).
public struct SegmentMasks: Sendable {
    /// The set they were made for: another set's segments number their documents otherwise.
    let set: SegmentSet
    /// Per part of the set; nil where the segment holds none of the ids.
    let masks: [DocumentMask?]

    /// About the memory they take, for a caller keeping some within a budget.
    public var byteCount: Int {
        masks.reduce(0) { total, mask in total + (mask.map { $0.admitted.count * 8 + ($0.allowed?.count ?? 0) * 8 } ?? 0) }
    }
}

extension SegmentReader {
    /// The ordinal of document `id`, if the segment holds it.
    public func ordinal(ofDocumentID id: UInt32) -> UInt32? {
        let ordinal = firstOrdinal(atOrAbove: id, from: 0)
        return ordinal < documentCount && documentID(ordinal: ordinal) == id ? UInt32(ordinal) : nil
    }

    /// The ordinal ranges of the documents whose ids lie in `ids` (ascending, disjoint),
    /// ranges the segment holds nothing of left out. Where the segment's ids have no gaps an
    /// id's ordinal is its distance from the first; else each range is looked for from where
    /// the one before it ended, so that a speaker's thousands of runs cost a few reads each.
    public func ordinalRanges(ofDocumentIDs ids: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        guard documentCount > 0 else { return [] }
        let lastID = documentID(ordinal: documentCount - 1)
        // The first range reaching the segment's first id.
        let firstID = documentID(ordinal: 0)
        var low = 0, high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if ids[middle].upperBound < firstID { low = middle + 1 } else { high = middle }
        }
        var ranges: [ClosedRange<UInt32>] = []
        // Ids without gaps (as ingest writes them; a merge leaves gaps where it drops deleted
        // documents): an id's ordinal is its distance from the first, and a busy speaker's runs read no ids.
        if Int(lastID - firstID) == documentCount - 1 {
            for index in low..<ids.count {
                let range = ids[index]
                guard range.lowerBound <= lastID else { break }
                ranges.append(ClosedRange(uncheckedBounds: (max(range.lowerBound, firstID) &- firstID,
                                                            min(range.upperBound, lastID) &- firstID)))
            }
            return ranges
        }
        var from = 0
        for range in ids[low...] {
            guard range.lowerBound <= lastID else { break }
            let first = firstOrdinal(atOrAbove: range.lowerBound, from: from)
            let end = range.upperBound >= lastID ? documentCount : firstOrdinal(atOrAbove: range.upperBound + 1, from: first)
            if first < end { ranges.append(UInt32(first)...UInt32(end - 1)) }
            from = end
        }
        return ranges
    }

    /// The first ordinal at or after `from` whose id is at least `id`. Ids grow by at least
    /// one from ordinal to ordinal, so it is at most `id - documentID(from)` ordinals on:
    /// exactly there when the ids in between are consecutive (as a meeting's turns are).
    private func firstOrdinal(atOrAbove id: UInt32, from: Int) -> Int {
        guard from < documentCount else { return documentCount }
        let start = documentID(ordinal: from)
        if start >= id { return from }
        var high = min(from + Int(id - start), documentCount)
        if documentID(ordinal: high - 1) < id { return high }
        var low = from + 1
        high -= 1
        while low < high {
            let middle = (low + high) / 2
            if documentID(ordinal: middle) < id { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

extension SegmentSet {
    /// The terms a prefix covers in any segment: those of the words that begin with
    /// `prefix` (folded as the analyzer folds words, not stemmed), in byte order.
    public func terms(ofWordsStartingWith prefix: String) -> [String] {
        // Deduped and sorted once, here: a term is looked up once per segment however many words it has.
        var found = Set<String>()
        for part in parts {
            var covered = Set<Int>()
            part.reader.forEachWord(startingWith: prefix) { _, index in
                if covered.insert(index).inserted { found.insert(part.reader.term(at: index)) }
            }
        }
        return found.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
