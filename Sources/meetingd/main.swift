// meetingd: the daemon's command line.

import ArgumentParser
import Foundation
import Logging
import MeetingIngest
import MeetingKit
import MeetingdClient
import MeetingdCore
import Synchronization

struct Meetingd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meetingd",
        abstract: "Answers JSON-RPC requests over ZeroMQ about a corpus of meeting transcripts.",
        // The build too: an out-of-tree Swift module must be compiled against the same one.
        version: "\(MeetingdVersion.current) (\(MeetingKitBuild.fingerprint))",
        subcommands: [Serve.self, CheckConfig.self, Ingest.self, Export.self, Keygen.self, Index.self, Analyze.self],
        defaultSubcommand: Serve.self
    )
}

/// Options every subcommand that reads the config shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "The YAML config file (default: $MEETINGD_CONFIG, the source tree's Config/meetingd.yaml for a development build, or /etc/meetingd/meetingd.yaml).")
    var config: String?

    @Option(name: .long, help: "Listen on this endpoint instead of the configured ones (repeatable).")
    var endpoint: [String] = []

    @Option(name: .long, help: "The SQLite corpus file.")
    var corpus: String?

    @Option(name: .long, help: "Worker threads (0 = one per core).")
    var workers: Int?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    var overrides: ConfigOverrides {
        ConfigOverrides(endpoints: endpoint, corpus: corpus, workers: workers, logLevel: logLevel)
    }

    func load() throws -> MeetingdConfig { try loadConfig(file: config, overrides: overrides) }
}

/// The resolved config, or every error in it on stderr and exit status 2.
/// `--config` and `--corpus`, as every command that works on the corpus takes them.
struct CorpusOptions: ParsableArguments {
    @Option(name: .long, help: "The YAML config file (it names the corpus).")
    var config: String?

    @Option(name: .long, help: "The SQLite corpus file (overrides the config).")
    var corpus: String?

    /// The config with `--corpus` applied; a bad config exits 2 with its problems.
    func load() throws -> MeetingdConfig { try loadConfig(file: config, overrides: ConfigOverrides(corpus: corpus)) }
}

func loadConfig(file: String?, overrides: ConfigOverrides) throws -> MeetingdConfig {
    do {
        return try ConfigLoader.load(file: file, overrides: overrides)
    } catch {
        FileHandle.standardError.write(Data("meetingd: \(error)\n".utf8))
        throw ExitCode(2)
    }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        // Signals are taken by one thread with sigwait, so block them everywhere first.
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, signal) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        let config = try options.load()
        MeetingdLogHandler.bootstrap(level: Logger.Level(rawValue: config.logLevel) ?? .info, format: config.logFormat)
        let logger = Logger(label: "meetingd")
        let slot = ServerSlot()
        startSignalThread(signals, slot: slot, logger: logger)
        do {
            var restartNeeded: [String] = []
            let modules = try ModuleLoader.loadAll(config, reserved: BuiltinMethods.names, restartNeeded: &restartNeeded)
            let metrics = ServerMetrics()
            try ingest(config, logger: logger, metrics: metrics)
            let (file, overrides) = (options.config, options.overrides)
            let hooks = ServerHooks(
                loadConfig: { try ConfigLoader.load(file: file, overrides: overrides) },
                prepareCorpus: { try ingest($0, logger: logger, metrics: metrics) })
            let server = Server(config: config, modules: modules, hooks: hooks, logger: logger, metrics: metrics)
            slot.server.withLock { $0 = server }
            try server.run()
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
    }

    /// SIGTERM/SIGINT stop the server (or, before it serves, the process); SIGHUP reloads.
    func startSignalThread(_ signals: sigset_t, slot: ServerSlot, logger: Logger) {
        let thread = Thread {
            var waitSet = signals
            var caught: Int32 = 0
            while sigwait(&waitSet, &caught) == 0 {
                let server = slot.server.withLock { $0 }
                switch (caught, server) {
                case (SIGHUP, let server?):
                    server.reload()
                case (SIGHUP, nil):
                    logger.warning("SIGHUP before serving: nothing to reload yet")
                case (_, let server?):
                    logger.info("received signal \(caught)")
                    server.requestStop()
                case (_, nil):
                    // Ingest commits in transactions, so stopping mid-way loses nothing. `_exit`, not
                    // `exit`: exit-time cleanup would run under the main thread still starting up.
                    logger.info("received signal \(caught) before serving; exiting")
                    fflush(nil)
                    _exit(0)
                }
            }
        }
        thread.name = "meetingd-signals"
        thread.start()
    }
}

/// The server, once there is one, for the signal thread.
final class ServerSlot: Sendable {
    let server = Mutex<Server?>(nil)
}

/// Brings the corpus up to date with the configured sources before serving.
/// A file that fails is logged and skipped; the daemon still starts.
func ingest(_ config: MeetingdConfig, logger: Logger, metrics: ServerMetrics) throws {
    guard !config.ingestPaths.isEmpty else { return }
    let ingester = try Ingester(corpusPath: config.corpusPath) { logger.info("\($0)") }
    ingester.retention = config.eventRetention
    ingester.observe = { metrics.ingesting(filesDone: $0.filesDone, filesTotal: $0.filesTotal, bytesDone: $0.bytesDone, bytesTotal: $0.bytesTotal) }
    let report = try ingester.ingest(paths: config.ingestPaths, prune: false)
    metrics.ingested(meetingsWritten: report.meetingsWritten, failedFiles: report.failed.count)
    logger.info("ingest at start: \(report.summary.prefix { $0 != "\n" })")
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Print the resolved configuration and every error in it; exit non-zero on any.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        do {
            let config = try ConfigLoader.load(file: options.config, overrides: options.overrides)
            print(ConfigLoader.describe(config).pretty())
            print("configuration OK")
        } catch {
            print("meetingd: \(error)")
            throw ExitCode(1)
        }
    }
}

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a CURVE key pair: NAME.key (the secret key, mode 0600) and NAME.pub (the public key).",
        discussion: "The server's NAME.key is security.curve.secret_key_file; a client's NAME.pub goes into security.curve.authorized_keys_dir. Existing files are never overwritten.")

    @Argument(help: "The files' name without extension, e.g. /etc/meetingd/curve/server or alice.")
    var name: String

    func run() throws {
        guard CurveKeys.isSupported else {
            FileHandle.standardError.write(Data("meetingd: this libzmq was built without CURVE\n".utf8))
            throw ExitCode(1)
        }
        do {
            let files = try CurveKeys.writePair(name: name)
            print("wrote \(files.keyFile) (secret: keep it private) and \(files.pubFile)")
        } catch {
            FileHandle.standardError.write(Data("meetingd: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

Meetingd.main()
