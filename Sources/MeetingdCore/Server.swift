// The zguide multithreaded server: a ROUTER socket on every configured endpoint,
// an inproc DEALER to the workers, and one thread per worker, each with its own
// DEALER socket and its own module instances. The proxy loop is ours rather than
// zmq_proxy so that a stop can close the front door while replies still flow
// back, and so that each request is stamped with its arrival time and queue depth.

import CZeroMQ
import Foundation
import Logging
import MeetingKit
import Synchronization

public struct ServerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

public final class Server: @unchecked Sendable {
    static let backendAddress = "inproc://meetingd-workers"
    static let controlAddress = "inproc://meetingd-control"

    private let state: ServerState
    private let logger: Logger
    private let context: UnsafeMutableRawPointer
    private let workersDone = DispatchGroup()
    private let controlLock = Mutex<ZMQSocket?>(nil)

    public init(state: ServerState, logger: Logger) {
        self.state = state
        self.logger = logger
        context = zmq_ctx_new()
    }

    /// Asks a running server to stop: no new requests, finish those in flight. Any thread.
    public func requestStop() {
        controlLock.withLock { socket in _ = socket?.send("STOP") }
    }

    /// Binds, starts the workers (each opens its module instances), calls `onReady`,
    /// and serves until `requestStop`. Throws if anything fails before ready.
    public func run(onReady: () -> Void, onStopping: () -> Void) throws {
        let config = state.config
        let frontend = try ZMQSocket(context: context, type: ZMQ_ROUTER)
        let backend = try ZMQSocket(context: context, type: ZMQ_DEALER)
        let control = try ZMQSocket(context: context, type: ZMQ_PAIR)
        defer {
            frontend.close()
            backend.close()
            control.close()
            zmq_ctx_term(context)
        }
        try frontend.setInt64(ZMQ_MAXMSGSIZE, Int64(config.limits.maxMessageBytes))
        for endpoint in config.endpoints {
            do { try frontend.bind(endpoint) } catch {
                throw ServerError(message: "cannot listen on \(endpoint): \(String(cString: zmq_strerror(error.code)))")
            }
        }
        try backend.bind(Self.backendAddress)
        try control.bind(Self.controlAddress)
        let controlClient = try ZMQSocket(context: context, type: ZMQ_PAIR)
        try controlClient.connect(Self.controlAddress)
        // A stop asked for before serving starts waits in the control socket.
        controlLock.withLock { $0 = controlClient }
        defer { controlLock.withLock { $0?.close(); $0 = nil } }

        try startWorkers()
        logger.info("serving", metadata: [
            "endpoints": "\(config.endpoints.joined(separator: ","))", "workers": "\(config.workers)",
            "modules": "\(state.modules.map(\.name).joined(separator: ","))",
        ])
        onReady()
        proxy(frontend: frontend, backend: backend, control: control, onStopping: onStopping)

        // Idle workers are blocked in a receive: ending the context wakes them with ETERM.
        zmq_ctx_shutdown(context)
        let grace = DispatchTime.now() + .milliseconds(config.limits.shutdownGraceMs + 1000)
        if workersDone.wait(timeout: grace) == .timedOut {
            throw ServerError(message: "workers did not finish within the shutdown grace period")
        }
        logger.info("stopped")
    }

    // MARK: - Workers

