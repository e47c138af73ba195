// JSON-RPC 2.0 for one worker: parses a request frame (object or batch),
// checks it, routes each call to a built-in or to this worker's own module
// instance, and writes the reply frame. One Dispatcher per worker thread, so
// nothing here is shared except the read-only server state.

import CMeetingdModule
import Foundation
import Logging
import MeetingKit

/// What the proxy stamps on each request: when it arrived (monotonic nanoseconds),
/// and its number, the request id every log line about it carries.
struct RequestStamp {
    static let size = 16
    var arrivalNanos: UInt64
    var requestID: UInt64

    init(arrivalNanos: UInt64, requestID: UInt64 = 0) {
        self.arrivalNanos = arrivalNanos
        self.requestID = requestID
    }

    /// Reads the stamp frame; nil when it is not one.
    init?(frame: UnsafeRawBufferPointer) {
        guard frame.count == Self.size else { return nil }
        arrivalNanos = frame.loadUnaligned(as: UInt64.self)
        requestID = frame.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
    }

    func withFrame<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        withUnsafeBytes(of: (arrivalNanos, requestID)) { body($0) }
    }
}

final class Dispatcher {
    private struct Route {
        let method: MethodInfo
        let instance: ModuleInstance?  // nil for built-ins
    }

    private struct Failure: Error {
        let code: Int32
        let message: String
        var data: JSONValue? = nil
    }

    /// What one call came to, for the statistics and metrics.
    private struct CallOutcome {
        /// False for a notification, which gets no response.
        var answered: Bool
        /// The method called, or "(invalid)" when there is none it could be.
        var method = Self.invalidMethod
        var errorCode: Int32? = nil

        static let invalidMethod = "(invalid)"
    }

    private let state: ServerState
    private let stats: WorkerStats
    private var metrics: RequestMetrics
    private let health: WorkerHealth
    private let logger: Logger
    private var routes: [String: Route] = [:]
    private let instances: [ModuleInstance]
    private var reply = meetingd_reply()
    private var out: [UInt8] = []
    private var paramsText: [UInt8] = []
    private let requestLog = RequestLogContext.forThisThread()

    init(state: ServerState, stats: WorkerStats, health: WorkerHealth, instances: [ModuleInstance], logger: Logger) {
        self.state = state
        self.stats = stats
        self.metrics = RequestMetrics(state.runtime.metrics)
        self.health = health
        self.instances = instances
        self.logger = logger
        for method in BuiltinMethods.all { routes[method.name] = Route(method: method, instance: nil) }
        for instance in instances {
            for method in instance.module.methods { routes[method.name] = Route(method: method, instance: instance) }
        }
        out.reserveCapacity(Self.replyCapacity)
        paramsText.reserveCapacity(Self.paramsCapacity)
    }

    func closeInstances() { instances.forEach { $0.close() } }

    /// What the reply and params buffers start with, enough for most requests.
    private static let replyCapacity = 64 * 1024
    private static let paramsCapacity = 4096
    /// Buffers kept between requests are given up past this size, so that one
    /// large reply does not keep its memory for good.
    private static let keptBufferBytes = 1 << 20

    /// Lets go of the reply and params buffers if a large request grew them; returns the bytes let go.
    func releaseLargeBuffers() -> Int {
        var released = 0
        if out.capacity > Self.keptBufferBytes {
            released += out.capacity
            out = []
            out.reserveCapacity(Self.replyCapacity)
        }
        if paramsText.capacity > Self.keptBufferBytes {
            released += paramsText.capacity
            paramsText = []
            paramsText.reserveCapacity(Self.paramsCapacity)
        }
        return released
    }

