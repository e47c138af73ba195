// The Swift side of the module ABI (meetingd_module.h). A Swift module is one
// type conforming to `MeetingdModule` plus one export line:
//
//     @_cdecl("meetingd_module_entry")
//     public func meetingdModuleEntry() -> UnsafeRawPointer { exportModule(LookupModule.self) }
//
// This file turns such a type into the C description the daemon loads.

import CMeetingdModule
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One method a module answers, with the JSON Schemas the host validates
/// params against and publishes through `rpc.discover`.
public struct MethodSpec: Sendable {
    public let name: String
    public let summary: String
    public let params: JSONValue
    public let result: JSONValue

    public init(_ name: String, summary: String, params: JSONValue, result: JSONValue) {
        self.name = name
        self.summary = summary
        self.params = params
        self.result = result
    }
}

/// A structured JSON-RPC error a method answers with.
public struct MethodError: Error, Sendable {
    public let code: Int32
    public let message: String
    public let data: JSONValue?

    public init(code: Int32, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public static func invalidParams(field: String, reason: String) -> MethodError {
        MethodError(code: ErrorCode.invalidParams, message: "Invalid params: \(field): \(reason)",
                    data: ["field": .string(field), "reason": .string(reason)])
    }

    public static func notFound(_ what: String, id: String) -> MethodError {
        MethodError(code: ErrorCode.notFound, message: "\(what) not found: \(id)",
                    data: ["kind": .string(what), "id": .string(id)])
    }
}

// Here, not in QueryLanguage.swift: the query language stays free of the SDK, so the
// query fuzz target compiles it alone.
extension QuerySyntaxError {
    /// The -32602 every method that takes a query in `q` answers (search.query, alerts.add).
    public var invalidParams: MethodError {
        MethodError(code: ErrorCode.invalidParams,
                    message: "Invalid params: q: \(reason) at character \(position); \(hint)",
                    data: ["field": "q", "reason": .string(reason), "position": JSONValue(position),
                           "hint": .string(hint)])
    }
}

/// JSON-RPC 2.0 error codes, and meetingd's application codes in the server range.
public enum ErrorCode {
    public static let parseError: Int32 = -32700
    public static let invalidRequest: Int32 = -32600
    public static let methodNotFound: Int32 = -32601
    public static let invalidParams: Int32 = Int32(MEETINGD_ERR_INVALID_PARAMS)
    public static let internalError: Int32 = Int32(MEETINGD_ERR_INTERNAL)
    public static let notFound: Int32 = Int32(MEETINGD_ERR_NOT_FOUND)
    public static let deadlineExceeded: Int32 = Int32(MEETINGD_ERR_DEADLINE_EXCEEDED)
    public static let overloaded: Int32 = Int32(MEETINGD_ERR_OVERLOADED)
    public static let unavailable: Int32 = Int32(MEETINGD_ERR_UNAVAILABLE)
    /// The host's own: a response that would take the reply past `limits.max_reply_bytes`.
    public static let replyTooLarge: Int32 = -32008
}

public enum LogLevel: Int32, Sendable {
    case error = 3, warning = 4, info = 6, debug = 7
}

/// What a module instance is given when it opens.
public struct ModuleContext: @unchecked Sendable {
    /// The module's own config section.
    public let config: JSONValue
    /// The SQLite corpus; modules open it read-only (`Corpus.openReadOnly(path:budget:)`).
    public let corpusPath: String
    /// The running-time budget of the request this instance is answering: call
    /// `checkDeadline()` in long loops, and open the corpus with it.
    public let budget: RequestBudget
    let logFunction: meetingd_log_fn?
    let logContext: UnsafeMutableRawPointer?

    public func log(_ level: LogLevel, _ message: String) {
        guard let logFunction else { return }
        message.withCString { logFunction(logContext, level.rawValue, $0) }
    }
}

/// A handler module. The daemon opens one instance per worker thread and calls
/// it from that thread only, so an instance may keep unsynchronised state.
public protocol MeetingdModule: AnyObject {
    static var name: String { get }
    static var version: String { get }
    static var methods: [MethodSpec] { get }

