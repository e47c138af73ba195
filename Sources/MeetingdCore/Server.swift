// The zguide's load-balancing broker: a ROUTER socket on every configured
// endpoint, an inproc ROUTER to the workers, and one thread per worker, each with
// its own DEALER socket and module instances. A request goes to a worker that is
// free (its last reply said so), so a fast request never waits behind a slow one
// on a busy worker, as it would with a round-robin DEALER. The broker loop is
// ours rather than zmq_proxy so that a stop can close the front door while
// replies still flow back, the queue length is known (and capped), and each
// request is stamped with its arrival time for the deadline check.
//
// A reload builds a new ServerState on the calling thread, then raises a
// generation number that each worker checks between two requests and adopts:
// nothing queued or in flight is dropped, and a config that fails is refused
// before any worker moves.

import CZeroMQ
import DequeModule
import Foundation
import Logging
import MeetingdClient
import MeetingKit
import Synchronization

public struct ServerError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What the host does that the server core does not know how to: read the config
/// again, and bring the corpus up to date (ingest) before serving it.
public struct ServerHooks: Sendable {
    public var loadConfig: @Sendable () throws -> MeetingdConfig
    public var prepareCorpus: @Sendable (MeetingdConfig) throws -> Void

    public init(loadConfig: @escaping @Sendable () throws -> MeetingdConfig,
                prepareCorpus: @escaping @Sendable (MeetingdConfig) throws -> Void) {
        self.loadConfig = loadConfig
        self.prepareCorpus = prepareCorpus
    }
}

public final class Server: @unchecked Sendable {
    static let backendAddress = "inproc://meetingd-workers"
    static let controlAddress = "inproc://meetingd-control"
    static let frontendMonitorAddress = "inproc://meetingd-frontend-monitor"
    /// After the shutdown grace, how long workers get to close their modules before
    /// the process exits without them.
    static let closeMarginMs = 2000
    /// What a worker sends when it starts: "ready for a request".
    static let readySignal: [UInt8] = [0x52]

    private let runtime: ServerRuntime
    private let current: Mutex<ServerState>
    private let hooks: ServerHooks
    private let logger: Logger
    private let notifier = SystemdNotifier()
    private let context: UnsafeMutableRawPointer
    private let workersDone = DispatchGroup()
    /// Where `requestStop` sends; nil before `run` connects it, when a stop is kept as pending.
    private let control = Mutex<(socket: ZMQSocket?, stopPending: Bool)>((nil, false))
    /// The generation workers should serve; each moves to it between requests.
    private let targetGeneration = Atomic<Int>(0)
    private let proxyBeat = Atomic<UInt64>(0)
    private let stopping = Atomic<Bool>(false)
    /// The change log's publisher, when `events.endpoints` names any; kept across reloads.
    private let eventStream = Mutex<EventStream?>(nil)
    /// Set when the frontend takes CURVE clients only; a reload gives it a new allow-list.
    private let zapHandler = Mutex<ZAPHandler?>(nil)
    /// Asks idle workers to give memory back after large requests.
    private let memory = MemoryTrim()

    /// `metrics` may have counted what happened before the server (the ingest at start).
    public init(config: MeetingdConfig, modules: [LoadedModule], hooks: ServerHooks, logger: Logger,
                metrics: ServerMetrics) {
        runtime = ServerRuntime(workers: config.workers, stateDirectory: config.stateDirectory, metrics: metrics)
        current = Mutex(ServerState(config: config, modules: modules, runtime: runtime, generation: 0))
        self.hooks = hooks
        self.logger = logger
        context = zmq_ctx_new()
    }

    public var state: ServerState { current.withLock { $0 } }

    /// Asks a running server to stop: no new requests, finish those in flight. Any thread.
    public func requestStop() {
        control.withLock { control in
            if let socket = control.socket { _ = socket.send("STOP") } else { control.stopPending = true }
        }
    }

