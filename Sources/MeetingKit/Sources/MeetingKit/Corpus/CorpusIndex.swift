// The search index inside the corpus (issue 12): immutable segments in MeetingIndex's
// format, stored as BLOBs in `index_segment`, and the turns removed since a segment was
// written, in `index_deleted`. Both are written in the transaction that writes or removes
// the turns, so any reader sees the index of exactly the turns it sees, and a killed
// ingest leaves the old state or the new one, never a mix.

import Foundation
import GRDBSQLite

public enum CorpusIndex {
    /// One turn as the index holds it: the term of every word, stop words too (so that
    /// every query word counts), at the word's ordinal in the turn; and its distinct words
    /// folded, each with its term's index in `terms`, for prefixes.
    public struct Document: Sendable {
        let length: UInt32
        /// The distinct terms in order of first use, each with where its positions end in `positions`.
        let terms: [(term: String, positionsEnd: Int)]
        /// Every word's ordinal, grouped by term in the order of `terms` (ascending within a
        /// term): one buffer per turn, as an array per term was most of ingest's allocations.
        let positions: [UInt32]
        let words: [(form: String, termIndex: Int)]

        /// A turn's stored text as the index holds it (the words of `words(ofStoredText:)`),
        /// grouped by the analyzer's form and term numbers, so that no word is hashed again.
        /// Each distinct term of a word that is not a stop word is handed to `eachStatisticTerm`
        /// once, as its term number in `analyzer`: this is the rule of what `term_stat` counts
        /// (`TermStatistics`), and ingest takes it from the same pass. Term numbers hold until
        /// the analyzer's vocabulary starts over (`startOverIfFull`, which callers call where
        /// they hold none).
        init(storedText text: String, analyzer: Analyzer, eachStatisticTerm: (_ term: Int32) -> Void = { _ in }) {
            // Taken out of the analyzer while in use, so that each word's access is a local one.
            var scratch = IndexDocumentScratch()
            swap(&scratch, &analyzer.documentScratch)
            defer { swap(&scratch, &analyzer.documentScratch) }
            // First the words' term slots, counted per slot; then each slot's positions in
            // their share of one buffer (a counting sort).
            analyzer.indexWordNumbers(indexedText(ofStoredText: text)) { word in
                let slot: Int
                if let known = scratch.slotOfTerm.value(of: word.term) {
                    slot = Int(known)
                } else {
                    slot = scratch.slotWordCounts.count
                    scratch.slotOfTerm.set(word.term, to: Int32(slot))
                    scratch.slotWordCounts.append(0)
                    scratch.slotCounted.append(false)
                }
                scratch.slotWordCounts[slot] += 1
                scratch.wordSlots.append(Int32(slot))
                if scratch.formsMet.value(of: word.form) == nil { scratch.formsMet.set(word.form, to: Int32(slot)) }
                if !word.isStopWord, !scratch.slotCounted[slot] {
                    scratch.slotCounted[slot] = true
                    eachStatisticTerm(word.term)
                }
            }
            let termsByNumber = analyzer.termsByNumber, forms = analyzer.forms
            var terms: [(term: String, positionsEnd: Int)] = []
            terms.reserveCapacity(scratch.slotWordCounts.count)
            var end = 0
            for (slot, term) in scratch.slotOfTerm.numbers.enumerated() {
                // From here on, a slot's count is where its next position goes.
                let count = scratch.slotWordCounts[slot]
                scratch.slotWordCounts[slot] = end
                end += count
                terms.append((termsByNumber[Int(term)], end))
            }
            positions = [UInt32](unsafeUninitializedCapacity: scratch.wordSlots.count) { buffer, initialized in
                for (position, slot) in scratch.wordSlots.enumerated() {
                    buffer[scratch.slotWordCounts[Int(slot)]] = UInt32(position)
                    scratch.slotWordCounts[Int(slot)] += 1
                }
                initialized = scratch.wordSlots.count
            }
            words = scratch.formsMet.numbers.map { (forms[Int($0)], Int(scratch.formsMet.value(of: $0)!)) }
            length = UInt32(scratch.wordSlots.count)
            self.terms = terms
            scratch.removeAll()
        }
    }

