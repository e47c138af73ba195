// Reads a segment in place (see SegmentWriter for the format): nothing is copied,
// a query allocates only its cursors' two 128-value block buffers.

public enum SegmentFormatError: Error, Equatable {
    case tooShort
    case notASegment
    case unsupportedVersion(UInt32)
    case sectionOutOfBounds
}

/// A term as the dictionary holds it.
public struct TermInfo: Sendable, Equatable {
    public let documentFrequency: Int
    let postingsOffset: Int
    let positionsOffset: Int
    /// The posting with the term's highest BM25 saturation.
    public let maxScoreFrequency: UInt32
    public let maxScoreLength: UInt32
}

/// A view of a segment's bytes. The bytes must stay valid and unchanged while the
/// reader or any cursor from it is in use (a mapped file, or an owned buffer).
public struct SegmentReader: @unchecked Sendable {
    @usableFromInline let base: UnsafeRawPointer
    public let documentCount: Int
    public let termCount: Int
    public let totalTokens: UInt64
    /// The segment's bytes, without the trailing padding.
    public let size: Int
    public let bm25: BM25
    @usableFromInline let documentIDsOffset: Int
    @usableFromInline let documentLengthsOffset: Int
    let termEntriesOffset: Int
    let termBytesOffset: Int
    /// Words whose terms differ from them (see SegmentWriter), for prefixes.
    public let wordFormCount: Int
    let wordFormEntriesOffset: Int
    let wordFormBytesOffset: Int

    /// Checks the header and that its sections lie inside `bytes`; postings are trusted
    /// as the writer made them.
    public init(_ bytes: UnsafeRawBufferPointer) throws(SegmentFormatError) {
        guard let base = bytes.baseAddress, bytes.count >= SegmentFormat.headerSize + SegmentFormat.trailingPadding else {
            throw .tooShort
        }
        func load<T: FixedWidthInteger>(_ offset: Int, as type: T.Type) -> T { Self.load(base, offset, as: type) }
        guard load(0, as: UInt32.self) == SegmentFormat.magic else { throw .notASegment }
        let version = load(4, as: UInt32.self)
        guard version == SegmentFormat.version else { throw .unsupportedVersion(version) }
        self.base = base
        documentCount = Int(load(8, as: UInt32.self))
        termCount = Int(load(12, as: UInt32.self))
        totalTokens = load(16, as: UInt64.self)
        documentIDsOffset = Int(load(24, as: UInt64.self))
        documentLengthsOffset = Int(load(32, as: UInt64.self))
        termEntriesOffset = Int(load(40, as: UInt64.self))
        termBytesOffset = Int(load(48, as: UInt64.self))
        size = Int(load(56, as: UInt64.self))
        wordFormCount = Int(load(64, as: UInt32.self))
        wordFormEntriesOffset = Int(load(72, as: UInt64.self))
        wordFormBytesOffset = Int(load(80, as: UInt64.self))
        guard size + SegmentFormat.trailingPadding <= bytes.count,
              documentIDsOffset + 4 * documentCount <= size,
              documentLengthsOffset + 4 * documentCount <= size,
              termEntriesOffset + SegmentFormat.termEntrySize * termCount <= size,
              termBytesOffset <= size,
              wordFormEntriesOffset + SegmentFormat.wordFormEntrySize * wordFormCount <= size,
              wordFormBytesOffset <= size else { throw .sectionOutOfBounds }
        bm25 = BM25(totalTokens: totalTokens, documentCount: documentCount)
    }

    @inlinable
    public func documentID(ordinal: Int) -> UInt32 {
        UInt32(littleEndian: base.loadUnaligned(fromByteOffset: documentIDsOffset + 4 * ordinal, as: UInt32.self))
    }

    @inlinable
    public func documentLength(ordinal: Int) -> UInt32 {
        UInt32(littleEndian: base.loadUnaligned(fromByteOffset: documentLengthsOffset + 4 * ordinal, as: UInt32.self))
    }

    private func load<T: FixedWidthInteger>(_ offset: Int, as type: T.Type) -> T { Self.load(base, offset, as: type) }

