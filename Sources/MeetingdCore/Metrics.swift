// The daemon's metrics for Prometheus: swift-metrics handles over one
// swift-prometheus registry per server, served as text by `meetingd.metrics` and,
// when `metrics.listen` is set, over HTTP (MetricsListener). Counters, gauges and
// histograms update atomically or behind their own short lock, so workers never
// wait for a scrape; figures that are cheaper to read than to keep current
// (corpus size, queue depth) are set when a scrape asks.

import CoreMetrics
import Foundation
import MeetingKit
import Prometheus
import Synchronization

public final class ServerMetrics: Sendable {
    /// Each registry is its own, so that servers in one process (the tests) never mix counts.
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    static let requestDurationLabel = "meetingd_request_duration_seconds"
    /// Most requests take well under a millisecond; a module may run for seconds.
    static let requestDurationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2_500),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10), .seconds(30),
    ]

    private let queueDepth: CoreMetrics.Gauge
    private let workersBusy: CoreMetrics.Gauge
    private let workers: CoreMetrics.Gauge
    private let reloadsApplied: CoreMetrics.Counter
    private let reloadsRefused: CoreMetrics.Counter
    private let corpusMeetings: CoreMetrics.Gauge
    private let corpusTurns: CoreMetrics.Gauge
    private let corpusUnreadable: CoreMetrics.Gauge
    private let ingestRuns: CoreMetrics.Counter
    private let ingestMeetingsWritten: CoreMetrics.Counter
    private let ingestFailedFiles: CoreMetrics.Counter
    private let ingestFinished: CoreMetrics.Gauge
    private let ingestFilesDone: CoreMetrics.Gauge
    private let ingestFilesFound: CoreMetrics.Gauge
    private let ingestBytesDone: CoreMetrics.Gauge
    private let ingestBytesFound: CoreMetrics.Gauge
    /// The broker's queue and busy workers, stored by the proxy loop as they change and read by a scrape.
    let brokerQueued = Atomic<Int>(0)
    let brokerBusy = Atomic<Int>(0)

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[Self.requestDurationLabel] = Self.requestDurationBuckets
        self.factory = factory
        queueDepth = CoreMetrics.Gauge(label: "meetingd_queue_depth", factory: factory)
        workersBusy = CoreMetrics.Gauge(label: "meetingd_workers_busy", factory: factory)
        workers = CoreMetrics.Gauge(label: "meetingd_workers", factory: factory)
        reloadsApplied = CoreMetrics.Counter(label: "meetingd_reloads_total", dimensions: [("result", "applied")], factory: factory)
        reloadsRefused = CoreMetrics.Counter(label: "meetingd_reloads_total", dimensions: [("result", "refused")], factory: factory)
        corpusMeetings = CoreMetrics.Gauge(label: "meetingd_corpus_meetings", factory: factory)
        corpusTurns = CoreMetrics.Gauge(label: "meetingd_corpus_turns", factory: factory)
        corpusUnreadable = CoreMetrics.Gauge(label: "meetingd_corpus_unreadable", factory: factory)
        ingestRuns = CoreMetrics.Counter(label: "meetingd_ingest_runs_total", factory: factory)
        ingestMeetingsWritten = CoreMetrics.Counter(label: "meetingd_ingest_meetings_written_total", factory: factory)
        ingestFailedFiles = CoreMetrics.Counter(label: "meetingd_ingest_failed_files_total", factory: factory)
        ingestFinished = CoreMetrics.Gauge(label: "meetingd_ingest_last_finished_timestamp_seconds", factory: factory)
        ingestFilesDone = CoreMetrics.Gauge(label: "meetingd_ingest_files_done", factory: factory)
        ingestFilesFound = CoreMetrics.Gauge(label: "meetingd_ingest_files_found", factory: factory)
        ingestBytesDone = CoreMetrics.Gauge(label: "meetingd_ingest_bytes_done", factory: factory)
        ingestBytesFound = CoreMetrics.Gauge(label: "meetingd_ingest_bytes_found", factory: factory)
    }

    // MARK: - Handles a worker keeps

    func requests(method: String) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: "meetingd_requests_total", dimensions: [("method", method)], factory: factory)
    }

    func errors(code: Int32) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: "meetingd_request_errors_total", dimensions: [("code", String(code))], factory: factory)
    }

    func duration(method: String) -> CoreMetrics.Timer {
        CoreMetrics.Timer(label: Self.requestDurationLabel, dimensions: [("method", method)], factory: factory)
    }

    // MARK: - Events

    func reloaded(applied: Bool) {
        (applied ? reloadsApplied : reloadsRefused).increment()
    }

    /// How far the ingest run in progress (at start or on reload) is: files and bytes done of those it found.
    public func ingesting(filesDone: Int, filesTotal: Int, bytesDone: Int, bytesTotal: Int) {
        ingestFilesDone.record(filesDone)
        ingestFilesFound.record(filesTotal)
        ingestBytesDone.record(bytesDone)
        ingestBytesFound.record(bytesTotal)
    }

    /// What an ingest run did, when it is over.
    public func ingested(meetingsWritten: Int, failedFiles: Int) {
        ingestRuns.increment()
        ingestMeetingsWritten.increment(by: meetingsWritten)
        ingestFailedFiles.increment(by: failedFiles)
        ingestFinished.record(Date().timeIntervalSince1970)
    }

    // MARK: - Scrape

    /// Every metric with the figures read now, in `format`.
    func exposition(state: ServerState, format: MetricsFormat = .prometheus) -> String {
        workers.record(state.config.workers)
        queueDepth.record(brokerQueued.load(ordering: .relaxed))
        workersBusy.record(brokerBusy.load(ordering: .relaxed))
        if let figures = try? state.corpus?.figures() {
            corpusMeetings.record(figures.meetings)
            corpusTurns.record(figures.turns)
            corpusUnreadable.record(0)
        } else {
            corpusUnreadable.record(1)
        }
        return format.render(registry.emitToString())
    }

    /// What each family is, for its HELP line (swift-metrics' handles carry no help text).
    static let help: [String: String] = [
        "meetingd_requests_total": "Calls answered, by method ((invalid) for calls naming none that exists).",
        "meetingd_request_errors_total": "Calls answered with a JSON-RPC error, by error code.",
        requestDurationLabel: "Time from a call's start in a worker to its reply, by method.",
        "meetingd_queue_depth": "Requests waiting for a free worker.",
        "meetingd_workers_busy": "Workers inside a request.",
        "meetingd_workers": "Worker threads.",
        "meetingd_reloads_total": "Config reloads, by result (applied or refused).",
        "meetingd_corpus_meetings": "Meetings in the corpus.",
        "meetingd_corpus_turns": "Turns in the corpus.",
        "meetingd_corpus_unreadable": "1 when the corpus could not be read at this scrape, else 0.",
        "meetingd_ingest_runs_total": "Ingest runs finished (at start and on reload).",
        "meetingd_ingest_meetings_written_total": "Meetings written by ingest runs.",
        "meetingd_ingest_failed_files_total": "Files ingest runs could not read.",
        "meetingd_ingest_last_finished_timestamp_seconds": "When the last ingest run finished, in Unix seconds.",
        "meetingd_ingest_files_done": "Files done by the ingest run in progress or last run.",
        "meetingd_ingest_files_found": "Files found by the ingest run in progress or last run.",
        "meetingd_ingest_bytes_done": "Bytes done by the ingest run in progress or last run.",
        "meetingd_ingest_bytes_found": "Bytes found by the ingest run in progress or last run.",
    ]
}

