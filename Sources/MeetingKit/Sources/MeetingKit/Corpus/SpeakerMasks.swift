// Speakers' turns as the index's masks, for a search within one person's turns.

import Synchronization

/// Speakers' turns as the index's masks (`SegmentSet.masks(within:)`), kept once per process
/// and index generation for every worker: made per request, they were an eighth of the CPU
/// of a search within a busy speaker's turns (their runs read and their bits set in all 21
/// segments). A write-once slot per person (`PersonSlots`), read without a lock as
/// `SpeakerTurns` is; kept up to `byteBudget` over all people (a busy speaker's take a bit
/// per turn of the corpus, 312 KB for 2.5 million turns), past which a person's masks are
/// made per request.
public final class SpeakerMasks: Sendable {
    public static let defaultByteBudget = 32 << 20
    /// The index the masks are made for.
    public let index: SegmentSet
    private let byteBudget: Int
    private let slots: PersonSlots<SegmentMasks>
    /// Reserved by each person's masks before they are published: a reader losing the race
    /// to publish leaves its share counted, so the masks kept take at most this.
    private let bytesReserved = Atomic<Int>(0)

    /// A table for the people of the corpus as `db` reads it, and `index`, the index of the same generation.
    public init(_ db: Database, index: SegmentSet, byteBudget: Int = defaultByteBudget) throws {
        self.index = index
        self.byteBudget = byteBudget
        slots = try PersonSlots(db)
    }

    /// The masks of `turns`, `person`'s (`SpeakerTurns`), in `searched`: the index a request
    /// searches. Loaded apart from this table, it is of the same generation, but a table made for
    /// another index is not used (its masks number another set's documents).
    public func masks(person: Int64, turns: [ClosedRange<UInt32>], in searched: SegmentSet) -> SegmentMasks {
        guard searched === index else { return searched.masks(within: turns) }
        if let kept = slots.value(of: person) { return kept }
        let made = index.masks(within: turns)
        guard slots.holds(person) else { return made }
        let size = made.byteCount
        guard bytesReserved.add(size, ordering: .relaxed).newValue <= byteBudget else {
            bytesReserved.subtract(size, ordering: .relaxed)
            return made
        }
        return slots.publish(made, for: person)
    }

    /// Whether `person`'s masks are kept.
    public func keeps(_ person: Int64) -> Bool { slots.value(of: person) != nil }
}
