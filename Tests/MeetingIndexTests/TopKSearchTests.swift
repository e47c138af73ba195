import XCTest
@testable import MeetingIndex

final class TopKSearchTests: XCTestCase {
    static let corpus = makeCorpus(documents: 4000, vocabulary: 3000, seed: 12)
    static let frequencies = documentFrequencies(corpus)
    static let vocabulary = ZipfSampler(count: 3000)

    enum Shape: CaseIterable { case or, and, andOfOrs }

    /// 1–5 words drawn from the corpus's own Zipf curve (so common words come up),
    /// sometimes a word no document has, sometimes boosts and exclusions; as one OR
    /// clause, as AND of single words, or as AND of 2–3 clauses of 1–3 words.
    /// With `phrasesFrom`, half the terms are phrases of that corpus (see `randomPhrase`), a
    /// quarter of those ending in a prefix (see `randomPhrasePrefix`).
    static func randomQuery(_ generator: inout SeededGenerator, shape: Shape, phrasesFrom corpus: [TestDocument]? = nil) -> IndexQuery {
        let boosts = [1.0, 1.0, 1.0, 0.5, 1.5, 2.0]
        func randomPhraseTerm(_ corpus: [TestDocument]) -> IndexQuery.Term {
            var term = Int.random(in: 0..<4, using: &generator) == 0 ? randomPhrasePrefix(corpus, &generator)
                : IndexQuery.Term(phrase: randomPhrase(corpus, &generator))
            term.boost = boosts.randomElement(using: &generator)!
            return term
        }
        func randomTerm() -> IndexQuery.Term {
            if let corpus, Bool.random(using: &generator) { return randomPhraseTerm(corpus) }
            let word = Int.random(in: 0..<30, using: &generator) == 0 ? "absent" : "w\(vocabulary.sample(&generator))"
            return IndexQuery.Term(word, boost: boosts.randomElement(using: &generator)!)
        }
        let clauses: [[IndexQuery.Term]]
        switch shape {
        case .or: clauses = [(0..<Int.random(in: 1...5, using: &generator)).map { _ in randomTerm() }]
        case .and: clauses = (0..<Int.random(in: 1...5, using: &generator)).map { _ in [randomTerm()] }
        case .andOfOrs:
            clauses = (0..<Int.random(in: 2...3, using: &generator)).map { _ in
                (0..<Int.random(in: 1...3, using: &generator)).map { _ in randomTerm() }
            }
        }
        var excluded: [IndexQuery.Term] = []
        if Bool.random(using: &generator) {
            for _ in 0..<Int.random(in: 1...2, using: &generator) {
                // With phrases, an excluded term is sometimes a phrase too.
                if let corpus, Bool.random(using: &generator) {
                    excluded.append(randomPhraseTerm(corpus))
                } else {
                    excluded.append(IndexQuery.Term("w\(vocabulary.sample(&generator))"))
                }
            }
        }
        return IndexQuery(clauses: clauses, excluded: excluded)
    }

    /// The segment's answer to `query` (under `mask`, if any) against the exhaustive scorer
    /// over the documents of `admitted` (all if nil); returns 1 if anything matched, else 0.
    @discardableResult
    func assertAgrees(_ query: IndexQuery, _ segment: TestSegment, corpus: [TestDocument] = corpus,
                      frequencies: [String: Int] = frequencies, mask: DocumentMask? = nil, admitted: Set<UInt32>? = nil,
                      file: StaticString = #filePath, line: UInt = #line) -> Int {
        let expected = exhaustiveSearch(corpus, frequencies: frequencies, query) { admitted?.contains(UInt32($0)) ?? true }
        let found = segment.reader.search(query, mask: mask)
        let description = "\(query.clauses.map { $0.map { "'\($0.text)'^\($0.boost)" } }) -\(query.excluded.map(\.text)) cap \(query.exactTotalUpTo) pruning \(query.dynamicPruning) filter \(mask != nil)"
        XCTAssertEqual(found.hits.map(\.documentID), expected.hits.map(\.documentID), description, file: file, line: line)
        for (hit, wanted) in zip(found.hits, expected.hits) {
            XCTAssertEqual(hit.score, wanted.score, accuracy: 1e-9, description, file: file, line: line)
        }
        if found.totalExact {
            XCTAssertEqual(found.total, expected.total, description, file: file, line: line)
        } else {
            XCTAssertGreaterThanOrEqual(found.total, query.exactTotalUpTo, description, file: file, line: line)
            XCTAssertLessThanOrEqual(found.total, expected.total, description, file: file, line: line)
        }
        return expected.hits.isEmpty ? 0 : 1
    }

