// One log line per event. When stderr is the journal ($JOURNAL_STREAM names its
// device and inode, as systemd documents), each line is sent as a journal entry
// through the native protocol (sd_journal_sendv), its metadata as MEETINGD_*
// fields; otherwise it goes to stderr as `key=value` text or, with
// `log_format: json`, as one JSON object per line for other supervisors.
//
// A line written on a worker thread while it is on a request carries that
// request's id and method, whoever writes it (the dispatcher, the alerts, a
// module through the C ABI's log function): see RequestLogContext.

import CSystemd
import Foundation
import Logging
import MeetingKit
import Synchronization

/// `log_format`: how lines look on stderr when stderr is not the journal.
public enum LogFormat: String, CaseIterable, Sendable {
    case text, json
}

/// `log_level` and `log_format` as in force now, for every logger in the process:
/// set at start and again by each reload, read by every line.
public enum LogSettings {
    private static let levelIndex = Atomic<Int>(index(.info))
    private static let json = Atomic<Bool>(false)

    public static var level: Logger.Level { Logger.Level.allCases[levelIndex.load(ordering: .relaxed)] }
    static var format: LogFormat { json.load(ordering: .relaxed) ? .json : .text }

    public static func apply(level: Logger.Level, format: LogFormat) {
        levelIndex.store(index(level), ordering: .relaxed)
        json.store(format == .json, ordering: .relaxed)
    }

    private static func index(_ level: Logger.Level) -> Int { Logger.Level.allCases.firstIndex(of: level)! }
}

public struct MeetingdLogHandler: LogHandler {
    /// `stderr` writes `LogSettings.format`. `journalStream`: stderr is the journal but its socket is
    /// out of reach (libsystemd would drop lines silently), so lines go to stderr with a `<N>` priority prefix.
    enum Sink: Sendable { case stderr, journal, journalStream }

    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    /// The process's `log_level`, unless this logger was given a level of its own.
    public var logLevel: Logger.Level {
        get { ownLevel ?? LogSettings.level }
        set { ownLevel = newValue }
    }
    private var ownLevel: Logger.Level?
    private let label: String
    private let sink: Sink

