import XCTest
import MeetingIndex

final class BitPackingTests: XCTestCase {
    func testEveryBitWidthRoundTrips() {
        var generator = SeededGenerator(seed: 1)
        for bitWidth in 0...32 {
            let maximum = bitWidth == 0 ? 0 : UInt32.max >> UInt32(32 - bitWidth)
            for count in [1, 7, 8, 127, 128] {
                var values = (0..<count).map { _ in UInt32.random(in: 0...maximum, using: &generator) }
                values[count / 2] = maximum
                XCTAssertLessThanOrEqual(BitPacking.bitWidth(ofMaximum: values.max()!), bitWidth)
                var packed: [UInt8] = []
                values.withUnsafeBufferPointer { BitPacking.pack($0, bitWidth: bitWidth, into: &packed) }
                XCTAssertEqual(packed.count, BitPacking.packedByteCount(count: count, bitWidth: bitWidth))
                // The unpacker reads up to 7 bytes past the packed ones, a value alone up to 8; poison them.
                packed.append(contentsOf: repeatElement(0xFF, count: 8))
                var unpacked = [UInt32](repeating: 0xDEAD, count: count)
                packed.withUnsafeBytes { source in
                    unpacked.withUnsafeMutableBufferPointer {
                        BitPacking.unpack(source.baseAddress!, count: count, bitWidth: bitWidth, into: $0.baseAddress!)
                    }
                }
                XCTAssertEqual(unpacked, values, "width \(bitWidth), \(count) values")
                let oneByOne = packed.withUnsafeBytes { source in
                    (0..<count).map { BitPacking.value(at: $0, in: source.baseAddress!, bitWidth: bitWidth) }
                }
                XCTAssertEqual(oneByOne, values, "one by one: width \(bitWidth), \(count) values")
            }
        }
    }

    func testBitWidthOfMaximum() {
        XCTAssertEqual(BitPacking.bitWidth(ofMaximum: 0), 0)
        XCTAssertEqual(BitPacking.bitWidth(ofMaximum: 1), 1)
        XCTAssertEqual(BitPacking.bitWidth(ofMaximum: 255), 8)
        XCTAssertEqual(BitPacking.bitWidth(ofMaximum: 256), 9)
        XCTAssertEqual(BitPacking.bitWidth(ofMaximum: .max), 32)
    }
}

final class SegmentTests: XCTestCase {
    static let corpus = makeCorpus(documents: 3000, vocabulary: 2000, seed: 3)

    /// Ordinals (indexes into the corpus) of the documents holding `term`.
    static func postings(of term: String) -> [UInt32] {
        corpus.indices.filter { corpus[$0].terms[term] != nil }.map(UInt32.init)
    }

