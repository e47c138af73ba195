// The broker's sockets read where their descriptors are polled (frontend, backend, control and
// monitor) and a stop asked for before the server runs: real ZeroMQ sockets and a real Server, in process.

import CZeroMQ
import Foundation
import Logging
import Synchronization
@testable import MeetingdCore
import XCTest

final class BrokerTests: XCTestCase {
    /// A message that came before the first poll is read on the first turn, even when a socket
    /// call before the loop took the commands its descriptor announced (ZMQ_EVENTS does).
    func testTheFirstTurnReadsWhatCameBeforeItsDescriptorWasPolled() throws {
        let context = try XCTUnwrap(zmq_ctx_new())
        defer { zmq_ctx_term(context) }
        let reader = try ZMQSocket(context: context, type: ZMQ_PAIR)
        let writer = try ZMQSocket(context: context, type: ZMQ_PAIR)
        defer { reader.close(); writer.close() }
        try reader.bind("inproc://broker-test-first-turn")
        try writer.connect("inproc://broker-test-first-turn")
        var signalled = try SignalledSocket(reader)
        XCTAssertTrue(writer.send("STOP"))
        var events: Int32 = 0
        var size = MemoryLayout<Int32>.size
        XCTAssertEqual(zmq_getsockopt(reader.handle, ZMQ_EVENTS, &events, &size), 0)
        XCTAssertNotEqual(events & Int32(ZMQ_POLLIN), 0, "the message waits")
        var items = [signalled.pollDescriptor]
        XCTAssertEqual(poll(&items, 1, 0), 0, "yet the descriptor no longer announces it")

        let frames = FrameList()
        var read: [String] = []
        XCTAssertTrue(signalled.mayHoldUnread)
        signalled.read(signalled: false, into: frames) { read.append(String(decoding: $0.bytes(at: 0), as: UTF8.self)) }
        XCTAssertEqual(read, ["STOP"])
        XCTAssertFalse(signalled.mayHoldUnread, "drained: from now on the descriptor says when to read")
        XCTAssertEqual(signalled.read(signalled: false, into: frames) { _ in XCTFail("read unsignalled") }, 0)
    }

    /// A send takes in the socket's commands, and with them the wake-up of a message that came
    /// meanwhile: after a send the socket is read before its descriptor is waited on again.
    func testASendMakesTheSocketReadBeforeItsDescriptorIsWaitedOn() throws {
        let context = try XCTUnwrap(zmq_ctx_new())
        defer { zmq_ctx_term(context) }
        let router = try ZMQSocket(context: context, type: ZMQ_ROUTER)
        let dealer = try ZMQSocket(context: context, type: ZMQ_DEALER)
        defer { router.close(); dealer.close() }
        try dealer.setInt(ZMQ_RCVTIMEO, 1000)
        var dealerID: [UInt8] = [0x64]
        XCTAssertEqual(zmq_setsockopt(dealer.handle, ZMQ_ROUTING_ID, &dealerID, dealerID.count), 0)
        try router.bind("inproc://broker-test-send")
        try dealer.connect("inproc://broker-test-send")
        var signalled = try SignalledSocket(router)
        let frames = FrameList()
        var items = [signalled.pollDescriptor]
        func body(_ message: FrameList) -> String { String(decoding: message.bytes(at: message.count - 1), as: UTF8.self) }

        XCTAssertTrue(dealer.send("first"))
        var read: [String] = []
        signalled.read(signalled: false, into: frames) { read.append(body($0)) }
        XCTAssertEqual(read, ["first"])
        XCTAssertFalse(signalled.mayHoldUnread)
        XCTAssertTrue(dealer.send("second"))
        XCTAssertEqual(poll(&items, 1, 1000), 1, "the descriptor announces the second message")
        // libzmq takes in a socket's commands on a send at most once a millisecond.
        usleep(5000)
        "reply".utf8CString.withUnsafeBytes { frames.prepend(UnsafeRawBufferPointer(rebasing: $0.dropLast())) }
        dealerID.withUnsafeBytes { frames.prepend($0) }
        XCTAssertTrue(signalled.send(frames))
        items[0].revents = 0
        XCTAssertEqual(poll(&items, 1, 0), 0, "the send took the wake-up")
        XCTAssertTrue(signalled.mayHoldUnread, "so the socket is read all the same")
        read = []
        signalled.read(signalled: false, into: frames) { read.append(body($0)) }
        XCTAssertEqual(read, ["second"])
        XCTAssertFalse(signalled.mayHoldUnread)
        XCTAssertTrue(frames.receive(from: dealer), "the reply went out")
        XCTAssertEqual(body(frames), "reply")
    }

