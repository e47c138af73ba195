// MeetingdClient, the client meetingctl and these tests use: Lazy Pirate retries
// against a socket that never answers and a daemon that stops and comes back,
// JSON-RPC errors as typed errors, and CURVE against a daemon that requires it.

import CZeroMQ
import Foundation
import MeetingdClient
import MeetingKit
import Synchronization
import XCTest

final class ClientTests: XCTestCase {
    var moduleDirectory: URL!

    override func setUpWithError() throws {
        moduleDirectory = try temporaryDirectory(self)
        _ = try buildHelloModule(into: moduleDirectory)
    }

    func helloConfig(extra: String = "") -> String {
        """
        endpoints: [ENDPOINT]
        workers: 1
        corpus: \(moduleDirectory.path)/unused.sqlite
        module_dirs: [\(moduleDirectory.path)]
        modules:
          hello: {settings: {greeting: "Hello"}}
        \(extra)
        """
    }

    func testGivesUpAfterItsTriesEachOnAFreshConnection() throws {
        // A ROUTER that takes requests and never answers, counting who sent them.
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let silent = ZMQClient(type: ZMQ_ROUTER)
        XCTAssertEqual(zmq_bind(silent.socket, endpoint), 0)
        let client = try MeetingdClient(endpoint: endpoint, timeoutMs: 300, tries: 3)
        let started = Date()
        XCTAssertThrowsError(try client.call("meetingd.ping")) { error in
            guard case ClientError.noReply(let to, let tries, let timeoutMs)? = error as? ClientError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual([to, "\(tries)", "\(timeoutMs)"], [endpoint, "3", "300"])
            XCTAssertTrue("\(error)".contains("no reply from \(endpoint) after 3 tries"), "\(error)")
        }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.9, "gave up before three timeouts")
        var senders: [[UInt8]] = []
        var bodies: Set<String> = []
        while let frames = silent.receiveFrames(timeoutMs: 500) {
            senders.append(frames[0])
            bodies.insert(String(decoding: frames.last!, as: UTF8.self))
        }
        XCTAssertEqual(senders.count, 3, "one request per try")
        XCTAssertEqual(Set(senders).count, 3, "each try on a new socket")
        XCTAssertEqual(bodies.count, 1, "every try resends the same request: \(bodies)")
        XCTAssertEqual(try JSONValue.parse(bodies.first ?? "")["method"], "meetingd.ping")
    }

    func testAnswersOnceAStoppedDaemonResumes() throws {
        let daemon = try Daemon(test: self, config: helloConfig())
        let client = try MeetingdClient(endpoint: daemon.endpoint, timeoutMs: 400, tries: 10)
        XCTAssertEqual(try client.call("meetingd.ping"), "pong")
        let pid = daemon.process.processIdentifier
        kill(pid, SIGSTOP)
        let resumed = Atomic<Bool>(false)
        DispatchQueue.global().asyncAfter(deadline: .now() + 1.0) {
            kill(pid, SIGCONT)
            resumed.store(true, ordering: .sequentiallyConsistent)
        }
        // The first tries time out while the daemon is stopped; a later one is answered.
        XCTAssertEqual(try client.call("hello.greet", ["name": "Ada"]), ["greeting": "Hello, Ada!"])
        XCTAssertTrue(resumed.load(ordering: .sequentiallyConsistent), "answered while the daemon was stopped?")
        // And the same client goes on with its fresh socket.
        XCTAssertEqual(try client.call("meetingd.ping"), "pong")
    }

    func testErrorObjectsAreTypedErrors() throws {
        let daemon = try Daemon(test: self, config: helloConfig())
        let client = try MeetingdClient(endpoint: daemon.endpoint, tries: 1)
        XCTAssertThrowsError(try client.call("hello.greet", [:])) { error in
            XCTAssertEqual((error as? RPCError)?.code, -32602, "\(error)")
        }
        XCTAssertThrowsError(try client.call("no.such.method")) { error in
            XCTAssertEqual((error as? RPCError)?.code, -32601, "\(error)")
        }
    }

    func testCurveClientIsLetInOnlyWithAnAuthorizedKey() throws {
        guard CurveKeys.isSupported else { throw XCTSkip("this libzmq has no CURVE") }
        let keys = try temporaryDirectory(self)
        let authorized = keys.appendingPathComponent("clients")
        try FileManager.default.createDirectory(at: authorized, withIntermediateDirectories: true)
        let server = try CurveKeys.writePair(name: keys.appendingPathComponent("server").path)
        let alice = try CurveKeys.writePair(name: authorized.appendingPathComponent("alice").path)
        let mallory = try CurveKeys.writePair(name: keys.appendingPathComponent("mallory").path)
        let daemon = try Daemon(test: self, config: helloConfig(extra: """
            security:
              curve: {secret_key_file: \(server.keyFile), authorized_keys_dir: \(authorized.path)}
            """), waitForReady: false)

        let aliceKeys = try CurveClientKeys(serverKeyFile: server.pubFile, secretKeyFile: alice.keyFile)
        let deadline = Date().addingTimeInterval(30)
        var answer: JSONValue?
        while answer == nil && Date() < deadline && daemon.process.isRunning {
            answer = try? MeetingdClient(endpoint: daemon.endpoint, timeoutMs: 500, tries: 1, curve: aliceKeys).call("meetingd.ping")
        }
        XCTAssertEqual(answer, "pong", daemon.log)

        let malloryKeys = try CurveClientKeys(serverKeyFile: server.pubFile, secretKeyFile: mallory.keyFile)
        for refused in [try MeetingdClient(endpoint: daemon.endpoint, timeoutMs: 500, tries: 2, curve: malloryKeys),
                        try MeetingdClient(endpoint: daemon.endpoint, timeoutMs: 500, tries: 1)] {
            XCTAssertThrowsError(try refused.call("meetingd.ping")) { error in
                guard case ClientError.noReply? = error as? ClientError else { return XCTFail("\(error)") }
            }
        }
    }

    func testConfigEndpointsAreReadWithoutTheServerCore() throws {
        let directory = try temporaryDirectory(self)
        func write(_ text: String) throws -> String {
            let file = directory.appendingPathComponent("\(UUID().uuidString).yaml")
            try text.write(to: file, atomically: true, encoding: .utf8)
            return file.path
        }
        let block = try write("""
            # the daemon's config
            workers: 2
            endpoints:   # where clients connect
              - "tcp://0.0.0.0:7001"   # every interface
              - ipc:///run/x.sock
            events:
              poll_ms: 100
              endpoints:
              - tcp://127.0.0.1:7002
            """)
        XCTAssertEqual(try DaemonConfigFile.requestEndpoint(file: block, environment: [:]), "tcp://127.0.0.1:7001")
        XCTAssertEqual(try DaemonConfigFile.eventEndpoints(file: block), ["tcp://127.0.0.1:7002"])
        XCTAssertEqual(try DaemonConfigFile.requestEndpoint(file: block, environment: ["MEETINGD_ENDPOINTS": "ipc:///a,ipc:///b"]),
                       "ipc:///a")

        let flow = try write("events: {poll_ms: 100}\nendpoints: ['ipc:///run/y.sock', tcp://*:7003]\n")
        XCTAssertEqual(try DaemonConfigFile.requestEndpoint(file: flow, environment: [:]), "ipc:///run/y.sock")
        XCTAssertThrowsError(try DaemonConfigFile.eventEndpoints(file: flow), "a flow mapping it cannot read must not pass as none")

        let none = try write("workers: 1\n")
        XCTAssertEqual(try DaemonConfigFile.requestEndpoint(file: none, environment: [:]), DaemonConfigFile.defaultEndpoint)
        XCTAssertEqual(try DaemonConfigFile.eventEndpoints(file: none), [])
        XCTAssertThrowsError(try DaemonConfigFile.requestEndpoint(file: directory.appendingPathComponent("missing.yaml").path,
                                                                  environment: [:]))
    }
}