    /// The reply frame for one request frame; empty when every call was a notification.
    func handle(frame: UnsafeRawBufferPointer, stamp: RequestStamp) -> [UInt8] {
        requestLog.begin(stamp.requestID)
        defer { requestLog.end() }
        let started = DispatchTime.now().uptimeNanoseconds
        out.removeAll(keepingCapacity: true)
        /// A frame refused whole is counted as one invalid call.
        func refuse(_ failure: Failure) -> [UInt8] {
            writeError(id: nil, failure)
            record(CallOutcome(answered: true, errorCode: failure.code), started: started, id: nil)
            return out
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(frame)
        } catch {
            return refuse(Failure(code: ErrorCode.parseError, message: "Parse error: \(error)",
                                  data: ["offset": JSONValue(error.offset), "reason": .string(error.reason)]))
        }
        // Ids are echoed as the client wrote them, so their source text is kept.
        let idSpans = JSONValue.memberSpans("id", in: frame)
        func idText(_ position: Int) -> UnsafeRawBufferPointer? {
            guard position < idSpans.count, let span = idSpans[position] else { return nil }
            return UnsafeRawBufferPointer(rebasing: frame[span])
        }
        switch document {
        case .array(let calls):
            if calls.isEmpty {
                return refuse(Failure(code: ErrorCode.invalidRequest, message: "Invalid request: an empty batch"))
            }
            let maxBatch = state.config.limits.maxBatch
            if calls.count > maxBatch {
                return refuse(Failure(code: ErrorCode.invalidRequest,
                                      message: "Invalid request: a batch of \(calls.count) calls, over the limit of \(maxBatch)",
                                      data: ["field": "batch", "reason": .string("at most \(maxBatch) calls"),
                                             "limit": JSONValue(maxBatch)]))
            }
            out.append(UInt8(ascii: "["))
            let start = out.count
            for (position, call) in calls.enumerated() {
                let before = out.count
                if out.count > start { out.append(UInt8(ascii: ",")) }
                // A notification writes nothing.
                if !handleCall(call, idText: idText(position), stamp: stamp) { out.removeSubrange(before...) }
            }
            if out.count == start { out.removeAll(keepingCapacity: true) } else { out.append(UInt8(ascii: "]")) }
        default:
            if !handleCall(document, idText: idText(0), stamp: stamp) { out.removeAll(keepingCapacity: true) }
        }
        return out
    }

    /// Handles one call and writes its response, or an error in its place when the
    /// reply frame would grow past `limits.max_reply_bytes`; returns false for a notification.
    private func handleCall(_ call: JSONValue, idText: UnsafeRawBufferPointer?, stamp: RequestStamp) -> Bool {
        let started = DispatchTime.now().uptimeNanoseconds
        let start = out.count
        var outcome = writeCall(call, idText: idText, stamp: stamp)
        // What the response carries: the id as written, or null when it is missing or not a valid id.
        let id = Self.isValidID(call["id"]) ? idText : nil
        let limit = state.config.limits.maxReplyBytes
        if outcome.answered && out.count > limit {
            let size = out.count - start
            out.removeSubrange(start...)
            writeError(id: id, Failure(code: ErrorCode.replyTooLarge,
                                       message: "Reply too large: \(size) bytes would take the reply past limits.max_reply_bytes (\(limit)); ask for less",
                                       data: ["bytes": JSONValue(size), "limit": JSONValue(limit)]))
            outcome.errorCode = ErrorCode.replyTooLarge
        }
        record(outcome, started: started, id: id)
        return outcome.answered
    }

    /// Counts a call in `meetingd.status` and the metrics, and logs it at debug level.
    private func record(_ outcome: CallOutcome, started: UInt64, id: UnsafeRawBufferPointer?) {
        let nanoseconds = DispatchTime.now().uptimeNanoseconds - started
        stats.record(method: outcome.method, micros: nanoseconds / 1000, failed: outcome.errorCode != nil)
        metrics.record(method: outcome.method, nanoseconds: nanoseconds, errorCode: outcome.errorCode)
        // Read per call: a reload may change log_level.
        if logger.logLevel <= .debug {
            var metadata: Logger.Metadata = ["method": "\(outcome.method)", "rpc_id": "\(Self.logText(id))",
                                             "ms": "\(String(format: "%.3f", Double(nanoseconds) / 1e6))"]
            if let errorCode = outcome.errorCode { metadata["code"] = "\(errorCode)" }
            logger.debug("request", metadata: metadata)
        }
    }