    func testDictionaryIsSortedAndFindsEveryTerm() throws {
        let segment = try TestSegment(Self.corpus)
        let reader = segment.reader
        let frequencies = documentFrequencies(Self.corpus)
        XCTAssertEqual(reader.termCount, frequencies.count)
        let terms = (0..<reader.termCount).map(reader.term(at:))
        XCTAssertEqual(terms, frequencies.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        for (term, frequency) in frequencies { XCTAssertEqual(reader.lookup(term)?.documentFrequency, frequency, term) }
        XCTAssertNil(reader.lookup("absent"))
        XCTAssertNil(reader.lookup(""))
        XCTAssertEqual(reader.documentCount, Self.corpus.count)
        for (ordinal, document) in Self.corpus.enumerated() {
            XCTAssertEqual(reader.documentID(ordinal: ordinal), document.id)
            XCTAssertEqual(reader.documentLength(ordinal: ordinal), document.length)
        }
    }

    func testNextVisitsEveryPostingWithItsFrequencyAndPositions() throws {
        let segment = try TestSegment(Self.corpus)
        for term in ["w0", "w1", "w5", "w40", "w700"] {
            let cursor = segment.reader.postings(segment.reader.lookup(term)!)
            var visited: [UInt32] = []
            while cursor.next() != PostingsCursor.exhausted {
                let document = Self.corpus[Int(cursor.doc)]
                visited.append(cursor.doc)
                XCTAssertEqual(Int(cursor.frequency), document.terms[term]!.count)
                // Every few postings, so that later ones in a block are read after skipping earlier ones.
                if cursor.doc % 3 == 0 {
                    XCTAssertEqual(cursor.positionsAsRead(), document.terms[term]!)
                }
            }
            XCTAssertEqual(visited, Self.postings(of: term), term)
            XCTAssertEqual(cursor.next(), PostingsCursor.exhausted)
        }
    }

    /// Positions of postings passed over are stepped over eight bytes at a time; values of
    /// one to three bytes each, a run longer and shorter than eight values, and the
    /// posting read just after one whose run ends mid-word.
    func testPositionsReadAfterPassingOverOthersOfEveryWidth() throws {
        let runs: [[UInt32]] = [
            [5, 200, 201, 70_000, 70_001, 70_002, 70_130, 90_000, 90_001, 90_002, 90_003, 150_000],
            [3],
            [0, 1, 2, 3, 4, 5, 6, 7, 8],
            [1000, 20_000, 200_000],
            [0, 128, 256, 16_640, 16_641, 16_642, 16_643, 16_644, 16_645, 16_646],
            [7, 8],
        ]
        let corpus = runs.enumerated().map { TestDocument(id: UInt32($0.offset + 1), length: 200_001, terms: ["a": $0.element]) }
        let segment = try TestSegment(corpus)
        // Every subset of the postings read: the others are passed over.
        for readMask in 1..<(1 << runs.count) {
            let cursor = segment.reader.postings(segment.reader.lookup("a")!)
            for (ordinal, run) in runs.enumerated() {
                XCTAssertEqual(cursor.next(), UInt32(ordinal))
                guard readMask & (1 << ordinal) != 0 else { continue }
                XCTAssertEqual(cursor.positionsAsRead(), run, "posting \(ordinal), read mask \(readMask)")
            }
        }
    }

    func testAdvanceLandsOnTheFirstPostingAtOrAfterItsTarget() throws {
        let segment = try TestSegment(Self.corpus)
        var generator = SeededGenerator(seed: 4)
        for term in ["w0", "w3", "w20", "w300"] {
            let expected = Self.postings(of: term)
            for _ in 0..<20 {
                let cursor = segment.reader.postings(segment.reader.lookup(term)!)
                var target: UInt32 = 0
                while true {
                    // Mostly short hops within a block, sometimes long jumps over several.
                    target += Bool.random(using: &generator) ? UInt32.random(in: 0...4, using: &generator)
                        : UInt32.random(in: 0...600, using: &generator)
                    let wanted = expected.first { $0 >= target } ?? PostingsCursor.exhausted
                    XCTAssertEqual(cursor.advance(to: target), wanted, "\(term) → \(target)")
                    if wanted == PostingsCursor.exhausted { break }
                    XCTAssertEqual(Int(cursor.frequency), Self.corpus[Int(wanted)].terms[term]!.count)
                    if Bool.random(using: &generator) {
                        let following = expected.first { $0 > wanted } ?? PostingsCursor.exhausted
                        XCTAssertEqual(cursor.next(), following)
                        if following == PostingsCursor.exhausted { break }
                        target = following
                    }
                }
            }
        }
    }

    /// Each block's bound is the exact maximum of its postings' scores, and the
    /// term's bound the maximum over all of them.
    func testBlockAndTermBoundsAreTheMaximaOfTheirScores() throws {
        let segment = try TestSegment(Self.corpus)
        let reader = segment.reader
        for term in ["w0", "w2", "w10", "w100"] {
            let info = reader.lookup(term)!
            let reading = reader.postings(info)
            var scores: [(ordinal: UInt32, score: Double)] = []
            while reading.next() != PostingsCursor.exhausted {
                let length = reader.documentLength(ordinal: Int(reading.doc))
                scores.append((reading.doc, reader.bm25.saturation(frequency: reading.frequency, length: length)))
            }
            let skipping = reader.postings(info)
            var blockStart: UInt32 = 0
            for _ in 0..<skipping.blockCount {
                XCTAssertTrue(skipping.advanceShallow(to: blockStart))
                let blockEnd = skipping.blockLastDoc
                let inBlock = scores.filter { $0.ordinal >= blockStart && $0.ordinal <= blockEnd }
                XCTAssertEqual(inBlock.count, min(128, scores.filter { $0.ordinal >= blockStart }.count), term)
                XCTAssertEqual(skipping.blockMaxScore(weight: 1, reader.bm25), inBlock.map(\.score).max(), term)
                blockStart = blockEnd + 1
            }
            XCTAssertFalse(skipping.advanceShallow(to: blockStart))
            XCTAssertEqual(reader.bm25.saturation(frequency: info.maxScoreFrequency, length: info.maxScoreLength),
                           scores.map(\.score).max(), term)
            XCTAssertEqual(skipping.blocksDecoded, 0, "bounds are read from skip data alone")
        }
    }

    /// A segment will be mapped from a file at any offset; the same documents, given
    /// their terms in another order, make the same bytes.
    func testSegmentIsTheSameBytesReadAtAnyAlignment() throws {
        var generator = SeededGenerator(seed: 5)
        var shuffled = SegmentWriter()
        for document in Self.corpus {
            try shuffled.addDocument(id: document.id, length: document.length,
                                     terms: document.terms.map { (term: $0.key, positions: $0.value) }.shuffled(using: &generator))
        }
        let bytes = try shuffled.finish().bytes()
        let aligned = try TestSegment(Self.corpus)
        XCTAssertEqual(bytes, Array(UnsafeRawBufferPointer(aligned.bytes)))

        let misaligned = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count + 3, alignment: 8)
        defer { misaligned.deallocate() }
        UnsafeMutableRawBufferPointer(rebasing: misaligned[3...]).copyBytes(from: bytes)
        let reader = try SegmentReader(UnsafeRawBufferPointer(rebasing: misaligned[3...]))
        for term in ["w0", "w7", "w150"] {
            let query = IndexQuery.any([.init(term), .init("w3")])
            XCTAssertEqual(reader.search(query).hits, aligned.reader.search(query).hits)
            XCTAssertEqual(reader.lookup(term), aligned.reader.lookup(term))
        }
    }

