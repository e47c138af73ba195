// What every worker may read: the config, the loaded modules, and the figures
// behind meetingd.status. Immutable once serving starts, except the per-worker
// statistics, which carry their own locks.

import Foundation
import MeetingKit

public final class ServerState: Sendable {
    public let config: MeetingdConfig
    public let modules: [LoadedModule]
    let workerStats: [WorkerStats]
    let startedAt = Date()
    let startedUptime = DispatchTime.now().uptimeNanoseconds
    let corpusFigures: @Sendable () -> JSONValue
    let openRPC: JSONValue

    public init(config: MeetingdConfig, modules: [LoadedModule], corpusFigures: @escaping @Sendable () -> JSONValue) {
        self.config = config
        self.modules = modules
        self.workerStats = (0..<config.workers).map { _ in WorkerStats() }
        self.corpusFigures = corpusFigures
        self.openRPC = OpenRPC.document(modules: modules)
    }

    var uptimeSeconds: Double { Double(DispatchTime.now().uptimeNanoseconds - startedUptime) / 1e9 }

    func status() -> JSONValue {
        let merged = StatsReport.merged(workerStats)
        let total = merged.values.reduce(UInt64(0)) { $0 + $1.requests }
        return [
            "version": .string(MeetingdVersion.current),
            "abi_version": JSONValue(MeetingdVersion.moduleABI),
            "pid": JSONValue(Int(getpid())),
            "started": .string(ISO8601DateFormatter().string(from: startedAt)),
            "uptime_s": .double((uptimeSeconds * 10).rounded() / 10),
            "workers": JSONValue(config.workers),
            "endpoints": .array(config.endpoints.map(JSONValue.string)),
            "config_file": JSONValue(config.file),
            "corpus": corpusFigures(),
            "modules": .array(modules.map { .string($0.name) }),
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