    /// The words the index holds of a turn's stored text: all of them, transcription marks left out.
    public static func words(ofStoredText text: String, analyzer: Analyzer) -> [AnalyzedWord] {
        analyzer.words(indexedText(ofStoredText: text))
    }

    /// The one rule of what text of a stored turn the index holds: transcription marks left out.
    private static func indexedText(ofStoredText text: String) -> String {
        TranscriptText.strippingMarks(text)
    }

    /// Segments whose live turn counts have as many decimal digits form a tier, and all
    /// below `smallestTier` turns one tier (so that meetings of 80 and of 800 turns do not
    /// keep each other apart); this many neighbouring segments of one tier are merged into
    /// one, so a corpus of N turns has O(log N) segments and each turn is rewritten O(log N) times.
    static let mergeFactor = 10
    static let smallestTier = 10_000
    /// No merge makes a segment of more live turns than this (as Lucene caps merged
    /// segments), so no merge rewrites more however large the corpus grows: a corpus of
    /// N turns has about N / 125,000 segments of that size and fewer small ones. (Merges
    /// stream, so memory does not set it; at 500,000 searches were no faster: README.)
    static let maxMergedTurns = 250_000
    /// Turns analysed into one segment by `rebuild`, which bounds its memory.
    static let rebuildChunk = 100_000

    /// Writes the turns `documents` (ids ascending, above every id a segment holds) as a new
    /// segment; the caller then merges (`mergeIfNeeded`).
    static func addSegment(_ db: Database, _ documents: [(id: Int64, document: Document)]) throws {
        try SegmentInProgress(documents, of: db, buildingOnAnotherThread: false).insert(db)
    }

    /// A new segment (as `addSegment` writes), built on another thread from the start when
    /// asked: ingest writes the turns' rows meanwhile, and the two took one core in turn.
    /// It is spooled to unnamed files beside the corpus, as a merge's output is.
    final class SegmentInProgress: @unchecked Sendable {
        private let first: Int64?, last: Int64?, turns: Int
        private var built: Result<AssembledSegment, any Error>?
        private let done = DispatchGroup()

        init(_ documents: [(id: Int64, document: Document)], of db: Database, buildingOnAnotherThread: Bool) {
            first = documents.first?.id
            last = documents.last?.id
            turns = documents.count
            guard !documents.isEmpty else { return }
            let directory = corpusDirectory(db)
            let build: @Sendable () -> Void = { [self] in built = Result { try Self.segment(of: documents, spoolingIn: directory) } }
            if buildingOnAnotherThread { DispatchQueue.global().async(group: done, execute: build) } else { build() }
        }

        private static func segment(of documents: [(id: Int64, document: Document)], spoolingIn directory: String?) throws -> AssembledSegment {
            var writer = SegmentWriter()
            for (id, document) in documents {
                guard let id = UInt32(exactly: id) else { throw CorpusError("turn id \(id) is beyond the index's 32-bit ids") }
                try writer.addDocument(id: id, length: document.length, terms: document.terms, positions: document.positions,
                                       words: document.words)
            }
            return writer.finish(spoolingIn: directory)
        }

        /// Waits for the segment, and writes it; the caller then merges (`mergeIfNeeded`).
        func insert(_ db: Database) throws {
            done.wait()
            // Let go once written, so that its spool files are closed before the merges that follow.
            defer { built = nil }
            guard let first, let last, let built else { return }
            try insertSegment(db, built.get(), first: first, last: last, turns: turns)
        }
    }

