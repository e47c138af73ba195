// swift-tools-version:6.1
// The code that the daemon and every Swift module share. It is its own package
// so that SwiftPM links the dynamic product dynamically into both: one copy of
// these types (and of GRDB) per process, whatever number of modules is loaded.
import PackageDescription

let package = Package(
    name: "MeetingKit",
    products: [
        .library(name: "MeetingKit", type: .dynamic, targets: ["MeetingKit"]),
        // The search index core: no dependencies, so it builds fast and any module can use it.
        .library(name: "MeetingIndex", targets: ["MeetingIndex"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        .target(name: "CMeetingdModule"),
        // Snowball stemmers for the analyzer (Language/Analyzer.swift).
        .systemLibrary(name: "CSnowball", path: "Sources/CSnowball", providers: [.apt(["libstemmer-dev"])]),
        .target(name: "MeetingIndex"),
        .target(
            name: "MeetingKit",
            dependencies: [
                "CMeetingdModule", "CSnowball", "MeetingIndex",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The writer binds bulk inserts through the SQLite C API itself.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            // MeetingKitBuild.compiledAgainst, which the daemon checks every Swift module for.
            plugins: ["BuildFingerprint"]
        ),
        .executableTarget(name: "meetingkit-fingerprint"),
        .plugin(name: "BuildFingerprint", capability: .buildTool(), dependencies: ["meetingkit-fingerprint"]),
    ]
)
