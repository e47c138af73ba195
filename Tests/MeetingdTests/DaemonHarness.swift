// Runs the real built `meetingd` as a subprocess on a free loopback port (or an
// ipc path) and talks to it over real ZeroMQ sockets: ordinary calls through
// MeetingdClient, the client meetingctl uses; deliberately odd traffic through
// ZMQClient's raw sockets.

import CZeroMQ
import Foundation
import MeetingdClient
import MeetingKit
import XCTest

enum BuildProducts {
    /// The folder holding the test bundle, and so the built binaries and modules.
    static let directory: URL = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent()
    }()
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var meetingd: String { directory.appendingPathComponent("meetingd").path }
    static var meetingctl: String { directory.appendingPathComponent("meetingctl").path }
    static var seed: String { packageRoot.appendingPathComponent("Samples").path }
}

/// A scratch folder removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("meetingd-test-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// A port nothing listens on right now.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length)
            return getsockname(fd, pointer, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

struct ProcessResult {
    let status: Int32
    let output: String
}

/// Runs a command to completion, with its stdout and stderr together.
@discardableResult
func runCommand(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

/// Compiles the C example module with extra flags into `directory`.
func buildHelloModule(into directory: URL, name: String = "hello", flags: [String] = []) throws -> URL {
    let output = directory.appendingPathComponent("\(name).so")
    let header = BuildProducts.packageRoot.appendingPathComponent("Sources/MeetingKit/Sources/CMeetingdModule/include").path
    let source = BuildProducts.packageRoot.appendingPathComponent("Plugins/hello-c/hello.c").path
    let result = try runCommand("/usr/bin/cc", ["-std=c11", "-O2", "-fPIC", "-shared", "-fvisibility=hidden", "-I", header]
                         + flags + [source, "-o", output.path])
    guard result.status == 0 else { throw NSError(domain: "cc", code: Int(result.status), userInfo: [NSLocalizedDescriptionKey: result.output]) }
    return output
}

final class Daemon {
    let process = Process()
    let endpoint: String
    let logFile: URL

    /// Starts `meetingd serve` with `config` (YAML text; `ENDPOINT` in it is replaced by
    /// a fresh loopback endpoint) and waits until it answers a ping.
    let configFile: URL

    init(test: XCTestCase, config: String, endpoint: String? = nil, extraArguments: [String] = [],
         environment: [String: String] = [:], waitForReady: Bool = true) throws {
        let directory = try temporaryDirectory(test)
        self.endpoint = endpoint ?? "tcp://127.0.0.1:\(freePort())"
        configFile = directory.appendingPathComponent("meetingd.yaml")
        try config.replacingOccurrences(of: "ENDPOINT", with: self.endpoint).write(to: configFile, atomically: true, encoding: .utf8)
        logFile = directory.appendingPathComponent("meetingd.log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: BuildProducts.meetingd)
        process.arguments = ["serve", "--config", configFile.path] + extraArguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let log = try FileHandle(forWritingTo: logFile)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        test.addTeardownBlock { [process] in
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        }
        if waitForReady { try waitUntilAnswering() }
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Rewrites the config file (ENDPOINT stands for this daemon's endpoint).
    func rewriteConfig(_ config: String) throws {
        try config.replacingOccurrences(of: "ENDPOINT", with: endpoint).write(to: configFile, atomically: true, encoding: .utf8)
    }

    func waitUntilAnswering(seconds: Double = 30) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard process.isRunning else { throw DaemonError("meetingd exited with \(process.terminationStatus):\n\(log)") }
            if let client = try? MeetingdClient(endpoint: endpoint, timeoutMs: 500, tries: 1),
               (try? client.call("meetingd.ping")) == "pong" { return }
        }
        throw DaemonError("meetingd did not answer a ping within \(seconds) s:\n\(log)")
    }

    /// Waits for the process to exit and returns its status.
    func waitForExit(seconds: Double = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// The whole reply to one call (one try of 10 s: a test wants a lost reply seen, not retried).
    func call(_ method: String, _ params: JSONValue = .object([:]), id: JSONValue = 1) throws -> JSONValue {
        try MeetingdClient(endpoint: endpoint, timeoutMs: 10_000, tries: 1).reply(method, params, id: id)
    }
}

struct DaemonError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A raw ZeroMQ socket of any type, for what MeetingdClient will not send: other
/// socket types, odd frames, requests left waiting while others go.
final class ZMQClient {
    let context: UnsafeMutableRawPointer
    let socket: UnsafeMutableRawPointer

    /// A socket not yet connected.
    init(type: Int32) {
        context = zmq_ctx_new()
        socket = zmq_socket(context, type)
        var linger: Int32 = 0
        zmq_setsockopt(socket, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
    }

    convenience init(endpoint: String, type: Int32 = ZMQ_REQ) throws {
        self.init(type: type)
        guard zmq_connect(socket, endpoint) == 0 else { throw DaemonError("connect \(endpoint) failed") }
    }

    deinit {
        zmq_close(socket)
        zmq_ctx_term(context)
    }

    func send(frames: [[UInt8]]) {
        for (i, frame) in frames.enumerated() {
            var bytes = frame
            zmq_send(socket, &bytes, bytes.count, i < frames.count - 1 ? ZMQ_SNDMORE : 0)
        }
    }

    /// All frames of the next message, or nil if none arrives in time.
    func receiveFrames(timeoutMs: Int = 10_000) -> [[UInt8]]? {
        var item = zmq_pollitem_t(socket: socket, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        guard zmq_poll(&item, 1, timeoutMs) > 0 else { return nil }
        var frames: [[UInt8]] = []
        repeat {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            guard zmq_msg_recv(&message, socket, 0) >= 0 else { zmq_msg_close(&message); return nil }
            frames.append(Array(UnsafeRawBufferPointer(start: zmq_msg_data(&message), count: zmq_msg_size(&message))))
            let more = zmq_msg_more(&message) != 0
            zmq_msg_close(&message)
            if !more { break }
        } while true
        return frames
    }

    /// One request frame out, the reply frame back (as text).
    func request(_ body: String, timeoutMs: Int = 10_000) throws -> String {
        send(frames: [Array(body.utf8)])
        guard let frames = receiveFrames(timeoutMs: timeoutMs), let last = frames.last else {
            throw DaemonError("no reply within \(timeoutMs) ms")
        }
        return String(decoding: last, as: UTF8.self)
    }
}