    /// Binds, starts the workers (each opens its module instances), tells systemd it
    /// is ready, and serves until `requestStop`. Throws if anything fails before ready.
    public func run() throws {
        let config = state.config
        MemoryTrim.mapLargeBlocksAlone()
        let frontend = try ZMQSocket(context: context, type: ZMQ_ROUTER)
        let backend = try ZMQSocket(context: context, type: ZMQ_ROUTER)
        let controlServer = try ZMQSocket(context: context, type: ZMQ_PAIR)
        let frontendMonitor = try ZMQSocket(context: context, type: ZMQ_PAIR)
        // A worker stuck in a module keeps its socket open, and zmq_ctx_term would wait for it forever.
        var workersStuck = false
        defer {
            frontend.close()
            backend.close()
            controlServer.close()
            frontendMonitor.close()
            if !workersStuck { zmq_ctx_term(context) }
        }
        try frontend.setInt64(ZMQ_MAXMSGSIZE, Int64(config.limits.maxMessageBytes))
        try frontend.setInt(ZMQ_SNDHWM, Int32(config.limits.maxUnreadReplies))
        let descriptors = Connections.raiseDescriptorLimit(maxConnections: config.limits.maxConnections, workers: config.workers)
        if descriptors.limit < descriptors.wanted {
            logger.warning("the open file limit (\(descriptors.limit)) is below what limits.max_connections needs (\(descriptors.wanted)); raise LimitNOFILE= or the hard limit")
        }
        guard zmq_socket_monitor(frontend.handle, Self.frontendMonitorAddress, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) == 0 else {
            throw ZMQError.last("zmq_socket_monitor")
        }
        try frontendMonitor.connect(Self.frontendMonitorAddress)
        var frontendReader = try SignalledSocket(frontend)
        var backendReader = try SignalledSocket(backend)
        var controlReader = try SignalledSocket(controlServer)
        var monitorReader = try SignalledSocket(frontendMonitor)
        let curveSecretKey = try config.security.curve.map { curve in try requireCurve(curve, on: frontend) }
        let activated = SocketActivation.listeningSockets()
        for endpoint in config.endpoints {
            do {
                // A socket systemd already listens on is adopted rather than bound anew.
                if let fd = activated[endpoint] { try frontend.setInt(ZMQ_USE_FD, fd) }
                try frontend.bind(endpoint)
            } catch {
                throw ServerError("cannot listen on \(endpoint): \(String(cString: zmq_strerror(error.code)))")
            }
        }
        try backend.bind(Self.backendAddress)
        try controlServer.bind(Self.controlAddress)
        let controlClient = try ZMQSocket(context: context, type: ZMQ_PAIR)
        try controlClient.connect(Self.controlAddress)
        // A stop asked for before serving starts waits in the control socket, one asked for before
        // there was a socket too.
        control.withLock { control in
            control.socket = controlClient
            if control.stopPending { _ = controlClient.send("STOP") }
        }
        defer { control.withLock { $0.socket?.close(); $0.socket = nil } }

        try startWorkers()
        let events: EventStream?
        let metricsListener: MetricsListener?
        do {
            metricsListener = try config.metrics.listen.map { address in
                try MetricsListener(address: address, exposition: { [unowned self] format in runtime.metrics.exposition(state: state, format: format) },
                                    logger: logger)
            }
            events = config.eventEndpoints.isEmpty ? nil : try EventStream(
                context: context, endpoints: config.eventEndpoints, corpusPath: config.corpusPath,
                pollMs: config.eventPollMs, curveSecretKey: curveSecretKey, state: { [unowned self] in state }, logger: logger)
        } catch {
            stopping.store(true, ordering: .relaxed)
            zmq_ctx_shutdown(context)
            workersDone.wait()
            throw error
        }
        eventStream.withLock { $0 = events }
        events?.start()
        logger.info("serving", metadata: [
            "endpoints": "\(config.endpoints.joined(separator: ","))", "workers": "\(config.workers)",
            "modules": "\(state.modules.map(\.name).joined(separator: ","))",
            "socket_activated": "\(activated.count)",
        ])
        noteImmutableCorpus(state)
        startMonitor()
        notifier.notify("READY=1\nSTATUS=\(statusLine())\nMAINPID=\(getpid())")
        proxy(frontend: &frontendReader, backend: &backendReader, control: &controlReader, monitor: &monitorReader)
        metricsListener?.stop()

        // Idle workers are blocked in a receive: ending the context wakes them with ETERM.
        stopping.store(true, ordering: .relaxed)
        zmq_ctx_shutdown(context)
        // The proxy loop already gave requests in flight the grace period.
        if workersDone.wait(timeout: .now() + .milliseconds(Self.closeMarginMs)) == .timedOut {
            workersStuck = true
            let methods = logStuckWorkers()
            throw ServerError("workers did not finish within the shutdown grace period (stuck in \(methods.joined(separator: ", "))); exiting without them")
        }
        events?.wait()
        logger.info("stopped")
    }

