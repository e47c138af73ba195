// The daemon as a service: reload on SIGHUP (synchronous through meetingctl
// reload), sd_notify messages, the watchdog, and journal-style logs. systemd
// itself is exercised by Tests/systemd/run.sh; here the notify socket is a real
// datagram socket the test listens on, as systemd's would be.

import CZeroMQ
import Foundation
import MeetingdClient
import MeetingKit
import MeetingdCore
import Synchronization
import XCTest

/// A unix datagram socket standing where systemd's notify socket would.
final class NotifySocket {
    let path: String
    private let fd: Int32

    init(directory: URL) throws {
        path = directory.appendingPathComponent("notify.sock").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw DaemonError("cannot bind \(path)") }
    }

    deinit { close(fd) }

    /// Datagrams received until `seconds` pass or `until` says stop.
    func receive(seconds: Double, until done: ([String]) -> Bool = { _ in false }) -> [String] {
        var messages: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline, !done(messages) {
            var item = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&item, 1, 50) > 0 else { continue }
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 { messages.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
        }
        return messages
    }
}

/// What the load clients of a test share.
final class LoadRecord: Sendable {
    let failures = Mutex<[String]>([])
    let answered = Atomic<Int>(0)
    let running = Atomic<Bool>(true)
}

final class ServiceTests: XCTestCase {
    var moduleDirectory: URL!

    override func setUpWithError() throws {
        moduleDirectory = try temporaryDirectory(self)
        _ = try buildHelloModule(into: moduleDirectory)
    }

    func config(greeting: String = "Hello", workers: Int = 2, extraModules: String = "") -> String {
        """
        endpoints: [ENDPOINT]
        workers: \(workers)
        corpus: \(moduleDirectory.path)/unused.sqlite
        module_dirs: [\(moduleDirectory.path)]
        modules:
          hello: {settings: {greeting: "\(greeting)"}}
        \(extraModules)
        """
    }

    func reload(_ daemon: Daemon) throws -> ProcessResult {
        try runCommand(BuildProducts.meetingctl, ["reload", "--endpoint", daemon.endpoint, "--json"])
    }

    func testReloadAppliesNewModuleSettings() throws {
        let daemon = try Daemon(test: self, config: config())
        XCTAssertEqual(try daemon.call("hello.greet", ["name": "Ada"])["result"]?["greeting"], "Hello, Ada!")
        try daemon.rewriteConfig(config(greeting: "Hi"))
        let result = try reload(daemon)
        XCTAssertEqual(result.status, 0, result.output + daemon.log)
        for _ in 0..<4 {  // every worker moved, not just one
            XCTAssertEqual(try daemon.call("hello.greet", ["name": "Ada"])["result"]?["greeting"], "Hi, Ada!")
        }
        let status = try XCTUnwrap(daemon.call("meetingd.status")["result"])
        XCTAssertEqual(status["reload"]?["ok"], true)
        XCTAssertEqual(status["reload"]?["generation"], 1)
    }