/// The text formats the metrics are served in. swift-prometheus writes the
/// Prometheus text format 0.0.4 without HELP lines; both formats are made from it,
/// line by line, adding each family's HELP line from `ServerMetrics.help`.
public enum MetricsFormat: Sendable {
    /// `text/plain; version=0.0.4`, what Prometheus read before OpenMetrics.
    case prometheus
    /// OpenMetrics 1.0.0: a counter family is named without `_total` (its samples keep
    /// it), and the text ends with `# EOF`.
    case openMetrics

    public var contentType: String {
        switch self {
        case .prometheus: "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }

    /// OpenMetrics when the scraper's Accept header lists it (Prometheus's does, first), else 0.0.4.
    public init(accept: String?) {
        self = accept?.lowercased().contains("application/openmetrics-text") == true ? .openMetrics : .prometheus
    }

    func render(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 4096)
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard line.hasPrefix("# TYPE ") else {
                out += line + "\n"
                continue
            }
            let parts = line.split(separator: " ")  // #, TYPE, name, type
            guard parts.count == 4 else { out += line + "\n"; continue }
            let sampleName = String(parts[2]), type = parts[3]
            let family = self == .openMetrics && type == "counter" && sampleName.hasSuffix("_total")
                ? String(sampleName.dropLast("_total".count)) : sampleName
            if let help = ServerMetrics.help[sampleName] {
                out += "# HELP \(family) \(Self.escapedHelp(help))\n"
            }
            out += "# TYPE \(family) \(type)\n"
        }
        if self == .openMetrics { out += "# EOF\n" }
        return out
    }

    /// HELP text escapes backslashes and line feeds (both formats).
    private static func escapedHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}

/// One worker's handles, looked up once per method and code and then reused, so
/// recording a request is a dictionary lookup and a few atomic adds.
struct RequestMetrics {
    private let metrics: ServerMetrics
    private var byMethod: [String: (requests: CoreMetrics.Counter, duration: CoreMetrics.Timer)] = [:]
    private var byCode: [Int32: CoreMetrics.Counter] = [:]

    init(_ metrics: ServerMetrics) { self.metrics = metrics }

    mutating func record(method: String, nanoseconds: UInt64, errorCode: Int32?) {
        let handles = byMethod[method] ?? {
            let made = (requests: metrics.requests(method: method), duration: metrics.duration(method: method))
            byMethod[method] = made
            return made
        }()
        handles.requests.increment()
        handles.duration.recordNanoseconds(Int64(clamping: nanoseconds))
        if let errorCode {
            let counter = byCode[errorCode] ?? {
                let made = metrics.errors(code: errorCode)
                byCode[errorCode] = made
                return made
            }()
            counter.increment()
        }
    }
}