    /// Makes the frontend a CURVE server whose clients the ZAP handler checks
    /// against the allow-list. The handler is bound before any endpoint is, so no
    /// client gets in unasked.
    /// Returns the server's secret key, for the event stream's socket too.
    private func requireCurve(_ curve: SecurityConfig.Curve, on frontend: ZMQSocket) throws -> String {
        guard CurveKeys.isSupported else {
            throw ServerError("security.curve is set, but this libzmq was built without CURVE (zmq_has(\"curve\") is false)")
        }
        let secretKey = try CurveKeys.read(curve.secretKeyFile, secret: true)
        let allowed = try CurveKeys.authorizedKeys(in: curve.authorizedKeysDir)
        let handler = try ZAPHandler(context: context, allowed: allowed, logger: logger)
        handler.start()
        zapHandler.withLock { $0 = handler }
        try frontend.setInt(ZMQ_CURVE_SERVER, 1)
        try frontend.setString(ZMQ_CURVE_SECRETKEY, secretKey)
        try frontend.setString(ZMQ_ZAP_DOMAIN, ZAPHandler.domain)
        let publicKey = try CurveKeys.publicKey(ofSecret: secretKey)
        logger.info("CURVE on: only authorized keys get in", metadata: [
            "public_key": "\(publicKey)", "authorized_keys": "\(allowed.count)",
        ])
        return secretKey
    }

    // MARK: - Reload

    /// Re-reads the config, brings the corpus up to date, loads what modules it now
    /// names, and moves every worker to the new state between requests. A config
    /// that fails anywhere is refused and the old one stays. Call from one thread.
    public func reload() {
        notifier.reloading()
        logger.info("reloading")
        let old = state
        var restartNeeded: [String] = []
        do {
            let config = try hooks.loadConfig()
            if config.endpoints != old.config.endpoints {
                restartNeeded.append("endpoints changed to \(config.endpoints.joined(separator: ", "))")
            }
            if config.workers != old.config.workers {
                restartNeeded.append("workers changed to \(config.workers)")
            }
            if config.stateDirectory != old.config.stateDirectory {
                restartNeeded.append("state_dir changed to \(config.stateDirectory)")
            }
            if config.limits.maxConnections != old.config.limits.maxConnections
                || config.limits.maxUnreadReplies != old.config.limits.maxUnreadReplies {
                restartNeeded.append("limits.max_connections or limits.max_unread_replies changed")
            }
            if config.eventEndpoints != old.config.eventEndpoints || config.eventPollMs != old.config.eventPollMs {
                restartNeeded.append("events.endpoints or events.poll_ms changed")
            }
            if config.metrics != old.config.metrics {
                restartNeeded.append("metrics.listen changed to \(config.metrics.listen.map(\.description) ?? "none")")
            }
            let security = try reloadedSecurity(config.security, old: old.config.security, restartNeeded: &restartNeeded)
            try hooks.prepareCorpus(config)
            let modules = try ModuleLoader.loadAll(config, reserved: BuiltinMethods.names, loaded: old.modules,
                                                   restartNeeded: &restartNeeded)
            // Every module must open with its new settings before any worker moves.
            for module in modules { try module.open(corpusPath: config.corpusPath).close() }
            // Endpoints and workers stay as they are until a restart.
            var applied = config
            applied.endpoints = old.config.endpoints
            applied.workers = old.config.workers
            applied.metrics = old.config.metrics
            applied.security = old.config.security
            if let directory = config.security.curve?.authorizedKeysDir, old.config.security.curve != nil {
                applied.security.curve?.authorizedKeysDir = directory
            }
            let next = ServerState(config: applied, modules: modules, runtime: runtime, generation: old.generation + 1)
            current.withLock { $0 = next }
            moveWorkers()
            if config.logLevel != old.config.logLevel || config.logFormat != old.config.logFormat {
                LogSettings.apply(level: Logger.Level(rawValue: config.logLevel) ?? .info, format: config.logFormat)
                logger.notice("logging changed", metadata: ["log_level": "\(config.logLevel)", "log_format": "\(config.logFormat.rawValue)"])
            }
            if let (handler, allowed) = security {
                handler.replace(allowed: allowed)
                logger.info("reloaded the authorized keys", metadata: ["authorized_keys": "\(allowed.count)"])
            }
            runtime.reload.withLock { record in
                record.attempts += 1
                record.lastAt = Date()
                record.lastError = nil
                record.restartNeeded = restartNeeded
            }
            runtime.metrics.reloaded(applied: true)
            logger.info("reloaded", metadata: ["modules": "\(modules.map(\.name).joined(separator: ","))"])
            noteImmutableCorpus(next)
            eventStream.withLock { $0?.reloaded(generation: next.generation) }
            for note in restartNeeded { logger.warning("restart needed: \(note)") }
        } catch {
            runtime.reload.withLock { record in
                record.attempts += 1
                record.lastAt = Date()
                record.lastError = "\(error)"
            }
            runtime.metrics.reloaded(applied: false)
            logger.error("reload refused, still serving the previous configuration: \(error)")
        }
        notifier.notify("READY=1\nSTATUS=\(statusLine())")
    }

