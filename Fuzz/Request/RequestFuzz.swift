// Fuzz target `request`: a worker's whole request path (MeetingdCore/Dispatcher.swift).
// The input is one request frame as a client sends it; it goes through the JSON-RPC
// parse, the batch rules, the request checks and params validation, into the stock
// modules (lookup, search, summarise, events, loaded through the C ABI like in the
// daemon) over a real corpus ingested from Samples/, and out as the reply frame.
// Built by SwiftPM (it needs GRDB, swift-log and Yams), only when scripts/fuzz sets
// MEETINGD_FUZZ_REQUEST: see Package.swift and scripts/fuzz. SwiftPM compiles it with
// -parse-as-library and links libFuzzer's main, as for any fuzzer executable.

import Foundation
import Logging
@testable import MeetingdCore
import MeetingIngest
import MeetingKit

/// What the fuzzer serves from: a temporary corpus and config, made once per process.
struct Fixture {
    let folder: String
    let dispatcher: Dispatcher

    init() throws {
        let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
        var template = Array((NSTemporaryDirectory() + "/meetingd-fuzz-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CorpusError("cannot make a temporary folder") }
        folder = String(cString: made)
        // The module budget is short, so a module that overruns it shows as a libFuzzer timeout.
        let configFile = folder + "/meetingd.yaml"
        try """
            corpus: \(folder)/corpus.sqlite
            ingest: ["\(sourceRoot)/Samples"]
            module_dirs: ["\(ConfigLoader.executableDirectory)"]
            log_level: critical
            limits: {max_running_ms: 1000}
            """.write(toFile: configFile, atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(file: configFile, environment: [:])
        _ = try Ingester(corpusPath: config.corpusPath) { _ in }.ingest(paths: config.ingestPaths, prune: false)
        var restartNeeded: [String] = []
        let modules = try ModuleLoader.loadAll(config, reserved: BuiltinMethods.names, restartNeeded: &restartNeeded)
        let runtime = ServerRuntime(workers: 1, stateDirectory: folder, metrics: ServerMetrics())
        let state = ServerState(config: config, modules: modules, runtime: runtime, generation: 0)
        let instances = try modules.map { try $0.open(corpusPath: config.corpusPath) }
        dispatcher = Dispatcher(state: state, stats: runtime.workerStats[0], health: runtime.workerHealth[0],
                                instances: instances, logger: Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() })
    }
}

/// Made once per process; its folder goes when the process exits.
nonisolated(unsafe) let fixture: Fixture = {
    do {
        let made = try Fixture()
        atexit { try? FileManager.default.removeItem(atPath: fixture.folder) }
        return made
    } catch {
        FileHandle.standardError.write(Data("request fuzz target: cannot set up: \(error)\n".utf8))
        exit(1)
    }
}()

/// One reply of a single call: an object with "jsonrpc": "2.0", an id, and a result or an error, not both.
func checkResponse(_ response: JSONValue) {
    guard case .object(let members) = response else { preconditionFailure("a response that is not an object") }
    precondition(members["jsonrpc"] == .string("2.0"), "a response without \"jsonrpc\": \"2.0\"")
    precondition(members["id"] != nil, "a response without an id")
    precondition((members["result"] == nil) != (members["error"] == nil), "a response with both or neither of result and error")
    if let error = members["error"] {
        guard case .int(let code)? = error["code"], case .string(let message)? = error["message"] else {
            preconditionFailure("an error without an integer code and a message")
        }
        // A module's internal error is a bug the fuzzer found: bad input deserves a clear error.
        precondition(code != Int64(ErrorCode.internalError), "internal error: \(message)")
    }
}

/// Sets up before fuzzing starts, so that libFuzzer counts the modules' coverage from the first input.
@_cdecl("LLVMFuzzerInitialize")
public func setUp(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    _ = fixture
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let frame = UnsafeRawBufferPointer(start: data, count: size)
    let stamp = RequestStamp(arrivalNanos: DispatchTime.now().uptimeNanoseconds)
    let reply = fixture.dispatcher.handle(frame: frame, stamp: stamp)
    guard !reply.isEmpty else { return 0 }  // notifications only
    guard let document = try? JSONValue.parse(reply) else {
        preconditionFailure("a reply that is not JSON: \(String(decoding: reply.prefix(200), as: UTF8.self))")
    }
    if case .array(let responses) = document {
        precondition(!responses.isEmpty, "an empty batch reply")
        responses.forEach(checkResponse)
    } else {
        checkResponse(document)
    }
    _ = fixture.dispatcher.releaseLargeBuffers()
    return 0
}