    init(label: String, sink: Sink, metadataProvider: Logger.MetadataProvider?) {
        self.label = label
        self.sink = sink
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Routes swift-log once per process: to the journal when stderr is the journal, else to
    /// stderr in `format`. A reload changes the level and format through `LogSettings`.
    public static func bootstrap(level: Logger.Level, format: LogFormat) {
        LogSettings.apply(level: level, format: format)
        let sink: Sink = if stderrIsJournal {
            access(journalSocket, W_OK) == 0 ? .journal : .journalStream
        } else {
            .stderr
        }
        LoggingSystem.bootstrap({ label, provider in
            MeetingdLogHandler(label: label, sink: sink, metadataProvider: provider)
        }, metadataProvider: RequestLogContext.metadataProvider)
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        // Messages and metadata quote clients and files: escaped, so no line forges another.
        let message = "\(event.message)".escapingControls
        let fields = merged.keys.sorted().map { (key: $0, value: "\(merged[$0]!)".escapingControls) }
        switch (sink, LogSettings.format) {
        case (.stderr, .text):
            Self.writeToStderr(Self.timestamp() + " " + textLine(event.level, message, fields) + "\n")
        case (.stderr, .json):
            var object = JSONObject([(key: "time", value: .string(Self.timestamp())), (key: "level", value: .string("\(event.level)")),
                                     (key: "logger", value: .string(label)), (key: "message", value: .string(message))])
            for field in fields where object[field.key] == nil { object[field.key] = .string(field.value) }
            var line: [UInt8] = []
            JSONValue.object(object).write(to: &line)
            line.append(UInt8(ascii: "\n"))
            Self.writeToStderr(line)
        case (.journal, _):
            let text = textLine(event.level, message, fields)
            if !sendToJournal(text, event: event, fields: fields) {
                // Refused (too large, say): stderr still reaches the journal, as a stream.
                Self.writeToStderr("<\(Self.syslogPriority(event.level))>" + text + "\n")
            }
        case (.journalStream, _):
            Self.writeToStderr("<\(Self.syslogPriority(event.level))>" + textLine(event.level, message, fields) + "\n")
        }
    }

    /// The line as people read it: what stderr shows after its time stamp, and the journal as MESSAGE.
    private func textLine(_ level: Logger.Level, _ message: String, _ fields: [(key: String, value: String)]) -> String {
        var line = "\(level) \(label): \(message)"
        for field in fields { line += " \(field.key)=\(field.value)" }
        return line
    }

    /// One journal entry: the text line as MESSAGE (what `journalctl` prints), each metadata
    /// key as a field of its own (`request_id` is MEETINGD_REQUEST_ID), and where it was logged.
    private func sendToJournal(_ text: String, event: LogEvent, fields: [(key: String, value: String)]) -> Bool {
        var entry = ["MESSAGE=" + text, "PRIORITY=\(Self.syslogPriority(event.level))", "SYSLOG_IDENTIFIER=meetingd",
                     "MEETINGD_LOGGER=" + label, "CODE_FILE=" + event.file, "CODE_LINE=\(event.line)", "CODE_FUNC=" + event.function]
        for field in fields { entry.append("MEETINGD_" + Self.journalFieldName(field.key) + "=" + field.value) }
        var bytes: [UInt8] = []
        var ends: [Int] = []
        for item in entry {
            bytes.append(contentsOf: item.utf8)
            ends.append(bytes.count)
        }
        return bytes.withUnsafeMutableBytes { buffer in
            var start = 0
            let vectors = ends.map { end in
                defer { start = end }
                return iovec(iov_base: buffer.baseAddress! + start, iov_len: end - start)
            }
            return sd_journal_sendv(vectors, Int32(vectors.count)) >= 0
        }
    }

    /// Where sd_journal_sendv sends entries.
    public static let journalSocket = "/run/systemd/journal/socket"

    /// Journal field names are upper-case letters, digits and underscores.
    static func journalFieldName(_ key: String) -> String {
        String(key.uppercased().unicodeScalars.map { scalar in
            ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) ? Character(scalar) : "_"
        })
    }

    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// One write per line keeps lines from concurrent threads whole.
    private static func writeToStderr(_ line: String) { writeToStderr(Array(line.utf8)) }

    private static func writeToStderr(_ line: [UInt8]) {
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, Int(now.tv_nsec / 1_000_000))
    }

    public static var stderrIsJournal: Bool {
        guard let stream = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] else { return false }
        let parts = stream.split(separator: ":")
        var status = stat()
        guard parts.count == 2, fstat(2, &status) == 0 else { return false }
        return UInt64(parts[0]) == UInt64(status.st_dev) && UInt64(parts[1]) == UInt64(status.st_ino)
    }
}

/// The request a worker thread is on, kept per thread so that every line logged
/// about it carries `request_id` and `method`, through swift-log's metadata
/// provider: nothing is formatted unless a line is actually written.
final class RequestLogContext {
    /// The broker's number for the request (a frame: a batch's calls share it); 0 between requests.
    var requestID: UInt64 = 0
    /// The call's method, once the request names one that exists.
    var method: String?

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // A thread's context is released when the thread ends.
        pthread_key_create(&key) { Unmanaged<RequestLogContext>.fromOpaque($0!).release() }
        return key
    }()

    /// This thread's context, made on first use.
    static func forThisThread() -> RequestLogContext {
        if let raw = pthread_getspecific(key) { return Unmanaged.fromOpaque(raw).takeUnretainedValue() }
        let context = RequestLogContext()
        pthread_setspecific(key, Unmanaged.passRetained(context).toOpaque())
        return context
    }

    static let metadataProvider = Logger.MetadataProvider {
        guard let raw = pthread_getspecific(key) else { return [:] }
        let context = Unmanaged<RequestLogContext>.fromOpaque(raw).takeUnretainedValue()
        guard context.requestID != 0 else { return [:] }
        var metadata: Logger.Metadata = ["request_id": "\(context.requestID)"]
        if let method = context.method { metadata["method"] = "\(method)" }
        return metadata
    }

    func begin(_ requestID: UInt64) { self.requestID = requestID }

    func end() {
        requestID = 0
        method = nil
    }
}
