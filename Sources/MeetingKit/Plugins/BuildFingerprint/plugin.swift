// Stamps MeetingKit with its build fingerprint: a hash of the sources it is built
// from (its own and its targets'), the versions of the packages it depends on, and
// the Swift compiler's version. A module built against the installed SDK sources
// with the same compiler gets the daemon's fingerprint; anything else does not.
import Foundation
import PackagePlugin

@main
struct BuildFingerprint: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        // Every file of this package's Sources (the ABI header included, which no target lists
        // as a source); the packages it depends on by their versions.
        let sourcesFolder = context.package.directoryURL.appending(path: "Sources")
        let sources = (FileManager.default.enumerator(at: sourcesFolder, includingPropertiesForKeys: [.isDirectoryKey],
                                                       options: .skipsHiddenFiles)?.allObjects as? [URL] ?? [])
            .filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) != true }
        let packages = context.package.dependencies.map { dependency in
            switch dependency.package.origin {
            case .repository(let url, let version, let revision): "\(url) \(version) \(revision)"
            case .registry(let identity, let version): "\(identity) \(version)"
            case .local(let path): "local \(path)"
            case .root: "root"
            @unknown default: "\(dependency.package.origin)"
            }
        }
        // The compiler's version is an argument, so a new compiler re-runs the command.
        let swiftc = try context.tool(named: "swiftc").url
        let compiler = try run(swiftc, ["--version"]).split(separator: "\n").first.map(String.init) ?? ""
        let output = context.pluginWorkDirectoryURL.appending(path: "MeetingKitBuild+Fingerprint.swift")
        return [.buildCommand(
            displayName: "Stamping MeetingKit's build fingerprint",
            executable: try context.tool(named: "meetingkit-fingerprint").url,
            arguments: [output.path, context.package.directoryURL.path, compiler] + packages.sorted().flatMap { ["--package", $0] }
                + sources.map(\.path),
            inputFiles: sources,
            outputFiles: [output])]
    }

    private func run(_ tool: URL, _ arguments: [String]) throws -> String {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = tool
        process.arguments = arguments
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
