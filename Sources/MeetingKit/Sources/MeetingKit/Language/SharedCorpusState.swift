// Read-only data derived from a corpus (word statistics, vocabularies, the people
// index), built once per corpus generation and shared by every worker and module
// instance of the process, instead of one copy per worker.

import Synchronization

/// The process-wide table of derived data, by corpus path and name. Each value is built
/// by the first instance that asks for it at a new generation, while the others that ask
/// meanwhile wait for it; the previous generation's value is let go when it is replaced.
public final class SharedCorpusState: Sendable {
    public static let shared = SharedCorpusState()

    private struct Key: Hashable {
        let corpusPath: String
        let name: String
    }

    /// One value's place: its own lock, held while it is built, so that building one
    /// value never blocks readers of another.
    private final class Slot: Sendable {
        let current = Mutex<(generation: Int64, value: any Sendable)?>(nil)
    }

    private let slots = Mutex<[Key: Slot]>([:])

    /// The value `name` for this corpus at `generation`, built by `build` if nobody has yet;
    /// `build` is given the value of the generation before, if any, to reuse what it can.
    public func value<Value: Sendable>(_ name: String, corpusPath: String, generation: Int64,
                                       build: (_ previous: Value?) throws -> Value) throws -> Value {
        let slot = slots.withLock { slots in
            let key = Key(corpusPath: corpusPath, name: name)
            if let slot = slots[key] { return slot }
            let slot = Slot()
            slots[key] = slot
            return slot
        }
        return try slot.current.withLock { current in
            if let current, current.generation == generation, let value = current.value as? Value { return value }
            let value = try build(current?.value as? Value)
            current = (generation, value)
            return value
        }
    }
}

/// A module instance's handle on one shared value: it keeps the value it was last given
/// and asks the process-wide table again only when the corpus generation has moved, so a
/// request costs one read of the generation and no lock.
public final class SharedCorpusValue<Value: Sendable> {
    private let name: String
    private let corpusPath: String
    private let build: (Database, Value?) throws -> Value
    private var held: (generation: Int64, value: Value)?

    public convenience init(_ name: String, corpusPath: String, build: @escaping (Database) throws -> Value) {
        self.init(name, corpusPath: corpusPath, rebuild: { db, _ in try build(db) })
    }

    /// `rebuild` is given the previous generation's value, if the process had one, to reuse what it can.
    public init(_ name: String, corpusPath: String, rebuild: @escaping (Database, _ previous: Value?) throws -> Value) {
        self.name = name
        self.corpusPath = corpusPath
        build = rebuild
    }

    /// The value for the corpus as `db` sees it.
    public func get(_ db: Database) throws -> Value { try valueAndGeneration(db).value }

    /// The value and the corpus generation it is of, read once: for a caller that keeps
    /// things of its own per generation beside it.
    public func valueAndGeneration(_ db: Database) throws -> (value: Value, generation: Int64) {
        let generation = try CorpusGeneration.current(db)
        if let held, held.generation == generation { return (held.value, generation) }
        let value = try SharedCorpusState.shared.value(name, corpusPath: corpusPath, generation: generation) { try build(db, $0) }
        held = (generation, value)
        return (value, generation)
    }
}

/// A value set once and never replaced, which readers load without a lock (an atomic
/// load): the first of several racing writers publishes its value, the others get it.
public final class PublishedOnce<Value: Sendable>: Sendable {
    private final class Box: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    /// Set once, released with the slot: a loaded box stays valid while the slot lives.
    private let published = Atomic<Unmanaged<Box>?>(nil)

    public init() {}

    public var value: Value? { published.load(ordering: .acquiring)?.takeUnretainedValue().value }

    /// Publishes `value`, or returns the one another writer published first.
    public func publish(_ value: Value) -> Value {
        let box = Unmanaged.passRetained(Box(value))
        let (stored, first) = published.compareExchange(expected: nil, desired: box, ordering: .acquiringAndReleasing)
        if stored { return value }
        box.release()
        return first!.takeUnretainedValue().value
    }

    deinit { published.load(ordering: .acquiring)?.release() }
}
