// The corpus's change log: every meeting ingest adds, updates or removes, numbered in
// commit order and written in the same transaction as the change, so the log and the
// corpus never disagree. The daemon publishes it as an event stream; `events.since`
// reads it back for subscribers that missed messages (the zguide's Clone pattern).

import Foundation

public enum ChangeLog {
    public enum Kind: String, Sendable {
        case added = "meeting.added", updated = "meeting.updated", removed = "meeting.removed"
    }

    public struct Event: Sendable, Equatable {
        public let seq: Int64
        public let kind: Kind
        public let meeting: String
        public let source: String?
        public let at: String

        public var json: JSONValue {
            ["seq": .int(seq), "topic": .string(kind.rawValue), "meeting": .string(meeting),
             "source": JSONValue(source), "at": .string(at)]
        }
    }

    /// How much of the log ingest keeps (`events.retention` in the config): the newest
    /// `count` events, and with `maxAgeDays` none older than that. The newest event is
    /// always kept, so the last number given out stays known. `events.since` for a sequence
    /// before the oldest kept tells the subscriber to resync from `lookup.meetings`.
    public struct Retention: Sendable, Equatable {
        public var count: Int64
        public var maxAgeDays: Int?

        public init(count: Int64 = 100_000, maxAgeDays: Int? = nil) {
            self.count = count
            self.maxAgeDays = maxAgeDays
        }
    }

    static func record(_ db: Database, _ kind: Kind, meeting: String, source: String?) throws {
        try db.cachedStatement(sql: "INSERT INTO change_log (at, topic, meeting, source) VALUES (?, ?, ?, ?)")
            .execute(arguments: [Date.now.ISO8601Format(), kind.rawValue, meeting, source])
    }

    /// Drops what `retention` no longer keeps; ingest calls it in each of its write transactions.
    public static func trim(_ db: Database, _ retention: Retention, now: Date = .now) throws {
        try db.execute(sql: "DELETE FROM change_log WHERE seq <= (SELECT max(seq) FROM change_log) - ?", arguments: [retention.count])
        if let days = retention.maxAgeDays {
            // `at` is ISO 8601 in UTC, so text order is time order.
            let cutoff = now.addingTimeInterval(-Double(days) * 86_400).ISO8601Format()
            try db.execute(sql: "DELETE FROM change_log WHERE at < ? AND seq < (SELECT max(seq) FROM change_log)", arguments: [cutoff])
        }
    }

    /// The last sequence number given out (0 before any change).
    public static func lastSeq(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT coalesce(max(seq), 0) FROM change_log")) ?? 0
    }

    /// The oldest sequence number still kept, or nil when the log is empty.
    public static func firstSeq(_ db: Database) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT min(seq) FROM change_log"))
    }

    /// Events after `seq`, oldest first, at most `limit`.
    public static func events(after seq: Int64, limit: Int, _ db: Database) throws -> [Event] {
        try Row.fetchAll(db.cachedStatement(sql: """
            SELECT seq, topic, meeting, source, at FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?
            """), arguments: [seq, limit]).compactMap { row in
            guard let kind = Kind(rawValue: row["topic"]) else { return nil }
            return Event(seq: row["seq"], kind: kind, meeting: row["meeting"], source: row["source"], at: row["at"])
        }
    }
}
