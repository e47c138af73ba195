// The JSON-RPC protocol, the transport and module loading, all checked against
// the real daemon over real sockets, with the C example module loaded.

import CZeroMQ
import Foundation
import MeetingdClient
import MeetingKit
import XCTest

final class ProtocolTests: XCTestCase {
    var moduleDirectory: URL!

    override func setUpWithError() throws {
        moduleDirectory = try temporaryDirectory(self)
        _ = try buildHelloModule(into: moduleDirectory)
    }

    func helloConfig(endpoints: String = "[ENDPOINT]", extra: String = "") -> String {
        """
        endpoints: \(endpoints)
        workers: 2
        corpus: \(moduleDirectory.path)/unused.sqlite
        module_dirs: [\(moduleDirectory.path)]
        modules:
          hello: {settings: {greeting: "Hello"}}
        \(extra)
        """
    }

    func error(_ reply: JSONValue) -> (code: Int, message: String, data: JSONValue?)? {
        guard let error = reply["error"] else { return nil }
        return (error["code"]?.intValue ?? 0, error["message"]?.stringValue ?? "", error["data"])
    }

    func testPingOverTCPAndIPC() throws {
        let ipcPath = try temporaryDirectory(self).appendingPathComponent("meetingd.sock").path
        let tcp = "tcp://127.0.0.1:\(freePort())"
        let daemon = try Daemon(test: self, config: helloConfig(endpoints: "[\(tcp), ipc://\(ipcPath)]"), endpoint: tcp)
        XCTAssertEqual(try daemon.call("meetingd.ping")["result"], "pong")
        let ipcReply = try MeetingdClient(endpoint: "ipc://\(ipcPath)", tries: 1).reply("meetingd.ping", id: "x")
        XCTAssertEqual(ipcReply, ["jsonrpc": "2.0", "id": "x", "result": "pong"])
    }

