// Which turns a search may return, as the index filters them while it retrieves: ascending,
// disjoint ranges of turn ids (meetings hold consecutive ids), from dates and from speakers.

import Foundation
import Synchronization

public enum TurnRanges {
    /// The turns of the meetings dated on or after `from` and on or before `to` (YYYY,
    /// YYYY-MM or YYYY-MM-DD: "2020" and "2020-05" as `to` take in every day of that year or
    /// month), meetings next to each other in id order in one range; nil when neither is given
    /// (every turn). A meeting without a date is in no dated range.
    public static func dated(_ db: Database, from: String?, to: String?) throws -> [ClosedRange<UInt32>]? {
        guard from != nil || to != nil else { return nil }
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT first_turn, turns FROM meeting
            WHERE (:from IS NULL OR date >= :from) AND (:to IS NULL OR date <= :to || '~') AND turns > 0
            ORDER BY first_turn
            """), arguments: ["from": from, "to": to])
        return runs(rows.lazy.map { row in
            let first: Int64 = row[0], count: Int64 = row[1]
            return first...(first + count - 1)
        })
    }

    /// The ids in both lists of ascending, disjoint ranges.
    public static func intersection(_ a: [ClosedRange<UInt32>], _ b: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        var i = 0, j = 0
        while i < a.count && j < b.count {
            let low = max(a[i].lowerBound, b[j].lowerBound), high = min(a[i].upperBound, b[j].upperBound)
            if low <= high { result.append(low...high) }
            if a[i].upperBound < b[j].upperBound { i += 1 } else { j += 1 }
        }
        return result
    }

    /// Ascending id ranges as the index's 32-bit ids, touching ones joined (ids past 32 bits
    /// are in no segment: `CorpusIndex` refuses them).
    static func runs(_ ranges: some Sequence<ClosedRange<Int64>>) -> [ClosedRange<UInt32>] {
        var runs: [ClosedRange<UInt32>] = []
        for range in ranges {
            guard range.upperBound >= 0, range.lowerBound <= Int64(UInt32.max) else { continue }
            let low = UInt32(max(range.lowerBound, 0)), high = UInt32(min(range.upperBound, Int64(UInt32.max)))
            if let last = runs.last, last.upperBound &+ 1 >= low {
                runs[runs.count - 1] = last.lowerBound...max(last.upperBound, high)
            } else {
                runs.append(low...high)
            }
        }
        return runs
    }
}

/// The turns people spoke, as ascending runs of turn ids: read meeting by meeting from
/// who spoke where, they cost 0.1–0.3 s for the busiest speaker of 2,000 meetings, so they
/// are kept, one table per process and corpus generation (`shared`) that every worker and
/// module reads: a new generation (an ingest, a rename) starts an empty one.
public final class SpeakerTurns: Sendable {
    private let byPeople = Mutex<[[Int64]: [ClosedRange<UInt32>]]>([:])
    static let remembered = 256

    public init() {}

    /// This process's table for the corpus at `corpusPath`, as of the generation `get` reads.
    public static func shared(corpusPath: String) -> SharedCorpusValue<SpeakerTurns> {
        SharedCorpusValue("corpus.speakerTurns", corpusPath: corpusPath) { _ in SpeakerTurns() }
    }

    /// The turns any of `people` spoke, in the corpus as `db` reads it (of the generation
    /// this table is for).
    public func turns(_ db: Database, people: [Int64]) throws -> [ClosedRange<UInt32>] {
        let people = people.sorted()
        if let runs = byPeople.withLock({ $0[people] }) { return runs }
        // Read without the lock: another worker may read the same people meanwhile, which
        // costs a duplicate read, not a wait for every other speaker.
        // CROSS JOIN: SQLite would otherwise scan every turn.
        let ids = try Int64.fetchCursor(db.cachedStatement(sql: """
            SELECT t.id FROM speaker s CROSS JOIN meeting m ON m.pk = s.meeting_pk
            CROSS JOIN turn t ON t.id BETWEEN m.first_turn AND m.first_turn + m.turns - 1 AND t.person_id = s.person_id
            WHERE s.person_id IN (SELECT value FROM json_each(?)) ORDER BY t.id
            """), arguments: [JSONValue.array(people.map { .int($0) }).serialized])
        var runs: [ClosedRange<UInt32>] = []
        while let id = try ids.next() {
            guard let id = UInt32(exactly: id) else { continue }
            if let last = runs.last, last.upperBound &+ 1 == id {
                runs[runs.count - 1] = last.lowerBound...id
            } else {
                runs.append(id...id)
            }
        }
        byPeople.withLock { byPeople in
            if byPeople.count >= Self.remembered { byPeople = [:] }
            byPeople[people] = runs
        }
        return runs
    }
}
