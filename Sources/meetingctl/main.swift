// meetingctl: a client for meetingd. Calls any method, with friendly output for
// the common ones, and retries the Lazy Pirate way: a request that gets no reply
// within the timeout is resent on a fresh socket, up to --retries times.

import ArgumentParser
import Foundation
import MeetingKit
import MeetingdClient

struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "The daemon's endpoint (default: $MEETINGD_ENDPOINT, else the first endpoint of the config).")
    var endpoint: String?

    @Option(name: .long, help: "The daemon's config file, read for its endpoints only (default: $MEETINGD_CONFIG, else /etc/meetingd/meetingd.yaml).")
    var config: String?

    @Option(name: .long, help: "Milliseconds to wait for each reply.")
    var timeout: Int = 5000

    @Option(name: .long, help: "Tries before giving up (each on a fresh socket).")
    var retries: Int = 3

    @Flag(name: .long, help: "Print the JSON result, for scripts.")
    var json = false

    @Option(name: .long, help: "The daemon's CURVE public key file (its .pub), for a daemon that takes CURVE clients only (default: $MEETINGD_CURVE_SERVER_KEY).")
    var curveServerKey: String?

    @Option(name: .long, help: "This client's CURVE secret key file (a .key from `meetingd keygen`; its .pub must be authorized at the daemon) (default: $MEETINGD_CURVE_KEY).")
    var curveKey: String?

    /// The CURVE keys to connect with, or nil for a plain connection.
    func curve() throws -> CurveClientKeys? {
        let environment = ProcessInfo.processInfo.environment
        let serverKeyFile = curveServerKey ?? environment["MEETINGD_CURVE_SERVER_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let keyFile = curveKey ?? environment["MEETINGD_CURVE_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        switch (serverKeyFile, keyFile) {
        case (nil, nil): return nil
        case (let serverKeyFile?, let keyFile?):
            do { return try CurveClientKeys(serverKeyFile: serverKeyFile, secretKeyFile: keyFile) } catch {
                throw ValidationError("\(error)")
            }
        default:
            throw ValidationError("CURVE needs both --curve-server-key and --curve-key")
        }
    }

    /// The daemon's config file, read only for its endpoints.
    var configFile: String? { config ?? DaemonConfigFile.path(environment: ProcessInfo.processInfo.environment) }

    func resolvedEndpoint() throws -> String {
        if let endpoint { return endpoint }
        let environment = ProcessInfo.processInfo.environment
        if let endpoint = environment["MEETINGD_ENDPOINT"], !endpoint.isEmpty { return endpoint }
        do { return try DaemonConfigFile.requestEndpoint(file: configFile, environment: environment) } catch {
            throw ValidationError("\(error)")
        }
    }

    /// Sends one call and returns its result, or exits with the error it got.
    func call(_ method: String, _ params: JSONValue = .object([:])) throws -> JSONValue {
        let client = try MeetingdClient(endpoint: try resolvedEndpoint(), timeoutMs: timeout, tries: retries, curve: try curve())
        do {
            return try client.call(method, params)
        } catch let error as ClientError {
            FileHandle.standardError.write(Data("meetingctl: \(error)\n".utf8))
            throw ExitCode(3)
        } catch let error as RPCError {
            FileHandle.standardError.write(Data("meetingctl: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Meetingctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meetingctl",
        abstract: "Talk to a running meetingd.",
        version: MeetingdVersion.current,
        subcommands: [Call.self, Ping.self, Status.self, Modules.self, Reload.self, MeetingCommand.self, MeetingsCommand.self, PersonCommand.self, TurnsCommand.self, SearchCommand.self, SummariseCommand.self, AskCommand.self, WatchCommand.self, AlertCommand.self]
    )
}

struct Call: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Call any method with JSON params.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The method, e.g. lookup.meeting.") var method: String
    @Argument(help: "The params as a JSON object, e.g. '{\"id\":\"x\"}'.") var params: String = "{}"

    func run() throws {
        let parsed: JSONValue
        do { parsed = try JSONValue.parse(params) } catch {
            throw ValidationError("params are not valid JSON: \(error)")
        }
        let result = try client.call(method, parsed)
        print(client.json ? result.serialized : result.pretty())
    }
}

struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that the daemon answers.")
    @OptionGroup var client: ClientOptions

    func run() throws {
        let started = DispatchTime.now().uptimeNanoseconds
        let result = try client.call("meetingd.ping")
        let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        if client.json { print(result.serialized) } else {
            print("\(result.stringValue ?? result.serialized) from \(try client.resolvedEndpoint()) in \(String(format: "%.2f", ms)) ms")
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Version, uptime, corpus, modules and request figures.")
    @OptionGroup var client: ClientOptions

    func run() throws {
        let status = try client.call("meetingd.status")
        guard !client.json else { return print(status.serialized) }
        print("meetingd \(status["version"]?.stringValue ?? "?") (pid \(status["pid"]?.serialized ?? "?")), up \(status["uptime_s"]?.serialized ?? "?") s, \(status["workers"]?.serialized ?? "?") workers")
        print("endpoints: \(status["endpoints"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ", ") ?? "")")
        print("modules:   \(status["modules"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ", ") ?? "")")
        print("corpus:    \(status["corpus"]?.serialized ?? "")")
        print("requests:  \(status["requests"]?.serialized ?? "0")")
        guard let methods = status["methods"]?.objectValue, methods.count > 0 else { return }
        print("\n" + "method".padding(toLength: 24, withPad: " ", startingAt: 0) + "requests  errors   p50 µs   p99 µs")
        for (name, figures) in methods {
            let latency = figures["latency_us"]
            print(name.padding(toLength: 24, withPad: " ", startingAt: 0)
                  + pad(figures["requests"], 8) + pad(figures["errors"], 8) + pad(latency?["p50"], 9) + pad(latency?["p99"], 9))
        }
    }

    func pad(_ value: JSONValue?, _ width: Int) -> String {
        let text = value?.serialized ?? "-"
        return String(repeating: " ", count: max(width - text.count, 0)) + text + " "
    }
}

struct Modules: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The loaded modules and their methods.")
    @OptionGroup var client: ClientOptions

    func run() throws {
        let modules = try client.call("meetingd.modules")
        guard !client.json else { return print(modules.serialized) }
        for module in modules.arrayValue ?? [] {
            print("\(module["name"]?.stringValue ?? "?") \(module["version"]?.stringValue ?? "")  (\(module["path"]?.stringValue ?? ""))")
            for method in module["methods"]?.arrayValue ?? [] { print("  \(method.stringValue ?? "")") }
        }
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reload the daemon's config and wait for the outcome (for systemd's ExecReload).",
        discussion: "Sends SIGHUP, then watches meetingd.status until the reload is done. Exits 0 when it took effect, 1 when the new config was refused (the daemon keeps the old one).")
    @OptionGroup var client: ClientOptions
    @Option(name: .long, help: "The daemon's process id (default: the pid meetingd.status reports).")
    var pid: Int32?
    @Option(name: .long, help: "Milliseconds to wait for the reload to finish.")
    var wait: Int = 120_000

    func run() throws {
        let before = try client.call("meetingd.status")
        let attempts = before["reload"]?["attempts"]?.intValue ?? 0
        guard let target = pid ?? before["pid"]?.intValue.map(Int32.init) else {
            throw ValidationError("the daemon did not report its pid; pass --pid")
        }
        guard kill(target, SIGHUP) == 0 else {
            throw ValidationError("cannot signal process \(target): \(String(cString: strerror(errno)))")
        }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(wait) * 1_000_000
        while DispatchTime.now().uptimeNanoseconds < deadline {
            usleep(100_000)
            guard let status = try? client.call("meetingd.status"), let reload = status["reload"],
                  (reload["attempts"]?.intValue ?? 0) > attempts else { continue }
            if client.json { print(reload.serialized) }
            guard reload["ok"] == true else {
                FileHandle.standardError.write(Data("meetingctl: reload refused, the daemon keeps its previous config: \(reload["error"]?.stringValue ?? "")\n".utf8))
                throw ExitCode(1)
            }
            if !client.json { print("reloaded (generation \(reload["generation"]?.serialized ?? "?"))") }
            for note in reload["restart_needed"]?.arrayValue ?? [] { print("restart needed: \(note.stringValue ?? "")") }
            return
        }
        FileHandle.standardError.write(Data("meetingctl: the reload did not finish within \(wait) ms\n".utf8))
        throw ExitCode(3)
    }
}

Meetingctl.main()
