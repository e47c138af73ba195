// meetingd's configuration: built-in defaults, then a YAML file, then MEETINGD_*
// environment variables, then command-line flags, each layer overriding the one
// before. Every error is collected (unknown keys included) so that
// `meetingd check-config` can list them all at once.

import Foundation
import MeetingdClient
import MeetingKit
import Yams

public struct ModuleConfig: Sendable, Equatable {
    public var name: String
    public var enabled: Bool
    /// An explicit library path; otherwise the module is looked up in the module directories.
    public var path: String?
    /// The module's own section, handed to its `open` as JSON.
    public var settings: JSONValue
}

public struct Limits: Sendable, Equatable {
    /// A request message, all its frames together.
    public var maxMessageBytes: Int
    /// Frames before the request body (routing ids, the REQ delimiter), each at most `envelopeFrameBytes`.
    public var maxEnvelopeFrames: Int
    public var maxBatch: Int
    public var maxReplyBytes: Int
    public var requestDeadlineMs: Int
    /// How long a module may run on one call, unless `methodRunningMs` names the method.
    public var maxRunningMs: Int
    /// Per-method running-time budgets, overriding `maxRunningMs`.
    public var methodRunningMs: [String: Int] = [:]
    public var maxQueued: Int
    public var shutdownGraceMs: Int
    /// Client connections at once; past it the oldest is closed.
    public var maxConnections: Int
    /// Replies waiting for one client to read them (ZMQ_SNDHWM); past it, replies to it are dropped.
    public var maxUnreadReplies: Int

    /// ZeroMQ's own limit on a routing id; an envelope frame is never longer.
    public static let envelopeFrameBytes = 255

    /// The running-time budget of one call to `method`, in milliseconds.
    public func runningBudgetMs(for method: String) -> Int { methodRunningMs[method] ?? maxRunningMs }

    static let runningMsRange = 1...3_600_000

    /// Each limit's key and the values it may take. The upper bounds keep every sum and
    /// product made of them in range: a millisecond count times 1,000,000 stays far
    /// below UInt64 and Int nanoseconds.
    static let bounds: [(key: String, range: ClosedRange<Int>, path: WritableKeyPath<Limits, Int> & Sendable)] = [
        ("max_message_bytes", 256...(256 << 20), \.maxMessageBytes),
        ("max_envelope_frames", 1...32, \.maxEnvelopeFrames),
        ("max_batch", 1...10_000, \.maxBatch),
        ("max_reply_bytes", 4096...(1 << 30), \.maxReplyBytes),
        ("request_deadline_ms", 1...3_600_000, \.requestDeadlineMs),
        ("max_running_ms", runningMsRange, \.maxRunningMs),
        ("max_queued", 1...1_000_000, \.maxQueued),
        ("shutdown_grace_ms", 0...3_600_000, \.shutdownGraceMs),
        ("max_connections", 1...65_536, \.maxConnections),
        ("max_unread_replies", 1...100_000, \.maxUnreadReplies),
    ]
}

/// Who may talk to the daemon. With `curve` unset, any client that reaches an
/// endpoint may; that is only allowed on loopback and ipc unless
/// `allowPlaintextNetwork` says otherwise.
public struct SecurityConfig: Sendable, Equatable {
    public struct Curve: Sendable, Equatable {
        /// The server's secret key: a `.key` file written by `meetingd keygen`.
        public var secretKeyFile: String
        /// Clients' `.pub` files; only these keys get in. Re-read on reload.
        public var authorizedKeysDir: String
    }

    public var curve: Curve?
    public var allowPlaintextNetwork: Bool
}

/// Where Prometheus scrapes the metrics over HTTP; `meetingd.metrics` serves them over ZeroMQ either way.
public struct MetricsConfig: Sendable, Equatable {
    /// An IP address and port: `127.0.0.1:9464`, `[::1]:9464`, or `localhost:9464` (127.0.0.1).
    public struct Listen: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: UInt16
        public var isIPv6: Bool { host.contains(":") }
        public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