    func testWriterRejectsWhatTheFormatCannotHold() throws {
        var writer = SegmentWriter()
        try writer.addDocument(id: 5, length: 2, terms: [(term: "a", positions: [0, 1])])
        XCTAssertThrowsError(try writer.addDocument(id: 5, length: 1, terms: [(term: "a", positions: [0])])) {
            XCTAssertEqual($0 as? SegmentWriterError, .documentIDNotAscending(5))
        }
        XCTAssertThrowsError(try writer.addDocument(id: 6, length: 2, terms: [(term: "a", positions: [0]), (term: "a", positions: [1])]))
        XCTAssertThrowsError(try writer.addDocument(id: 6, length: 2, terms: [(term: "b", positions: [1, 1])]))
        XCTAssertThrowsError(try writer.addDocument(id: 6, length: 2, terms: [(term: "b", positions: [])]))
        XCTAssertThrowsError(try writer.addDocument(id: 6, length: 1, terms: [(term: "b", positions: [0])], words: [("bs", 1)])) {
            XCTAssertEqual($0 as? SegmentWriterError, .wordTermIndexOutOfRange(1))
        }
        // One positions buffer: the terms' ends must ascend within it.
        for ends in [[2, 1], [1, 3]] {
            XCTAssertThrowsError(try writer.addDocument(id: 6, length: 2, terms: [(term: "b", positionsEnd: ends[0]), (term: "c", positionsEnd: ends[1])],
                                                        positions: [0, 1])) {
                XCTAssertEqual($0 as? SegmentWriterError, .positionsOutOfRange(term: "c", documentID: 6))
            }
        }
        XCTAssertEqual(writer.documentCount, 1)
        try writer.addDocument(id: 6, length: 1, terms: [(term: "b", positions: [0])])
        let segment = try TestSegment(writer.finish().bytes())
        XCTAssertEqual(segment.reader.lookup("a")?.documentFrequency, 1)
        XCTAssertEqual(segment.reader.lookup("b")?.documentFrequency, 1)
    }

    func testReaderRejectsBytesThatAreNotASegment() throws {
        var writer = SegmentWriter()
        try writer.addDocument(id: 1, length: 1, terms: [(term: "a", positions: [0])])
        let segment = try writer.finish().bytes()
        var wrongMagic = segment
        wrongMagic[0] ^= 1
        for (bytes, error) in [(wrongMagic, SegmentFormatError.notASegment), (Array(segment.dropLast(9)), .sectionOutOfBounds),
                               (Array(segment.prefix(20)), .tooShort)] {
            XCTAssertThrowsError(try bytes.withUnsafeBytes { try SegmentReader($0) }) {
                XCTAssertEqual($0 as? SegmentFormatError, error)
            }
        }
    }
}
