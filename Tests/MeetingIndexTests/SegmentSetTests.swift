import XCTest
@testable import MeetingIndex

/// Several segments with deletions, searched as one, score exactly as one segment of
/// the live documents would; merging them gives that segment.
final class SegmentSetTests: XCTestCase {
    static let corpus = makeCorpus(documents: 4000, vocabulary: 3000, seed: 21)

    /// The corpus cut into segments of unequal sizes, every seventh document deleted unless
    /// `deleting` is false; given to the set last segment first when `reversed`.
    static func segmentSet(reversed: Bool = false, deleting: Bool = true) throws -> (set: SegmentSet, live: [TestDocument]) {
        let cuts = [0, 100, 1500, 1700, corpus.count]
        var segments: [(bytes: SegmentBytes, deletedIDs: [UInt32])] = []
        for (start, end) in zip(cuts, cuts.dropFirst()) {
            var writer = SegmentWriter()
            for document in corpus[start..<end] {
                try writer.addDocument(id: document.id, length: document.length,
                                       terms: document.terms.map { (term: $0.key, positions: $0.value) })
            }
            let deleted = corpus[start..<end].enumerated().filter { deleting && $0.offset % 7 == 3 }.map(\.element.id)
            segments.append((try writer.finish().bytes().withUnsafeBytes { SegmentBytes(key: Int64(start), copying: $0) }, deleted))
        }
        let live = corpus.enumerated().filter { index, _ in
            let start = cuts.last { $0 <= index }!
            return !deleting || (index - start) % 7 != 3
        }.map(\.element)
        return (try SegmentSet(reversed ? segments.reversed() : segments), live)
    }

    func testSegmentsWithDeletionsScoreAsOneSegmentOfTheLiveDocuments() throws {
        try assertScoresAsOneSegmentOfTheLiveDocuments(phrases: false, seed: 5)
    }

    func testPhrasesAcrossSegmentsWithDeletionsScoreAsOneSegment() throws {
        try assertScoresAsOneSegmentOfTheLiveDocuments(phrases: true, seed: 6)
    }

    /// Past a cap on counting, shared by the segments, each is pruned with the k-th best score
    /// of those of lower ids, whatever order the set was given them in: the same top k, and
    /// the total a lower bound no smaller than the cap.
    func testSegmentsShareTheCapAndPruneWithTheBestFoundBefore() throws {
        try assertScoresAsOneSegmentOfTheLiveDocuments(phrases: false, seed: 8, capped: true)
        try assertScoresAsOneSegmentOfTheLiveDocuments(phrases: true, seed: 9, capped: true)
    }

    /// A segment is passed over only when some clause has no term whose words it all holds;
    /// a phrase ending in any of several words needs its leading words and one of those.
    func testASegmentCanMatchOnlyWhenEveryClauseHasATermItHolds() throws {
        let reader = try Self.segmentSet().set.parts[0].reader
        let held = try XCTUnwrap(Self.corpus[0].terms.keys.sorted().first)
        let info = try XCTUnwrap(reader.lookup(held))
        func canMatch(_ clauses: [[IndexQuery.Term]]) -> Bool {
            let query = CompiledQuery(IndexQuery(clauses: clauses, limit: 10))
            return SegmentSet.canMatch(query, entries: query.words.map { $0 == held ? info : nil }[...])
        }
        XCTAssertTrue(canMatch([[IndexQuery.Term(held)]]))
        XCTAssertFalse(canMatch([[IndexQuery.Term("absent")]]))
        XCTAssertTrue(canMatch([[IndexQuery.Term("absent"), IndexQuery.Term(held)]]), "one alternative of the clause is held")
        XCTAssertFalse(canMatch([[IndexQuery.Term(held)], [IndexQuery.Term("absent")]]), "the second clause cannot match")
        XCTAssertFalse(canMatch([[IndexQuery.Term(phrase: ["absent", held])]]))
        XCTAssertTrue(canMatch([[IndexQuery.Term(phrase: [held], endingInAnyOf: ["absent", held])]]))
        XCTAssertFalse(canMatch([[IndexQuery.Term(phrase: [held], endingInAnyOf: ["absent", "missing"])]]))
        XCTAssertTrue(canMatch([[], [IndexQuery.Term(held)]]), "an empty clause asks nothing of the segment")
    }

    /// How the prefix tests write a document's words: as their terms, as another form ("w12"
    /// as "v12", which no term starts with, as a stem need not start as its word), or both.
    static func words(of document: TestDocument) -> [(form: String, term: String)] {
        document.terms.keys.flatMap { term -> [(form: String, term: String)] in
            let form = "v" + term.dropFirst()
            switch document.id % 3 {
            case 0: return [(term, term)]
            case 1: return [(form, term)]
            default: return [(term, term), (form, term)]
            }
        }
    }