    /// The one way a segment goes into its row, ingest's as a merge's: a `zeroblob` of its size
    /// written a piece at a time, so that it is never in memory whole here (nor copied by SQLite).
    private static func insertSegment(_ db: Database, _ segment: AssembledSegment, first: Int64, last: Int64, turns: Int) throws {
        // Blob offsets are 32-bit (and SQLite's blobs smaller still): say so rather than trap.
        guard segment.size <= Int32.max else {
            throw DatabaseError(resultCode: .SQLITE_TOOBIG, message: "an index segment of \(segment.size) bytes")
        }
        try db.execute(sql: "INSERT INTO index_segment (first_turn, last_turn, turns, bytes) VALUES (?, ?, ?, zeroblob(?))",
                       arguments: [first, last, turns, segment.size])
        try withBlob(db, row: db.lastInsertedRowID, writable: true) { blob in
            try segment.write { offset, bytes in
                try check(db, sqlite3_blob_write(blob, bytes.baseAddress, Int32(bytes.count), Int32(offset)))
            }
        }
    }

    /// Masks the turns `ids` (removed from the corpus) in the segments holding them.
    static func markDeleted(_ db: Database, turns ids: ClosedRange<Int64>) throws {
        let segments = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT id, first_turn, last_turn FROM index_segment WHERE last_turn >= ? AND first_turn <= ?
            """), arguments: [ids.lowerBound, ids.upperBound])
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO index_deleted (segment_id, turn_id) VALUES (?, ?)")
        for segment in segments {
            let segmentID: Int64 = segment[0]
            for id in max(ids.lowerBound, segment[1])...min(ids.upperBound, segment[2]) {
                try insert.execute(arguments: [segmentID, id])
            }
        }
    }

    /// The lowest turn id no segment has held: new turns start there, so that segments
    /// hold disjoint id ranges in the order they were written, and merging neighbours is
    /// concatenating them.
    static func firstFreeTurnID(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: """
            SELECT max(coalesce((SELECT max(id) FROM turn), 0), coalesce((SELECT max(last_turn) FROM index_segment), 0)) + 1
            """))!
    }

    struct SegmentRow: Equatable {
        let id: Int64
        let first: Int64
        let last: Int64
        let live: Int
        var tier: Int { String(max(live, CorpusIndex.smallestTier)).count }
    }

    /// Drops segments with no live turn, rewrites a segment more than half deleted, and
    /// merges runs of neighbouring segments (`nextMerge`), until none is left.
    static func mergeIfNeeded(_ db: Database) throws {
        while true {
            let segments = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT s.id, s.first_turn, s.last_turn, s.turns - (SELECT count(*) FROM index_deleted d WHERE d.segment_id = s.id), s.turns
                FROM index_segment s ORDER BY s.first_turn
                """)).map { (SegmentRow(id: $0[0], first: $0[1], last: $0[2], live: $0[3]), total: $0[4] as Int) }
            if let empty = segments.first(where: { $0.0.live == 0 }) {
                try dropSegments(db, [empty.0.id])
                continue
            }
            if let holed = segments.first(where: { $0.0.live * 2 < $0.total }) {
                try merge(db, [holed.0])
                continue
            }
            guard let run = nextMerge(segments.map(\.0)) else { return }
            try merge(db, run)
        }
    }

    /// The first run of neighbouring segments (in id order) to merge: `mergeFactor` of one
    /// tier, or fewer (two or more) when one more would take the run past `maxMergedTurns`.
    static func nextMerge(_ segments: [SegmentRow]) -> [SegmentRow]? {
        var run: [SegmentRow] = []
        var runTurns = 0
        for segment in segments {
            if let last = run.last, last.tier != segment.tier {
                run = []
                runTurns = 0
            }
            if runTurns + segment.live > maxMergedTurns {
                if run.count >= 2 { return run }
                run = []
                runTurns = 0
            }
            run.append(segment)
            runTurns += segment.live
            if run.count == mergeFactor, runTurns <= maxMergedTurns { return run }
        }
        return nil
    }

    private static func dropSegments(_ db: Database, _ ids: [Int64]) throws {
        for id in ids {
            try db.execute(sql: "DELETE FROM index_deleted WHERE segment_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM index_segment WHERE id = ?", arguments: [id])
        }
    }

    /// Replaces `segments` (neighbours, in id order) by one holding their live turns. The
    /// inputs are mapped from unnamed files and the output spooled to others, beside the
    /// corpus, and the output goes into its row in pieces: the merge's memory is what it
    /// reads and writes at a time, not the size of its segments.
    private static func merge(_ db: Database, _ segments: [SegmentRow]) throws {
        let directory = corpusDirectory(db)
        let (merged, turns) = try mergedSegment(db, segments, spoolingIn: directory)
        try dropSegments(db, segments.map(\.id))
        try insertSegment(db, merged, first: segments.first!.first, last: segments.last!.last, turns: turns)
    }

    /// The merged segment, and how many turns it holds. Its inputs are let go on return.
    private static func mergedSegment(_ db: Database, _ segments: [SegmentRow],
                                      spoolingIn directory: String?) throws -> (AssembledSegment, turns: Int) {
        let set = try load(db, segmentIDs: segments.map(\.id), mappingInto: directory)
        let merged = try SegmentWriter.merge(set.parts.map { part in
            let deleted = Set(part.deletedOrdinals)
            return (part.reader, { (ordinal: UInt32) in !deleted.contains(ordinal) })
        }, spoolingIn: directory, releaseInputPages: { for part in set.parts { part.bytes.releaseResidentPages() } })
        return (merged, set.documentCount)
    }

    /// The directory of the corpus file, where unnamed files go; nil for a corpus in memory.
    private static func corpusDirectory(_ db: Database) -> String? {
        guard let path = sqlite3_db_filename(db.sqliteConnection, "main").map(String.init(cString:)), !path.isEmpty else { return nil }
        return URL(fileURLWithPath: path).deletingLastPathComponent().path
    }

    /// `body` with an open handle on the `bytes` of segment `row`, closed after it.
    private static func withBlob<T>(_ db: Database, row: Int64, writable: Bool, _ body: (OpaquePointer) throws -> T) throws -> T {
        var blob: OpaquePointer?
        try check(db, sqlite3_blob_open(db.sqliteConnection, "main", "index_segment", "bytes", row, writable ? 1 : 0, &blob))
        defer { sqlite3_blob_close(blob) }
        return try body(blob!)
    }

    private static func check(_ db: Database, _ code: Int32) throws {
        guard code == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    /// The index as every module of the process reads it: one copy per corpus generation,
    /// shared by every worker and module. Its segments are mapped from unnamed files beside
    /// the corpus (`SegmentBytes(key:count:in:copying:)`), so that a serving daemon's index pages
    /// are page cache the kernel can reclaim, not anonymous memory.
    public static func shared(corpusPath: String) -> SharedCorpusValue<SegmentSet> {
        let directory = URL(fileURLWithPath: corpusPath).deletingLastPathComponent().path
        return SharedCorpusValue("corpus.index", corpusPath: corpusPath) { db, previous in
            try load(db, segmentIDs: nil, reusing: previous, mappingInto: directory)
        }
    }

    /// The index of the corpus as `db` sees it. Segments are immutable and their ids never
    /// reused (AUTOINCREMENT from a random start), so those `previous` holds are shared
    /// with it; only new segments' bytes are read, once, into memory.
    public static func load(_ db: Database, reusing previous: SegmentSet? = nil) throws -> SegmentSet {
        try load(db, segmentIDs: nil, reusing: previous)
    }

    /// `mappingInto`: where to map new segments from (see `shared`); without it, or where
    /// that directory takes no unnamed file, they are copied into the heap.
    private static func load(_ db: Database, segmentIDs: [Int64]?, reusing previous: SegmentSet? = nil,
                             mappingInto directory: String? = nil) throws -> SegmentSet {
        var deleted: [Int64: [UInt32]] = [:]
        let deletions = try Row.fetchCursor(db, sql: "SELECT segment_id, turn_id FROM index_deleted")
        while let row = try deletions.next() { deleted[row[0], default: []].append(UInt32(row[1] as Int64)) }
        let held = Dictionary(uniqueKeysWithValues: (previous?.parts ?? []).map { ($0.bytes.key, $0.bytes) })
        let wanted = segmentIDs.map { "WHERE id IN (\($0.map(String.init).joined(separator: ",")))" } ?? ""
        let readBytes = try db.cachedStatement(sql: "SELECT bytes FROM index_segment WHERE id = ?")
        var segments: [(bytes: SegmentBytes, deletedIDs: [UInt32])] = []
        for id in try Int64.fetchAll(db, sql: "SELECT id FROM index_segment \(wanted) ORDER BY first_turn") {
            var bytes = try held[id] ?? directory.flatMap { try mappedCopy(db, segment: id, in: $0) }
            if bytes == nil, let row = try Row.fetchOne(readBytes, arguments: [id]) {
                bytes = try row.withUnsafeData(atIndex: 0) { data in
                    (data ?? Data()).withUnsafeBytes { SegmentBytes(key: id, copying: $0) }
                }
            }
            if let bytes { segments.append((bytes, deleted[id] ?? [])) }
        }
        return try SegmentSet(segments)
    }

    /// Segment `id` read from its row a piece at a time into an unnamed file in `directory`,
    /// mapped; nil where the directory takes no such file.
    private static func mappedCopy(_ db: Database, segment id: Int64, in directory: String) throws -> SegmentBytes? {
        try withBlob(db, row: id, writable: false) { blob in
            let count = Int(sqlite3_blob_bytes(blob))
            var piece = [UInt8](repeating: 0, count: min(count, 1 << 20))
            return try SegmentBytes(key: id, count: count, in: directory) { write in
                var offset = 0
                while offset < count {
                    let length = min(piece.count, count - offset)
                    try piece.withUnsafeMutableBytes { try check(db, sqlite3_blob_read(blob, $0.baseAddress, Int32(length), Int32(offset))) }
                    guard piece.withUnsafeBytes({ write(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }) else { return }
                    offset += length
                }
            }
        }
    }

    /// Analyses every turn anew into segments (the migration that brings the index in).
    static func rebuild(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM index_deleted; DELETE FROM index_segment")
        let analyzer = Analyzer()
        let turns = try Row.fetchCursor(db, sql: "SELECT id, text FROM turn ORDER BY id")
        var chunk: [(id: Int64, document: Document)] = []
        while let row = try turns.next() {
            analyzer.startOverIfFull()
            chunk.append((row[0], Document(storedText: row[1], analyzer: analyzer)))
            if chunk.count == rebuildChunk {
                try addSegment(db, chunk)
                try mergeIfNeeded(db)
                chunk = []
            }
        }
        try addSegment(db, chunk)
        try mergeIfNeeded(db)
    }

    /// What is wrong with the index of the corpus as `db` sees it: every turn must be
    /// indexed exactly once, live, and no removed turn may be.
    public static func problems(_ db: Database) throws -> [String] {
        let set = try load(db)
        var indexed: [UInt32: Int] = [:]
        for part in set.parts {
            let deleted = Set(part.deletedOrdinals)
            for ordinal in 0..<part.reader.documentCount where !deleted.contains(UInt32(ordinal)) {
                indexed[part.reader.documentID(ordinal: ordinal), default: 0] += 1
            }
        }
        var problems: [String] = []
        let turns = try Int64.fetchCursor(db, sql: "SELECT id FROM turn ORDER BY id")
        while let id = try turns.next() {
            let count = indexed.removeValue(forKey: UInt32(id)) ?? 0
            if count != 1 { problems.append("turn \(id) is indexed \(count) times") }
        }
        for id in indexed.keys.sorted() { problems.append("turn \(id) is indexed but not in the corpus") }
        return problems
    }
}
