// Which turns a search may return, as the index filters them while it retrieves: ascending,
// disjoint ranges of turn ids (meetings hold consecutive ids), from dates and from speakers.

import Foundation

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

    /// The ids in any of the lists of ascending, disjoint ranges, touching ranges joined: one
    /// merge of them all (a query naming several people), not one per pair.
    public static func union(_ lists: [[ClosedRange<UInt32>]]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        result.reserveCapacity(lists.reduce(0) { $0 + $1.count })
        var nextIndex = [Int](repeating: 0, count: lists.count)
        while true {
            // The list whose next range starts lowest (a query names a few people: a scan, not a heap).
            var lowest = -1
            for list in lists.indices where nextIndex[list] < lists[list].count {
                if lowest < 0 || lists[list][nextIndex[list]].lowerBound < lists[lowest][nextIndex[lowest]].lowerBound { lowest = list }
            }
            guard lowest >= 0 else { return result }
            let next = lists[lowest][nextIndex[lowest]]
            nextIndex[lowest] += 1
            // Sorted by lower bound: `next` joins the last range when it overlaps or touches it.
            if let last = result.last, next.lowerBound == 0 || next.lowerBound - 1 <= last.upperBound {
                if last.upperBound < next.upperBound { result[result.count - 1] = last.lowerBound...next.upperBound }
            } else {
                result.append(next)
            }
        }
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

/// The turns people spoke, as ascending runs of turn ids: read through the index on
/// `turn(person_id)`, they cost 4.5 ms of CPU for the busiest speaker of 10,000 meetings, so they
/// are kept, one table per process and corpus generation (`shared`) that every worker and
/// module reads: a new generation (an ingest, a rename) starts an empty one.
///
/// Reads take no lock: the table has one write-once slot per person of its generation, made
/// with it, so a lookup is an immutable dictionary's and an atomic load; the first reader of
/// a person fills the slot, and a reader racing it reads the same runs and publishes nothing.
/// A person's runs are kept for the generation (at most every turn id once, over all people).
public final class SpeakerTurns: Sendable {
    private let slots: PersonSlots<[ClosedRange<UInt32>]>

    /// A table for the people of the corpus as `db` reads it.
    public init(_ db: Database) throws {
        slots = try PersonSlots(db)
    }

    /// This process's table for the corpus at `corpusPath`, as of the generation `get` reads.
    public static func shared(corpusPath: String) -> SharedCorpusValue<SpeakerTurns> {
        SharedCorpusValue("corpus.speakerTurns", corpusPath: corpusPath) { db in try SpeakerTurns(db) }
    }

    /// The turns any of `people` spoke, in the corpus as `db` reads it (of the generation
    /// this table is for).
    public func turns(_ db: Database, people: [Int64]) throws -> [ClosedRange<UInt32>] {
        let runs = try Set(people).map { person in try turns(db, person: person) }
        return runs.count == 1 ? runs[0] : TurnRanges.union(runs)
    }

    private func turns(_ db: Database, person: Int64) throws -> [ClosedRange<UInt32>] {
        if let runs = slots.value(of: person) { return runs }
        return slots.publish(try Self.read(db, person: person), for: person)
    }

    private static func read(_ db: Database, person: Int64) throws -> [ClosedRange<UInt32>] {
        // `turn_person` holds a person's turns in id order.
        let ids = try Int64.fetchCursor(db.cachedStatement(sql: "SELECT id FROM turn WHERE person_id = ? ORDER BY id"),
                                        arguments: [person])
        var runs: [ClosedRange<UInt32>] = []
        while let id = try ids.next() {
            guard let id = UInt32(exactly: id) else { continue }
            if let last = runs.last, last.upperBound &+ 1 == id {
                runs[runs.count - 1] = last.lowerBound...id
            } else {
                runs.append(id...id)
            }
        }
        return runs
    }
}

/// One write-once slot (`PublishedOnce`) per person of a corpus generation, made with the
/// table: what the tables kept per person (`SpeakerTurns`, `SpeakerMasks`) read without a lock.
public final class PersonSlots<Value: Sendable>: Sendable {
    private let slots: [Int64: PublishedOnce<Value>]

    /// A slot for each person of the corpus as `db` reads it.
    public init(_ db: Database) throws {
        slots = try Dictionary(uniqueKeysWithValues: Int64.fetchAll(db, sql: "SELECT id FROM person").map { ($0, PublishedOnce()) })
    }

    /// Whether `person` has a slot: only the people of the table's generation do.
    public func holds(_ person: Int64) -> Bool { slots[person] != nil }

    /// `person`'s value, once published.
    public func value(of person: Int64) -> Value? { slots[person]?.value }

    /// Publishes `value` as `person`'s, or returns the value another reader published first. A
    /// person the table does not know (none should be: people come with a new generation) keeps
    /// nothing, and `value` is returned.
    public func publish(_ value: Value, for person: Int64) -> Value { slots[person]?.publish(value) ?? value }
}