    /// A corpus this process cannot share the WAL of is served as immutable: say so,
    /// as changes to it are not seen until the next reload.
    private func noteImmutableCorpus(_ state: ServerState) {
        guard state.corpus?.isImmutable == true else { return }
        logger.notice("serving the corpus read-only as immutable: \(state.config.corpusPath)-shm can be neither written nor created; changes to the corpus are seen after a reload")
    }

    /// The new allow-list for a CURVE frontend, read (and so checked) before the
    /// reload takes effect. Turning CURVE on or off, or another server key, waits
    /// for a restart: the frontend is set up once.
    private func reloadedSecurity(_ security: SecurityConfig, old: SecurityConfig,
                                  restartNeeded: inout [String]) throws -> (ZAPHandler, [[UInt8]: String])? {
        if security.curve?.secretKeyFile != old.curve?.secretKeyFile {
            restartNeeded.append("security.curve changed (CURVE on or off, or another server key)")
        }
        guard let curve = security.curve, let handler = zapHandler.withLock({ $0 }) else { return nil }
        return (handler, try CurveKeys.authorizedKeys(in: curve.authorizedKeysDir))
    }

    /// Tells every worker to swap to the current state and waits until all have.
    private func moveWorkers() {
        let target = state.generation
        targetGeneration.store(target, ordering: .releasing)
        // A worker busy with a long request swaps when it is done; do not wait forever.
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(state.config.limits.requestDeadlineMs) * 1_000_000
        while runtime.workerHealth.contains(where: { $0.generation.load(ordering: .relaxed) < target }) {
            if DispatchTime.now().uptimeNanoseconds > deadline {
                logger.warning("reload: some workers are still finishing a request; they swap when done")
                return
            }
            usleep(1000)
        }
    }

    // MARK: - Workers

    private func startWorkers() throws {
        let failures = Mutex<[String]>([])
        let opened = DispatchGroup()
        let initial = state
        for index in 0..<initial.config.workers {
            opened.enter()
            workersDone.enter()
            let thread = Thread { [self] in
                defer { workersDone.leave() }
                let instances: [ModuleInstance]
                do {
                    instances = try openInstances(initial)
                } catch {
                    failures.withLock { $0.append("\(error)") }
                    opened.leave()
                    return
                }
                opened.leave()
                serve(worker: index, state: initial, instances: instances)
            }
            thread.name = "meetingd-worker-\(index)"
            thread.stackSize = 8 << 20
            thread.start()
        }
        opened.wait()
        if let first = failures.withLock({ $0.first }) {
            zmq_ctx_shutdown(context)
            workersDone.wait()
            throw ServerError(first)
        }
    }