    /// 150 connections accepted before the monitor is read are 150 events: a batch of 64 a
    /// turn, the turns after a full batch polling without waiting, and once all are read the
    /// poll waits again rather than turning at once.
    func testMonitorEventsPastOneBatchAreReadOnTheNextTurnsAndThenThePollWaits() throws {
        let context = try XCTUnwrap(zmq_ctx_new())
        defer { zmq_ctx_term(context) }
        let router = try ZMQSocket(context: context, type: ZMQ_ROUTER)
        let monitorSocket = try ZMQSocket(context: context, type: ZMQ_PAIR)
        var clients: [Int32] = []
        defer {
            clients.forEach { close($0) }
            router.close()
            monitorSocket.close()
        }
        XCTAssertEqual(zmq_socket_monitor(router.handle, "inproc://broker-test-monitor", ZMQ_EVENT_ACCEPTED), 0)
        try monitorSocket.connect("inproc://broker-test-monitor")
        var monitor = try SignalledSocket(monitorSocket)
        let port = freePort()
        try router.bind("tcp://127.0.0.1:\(port)")
        for _ in 0..<150 { clients.append(try connectedTCP(port: port)) }
        // libzmq greets a connection after it reported it accepted: once every client is greeted,
        // all 150 events wait in the monitor socket.
        for client in clients {
            var byte: UInt8 = 0
            XCTAssertEqual(recv(client, &byte, 1, 0), 1, "libzmq did not greet a client")
        }

        let frames = FrameList()
        var items = [monitor.pollDescriptor]
        var accepted = 0, perTurn: [Int] = []
        while accepted < clients.count && perTurn.count < 10 {
            items[0].revents = 0
            XCTAssertGreaterThanOrEqual(poll(&items, 1, monitor.mayHoldUnread ? 0 : 1000), 0)
            let read = monitor.read(signalled: items[0].revents & Int16(POLLIN) != 0, into: frames, batch: 64) { message in
                if Connections.monitorEvent(message)?.event == ZMQ_EVENT_ACCEPTED { accepted += 1 }
            }
            perTurn.append(read)
        }
        XCTAssertEqual(accepted, 150)
        XCTAssertEqual(perTurn, [64, 64, 22])
        XCTAssertFalse(monitor.mayHoldUnread)
        items[0].revents = 0
        XCTAssertEqual(poll(&items, 1, 200), 0, "the descriptor is signalled with nothing left to read")
    }

    /// systemctl stop right after start: a stop asked for before `run` is kept until it runs.
    func testAStopAskedForBeforeTheServerRunsEndsIt() throws {
        let directory = try temporaryDirectory(self)
        let file = directory.appendingPathComponent("meetingd.yaml")
        try "endpoints: [tcp://127.0.0.1:\(freePort())]\nworkers: 1\ncorpus: \(directory.path)/corpus.sqlite\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(file: file.path, environment: [:])
        let hooks = ServerHooks(loadConfig: { config }, prepareCorpus: { _ in })
        let server = Server(config: config, modules: [], hooks: hooks, logger: Logger(label: "broker-test"), metrics: ServerMetrics())
        server.requestStop()
        let ended = DispatchSemaphore(value: 0)
        let failure = Mutex<String?>(nil)
        Thread {
            do { try server.run() } catch { failure.withLock { $0 = "\(error)" } }
            ended.signal()
        }.start()
        if ended.wait(timeout: .now() + 30) == .timedOut {
            server.requestStop()  // the server is running now: let it end before the test does
            ended.wait()
            XCTFail("the stop asked for before run() was lost")
        }
        XCTAssertNil(failure.withLock { $0 })
    }

    private func connectedTCP(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }
}
