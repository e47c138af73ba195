// JSON-RPC 2.0 for one worker: parses a request frame (object or batch),
// checks it, routes each call to a built-in or to this worker's own module
// instance, and writes the reply frame. One Dispatcher per worker thread, so
// nothing here is shared except the read-only server state.

import CMeetingdModule
import Foundation
import Logging
import MeetingKit

/// What the proxy stamps on each request: when it arrived (monotonic nanoseconds).
struct RequestStamp {
    static let size = 8
    var arrivalNanos: UInt64
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

    private let state: ServerState
    private let stats: WorkerStats
    private let logger: Logger
    private var routes: [String: Route] = [:]
    private let instances: [ModuleInstance]
    private var reply = meetingd_reply()
    private var out: [UInt8] = []
    private var paramsText: [UInt8] = []
    private let logRequests: Bool

    init(state: ServerState, stats: WorkerStats, instances: [ModuleInstance], logger: Logger) {
        self.state = state
        self.stats = stats
        self.instances = instances
        self.logger = logger
        self.logRequests = logger.logLevel <= .debug
        for method in BuiltinMethods.all { routes[method.name] = Route(method: method, instance: nil) }
        for instance in instances {
            for method in instance.module.methods { routes[method.name] = Route(method: method, instance: instance) }
        }
        out.reserveCapacity(64 * 1024)
        paramsText.reserveCapacity(4096)
    }

    func closeInstances() { instances.forEach { $0.close() } }

    /// The reply frame for one request frame; empty when every call was a notification.
    func handle(frame: UnsafeRawBufferPointer, stamp: RequestStamp) -> [UInt8] {
        out.removeAll(keepingCapacity: true)
        let document: JSONValue
        do {
            document = try JSONValue.parse(frame)
        } catch {
            writeError(id: .null, Failure(code: ErrorCode.parseError, message: "Parse error: \(error)",
                                          data: ["offset": JSONValue(error.offset), "reason": .string(error.reason)]))
            return out
        }
        switch document {
        case .array(let calls):
            if calls.isEmpty {
                writeError(id: .null, Failure(code: ErrorCode.invalidRequest, message: "Invalid request: an empty batch"))
                return out
            }
            out.append(UInt8(ascii: "["))
            let start = out.count
            for call in calls {
                let before = out.count
                if out.count > start { out.append(UInt8(ascii: ",")) }
                if !handleCall(call, stamp: stamp) { out.removeSubrange(before...) }  // a notification writes nothing
            }
            if out.count == start { out.removeAll(keepingCapacity: true) } else { out.append(UInt8(ascii: "]")) }
        default:
            if !handleCall(document, stamp: stamp) { out.removeAll(keepingCapacity: true) }
        }
        return out
    }

    /// Handles one call and writes its response; returns false for a notification.
    private func handleCall(_ call: JSONValue, stamp: RequestStamp) -> Bool {
        let started = DispatchTime.now().uptimeNanoseconds
        guard case .object(let request) = call else {
            writeError(id: .null, Failure(code: ErrorCode.invalidRequest,
                                          message: "Invalid request: expected a JSON object, got \(call.typeName)"))
            return true
        }
        let id = request["id"]
        var methodName = "(invalid)"
        var failed = false
        defer {
            let micros = (DispatchTime.now().uptimeNanoseconds - started) / 1000
            stats.record(method: methodName, micros: micros, failed: failed)
            if logRequests {
                logger.debug("request", metadata: ["method": "\(methodName)", "id": "\(id?.serialized ?? "-")",
                                                   "us": "\(micros)", "ok": "\(!failed)"])
            }
        }
        do {
            let (route, params) = try check(request, stamp: stamp)
            methodName = route.method.name
            let before = out.count
            do {
                try answer(route, params: params, id: id ?? .null)
            } catch let failure as Failure {
                out.removeSubrange(before...)
                throw failure
            }
        } catch let failure as Failure {
            failed = true
            if case .string(let name)? = request["method"], routes[name] != nil { methodName = name }
            writeError(id: validID(id) ?? .null, failure)
            // An invalid request is answered even without an id, as JSON-RPC 2.0 asks.
            return id != nil || failure.code == ErrorCode.invalidRequest
        } catch {
            failed = true
            writeError(id: validID(id) ?? .null, Failure(code: ErrorCode.internalError, message: "Internal error: \(error)"))
        }
        return id != nil
    }