    /// A prefix covers, in every segment, the terms of the words that start with it
    /// (written as the term or as another form), in byte order, and a merge keeps that.
    func testAPrefixCoversTheTermsOfTheWordsStartingWithIt() throws {
        let cuts = [0, 100, 1500, Self.corpus.count]
        var segments: [(bytes: SegmentBytes, deletedIDs: [UInt32])] = []
        for (start, end) in zip(cuts, cuts.dropFirst()) {
            var writer = SegmentWriter()
            for document in Self.corpus[start..<end] {
                let terms = document.terms.map { (term: $0.key, positions: $0.value) }
                let termIndex = Dictionary(uniqueKeysWithValues: terms.enumerated().map { ($0.element.term, $0.offset) })
                try writer.addDocument(id: document.id, length: document.length, terms: terms,
                                       words: Self.words(of: document).map { ($0.form, termIndex[$0.term]!) })
            }
            let deleted = Self.corpus[start..<end].filter { $0.id % 5 == 2 }.map(\.id)
            segments.append((try writer.finish().bytes().withUnsafeBytes { SegmentBytes(key: Int64(start), copying: $0) }, deleted))
        }
        let set = try SegmentSet(segments)
        let merged = try SegmentSet([(Self.mergedLiveDocuments(of: set).withUnsafeBytes { SegmentBytes(key: 0, copying: $0) }, [])])
        let liveTerms = Set(Self.corpus.filter { $0.id % 5 != 2 }.flatMap(\.terms.keys))
        func sorted(_ terms: some Sequence<String>) -> [String] { terms.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
        for prefix in ["w1", "w12", "v12", "v299", "w", "v", "x", ""] {
            // A deleted document's words count until a merge leaves their term out.
            let expected = sorted(Set(Self.corpus.flatMap(Self.words).filter { $0.form.hasPrefix(prefix) }.map(\.term)))
            if prefix != "x" { XCTAssertFalse(expected.isEmpty, prefix) }
            XCTAssertEqual(set.terms(ofWordsStartingWith: prefix), expected, prefix)
            XCTAssertEqual(merged.terms(ofWordsStartingWith: prefix),
                           expected.filter(liveTerms.contains), prefix)
        }
        // Words written as their terms alone (no words given) are read as such.
        let (plain, _) = try Self.segmentSet()
        XCTAssertEqual(plain.terms(ofWordsStartingWith: "w12"), sorted(Set(Self.corpus.flatMap(\.terms.keys)).filter { $0.hasPrefix("w12") }))
        XCTAssertEqual(plain.terms(ofWordsStartingWith: "v12"), [])
    }

    private func assertScoresAsOneSegmentOfTheLiveDocuments(phrases: Bool, seed: UInt64, capped: Bool = false) throws {
        let (set, live) = try Self.segmentSet(reversed: capped)
        XCTAssertEqual(set.documentCount, live.count)
        let frequencies = documentFrequencies(live)
        var generator = SeededGenerator(seed: seed)
        var inexact = 0
        for round in 0..<(phrases ? 100 : 300) {
            var query = TopKSearchTests.randomQuery(&generator, shape: TopKSearchTests.Shape.allCases[round % 3],
                                                    phrasesFrom: phrases ? live : nil)
            query.exactTotalUpTo = capped ? [0, 10, 300][(round / 3) % 3] : .max
            // Every third query keeps two id ranges, as a date filter does, and every third
            // hundreds of short runs, as a speaker's turns are.
            var ranges: [ClosedRange<UInt32>]?
            var documents = live
            if round % 3 == 0 {
                let bounds = (0..<4).map { _ in live.randomElement(using: &generator)!.id }.sorted()
                ranges = [bounds[0]...bounds[1], (bounds[2] + 1)...max(bounds[3], bounds[2] + 1)]
            } else if round % 3 == 1 {
                ranges = Self.speakerLikeRuns(&generator)
            }
            if let ranges { documents = live.filter { document in ranges.contains { $0.contains(document.id) } } }
            // Statistics are the whole index's; the ranges only choose the documents.
            var everything = query
            everything.limit = .max
            let inRanges = Set(documents.map(\.id))
            let all = exhaustiveSearch(live, frequencies: frequencies, everything).hits.filter { inRanges.contains($0.documentID) }
            let expected = (hits: Array(all.prefix(query.limit)), total: all.count)
            // Every other round scores term at a time, as a query of thousands of terms is.
            if round % 2 == 1 { query.termAtATimeAbove = 0 }
            let found = set.search(query, idRanges: ranges)
            XCTAssertEqual(found.hits.map(\.documentID), expected.hits.map(\.documentID), "round \(round)")
            // Masks made once for the ranges (as a speaker's are kept) find the same, scores to the bit.
            if let ranges {
                let withinMasks = set.search(query, within: set.masks(within: ranges))
                XCTAssertEqual(withinMasks.hits, found.hits, "round \(round)")
                XCTAssertEqual(withinMasks.total, found.total, "round \(round)")
                XCTAssertEqual(withinMasks.totalExact, found.totalExact, "round \(round)")
            }
            for (hit, wanted) in zip(found.hits, expected.hits) {
                XCTAssertEqual(hit.score, wanted.score, accuracy: 1e-9 * max(1, wanted.score), "round \(round)")
            }
            if found.totalExact {
                XCTAssertEqual(found.total, expected.total, "round \(round)")
            } else {
                inexact += 1
                XCTAssertGreaterThanOrEqual(found.total, query.exactTotalUpTo, "round \(round)")
                XCTAssertLessThanOrEqual(found.total, expected.total, "round \(round)")
            }
            XCTAssertTrue(capped || found.totalExact)
        }
        // Pruning did leave documents out.
        if capped { XCTAssertGreaterThan(inexact, 10) }
    }

    /// Ascending, disjoint runs of ids of random lengths with random gaps, starting before
    /// the corpus's first id and running past its last (ids absent from the corpus included).
    static func speakerLikeRuns(_ generator: inout SeededGenerator) -> [ClosedRange<UInt32>] {
        var runs: [ClosedRange<UInt32>] = []
        var next = UInt32.random(in: 0...3, using: &generator)
        while next <= corpus.last!.id + 10 {
            let end = next + UInt32.random(in: 0...4, using: &generator)
            runs.append(next...end)
            next = end + UInt32.random(in: 2...60, using: &generator)
        }
        return runs
    }

    /// A segment's ordinal ranges for runs of ids are the ordinals of the ids it holds in them,
    /// whether its ids are consecutive (as ingest writes them) or have gaps (as a merge leaves them).
    func testOrdinalRangesOfRunsHoldTheOrdinalsOfTheIDsInThem() throws {
        var generator = SeededGenerator(seed: 12)
        for consecutive in [true, false] {
            let ids: [UInt32] = consecutive ? Array(40...1039) : Self.corpus.prefix(1000).map(\.id)
            var writer = SegmentWriter()
            for id in ids { try writer.addDocument(id: id, length: 1, terms: [(term: "w", positions: [0])]) }
            let segment = try TestSegment(writer.finish().bytes())
            for round in 0..<20 {
                let runs = Self.speakerLikeRuns(&generator)
                let expected = ids.indices.filter { index in runs.contains { $0.contains(ids[index]) } }
                // Ascending and disjoint, then, as the expected ordinals are.
                XCTAssertEqual(segment.reader.ordinalRanges(ofDocumentIDs: runs).flatMap { $0.map(Int.init) }, expected,
                               "consecutive \(consecutive), round \(round)")
            }
        }
    }

    /// Documents in runs of ids (a speaker alone): every live one in them, by id, none deleted,
    /// none holding an excluded word; with and without deletions (a segment with none is counted
    /// from the runs alone), whatever order the set was given its segments in.
    func testDocumentsInManyRunsAreTheLiveOnesInThem() throws {
        for (reversed, deleting) in [(false, true), (true, true), (false, false), (true, false)] {
            let (set, live) = try Self.segmentSet(reversed: reversed, deleting: deleting)
            let context = "reversed \(reversed), deleting \(deleting)"
            var generator = SeededGenerator(seed: 8)
            // A word about half the documents hold.
            let excluded = Dictionary(live.flatMap(\.terms.keys).map { ($0, 1) }, uniquingKeysWith: +)
                .min { abs($0.value - live.count / 2) < abs($1.value - live.count / 2) }!.key
            for round in 0..<20 {
                var runs = Self.speakerLikeRuns(&generator)
                if round % 2 == 1 { runs = runs.filter { _ in Bool.random(using: &generator) } }
                let inRuns = live.filter { document in runs.contains { $0.contains(document.id) } }
                let cases: [(excluding: [IndexQuery.Term], expected: [TestDocument])] =
                    [([], inRuns), ([IndexQuery.Term(excluded)], inRuns.filter { $0.terms[excluded] == nil })]
                for (excluding, expected) in cases {
                    let found = set.documents(in: runs, excluding: excluding, limit: 50)
                    XCTAssertEqual(found.total, expected.count, "\(context), round \(round), excluding \(excluding.count)")
                    XCTAssertEqual(found.hits.map(\.documentID), Array(expected.prefix(50).map(\.id)),
                                   "\(context), round \(round), excluding \(excluding.count)")
                    XCTAssertTrue(found.hits.allSatisfy { $0.score == 0 })
                    let withinMasks = set.documents(in: set.masks(within: runs), excluding: excluding, limit: 50)
                    XCTAssertEqual(withinMasks.total, found.total, "\(context), round \(round), excluding \(excluding.count)")
                    XCTAssertEqual(withinMasks.hits, found.hits, "\(context), round \(round), excluding \(excluding.count)")
                }
            }
            // Ranges the corpus holds nothing of leave nothing.
            XCTAssertEqual(set.documents(in: [(Self.corpus.last!.id + 1)...UInt32.max], excluding: [], limit: 10).total, 0, context)
            let all = set.documents(in: [0...UInt32.max], excluding: [], limit: 10)
            XCTAssertEqual(all.total, live.count, context)
            XCTAssertEqual(all.hits.map(\.documentID), live.prefix(10).map(\.id), context)
        }
    }

    /// The merge of `set`'s live documents, spooled in memory and in unnamed files, which
    /// must give the same bytes.
    static func mergedLiveDocuments(of set: SegmentSet) throws -> [UInt8] {
        let parts = set.parts.map { part in
            let deleted = Set(part.deletedOrdinals)
            return (part.reader, { (ordinal: UInt32) in !deleted.contains(ordinal) })
        }
        return try sameBytesSpooledAnyWay { try SegmentWriter.merge(parts, spoolingIn: $0, pieceSize: $1) }
    }

    /// The bytes of the segment `assemble` spools in memory (no directory), which it must also
    /// give spooled in unnamed files, in pieces of any size.
    static func sameBytesSpooledAnyWay(_ assemble: (_ directory: String?, _ pieceSize: Int) throws -> AssembledSegment) throws -> [UInt8] {
        let inMemory = try assemble(nil, ByteSpool.defaultPieceSize).bytes()
        // Pieces far smaller than the sections (and than a term entry), so that every section
        // is written and read back in many pieces, term entries across their boundaries.
        for pieceSize in [ByteSpool.defaultPieceSize, 64, 7] {
            let spooled = try assemble(FileManager.default.temporaryDirectory.path, pieceSize)
            // The test's sections are far smaller than a default piece: they stay in memory.
            XCTAssertEqual(spooled.inFiles, pieceSize < 100, "only sections larger than a piece are spooled to unnamed files")
            XCTAssertEqual(spooled.size, inMemory.count)
            var written: [UInt8] = [], pieces = 0
            try spooled.write { offset, bytes in
                XCTAssertEqual(offset, written.count, "each piece follows the one before")
                written.append(contentsOf: bytes)
                pieces += 1
            }
            XCTAssertEqual(written, inMemory, "pieces of \(pieceSize) bytes")
            if pieceSize < 100 { XCTAssertGreaterThan(pieces, inMemory.count / 100) }
        }
        return inMemory
    }

    func testMergingKeepsTheLiveDocumentsAndTheirScores() throws {
        let (set, live) = try Self.segmentSet()
        let merged = try Self.mergedLiveDocuments(of: set)
        // Byte for byte the segment a writer makes of the live documents, terms found only
        // in deleted documents left out, whichever way the writer spools it (ingest's: in files).
        var fresh = SegmentWriter()
        for document in live {
            try fresh.addDocument(id: document.id, length: document.length,
                                  terms: document.terms.map { (term: $0.key, positions: $0.value) })
        }
        XCTAssertEqual(merged, try Self.sameBytesSpooledAnyWay { fresh.finish(spoolingIn: $0, pieceSize: $1) })
        let segment = try TestSegment(merged)
        XCTAssertLessThan(segment.reader.termCount, Set(Self.corpus.flatMap(\.terms.keys)).count, "no term was only in deleted documents")
        XCTAssertEqual(segment.reader.documentCount, live.count)
        XCTAssertEqual((0..<live.count).map { segment.reader.documentID(ordinal: $0) }, live.map(\.id))
        var generator = SeededGenerator(seed: 6)
        for round in 0..<100 {
            let query = TopKSearchTests.randomQuery(&generator, shape: TopKSearchTests.Shape.allCases[round % 3])
            XCTAssertEqual(segment.reader.search(query).hits, set.search(query).hits, "round \(round)")
        }
        // Positions come through the merge unchanged.
        let document = live[live.count / 2]
        let (term, positions) = document.terms.first!
        let cursor = segment.reader.postings(segment.reader.lookup(term)!)
        let ordinal = UInt32(live.count / 2)
        XCTAssertEqual(cursor.advance(to: ordinal), ordinal)
        XCTAssertEqual(cursor.positionsAsRead(), positions)
    }
}
