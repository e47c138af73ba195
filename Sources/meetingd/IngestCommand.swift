import ArgumentParser
import Foundation
import MeetingIngest
import MeetingdCore

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read transcript files and folders into the corpus (incremental; exits 1 if any file failed).",
        discussion: """
            Formats are recognised from content: official meeting pages as text, QMSum JSON/JSONL, \
            meetingd's own JSON/JSONL (what `meetingd export` writes), WebVTT, SRT, and `Speaker: text` \
            lines. Folders are read recursively for .txt .text .json .jsonl .ndjson .vtt .srt files. \
            A JSONL file is read a line (meeting) at a time; a bad line fails as `FILE: line N: reason` \
            and the other lines are kept.
            """
    )

    @OptionGroup var options: CorpusOptions

    @Flag(name: .long, help: "Remove the meetings of ingested files that no longer exist.")
    var prune = false

    @Argument(help: "Transcript files or folders (default: the config's `ingest` folders).")
    var paths: [String] = []

    func run() throws {
        let settings = try options.load()
        let paths = paths.isEmpty ? settings.ingestPaths : paths
        guard !paths.isEmpty else {
            throw ValidationError("name transcript files or folders, or list folders under `ingest` in the config")
        }
        let bar = isatty(STDERR_FILENO) == 1 ? ProgressBar() : nil
        let ingester = try Ingester(corpusPath: settings.corpusPath) { line in
            bar?.clear()
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        if let bar { ingester.progress = { bar.draw($0) } }
        ingester.retention = settings.eventRetention
        let nudge = CommitNudge.Sender(corpusPath: settings.corpusPath)
        ingester.afterCommit = nudge.nudge
        let report = try ingester.ingest(paths: paths, prune: prune)
        bar?.finish()
        print(report.summary)
        if !report.failed.isEmpty { throw ExitCode(1) }
    }
}

/// One redrawn line on a terminal: files, MB/s and the time left.
final class ProgressBar {
    private var drawn = false

    func draw(_ progress: IngestProgress) {
        let width = 30
        let fraction = progress.bytesTotal > 0 ? Double(progress.bytesDone) / Double(progress.bytesTotal) : 1
        let filled = Int(fraction * Double(width))
        let rate = Double(progress.bytesDone) / 1e6 / max(progress.elapsed, 0.001)
        let remaining = rate > 0 ? Double(progress.bytesTotal - progress.bytesDone) / 1e6 / rate : 0
        let line = String(format: "\r\u{1B}[K[%@%@] %d/%d files  %.1f MB/s  ETA %d:%02d",
                          String(repeating: "#", count: filled), String(repeating: ".", count: width - filled),
                          progress.filesDone, progress.filesTotal, rate, Int(remaining) / 60, Int(remaining) % 60)
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    func clear() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }
}