        struct Invalid: Error { let reason: String }

        /// The address `text` names, or why it names none.
        static func parse(_ text: String) throws(Invalid) -> Listen {
            guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else {
                throw Invalid(reason: "expected HOST:PORT with a port from 1 to 65535, e.g. 127.0.0.1:9464, got '\(text)'")
            }
            var host = String(text[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            if host == "localhost" { host = "127.0.0.1" }
            var address = in6_addr()
            let family = host.contains(":") ? AF_INET6 : AF_INET
            guard inet_pton(family, host, &address) == 1 else {
                throw Invalid(reason: "'\(text)': the host must be an IPv4 address, an IPv6 address in brackets, or localhost")
            }
            return Listen(host: host, port: port)
        }
    }

    /// Off (nil) by default.
    public var listen: Listen?
}

public struct MeetingdConfig: Sendable, Equatable {
    public var endpoints: [String]
    public var workers: Int
    public var corpusPath: String
    /// The daemon's own writable files (the alerts' state.sqlite); by default the corpus's folder.
    public var stateDirectory: String
    public var ingestPaths: [String]
    public var moduleDirs: [String]
    /// Load a module library that someone besides root and the daemon's user could have
    /// written, with a warning, instead of refusing it.
    public var allowInsecureModules: Bool
    public var modules: [ModuleConfig]
    public var limits: Limits
    public var security: SecurityConfig
    public var logLevel: String
    /// How lines look on stderr when it is not the journal; read at start.
    public var logFormat = LogFormat.text
    /// Where the change log is published (none: no event stream), and how often the corpus is checked for new changes.
    public var eventEndpoints: [String] = []
    public var eventPollMs: Int = 100
    /// How much of the change log ingest keeps.
    public var eventRetention = ChangeLog.Retention()
    public var metrics = MetricsConfig()
    /// The file the config was read from, or nil for built-in defaults alone.
    public var file: String?

    public var enabledModules: [ModuleConfig] { modules.filter(\.enabled) }
}

/// What command-line flags override.
public struct ConfigOverrides: Sendable {
    public var endpoints: [String]
    public var corpus: String?
    public var workers: Int?
    public var logLevel: String?

