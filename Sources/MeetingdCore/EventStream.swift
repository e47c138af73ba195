// The event stream: the corpus's change log published on an XPUB socket as multipart
// messages [topic, JSON body]. Ingest is another process; the stream notices its commits
// by reading the log's last sequence number when ingest nudges it (`CommitNudge`) and on
// a short timer (one indexed lookup), and publishes every event after the last one it sent. PUB drops messages for slow or late
// subscribers by design; `events.since` gives them back (the zguide's Clone pattern).
// A second thread runs every saved alert against the meetings added or updated
// (search.query restricted to each), so that slow alerts never hold up the events, and
// hands the hits to this one over inproc to publish on `alert.<name>`. As a percolator,
// it searches a meeting only with the alerts whose prefilter its terms pass.

import CMeetingdModule
import CZeroMQ
import Foundation
import Logging
import MeetingKit
import Synchronization

final class EventStream: @unchecked Sendable {
    private let context: UnsafeMutableRawPointer
    private let endpoints: [String]
    private let corpusPath: String
    private let pollMs: Int32
    private let logger: Logger
    private let done = DispatchGroup()
    /// Reloads not yet announced: the stream thread publishes `daemon.reloaded` for each.
    private let pendingReloads = Mutex<[Int]>([])
    private let socket: ZMQSocket
    /// Where ingest's nudges arrive; nil when it cannot be bound (the timer still serves).
    private let nudges: ZMQSocket?
    /// The serving state, for the search module alerts run through (it changes on reload).
    private let currentState: @Sendable () -> ServerState
    /// Where the alert thread's messages arrive, to be published.
    private let alertMessages: ZMQSocket
    static let alertAddress = "inproc://meetingd-alerts"
    /// Meetings added or updated that the alert thread has yet to search; nil once stopping.
    private let alertBacklog = Mutex<[ChangeLog.Event]?>([])
    private let alertWork = DispatchSemaphore(value: 0)
    /// The alert thread's own search instance, and the state generation it was opened for.
    private var search: (instance: ModuleInstance, generation: Int)?
    /// The alert thread's own: the corpus it reads meetings' terms from, its analyzer, and
    /// each alert's prefilter by query (made when an alert is first seen).
    private var alertCorpus: Corpus?
    /// The process's index of that corpus, for the terms an alert's prefix covers.
    private lazy var alertIndex = CorpusIndex.shared(corpusPath: corpusPath)
    private let analyzer = Analyzer()
    private var prefilters: [String: QueryPrefilter] = [:]
    private var reply = meetingd_reply()
    private var paramsText: [UInt8] = []
    /// Hits an alert publishes per meeting.
    static let alertHits = 20

    /// Binds the XPUB socket now, so a bad endpoint fails the start. With `curveSecretKey`,
    /// subscribers are CURVE clients checked against the same allow-list as requests.
    init(context: UnsafeMutableRawPointer, endpoints: [String], corpusPath: String, pollMs: Int, curveSecretKey: String?,
         state: @escaping @Sendable () -> ServerState, logger: Logger) throws {
        currentState = state
        self.context = context
        self.endpoints = endpoints
        self.corpusPath = corpusPath
        self.pollMs = Int32(pollMs)
        self.logger = logger
        socket = try ZMQSocket(context: context, type: ZMQ_XPUB)
        // Every subscription message reaches us, so subscribers are counted and logged.
        try socket.setInt(ZMQ_XPUB_VERBOSE, 1)
        if let curveSecretKey {
            try socket.setInt(ZMQ_CURVE_SERVER, 1)
            try socket.setString(ZMQ_CURVE_SECRETKEY, curveSecretKey)
            try socket.setString(ZMQ_ZAP_DOMAIN, ZAPHandler.domain)
        }
        for endpoint in endpoints {
            do {
                try socket.bind(endpoint)
            } catch {
                socket.close()
                throw ServerError("cannot publish events on \(endpoint): \(String(cString: zmq_strerror(error.code)))")
            }
        }
        // An open socket would keep the context's end waiting forever: none is left open on a throw.
        let alertMessages: ZMQSocket
        do { alertMessages = try ZMQSocket(context: context, type: ZMQ_PULL) } catch { socket.close(); throw error }
        do { try alertMessages.bind(Self.alertAddress) } catch { alertMessages.close(); socket.close(); throw error }
        self.alertMessages = alertMessages
        nudges = CommitNudge.endpoint(corpusPath: corpusPath).flatMap { endpoint in
            do {
                let nudges = try ZMQSocket(context: context, type: ZMQ_PULL)
                do { try nudges.bind(endpoint) } catch { nudges.close(); throw error }
                return nudges
            } catch {
                logger.warning("events: cannot listen for ingest's nudges on \(endpoint) (\(error)); new commits are found every \(pollMs) ms")
                return nil
            }
        }
    }

    func start() {
        done.enter()
        let thread = Thread { [self] in
            defer { done.leave() }
            run()
        }
        thread.name = "meetingd-events"
        thread.start()
        done.enter()
        let alerts = Thread { [self] in
            defer { done.leave() }
            runAlerts()
        }
        alerts.name = "meetingd-alerts"
        alerts.start()
    }