    func testReloadEnablesAndDisablesModules() throws {
        _ = try buildHelloModule(into: moduleDirectory, name: "hola", flags: [#"-DHELLO_NAME="hola""#])
        let daemon = try Daemon(test: self, config: config())
        try daemon.rewriteConfig(config(extraModules: "  hola: {}"))
        XCTAssertEqual(try reload(daemon).status, 0)
        XCTAssertEqual(try daemon.call("hola.greet", ["name": "Eva"])["result"]?["greeting"], "Hello, Eva!")
        XCTAssertEqual(try daemon.call("meetingd.status")["result"]?["modules"], ["hello", "hola"])

        try daemon.rewriteConfig(config(extraModules: "  hola: {enabled: false}"))
        XCTAssertEqual(try reload(daemon).status, 0)
        XCTAssertEqual(try daemon.call("hola.greet", ["name": "Eva"])["error"]?["code"], -32601)
    }

    func testReloadAppliesLogLevelAndFormat() throws {
        let daemon = try Daemon(test: self, config: config(workers: 1))
        func lines() -> [String] { daemon.log.split(separator: "\n").map(String.init) }
        /// The JSON lines for hello.greet requests (`log_level: debug` writes one per call).
        func jsonRequestLines() -> [JSONValue] {
            lines().compactMap { try? JSONValue.parse($0) }.filter { $0["message"] == "request" && $0["method"] == "hello.greet" }
        }
        _ = try daemon.call("hello.greet", ["name": "Ada"])
        XCTAssertFalse(daemon.log.contains("hello.greet"), "info logs no request lines:\n\(daemon.log)")

        try daemon.rewriteConfig(config(workers: 1) + "\nlog_level: debug\nlog_format: json\n")
        let toDebug = try reload(daemon)
        XCTAssertEqual(toDebug.status, 0, toDebug.output)
        _ = try daemon.call("hello.greet", ["name": "Bea"])
        let deadline = Date().addingTimeInterval(5)
        while jsonRequestLines().isEmpty && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(jsonRequestLines().count, 1, daemon.log)
        XCTAssertEqual(jsonRequestLines().first?["level"], "debug")
        XCTAssertTrue(lines().contains { $0.hasPrefix("{") && $0.contains("logging changed") }, daemon.log)

        try daemon.rewriteConfig(config(workers: 1))  // back to the defaults: info, text
        XCTAssertEqual(try reload(daemon).status, 0)
        _ = try daemon.call("hello.greet", ["name": "Cy"])
        XCTAssertEqual(try daemon.call("meetingd.ping")["result"], "pong")
        usleep(200_000)
        XCTAssertEqual(jsonRequestLines().count, 1, "a request logged after going back to info:\n\(daemon.log)")
        let last = try XCTUnwrap(lines().last { $0.contains("logging changed") })
        XCTAssertFalse(last.hasPrefix("{"), last)
        XCTAssertTrue(last.contains("log_format=text") && last.contains("log_level=info"), last)
    }

    func testBrokenConfigIsRefusedAndTheOldOneKeepsServing() throws {
        let daemon = try Daemon(test: self, config: config())
        try daemon.rewriteConfig(config(greeting: "Hi") + "\nnonsense_key: 1\n")
        let refused = try reload(daemon)
        XCTAssertEqual(refused.status, 1, refused.output)
        XCTAssertTrue(refused.output.contains("nonsense_key"), refused.output)
        XCTAssertEqual(try daemon.call("hello.greet", ["name": "Ada"])["result"]?["greeting"], "Hello, Ada!")

        // A module whose open fails is refused the same way, before any worker moves.
        try daemon.rewriteConfig(config().replacingOccurrences(of: #"greeting: "Hello""#, with: "fail_open: true"))
        XCTAssertEqual(try reload(daemon).status, 1)
        XCTAssertEqual(try daemon.call("hello.greet", ["name": "Ada"])["result"]?["greeting"], "Hello, Ada!")
        let status = try XCTUnwrap(daemon.call("meetingd.status")["result"])
        XCTAssertEqual(status["reload"]?["ok"], false)
        XCTAssertTrue(status["reload"]?["error"]?.stringValue?.contains("fail_open") ?? false)
        XCTAssertTrue(daemon.log.contains("reload refused"))
    }

    func testReloadUnderLoadLosesNothing() throws {
        let daemon = try Daemon(test: self, config: config())
        let load = LoadRecord()
        let clients = DispatchGroup()
        let endpoint = daemon.endpoint
        for client in 0..<4 {
            DispatchQueue.global().async(group: clients) {
                // One try: a reply lost in the reload must fail the test, not be asked for again.
                guard let socket = try? MeetingdClient(endpoint: endpoint, timeoutMs: 5000, tries: 1) else { return }
                var n = 0
                while load.running.load(ordering: .relaxed) && n < 5000 {
                    n += 1
                    let name = "c\(client)-\(n)"
                    do {
                        let reply = try socket.reply("hello.greet", ["name": .string(name)], id: .string(name))
                        let greeting = reply["result"]?["greeting"]?.stringValue ?? ""
                        if reply["id"] != .string(name) || !greeting.hasSuffix(", \(name)!") {
                            load.failures.withLock { $0.append("\(name): \(reply.serialized)") }
                        }
                        load.answered.add(1, ordering: .relaxed)
                    } catch {
                        load.failures.withLock { $0.append("\(name): \(error)") }
                        return
                    }
                }
            }
        }
        for round in 0..<3 {
            usleep(150_000)
            try daemon.rewriteConfig(config(greeting: round % 2 == 0 ? "Hi" : "Hello"))
            let result = try reload(daemon)
            XCTAssertEqual(result.status, 0, result.output)
        }
        usleep(150_000)
        load.running.store(false, ordering: .relaxed)
        XCTAssertEqual(clients.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(load.failures.withLock { $0 }, [])
        XCTAssertGreaterThan(load.answered.load(ordering: .relaxed), 100)
        XCTAssertEqual(try daemon.call("meetingd.status")["result"]?["reload"]?["generation"], 3)
    }

    func testChangedLibraryAsksForARestart() throws {
        let daemon = try Daemon(test: self, config: config())
        let library = moduleDirectory.appendingPathComponent("hello.so")
        try FileManager.default.removeItem(at: library)
        _ = try buildHelloModule(into: moduleDirectory, flags: ["-DHELLO_REBUILT=1"])
        XCTAssertEqual(try reload(daemon).status, 0)
        let status = try XCTUnwrap(daemon.call("meetingd.status")["result"])
        let notes = status["reload"]?["restart_needed"]?.arrayValue ?? []
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes.first?.stringValue?.contains(library.path) ?? false, "\(notes)")
        XCTAssertEqual(try daemon.call("hello.greet", ["name": "x"])["result"]?["greeting"], "Hello, x!")
    }

    func testNotifyReadyReloadingStopping() throws {
        let socket = try NotifySocket(directory: try temporaryDirectory(self))
        let daemon = try Daemon(test: self, config: config(), environment: ["NOTIFY_SOCKET": socket.path], waitForReady: false)
        let startup = socket.receive(seconds: 20) { $0.contains { $0.contains("READY=1") } }
        let ready = try XCTUnwrap(startup.first { $0.contains("READY=1") }, "no READY=1: \(startup)\n\(daemon.log)")
        XCTAssertTrue(ready.contains("STATUS=serving"), ready)
        // Ready means answering.
        XCTAssertEqual(try daemon.call("meetingd.ping", id: 1)["result"], "pong")

        XCTAssertEqual(try reload(daemon).status, 0)
        let reloading = socket.receive(seconds: 10) { $0.contains { $0.contains("READY=1") } }
        let order = reloading.filter { $0.contains("RELOADING=1") || $0.contains("READY=1") }
        XCTAssertTrue(order.first?.contains("RELOADING=1\nMONOTONIC_USEC=") ?? false, "\(reloading)")
        XCTAssertTrue(order.last?.contains("READY=1") ?? false, "\(reloading)")

        kill(daemon.process.processIdentifier, SIGTERM)
        let stopping = socket.receive(seconds: 10) { $0.contains { $0.contains("STOPPING=1") } }
        XCTAssertTrue(stopping.contains { $0.contains("STOPPING=1") }, "\(stopping)")
        XCTAssertEqual(daemon.waitForExit(), 0)
    }

    func testWatchdogStopsWhenAWorkerHangs() throws {
        let socket = try NotifySocket(directory: try temporaryDirectory(self))
        let daemon = try Daemon(test: self, config: config(workers: 1),
                                environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "600000"])
        let healthy = socket.receive(seconds: 1.5)
        XCTAssertGreaterThanOrEqual(healthy.filter { $0.contains("WATCHDOG=1") }.count, 2, "\(healthy)")

        let client = try ZMQClient(endpoint: daemon.endpoint)
        client.send(frames: [Array(#"{"jsonrpc":"2.0","id":1,"method":"hello.sleep","params":{"ms":3000}}"#.utf8)])
        usleep(900_000)  // past the 600 ms timeout: no more pets
        _ = socket.receive(seconds: 0.1)  // what was sent before the hang was noticed
        let hung = socket.receive(seconds: 1.4)
        XCTAssertFalse(hung.contains { $0.contains("WATCHDOG=1") }, "the watchdog was fed while the worker hung: \(hung)")
        XCTAssertTrue(daemon.log.contains("watchdog: worker 0"), daemon.log)

        XCTAssertNotNil(client.receiveFrames(timeoutMs: 5000))
        let recovered = socket.receive(seconds: 1.5)
        XCTAssertTrue(recovered.contains { $0.contains("WATCHDOG=1") }, "\(recovered)")
    }

    func testWatchdogChecksUnderSteadyLoadKeepServing() throws {
        // A 10 ms watchdog period makes the health check race the workers' busy stamps
        // hundreds of times; a stamp newer than the check's clock must read as busy 0 ms.
        let socket = try NotifySocket(directory: try temporaryDirectory(self))
        let daemon = try Daemon(test: self, config: config(),
                                environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "20000"])
        let load = LoadRecord()
        let clients = DispatchGroup()
        let endpoint = daemon.endpoint
        for _ in 0..<4 {
            DispatchQueue.global().async(group: clients) {
                guard let client = try? MeetingdClient(endpoint: endpoint, timeoutMs: 5000, tries: 1) else { return }
                while load.running.load(ordering: .relaxed) {
                    do {
                        _ = try client.call("meetingd.ping")
                        load.answered.add(1, ordering: .relaxed)
                    } catch {
                        load.failures.withLock { $0.append("\(error)") }
                        return
                    }
                }
            }
        }
        let pets = socket.receive(seconds: 2.5).filter { $0.contains("WATCHDOG=1") }.count
        load.running.store(false, ordering: .relaxed)
        XCTAssertEqual(clients.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(load.failures.withLock { $0 }, [], daemon.log)
        XCTAssertTrue(daemon.process.isRunning, daemon.log)
        XCTAssertGreaterThan(pets, 20, "the watchdog went unfed under load")
        XCTAssertFalse(daemon.log.contains("watchdog:"), daemon.log)
    }

    func testJournalPrefixesWhenStderrIsTheJournal() throws {
        // JOURNAL_STREAM names stderr's device and inode; here stderr is a plain file.
        // With no journal socket to send entries to, lines go to that stream with `<N>` prefixes.
        try XCTSkipIf(access(MeetingdLogHandler.journalSocket, F_OK) == 0,
                      "this host runs journald: the daemon would send its lines there, not to the file")
        let directory = try temporaryDirectory(self)
        let logFile = directory.appendingPathComponent("journal.log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        var fileStatus = stat()
        stat(logFile.path, &fileStatus)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuildProducts.meetingd)
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let configFile = directory.appendingPathComponent("meetingd.yaml")
        try config().replacingOccurrences(of: "ENDPOINT", with: endpoint).write(to: configFile, atomically: true, encoding: .utf8)
        process.arguments = ["serve", "--config", configFile.path]
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["JOURNAL_STREAM": "\(fileStatus.st_dev):\(fileStatus.st_ino)"]) { $1 }
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardError = handle
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(20)
        var text = ""
        while Date() < deadline, !text.contains("serving") {
            usleep(50_000)
            text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        }
        let lines = text.split(separator: "\n")
        XCTAssertFalse(lines.isEmpty)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("<6>") || $0.hasPrefix("<7>") || $0.hasPrefix("<4>") }, text)
        XCTAssertTrue(text.contains("<6>info meetingd: serving"), text)
    }
}
