// Builds an immutable segment: one contiguous byte buffer that can be written to a
// file and memory-mapped as it is. Integers are little-endian; sections start on
// 8-byte boundaries.
//
// Header (88 bytes)
//   0  magic "MIDX"            UInt32 (0x5844494D)
//   4  format version          UInt32 (2; 1 had no word forms)
//   8  document count N        UInt32
//  12  term count              UInt32
//  16  total tokens            UInt64   sum of document lengths; average length = total / N
//  24  document ids offset     UInt64   N × UInt32, ascending: ordinal → caller's document id
//  32  document lengths offset UInt64   N × UInt32, exact lengths in tokens (not quantised, so
//                                       an exhaustive scorer from the same inputs agrees exactly)
//  40  term entries offset     UInt64   term count × 40 bytes, in byte order of the terms
//  48  term bytes offset       UInt64   the terms' UTF-8, concatenated in the same order
//  56  segment size            UInt64   bytes before the trailing padding
//  64  word form count         UInt32   then 4 zero bytes
//  72  word form entries offset UInt64  word form count × 8 bytes, in byte order of the forms
//  80  word form bytes offset  UInt64   the forms' UTF-8, concatenated in the same order
//
// Term entry (40 bytes)
//   0 term bytes start UInt32 (relative to term bytes), 4 term byte count UInt32,
//   8 postings offset UInt64, 16 positions offset UInt64 (both absolute),
//   24 document frequency UInt32, 28 max-score frequency UInt32, 32 max-score length UInt32,
//   36 flags UInt32: bit 0 set when some word of the segment is written as the term itself.
//   The (frequency, length) pair is the posting with the term's highest BM25 saturation,
//   so the term's score upper bound is weight × saturation(pair).
//
// Word forms: the words (folded as the analyzer folds them) whose terms differ from them,
// each once: byte start UInt32 (relative to the word form bytes; its end is the next
// form's start, or the section's end) and its term's dictionary index UInt32. A user's
// prefix is the start of a word, which its stem may be shorter than ("negotiations" is
// "negoti"): the terms a prefix covers are those of the words starting with it, read from
// these forms and the terms flagged as written.
//
// Postings of a term: B = ⌈df / 128⌉ blocks of 128 postings (the last may be shorter).
//   last documents  B × UInt32: the last ordinal in each block, scanned by advance(to:)
//   block entries   B × 16 bytes: packed data offset UInt32 (relative to the postings
//                   offset), positions offset UInt32 (relative to the term's positions),
//                   block-max frequency UInt32, block-max length UInt32 (the block's
//                   posting with the highest saturation: the block's exact score bound)
//   packed blocks   per block: gap bit width UInt8, frequency bit width UInt8, then the
//                   gaps (ordinal − previous ordinal − 1; the first block's previous is −1,
//                   a later block's is the last ordinal of the block before), then frequency − 1,
//                   each bit-packed at its width (see BitPacking).
// Postings hold document ordinals (0..<N), not ids, so gaps stay small and dense terms
// pack to 0 bits. The max-score pairs are chosen with this segment's own average length;
// scoring with other statistics (several segments) must derive its bounds anew.
//
// Positions of a term, apart from the postings so that scoring never reads them:
//   per posting, in order, frequency LEB128 varints: the first position, then the
//   differences between consecutive positions.
//
// The buffer ends with 8 zero bytes so that the bit unpacker's 64-bit loads stay inside it.

public enum SegmentFormat {
    public static let magic: UInt32 = 0x5844_494D
    public static let version: UInt32 = 2
    public static let blockSize = 128
    static let headerSize = 88
    static let termEntrySize = 40
    static let wordFormEntrySize = 8
    /// A term entry's flag: some word is written as the term itself.
    static let writtenAsTerm: UInt32 = 1
    static let blockEntrySize = 16
    static let trailingPadding = 8
}

