// A segment laid out in sections (see SegmentWriter for the format) that are written
// one after the other and read back once, to be stored: a segment spooled in unnamed
// files (ingest's as a merge's) is never in the process's memory whole, and goes to its
// row in pieces.

import Glibc

enum UnnamedFile {
    /// A new file in `directory` with no name, gone when its last descriptor and mapping are;
    /// nil where the directory takes no such file.
    static func open(in directory: String) -> Int32? {
        // O_TMPFILE, a macro Swift does not import: __O_TMPFILE (the same on x86-64 and arm64) with O_DIRECTORY.
        let unnamedFile: Int32 = 0o20_000_000 | O_DIRECTORY
        let fd = Glibc.open(directory, unnamedFile | O_RDWR | O_CLOEXEC, 0o600)
        return fd >= 0 ? fd : nil
    }

    /// Writes all of `bytes` at the file's end; false when a write fails (errno says why).
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count {
            let count = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                if count == 0 { errno = EIO }
                return false
            }
            done += count
        }
        return true
    }
}

/// Bytes appended in order, then read back in order: in an unnamed file in `directory`
/// when given one that takes such a file (the pages are the kernel's page cache, which it
/// can write out, not the process's memory), else in memory.
@usableFromInline final class ByteSpool {
    /// Bytes not yet written to the file; all of them in memory.
    private var pending: [UInt8] = []
    private var written = 0
    /// Where the unnamed file goes, until the first full piece opens it: a section smaller
    /// than a piece stays in memory, with no write and no read back.
    private var directory: String?
    private var file: Int32?
    /// The first failed write's errno; the bytes after it are dropped, and reading fails.
    private var failure: Int32?
    /// How many bytes are held before they are written, and read back at a time.
    let pieceSize: Int
    @usableFromInline static let defaultPieceSize = 1 << 20

    init(in directory: String?, pieceSize: Int = defaultPieceSize) {
        self.directory = directory
        self.pieceSize = pieceSize
    }

    var inFile: Bool { file != nil }

    deinit {
        if let file { close(file) }
    }

    var count: Int { written + pending.count }

    func append(contentsOf bytes: some Collection<UInt8>) {
        pending.append(contentsOf: bytes)
        flushIfFull()
    }

    func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        pending.appendLittleEndian(value)
        flushIfFull()
    }

    /// Zeros up to the next multiple of 8 of `count`.
    func alignTo8() {
        while count % 8 != 0 { pending.append(0) }
    }

    private func flushIfFull() {
        if pending.count >= pieceSize, openedFile() { flush() }
    }

    /// Whether the file is open, opening it on the first call; false where the directory
    /// takes no unnamed file (the bytes then stay in memory).
    private func openedFile() -> Bool {
        if file == nil, let directory {
            file = UnnamedFile.open(in: directory)
            self.directory = nil
        }
        return file != nil
    }

    private func flush() {
        guard let file else { return }
        if failure == nil, !pending.withUnsafeBytes({ UnnamedFile.write(file, $0) }) { failure = errno }
        written += pending.count
        pending.removeAll(keepingCapacity: true)
    }

    /// The bytes in order, in pieces of at most `pieceSize` rounded down to a multiple of `unit`.
    func read(inPiecesOf unit: Int = 1, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let pieceSize = max(unit, self.pieceSize / unit * unit)
        guard let file else {
            try pending.withUnsafeBytes { all in
                for start in stride(from: 0, to: all.count, by: pieceSize) {
                    try body(UnsafeRawBufferPointer(rebasing: all[start..<min(all.count, start + pieceSize)]))
                }
            }
            return
        }
        flush()
        if let failure { throw SegmentWriterError.spoolFailed(errno: failure) }
        var piece = [UInt8](repeating: 0, count: pieceSize)
        var offset = 0
        while offset < written {
            let wanted = min(pieceSize, written - offset)
            var filled = 0
            while filled < wanted {
                let count = piece.withUnsafeMutableBytes { pread(file, $0.baseAddress! + filled, wanted - filled, off_t(offset + filled)) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { throw SegmentWriterError.spoolFailed(errno: count < 0 ? errno : EIO) }
                filled += count
            }
            try piece.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<wanted])) }
            offset += wanted
        }
    }
}

/// A whole segment, ready to be stored: `size` bytes (the trailing padding included),
/// handed over in order by `write(to:)`.
public struct AssembledSegment {
    let header: [UInt8]
    let main: ByteSpool, positions: ByteSpool, termEntries: ByteSpool, termBytes: ByteSpool
    let wordFormEntries: ByteSpool, wordFormBytes: ByteSpool
    let positionsOffset: Int, termEntriesOffset: Int, wordFormEntriesOffset: Int
    public let size: Int
    /// Whether the main section went to an unnamed file (a section smaller than a piece stays in memory).
    var inFiles: Bool { main.inFile }

    /// Hands the bytes to `sink` in order, a piece at a time, each with its offset in the segment.
    public func write(to sink: (_ offset: Int, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws {
        var offset = 0
        func emit(_ bytes: UnsafeRawBufferPointer) throws {
            try sink(offset, bytes)
            offset += bytes.count
        }
        func padTo(_ end: Int) throws {
            let zeros = [UInt8](repeating: 0, count: end - offset)
            try zeros.withUnsafeBytes { try emit($0) }
        }
        try header.withUnsafeBytes { try emit($0) }
        try main.read(emit)
        try positions.read(emit)
        try padTo(termEntriesOffset)
        // Entries hold their positions' start within the positions section; the segment holds it absolute.
        try termEntries.read(inPiecesOf: SegmentFormat.termEntrySize) { piece in
            var entries = [UInt8](piece)
            for entry in stride(from: 0, to: entries.count, by: SegmentFormat.termEntrySize) {
                let start = entries.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: entry + 16, as: UInt64.self)) }
                entries.storeLittleEndian(start + UInt64(positionsOffset), at: entry + 16)
            }
            try entries.withUnsafeBytes { try emit($0) }
        }
        try termBytes.read(emit)
        try padTo(wordFormEntriesOffset)
        try wordFormEntries.read(emit)
        try wordFormBytes.read(emit)
        try padTo(size)
    }

    /// The bytes in one buffer (the corpus stores them a piece at a time, with `write(to:)`).
    public func bytes() throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(size)
        try write { _, bytes in out.append(contentsOf: bytes) }
        return out
    }
}