    init(context: ModuleContext) throws
    func handle(method: String, params: JSONValue) throws(MethodError) -> JSONValue
}

/// Builds (once per type) the C description of `Module` and returns it. Call it
/// from the module's `meetingd_module_entry`. Its body is compiled into the module,
/// so the description names the MeetingKit build the module was compiled against.
@_alwaysEmitIntoClient
public func exportModule<Module: MeetingdModule>(_ module: Module.Type) -> UnsafeRawPointer {
    describeModule(module, compiledAgainst: MeetingKitBuild.compiledAgainst)
}

@usableFromInline
func describeModule<Module: MeetingdModule>(_ module: Module.Type, compiledAgainst build: String) -> UnsafeRawPointer {
    ModuleRegistry.shared.description(for: module, compiledAgainst: build)
}

/// Maps each exported description back to its Swift type: `open` is one C
/// function for every Swift module and learns which type to make from the
/// description it is handed.
final class ModuleRegistry: Sendable {
    static let shared = ModuleRegistry()

    private struct Entry: @unchecked Sendable {
        let type: any MeetingdModule.Type
        let description: UnsafeMutablePointer<meetingd_module>
    }
    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    func description<Module: MeetingdModule>(for module: Module.Type, compiledAgainst build: String) -> UnsafeRawPointer {
        let entry = entries.withLock { entries in
            if let entry = entries[ObjectIdentifier(module)] { return entry }
            let entry = Entry(type: module, description: Self.makeDescription(module, compiledAgainst: build))
            entries[ObjectIdentifier(module)] = entry
            return entry
        }
        return UnsafeRawPointer(entry.description)
    }

    func type(for description: UnsafePointer<meetingd_module>) -> (any MeetingdModule.Type)? {
        entries.withLock { entries in
            entries.values.first(where: { UnsafePointer($0.description) == description })?.type
        }
    }

    /// The description lives for the life of the process, as the library does.
    private static func makeDescription(_ module: any MeetingdModule.Type, compiledAgainst build: String) -> UnsafeMutablePointer<meetingd_module> {
        let specs = module.methods
        let methods = UnsafeMutablePointer<meetingd_method>.allocate(capacity: max(specs.count, 1))
        for (i, spec) in specs.enumerated() {
            methods[i] = meetingd_method(
                name: strdup(spec.name), summary: strdup(spec.summary),
                params_schema: strdup(spec.params.serialized), result_schema: strdup(spec.result.serialized))
        }
        let description = UnsafeMutablePointer<meetingd_module>.allocate(capacity: 1)
        description.initialize(to: meetingd_module(
            abi_version: UInt32(MEETINGD_ABI_VERSION),
            name: strdup(module.name),
            version: strdup(module.version),
            methods: UnsafePointer(methods),
            method_count: specs.count,
            open: moduleOpen,
            handle: moduleHandle,
            close: moduleClose,
            set_deadline: moduleSetDeadline,
            meetingkit_build: strdup(build)))
        return description
    }
}

/// One open instance and the buffers its replies point into until the next call.
final class InstanceBox {
    let module: any MeetingdModule
    let budget: RequestBudget
    private let result = ReplyBuffer()
    private let errorMessage = ReplyBuffer()
    private let errorData = ReplyBuffer()
    private var scratch: [UInt8] = []

    init(module: any MeetingdModule, budget: RequestBudget) {
        self.module = module
        self.budget = budget
        scratch.reserveCapacity(4096)
    }