    private static func load<T: FixedWidthInteger>(_ base: UnsafeRawPointer, _ offset: Int, as type: T.Type) -> T {
        T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// The dictionary's `index`-th term (terms are in byte order).
    public func term(at index: Int) -> String {
        String(decoding: termBytes(at: index), as: UTF8.self)
    }

    func termBytes(at index: Int) -> UnsafeRawBufferPointer {
        let entry = termEntriesOffset + SegmentFormat.termEntrySize * index
        let start = Int(load(entry, as: UInt32.self)), count = Int(load(entry + 4, as: UInt32.self))
        return UnsafeRawBufferPointer(start: base + termBytesOffset + start, count: count)
    }

    public func termInfo(at index: Int) -> TermInfo {
        let entry = termEntriesOffset + SegmentFormat.termEntrySize * index
        return TermInfo(documentFrequency: Int(load(entry + 24, as: UInt32.self)),
                        postingsOffset: Int(load(entry + 8, as: UInt64.self)),
                        positionsOffset: Int(load(entry + 16, as: UInt64.self)),
                        maxScoreFrequency: load(entry + 28, as: UInt32.self),
                        maxScoreLength: load(entry + 32, as: UInt32.self))
    }

    /// Binary search of the dictionary by the term's bytes.
    public func lookup(_ term: String) -> TermInfo? {
        var term = term
        return term.withUTF8 { wanted in
            var low = 0, high = termCount
            while low < high {
                let middle = (low + high) / 2
                let order = Self.compare(termBytes(at: middle), UnsafeRawBufferPointer(wanted))
                if order == 0 { return termInfo(at: middle) }
                if order < 0 { low = middle + 1 } else { high = middle }
            }
            return nil
        }
    }

    /// Whether some word of the segment is written as the dictionary's `index`-th term itself.
    func isWrittenAsTerm(at index: Int) -> Bool {
        load(termEntriesOffset + SegmentFormat.termEntrySize * index + 36, as: UInt32.self) & SegmentFormat.writtenAsTerm != 0
    }

    /// The `index`-th word form's bytes (forms are in byte order).
    func wordFormBytes(at index: Int) -> UnsafeRawBufferPointer {
        let entry = wordFormEntriesOffset + SegmentFormat.wordFormEntrySize * index
        let start = Int(load(entry, as: UInt32.self))
        let end = index + 1 < wordFormCount ? Int(load(entry + SegmentFormat.wordFormEntrySize, as: UInt32.self)) : size - wordFormBytesOffset
        return UnsafeRawBufferPointer(start: base + wordFormBytesOffset + start, count: end - start)
    }

    /// The dictionary index of the `index`-th word form's term.
    func wordFormTermIndex(at index: Int) -> Int {
        Int(load(wordFormEntriesOffset + SegmentFormat.wordFormEntrySize * index + 4, as: UInt32.self))
    }

    /// Calls `body` with each word of the segment that begins with `prefix` and its term's
    /// dictionary index, read by range scans of the terms written as words and of the word forms.
    func forEachWord(startingWith prefix: String, _ body: (_ word: UnsafeRawBufferPointer, _ termIndex: Int) -> Void) {
        var prefix = prefix
        prefix.withUTF8 { wanted in
            let wanted = UnsafeRawBufferPointer(wanted)
            for index in Self.range(startingWith: wanted, count: termCount, bytes: termBytes(at:)) where isWrittenAsTerm(at: index) {
                body(termBytes(at: index), index)
            }
            for form in Self.range(startingWith: wanted, count: wordFormCount, bytes: wordFormBytes(at:)) {
                body(wordFormBytes(at: form), wordFormTermIndex(at: form))
            }
        }
    }

    /// The indexes of a sorted list of byte strings that begin with `wanted` (they are adjacent).
    private static func range(startingWith wanted: UnsafeRawBufferPointer, count: Int,
                              bytes: (Int) -> UnsafeRawBufferPointer) -> Range<Int> {
        func startsWithWanted(_ index: Int) -> Bool {
            let candidate = bytes(index)
            return candidate.count >= wanted.count && compare(UnsafeRawBufferPointer(rebasing: candidate[0..<wanted.count]), wanted) == 0
        }
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if compare(bytes(middle), wanted) < 0 { low = middle + 1 } else { high = middle }
        }
        let first = low
        // Past the first, the end: the first index that does not begin with `wanted`.
        high = count
        while low < high {
            let middle = (low + high) / 2
            if startsWithWanted(middle) { low = middle + 1 } else { high = middle }
        }
        return first..<low
    }