    private func startWorkers() throws {
        let failures = Mutex<[String]>([])
        let opened = DispatchGroup()
        for index in 0..<state.config.workers {
            opened.enter()
            workersDone.enter()
            let thread = Thread { [self] in
                defer { workersDone.leave() }
                var instances: [ModuleInstance] = []
                do {
                    for module in state.modules { instances.append(try module.open(corpusPath: state.config.corpusPath)) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                    instances.forEach { $0.close() }
                    opened.leave()
                    return
                }
                opened.leave()
                serve(worker: index, instances: instances)
            }
            thread.name = "meetingd-worker-\(index)"
            thread.stackSize = 8 << 20
            thread.start()
        }
        opened.wait()
        let problems = failures.withLock { $0 }
        if let first = problems.first {
            zmq_ctx_shutdown(context)
            workersDone.wait()
            throw ServerError(message: first)
        }
    }

    private func serve(worker index: Int, instances: [ModuleInstance]) {
        let workerLogger = Logger(label: "meetingd.worker\(index)")
        let dispatcher = Dispatcher(state: state, stats: state.workerStats[index], instances: instances, logger: workerLogger)
        defer { dispatcher.closeInstances() }
        guard let socket = try? ZMQSocket(context: context, type: ZMQ_DEALER),
              (try? socket.connect(Self.backendAddress)) != nil else {
            workerLogger.error("worker \(index) cannot connect to the proxy")
            return
        }
        defer { socket.close() }
        let frames = FrameList()
        while true {
            guard frames.receive(from: socket) else {
                if zmq_errno() == EINTR { continue }
                break  // ETERM: the server is stopping
            }
            // [stamp, routing envelope..., request body]
            guard frames.count >= 3, frames.bytes(at: 0).count == RequestStamp.size else {
                workerLogger.warning("dropped a message of unexpected shape", metadata: ["frames": "\(frames.count)"])
                frames.clear()
                continue
            }
            let stampBytes = frames.bytes(at: 0)
            let stamp = RequestStamp(arrivalNanos: stampBytes.loadUnaligned(as: UInt64.self),
                                     queuedAhead: stampBytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            let reply = dispatcher.handle(frame: frames.bytes(at: frames.count - 1), stamp: stamp)
            _ = frames.send(to: socket, range: 1..<(frames.count - 1), moreAfter: true)
            _ = reply.withUnsafeBytes { socket.send($0) }
        }
    }

    // MARK: - Proxy

    private func proxy(frontend: ZMQSocket, backend: ZMQSocket, control: ZMQSocket, onStopping: () -> Void) {
        var items = [
            zmq_pollitem_t(socket: frontend.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
            zmq_pollitem_t(socket: backend.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
            zmq_pollitem_t(socket: control.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
        ]
        let frames = FrameList()
        var inFlight: UInt64 = 0
        var stopDeadline: UInt64? = nil
        // Batches bound the time one busy side can keep the other waiting.
        let batch = 64

        while true {
            var timeout: Int = -1
            if let deadline = stopDeadline {
                let now = DispatchTime.now().uptimeNanoseconds
                if inFlight == 0 { break }
                if now >= deadline {
                    logger.warning("shutdown grace period over with requests still in flight", metadata: ["in_flight": "\(inFlight)"])
                    break
                }
                timeout = Int((deadline - now) / 1_000_000) + 1
            }
            if zmq_poll(&items, 3, timeout) < 0 {
                if zmq_errno() == EINTR { continue }
                logger.error("poll failed: \(String(cString: zmq_strerror(zmq_errno())))")
                break
            }
            if items[1].revents & Int16(ZMQ_POLLIN) != 0 {
                for _ in 0..<batch {
                    guard frames.receive(from: backend, flags: ZMQ_DONTWAIT) else { break }
                    _ = frames.send(to: frontend)
                    inFlight -= 1
                }
            }
            if items[0].revents & Int16(ZMQ_POLLIN) != 0 {
                for _ in 0..<batch {
                    guard frames.receive(from: frontend, flags: ZMQ_DONTWAIT) else { break }
                    var stamp = (DispatchTime.now().uptimeNanoseconds, inFlight)
                    withUnsafeBytes(of: &stamp) { frames.prepend($0) }
                    if frames.send(to: backend) { inFlight += 1 }
                }
            }
            if items[2].revents & Int16(ZMQ_POLLIN) != 0 {
                frames.receive(from: control) ? frames.clear() : ()
                if stopDeadline == nil {
                    logger.info("stopping: no new requests; finishing those in flight", metadata: ["in_flight": "\(inFlight)"])
                    onStopping()
                    items[0].events = 0  // the front door closes; replies still go out
                    stopDeadline = DispatchTime.now().uptimeNanoseconds + UInt64(state.config.limits.shutdownGraceMs) * 1_000_000
                }
            }
        }
    }
}