    func testPrunedAndExhaustivePathsAgreeWithAnExhaustiveScorer() throws {
        let segment = try TestSegment(Self.corpus)
        var generator = SeededGenerator(seed: 7)
        for round in 0..<600 {
            var query = Self.randomQuery(&generator, shape: Shape.allCases[round % 3])
            query.exactTotalUpTo = [0, 10, 1000, Int.max][(round / 3) % 4]
            assertAgrees(query, segment)
            query.dynamicPruning = false
            assertAgrees(query, segment)
            query.termAtATimeAbove = 0
            assertAgrees(query, segment)
            XCTAssertTrue(segment.reader.search(query).totalExact)
        }
    }

    /// A query of more terms than `termAtATimeAbove` (a prefix's) is scored term at a time,
    /// over windows of ordinals (the corpus spans two), with exactly the scores merging its
    /// cursors gives, alone or with another clause, with exclusions or not.
    func testManyTermsScoreTermAtATimeExactlyAsMergingDoes() throws {
        let segment = try TestSegment(Self.corpus)
        var generator = SeededGenerator(seed: 41)
        for round in 0..<40 {
            let terms = (0..<Int.random(in: 33...300, using: &generator)).map { _ in
                IndexQuery.Term("w\(Self.vocabulary.sample(&generator))", boost: [1.0, 0.5, 2.0].randomElement(using: &generator)!)
            }
            var query = IndexQuery.any(terms)
            query.termAtATimeAbove = 32
            if round % 2 == 1 { query.clauses.append([IndexQuery.Term("w\(Self.vocabulary.sample(&generator))")]) }
            if round % 4 >= 2 { query.excluded = [IndexQuery.Term("w\(Self.vocabulary.sample(&generator))")] }
            query.exactTotalUpTo = .max
            assertAgrees(query, segment)
            let termAtATime = segment.reader.search(query)
            XCTAssertTrue(termAtATime.totalExact)
            var merging = query
            merging.termAtATimeAbove = .max
            let merged = segment.reader.search(merging)
            XCTAssertEqual(termAtATime.hits, merged.hits, "round \(round)")
            XCTAssertEqual(termAtATime.total, merged.total, "round \(round)")
        }
    }

    func testPhrasesScoreAsLuceneDoesWithOrWithoutPruning() throws {
        let segment = try TestSegment(Self.corpus)
        var generator = SeededGenerator(seed: 17)
        var matched = 0
        for round in 0..<60 {
            var query = Self.randomQuery(&generator, shape: Shape.allCases[round % 3], phrasesFrom: Self.corpus)
            query.exactTotalUpTo = [0, 10, 1000, Int.max][(round / 3) % 4]
            assertAgrees(query, segment)
            query.dynamicPruning = false
            assertAgrees(query, segment)
            query.termAtATimeAbove = 0
            assertAgrees(query, segment)
            matched += segment.reader.search(query).hits.isEmpty ? 0 : 1
        }
        XCTAssertGreaterThan(matched, 30)
    }

    /// Phrases (walked lazily, their blocks bounded by their rarest word's) with a filter to
    /// ordinal ranges, deleted documents and excluded phrases: as the exhaustive scorer over
    /// the documents the mask admits, with and without pruning.
    func testPhrasesWithAFilterAndExclusionsAgreeWithAnExhaustiveScorer() throws {
        let segment = try TestSegment(Self.corpus)
        var generator = SeededGenerator(seed: 23)
        var matched = 0
        for round in 0..<90 {
            var query = Self.randomQuery(&generator, shape: Shape.allCases[round % 3], phrasesFrom: Self.corpus)
            if query.excluded.isEmpty || round % 2 == 0 {
                query.excluded.append(IndexQuery.Term(phrase: randomPhrase(Self.corpus, &generator)))
            }
            query.exactTotalUpTo = [0, 10, 1000, Int.max][(round / 3) % 4]
            let (mask, admitted) = Self.randomFilter(&generator)
            for pruning in [true, false] {
                query.dynamicPruning = pruning
                matched += assertAgrees(query, segment, mask: mask, admitted: admitted)
            }
        }
        XCTAssertGreaterThan(matched, 2 * 40)
    }