    func testDealerAndRouterClients() throws {
        let daemon = try Daemon(test: self, config: helloConfig())
        let ping = Array(#"{"jsonrpc":"2.0","id":7,"method":"meetingd.ping"}"#.utf8)

        // DEALER without an empty delimiter: one frame back.
        let dealer = try ZMQClient(endpoint: daemon.endpoint, type: ZMQ_DEALER)
        dealer.send(frames: [ping])
        let plain = try XCTUnwrap(dealer.receiveFrames())
        XCTAssertEqual(plain.count, 1)
        XCTAssertEqual(try JSONValue.parse(plain[0])["id"], 7)

        // DEALER imitating REQ: the delimiter comes back too.
        dealer.send(frames: [[], ping])
        let delimited = try XCTUnwrap(dealer.receiveFrames())
        XCTAssertEqual(delimited.count, 2)
        XCTAssertEqual(delimited[0], [])
        XCTAssertEqual(try JSONValue.parse(delimited[1])["result"], "pong")

        // ROUTER to ROUTER: the client names the daemon's end of its connection
        // (ZMQ_CONNECT_ROUTING_ID) so that it can address it.
        let routerClient = ZMQClient(type: ZMQ_ROUTER)
        let serverIdentity = Array("meetingd".utf8)
        var id = serverIdentity
        zmq_setsockopt(routerClient.socket, ZMQ_CONNECT_ROUTING_ID, &id, id.count)
        var mandatory: Int32 = 1  // fail rather than drop while the connection is not up yet
        zmq_setsockopt(routerClient.socket, ZMQ_ROUTER_MANDATORY, &mandatory, MemoryLayout<Int32>.size)
        XCTAssertEqual(zmq_connect(routerClient.socket, daemon.endpoint), 0)
        var delivered = false
        for _ in 0..<50 where !delivered {
            var id = serverIdentity
            if zmq_send(routerClient.socket, &id, id.count, ZMQ_SNDMORE) >= 0 {
                var empty: [UInt8] = []
                zmq_send(routerClient.socket, &empty, 0, ZMQ_SNDMORE)
                var body = ping
                zmq_send(routerClient.socket, &body, body.count, 0)
                delivered = true
            } else {
                usleep(20_000)
            }
        }
        XCTAssertTrue(delivered, "the ROUTER client could not reach the daemon")
        let routed = try XCTUnwrap(routerClient.receiveFrames())
        XCTAssertEqual(routed.first, serverIdentity)
        XCTAssertEqual(try JSONValue.parse(try XCTUnwrap(routed.last))["result"], "pong")
    }

    func testBatch() throws {
        let daemon = try Daemon(test: self, config: helloConfig())
        let reply = try JSONValue.parse(try ZMQClient(endpoint: daemon.endpoint).request("""
            [{"jsonrpc":"2.0","id":1,"method":"meetingd.ping"},
             {"jsonrpc":"2.0","method":"meetingd.ping"},
             {"jsonrpc":"2.0","id":"b","method":"hello.greet","params":{"name":"Ada"}},
             {"jsonrpc":"2.0","id":3,"method":"no.such"}]
            """))
        let responses = try XCTUnwrap(reply.arrayValue)
        XCTAssertEqual(responses.count, 3, "the notification gets no response inside a batch")
        XCTAssertEqual(responses[0], ["jsonrpc": "2.0", "id": 1, "result": "pong"])
        XCTAssertEqual(responses[1]["result"], ["greeting": "Hello, Ada!"])
        XCTAssertEqual(error(responses[2])?.code, -32601)
    }

    func testEveryErrorCode() throws {
        let daemon = try Daemon(test: self, config: helloConfig())
        func send(_ text: String) throws -> JSONValue { try JSONValue.parse(try ZMQClient(endpoint: daemon.endpoint).request(text)) }

        let parse = try send(#"{"jsonrpc":"2.0","id":1,"method":"#)
        XCTAssertEqual(error(parse)?.code, -32700)
        XCTAssertEqual(parse["id"], .null)
        XCTAssertNotNil(error(parse)?.data?["offset"]?.intValue)

        XCTAssertEqual(error(try send("[]"))?.code, -32600)
        let wrongVersion = try send(#"{"jsonrpc":"1.0","id":2,"method":"meetingd.ping"}"#)
        XCTAssertEqual(error(wrongVersion)?.code, -32600)
        XCTAssertEqual(error(wrongVersion)?.data?["field"], "jsonrpc")
        XCTAssertEqual(wrongVersion["id"], 2)
        XCTAssertEqual(error(try send(#"{"jsonrpc":"2.0","id":3,"method":5}"#))?.code, -32600)
        XCTAssertEqual(error(try send(#"{"jsonrpc":"2.0","id":3,"method":"meetingd.ping","params":5}"#))?.code, -32600)
        let batchOfNumbers = try send("[1]")
        XCTAssertEqual(batchOfNumbers.arrayValue?.count, 1)
        XCTAssertEqual(batchOfNumbers.arrayValue.flatMap { error($0[0])?.code }, -32600, "a batch of non-objects")

        let unknown = try send(#"{"jsonrpc":"2.0","id":4,"method":"nope.nothing"}"#)
        XCTAssertEqual(error(unknown)?.code, -32601)
        XCTAssertEqual(error(unknown)?.data?["method"], "nope.nothing")

        let wrongType = try send(#"{"jsonrpc":"2.0","id":5,"method":"hello.greet","params":{"name":5}}"#)
        XCTAssertEqual(error(wrongType)?.code, -32602)
        XCTAssertEqual(error(wrongType)?.data?["field"], "name")
        XCTAssertTrue(error(wrongType)?.data?["reason"]?.stringValue?.contains("expected string") ?? false)

        let missing = try send(#"{"jsonrpc":"2.0","id":6,"method":"hello.greet","params":{}}"#)
        XCTAssertEqual(error(missing)?.code, -32602)
        XCTAssertEqual(error(missing)?.data?["field"], "name")
        XCTAssertEqual(error(missing)?.data?["reason"], "is required")

        let unknownParam = try send(#"{"jsonrpc":"2.0","id":7,"method":"meetingd.ping","params":{"x":1}}"#)
        XCTAssertEqual(error(unknownParam)?.data?["field"], "x")

        let moduleError = try send(#"{"jsonrpc":"2.0","id":8,"method":"hello.fail"}"#)
        XCTAssertEqual(error(moduleError)?.code, -32004)
        XCTAssertEqual(error(moduleError)?.data?["reason"], "requested")

        // The daemon kept serving through all of that.
        XCTAssertEqual(try daemon.call("meetingd.ping")["result"], "pong")
    }

    func testNotificationGetsAnEmptyFrame() throws {
        let daemon = try Daemon(test: self, config: helloConfig())
        let client = try ZMQClient(endpoint: daemon.endpoint)
        XCTAssertEqual(try client.request(#"{"jsonrpc":"2.0","method":"meetingd.ping"}"#), "")
        // The same REQ socket is usable again after it.
        XCTAssertTrue(try client.request(#"{"jsonrpc":"2.0","id":1,"method":"meetingd.ping"}"#).contains("pong"))
    }

    func testOversizedMessageIsDroppedAndDaemonStaysUp() throws {
        let daemon = try Daemon(test: self, config: helloConfig(extra: "limits: {max_message_bytes: 4096}"))
        let big = #"{"jsonrpc":"2.0","id":1,"method":"hello.greet","params":{"name":""# + String(repeating: "x", count: 10_000) + #""}}"#
        XCTAssertThrowsError(try ZMQClient(endpoint: daemon.endpoint).request(big, timeoutMs: 1000))
        XCTAssertEqual(try daemon.call("meetingd.ping")["result"], "pong")
        XCTAssertTrue(daemon.process.isRunning)
    }

    func testDiscoverListsEveryMethod() throws {
        let daemon = try Daemon(test: self, config: helloConfig())
        let document = try XCTUnwrap(daemon.call("rpc.discover")["result"])
        XCTAssertTrue(document["openrpc"]?.stringValue?.hasPrefix("1.") ?? false)
        let names = Set(document["methods"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
        let modules = try XCTUnwrap(daemon.call("meetingd.modules")["result"]?.arrayValue)
        let moduleMethods = modules.flatMap { $0["methods"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        XCTAssertEqual(Set(moduleMethods), ["hello.greet", "hello.sleep", "hello.fail"])
        XCTAssertEqual(names, Set(moduleMethods + ["meetingd.ping", "meetingd.status", "meetingd.metrics", "meetingd.modules", "rpc.discover",
                                                   "alerts.add", "alerts.list", "alerts.remove"]))
        let greet = document["methods"]?.arrayValue?.first { $0["name"] == "hello.greet" }
        XCTAssertEqual(greet?["params"]?.arrayValue?.first?["name"], "name")
        XCTAssertEqual(greet?["params"]?.arrayValue?.first?["required"], true)
    }

    func testStatusCountsRequests() throws {
        let daemon = try Daemon(test: self, config: helloConfig())
        for _ in 0..<5 { _ = try daemon.call("hello.greet", ["name": "x"]) }
        let status = try XCTUnwrap(daemon.call("meetingd.status")["result"])
        XCTAssertEqual(status["version"], .string(MeetingdVersion.current))
        XCTAssertEqual(status["modules"], ["hello"])
        XCTAssertEqual(status["methods"]?["hello.greet"]?["requests"], 5)
        XCTAssertNotNil(status["methods"]?["hello.greet"]?["latency_us"]?["p99"]?.doubleValue)
    }

    func testConfigSettingsReachTheModule() throws {
        let config = helloConfig().replacingOccurrences(of: #"greeting: "Hello""#, with: #"greeting: "Hi""#)
        let daemon = try Daemon(test: self, config: config)
        XCTAssertEqual(try daemon.call("hello.greet", ["name": "Bo \"the\" \u{e9}"])["result"], ["greeting": "Hi, Bo \"the\" \u{e9}!"])
    }

    func testSigtermLetsSlowRequestFinish() throws {
        let daemon = try Daemon(test: self, config: helloConfig())
        let client = try ZMQClient(endpoint: daemon.endpoint)
        client.send(frames: [Array(#"{"jsonrpc":"2.0","id":1,"method":"hello.sleep","params":{"ms":1500}}"#.utf8)])
        usleep(300_000)  // the request is in the worker now
        kill(daemon.process.processIdentifier, SIGTERM)
        let reply = try XCTUnwrap(client.receiveFrames(timeoutMs: 5000)?.last, "the slow request was dropped")
        XCTAssertEqual(try JSONValue.parse(reply)["result"], ["slept_ms": 1500])
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.log)
        XCTAssertTrue(daemon.log.contains("stopping"))
    }

    // MARK: - Scheduling: free workers first, deadlines, overload

    func sendSleep(_ daemon: Daemon, ms: Int, id: Int = 100) throws -> ZMQClient {
        let client = try ZMQClient(endpoint: daemon.endpoint)
        client.send(frames: [Array(#"{"jsonrpc":"2.0","id":\#(id),"method":"hello.sleep","params":{"ms":\#(ms)}}"#.utf8)])
        return client
    }

    func testFastRequestDoesNotWaitBehindASlowOne() throws {
        let daemon = try Daemon(test: self, config: helloConfig())  // two workers
        let slow = try sendSleep(daemon, ms: 3000)
        usleep(200_000)
        for _ in 0..<6 {  // round-robin would put every other one behind the sleeper
            let started = Date()
            XCTAssertEqual(try daemon.call("meetingd.ping")["result"], "pong")
            XCTAssertLessThan(Date().timeIntervalSince(started), 1.5, "a ping waited behind hello.sleep")
        }
        XCTAssertNotNil(slow.receiveFrames(timeoutMs: 5000))
    }

    func testQueuedPastTheDeadlineIsAnsweredSo() throws {
        let daemon = try Daemon(test: self, config: helloConfig(extra: "limits: {request_deadline_ms: 300}")
            .replacingOccurrences(of: "workers: 2", with: "workers: 1"))
        let slow = try sendSleep(daemon, ms: 1000)
        usleep(100_000)
        let late = try daemon.call("meetingd.ping", id: 5)
        XCTAssertEqual(error(late)?.code, -32005, "\(late)")
        XCTAssertEqual(late["id"], 5)
        XCTAssertGreaterThan(error(late)?.data?["waited_ms"]?.intValue ?? 0, 300)
        XCTAssertEqual(error(late)?.data?["phase"], "queued")
        XCTAssertNotNil(slow.receiveFrames(timeoutMs: 5000))
        XCTAssertEqual(try daemon.call("meetingd.ping")["result"], "pong")
    }

    func testFullQueueAnswersOverloaded() throws {
        let daemon = try Daemon(test: self, config: helloConfig(extra: "limits: {max_queued: 1}")
            .replacingOccurrences(of: "workers: 2", with: "workers: 1"))
        let busy = try sendSleep(daemon, ms: 1500, id: 1)
        usleep(100_000)
        let waiting = try sendSleep(daemon, ms: 10, id: 2)  // fills the one queue place
        usleep(100_000)
        let refused = try daemon.call("meetingd.ping", id: 3)
        XCTAssertEqual(error(refused)?.code, -32006, "\(refused)")
        XCTAssertEqual(refused["id"], 3)
        XCTAssertEqual(error(refused)?.data?["limit"], 1)
        XCTAssertNotNil(busy.receiveFrames(timeoutMs: 5000))
        XCTAssertNotNil(waiting.receiveFrames(timeoutMs: 5000), "the queued request was lost")
    }

    // MARK: - Modules that must keep the daemon from starting

    func assertServeFails(config: String, mentions expected: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let daemon = try Daemon(test: self, config: config, waitForReady: false)
        let status = daemon.waitForExit(seconds: 20)
        XCTAssertNotNil(status, "serve kept running", file: file, line: line)
        XCTAssertNotEqual(status, 0, file: file, line: line)
        for text in expected { XCTAssertTrue(daemon.log.contains(text), "log lacks '\(text)':\n\(daemon.log)", file: file, line: line) }
    }

    func testMissingModuleFileFailsStart() throws {
        try assertServeFails(
            config: helloConfig() + "\n  gone: {path: /nonexistent/gone.so}",
            mentions: ["/nonexistent/gone.so", "no such file"])
    }

    func testWrongABIVersionFailsStart() throws {
        let directory = try temporaryDirectory(self)
        let library = try buildHelloModule(into: directory, name: "hello", flags: ["-DHELLO_ABI_VERSION=99"])
        try assertServeFails(
            config: helloConfig().replacingOccurrences(of: moduleDirectory.path, with: directory.path),
            mentions: [library.path, "ABI version 99"])
    }

    func testDuplicateMethodNameFailsStart() throws {
        let directory = try temporaryDirectory(self)
        let library = try buildHelloModule(into: directory, name: "hello", flags: ["-DHELLO_DUPLICATE_METHOD"])
        try assertServeFails(
            config: helloConfig().replacingOccurrences(of: moduleDirectory.path, with: directory.path),
            mentions: [library.path, "duplicate method name 'hello.greet'"])
    }

    func testDuplicateModuleNameFailsStart() throws {
        let copy = moduleDirectory.appendingPathComponent("again.so")
        try FileManager.default.copyItem(at: moduleDirectory.appendingPathComponent("hello.so"), to: copy)
        try assertServeFails(config: helloConfig() + "\n  again: {path: \(copy.path)}",
                             mentions: [copy.path, "module 'hello'"])
    }

    func testFailedOpenFailsStart() throws {
        try assertServeFails(config: helloConfig().replacingOccurrences(of: #"greeting: "Hello""#, with: "fail_open: true"),
                             mentions: ["hello", "open failed", "fail_open"])
    }

    func testCheckConfigReportsEveryError() throws {
        let directory = try temporaryDirectory(self)
        let file = directory.appendingPathComponent("bad.yaml")
        try "endpoints: [http://x]\nworkers: -1\ncolour: blue\nlimits: {max_queued: 0}\n".write(to: file, atomically: true, encoding: .utf8)
        let result = try runCommand(BuildProducts.meetingd, ["check-config", "--config", file.path])
        XCTAssertNotEqual(result.status, 0)
        for text in ["unknown key 'colour'", "workers", "http://x", "limits.max_queued"] {
            XCTAssertTrue(result.output.contains(text), "missing '\(text)' in:\n\(result.output)")
        }
    }

    func testEnvironmentAndFlagsOverrideTheFile() throws {
        let directory = try temporaryDirectory(self)
        let file = directory.appendingPathComponent("meetingd.yaml")
        try "workers: 3\ncorpus: data/corpus.sqlite\n".write(to: file, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["MEETINGD_WORKERS"] = "5"
        let result = try runCommand(BuildProducts.meetingd, ["check-config", "--config", file.path, "--endpoint", "tcp://127.0.0.1:6000"],
                             environment: environment)
        XCTAssertEqual(result.status, 0, result.output)
        let resolved = try JSONValue.parse(result.output.components(separatedBy: "configuration OK")[0])
        XCTAssertEqual(resolved["workers"], 5)
        XCTAssertEqual(resolved["endpoints"], ["tcp://127.0.0.1:6000"])
        XCTAssertEqual(resolved["corpus"]?.stringValue, directory.appendingPathComponent("data/corpus.sqlite").path)
    }

    // MARK: - meetingctl

    func testMeetingctlCallsAndGivesUpClearly() throws {
        let daemon = try Daemon(test: self, config: helloConfig())
        let ping = try runCommand(BuildProducts.meetingctl, ["ping", "--endpoint", daemon.endpoint])
        XCTAssertEqual(ping.status, 0, ping.output)
        XCTAssertTrue(ping.output.hasPrefix("pong from \(daemon.endpoint)"))
        let call = try runCommand(BuildProducts.meetingctl, ["call", "hello.greet", #"{"name":"Ada"}"#, "--json", "--endpoint", daemon.endpoint])
        XCTAssertEqual(try JSONValue.parse(call.output.trimmingCharacters(in: .whitespacesAndNewlines)), ["greeting": "Hello, Ada!"])
        let failed = try runCommand(BuildProducts.meetingctl, ["call", "hello.greet", "{}", "--endpoint", daemon.endpoint])
        XCTAssertEqual(failed.status, 1)
        XCTAssertTrue(failed.output.contains("-32602"), failed.output)

        let nobody = "tcp://127.0.0.1:\(freePort())"
        let silent = try runCommand(BuildProducts.meetingctl, ["ping", "--endpoint", nobody, "--timeout", "200", "--retries", "3"])
        XCTAssertEqual(silent.status, 3)
        XCTAssertTrue(silent.output.contains("no reply from \(nobody) after 3 tries"), silent.output)
    }
}