    private func writeCall(_ call: JSONValue, idText: UnsafeRawBufferPointer?, stamp: RequestStamp) -> CallOutcome {
        guard case .object(let request) = call else {
            writeError(id: nil, Failure(code: ErrorCode.invalidRequest,
                                        message: "Invalid request: expected a JSON object, got \(call.typeName)"))
            return CallOutcome(answered: true, errorCode: ErrorCode.invalidRequest)
        }
        let id = request["id"]
        let echoedID = Self.isValidID(id) ? idText : nil
        var outcome = CallOutcome(answered: id != nil)
        requestLog.method = nil
        do {
            let (route, params) = try check(request, stamp: stamp)
            outcome.method = route.method.name
            requestLog.method = outcome.method
            let before = out.count
            do {
                try answer(route, params: params, id: echoedID)
            } catch let failure as Failure {
                out.removeSubrange(before...)
                throw failure
            }
        } catch let failure as Failure {
            outcome.errorCode = failure.code
            if case .string(let name)? = request["method"], routes[name] != nil { outcome.method = name }
            writeError(id: echoedID, failure)
            // An invalid request is answered even without an id, as JSON-RPC 2.0 asks.
            outcome.answered = id != nil || failure.code == ErrorCode.invalidRequest
        } catch {
            outcome.errorCode = ErrorCode.internalError
            writeError(id: echoedID, internalError(method: outcome.method, id: echoedID, detail: "\(error)"))
        }
        return outcome
    }

    /// JSON-RPC ids are strings, numbers or null.
    private static func isValidID(_ id: JSONValue?) -> Bool {
        switch id {
        case .string?, .int?, .double?, .null?: return true
        default: return false
        }
    }

    /// Everything the host checks before a module sees a call.
    private func check(_ request: JSONObject, stamp: RequestStamp) throws -> (Route, JSONValue) {
        guard request["jsonrpc"] == .string("2.0") else {
            throw Failure(code: ErrorCode.invalidRequest, message: "Invalid request: \"jsonrpc\" must be \"2.0\"",
                          data: ["field": "jsonrpc", "reason": .string("expected \"2.0\", got \(request["jsonrpc"]?.serialized ?? "nothing")")])
        }
        if let id = request["id"], !Self.isValidID(id) {
            throw Failure(code: ErrorCode.invalidRequest, message: "Invalid request: \"id\" must be a string, a number or null",
                          data: ["field": "id", "reason": .string("got \(id.typeName)")])
        }
        guard case .string(let name)? = request["method"] else {
            throw Failure(code: ErrorCode.invalidRequest, message: "Invalid request: \"method\" must be a string",
                          data: ["field": "method", "reason": .string("got \(request["method"]?.typeName ?? "nothing")")])
        }
        let params = request["params"] ?? .object([:])
        switch params {
        case .object: break
        case .array:
            throw Failure(code: ErrorCode.invalidParams, message: "Invalid params: \(name) takes named params (an object)",
                          data: ["field": "params", "reason": "expected an object of named params, got an array"])
        default:
            throw Failure(code: ErrorCode.invalidRequest, message: "Invalid request: \"params\" must be an object or an array",
                          data: ["field": "params", "reason": .string("got \(params.typeName)")])
        }
        for key in request.keys where !["jsonrpc", "id", "method", "params"].contains(key) {
            throw Failure(code: ErrorCode.invalidRequest, message: "Invalid request: unknown member \"\(key)\"",
                          data: ["field": .string(key), "reason": "not a JSON-RPC 2.0 request member"])
        }
        guard let route = routes[name] else {
            throw Failure(code: ErrorCode.methodNotFound, message: "Method not found: \(name)",
                          data: ["method": .string(name), "hint": "rpc.discover lists the methods"])
        }
        let waitedMs = (DispatchTime.now().uptimeNanoseconds &- stamp.arrivalNanos) / 1_000_000
        if waitedMs > UInt64(state.config.limits.requestDeadlineMs) {
            throw Failure(code: ErrorCode.deadlineExceeded,
                          message: "Deadline exceeded: the request waited \(waitedMs) ms for a worker, past the \(state.config.limits.requestDeadlineMs) ms deadline",
                          data: ["phase": "queued", "waited_ms": .int(Int64(waitedMs)),
                                 "deadline_ms": JSONValue(state.config.limits.requestDeadlineMs)])
        }
        if let violation = SchemaValidator.firstNUL(in: params) ?? SchemaValidator.validate(params, against: route.method.paramsSchema) {
            throw Failure(code: ErrorCode.invalidParams, message: "Invalid params: \(violation)",
                          data: ["field": .string(violation.field), "reason": .string(violation.reason)])
        }
        return (route, params)
    }