    public init(endpoints: [String] = [], corpus: String? = nil, workers: Int? = nil, logLevel: String? = nil) {
        self.endpoints = endpoints
        self.corpus = corpus
        self.workers = workers
        self.logLevel = logLevel
    }
}

public struct ConfigError: Error, CustomStringConvertible {
    public let problems: [String]
    public let file: String?
    public var description: String {
        "invalid configuration\(file.map { " in \($0)" } ?? ""):\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

public enum ConfigLoader {
    public static let stockModules = ["lookup", "search", "summarise", "events"]
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    static let topLevelKeys: Set = ["endpoints", "workers", "corpus", "ingest", "module_dirs", "allow_insecure_modules",
                                    "modules", "limits", "security", "log_level", "log_format", "events", "state_dir", "metrics"]
    static var limitKeys: [String] { Limits.bounds.map(\.key) + ["method_running_ms"] }
    /// At most this many workers: each is a thread with its own module instances.
    static let maxWorkers = 1024
    static let moduleKeys: Set = ["enabled", "path", "settings"]
    /// Environment variables the daemon reads, mapped to config keys.
    static let environmentKeys: [String: String] = [
        "MEETINGD_ENDPOINTS": "endpoints", "MEETINGD_WORKERS": "workers", "MEETINGD_CORPUS": "corpus",
        "MEETINGD_INGEST": "ingest", "MEETINGD_STATE_DIR": "state_dir", "MEETINGD_METRICS_LISTEN": "metrics.listen", "MEETINGD_MODULE_DIRS": "module_dirs", "MEETINGD_LOG_LEVEL": "log_level",
        "MEETINGD_LOG_FORMAT": "log_format",
    ].merging(Limits.bounds.map { ("MEETINGD_LIMITS_\($0.key.uppercased())", "limits.\($0.key)") }) { $1 }

    static func defaults() -> JSONObject {
        [
            "endpoints": [.string(DaemonConfigFile.defaultEndpoint)],
            "workers": 0,
            "corpus": "/var/lib/meetingd/corpus.sqlite",
            "ingest": [],
            // A development build's modules sit next to its binary; the package's in /usr/lib/meetingd/modules.
            "module_dirs": .array([DaemonConfigFile.executableDirectory, "/usr/lib/meetingd/modules"].map(JSONValue.string)),
            "allow_insecure_modules": false,
            "modules": .object(JSONObject(stockModules.map { (key: $0, value: .object([:])) })),
            "limits": [
                "max_message_bytes": 1_048_576,
                "max_envelope_frames": 4,
                "max_batch": 100,
                "max_reply_bytes": 16_777_216,
                "request_deadline_ms": 30_000,
                "max_running_ms": 10_000,
                "method_running_ms": [:],
                "max_queued": 1024,
                "shutdown_grace_ms": 10_000,
                "max_connections": 512,
                "max_unread_replies": 100,
            ],
            "security": ["allow_plaintext_network": false],
            "log_level": "info",
            "log_format": "text",
            "events": ["endpoints": [], "poll_ms": 100, "retention": ["count": 100_000]],
            "metrics": ["listen": .null],
        ]
    }

    public static func load(
        file: String?, overrides: ConfigOverrides = ConfigOverrides(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> MeetingdConfig {
        let file = file ?? DaemonConfigFile.path(environment: environment)
        var problems: [String] = []
        var tree = defaults()

        if let file {
            let fileDirectory = URL(fileURLWithPath: file).deletingLastPathComponent().path
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ConfigError(problems: [FileManager.default.fileExists(atPath: file) ? "not readable" : "no such file"], file: file)
            }
            do {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                let root = try Yams.compose(yaml: text).map(jsonValue) ?? .object([:])
                guard case .object(let fileTree) = root else {
                    throw ConfigError(problems: ["the file must hold a YAML mapping"], file: file)
                }
                for (key, value) in fileTree {
                    guard topLevelKeys.contains(key) else {
                        problems.append("unknown key '\(key)' (known: \(topLevelKeys.sorted().joined(separator: ", ")))")
                        continue
                    }
                    tree[key] = ["limits", "security", "events", "metrics"].contains(key) ? merge(value, into: tree[key]!) : value
                }
                resolvePaths(in: &tree, relativeTo: fileDirectory)
            } catch let error as ConfigError {
                throw error
            } catch {
                throw ConfigError(problems: ["cannot read: \(error)"], file: file)
            }
        }

        for (variable, key) in environmentKeys {
            guard let text = environment[variable] else { continue }
            let value: JSONValue
            switch key {
            case "endpoints", "ingest", "module_dirs":
                value = .array(text.split(separator: key == "endpoints" ? "," : ":").map { .string(String($0)) })
            case "corpus", "log_level", "log_format", "state_dir", "metrics.listen":
                value = .string(text)
            default:
                guard let number = Int64(text) else {
                    problems.append("\(variable): expected an integer, got '\(text)'")
                    continue
                }
                value = .int(number)
            }
            set(&tree, key, value)
        }

        if !overrides.endpoints.isEmpty { tree["endpoints"] = .array(overrides.endpoints.map(JSONValue.string)) }
        if let corpus = overrides.corpus { tree["corpus"] = .string(corpus) }
        if let workers = overrides.workers { tree["workers"] = .int(Int64(workers)) }
        if let level = overrides.logLevel { tree["log_level"] = .string(level) }

        let config = decode(tree, file: file, problems: &problems)
        if !problems.isEmpty { throw ConfigError(problems: problems, file: file) }
        return config
    }

    /// The resolved configuration as JSON, for `check-config` and `meetingd.status`.
    public static func describe(_ config: MeetingdConfig) -> JSONValue {
        [
            "file": JSONValue(config.file),
            "endpoints": .array(config.endpoints.map(JSONValue.string)),
            "workers": JSONValue(config.workers),
            "corpus": .string(config.corpusPath),
            "state_dir": .string(config.stateDirectory),
            "ingest": .array(config.ingestPaths.map(JSONValue.string)),
            "module_dirs": .array(config.moduleDirs.map(JSONValue.string)),
            "allow_insecure_modules": .bool(config.allowInsecureModules),
            "modules": .object(JSONObject(config.modules.map { module in
                (key: module.name, value: [
                    "enabled": .bool(module.enabled), "path": JSONValue(module.path), "settings": module.settings,
                ])
            })),
            "limits": .object(JSONObject(Limits.bounds.map { (key: $0.key, value: JSONValue(config.limits[keyPath: $0.path])) }
                + [(key: "method_running_ms", value: .object(JSONObject(config.limits.methodRunningMs.sorted { $0.key < $1.key }
                    .map { (key: $0.key, value: JSONValue($0.value)) })))])),
            "security": [
                "curve": config.security.curve.map { curve in
                    ["secret_key_file": .string(curve.secretKeyFile), "authorized_keys_dir": .string(curve.authorizedKeysDir)]
                } ?? .null,
                "allow_plaintext_network": .bool(config.security.allowPlaintextNetwork),
            ],
            "log_level": .string(config.logLevel),
            "log_format": .string(config.logFormat.rawValue),
            "events": [
                "endpoints": .array(config.eventEndpoints.map(JSONValue.string)), "poll_ms": JSONValue(config.eventPollMs),
                "retention": ["count": .int(config.eventRetention.count), "days": config.eventRetention.maxAgeDays.map { JSONValue($0) } ?? .null],
            ],
            "metrics": ["listen": config.metrics.listen.map { .string($0.description) } ?? .null],
        ]
    }

    // MARK: - Layers

    static func merge(_ value: JSONValue, into base: JSONValue) -> JSONValue {
        guard case .object(let overlay) = value, case .object(var merged) = base else { return value }
        for (key, member) in overlay { merged[key] = member }
        return .object(merged)
    }

    static func set(_ tree: inout JSONObject, _ dottedKey: String, _ value: JSONValue) {
        let parts = dottedKey.split(separator: ".").map(String.init)
        if parts.count == 1 {
            tree[parts[0]] = value
        } else if case .object(var inner)? = tree[parts[0]] {
            inner[parts[1]] = value
            tree[parts[0]] = .object(inner)
        }
    }

    /// Paths in a file are relative to that file, so a config can sit next to its data.
    static func resolvePaths(in tree: inout JSONObject, relativeTo directory: String) {
        func absolute(_ value: JSONValue) -> JSONValue {
            guard case .string(let path) = value, !path.hasPrefix("/") else { return value }
            return .string(URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory + "/")).standardizedFileURL.path)
        }
        for key in ["corpus", "state_dir"] {
            if let path = tree[key] { tree[key] = absolute(path) }
        }
        for key in ["ingest", "module_dirs"] {
            if case .array(let paths)? = tree[key] { tree[key] = .array(paths.map(absolute)) }
        }
        if case .object(var security)? = tree["security"], case .object(var curve)? = security["curve"] {
            for key in ["secret_key_file", "authorized_keys_dir"] {
                guard let path = curve[key].map(expandingCredentialsDirectory) else { continue }
                // An unexpanded $CREDENTIALS_DIRECTORY stays as written, for the error to name it.
                curve[key] = path.stringValue?.hasPrefix("$") == true ? path : absolute(path)
            }
            security["curve"] = .object(curve)
            tree["security"] = .object(security)
        }
        if case .object(var modules)? = tree["modules"] {
            for (name, section) in modules {
                guard case .object(var body) = section, let path = body["path"] else { continue }
                body["path"] = absolute(path)
                modules[name] = .object(body)
            }
            tree["modules"] = .object(modules)
        }
    }

    /// systemd's `LoadCredential=` puts the server key under `$CREDENTIALS_DIRECTORY`,
    /// which only the running service knows, so a config may name it so.
    static func expandingCredentialsDirectory(_ value: JSONValue) -> JSONValue {
        guard case .string(let path) = value else { return value }
        for prefix in ["${CREDENTIALS_DIRECTORY}/", "$CREDENTIALS_DIRECTORY/"] where path.hasPrefix(prefix) {
            guard let directory = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"] else { return value }
            return .string(directory + "/" + path.dropFirst(prefix.count))
        }
        return value
    }

    /// Whether a tcp endpoint only listens on this host. Anything else (ipc, inproc) is local.
    static func isLoopback(_ endpoint: String) -> Bool {
        guard endpoint.hasPrefix("tcp://") else { return true }
        var host = endpoint.dropFirst("tcp://".count)
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return host == "localhost" || host == "::1" || host == "lo" || host.hasPrefix("127.")
    }

    static func decodeSecurity(_ value: JSONValue?, endpoints: [String], problems: inout [String]) -> SecurityConfig {
        var security = SecurityConfig(curve: nil, allowPlaintextNetwork: false)
        guard case .object(let tree)? = value else {
            problems.append("security: expected a mapping")
            return security
        }
        for key in tree.keys where !["curve", "allow_plaintext_network"].contains(key) {
            problems.append("security: unknown key '\(key)' (known: allow_plaintext_network, curve)")
        }
        if let allow = tree["allow_plaintext_network"] {
            if let flag = allow.boolValue { security.allowPlaintextNetwork = flag } else {
                problems.append("security.allow_plaintext_network: expected true or false, got \(allow.serialized)")
            }
        }
        switch tree["curve"] {
        case nil, .null?:
            break
        case .object(let curve)?:
            for key in curve.keys where !["secret_key_file", "authorized_keys_dir"].contains(key) {
                problems.append("security.curve: unknown key '\(key)' (known: authorized_keys_dir, secret_key_file)")
            }
            let secret = curve["secret_key_file"]?.stringValue ?? ""
            let authorized = curve["authorized_keys_dir"]?.stringValue ?? ""
            if secret.isEmpty { problems.append("security.curve.secret_key_file: expected the path of a .key file from `meetingd keygen`") }
            if secret.hasPrefix("$") { problems.append("security.curve.secret_key_file: \(secret): $CREDENTIALS_DIRECTORY is not set (only systemd's LoadCredential= sets it)") }
            if authorized.isEmpty { problems.append("security.curve.authorized_keys_dir: expected the folder of the clients' .pub files") }
            security.curve = SecurityConfig.Curve(secretKeyFile: secret, authorizedKeysDir: authorized)
        case let other?:
            problems.append("security.curve: expected a mapping with secret_key_file and authorized_keys_dir, got \(other.serialized)")
        }
        if security.curve == nil && !security.allowPlaintextNetwork {
            for endpoint in endpoints where !isLoopback(endpoint) {
                problems.append("endpoints: '\(endpoint)' is reachable from other hosts without encryption; "
                    + "turn on security.curve, or set security.allow_plaintext_network: true")
            }
        }
        return security
    }

    // MARK: - Decoding

    static func decode(_ tree: JSONObject, file: String?, problems: inout [String]) -> MeetingdConfig {
        func strings(_ key: String) -> [String] {
            guard case .array(let values)? = tree[key] else {
                problems.append("\(key): expected a list of strings")
                return []
            }
            return values.compactMap { value in
                if let string = value.stringValue, !string.isEmpty { return string }
                problems.append("\(key): expected non-empty strings, got \(value.serialized)")
                return nil
            }
        }
        func integer(_ value: JSONValue?, _ key: String, in range: ClosedRange<Int>) -> Int {
            guard let number = value?.intValue, range.contains(number) else {
                problems.append("\(key): expected an integer from \(range.lowerBound) to \(range.upperBound), got \(value?.serialized ?? "nothing")")
                return range.lowerBound
            }
            return number
        }

        let endpoints = strings("endpoints")
        if endpoints.isEmpty { problems.append("endpoints: at least one endpoint is needed") }
        for endpoint in endpoints where !["tcp://", "ipc://", "inproc://"].contains(where: endpoint.hasPrefix) {
            problems.append("endpoints: '\(endpoint)' is not a tcp:// or ipc:// address")
        }

        var workers = integer(tree["workers"], "workers", in: 0...maxWorkers)
        if workers == 0 { workers = ProcessInfo.processInfo.activeProcessorCount }

        let corpus = tree["corpus"]?.stringValue ?? ""
        if corpus.isEmpty { problems.append("corpus: expected a file path") }
        var stateDirectory = URL(fileURLWithPath: corpus).deletingLastPathComponent().path
        if let value = tree["state_dir"] {
            if let path = value.stringValue, !path.isEmpty { stateDirectory = path } else {
                problems.append("state_dir: expected a folder path, got \(value.serialized)")
            }
        }

        let logLevel = tree["log_level"]?.stringValue ?? ""
        if !logLevels.contains(logLevel) {
            problems.append("log_level: expected one of \(logLevels.joined(separator: ", ")), got '\(logLevel)'")
        }
        let logFormat = tree["log_format"]?.stringValue.flatMap(LogFormat.init(rawValue:))
        if logFormat == nil {
            problems.append("log_format: expected one of \(LogFormat.allCases.map(\.rawValue).joined(separator: ", ")), got \(tree["log_format"]?.serialized ?? "nothing")")
        }

        let allowInsecureModules = tree["allow_insecure_modules"]?.boolValue ?? false
        if tree["allow_insecure_modules"]?.boolValue == nil {
            problems.append("allow_insecure_modules: expected true or false, got \(tree["allow_insecure_modules"]?.serialized ?? "nothing")")
        }

        var limits = Limits(maxMessageBytes: 0, maxEnvelopeFrames: 0, maxBatch: 0, maxReplyBytes: 0, requestDeadlineMs: 0,
                            maxRunningMs: 0, maxQueued: 0, shutdownGraceMs: 0, maxConnections: 0, maxUnreadReplies: 0)
        if case .object(let limitTree)? = tree["limits"] {
            for key in limitTree.keys where !limitKeys.contains(key) {
                problems.append("limits: unknown key '\(key)' (known: \(limitKeys.sorted().joined(separator: ", ")))")
            }
            for bound in Limits.bounds {
                limits[keyPath: bound.path] = integer(limitTree[bound.key], "limits.\(bound.key)", in: bound.range)
            }
            switch limitTree["method_running_ms"] {
            case .object(let budgets)?:
                for (method, value) in budgets {
                    let key = "limits.method_running_ms.\(method)"
                    if method.range(of: #"^[a-z][a-z0-9_]*\.[A-Za-z0-9_.]+$"#, options: .regularExpression) == nil {
                        problems.append("\(key): expected a method name, module.operation")
                    }
                    limits.methodRunningMs[method] = integer(value, key, in: Limits.runningMsRange)
                }
            case nil, .null?: break
            case let other?: problems.append("limits.method_running_ms: expected a mapping of method names to milliseconds, got \(other.serialized)")
            }
        } else {
            problems.append("limits: expected a mapping")
        }

        var modules: [ModuleConfig] = []
        if case .object(let moduleTree)? = tree["modules"] {
            for (name, section) in moduleTree {
                let body: JSONObject
                switch section {
                case .object(let object): body = object
                case .null: body = [:]
                default:
                    problems.append("modules.\(name): expected a mapping, got \(section.serialized)")
                    continue
                }
                for key in body.keys where !moduleKeys.contains(key) {
                    problems.append("modules.\(name): unknown key '\(key)' (known: enabled, path, settings; module settings go under 'settings')")
                }
                let enabled = body["enabled"]?.boolValue ?? true
                if let value = body["enabled"], value.boolValue == nil {
                    problems.append("modules.\(name).enabled: expected true or false, got \(value.serialized)")
                }
                let settings = body["settings"] ?? .object([:])
                if settings.objectValue == nil {
                    problems.append("modules.\(name).settings: expected a mapping, got \(settings.serialized)")
                }
                modules.append(ModuleConfig(name: name, enabled: enabled, path: body["path"]?.stringValue, settings: settings))
            }
        } else {
            problems.append("modules: expected a mapping of module names")
        }

        var eventEndpoints: [String] = []
        var eventPollMs = 100
        var eventRetention = ChangeLog.Retention()
        if case .object(let events)? = tree["events"] {
            for key in events.keys where !["endpoints", "poll_ms", "retention"].contains(key) {
                problems.append("events: unknown key '\(key)' (known: endpoints, poll_ms, retention)")
            }
            if case .array(let values)? = events["endpoints"] {
                eventEndpoints = values.compactMap(\.stringValue)
                if eventEndpoints.count != values.count { problems.append("events.endpoints: expected a list of strings") }
            } else {
                problems.append("events.endpoints: expected a list of strings")
            }
            for endpoint in eventEndpoints where !["tcp://", "ipc://"].contains(where: endpoint.hasPrefix) {
                problems.append("events.endpoints: '\(endpoint)' is not a tcp:// or ipc:// address")
            }
            if let overlap = eventEndpoints.first(where: endpoints.contains) {
                problems.append("events.endpoints: '\(overlap)' is also a request endpoint")
            }
            eventPollMs = integer(events["poll_ms"], "events.poll_ms", in: 10...60_000)
            if case .object(let retention)? = events["retention"] {
                for key in retention.keys where !["count", "days"].contains(key) {
                    problems.append("events.retention: unknown key '\(key)' (known: count, days)")
                }
                // A file's mapping replaces the default one whole: count stays 100,000 unless given.
                if let count = retention["count"] {
                    eventRetention.count = Int64(integer(count, "events.retention.count", in: 1...1_000_000_000))
                }
                if let days = retention["days"], days != .null {
                    eventRetention.maxAgeDays = integer(days, "events.retention.days", in: 1...36_500)
                }
            } else {
                problems.append("events.retention: expected a mapping with count and/or days")
            }
        } else {
            problems.append("events: expected a mapping")
        }

        let security = decodeSecurity(tree["security"], endpoints: endpoints + eventEndpoints, problems: &problems)
        let metrics = decodeMetrics(tree["metrics"], problems: &problems)

        var config = MeetingdConfig(
            endpoints: endpoints, workers: workers, corpusPath: corpus, stateDirectory: stateDirectory, ingestPaths: strings("ingest"),
            moduleDirs: strings("module_dirs"), allowInsecureModules: allowInsecureModules, modules: modules, limits: limits,
            security: security, logLevel: logLevel, file: file)
        config.logFormat = logFormat ?? .text
        config.eventEndpoints = eventEndpoints
        config.eventPollMs = eventPollMs
        config.eventRetention = eventRetention
        config.metrics = metrics
        return config
    }

    static func decodeMetrics(_ value: JSONValue?, problems: inout [String]) -> MetricsConfig {
        guard case .object(let section)? = value else {
            problems.append("metrics: expected a mapping, e.g. {listen: 127.0.0.1:9464}")
            return MetricsConfig()
        }
        for key in section.keys where key != "listen" {
            problems.append("metrics: unknown key '\(key)' (known: listen)")
        }
        switch section["listen"] {
        case nil, .null?:
            return MetricsConfig()
        case .string(let text)?:
            do { return MetricsConfig(listen: try MetricsConfig.Listen.parse(text)) }
            catch { problems.append("metrics.listen: \(error.reason)") }
        case let other?:
            problems.append("metrics.listen: expected HOST:PORT, e.g. 127.0.0.1:9464, got \(other.serialized)")
        }
        return MetricsConfig()
    }

    static func jsonValue(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch node.tag.description {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case Tag.Name.int.rawValue: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case Tag.Name.float.rawValue: return node.float.map(JSONValue.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            return .object(JSONObject(mapping.map { (key: $0.key.string ?? "\($0.key)", value: jsonValue($0.value)) }))
        case .sequence(let sequence):
            return .array(sequence.map(jsonValue))
        }
    }
}
