// swift-tools-version:6.0
import PackageDescription
import Foundation

// Modules export nothing but their `meetingd_` entry symbol.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
let moduleLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--version-script=\(packageRoot)/Plugins/module.exports"]),
]
let meetingKit: Target.Dependency = .product(name: "MeetingKit", package: "MeetingKit")

let package = Package(
    name: "meetingd",
    products: [
        .executable(name: "meetingd", targets: ["meetingd"]),
        .executable(name: "meetingctl", targets: ["meetingctl"]),
        .library(name: "MeetingdClient", targets: ["MeetingdClient"]),
        .library(name: "lookup", type: .dynamic, targets: ["LookupModule"]),
        .library(name: "search", type: .dynamic, targets: ["SearchModule"]),
        .library(name: "summarise", type: .dynamic, targets: ["SummariseModule"]),
        .library(name: "events", type: .dynamic, targets: ["EventsModule"]),
    ],
    dependencies: [
        .package(path: "Sources/MeetingKit"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The metrics' HTTP listener: small and without SwiftNIO, so it adds little to a build.
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CZeroMQ",
            path: "Sources/CZeroMQ",
            pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]
        ),
        // libsystemd, for sd_journal_sendv: log lines as journal entries with fields.
        .systemLibrary(
            name: "CSystemd",
            path: "Sources/CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // The request/reply client (Lazy Pirate, CURVE, JSON-RPC framing) and the CURVE
        // key files: meetingctl and the tests use it, without the server core.
        .target(name: "MeetingdClient", dependencies: ["CZeroMQ", meetingKit]),
        // The host: transport, routing, config, module loading and lifecycle.
        .target(
            name: "MeetingdCore",
            dependencies: [
                "CZeroMQ", "CSystemd", "MeetingdClient", meetingKit,
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "FlyingFox", package: "FlyingFox"),
            ]
        ),
        // Reading transcript formats and writing them into the corpus.
        .target(name: "MeetingIngest", dependencies: [meetingKit]),
        .executableTarget(
            name: "meetingd",
            dependencies: [
                "MeetingdCore", "MeetingdClient", "MeetingIngest", meetingKit,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "meetingctl",
            dependencies: [
                "CZeroMQ", "MeetingdClient", meetingKit,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Stock handler modules: loaded through the C ABI like any other.
        .target(name: "LookupModule", dependencies: [meetingKit], path: "Plugins/lookup",
                linkerSettings: moduleLinkerSettings),
        .target(name: "SearchModule", dependencies: [meetingKit], path: "Plugins/search",
                linkerSettings: moduleLinkerSettings),
        // scorer.json (the learned sentence scorer's weights), related.json (related words) and summary_words.json
        // (the words written answers keep) are compiled in, so an installed module carries them.
        .target(name: "SummariseModule", dependencies: [meetingKit], path: "Plugins/summarise",
                resources: [.embedInCode("scorer.json"), .embedInCode("related.json"), .embedInCode("summary_words.json")], linkerSettings: moduleLinkerSettings),
        .target(name: "EventsModule", dependencies: [meetingKit], path: "Plugins/events",
                linkerSettings: moduleLinkerSettings),
        // Not run in CI: Benchmarks/index/main.swift says how to run it.
        .executableTarget(name: "IndexBenchmark", dependencies: [.product(name: "MeetingIndex", package: "MeetingKit")],
                          path: "Benchmarks/index"),
        .testTarget(name: "MeetingdTests", dependencies: ["CZeroMQ", "MeetingdCore", "MeetingdClient", meetingKit]),
        .testTarget(name: "MeetingIngestTests", dependencies: ["MeetingIngest", meetingKit]),
        .testTarget(name: "MeetingKitTests", dependencies: [meetingKit], exclude: ["Fixtures"]),
        .testTarget(name: "MeetingIndexTests", dependencies: [.product(name: "MeetingIndex", package: "MeetingKit")]),
    ]
)

// The libFuzzer target for a worker's whole request path (Fuzz/Request): only when
// scripts/fuzz builds it, into its own build folder with the fuzzer and ASan on, so
// other builds never see it.
if ProcessInfo.processInfo.environment["MEETINGD_FUZZ_REQUEST"] != nil {
    package.targets.append(.executableTarget(name: "RequestFuzz", dependencies: ["MeetingdCore", "MeetingIngest", meetingKit],
                                             path: "Fuzz/Request"))
}