    /// A few ordinal ranges of the corpus, some documents deleted inside them: the mask, and
    /// the ordinals it admits.
    static func randomFilter(_ generator: inout SeededGenerator) -> (DocumentMask, Set<UInt32>) {
        var allowed: [ClosedRange<UInt32>] = []
        var start = UInt32.random(in: 0..<200, using: &generator)
        while start < UInt32(corpus.count) {
            let end = min(UInt32(corpus.count - 1), start + UInt32.random(in: 0..<600, using: &generator))
            allowed.append(start...end)
            start = end + UInt32.random(in: 2..<400, using: &generator)
        }
        // Half the filters delete nothing: a mask without deletions finds the next allowed turn in its bits.
        let deletions = Bool.random(using: &generator) ? 40 : 0
        let deleted = (0..<deletions).map { _ in UInt32.random(in: 0..<UInt32(corpus.count), using: &generator) }
        return (DocumentMask(deleted: deleted, documentCount: corpus.count, allowed: allowed),
                Set(allowed.flatMap { $0 }).subtracting(deleted))
    }

    /// A filter admitting scattered documents (a busy speaker's turns): the collectors read a
    /// block's lengths ahead for the documents the filter admits only, so a length read for
    /// one candidate must never stand in for another's. Common words, in ORs and ANDs, as
    /// the exhaustive scorer over the admitted documents, with and without pruning.
    func testScatteredFiltersOverCommonWordsAgreeWithAnExhaustiveScorer() throws {
        let segment = try TestSegment(Self.corpus)
        var generator = SeededGenerator(seed: 61)
        var matched = 0
        for round in 0..<40 {
            let share = [0.05, 0.3, 0.7][round % 3]
            let admitted = Set((0..<UInt32(Self.corpus.count)).filter { _ in Double.random(in: 0..<1, using: &generator) < share })
            let mask = DocumentMask(deleted: [], documentCount: Self.corpus.count,
                                    allowed: admitted.sorted().map { $0...$0 })
            // The 40 most common words, so that every term spans several blocks.
            let terms = (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                IndexQuery.Term("w\(Int.random(in: 0..<40, using: &generator))", boost: [1.0, 0.5, 2.0].randomElement(using: &generator)!)
            }
            var query = round % 2 == 0 ? IndexQuery.any(terms) : IndexQuery.all(terms)
            query.exactTotalUpTo = [0, 10, 1000][(round / 3) % 3]
            for pruning in [true, false] {
                query.dynamicPruning = pruning
                matched += assertAgrees(query, segment, mask: mask, admitted: admitted)
            }
        }
        XCTAssertGreaterThan(matched, 2 * 30)
    }

    /// ORs wide enough for the collector's heap of essential terms (above 8) and for summing
    /// only the terms a document holds (above 16), merged rather than term at a time, with
    /// caps that let terms become non-essential, with and without a filter and pruning.
    func testWideOrsWithCapsAndAFilterAgreeWithAnExhaustiveScorer() throws {
        let segment = try TestSegment(Self.corpus)
        var generator = SeededGenerator(seed: 43)
        var matched = 0
        for round in 0..<48 {
            let terms = (0..<Int.random(in: 6...60, using: &generator)).map { _ in
                IndexQuery.Term("w\(Self.vocabulary.sample(&generator))", boost: [1.0, 0.5, 2.0].randomElement(using: &generator)!)
            }
            var query = IndexQuery.any(terms)
            query.termAtATimeAbove = .max
            if round % 4 >= 2 { query.excluded = [IndexQuery.Term("w\(Self.vocabulary.sample(&generator))")] }
            query.exactTotalUpTo = [0, 10, 1000][round % 3]
            var mask: DocumentMask?, admitted: Set<UInt32>?
            if round % 2 == 0 {
                let filter = Self.randomFilter(&generator)
                mask = filter.0
                admitted = filter.1
            }
            for pruning in [true, false] {
                query.dynamicPruning = pruning
                matched += assertAgrees(query, segment, mask: mask, admitted: admitted)
            }
        }
        XCTAssertGreaterThan(matched, 2 * 40)
    }