    private func openInstances(_ state: ServerState) throws(ModuleLoadError) -> [ModuleInstance] {
        var instances: [ModuleInstance] = []
        do {
            for module in state.modules { instances.append(try module.open(corpusPath: state.config.corpusPath)) }
        } catch {
            instances.forEach { $0.close() }
            throw error
        }
        return instances
    }

    /// A worker's routing id at the broker: "w" and its index, so the broker can
    /// keep free workers as numbers.
    static func workerID(_ index: Int) -> [UInt8] { [0x77, UInt8(index >> 8), UInt8(index & 0xFF)] }

    /// How long an idle worker waits for a request before it checks for a reload.
    static let idleCheckMs: Int32 = 100

    private func serve(worker index: Int, state initial: ServerState, instances: [ModuleInstance]) {
        let workerLogger = Logger(label: "meetingd.worker\(index)")
        let health = runtime.workerHealth[index]
        var dispatcher = Dispatcher(state: initial, stats: runtime.workerStats[index], health: health, instances: instances, logger: workerLogger)
        defer { dispatcher.closeInstances() }
        var routingID = Self.workerID(index)
        guard let socket = try? ZMQSocket(context: context, type: ZMQ_DEALER),
              (try? socket.setInt(ZMQ_RCVTIMEO, Self.idleCheckMs)) != nil,
              zmq_setsockopt(socket.handle, ZMQ_ROUTING_ID, &routingID, routingID.count) == 0,
              (try? socket.connect(Self.backendAddress)) != nil else {
            workerLogger.error("worker \(index) cannot connect to the broker")
            return
        }
        defer { socket.close() }
        var served = initial.generation
        _ = Self.readySignal.withUnsafeBytes { socket.send($0) }
        let frames = FrameList()
        while true {
            if targetGeneration.load(ordering: .acquiring) != served {
                let next = state
                do {
                    let fresh = try openInstances(next)
                    dispatcher.closeInstances()
                    dispatcher = Dispatcher(state: next, stats: runtime.workerStats[index], health: health, instances: fresh, logger: workerLogger)
                } catch {
                    workerLogger.error("reload: keeping the previous modules: \(error)")
                }
                served = next.generation
                health.generation.store(served, ordering: .relaxed)
            }
            guard frames.receive(from: socket) else {
                let error = zmq_errno()
                if error == EAGAIN {
                    // Idle for a moment: give back what a burst of large requests took.
                    memory.noteHeld(bytes: dispatcher.releaseLargeBuffers())
                    memory.trimIfPending()
                    continue
                }
                if error == EINTR { continue }
                break  // ETERM: the server is stopping
            }
            // [stamp, routing envelope..., request body]
            guard frames.count >= 3, let stamp = RequestStamp(frame: frames.bytes(at: 0)) else {
                workerLogger.warning("dropped a message of unexpected shape", metadata: ["frames": "\(frames.count)"])
                frames.clear()
                _ = Self.readySignal.withUnsafeBytes { socket.send($0) }
                continue
            }
            health.requestID.store(stamp.requestID, ordering: .relaxed)
            health.busySince.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
            let reply = dispatcher.handle(frame: frames.bytes(at: frames.count - 1), stamp: stamp)
            health.busySince.store(0, ordering: .relaxed)
            memory.noteHeld(bytes: frames.size(at: frames.count - 1) + reply.count)
            // The reply also tells the broker this worker is free again.
            _ = frames.send(to: socket, range: 1..<(frames.count - 1), moreAfter: true)
            _ = reply.withUnsafeBytes { socket.send($0) }
        }
    }

    // MARK: - Health and status for systemd