    /// Byte order, the dictionary's: negative, zero or positive as `a` sorts before, with or after `b`.
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        for index in 0..<min(a.count, b.count) where a[index] != b[index] {
            return a[index] < b[index] ? -1 : 1
        }
        return a.count - b.count
    }

    public func postings(_ term: TermInfo) -> PostingsCursor {
        PostingsCursor(postings: base + term.postingsOffset, positions: base + term.positionsOffset,
                       documentFrequency: term.documentFrequency)
    }
}

/// Walks one term's postings in ordinal order. It starts before the first posting:
/// call `next()` or `advance(to:)` first. `doc` is `PostingsCursor.exhausted` at the end.
///
/// Two positions are kept: the skip position (`block`), which `advanceShallow(to:)`
/// moves over skip data alone to read block bounds, and the decoded block the cursor's
/// current posting is in. `next()` and `advance(to:)` decode a block only when they land in it.
/// The search loops live in this module, so these calls inline without `@inlinable`.
/// A cursor belongs to one query on one thread, so its state is exempt from dynamic
/// exclusivity checks: they took a third of a common word's query time.
public final class PostingsCursor {
    public static let exhausted = UInt32.max

    public let documentFrequency: Int
    public let blockCount: Int
    /// The current posting's ordinal.
    @exclusivity(unchecked) public private(set) var doc: UInt32 = 0
    /// Blocks whose ordinals were unpacked, for the benchmark's count.
    @exclusivity(unchecked) public private(set) var blocksDecoded = 0
    /// The block the skip position is at.
    @exclusivity(unchecked) public private(set) var block = 0

    let postings: UnsafeRawPointer
    let positions: UnsafeRawPointer
    @exclusivity(unchecked) var decodedBlock = -1
    @exclusivity(unchecked) var index = 0
    @exclusivity(unchecked) var decodedCount = 0
    @exclusivity(unchecked) var frequenciesDecoded = false
    @exclusivity(unchecked) var frequencyData: UnsafeRawPointer
    @exclusivity(unchecked) var frequencyBits = 0
    /// Where the positions of the decoded block's posting `positionsIndex` start: reading
    /// the positions of postings in order walks each run once.
    @exclusivity(unchecked) var positionsIndex = 0
    @exclusivity(unchecked) var positionsCursor: UnsafeRawPointer
    /// One slot more than a block: a phrase's decoded block ends with `exhausted` (see `PhraseSource`).
    let ordinals: UnsafeMutablePointer<UInt32>
    let frequencies: UnsafeMutablePointer<UInt32>
    /// The lengths of the decoded block's documents in slots `lengthsFrom..<lengthsTo` (see `documentLength`).
    let lengths: UnsafeMutablePointer<UInt32>
    @exclusivity(unchecked) var lengthsFrom = 0
    @exclusivity(unchecked) var lengthsTo = 0
    /// Set when the cursor walks an exact phrase (see `SegmentReader.phraseCursor`).
    let phrase: PhraseSource?

    init(postings: UnsafeRawPointer, positions: UnsafeRawPointer, documentFrequency: Int, phrase: PhraseSource? = nil) {
        self.postings = postings
        self.positions = positions
        self.documentFrequency = documentFrequency
        self.phrase = phrase
        blockCount = (documentFrequency + SegmentFormat.blockSize - 1) / SegmentFormat.blockSize
        frequencyData = postings
        positionsCursor = positions
        ordinals = .allocate(capacity: SegmentFormat.blockSize + 1)
        frequencies = .allocate(capacity: SegmentFormat.blockSize)
        lengths = .allocate(capacity: SegmentFormat.blockSize)
        if blockCount == 0 { doc = Self.exhausted }
    }

    deinit {
        ordinals.deallocate()
        frequencies.deallocate()
        lengths.deallocate()
    }

    func lastDoc(ofBlock block: Int) -> UInt32 {
        UInt32(littleEndian: postings.loadUnaligned(fromByteOffset: 4 * block, as: UInt32.self))
    }

    func blockEntry(_ block: Int, field: Int) -> UInt32 {
        UInt32(littleEndian: postings.loadUnaligned(
            fromByteOffset: 4 * blockCount + SegmentFormat.blockEntrySize * block + 4 * field, as: UInt32.self))
    }

    /// The last ordinal of the block at the skip position.
    public var blockLastDoc: UInt32 { lastDoc(ofBlock: block) }
    /// The posting of the block at the skip position with the highest BM25 saturation.
    public var blockMaxFrequency: UInt32 { blockEntry(block, field: 2) }
    public var blockMaxLength: UInt32 { blockEntry(block, field: 3) }