public enum SegmentWriterError: Error, Equatable {
    case documentIDNotAscending(UInt32)
    case termRepeatedInDocument(term: String, documentID: UInt32)
    case positionsNotAscending(term: String, documentID: UInt32)
    case noPositions(term: String, documentID: UInt32)
    /// A term's positions end before the previous term's or beyond the positions given.
    case positionsOutOfRange(term: String, documentID: UInt32)
    case unknownTermID(Int)
    /// A word form named a term index outside the document's terms.
    case wordTermIndexOutOfRange(Int)
    case tooManyDocuments
    /// A merge's output could not be written to, or read back from, its unnamed file.
    case spoolFailed(errno: Int32)
}

public struct SegmentWriter {
    /// Identifies a term within this writer; `termID(for:)` hands them out.
    public typealias TermID = Int

    private struct TermPostings {
        var ordinals: [UInt32] = []
        var frequencies: [UInt32] = []
        var positions: [UInt8] = []
        /// Where each block's first posting starts in `positions`.
        var blockPositionStarts: [UInt32] = []
    }

    private var termIDs: [String: TermID] = [:]
    private var terms: [String] = []
    private var postings: [TermPostings] = []
    private var documentIDs: [UInt32] = []
    private var documentLengths: [UInt32] = []
    private var totalTokens: UInt64 = 0
    /// Per term, the call to `addDocument` that last named it: repeats are found without a set per document.
    private var lastNamedIn: [UInt64] = []
    private var addCalls: UInt64 = 0
    /// Per term, whether some word is written as the term itself; other words, by form.
    private var writtenAsTerm: [Bool] = []
    private var wordForms: [String: TermID] = [:]

    public init() {}

    public var documentCount: Int { documentIDs.count }

    /// The id of `term`, added to the dictionary if it is new.
    public mutating func termID(for term: String) -> TermID {
        if let id = termIDs[term] { return id }
        let id = terms.count
        termIDs[term] = id
        terms.append(term)
        postings.append(TermPostings())
        lastNamedIn.append(0)
        writtenAsTerm.append(false)
        return id
    }

    /// Adds a document: ids must ascend; each term appears once, with its positions ascending.
    /// `words`: the document's words as (folded form, index of its term in `documentTerms`)
    /// pairs, for prefixes; nil when every word is written as its term. The index, not the
    /// term, so that no word's term is looked up in the dictionary again.
    public mutating func addDocument(id: UInt32, length: UInt32, terms documentTerms: [(term: String, positions: [UInt32])],
                                     words: [(form: String, termIndex: Int)]? = nil) throws(SegmentWriterError) {
        var terms: [(term: String, positionsEnd: Int)] = []
        var positions: [UInt32] = []
        for (term, termPositions) in documentTerms {
            positions += termPositions
            terms.append((term, positions.count))
        }
        try addDocument(id: id, length: length, terms: terms, positions: positions, words: words)
    }

    /// As above, with every term's positions in one buffer: the term at index i has
    /// `positions[terms[i - 1].positionsEnd..<terms[i].positionsEnd]` (from 0 for the first),
    /// so that a document is one allocation, not one per term.
    public mutating func addDocument(id: UInt32, length: UInt32, terms documentTerms: [(term: String, positionsEnd: Int)],
                                     positions: [UInt32], words: [(form: String, termIndex: Int)]? = nil) throws(SegmentWriterError) {
        var ids: [TermID] = []
        ids.reserveCapacity(documentTerms.count)
        for (term, _) in documentTerms { ids.append(termID(for: term)) }
        if let words, let outside = words.first(where: { !documentTerms.indices.contains($0.termIndex) }) {
            throw .wordTermIndexOutOfRange(outside.termIndex)
        }
        var start = 0
        for (index, (_, end)) in documentTerms.enumerated() {
            guard start <= end, end <= positions.count else { throw .positionsOutOfRange(term: documentTerms[index].term, documentID: id) }
            start = end
        }
        try addPostings(id: id, length: length, termCount: ids.count, termID: { ids[$0] }, positions: { index in
            positions[(index == 0 ? 0 : documentTerms[index - 1].positionsEnd)..<documentTerms[index].positionsEnd]
        })
        guard let words else {
            for termID in ids { writtenAsTerm[termID] = true }
            return
        }
        for (form, termIndex) in words {
            let termID = ids[termIndex]
            if form == documentTerms[termIndex].term { writtenAsTerm[termID] = true } else { wordForms[form] = termID }
        }
    }