    /// Pets the watchdog only while the proxy loop turns and no worker is stuck in
    /// one request for longer than the watchdog timeout, and keeps STATUS= current.
    private func startMonitor() {
        guard notifier.isActive else { return }
        let interval = min(notifier.watchdogInterval ?? 2_000_000_000, 2_000_000_000)
        let thread = Thread { [self] in
            var lastRequests = totalRequests()
            var lastTime = DispatchTime.now().uptimeNanoseconds
            while !stopping.load(ordering: .relaxed) {
                usleep(UInt32(interval / 1000))
                let now = DispatchTime.now().uptimeNanoseconds
                let requests = totalRequests()
                let rate = Double(requests - lastRequests) / (Double(now - lastTime) / 1e9)
                lastRequests = requests
                lastTime = now
                var message = "STATUS=\(statusLine(rate: rate))"
                if let timeout = notifier.watchdogTimeout, healthy(now: now, timeout: timeout) {
                    message += "\nWATCHDOG=1"
                }
                notifier.notify(message)
            }
        }
        thread.name = "meetingd-monitor"
        thread.start()
    }

    private func healthy(now: UInt64, timeout: UInt64) -> Bool {
        // Stamps are written by other threads and may be newer than `now`: that is 0 ms.
        func age(_ stamp: UInt64) -> UInt64 { now > stamp ? now - stamp : 0 }
        let proxyIdle = age(proxyBeat.load(ordering: .relaxed))
        guard proxyIdle < timeout else {
            logger.error("watchdog: the proxy loop has not turned for \(proxyIdle / 1_000_000) ms")
            return false
        }
        for (index, health) in runtime.workerHealth.enumerated() {
            let since = health.busySince.load(ordering: .relaxed)
            let busyFor = since == 0 ? 0 : age(since)
            if busyFor > timeout {
                logger.error("watchdog: worker \(index) has been on one request for \(busyFor / 1_000_000) ms",
                             metadata: ["request_id": "\(health.requestID.load(ordering: .relaxed))"])
                return false
            }
        }
        return true
    }

    /// Logs each worker still on a request, and returns the methods they are in.
    private func logStuckWorkers() -> [String] {
        let now = DispatchTime.now().uptimeNanoseconds
        var methods: [String] = []
        for (index, health) in runtime.workerHealth.enumerated() {
            let since = health.busySince.load(ordering: .relaxed)
            guard since != 0 else { continue }
            let method = health.moduleMethod.withLock { $0 } ?? "a built-in method"
            methods.append(method)
            logger.error("worker \(index) is stuck in \(method)", metadata: [
                "method": "\(method)", "busy_ms": "\(now > since ? (now - since) / 1_000_000 : 0)",
                "request_id": "\(health.requestID.load(ordering: .relaxed))",
            ])
        }
        return methods
    }

    private func totalRequests() -> UInt64 {
        runtime.workerStats.reduce(0) { sum, worker in sum + worker.snapshot().values.reduce(0) { $0 + $1.requests } }
    }