    private func validID(_ id: JSONValue?) -> JSONValue? {
        switch id {
        case .string?, .int?, .double?, .null?: return id
        default: return nil
        }
    }

    /// Everything the host checks before a module sees a call.
    private func check(_ request: JSONObject, stamp: RequestStamp) throws -> (Route, JSONValue) {
        guard request["jsonrpc"] == .string("2.0") else {
            throw Failure(code: ErrorCode.invalidRequest, message: "Invalid request: \"jsonrpc\" must be \"2.0\"",
                          data: ["field": "jsonrpc", "reason": .string("expected \"2.0\", got \(request["jsonrpc"]?.serialized ?? "nothing")")])
        }
        if let id = request["id"], validID(id) == nil {
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
                          data: ["waited_ms": .int(Int64(waitedMs)), "deadline_ms": JSONValue(state.config.limits.requestDeadlineMs)])
        }
        if let violation = SchemaValidator.firstNUL(in: params) ?? SchemaValidator.validate(params, against: route.method.paramsSchema) {
            throw Failure(code: ErrorCode.invalidParams, message: "Invalid params: \(violation)",
                          data: ["field": .string(violation.field), "reason": .string(violation.reason)])
        }
        return (route, params)
    }

    private func answer(_ route: Route, params: JSONValue, id: JSONValue) throws {
        guard let instance = route.instance else {
            let result = try builtin(route.method.name)
            writeResponseHead(id: id)
            result.write(to: &out)
            out.append(UInt8(ascii: "}"))
            return
        }
        paramsText.removeAll(keepingCapacity: true)
        params.write(to: &paramsText)
        paramsText.append(0)
        paramsText.withUnsafeBytes { bytes in
            instance.call(method: route.method.name, params: UnsafeRawBufferPointer(rebasing: bytes.dropLast()), reply: &reply)
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

    private func writeResponseHead(id: JSONValue) {
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        id.write(to: &out)
        out.append(contentsOf: #","result":"#.utf8)
    }

    private func writeError(id: JSONValue, _ failure: Failure) {
        Self.writeError(id: id, failure, to: &out)
    }

    private static func writeError(id: JSONValue, _ failure: Failure, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        id.write(to: &out)
        out.append(contentsOf: #","error":"#.utf8)
        var error: JSONObject = ["code": .int(Int64(failure.code)), "message": .string(failure.message)]
        if let data = failure.data { error["data"] = data }
        JSONValue.object(error).write(to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// The "overloaded" answer the proxy gives by itself when its queue is full:
    /// one error per call that has an id, or an empty frame when none has.
    static func overloadedReply(to frame: UnsafeRawBufferPointer, queued: Int, limit: Int) -> [UInt8] {
        let failure = Failure(code: ErrorCode.overloaded,
                              message: "Overloaded: \(queued) requests are queued (limit \(limit)); retry later",
                              data: ["queued": JSONValue(queued), "limit": JSONValue(limit)])
        var out: [UInt8] = []
        switch try? JSONValue.parse(frame) {
        case .array(let calls)?:
            let ids = calls.compactMap { $0["id"] }
            guard !ids.isEmpty else { return out }
            out.append(UInt8(ascii: "["))
            for (i, id) in ids.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeError(id: id, failure, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let request)?:
            if let id = request["id"] { writeError(id: id, failure, to: &out) }
        default:
            writeError(id: .null, failure, to: &out)
        }
        return out
    }

    private func builtin(_ name: String) throws -> JSONValue {
        switch name {
        case "meetingd.ping": return "pong"
        case "meetingd.status": return state.status()
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
        MethodInfo(name: "meetingd.modules", summary: "Each loaded module's name, version, library path and methods.",
                   paramsSchema: noParams, resultSchema: ["type": "array", "items": ["type": "object"]]),
        MethodInfo(name: "rpc.discover", summary: "This service's OpenRPC document.",
                   paramsSchema: noParams, resultSchema: ["type": "object"]),
    ]
    public static var names: Set<String> { Set(all.map(\.name)) }
}
