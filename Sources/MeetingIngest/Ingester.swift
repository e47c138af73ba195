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
    /// A batch is committed once it holds this many bytes of source text or files,
    /// or has waited this long: few commits for speed, little lost work on a kill.
    public var batchBytes = 8_000_000
    public var batchFiles = 256
    public var batchInterval: Duration = .seconds(1)
    /// Called after every commit (`meetingd ingest` nudges the serving daemon's event stream).
    public var afterCommit: (() -> Void)?
    /// How much of the change log to keep (`events.retention`); trimmed in every write transaction.
    public var retention = ChangeLog.Retention()

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

        // Files are read, hashed and parsed on another thread while this one writes.
        let outcomes = OutcomeQueue(byteBudget: 4 * batchBytes)
        defer { outcomes.cancel() }
        let reader = Thread { Self.readFiles(files, stored: stored, into: outcomes) }
        reader.name = "ingest-reader"
        reader.start()

        while let outcome = outcomes.pop() {
            switch outcome {
            case .unchanged(let path, _):
                report.unchanged.append(path)
            case .failed(let path, let reason, _):
                fail(path, reason, into: &report)
            case .parsed(let file):
                batch.append(file)
                batchSize += file.bytes
            }
            filesDone += 1
            bytesDone += outcome.bytes
            report.bytesRead += outcome.bytes
            if batchSize >= batchBytes || batch.count >= batchFiles || ContinuousClock.now - lastCommit >= batchInterval {
                try commit()
            }
            let status = IngestProgress(filesDone: filesDone, filesTotal: files.count, bytesDone: bytesDone,
                                        bytesTotal: bytesTotal, elapsed: elapsed())
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
                                                      isNew: stored[file.path] == nil))
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
    }

    private enum FileOutcome: Sendable {
        case unchanged(path: String, bytes: Int)
        case failed(path: String, reason: String, bytes: Int)
        case parsed(PendingFile)

        var bytes: Int {
            switch self {
            case .unchanged(_, let bytes), .failed(_, _, let bytes): bytes
            case .parsed(let file): file.bytes
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

    /// One transaction per batch. No savepoint per file: FTS5 flushes its pending index
    /// at every savepoint, which makes a bulk load several times slower; instead the
    /// store refuses a file (a meeting id another file owns) before writing any of it.
    private func write(_ batch: [PendingFile], into report: inout IngestReport) throws {
        var refusals: [String: String] = [:]
        try writer.database.write { db in
            refusals = [:]
            for file in batch {
                do {
                    try CorpusWriter.replaceSource(db, path: file.path, hash: file.hash, bytes: file.bytes,
                                                   format: file.format.rawValue, meetings: file.meetings)
                } catch let error as CorpusError {
                    refusals[file.path] = error.description
                }
            }
            try ChangeLog.trim(db, retention)
        }
        afterCommit?()
        for file in batch {
            if let refusal = refusals[file.path] {
                fail(file.path, refusal, into: &report)
            } else {
                if file.isNew { report.added.append(file.path) } else { report.updated.append(file.path) }
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

    static func of(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            let words = buffer.count / 8
            for index in 0..<words {
                hash = (hash ^ buffer.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)) &* 0x100_0000_01b3
                hash ^= hash >> 29
            }
            for index in (words * 8)..<buffer.count {
                hash = (hash ^ UInt64(buffer[index])) &* 0x100_0000_01b3
            }
        }
        return "r\(readersVersion):\(data.count)-" + String(hash, radix: 16)
    }
}