    public mutating func addDocument(id: UInt32, length: UInt32,
                                     termIDs documentTerms: [(termID: TermID, positions: [UInt32])]) throws(SegmentWriterError) {
        try addPostings(id: id, length: length, termCount: documentTerms.count, termID: { documentTerms[$0].termID },
                        positions: { documentTerms[$0].positions[...] })
    }

    /// The postings of a document of `termCount` terms, each given by its index.
    private mutating func addPostings(id: UInt32, length: UInt32, termCount: Int, termID: (Int) -> TermID,
                                      positions: (Int) -> ArraySlice<UInt32>) throws(SegmentWriterError) {
        if let last = documentIDs.last, id <= last { throw .documentIDNotAscending(id) }
        guard documentIDs.count < Int(UInt32.max) else { throw .tooManyDocuments }
        let ordinal = UInt32(documentIDs.count)
        addCalls += 1
        for index in 0..<termCount {
            let termID = termID(index), positions = positions(index)
            guard postings.indices.contains(termID) else { throw .unknownTermID(termID) }
            if lastNamedIn[termID] == addCalls { throw .termRepeatedInDocument(term: terms[termID], documentID: id) }
            lastNamedIn[termID] = addCalls
            guard !positions.isEmpty else { throw .noPositions(term: terms[termID], documentID: id) }
            for index in positions.indices.dropFirst() where positions[index] <= positions[index - 1] {
                throw .positionsNotAscending(term: terms[termID], documentID: id)
            }
        }
        // Checked first, so that a rejected document leaves nothing behind.
        for index in 0..<termCount {
            Self.append(ordinal: ordinal, positions: positions(index), to: &postings[termID(index)])
        }
        documentIDs.append(id)
        documentLengths.append(length)
        totalTokens += UInt64(length)
    }

    private static func append(ordinal: UInt32, positions: ArraySlice<UInt32>, to term: inout TermPostings) {
        startPosting(ordinal: ordinal, frequency: UInt32(positions.count), in: &term)
        var previous: UInt32 = 0
        for position in positions {
            appendVarint(position - previous, to: &term.positions)
            previous = position
        }
    }

    private static func startPosting(ordinal: UInt32, frequency: UInt32, in term: inout TermPostings) {
        if term.ordinals.count % SegmentFormat.blockSize == 0 {
            term.blockPositionStarts.append(UInt32(term.positions.count))
        }
        term.ordinals.append(ordinal)
        term.frequencies.append(frequency)
    }