    private func answer(_ route: Route, params: JSONValue, id: UnsafeRawBufferPointer?) throws {
        guard let instance = route.instance else {
            let result = try builtin(route.method.name, params)
            writeResponseHead(id: id)
            result.write(to: &out)
            out.append(UInt8(ascii: "}"))
            return
        }
        paramsText.removeAll(keepingCapacity: true)
        params.write(to: &paramsText)
        paramsText.append(0)
        health.moduleMethod.withLock { $0 = route.method.name }
        let budgetMs = state.config.limits.runningBudgetMs(for: route.method.name)
        let started = MonotonicClock.nanoseconds()
        paramsText.withUnsafeBytes { bytes in
            instance.call(method: route.method.name, params: UnsafeRawBufferPointer(rebasing: bytes.dropLast()),
                          deadline: started + UInt64(budgetMs) * 1_000_000, reply: &reply)
        }
        health.moduleMethod.withLock { $0 = nil }
        if reply.error_code == ErrorCode.deadlineExceeded && instance.takesDeadline {
            // The module stopped at its budget; the answer is worded here, the same for every module.
            let key = state.config.limits.methodRunningMs[route.method.name] == nil ? "max_running_ms" : "method_running_ms"
            let ranMs = (MonotonicClock.nanoseconds() - started) / 1_000_000
            throw Failure(code: ErrorCode.deadlineExceeded,
                          message: "Deadline exceeded: \(route.method.name) ran \(ranMs) ms, past its \(budgetMs) ms budget (limits.\(key))",
                          data: ["phase": "running", "ran_ms": .int(Int64(ranMs)), "budget_ms": JSONValue(budgetMs)])
        }
        if reply.error_code == ErrorCode.internalError {
            throw internalError(method: route.method.name, id: id,
                                detail: reply.error_message.map { String(cString: $0) } ?? "no message")
        }
        if reply.error_code != 0 {
            var data: JSONValue? = nil
            if let text = reply.error_data_json {
                data = try? JSONValue.parse(String(cString: text))
            }
            throw Failure(code: reply.error_code,
                          message: reply.error_message.map { String(cString: $0) } ?? "\(route.method.name) failed",
                          data: data)
        }
        guard let result = reply.result_json else {
            throw Failure(code: ErrorCode.internalError, message: "Internal error: \(route.method.name) returned no result")
        }
        let bytes = UnsafeRawBufferPointer(start: result, count: reply.result_len)
        #if DEBUG
        // Debug builds check what modules return; release builds trust the ABI contract.
        if (try? JSONValue.parse(bytes)) == nil {
            throw Failure(code: ErrorCode.internalError, message: "Internal error: \(route.method.name) returned invalid JSON")
        }
        #endif
        writeResponseHead(id: id)
        out.append(contentsOf: bytes)
        out.append(UInt8(ascii: "}"))
    }

    /// An internal failure is answered without its detail (it may hold SQL or paths);
    /// the detail goes to the log with the method and request id, to be found there.
    private func internalError(method: String, id: UnsafeRawBufferPointer?, detail: String) -> Failure {
        logger.error("internal error", metadata: ["method": "\(method)", "rpc_id": "\(Self.logText(id))", "detail": "\(detail)"])
        return Failure(code: ErrorCode.internalError, message: "Internal error in \(method); the daemon's log has the details")
    }

    /// A JSON-RPC id for the log: its JSON text, shortened, so no client can fill the log through it.
    static func logText(_ id: UnsafeRawBufferPointer?) -> String {
        guard let id else { return "-" }
        let text = String(decoding: id.prefix(64), as: UTF8.self)
        return id.count > 64 ? text + "…" : text
    }

    private static func writeID(_ id: UnsafeRawBufferPointer?, to out: inout [UInt8]) {
        if let id { out.append(contentsOf: id) } else { out.append(contentsOf: "null".utf8) }
    }

