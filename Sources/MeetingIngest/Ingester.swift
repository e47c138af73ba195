import Foundation
import MeetingKit

public struct IngestFailure: Sendable, Equatable {
    public let path: String
    public let reason: String

    /// For a terminal or the journal: the path and the reason may hold anything a file name or file does.
    public var line: String { "failed: \(path.escapingControls): \(reason.escapingControls)" }
}

public struct IngestReport: Sendable {
    /// Source files by absolute path.
    public var added: [String] = []
    public var updated: [String] = []
    public var unchanged: [String] = []
    public var pruned: [String] = []
    public var failed: [IngestFailure] = []
    /// Meetings written by added and updated files.
    public var meetingsWritten = 0
    public var bytesRead = 0
    public var seconds = 0.0

    public var summary: String {
        var lines = ["ingest: \(added.count) added, \(updated.count) updated, \(unchanged.count) unchanged, "
            + "\(pruned.count) pruned, \(failed.count) failed; \(meetingsWritten) meetings written, "
            + String(format: "%.1f MB in %.1f s", Double(bytesRead) / 1_000_000, seconds)]
        lines += failed.map(\.line)
        return lines.joined(separator: "\n")
    }
}

public struct IngestProgress: Sendable {
    public var filesDone: Int
    public var filesTotal: Int
    public var bytesDone: Int
    public var bytesTotal: Int
    public var elapsed: Double
}

/// Reads transcript files and folders into the corpus, incrementally: a file whose
/// content hash is unchanged is skipped, a changed file replaces its meetings in one
/// transaction, and with `prune` the meetings of vanished files are removed. Files
/// are committed in batches; a killed run leaves the corpus as of the last batch and
/// the next run completes the work.
public final class Ingester {
    /// Extensions taken when walking folders; a file named on the command line is read whatever its name.
    public static let transcriptExtensions: Set<String> = ["txt", "text", "json", "jsonl", "ndjson", "vtt", "srt"]

    private let writer: CorpusWriter
    private let log: (String) -> Void
    /// Called after every file; when set, it replaces the periodic progress lines.
    public var progress: ((IngestProgress) -> Void)?
    /// Called after every file besides the progress lines or `progress` (the daemon's metrics).
    public var observe: ((IngestProgress) -> Void)?
    /// A batch is committed once it holds this many bytes of source text or files,
    /// or has waited this long: few commits for speed, little lost work on a kill.
    /// Parsed and analysed, a byte of source takes several in memory, so batches are
    /// kept small: RSS is bounded by them, not by the file (see README, JSONL files).
    public var batchBytes = 4_000_000
    public var batchFiles = 256
    public var batchInterval: Duration = .seconds(1)
    /// Called after every commit (`meetingd ingest` nudges the serving daemon's event stream).
    public var afterCommit: (() -> Void)?
    /// How much of the change log to keep (`events.retention`); trimmed in every write transaction.
    public var retention = ChangeLog.Retention()
    /// JSONL files whose first parts are written and last is still to come.
    private var filesInParts: [String: CorpusWriter.SourceInParts] = [:]
    private var filesWithRefusedParts = Set<String>()

    public init(corpusPath: String, log: @escaping (String) -> Void) throws {
        writer = try CorpusWriter(path: corpusPath)
        self.log = log
    }