    private static func appendVarint(_ value: UInt32, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// The segment, spooled as a merge's is (see `merge`): in unnamed files in `directory`,
    /// in memory without one, so that it is not held a second time beside the writer's postings.
    public func finish(spoolingIn directory: String? = nil, pieceSize: Int = ByteSpool.defaultPieceSize) -> AssembledSegment {
        var assembler = SegmentAssembler(documentIDs: documentIDs, documentLengths: documentLengths, totalTokens: totalTokens,
                                         spoolingIn: directory, pieceSize: pieceSize)
        // A term can be left with no posting only by a caller that named it and added nothing.
        let order = terms.indices.filter { !postings[$0].ordinals.isEmpty }
            .sorted { terms[$0].utf8.lexicographicallyPrecedes(terms[$1].utf8) }
        var dictionaryIndex = [Int?](repeating: nil, count: terms.count)
        for (index, termID) in order.enumerated() {
            dictionaryIndex[termID] = index
            assembler.add(term: terms[termID].utf8, postings[termID], writtenAsTerm: writtenAsTerm[termID])
        }
        let forms = wordForms.compactMap { form, termID in dictionaryIndex[termID].map { (form: Array(form.utf8), termIndex: $0) } }
        for (form, termIndex) in forms.sorted(by: { $0.form.lexicographicallyPrecedes($1.form) }) {
            form.withUnsafeBytes { assembler.addWordForm($0, termIndex: termIndex) }
        }
        return assembler.finish()
    }

    /// One segment holding the documents of `parts` that their masks keep, with their
    /// postings and positions as they are: what a merge writes. Every kept document id
    /// of a part must be above those of the parts before it. The parts' dictionaries (and
    /// word forms) are walked together in byte order, so only one term's postings are
    /// ever decoded, and the output is spooled in unnamed files in `directory` (in memory
    /// without one): the memory a merge needs is what it reads and writes at a time, not
    /// its inputs' or output's size. `releaseInputPages` is called after every few
    /// megabytes written, for a caller whose inputs are mapped to let their pages go.
    public static func merge(_ parts: [(reader: SegmentReader, keeps: (_ ordinal: UInt32) -> Bool)], spoolingIn directory: String? = nil,
                             pieceSize: Int = ByteSpool.defaultPieceSize,
                             releaseInputPages: () -> Void = {}) throws(SegmentWriterError) -> AssembledSegment {
        var documentIDs: [UInt32] = [], documentLengths: [UInt32] = [], totalTokens: UInt64 = 0
        var newOrdinals: [[UInt32]] = []
        for (reader, keeps) in parts {
            var newOrdinal = [UInt32](repeating: PostingsCursor.exhausted, count: reader.documentCount)
            for ordinal in 0..<reader.documentCount where keeps(UInt32(ordinal)) {
                let id = reader.documentID(ordinal: ordinal)
                if let last = documentIDs.last, id <= last { throw .documentIDNotAscending(id) }
                newOrdinal[ordinal] = UInt32(documentIDs.count)
                documentIDs.append(id)
                let length = reader.documentLength(ordinal: ordinal)
                documentLengths.append(length)
                totalTokens += UInt64(length)
            }
            newOrdinals.append(newOrdinal)
        }
        var assembler = SegmentAssembler(documentIDs: documentIDs, documentLengths: documentLengths, totalTokens: totalTokens,
                                         spoolingIn: directory, pieceSize: pieceSize)
        let readers = parts.map(\.reader)
        var nextTerm = [Int](repeating: 0, count: parts.count)
        // Each part's dictionary index → the merged one, for the parts' word forms.
        var mergedIndex = readers.map { [Int?](repeating: nil, count: $0.termCount) }
        var releasedAt = 0
        while let term = smallestNextEntry(of: readers, next: nextTerm, count: \.termCount, bytes: { $0.termBytes(at: $1) }) {
            var merged = TermPostings()
            var writtenAsTerm = false
            var holders: [(part: Int, index: Int)] = []
            for part in term.parts {
                let reader = readers[part]
                let info = reader.termInfo(at: nextTerm[part])
                writtenAsTerm = writtenAsTerm || reader.isWrittenAsTerm(at: nextTerm[part])
                holders.append((part, nextTerm[part]))
                nextTerm[part] += 1
                let cursor = reader.postings(info)
                // A posting's positions are self-contained varints (the first position, then
                // differences), one run per posting in order: kept runs are copied as they are.
                var run = reader.base + info.positionsOffset
                while cursor.next() != PostingsCursor.exhausted {
                    let frequency = cursor.frequency
                    let runStart = run
                    run = Varint.skip(Int(frequency), from: run)
                    let ordinal = newOrdinals[part][Int(cursor.doc)]
                    guard ordinal != PostingsCursor.exhausted else { continue }
                    startPosting(ordinal: ordinal, frequency: frequency, in: &merged)
                    merged.positions.append(contentsOf: UnsafeRawBufferPointer(start: runStart, count: run - runStart))
                }
            }
            // A term whose every document was left out is left out, with its word forms. Forms
            // are kept as they were written: one only a left-out document held stays while its term does.
            guard !merged.ordinals.isEmpty else { continue }
            for (part, index) in holders { mergedIndex[part][index] = assembler.termCount }
            assembler.add(term: term.bytes, merged, writtenAsTerm: writtenAsTerm)
            if assembler.writtenBytes - releasedAt >= releaseInterval {
                releaseInputPages()
                releasedAt = assembler.writtenBytes
            }
        }
        // Each part's forms are in byte order: walked together, each distinct form is written
        // once, with the term of the last part that holds it and kept its term.
        var nextForm = [Int](repeating: 0, count: parts.count)
        while let form = smallestNextEntry(of: readers, next: nextForm, count: \.wordFormCount, bytes: { $0.wordFormBytes(at: $1) }) {
            var termIndex: Int?
            for part in form.parts {
                termIndex = mergedIndex[part][readers[part].wordFormTermIndex(at: nextForm[part])] ?? termIndex
                nextForm[part] += 1
            }
            if let termIndex { assembler.addWordForm(form.bytes, termIndex: termIndex) }
        }
        return assembler.finish()
    }

    /// Of the readers' sorted entries (terms or word forms: `count` of them in each, read by
    /// `bytes`), the smallest of those at `next`, with the parts, in order, whose next entry
    /// it is; nil when every reader is past its last.
    private static func smallestNextEntry(of readers: [SegmentReader], next: [Int], count: (SegmentReader) -> Int,
                                          bytes: (SegmentReader, Int) -> UnsafeRawBufferPointer)
        -> (bytes: UnsafeRawBufferPointer, parts: [Int])? {
        var smallest: (bytes: UnsafeRawBufferPointer, parts: [Int])?
        for (part, reader) in readers.enumerated() where next[part] < count(reader) {
            let entry = bytes(reader, next[part])
            switch smallest.map({ SegmentReader.compare(entry, $0.bytes) }) ?? -1 {
            case ..<0: smallest = (entry, [part])
            case 0: smallest?.parts.append(part)
            default: break
            }
        }
        return smallest
    }

    /// How much a merge writes between two calls of its `releaseInputPages`.
    private static let releaseInterval = 8 << 20

    /// Lays a segment out from its documents, then its terms and then its word forms, each
    /// given in byte order one at a time, into a spool per section (see `AssembledSegment`).
    private struct SegmentAssembler {
        /// The header's place is left out: its fields are known at the end.
        private let main: ByteSpool
        private let positions: ByteSpool, termEntries: ByteSpool, termBytes: ByteSpool
        private let wordFormEntries: ByteSpool, wordFormBytes: ByteSpool
        /// One term's skip data and blocks, before they go to `main`.
        private var postingsPiece: [UInt8] = []
        private(set) var termCount = 0
        private var wordFormCount = 0
        private let documentLengths: [UInt32]
        private let documentCount: Int
        private let totalTokens: UInt64
        private let bm25: BM25
        private let documentIDsOffset: Int
        private let documentLengthsOffset: Int
        var writtenBytes: Int { main.count + positions.count }

        init(documentIDs: [UInt32], documentLengths: [UInt32], totalTokens: UInt64, spoolingIn directory: String?,
             pieceSize: Int = ByteSpool.defaultPieceSize) {
            main = ByteSpool(in: directory, pieceSize: pieceSize)
            positions = ByteSpool(in: directory, pieceSize: pieceSize)
            termEntries = ByteSpool(in: directory, pieceSize: pieceSize)
            termBytes = ByteSpool(in: directory, pieceSize: pieceSize)
            wordFormEntries = ByteSpool(in: directory, pieceSize: pieceSize)
            wordFormBytes = ByteSpool(in: directory, pieceSize: pieceSize)
            documentIDsOffset = SegmentFormat.headerSize
            for id in documentIDs { main.appendLittleEndian(id) }
            main.alignTo8()
            documentLengthsOffset = SegmentFormat.headerSize + main.count
            for length in documentLengths { main.appendLittleEndian(length) }
            main.alignTo8()
            self.documentLengths = documentLengths
            documentCount = documentIDs.count
            self.totalTokens = totalTokens
            bm25 = BM25(totalTokens: totalTokens, documentCount: documentIDs.count)
        }

        mutating func add(term: some Collection<UInt8>, _ postings: TermPostings, writtenAsTerm: Bool) {
            let postingsOffset = SegmentFormat.headerSize + main.count
            postingsPiece.removeAll(keepingCapacity: true)
            let (maxFrequency, maxLength) = SegmentWriter.writePostings(postings, lengths: documentLengths, bm25: bm25, to: &postingsPiece)
            main.append(contentsOf: postingsPiece)
            main.alignTo8()
            termEntries.appendLittleEndian(UInt32(termBytes.count))
            termEntries.appendLittleEndian(UInt32(term.count))
            termEntries.appendLittleEndian(UInt64(postingsOffset))
            // Relative to the positions section until `AssembledSegment` writes it.
            termEntries.appendLittleEndian(UInt64(positions.count))
            termEntries.appendLittleEndian(UInt32(postings.ordinals.count))
            termEntries.appendLittleEndian(maxFrequency)
            termEntries.appendLittleEndian(maxLength)
            termEntries.appendLittleEndian(writtenAsTerm ? SegmentFormat.writtenAsTerm : 0)
            termCount += 1
            positions.append(contentsOf: postings.positions)
            termBytes.append(contentsOf: term)
        }

        /// `form`: a word form's bytes, above the one before; `termIndex`: its term's index in this segment's dictionary.
        mutating func addWordForm(_ form: UnsafeRawBufferPointer, termIndex: Int) {
            wordFormEntries.appendLittleEndian(UInt32(wordFormBytes.count))
            wordFormEntries.appendLittleEndian(UInt32(termIndex))
            wordFormBytes.append(contentsOf: form)
            wordFormCount += 1
        }

        consuming func finish() -> AssembledSegment {
            func alignedTo8(_ offset: Int) -> Int { (offset + 7) / 8 * 8 }
            let positionsOffset = SegmentFormat.headerSize + main.count
            let termEntriesOffset = alignedTo8(positionsOffset + positions.count)
            let termBytesOffset = termEntriesOffset + termEntries.count
            let wordFormEntriesOffset = alignedTo8(termBytesOffset + termBytes.count)
            let wordFormBytesOffset = wordFormEntriesOffset + wordFormEntries.count
            let size = wordFormBytesOffset + wordFormBytes.count

            var header = [UInt8](repeating: 0, count: SegmentFormat.headerSize)
            header.storeLittleEndian(SegmentFormat.magic, at: 0)
            header.storeLittleEndian(SegmentFormat.version, at: 4)
            header.storeLittleEndian(UInt32(documentCount), at: 8)
            header.storeLittleEndian(UInt32(termCount), at: 12)
            header.storeLittleEndian(totalTokens, at: 16)
            header.storeLittleEndian(UInt64(documentIDsOffset), at: 24)
            header.storeLittleEndian(UInt64(documentLengthsOffset), at: 32)
            header.storeLittleEndian(UInt64(termEntriesOffset), at: 40)
            header.storeLittleEndian(UInt64(termBytesOffset), at: 48)
            header.storeLittleEndian(UInt64(size), at: 56)
            header.storeLittleEndian(UInt32(wordFormCount), at: 64)
            header.storeLittleEndian(UInt64(wordFormEntriesOffset), at: 72)
            header.storeLittleEndian(UInt64(wordFormBytesOffset), at: 80)
            return AssembledSegment(header: header, main: main, positions: positions, termEntries: termEntries, termBytes: termBytes,
                                    wordFormEntries: wordFormEntries, wordFormBytes: wordFormBytes,
                                    positionsOffset: positionsOffset, termEntriesOffset: termEntriesOffset,
                                    wordFormEntriesOffset: wordFormEntriesOffset, size: size + SegmentFormat.trailingPadding)
        }
    }

    /// Postings in this format for matches found at query time (a phrase's), without
    /// positions: `lengths` are the segment's document lengths by ordinal, `bm25` its own.
    /// Returns the bytes (with the trailing padding the unpacker reads) and the max-score pair.
    static func postings(ordinals: [UInt32], frequencies: [UInt32], lengths: some RandomAccessCollection<UInt32>,
                         bm25: BM25) -> (bytes: [UInt8], maxFrequency: UInt32, maxLength: UInt32) {
        let blocks = (ordinals.count + SegmentFormat.blockSize - 1) / SegmentFormat.blockSize
        let term = TermPostings(ordinals: ordinals, frequencies: frequencies, positions: [],
                                blockPositionStarts: [UInt32](repeating: 0, count: blocks))
        var out: [UInt8] = []
        let (frequency, length) = writePostings(term, lengths: lengths, bm25: bm25, to: &out)
        out.append(contentsOf: repeatElement(0, count: SegmentFormat.trailingPadding))
        return (out, frequency, length)
    }

    /// Writes one term's skip data and packed blocks; returns its max-score (frequency, length).
    private static func writePostings(_ term: TermPostings, lengths documentLengths: some RandomAccessCollection<UInt32>,
                                      bm25: BM25, to out: inout [UInt8]) -> (UInt32, UInt32) {
        let count = term.ordinals.count
        let blockCount = (count + SegmentFormat.blockSize - 1) / SegmentFormat.blockSize
        let start = out.count
        let entriesStart = start + 4 * blockCount
        out.append(contentsOf: repeatElement(0, count: (4 + SegmentFormat.blockEntrySize) * blockCount))
        var termBest: (frequency: UInt32, length: UInt32, saturation: Double) = (0, 0, -1)
        var values = [UInt32](repeating: 0, count: SegmentFormat.blockSize)
        var previousPlusOne: UInt32 = 0
        for block in 0..<blockCount {
            let range = (block * SegmentFormat.blockSize)..<min(count, (block + 1) * SegmentFormat.blockSize)
            var best: (frequency: UInt32, length: UInt32, saturation: Double) = (0, 0, -1)
            for index in range {
                let frequency = term.frequencies[index], length = documentLengths[documentLengths.index(documentLengths.startIndex, offsetBy: Int(term.ordinals[index]))]
                let saturation = bm25.saturation(frequency: frequency, length: length)
                if saturation > best.saturation { best = (frequency, length, saturation) }
            }
            if best.saturation > termBest.saturation { termBest = best }
            let entry = entriesStart + block * SegmentFormat.blockEntrySize
            out.storeLittleEndian(term.ordinals[range.upperBound - 1], at: start + 4 * block)
            out.storeLittleEndian(UInt32(out.count - start), at: entry)
            out.storeLittleEndian(term.blockPositionStarts[block], at: entry + 4)
            out.storeLittleEndian(best.frequency, at: entry + 8)
            out.storeLittleEndian(best.length, at: entry + 12)

            var maximumGap: UInt32 = 0
            for (slot, index) in range.enumerated() {
                values[slot] = term.ordinals[index] - previousPlusOne
                maximumGap = max(maximumGap, values[slot])
                previousPlusOne = term.ordinals[index] + 1
            }
            let maximumFrequency = term.frequencies[range].max()! - 1
            let gapBits = BitPacking.bitWidth(ofMaximum: maximumGap)
            let frequencyBits = BitPacking.bitWidth(ofMaximum: maximumFrequency)
            out.append(UInt8(gapBits))
            out.append(UInt8(frequencyBits))
            values.withUnsafeBufferPointer { BitPacking.pack(UnsafeBufferPointer(rebasing: $0[0..<range.count]), bitWidth: gapBits, into: &out) }
            for (slot, index) in range.enumerated() { values[slot] = term.frequencies[index] - 1 }
            values.withUnsafeBufferPointer { BitPacking.pack(UnsafeBufferPointer(rebasing: $0[0..<range.count]), bitWidth: frequencyBits, into: &out) }
        }
        return (termBest.frequency, termBest.length)
    }

}

extension [UInt8] {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func storeLittleEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        Swift.withUnsafeBytes(of: value.littleEndian) { bytes in
            for (index, byte) in bytes.enumerated() { self[offset + index] = byte }
        }
    }

    mutating func alignTo8() {
        while count % 8 != 0 { append(0) }
    }
}