    func handle(method: String, params: UnsafeRawBufferPointer, reply: inout meetingd_reply) {
        let outcome: Result<JSONValue, MethodError>
        do {
            let value = try JSONValue.parse(params)
            do { outcome = .success(try module.handle(method: method, params: value)) }
            catch where budget.isExpired && [ErrorCode.internalError, ErrorCode.unavailable].contains(error.code) {
                // A failure the deadline caused (an interrupted statement the module reported its own way).
                outcome = .failure(.runningDeadlineExceeded)
            } catch { outcome = .failure(error) }
        } catch {
            outcome = .failure(MethodError(code: ErrorCode.invalidParams, message: "params are not valid JSON: \(error)"))
        }
        switch outcome {
        case .success(let value):
            scratch.removeAll(keepingCapacity: true)
            value.write(to: &scratch)
            reply.result_json = result.store(scratch)
            reply.result_len = scratch.count
            reply.error_code = 0
        case .failure(let error):
            reply.error_code = error.code == 0 ? ErrorCode.internalError : error.code
            reply.error_message = errorMessage.store(Array(error.message.utf8))
            if let data = error.data {
                scratch.removeAll(keepingCapacity: true)
                data.write(to: &scratch)
                reply.error_data_json = errorData.store(scratch)
            }
        }
    }
}

/// A NUL-terminated byte buffer reused from call to call.
final class ReplyBuffer {
    private var storage: UnsafeMutablePointer<CChar>?
    private var capacity = 0

    deinit { storage?.deallocate() }

    func store(_ bytes: [UInt8]) -> UnsafePointer<CChar> {
        if bytes.count + 1 > capacity {
            storage?.deallocate()
            capacity = max(bytes.count + 1, capacity * 2, 256)
            storage = .allocate(capacity: capacity)
        }
        bytes.withUnsafeBufferPointer { source in
            source.withMemoryRebound(to: CChar.self) { storage!.update(from: $0.baseAddress!, count: bytes.count) }
        }
        storage![bytes.count] = 0
        return UnsafePointer(storage!)
    }
}

private let openErrors = Mutex<[String: UnsafeMutablePointer<CChar>]>([:])

/// Error strings from `open` must outlive the call; keep one copy per message.
private func persistentCString(_ message: String) -> UnsafePointer<CChar> {
    openErrors.withLock { table in
        if let existing = table[message] { return UnsafePointer(existing) }
        let copy = strdup(message)!
        table[message] = copy
        return UnsafePointer(copy)
    }
}

private let moduleOpen: @convention(c) (
    UnsafePointer<meetingd_module>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?,
    meetingd_log_fn?, UnsafeMutableRawPointer?,
    UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> Int32 = { description, configJSON, corpusPath, log, logContext, instance, error in
    guard let description, let instance,
          let type = ModuleRegistry.shared.type(for: description) else {
        error?.pointee = persistentCString("unknown module description")
        return 1
    }
    let config: JSONValue
    do {
        config = try JSONValue.parse(configJSON.map { String(cString: $0) } ?? "{}")
    } catch let failure {
        error?.pointee = persistentCString("module config is not valid JSON: \(failure)")
        return 1
    }
    let context = ModuleContext(
        config: config, corpusPath: corpusPath.map { String(cString: $0) } ?? "",
        budget: RequestBudget(), logFunction: log, logContext: logContext)
    do {
        let module = try type.init(context: context)
        instance.pointee = Unmanaged.passRetained(InstanceBox(module: module, budget: context.budget)).toOpaque()
        return 0
    } catch let failure {
        error?.pointee = persistentCString(String(describing: failure))
        return 1
    }
}

private let moduleHandle: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int, UnsafeMutablePointer<meetingd_reply>?
) -> Int32 = { instance, method, params, length, reply in
    guard let instance, let method, let reply else { return 1 }
    let box = Unmanaged<InstanceBox>.fromOpaque(instance).takeUnretainedValue()
    reply.pointee = meetingd_reply()
    box.handle(method: String(cString: method),
               params: UnsafeRawBufferPointer(start: params, count: params == nil ? 0 : length),
               reply: &reply.pointee)
    return 0
}

private let moduleSetDeadline: @convention(c) (UnsafeMutableRawPointer?, Int64) -> Void = { instance, deadline in
    guard let instance else { return }
    Unmanaged<InstanceBox>.fromOpaque(instance).takeUnretainedValue().budget.setDeadline(UInt64(max(deadline, 0)))
}

private let moduleClose: @convention(c) (UnsafeMutableRawPointer?) -> Void = { instance in
    guard let instance else { return }
    Unmanaged<InstanceBox>.fromOpaque(instance).release()
}