    public func ingest(paths: [String], prune: Bool) throws -> IngestReport {
        let clock = ContinuousClock.now
        var report = IngestReport()
        let files = collectFiles(paths, failures: &report.failed)
        let stored = try writer.storedSources()
        let bytesTotal = files.reduce(0) { $0 + $1.size }
        var filesDone = 0, bytesDone = 0
        var lastLine = clock, lastCommit = clock
        var batch: [PendingFile] = []
        var batchSize = 0

        func elapsed() -> Double {
            let duration = ContinuousClock.now - clock
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        func commit() throws {
            guard !batch.isEmpty else { return }
            try write(batch, into: &report)
            batch.removeAll(keepingCapacity: true)
            batchSize = 0
            lastCommit = .now
        }

        // Files are read, hashed and parsed on another thread while this one writes; it
        // keeps about one batch ready, enough to overlap the two, as more only costs memory.
        let outcomes = OutcomeQueue(byteBudget: batchBytes)
        defer { outcomes.cancel() }
        let reader = Thread { Self.readFiles(files, stored: stored, into: outcomes) }
        reader.name = "ingest-reader"
        reader.start()

        while let outcome = outcomes.pop() {
            switch outcome {
            case .unchanged(let path, _):
                report.unchanged.append(path)
            case .failed(let path, let reason, _, _):
                fail(path, reason, into: &report)
            case .parsed(let file):
                batch.append(file)
                batchSize += file.bytes
            }
            if outcome.endsFile { filesDone += 1 }
            bytesDone += outcome.bytes
            report.bytesRead += outcome.bytes
            if batchSize >= batchBytes || batch.count >= batchFiles || ContinuousClock.now - lastCommit >= batchInterval {
                try commit()
            }
            let status = IngestProgress(filesDone: filesDone, filesTotal: files.count, bytesDone: bytesDone,
                                        bytesTotal: bytesTotal, elapsed: elapsed())
            observe?(status)
            if let progress {
                progress(status)
            } else if ContinuousClock.now - lastLine > .seconds(2) || filesDone == files.count {
                lastLine = .now
                log(String(format: "ingest: %d/%d files, %.1f/%.1f MB, %.1f MB/s", filesDone, files.count,
                           Double(bytesDone) / 1e6, Double(bytesTotal) / 1e6, Double(bytesDone) / 1e6 / max(status.elapsed, 0.001)))
            }
        }
        try commit()

        if prune {
            let vanished = stored.keys.filter { !FileManager.default.fileExists(atPath: $0) }.sorted()
            try writer.database.write { db in
                for path in vanished { try CorpusWriter.removeSource(db, path: path) }
                try ChangeLog.trim(db, retention)
            }
            afterCommit?()
            report.pruned = vanished
        }
        if !report.updated.isEmpty || !report.pruned.isEmpty {
            try writer.database.write { db in try CorpusWriter.removeUnreferencedPeople(db) }
        }
        report.seconds = elapsed()
        return report
    }

    /// The reader thread: every file, in order, becomes one outcome.
    private static func readFiles(_ files: [SourceFile], stored: [String: CorpusWriter.StoredSource], into outcomes: OutcomeQueue) {
        let analyzer = Analyzer()
        for file in files {
            if TranscriptParser.isJSONLines(path: file.path) {
                guard readJSONLines(file, stored: stored[file.path], analyzer: analyzer, into: outcomes) else { return }
                continue
            }
            let outcome: FileOutcome
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: file.path))
                let hash = ContentHash.of(data)
                if stored[file.path]?.hash == hash {
                    outcome = .unchanged(path: file.path, bytes: data.count)
                } else {
                    do {
                        let parsed = try TranscriptParser.parse(data, stem: file.stem, path: file.path)
                        outcome = .parsed(PendingFile(path: file.path, hash: hash, bytes: data.count, format: parsed.format,
                                                      meetings: parsed.meetings.map { CorpusWriter.PreparedMeeting($0, analyzer: analyzer) },
                                                      isNew: stored[file.path] == nil, part: nil))
                    } catch {
                        outcome = .failed(path: file.path, reason: "\(error)", bytes: data.count)
                    }
                }
            } catch {
                outcome = .failed(path: file.path, reason: "cannot read: \(error.localizedDescription)", bytes: 0)
            }
            guard outcomes.push(outcome) else { return }
        }
        outcomes.finish()
    }

    /// Size of the reads of a JSONL file, and of the parts it is written in: a file of any
    /// size is never in memory whole.
    static let readBytes = 1 << 20
    static let partBytes = 2 << 20

    /// A JSONL file, a line (meeting) at a time: hashed in a first pass (an unchanged file
    /// is not parsed), then parsed and handed on in parts of about `partBytes`. A bad line
    /// is a failure of its own (`line N: reason`) and the other lines are kept; the file
    /// then stays unfinished, so every run reports it until it is fixed. False once the
    /// writer has gone away.
    private static func readJSONLines(_ file: SourceFile, stored: CorpusWriter.StoredSource?, analyzer: Analyzer,
                                      into outcomes: OutcomeQueue) -> Bool {
        func eachPart(_ body: (Data) throws -> Void) throws {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: file.path))
            defer { try? handle.close() }
            while let part = try handle.read(upToCount: readBytes), !part.isEmpty { try body(part) }
        }
        var running = ContentHash.Running()
        var size = 0
        do {
            try eachPart { running.add($0); size += $0.count }
        } catch {
            return outcomes.push(.failed(path: file.path, reason: "cannot read: \(error.localizedDescription)", bytes: 0))
        }
        let hash = running.value
        if stored?.hash == hash { return outcomes.push(.unchanged(path: file.path, bytes: size)) }

        var format: TranscriptFormat?
        var lineNumber = 0, meetingCount = 0, badLines = 0
        var part: [CorpusWriter.PreparedMeeting] = []
        var partBytes = 0
        func send(isLast: Bool) -> Bool {
            defer { part = []; partBytes = 0 }
            return outcomes.push(.parsed(PendingFile(
                path: file.path, hash: isLast && badLines == 0 ? hash : ContentHash.unfinished, bytes: partBytes,
                format: format ?? .meetingJSON, meetings: part, isNew: stored == nil,
                part: .init(isLast: isLast, fileBytes: size))))
        }
        /// A line where it was read: the text made of it is its only copy.
        func take(_ line: UnsafeRawBufferPointer) -> Bool {
            lineNumber += 1
            var line = line
            if line.last == UInt8(ascii: "\r") { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
            if lineNumber == 1, line.starts(with: [0xEF, 0xBB, 0xBF]) { line = UnsafeRawBufferPointer(rebasing: line.dropFirst(3)) }
            partBytes += line.count + 1
            do {
                guard let text = String(validating: line.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
                    throw IngestError("not valid UTF-8 text")
                }
                if TranscriptParser.contains(line, byte: 0) { throw IngestError("contains NUL bytes") }
                guard let (meeting, lineFormat) = try JSONTranscriptParser.meeting(
                    line: text[...], format: format, defaultID: "\(file.stem)-\(meetingCount)", source: file.path) else { return true }
                try TranscriptParser.refuseUnsafeIDs([meeting])
                format = lineFormat
                meetingCount += 1
                part.append(CorpusWriter.PreparedMeeting(meeting, analyzer: analyzer))
            } catch {
                badLines += 1
                return outcomes.push(.failed(path: file.path, reason: "line \(lineNumber): \(error)", bytes: 0, endsFile: false))
            }
            return partBytes < Self.partBytes || send(isLast: false)
        }
        var carry = Data()
        do {
            var writerGone = false
            try eachPart { chunk in
                guard !writerGone else { return }
                carry.append(chunk)
                // Lines are found with memchr over the buffer: Data's own search walks it a
                // byte at a time through its iterator, which cost a tenth of the ingest's CPU.
                let taken = carry.withUnsafeBytes { buffer -> Int in
                    var start = 0
                    while start < buffer.count,
                          let found = memchr(buffer.baseAddress! + start, Int32(UInt8(ascii: "\n")), buffer.count - start) {
                        let newline = buffer.baseAddress!.distance(to: UnsafeRawPointer(found))
                        guard take(UnsafeRawBufferPointer(rebasing: buffer[start..<newline])) else {
                            writerGone = true
                            break
                        }
                        start = newline + 1
                    }
                    return start
                }
                if writerGone { return }
                carry = carry.subdata(in: carry.startIndex + taken..<carry.endIndex)
            }
            if writerGone { return false }
        } catch {
            return outcomes.push(.failed(path: file.path, reason: "cannot read: \(error.localizedDescription)", bytes: partBytes))
        }
        if !carry.isEmpty, !carry.withUnsafeBytes(take) { return false }
        if meetingCount == 0 {
            return outcomes.push(.failed(path: file.path, reason: "no meetings in the file", bytes: partBytes))
        }
        return send(isLast: true)
    }

    private struct SourceFile: Sendable {
        let path: String
        let stem: String
        let size: Int
    }

    private struct PendingFile: Sendable {
        let path: String
        let hash: String
        let bytes: Int
        let format: TranscriptFormat
        let meetings: [CorpusWriter.PreparedMeeting]
        let isNew: Bool
        /// Nil for a file read whole; a JSONL file comes in parts.
        let part: Part?

        struct Part: Sendable {
            let isLast: Bool
            /// The whole file's size, recorded with every part (`bytes` is the part's).
            let fileBytes: Int
        }
    }

    private enum FileOutcome: Sendable {
        case unchanged(path: String, bytes: Int)
        /// A bad line of a JSONL file does not end the file; any other failure does.
        case failed(path: String, reason: String, bytes: Int, endsFile: Bool = true)
        case parsed(PendingFile)

        var bytes: Int {
            switch self {
            case .unchanged(_, let bytes), .failed(_, _, let bytes, _): bytes
            case .parsed(let file): file.bytes
            }
        }

        /// Counted once per file in the progress figures, though a JSONL file comes as several outcomes.
        var endsFile: Bool {
            switch self {
            case .unchanged: true
            case .failed(_, _, _, let endsFile): endsFile
            case .parsed(let file): file.part?.isLast ?? true
            }
        }
    }

    /// A FIFO from the reader thread to the writer, holding at most about `byteBudget`
    /// bytes of parsed files, so a fast reader cannot fill memory.
    private final class OutcomeQueue: @unchecked Sendable {
        private let condition = NSCondition()
        private var items: [FileOutcome?] = []
        private var head = 0
        private var queuedBytes = 0
        private var finished = false
        private var cancelled = false
        private let byteBudget: Int

        init(byteBudget: Int) { self.byteBudget = byteBudget }

        /// False once the writer has gone away.
        func push(_ outcome: FileOutcome) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while queuedBytes > byteBudget, !cancelled { condition.wait() }
            guard !cancelled else { return false }
            items.append(outcome)
            queuedBytes += outcome.bytes
            condition.broadcast()
            return true
        }

        func pop() -> FileOutcome? {
            condition.lock()
            defer { condition.unlock() }
            while head == items.count, !finished { condition.wait() }
            guard head < items.count, let outcome = items[head] else { return nil }
            // Release each outcome as it is taken: the reader may stay ahead for the whole run.
            items[head] = nil
            head += 1
            if head == items.count || head >= 1024 {
                items.removeFirst(head)
                head = 0
            }
            queuedBytes -= outcome.bytes
            condition.broadcast()
            return outcome
        }

        func finish() {
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }

        func cancel() {
            condition.lock()
            cancelled = true
            condition.broadcast()
            condition.unlock()
        }
    }

    private func fail(_ path: String, _ reason: String, into report: inout IngestReport) {
        let failure = IngestFailure(path: path, reason: reason)
        report.failed.append(failure)
        log(failure.line)
    }

    /// One transaction per batch, with no savepoint per file: the store refuses a file
    /// (a meeting id another file owns) before writing any of it.
    private func write(_ batch: [PendingFile], into report: inout IngestReport) throws {
        var refusals: [Int: String] = [:]
        try writer.database.write { db in
            refusals = [:]
            for (position, file) in batch.enumerated() {
                do {
                    if let part = file.part {
                        var progress = filesInParts[file.path] ?? .init()
                        // A refused part leaves the file unfinished, to be read again by the next run.
                        let hash = filesWithRefusedParts.contains(file.path) ? ContentHash.unfinished : file.hash
                        try CorpusWriter.writePart(db, path: file.path, hash: hash, bytes: part.fileBytes,
                                                   format: file.format.rawValue, meetings: file.meetings,
                                                   of: &progress, isLast: part.isLast)
                        filesInParts[file.path] = part.isLast ? nil : progress
                    } else {
                        try CorpusWriter.replaceSource(db, path: file.path, hash: file.hash, bytes: file.bytes,
                                                       format: file.format.rawValue, meetings: file.meetings)
                    }
                } catch let error as CorpusError {
                    refusals[position] = error.description
                    if file.part != nil { filesWithRefusedParts.insert(file.path) }
                }
            }
            try ChangeLog.trim(db, retention)
        }
        afterCommit?()
        for (position, file) in batch.enumerated() {
            if let refusal = refusals[position] {
                fail(file.path, refusal, into: &report)
            } else {
                if file.part?.isLast ?? true {
                    if file.isNew { report.added.append(file.path) } else { report.updated.append(file.path) }
                }
                report.meetingsWritten += file.meetings.count
            }
        }
    }

    /// Files named directly, and transcript files found recursively in folders (hidden
    /// entries skipped), each once, in path order.
    private func collectFiles(_ paths: [String], failures: inout [IngestFailure]) -> [SourceFile] {
        var found: [String: SourceFile] = [:]
        let manager = FileManager.default
        func add(_ path: String) {
            let url = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
            let size = (try? manager.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
            found[url.path] = SourceFile(path: url.path, stem: url.deletingPathExtension().lastPathComponent, size: size)
        }
        for path in paths {
            var isFolder: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isFolder) else {
                let failure = IngestFailure(path: path, reason: "no such file or folder")
                failures.append(failure)
                log(failure.line)
                continue
            }
            guard isFolder.boolValue else { add(path); continue }
            let walker = manager.enumerator(at: URL(fileURLWithPath: path), includingPropertiesForKeys: [.isRegularFileKey],
                                            options: [.skipsHiddenFiles])
            while let url = walker?.nextObject() as? URL {
                guard Self.transcriptExtensions.contains(url.pathExtension.lowercased()),
                      (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
                add(url.path)
            }
        }
        return found.values.sorted { $0.path < $1.path }
    }
}