    /// Two words in most documents, often several times, but side by side in few: once the
    /// cap is counted, a scored phrase leaves out unread the candidates where even its words'
    /// fewest occurrences (a bound on its own) could not enter, and still answers as the
    /// exhaustive scorer does, alone, beside a word and in an AND.
    func testAPhraseOfCommonWordsRarelySideBySideIsPrunedExactly() throws {
        var generator = SeededGenerator(seed: 31)
        var id: UInt32 = 0
        let corpus = (0..<3000).map { index -> TestDocument in
            id += UInt32.random(in: 1...2, using: &generator)
            let length = Int.random(in: 4...60, using: &generator)
            var wordAt = (0..<length).map { _ in
                Bool.random(using: &generator) ? ["a", "b"].randomElement(using: &generator)! : "x\(Int.random(in: 0..<20, using: &generator))"
            }
            for position in 1..<length where wordAt[position - 1] == "a" && wordAt[position] == "b" { wordAt[position] = "x0" }
            if index % 50 == 0 {
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    let start = Int.random(in: 0..<(length - 1), using: &generator)
                    (wordAt[start], wordAt[start + 1]) = ("a", "b")
                }
            }
            var terms: [String: [UInt32]] = [:]
            for (position, word) in wordAt.enumerated() { terms[word, default: []].append(UInt32(position)) }
            return TestDocument(id: id, length: UInt32(length), terms: terms)
        }
        let frequencies = documentFrequencies(corpus)
        let segment = try TestSegment(corpus)
        let phrase = IndexQuery.Term(phrase: ["a", "b"])
        for base in [IndexQuery.any([phrase]), .any([phrase, .init("x3", boost: 0.5)]), .all([phrase, .init("x5")])] {
            for cap in [0, 10, 100, Int.max] {
                var query = base
                query.exactTotalUpTo = cap
                assertAgrees(query, segment, corpus: corpus, frequencies: frequencies)
            }
        }
        var alone = IndexQuery.any([phrase])
        alone.exactTotalUpTo = 0
        XCTAssertFalse(segment.reader.search(alone).totalExact)
    }

    /// Positions decide: the words side by side and in order; a repeated word counts once per start.
    func testAPhraseMatchesItsWordsInOrderAndCountsEachStart() throws {
        let corpus = [
            TestDocument(id: 1, length: 3, terms: ["no": [0, 1, 2]]),
            TestDocument(id: 2, length: 3, terms: ["good": [0], "idea": [1], "no": [2]]),
            TestDocument(id: 3, length: 3, terms: ["idea": [0], "good": [1], "no": [2]]),
            TestDocument(id: 4, length: 3, terms: ["good": [0], "no": [1], "idea": [2]]),
        ]
        XCTAssertEqual(phraseFrequency(["no", "no"], in: corpus[0]), 2)
        let segment = try TestSegment(corpus)
        let frequencies = documentFrequencies(corpus)
        for (phrase, expected) in [(["good", "idea"], [2]), (["no", "no"], [1]), (["no", "no", "no"], [1]),
                                   (["idea", "good", "no"], [3]), (["idea", "good", "good"], []), (["good", "absent"], [])] {
            let query = IndexQuery.any([.init(phrase: phrase)])
            let found = segment.reader.search(query)
            XCTAssertEqual(found.hits.map(\.documentID), expected.map(UInt32.init), "\(phrase)")
            XCTAssertEqual(found.total, expected.count, "\(phrase)")
            let exhaustive = exhaustiveSearch(corpus, frequencies: frequencies, query)
            for (hit, wanted) in zip(found.hits, exhaustive.hits) { XCTAssertEqual(hit.score, wanted.score, accuracy: 1e-9) }
        }
    }

    /// A phrase ending in any of several words answers exactly as the OR of a phrase per
    /// word (the same hits, scores to the bit, total), alone, beside a word and one of its
    /// own phrases, in an AND, and excluded; and it reads the leading words' blocks once, not
    /// once a word. (Random queries compare it with the exhaustive scorer.)
    func testAPhraseEndingInSeveralWordsAnswersAsTheOrOfItsPhrasesReadingLess() throws {
        let segment = try TestSegment(Self.corpus)
        var read = 0, readAsOr = 0
        for (leading, prefix) in [(["w0"], "w10"), (["w1", "w0"], "w21"), (["w3"], "w12"), (["w0", "w0"], "w13"), (["absent"], "w14")] {
            let covered = (0..<3000).map { "w\($0)" }.filter { $0.hasPrefix(prefix) }
            let together = IndexQuery.Term(phrase: leading, endingInAnyOf: covered)
            let apart = covered.map { IndexQuery.Term(phrase: leading + [$0]) }
            let beside = [IndexQuery.Term("w5"), IndexQuery.Term(phrase: leading + [covered[3]], boost: 2)]
            for (one, other) in [(IndexQuery.any([together]), IndexQuery.any(apart)),
                                 (IndexQuery.any([together] + beside), IndexQuery.any(apart + beside)),
                                 (IndexQuery(clauses: [[together], [.init("w7")]]), IndexQuery(clauses: [apart, [.init("w7")]])),
                                 (IndexQuery.any([.init("w2")], excluded: [together]), IndexQuery.any([.init("w2")], excluded: apart))] {
                // Both may have more than `termAtATimeAbove` terms (a phrase per word), yet are merged
                // here as in a segment where the prefix covers fewer: to compare totals once pruned.
                var (one, other) = (one, other)
                (one.termAtATimeAbove, other.termAtATimeAbove) = (.max, .max)
                let found = segment.reader.search(one), expected = segment.reader.search(other)
                XCTAssertEqual(found.hits, expected.hits, "\(leading) \(prefix)")
                XCTAssertEqual(found.total, expected.total, "\(leading) \(prefix)")
                XCTAssertEqual(found.totalExact, expected.totalExact, "\(leading) \(prefix)")
                read += found.blocksDecoded
                readAsOr += expected.blocksDecoded
            }
        }
        XCTAssertLessThan(read * 5, readAsOr)
    }

    func testTotalsAreExactWhenNoCapIsReached() throws {
        let segment = try TestSegment(Self.corpus)
        var generator = SeededGenerator(seed: 8)
        for round in 0..<200 {
            var query = Self.randomQuery(&generator, shape: Shape.allCases[round % 3])
            query.exactTotalUpTo = Int.max
            let found = segment.reader.search(query)
            XCTAssertTrue(found.totalExact)
            XCTAssertEqual(found.total, exhaustiveSearch(Self.corpus, frequencies: Self.frequencies, query).total)
        }
    }

    func testLimitsOtherThanTen() throws {
        let segment = try TestSegment(Self.corpus)
        var generator = SeededGenerator(seed: 9)
        for limit in [1, 2, 50, 500, Int.max] {
            for round in 0..<20 {
                var query = Self.randomQuery(&generator, shape: Shape.allCases[round % 3])
                query.limit = limit
                assertAgrees(query, segment)
            }
        }
    }

    /// Equal scores are common in short documents; they go to the lower id.
    func testTiesGoToTheLowerDocumentID() throws {
        var writer = SegmentWriter()
        for id in UInt32(1)...300 {
            try writer.addDocument(id: id * 10, length: 4, terms: [(term: "same", positions: [id % 4])])
        }
        let segment = try TestSegment(writer.finish().bytes())
        let found = segment.reader.search(.any([.init("same")], limit: 5))
        XCTAssertEqual(found.hits.map(\.documentID), [10, 20, 30, 40, 50])
        XCTAssertEqual(Set(found.hits.map(\.score)).count, 1)
        XCTAssertEqual(found.total, 300)
    }

    /// On long postings lists, which a corpus of this size has only for its commonest
    /// words; there a word alone reads less than half its blocks. (Two common words
    /// gain little here: with this many very short documents, most blocks' maxima are
    /// close to the term's. The benchmark measures them at scale.)
    func testPruningReadsFewerBlocksThanTheExhaustivePath() throws {
        let corpus = makeCorpus(documents: 20000, vocabulary: 3000, seed: 13)
        let segment = try TestSegment(corpus)
        var oneWordPruned = 0, oneWordExhaustive = 0
        for first in 0..<10 {
            var and = IndexQuery.all([.init("w\(first)"), .init("w\(first + 10)")])
            and.exactTotalUpTo = 0
            for query in [IndexQuery.any([.init("w\(first)")]), .any([.init("w\(first)"), .init("w\(first + 10)")]), and] {
                let found = segment.reader.search(query)
                var exhaustiveQuery = query
                exhaustiveQuery.dynamicPruning = false
                let expected = segment.reader.search(exhaustiveQuery)
                XCTAssertEqual(found.hits, expected.hits)
                XCTAssertLessThanOrEqual(found.blocksDecoded, expected.blocksDecoded)
                if query.clauses.joined().count == 1 {
                    oneWordPruned += found.blocksDecoded
                    oneWordExhaustive += expected.blocksDecoded
                }
            }
        }
        XCTAssertLessThan(oneWordPruned, oneWordExhaustive / 2)
    }

    /// `firstAllowed` against a scan of the allowed ranges at every ordinal: with deletions and
    /// without (then the mask scans its bits before any binary search), with gaps past the bits
    /// scanned, counts on and off a word's edge, and with or without a range ending at the last turn.
    func testFirstAllowedAgreesWithAScanAtEveryOrdinal() {
        var generator = SeededGenerator(seed: 73)
        for documentCount in [4000, 4096, 130] {
            for (withDeletions, toTheEnd) in [(false, false), (false, true), (true, false), (true, true)] {
                let last = UInt32(documentCount - 1)
                var allowed: [ClosedRange<UInt32>] = []
                var start = UInt32.random(in: 0..<70, using: &generator)
                while start <= last {
                    let end = min(last, start + UInt32.random(in: 0..<90, using: &generator))
                    allowed.append(start...end)
                    start = end + UInt32.random(in: 2..<1500, using: &generator)
                }
                if toTheEnd, let final = allowed.last, final.upperBound + 2 <= last {
                    allowed.append(max(final.upperBound + 2, last - 3)...last)
                }
                let deleted = withDeletions ? allowed.map(\.lowerBound) : []
                let mask = DocumentMask(deleted: deleted, documentCount: documentCount, allowed: allowed)
                var expected: UInt32?
                for ordinal in (0...last).reversed() {
                    if allowed.contains(where: { $0.contains(ordinal) }) { expected = ordinal }
                    // The first turn of the ranges, deleted or not (the collectors pass over deleted ones).
                    XCTAssertEqual(mask.firstAllowed(atOrAfter: ordinal), expected,
                                   "count \(documentCount), deletions \(withDeletions), ordinal \(ordinal)")
                }
            }
        }
    }

    func testACommonWordAloneIsPrunedByBlock() throws {
        let segment = try TestSegment(Self.corpus)
        let found = segment.reader.search(.any([.init("w0")]))
        XCTAssertTrue(found.totalExact)
        XCTAssertEqual(found.total, Self.corpus.filter { $0.terms["w0"] != nil }.count)
        XCTAssertLessThan(found.blocksDecoded, found.blocksInQueryTerms)
    }

    func testQueriesWithNothingToFind() throws {
        let segment = try TestSegment(Self.corpus)
        XCTAssertEqual(segment.reader.search(.all([.init("absent"), .init("w1")])).total, 0)
        XCTAssertEqual(segment.reader.search(IndexQuery(clauses: [[.init("w1"), .init("w2")], [.init("absent")]])).total, 0)
        XCTAssertEqual(segment.reader.search(.any([.init("absent")])).hits, [])
        XCTAssertEqual(segment.reader.search(.any([])).total, 0)
        XCTAssertEqual(segment.reader.search(IndexQuery(clauses: [])).total, 0)
        XCTAssertEqual(segment.reader.search(.any([.init("w1")], excluded: [.init("w1")])).total, 0)
    }
}
