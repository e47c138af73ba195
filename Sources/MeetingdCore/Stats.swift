// Request counts and latency per method. Each worker records into its own
// table behind its own lock, so recording never contends with other workers;
// `meetingd.status` merges the tables when asked.

import Foundation
import MeetingKit
import Synchronization

/// Latency histogram with buckets a quarter of a power of two wide (about 19%
/// resolution), from 1 µs to beyond an hour.
struct LatencyHistogram {
    static let bucketCount = 4 * 40
    var buckets = [UInt64](repeating: 0, count: bucketCount)
    var count: UInt64 = 0
    var totalMicros: UInt64 = 0
    var maxMicros: UInt64 = 0

    static func bucket(for micros: UInt64) -> Int {
        guard micros > 1 else { return 0 }
        let exponent = 63 - micros.leadingZeroBitCount
        // The two bits below the leading one pick the quarter.
        let quarter = exponent >= 2 ? Int((micros >> (exponent - 2)) & 3) : Int((micros << (2 - exponent)) & 3)
        return min(exponent * 4 + quarter, bucketCount - 1)
    }

    /// The upper edge of a bucket, in µs.
    static func upperBound(of bucket: Int) -> Double {
        let exponent = bucket / 4, quarter = bucket % 4
        return pow(2, Double(exponent)) * (1 + Double(quarter + 1) / 4)
    }

    mutating func record(micros: UInt64) {
        buckets[Self.bucket(for: micros)] += 1
        count += 1
        totalMicros += micros
        maxMicros = max(maxMicros, micros)
    }

    mutating func merge(_ other: LatencyHistogram) {
        for i in 0..<Self.bucketCount { buckets[i] += other.buckets[i] }
        count += other.count
        totalMicros += other.totalMicros
        maxMicros = max(maxMicros, other.maxMicros)
    }

    func percentile(_ p: Double) -> Double {
        guard count > 0 else { return 0 }
        let target = UInt64((Double(count) * p).rounded(.up))
        var seen: UInt64 = 0
        for (i, n) in buckets.enumerated() where n > 0 {
            seen += n
            if seen >= target { return min(Self.upperBound(of: i), Double(maxMicros)) }
        }
        return Double(maxMicros)
    }
}

struct MethodStats {
    var requests: UInt64 = 0
    var errors: UInt64 = 0
    var latency = LatencyHistogram()
}

/// One worker's statistics.
final class WorkerStats: Sendable {
    private let table = Mutex<[String: MethodStats]>([:])

    func record(method: String, micros: UInt64, failed: Bool) {
        table.withLock { table in
            table[method, default: MethodStats()].requests += 1
            if failed { table[method]!.errors += 1 }
            table[method]!.latency.record(micros: micros)
        }
    }

    func snapshot() -> [String: MethodStats] { table.withLock { $0 } }
}

enum StatsReport {
    static func merged(_ workers: [WorkerStats]) -> [String: MethodStats] {
        var merged: [String: MethodStats] = [:]
        for worker in workers {
            for (method, stats) in worker.snapshot() {
                merged[method, default: MethodStats()].requests += stats.requests
                merged[method]!.errors += stats.errors
                merged[method]!.latency.merge(stats.latency)
            }
        }
        return merged
    }

    static func json(_ merged: [String: MethodStats]) -> JSONValue {
        .object(JSONObject(merged.keys.sorted().map { method in
            let stats = merged[method]!
            return (key: method, value: [
                "requests": .int(Int64(stats.requests)),
                "errors": .int(Int64(stats.errors)),
                "latency_us": [
                    "p50": .double(stats.latency.percentile(0.50).rounded()),
                    "p90": .double(stats.latency.percentile(0.90).rounded()),
                    "p99": .double(stats.latency.percentile(0.99).rounded()),
                    "max": .int(Int64(stats.latency.maxMicros)),
                    "mean": .double(stats.latency.count == 0 ? 0 : (Double(stats.latency.totalMicros) / Double(stats.latency.count)).rounded()),
                ],
            ])
        }))
    }
}