/// A fast 64-bit content fingerprint (FNV-1a over 8-byte words): it only has to tell
/// whether a file changed, not resist an adversary. It is prefixed with the version of
/// the readers, so that files read before the readers learnt more (QMSum's topic list,
/// in version 2; one person per plain name, in version 3) are read again once.
enum ContentHash {
    static let readersVersion = 3

    /// Marks a file that is not completely in the corpus (a JSONL file whose last part is
    /// not committed yet, or that had bad lines): no content hashes to it, so the next run reads it again.
    static let unfinished = "unfinished"

    static func of(_ data: Data) -> String {
        var running = Running()
        running.add(data)
        return running.value
    }

    /// The same fingerprint over a file read in parts of any size.
    struct Running {
        private var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        private var count = 0
        /// Fewer than 8 bytes left over from the last part: words are hashed whole.
        private var carry = Data()

        mutating func add(_ part: Data) {
            count += part.count
            let data = carry.isEmpty ? part : carry + part
            let words = data.count / 8
            data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
                for index in 0..<words {
                    hash = (hash ^ buffer.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)) &* 0x100_0000_01b3
                    hash ^= hash >> 29
                }
            }
            carry = Data(data.suffix(from: data.startIndex + words * 8))
        }

        var value: String {
            var hash = hash
            for byte in carry { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            return "r\(ContentHash.readersVersion):\(count)-" + String(hash, radix: 16)
        }
    }
}