    /// Waits for the thread, which ends when the context is shut down.
    func wait() { done.wait() }

    /// A reload took effect: subscribers are told, with the sequence number they are at.
    func reloaded(generation: Int) {
        pendingReloads.withLock { $0.append(generation) }
    }

    private func run() {
        defer {
            socket.close()
            nudges?.close()
            alertMessages.close()
            alertBacklog.withLock { $0 = nil }
            alertWork.signal()
        }
        var corpus: Corpus?
        var lastSent: Int64?
        var subscribers = 0
        logger.info("publishing events", metadata: ["endpoints": "\(endpoints.joined(separator: ","))"])
        while true {
            var items = [zmq_pollitem_t(socket: socket.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
                         zmq_pollitem_t(socket: alertMessages.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)]
            if let nudges { items.append(zmq_pollitem_t(socket: nudges.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)) }
            if zmq_poll(&items, Int32(items.count), Int(pollMs)) < 0 {
                if zmq_errno() == ETERM { return }
                continue
            }
            if items[0].revents != 0 { readSubscriptions(count: &subscribers) }
            if items[1].revents != 0 { forwardAlerts() }
            if items.count > 2, items[2].revents != 0, let nudges { drain(nudges) }
            if corpus == nil { corpus = try? Corpus.openReadOnly(path: corpusPath) }
            guard let corpus else { continue }
            var published: [ChangeLog.Event] = []
            do {
                try corpus.reader.read { db in
                    let last = try ChangeLog.lastSeq(db)
                    // On start, history is not replayed: a subscriber catches up through events.since.
                    var sent = lastSent ?? last
                    // A reload is announced before what was committed after it, with the number sent before it.
                    for generation in pendingReloads.withLock({ pending in defer { pending = [] }; return pending }) {
                        publish("daemon.reloaded", ["seq": .int(sent), "generation": JSONValue(generation)])
                    }
                    while sent < last {
                        let events = try ChangeLog.events(after: sent, limit: 1000, db)
                        guard !events.isEmpty else { break }
                        for event in events { publish(event.kind.rawValue, event.json) }
                        published += events
                        sent = events.last!.seq
                    }
                    lastSent = sent
                }
            } catch {
                logger.warning("events: cannot read the change log: \(error)")
            }
            let changed = published.filter { $0.kind != .removed }
            if !changed.isEmpty {
                alertBacklog.withLock { $0?.append(contentsOf: changed) }
                alertWork.signal()
            }
        }
    }

    /// The alert thread: searches the backlog's meetings with every alert, until the stream stops.
    private func runAlerts() {
        guard let outbox = try? ZMQSocket(context: context, type: ZMQ_PUSH),
              (try? outbox.setInt(ZMQ_LINGER, 0)) != nil, (try? outbox.connect(Self.alertAddress)) != nil else {
            logger.error("events: the alert thread cannot reach the stream; alerts are off")
            return
        }
        defer {
            outbox.close()
            search?.instance.close()
        }
        while true {
            alertWork.wait()
            guard let events = alertBacklog.withLock({ backlog -> [ChangeLog.Event]? in
                defer { if backlog != nil { backlog = [] } }
                return backlog
            }) else { return }
            if !events.isEmpty { runAlerts(on: events, outbox: outbox) }
        }
    }

    /// Sends each alert's hits in each meeting to the stream, with the change's `seq`.
    private func runAlerts(on events: [ChangeLog.Event], outbox: ZMQSocket) {
        let state = currentState()
        let alerts: [Alert]
        do {
            alerts = try state.runtime.alerts.list()
        } catch {
            logger.warning("events: cannot read the alerts: \(error)")
            return
        }
        guard !alerts.isEmpty, let instance = searchInstance(state) else { return }
        prefilters = Dictionary(alerts.map { alert in (alert.q, prefilters[alert.q] ?? QueryPrefilter(query: alert.q, analyzer: analyzer)) },
                                uniquingKeysWith: { first, _ in first })
        // What each prefix covers in the index as it is now, read once for the batch: it holds
        // every meeting of the batch (or, past a later change, what search will read too).
        let index = indexNow()
        var coveredByPrefix: [String: Set<String>] = [:]
        func covered(_ prefix: String) -> Set<String> {
            if let known = coveredByPrefix[prefix] { return known }
            let terms = Set(index?.terms(ofWordsStartingWith: prefix) ?? [])
            coveredByPrefix[prefix] = terms
            return terms
        }
        for event in events {
            // A stop does not wait for the backlog: the daemon must end within its grace period.
            if alertBacklog.withLock({ $0 == nil }) { return }
            // A meeting whose terms, or the index, cannot be read is searched with every alert.
            let held = index == nil ? nil : meetingTerms(event.meeting)
            for alert in alerts {
                if let held, prefilters[alert.q]?.mayMatch(held, covered: covered) == false { continue }
                guard let answer = call(instance, "search.query", alert.searchParams(meeting: event.meeting, limit: Self.alertHits),
                                         budgetMs: state.config.limits.runningBudgetMs(for: "search.query")),
                      // A corrected query searched other words than the alert's: no match.
                      answer["corrected"] == nil, let hits = answer["hits"]?.arrayValue, !hits.isEmpty else { continue }
                let topic = "alert.\(alert.name)"
                _ = outbox.send(topic, more: true)
                _ = outbox.send(JSONValue.object([
                    "seq": .int(event.seq), "topic": .string("alert.\(alert.name)"), "alert": .string(alert.name),
                    "change": .string(event.kind.rawValue), "meeting": .string(event.meeting),
                    "total": answer["total"] ?? .int(Int64(hits.count)),
                    "hits": .array(hits.map { hit in
                        ["meeting": hit["meeting"] ?? .null, "turn": hit["turn"] ?? .null,
                         "speaker": hit["speaker"] ?? .null, "snippet": hit["snippet"] ?? .null]
                    }),
                ]).serialized)
            }
        }
    }

    /// The index terms of meeting `id` as the corpus holds it now; nil when it cannot be read.
    private func meetingTerms(_ id: String) -> MeetingTerms? {
        if alertCorpus == nil { alertCorpus = try? Corpus.openReadOnly(path: corpusPath) }
        do {
            return try alertCorpus?.reader.read { db in try MeetingTerms.read(db, meeting: id, analyzer: analyzer) }
        } catch {
            logger.warning("events: cannot read a meeting's terms for the alerts' prefilter: \(error)")
            return nil
        }
    }

    /// The index of the corpus as it is now; nil when it cannot be read.
    private func indexNow() -> SegmentSet? {
        if alertCorpus == nil { alertCorpus = try? Corpus.openReadOnly(path: corpusPath) }
        do {
            return try alertCorpus?.reader.read { db in try alertIndex.get(db) }
        } catch {
            logger.warning("events: cannot read the index for the alerts' prefilter: \(error)")
            return nil
        }
    }

    /// The search module instance of the serving state, opened again after a reload.
    private func searchInstance(_ state: ServerState) -> ModuleInstance? {
        if let search, search.generation == state.generation { return search.instance }
        search?.instance.close()
        search = nil
        guard let module = state.modules.first(where: { $0.methods.contains { $0.name == "search.query" } }) else {
            logger.warning("events: alerts need the search module, which is not loaded")
            return nil
        }
        do {
            search = (try module.open(corpusPath: state.config.corpusPath), state.generation)
        } catch {
            logger.warning("events: cannot open the search module for alerts: \(error)")
        }
        return search?.instance
    }

    /// One call into a module, as a worker makes it; nil when it answers an error (an alert's
    /// speaker unknown to a meeting is -32004: no match). It runs within the method's budget,
    /// so one hostile alert cannot hold the stream's alert thread.
    private func call(_ instance: ModuleInstance, _ method: String, _ params: JSONValue, budgetMs: Int) -> JSONValue? {
        paramsText.removeAll(keepingCapacity: true)
        params.write(to: &paramsText)
        paramsText.append(0)
        paramsText.withUnsafeBytes { bytes in
            instance.call(method: method, params: UnsafeRawBufferPointer(rebasing: bytes.dropLast()),
                          deadline: MonotonicClock.nanoseconds() + UInt64(budgetMs) * 1_000_000, reply: &reply)
        }
        guard reply.error_code == 0, let result = reply.result_json else {
            if reply.error_code == ErrorCode.internalError {
                logger.warning("events: an alert's \(method) failed: \(reply.error_message.map { String(cString: $0) } ?? "no message")")
            }
            return nil
        }
        return try? JSONValue.parse(UnsafeRawBufferPointer(start: result, count: reply.result_len))
    }

    /// Subscription messages (1 + topic to subscribe, 0 + topic to leave), logged with the
    /// number of subscriptions they leave.
    private func readSubscriptions(count: inout Int) {
        var message = zmq_msg_t()
        while true {
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            guard zmq_msg_recv(&message, socket.handle, ZMQ_DONTWAIT) >= 0 else { return }
            let size = zmq_msg_size(&message)
            guard size > 0, let data = zmq_msg_data(&message) else { continue }
            let bytes = UnsafeRawBufferPointer(start: data, count: size)
            let topic = String(decoding: bytes.dropFirst(), as: UTF8.self)
            count += bytes[0] == 1 ? 1 : -1
            logger.info(bytes[0] == 1 ? "events: subscribed" : "events: unsubscribed",
                        metadata: ["topic": "\(topic.isEmpty ? "(all)" : topic.escapingControls)", "subscriptions": "\(count)"])
        }
    }

    /// Publishes the alert thread's messages, [topic, body] each, as they are.
    private func forwardAlerts() {
        let message = FrameList()
        while message.receive(from: alertMessages, flags: ZMQ_DONTWAIT) {
            _ = message.send(to: socket)
        }
    }

    /// Nudges carry nothing: however many came, one read of the log answers them all.
    private func drain(_ nudges: ZMQSocket) {
        while zmq_recv(nudges.handle, nil, 0, ZMQ_DONTWAIT) >= 0 {}
    }

    private func publish(_ topic: String, _ body: JSONValue) {
        _ = socket.send(topic, more: true)
        _ = socket.send(body.serialized)
    }
}
