import XCTest
import MeetingKit

/// `meetingd ingest` killed with SIGKILL part-way leaves a consistent corpus holding
/// whole files only, and the next run completes the job.
final class InterruptedIngestTests: XCTestCase {
    /// The built `meetingd`, beside the test bundle in the build products folder.
    private static let meetingd: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("meetingd").path
    }()

    private func runIngest(corpus: String, folder: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.meetingd)
        process.arguments = ["ingest", "--corpus", corpus, folder]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func testSIGKILLMidwayLeavesAConsistentCorpusAndTheNextRunCompletesIt() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.meetingd) else {
            throw XCTSkip("needs the built meetingd binary at \(Self.meetingd); build the package first")
        }
        // 210 QMSum meetings, one per file, so batches commit while files remain.
        let folder = try makeScratchFolder(self)
        let lines = try String(contentsOf: TestPaths.qmsum.appendingPathComponent("val.jsonl"), encoding: .utf8).split(separator: "\n")
        var expectedTurns: [String: Int] = [:]
        for copy in 0..<6 {
            for (number, line) in lines.enumerated() {
                let id = "copy\(copy)-meeting\(number)"
                try Data(line.utf8).write(to: folder.appendingPathComponent("\(id).json"))
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                expectedTurns[id] = (object["meeting_transcripts"] as! [Any]).count
            }
        }
        let corpus = folder.appendingPathComponent("corpus.sqlite").path

        let interrupted = try runIngest(corpus: corpus, folder: folder.path)
        let deadline = Date().addingTimeInterval(120)
        while interrupted.isRunning, Date() < deadline {
            let committed = try? DatabaseQueue(path: corpus, configuration: { var c = Configuration(); c.readonly = true; return c }())
                .read { try Int.fetchOne($0, sql: "SELECT count(*) FROM source") ?? 0 }
            if let committed, committed > 0 {
                kill(interrupted.processIdentifier, SIGKILL)
                break
            }
            usleep(20_000)
        }
        interrupted.waitUntilExit()
        XCTAssertEqual(interrupted.terminationReason, .uncaughtSignal, "ingest ended before it could be killed")

        func storedTurns() throws -> [String: Int] { try turnsPerMeeting(corpus) }
        try assertCorpusConsistent(corpus)
        let partial = try storedTurns()
        XCTAssertGreaterThan(partial.count, 0)
        XCTAssertLessThan(partial.count, expectedTurns.count, "the kill came after the last commit")
        for (id, turns) in partial { XCTAssertEqual(turns, expectedTurns[id], "meeting \(id) is incomplete") }

        let completion = try runIngest(corpus: corpus, folder: folder.path)
        completion.waitUntilExit()
        XCTAssertEqual(completion.terminationStatus, 0)
        try assertCorpusConsistent(corpus)
        XCTAssertEqual(try storedTurns(), expectedTurns)
    }

    /// One JSONL file is written in parts of `Ingester.partBytes`: a kill after the first part
    /// leaves whole meetings and the file marked unfinished; the next run ends with exactly
    /// what an uninterrupted ingest stores.
    func testSIGKILLBetweenThePartsOfAJSONLFileLeavesWholeMeetingsAndTheNextRunCompletesIt() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.meetingd) else {
            throw XCTSkip("needs the built meetingd binary at \(Self.meetingd); build the package first")
        }
        let folder = try makeScratchFolder(self)
        let val = try Data(contentsOf: TestPaths.qmsum.appendingPathComponent("val.jsonl"))
        // About 8 MB: four parts of `Ingester.partBytes` and a little more.
        let source = folder.appendingPathComponent("source")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try Data(repeatElement(val, count: 3).joined()).write(to: source.appendingPathComponent("meetings.jsonl"))

        let reference = folder.appendingPathComponent("reference.sqlite").path
        let full = try runIngest(corpus: reference, folder: source.path)
        full.waitUntilExit()
        XCTAssertEqual(full.terminationStatus, 0)
        let expected = try turnsPerMeeting(reference)

        let corpus = folder.appendingPathComponent("corpus.sqlite").path
        let interrupted = try runIngest(corpus: corpus, folder: source.path)
        let deadline = Date().addingTimeInterval(120)
        while interrupted.isRunning, Date() < deadline {
            let partsCommitted = try? DatabaseQueue(path: corpus, configuration: { var c = Configuration(); c.readonly = true; return c }())
                .read { try Int.fetchOne($0, sql: "SELECT count(*) FROM source WHERE hash = 'unfinished'") ?? 0 }
            if let partsCommitted, partsCommitted > 0 {
                kill(interrupted.processIdentifier, SIGKILL)
                break
            }
            usleep(5_000)
        }
        interrupted.waitUntilExit()
        XCTAssertEqual(interrupted.terminationReason, .uncaughtSignal, "ingest ended before it could be killed")

        try assertCorpusConsistent(corpus)
        let partial = try turnsPerMeeting(corpus)
        XCTAssertGreaterThan(partial.count, 0)
        XCTAssertLessThan(partial.count, expected.count, "the kill came after the last part")
        for (id, turns) in partial { XCTAssertEqual(turns, expected[id], "meeting \(id) is incomplete") }

        let completion = try runIngest(corpus: corpus, folder: source.path)
        completion.waitUntilExit()
        XCTAssertEqual(completion.terminationStatus, 0)
        try assertCorpusConsistent(corpus)
        XCTAssertEqual(try turnsPerMeeting(corpus), expected)
        let unfinished = try DatabaseQueue(path: corpus).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM source WHERE hash = 'unfinished'") }
        XCTAssertEqual(unfinished, 0)
    }

    private func turnsPerMeeting(_ corpus: String) throws -> [String: Int] {
        try DatabaseQueue(path: corpus).read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: """
                SELECT meeting.id, count(turn.id) AS turns FROM meeting LEFT JOIN turn ON turn.meeting_pk = meeting.pk GROUP BY meeting.pk
                """).map { ($0["id"] as String, $0["turns"] as Int) })
        }
    }
}