    /// The block at the skip position's bound on `weight × saturation`: its exact maximum
    /// when `bm25` is the segment's own, else a bound (see `BM25.saturationBound`).
    public func blockMaxScore(weight: Double, _ bm25: BM25, chosenWith segmentAverage: Double? = nil) -> Double {
        weight * bm25.saturationBound(frequency: blockMaxFrequency, length: blockMaxLength,
                                      chosenWith: segmentAverage ?? bm25.averageLength)
    }

    /// Moves the skip position to the first block that can hold `target` or a later
    /// ordinal, without decoding; false when no block can. Later `advance(to:)` targets
    /// must not be lower: postings between the old and the new block are passed over.
    @discardableResult
    public func advanceShallow(to target: UInt32) -> Bool {
        while block < blockCount && lastDoc(ofBlock: block) < target { block &+= 1 }
        return block < blockCount
    }

    /// Moves to the first posting at or after `target` and returns its ordinal.
    @discardableResult
    public func advance(to target: UInt32) -> UInt32 {
        if decodedBlock == block && doc >= target { return doc }
        guard advanceShallow(to: target) else {
            doc = Self.exhausted
            return doc
        }
        if decodedBlock != block { decode(block, from: target) }
        while ordinals[index] < target { index &+= 1 }
        // Only a phrase's block can hold no posting at or after a target its last ordinal bounds.
        if index == decodedCount { return advancePastPhraseBlock(to: target) }
        doc = ordinals[index]
        return doc
    }

    /// A phrase's decoded block held nothing at or after `target`: the phrase's next match is in a later block.
    private func advancePastPhraseBlock(to target: UInt32) -> UInt32 {
        block &+= 1
        guard advanceShallow(to: target) else {
            doc = Self.exhausted
            return doc
        }
        decode(block, from: target)
        doc = ordinals[0]
        return doc
    }

    /// Moves to the next posting and returns its ordinal.
    @discardableResult
    public func next() -> UInt32 {
        if decodedBlock == block {
            index &+= 1
            if index < decodedCount {
                doc = ordinals[index]
                return doc
            }
            block &+= 1
        }
        guard block < blockCount else {
            doc = Self.exhausted
            return doc
        }
        decode(block, from: 0)
        doc = ordinals[0]
        return doc
    }

    /// Unpacks `block`, or for a phrase finds its matches in `block` from `target` on (moving on
    /// to later blocks while one holds none; `exhausted` first when no block does).
    func decode(_ block: Int, from target: UInt32) {
        if let phrase {
            var found = 0
            while self.block < blockCount {
                let first = self.block == 0 ? 0 : lastDoc(ofBlock: self.block - 1) &+ 1
                found = phrase.matches(from: max(first, target), through: lastDoc(ofBlock: self.block),
                                       ordinals: ordinals, frequencies: frequencies)
                blocksDecoded &+= 1
                if found > 0 || phrase.isExhausted { break }
                self.block &+= 1
            }
            if found == 0 { self.block = blockCount }
            ordinals[found] = Self.exhausted
            frequenciesDecoded = true
            decodedBlock = self.block
            decodedCount = found
            index = 0
            lengthsTo = 0
            return
        }
        let data = postings + Int(blockEntry(block, field: 0))
        let gapBits = Int(data.load(as: UInt8.self))
        frequencyBits = Int(data.load(fromByteOffset: 1, as: UInt8.self))
        let count = block == blockCount - 1 ? documentFrequency - SegmentFormat.blockSize * block : SegmentFormat.blockSize
        BitPacking.unpack(data + 2, count: count, bitWidth: gapBits, into: ordinals)
        var previousPlusOne = block == 0 ? 0 : lastDoc(ofBlock: block - 1) &+ 1
        for slot in 0..<count {
            let ordinal = previousPlusOne &+ ordinals[slot]
            ordinals[slot] = ordinal
            previousPlusOne = ordinal &+ 1
        }
        frequencyData = data + 2 + BitPacking.packedByteCount(count: count, bitWidth: gapBits)
        frequenciesDecoded = false
        positionsIndex = 0
        positionsCursor = positions + Int(blockEntry(block, field: 1))
        decodedBlock = block
        decodedCount = count
        index = 0
        lengthsTo = 0
        blocksDecoded &+= 1
    }