    private func writeResponseHead(id: UnsafeRawBufferPointer?) {
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        Self.writeID(id, to: &out)
        out.append(contentsOf: #","result":"#.utf8)
    }

    private func writeError(id: UnsafeRawBufferPointer?, _ failure: Failure) {
        Self.writeError(id: id, failure, to: &out)
    }

    private static func writeError(id: UnsafeRawBufferPointer?, _ failure: Failure, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        writeID(id, to: &out)
        out.append(contentsOf: #","error":"#.utf8)
        var error: JSONObject = ["code": .int(Int64(failure.code)), "message": .string(failure.message)]
        if let data = failure.data { error["data"] = data }
        JSONValue.object(error).write(to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// The "overloaded" answer the proxy gives by itself when its queue is full. The
    /// proxy thread parses nothing: a single request's id is found by skipping over
    /// the object (a notification gets an empty frame), and a batch is answered with
    /// one error whose id is null.
    static func overloadedReply(to frame: UnsafeRawBufferPointer, queued: Int, limit: Int) -> [UInt8] {
        let failure = Failure(code: ErrorCode.overloaded,
                              message: "Overloaded: \(queued) requests are queued (limit \(limit)); retry later",
                              data: ["queued": JSONValue(queued), "limit": JSONValue(limit)])
        var out: [UInt8] = []
        let isBatch = frame.first(where: { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }) == UInt8(ascii: "[")
        let spans = isBatch ? [] : JSONValue.memberSpans("id", in: frame)
        if spans.count == 1 {
            guard let span = spans[0] else { return out }  // a notification
            let text = UnsafeRawBufferPointer(rebasing: frame[span])
            writeError(id: isValidID(try? JSONValue.parse(text)) ? text : nil, failure, to: &out)
        } else {
            writeError(id: nil, failure, to: &out)
        }
        return out
    }

    private func builtin(_ name: String, _ params: JSONValue) throws -> JSONValue {
        switch name {
        case "alerts.add", "alerts.list", "alerts.remove":
            do { return try AlertMethods.handle(name, params, state: state, logger: logger) }
            catch { throw Failure(code: error.code, message: error.message, data: error.data) }
        case "meetingd.ping": return "pong"
        case "meetingd.status": return state.status()
        case "meetingd.metrics":
            let format: MetricsFormat = params["format"] == "openmetrics" ? .openMetrics : .prometheus
            return .string(state.runtime.metrics.exposition(state: state, format: format))
        case "meetingd.modules": return state.modulesDescription()
        case "rpc.discover": return state.openRPC
        default: throw Failure(code: ErrorCode.methodNotFound, message: "Method not found: \(name)")
        }
    }
}

public enum BuiltinMethods {
    static let noParams: JSONValue = ["type": "object", "additionalProperties": false, "properties": [:]]
    static let all: [MethodInfo] = [
        MethodInfo(name: "meetingd.ping", summary: "Answers \"pong\": a liveness check.",
                   paramsSchema: noParams, resultSchema: ["type": "string", "const": "pong"]),
        MethodInfo(name: "meetingd.status", summary: "Version, uptime, corpus figures, modules, and request counts and latency per method.",
                   paramsSchema: noParams, resultSchema: ["type": "object"]),
        MethodInfo(name: "meetingd.metrics",
                   summary: "The metrics as the metrics.listen address serves them: the Prometheus text format 0.0.4, or OpenMetrics 1.0.0 with format openmetrics.",
                   paramsSchema: ["type": "object", "additionalProperties": false,
                                  "properties": ["format": ["type": "string", "enum": ["prometheus", "openmetrics"]]]],
                   resultSchema: ["type": "string"]),
        MethodInfo(name: "meetingd.modules", summary: "Each loaded module's name, version, library path and methods.",
                   paramsSchema: noParams, resultSchema: ["type": "array", "items": ["type": "object"]]),
        MethodInfo(name: "rpc.discover", summary: "This service's OpenRPC document.",
                   paramsSchema: noParams, resultSchema: ["type": "object"]),
    ] + AlertMethods.all
    public static var names: Set<String> { Set(all.map(\.name)) }
}
