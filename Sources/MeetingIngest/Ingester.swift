import Foundation
import MeetingKit

public struct IngestFailure: Sendable, Equatable {
    public let path: String
    public let reason: String
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
        lines += failed.map { "failed: \($0.path): \($0.reason)" }
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
        var bytesDone = 0
        var lastLine = clock
        var batch: [PendingFile] = []
        var batchSize = 0
        var lastCommit = clock

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

        for (number, file) in files.enumerated() {
            defer {
                bytesDone += file.size
                let status = IngestProgress(filesDone: number + 1, filesTotal: files.count, bytesDone: bytesDone,
                                            bytesTotal: bytesTotal, elapsed: elapsed())
                if let progress {
                    progress(status)
                } else if ContinuousClock.now - lastLine > .seconds(2) || number + 1 == files.count {
                    lastLine = .now
                    log(String(format: "ingest: %d/%d files, %.1f/%.1f MB, %.1f MB/s", number + 1, files.count,
                               Double(bytesDone) / 1e6, Double(bytesTotal) / 1e6, Double(bytesDone) / 1e6 / max(status.elapsed, 0.001)))
                }
            }
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: file.path))
            } catch {
                fail(file.path, "cannot read: \(error.localizedDescription)", into: &report)
                continue
            }
            report.bytesRead += data.count
            let hash = ContentHash.of(data)
            if stored[file.path]?.hash == hash {
                report.unchanged.append(file.path)
                continue
            }
            do {
                let parsed = try TranscriptParser.parse(data, stem: file.stem, path: file.path)
                batch.append(PendingFile(path: file.path, hash: hash, bytes: data.count, parsed: parsed,
                                         isNew: stored[file.path] == nil))
                batchSize += data.count
            } catch {
                fail(file.path, "\(error)", into: &report)
            }
            if batchSize >= batchBytes || batch.count >= batchFiles || ContinuousClock.now - lastCommit >= batchInterval {
                try commit()
            }
        }
        try commit()

        if prune {
            let vanished = stored.keys.filter { !FileManager.default.fileExists(atPath: $0) }.sorted()
            try writer.database.write { db in
                for path in vanished { try CorpusWriter.removeSource(db, path: path) }
            }
            report.pruned = vanished
        }
        if !report.updated.isEmpty || !report.pruned.isEmpty {
            try writer.database.write { db in try CorpusWriter.removeUnreferencedPeople(db) }
        }
        report.seconds = elapsed()
        return report
    }

    private struct SourceFile {
        let path: String
        let stem: String
        let size: Int
    }

    private struct PendingFile {
        let path: String
        let hash: String
        let bytes: Int
        let parsed: TranscriptParser.Parsed
        let isNew: Bool
    }

    private func fail(_ path: String, _ reason: String, into report: inout IngestReport) {
        report.failed.append(IngestFailure(path: path, reason: reason))
        log("failed: \(path): \(reason)")
    }

    /// One transaction per batch, one savepoint per file: a file the store refuses
    /// (a meeting id another file owns) fails alone.
    private func write(_ batch: [PendingFile], into report: inout IngestReport) throws {
        var outcomes: [(PendingFile, String?)] = []
        try writer.database.write { db in
            outcomes = []
            for file in batch {
                do {
                    try db.inSavepoint {
                        try CorpusWriter.replaceSource(db, path: file.path, hash: file.hash, bytes: file.bytes,
                                                       format: file.parsed.format.rawValue, meetings: file.parsed.meetings)
                        return .commit
                    }
                    outcomes.append((file, nil))
                } catch let error as CorpusError {
                    outcomes.append((file, error.description))
                }
            }
        }
        for (file, failure) in outcomes {
            if let failure {
                fail(file.path, failure, into: &report)
            } else {
                if file.isNew { report.added.append(file.path) } else { report.updated.append(file.path) }
                report.meetingsWritten += file.parsed.meetings.count
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
                failures.append(IngestFailure(path: path, reason: "no such file or folder"))
                log("failed: \(path): no such file or folder")
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
/// whether a file changed, not resist an adversary.
enum ContentHash {
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
        return "\(data.count)-" + String(hash, radix: 16)
    }
}
