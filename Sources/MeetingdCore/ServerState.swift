// What every worker may read: the config, the loaded modules, and the figures
// behind meetingd.status. Immutable once serving starts, except the per-worker
// statistics, which carry their own locks.

import Foundation
import MeetingKit
import Synchronization

/// What outlives a reload: statistics, metrics, worker health, and the reload record.
final class ServerRuntime: Sendable {
    let workerStats: [WorkerStats]
    let metrics: ServerMetrics
    let workerHealth: [WorkerHealth]
    let startedAt = Date()
    let startedUptime = DispatchTime.now().uptimeNanoseconds
    let reload = Mutex(ReloadRecord())
    /// Kept in the state directory named at start.
    let alerts: AlertStore

    init(workers: Int, stateDirectory: String, metrics: ServerMetrics) {
        self.metrics = metrics
        alerts = AlertStore(stateDirectory: stateDirectory)
        workerStats = (0..<workers).map { _ in WorkerStats() }
        workerHealth = (0..<workers).map { _ in WorkerHealth() }
    }

    var uptimeSeconds: Double { Double(DispatchTime.now().uptimeNanoseconds - startedUptime) / 1e9 }
}

/// When a worker started the request it is on (0 when idle), for the watchdog,
/// and the module method it is in, for a stop that cannot wait for it.
final class WorkerHealth: Sendable {
    let busySince = Atomic<UInt64>(0)
    /// The request it is on or was on last, for the lines the watchdog logs about it.
    let requestID = Atomic<UInt64>(0)
    let moduleMethod = Mutex<String?>(nil)
    /// The ServerState generation this worker serves.
    let generation = Atomic<Int>(0)
}

struct ReloadRecord {
    var attempts = 0
    var lastAt: Date?
    var lastError: String?
    /// Changes that the running daemon cannot take on without a restart.
    var restartNeeded: [String] = []

    /// `generation` is the state's: how many reloads took effect.
    func json(generation: Int) -> JSONValue {
        [
            "attempts": JSONValue(attempts),
            "generation": JSONValue(generation),
            "last_at": JSONValue(lastAt.map { ISO8601DateFormatter().string(from: $0) }),
            "ok": .bool(lastError == nil),
            "error": JSONValue(lastError),
            "restart_needed": .array(restartNeeded.map(JSONValue.string)),
        ]
    }
}

/// One generation of configuration: replaced whole by a reload.
public final class ServerState: Sendable {
    public let config: MeetingdConfig
    public let modules: [LoadedModule]
    let runtime: ServerRuntime
    let corpus: Corpus?
    let openRPC: JSONValue
    /// Counts reloads that took effect.
    let generation: Int

    init(config: MeetingdConfig, modules: [LoadedModule], runtime: ServerRuntime, generation: Int) {
        self.generation = generation
        self.config = config
        self.modules = modules
        self.runtime = runtime
        self.corpus = try? Corpus.openReadOnly(path: config.corpusPath)
        self.openRPC = OpenRPC.document(modules: modules)
    }

    func corpusFigures() -> JSONValue {
        var figures: JSONObject = ["path": .string(config.corpusPath)]
        do {
            guard let corpus else { throw CorpusError("cannot open the corpus at \(config.corpusPath)") }
            let counts = try corpus.figures()
            figures["meetings"] = JSONValue(counts.meetings)
            figures["turns"] = JSONValue(counts.turns)
            figures["words"] = JSONValue(counts.words)
            figures["people"] = JSONValue(counts.people)
            figures["first_date"] = JSONValue(counts.firstDate)
            figures["last_date"] = JSONValue(counts.lastDate)
        } catch {
            figures["error"] = .string("\(error)")
        }
        return .object(figures)
    }

    func status() -> JSONValue {
        let merged = StatsReport.merged(runtime.workerStats)
        let total = merged.values.reduce(UInt64(0)) { $0 + $1.requests }
        return [
            "version": .string(MeetingdVersion.current),
            "abi_version": JSONValue(MeetingdVersion.moduleABI),
            "meetingkit_build": .string(MeetingKitBuild.fingerprint),
            "pid": JSONValue(Int(getpid())),
            "started": .string(ISO8601DateFormatter().string(from: runtime.startedAt)),
            "uptime_s": .double((runtime.uptimeSeconds * 10).rounded() / 10),
            "workers": JSONValue(config.workers),
            "endpoints": .array(config.endpoints.map(JSONValue.string)),
            "config_file": JSONValue(config.file),
            "corpus": corpusFigures(),
            "modules": .array(modules.map { .string($0.name) }),
            "reload": runtime.reload.withLock { $0.json(generation: generation) },
            "requests": .int(Int64(total)),
            "methods": StatsReport.json(merged),
        ]
    }

    func modulesDescription() -> JSONValue {
        .array(modules.map { module in
            [
                "name": .string(module.name),
                "version": .string(module.version),
                "path": .string(module.path),
                "methods": .array(module.methods.map { .string($0.name) }),
            ]
        })
    }
}

enum OpenRPC {
    /// An OpenRPC 1.2 document built from the built-ins and the schemas modules declare.
    static func document(modules: [LoadedModule]) -> JSONValue {
        let methods = BuiltinMethods.all + modules.flatMap(\.methods)
        return [
            "openrpc": "1.2.6",
            "info": [
                "title": "meetingd",
                "version": .string(MeetingdVersion.current),
                "description": "JSON-RPC 2.0 over ZeroMQ about a corpus of meeting transcripts.",
            ],
            "methods": .array(methods.map(describe)),
        ]
    }

    static func describe(_ method: MethodInfo) -> JSONValue {
        let properties = method.paramsSchema["properties"]?.objectValue ?? [:]
        let required = Set(method.paramsSchema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        return [
            "name": .string(method.name),
            "summary": .string(method.summary),
            "paramStructure": "by-name",
            "params": .array(properties.map { property in
                [
                    "name": .string(property.key),
                    "required": .bool(required.contains(property.key)),
                    "schema": property.value,
                ]
            }),
            "result": ["name": "result", "schema": method.resultSchema],
        ]
    }
}
