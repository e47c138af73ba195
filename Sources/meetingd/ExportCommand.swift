import ArgumentParser
import Foundation
import MeetingKit
import MeetingdCore

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write meetings as meetingd's JSON form, one meeting per line (JSONL), which `meetingd ingest` reads back."
    )

    @OptionGroup var options: CorpusOptions

    @Option(name: .long, help: "A meeting id to export (repeatable; default: every meeting).")
    var meeting: [String] = []

    @Option(name: .long, help: "Write to this file instead of standard output.")
    var output: String?

    func run() throws {
        let store = try Corpus.openReadOnly(path: try options.load().corpusPath)
        let ids = meeting.isEmpty ? try store.meetingIDs() : meeting
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]

        // A file is written beside its target and renamed, so it is never half-written.
        let temporary = output.map { $0 + ".partial-\(getpid())" }
        let sink: FileHandle
        if let temporary {
            guard FileManager.default.createFile(atPath: temporary, contents: nil),
                  let handle = FileHandle(forWritingAtPath: temporary) else {
                throw ValidationError("cannot write \(temporary)")
            }
            sink = handle
        } else {
            sink = FileHandle.standardOutput
        }
        do {
            for id in ids {
                guard let found = try store.meeting(id: id) else {
                    FileHandle.standardError.write(Data("meetingd: no meeting \"\(id)\" in \(store.path)\n".utf8))
                    throw ExitCode(1)
                }
                var line = try encoder.encode(found)
                line.append(UInt8(ascii: "\n"))
                sink.write(line)
            }
        } catch {
            if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
            throw error
        }
        if let temporary, let output {
            try sink.close()
            guard rename(temporary, output) == 0 else {
                throw ValidationError("cannot rename \(temporary) to \(output): \(String(cString: strerror(errno)))")
            }
        }
    }
}