    private func statusLine(rate: Double = 0) -> String {
        let current = state
        let meetings = (try? current.corpus?.reader.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM meeting") }) ?? nil
        var line = "serving \(meetings.map(String.init) ?? "?") meetings, \(String(format: "%.1f", rate)) req/s, modules: "
            + current.modules.map(\.name).joined(separator: ",")
        let record = runtime.reload.withLock { $0 }
        if let error = record.lastError { line += "; last reload refused: \(error)" }
        if !record.restartNeeded.isEmpty { line += "; restart needed: \(record.restartNeeded.joined(separator: "; "))" }
        return line.replacingOccurrences(of: "\n", with: " ")
    }

    // MARK: - Broker

    /// What is wrong with a request message as the proxy received it, [peer id,
    /// envelope..., body], or nil when it is within `limits`. Sizes are read from the
    /// frames, never their bytes, so the check costs the same for every message.
    static func oversize(_ message: FrameList, _ limits: Limits) -> String? {
        let envelopeFrames = message.count - 2
        if envelopeFrames > limits.maxEnvelopeFrames {
            return "\(envelopeFrames) envelope frames, over limits.max_envelope_frames (\(limits.maxEnvelopeFrames))"
        }
        var total = 0
        for index in 0..<message.count {
            let size = message.size(at: index)
            if index < message.count - 1 && size > Limits.envelopeFrameBytes {
                return "an envelope frame of \(size) bytes, over \(Limits.envelopeFrameBytes)"
            }
            total += size
        }
        if total > limits.maxMessageBytes {
            return "\(total) bytes in all, over limits.max_message_bytes (\(limits.maxMessageBytes))"
        }
        return nil
    }

    /// Counts dropped messages and says when to log them: at most every 10 s, so a
    /// flood of bad messages cannot flood the journal too.
    struct DropCounter {
        private var count = 0
        private var loggedAt: UInt64 = 0

        mutating func count(now: UInt64) -> Int? {
            count += 1
            guard loggedAt == 0 || now &- loggedAt >= 10_000_000_000 else { return nil }
            defer { count = 0; loggedAt = now }
            return count
        }
    }

    /// All four sockets are polled by their descriptors, with poll(2) itself: zmq_poll checks
    /// each ZMQ socket's events before and after it polls (a poll and a getpid each), and
    /// polls once without waiting before it waits, which was most of the broker's system
    /// calls per request.
    private func proxy(frontend: inout SignalledSocket, backend: inout SignalledSocket,
                       control: inout SignalledSocket, monitor: inout SignalledSocket) {
        var descriptors = [frontend, backend, control, monitor].map(\.pollDescriptor)
        // Closed by a stop; replies still go out through it.
        var frontDoorOpen = true
        var limits = state.config.limits
        var limitsGeneration = state.generation
        let incoming = FrameList()
        var spare: [FrameList] = []       // recycled, so queueing allocates nothing in the steady state
        var queued = Deque<FrameList>()   // requests waiting for a free worker
        var freeWorkers = Deque<Int>()    // workers ready for a request
        let workerIDs = (0..<state.config.workers).map(Self.workerID)
        var busyWorkers = 0
        var stopDeadline: UInt64? = nil
        var dropped = DropCounter()
        var connections = ConnectionGate(limit: limits.maxConnections)
        var evictions = DropCounter()
        // Each request's number, for the log lines about it; 0 means none.
        var lastRequestID: UInt64 = 0
        let metrics = runtime.metrics
        let overloadedErrors = metrics.errors(code: ErrorCode.overloaded)
        // Stored for a scrape to read: two relaxed stores a turn, no lock.
        func publishLoad() {
            metrics.brokerQueued.store(queued.count, ordering: .relaxed)
            metrics.brokerBusy.store(busyWorkers, ordering: .relaxed)
        }
        // Batches bound the time one busy side can keep the other waiting.
        let batch = 64
        // Idle, the loop still turns this often, so the watchdog knows it is alive.
        let beatMs = notifier.watchdogInterval.map { Int($0 / 4_000_000) } ?? -1

        func dispatchQueued() {
            while let worker = freeWorkers.first, let request = queued.first {
                freeWorkers.removeFirst()
                queued.removeFirst()
                workerIDs[worker].withUnsafeBytes { request.prepend($0) }
                _ = backend.send(request)
                busyWorkers += 1
                spare.append(request)
            }
        }

        func readWorkers() {
            for _ in 0..<batch {
                // [worker id, "R"] when a worker starts; [worker id, envelope..., reply] after a request.
                guard backend.receive(into: incoming) else { break }
                let id = incoming.bytes(at: 0)
                guard id.count == 3 else { incoming.clear(); continue }
                freeWorkers.append(Int(id[1]) << 8 | Int(id[2]))
                if incoming.count == 2 && incoming.bytes(at: 1).elementsEqual(Self.readySignal) {
                    incoming.clear()
                } else {
                    busyWorkers -= 1
                    _ = frontend.send(incoming, range: 1..<incoming.count)
                }
            }
            dispatchQueued()
            publishLoad()
        }

        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            proxyBeat.store(now, ordering: .relaxed)
            let generation = targetGeneration.load(ordering: .acquiring)
            if generation != limitsGeneration {
                // A reload: its message and queue limits apply from the next message on.
                limits = state.config.limits
                limitsGeneration = generation
                // libzmq's own frame limit applies to connections made from now on;
                // `oversize` checks every message against the new limits.
                _ = try? frontend.socket.setInt64(ZMQ_MAXMSGSIZE, Int64(limits.maxMessageBytes))
            }
            // The first turn reads all four (a stop may have been asked for before the loop).
            let mayHoldUnread = (frontDoorOpen && frontend.mayHoldUnread) || backend.mayHoldUnread
                || control.mayHoldUnread || monitor.mayHoldUnread
            var timeout = mayHoldUnread ? 0 : beatMs
            if let deadline = stopDeadline {
                if busyWorkers == 0 && queued.isEmpty { break }
                if now >= deadline {
                    logger.warning("shutdown grace period over with requests still in flight",
                                   metadata: ["in_flight": "\(busyWorkers + queued.count)"])
                    break
                }
                timeout = mayHoldUnread ? 0 : Int((deadline - now) / 1_000_000) + 1
            }
            if poll(&descriptors, nfds_t(descriptors.count), Int32(clamping: timeout)) < 0 {
                if errno == EINTR { continue }
                logger.error("poll failed: \(String(cString: strerror(errno)))")
                break
            }
            backend.polled(signalled: descriptors[1].revents & Int16(POLLIN) != 0)
            if backend.mayHoldUnread { readWorkers() }
            frontend.polled(signalled: descriptors[0].revents & Int16(POLLIN) != 0)
            if frontDoorOpen && frontend.mayHoldUnread {
                for _ in 0..<batch {
                    let request = spare.popLast() ?? FrameList()
                    guard frontend.receive(into: request) else {
                        spare.append(request)
                        break
                    }
                    if let problem = Self.oversize(request, limits) {
                        // Dropped unanswered: a reply would carry the oversized envelope back.
                        memory.noteHeld(bytes: MemoryTrim.largeBytes)
                        request.clear()
                        spare.append(request)
                        if let count = dropped.count(now: now) {
                            logger.warning("dropped requests over the message limits", metadata: ["count": "\(count)", "last": "\(problem)"])
                        }
                        continue
                    }
                    if queued.count >= limits.maxQueued {
                        // Full: answer at once rather than let the queue grow without bound.
                        let reply = Dispatcher.overloadedReply(to: request.bytes(at: request.count - 1),
                                                               queued: queued.count, limit: limits.maxQueued)
                        _ = frontend.send(request, range: 0..<(request.count - 1), moreAfter: true)
                        _ = reply.withUnsafeBytes { frontend.send($0) }
                        spare.append(request)
                        overloadedErrors.increment()
                        continue
                    }
                    lastRequestID += 1
                    RequestStamp(arrivalNanos: DispatchTime.now().uptimeNanoseconds, requestID: lastRequestID)
                        .withFrame { request.prepend($0) }
                    queued.append(request)
                }
                dispatchQueued()
                publishLoad()
            }
            // Requests just sent to workers leave the backend to be read again: read now, the next poll may wait.
            if backend.mayHoldUnread { readWorkers() }
            monitor.read(signalled: descriptors[3].revents & Int16(POLLIN) != 0, into: incoming, batch: batch) { event in
                guard let (event, fd) = Connections.monitorEvent(event) else { return }
                if event == ZMQ_EVENT_DISCONNECTED {
                    connections.disconnected(fd)
                    return
                }
                for oldest in connections.accepted(fd) {
                    Connections.shutDown(oldest)
                    if let count = evictions.count(now: now) {
                        logger.warning("closed the oldest connections: limits.max_connections reached",
                                       metadata: ["count": "\(count)", "limit": "\(limits.maxConnections)"])
                    }
                }
            }
            // The descriptor also signals other commands: only a message asks for the stop.
            let stopAsked = control.read(signalled: descriptors[2].revents & Int16(POLLIN) != 0, into: incoming) { _ in } > 0
            if stopAsked {
                if stopDeadline == nil {
                    logger.info("stopping: no new requests; finishing those in flight",
                                metadata: ["in_flight": "\(busyWorkers + queued.count)"])
                    notifier.notify("STOPPING=1")
                    // The front door closes; replies still go out.
                    descriptors[0].events = 0
                    frontDoorOpen = false
                    stopDeadline = DispatchTime.now().uptimeNanoseconds + UInt64(limits.shutdownGraceMs) * 1_000_000
                }
            }
        }
    }
}