    /// The current posting's document length. Each length is a cache miss (the lengths span
    /// megabytes), which took most of the collectors' time when read one candidate at a time:
    /// the first call in a stretch also reads the lengths of the decoded block's later postings
    /// through `through`, in one loop of independent loads whose misses overlap. Of those, only
    /// the ones `mask` admits are read (a speaker's filter admits few), so a caller passing a
    /// mask must ask only of postings it admits.
    @inline(__always)
    func documentLength(in segment: SegmentReader, through: UInt32, mask: DocumentMask?) -> UInt32 {
        // Inlined, a candidate whose length was read ahead costs a compare: a common word's
        // dense postings miss little, and a call per candidate made them 9% slower.
        if index < lengthsFrom || index >= lengthsTo { readLengths(in: segment, through: through, mask: mask) }
        return lengths[index]
    }

    @inline(never)
    private func readLengths(in segment: SegmentReader, through: UInt32, mask: DocumentMask?) {
        lengths[index] = segment.documentLength(ordinal: Int(ordinals[index]))
        var slot = index &+ 1
        if let mask {
            while slot < decodedCount && ordinals[slot] <= through {
                let ordinal = ordinals[slot]
                if mask.admits(ordinal) { lengths[slot] = segment.documentLength(ordinal: Int(ordinal)) }
                slot &+= 1
            }
        } else {
            while slot < decodedCount && ordinals[slot] <= through {
                lengths[slot] = segment.documentLength(ordinal: Int(ordinals[slot]))
                slot &+= 1
            }
        }
        lengthsFrom = index
        lengthsTo = slot
    }

    /// The current posting's term frequency, read alone from the packed block until the block's
    /// frequencies are unpacked (by `positions`, or a phrase's matching): a common word's block
    /// was unpacked whole for the few postings a rarer word's candidates score (8% of a two-word query).
    public var frequency: UInt32 {
        @inline(__always) get {
            if frequenciesDecoded { return frequencies[index] &+ 1 }
            return BitPacking.value(at: index, in: frequencyData, bitWidth: frequencyBits) &+ 1
        }
    }

    @inline(never)
    private func unpackFrequencies() {
        BitPacking.unpack(frequencyData, count: decodedCount, bitWidth: frequencyBits, into: frequencies)
        frequenciesDecoded = true
    }

    /// Writes the current posting's positions to the start of `buffer`, which must have room
    /// for `frequency` of them, and returns how many: no allocation, for a phrase's
    /// per-candidate matching.
    func positions(writingTo buffer: UnsafeMutableBufferPointer<UInt32>) -> Int {
        if !frequenciesDecoded { unpackFrequencies() }
        let count = Int(frequency)
        precondition(count <= buffer.count, "\(count) positions do not fit a buffer of \(buffer.count)")
        if positionsIndex > index {
            positionsIndex = 0
            positionsCursor = positions + Int(blockEntry(decodedBlock, field: 1))
        }
        // The postings passed over since the last read: their positions are stepped over
        // by counting varint ends, not decoded.
        var passedOver = 0
        for earlier in positionsIndex..<index { passedOver &+= Int(frequencies[earlier]) &+ 1 }
        var cursor = Varint.skip(passedOver, from: positionsCursor)
        var position: UInt32 = 0
        for slot in 0..<count {
            position &+= Varint.read(&cursor)
            buffer[slot] = position
        }
        positionsIndex = index + 1
        positionsCursor = cursor
        return count
    }
}

/// The positions' LEB128 varints: 7 bits a byte, low first, the high bit set on all but a value's last byte.
enum Varint {
    static func read(_ cursor: inout UnsafeRawPointer) -> UInt32 {
        var value: UInt32 = 0, shift: UInt32 = 0
        while true {
            let byte = cursor.load(as: UInt8.self)
            cursor += 1
            value |= UInt32(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    /// Where the varint after the next `count` ones starts. A value ends at each byte
    /// below 0x80, so eight bytes are stepped over with one popcount while more values are
    /// left than they can end (then the bytes after their last end belong to a skipped value).
    static func skip(_ count: Int, from start: UnsafeRawPointer) -> UnsafeRawPointer {
        var cursor = start, left = count
        while left > 8 {
            let word = UInt64(littleEndian: cursor.loadUnaligned(as: UInt64.self))
            left &-= (~word & 0x8080_8080_8080_8080).nonzeroBitCount
            cursor += 8
        }
        while left > 0 {
            if cursor.load(as: UInt8.self) < 0x80 { left &-= 1 }
            cursor += 1
        }
        return cursor
    }
}
