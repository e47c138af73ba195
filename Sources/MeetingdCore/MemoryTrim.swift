// Memory a burst of large requests took is given back once the daemon is idle.
// glibc keeps freed memory in its arenas for reuse (one arena per thread that
// allocates: the workers, libzmq's I/O thread), and a large block it once freed
// raises the size above which it maps blocks of their own, so after a burst of
// megabyte requests RSS would stay near the burst's peak. So large blocks always
// get mappings of their own, and an idle worker asks malloc_trim to return the
// free pages of every arena.

import Foundation
import MeetingKit
import Synchronization

final class MemoryTrim: Sendable {
    /// A request or reply at least this large is worth a trim afterwards; smaller
    /// ones reuse what glibc keeps, and trimming after each would only cost time.
    static let largeBytes = 256 << 10
    /// How long after the last large request the trim waits: libzmq's I/O thread
    /// frees a large reply only once the client has read it.
    static let settleNanos: UInt64 = 1_000_000_000

    /// glibc's `malloc_trim` and `mallopt`, found at run time: they are not in Swift's
    /// Glibc module, and other C libraries have none (nothing to do there).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = glibc("malloc_trim")
    private static let mallopt: (@convention(c) (Int32, Int32) -> Int32)? = glibc("mallopt")

    private static func glibc<Function>(_ name: String) -> Function? {
        dlsym(nil, name).map { unsafeBitCast($0, to: Function.self) }
    }

    /// Keeps glibc's default 128 KiB as the size from which a block gets a mapping of
    /// its own, returned to the system when freed. Left to itself, glibc raises that
    /// size to the largest block freed so far (up to 32 MiB), and freed megabytes then
    /// stay at the top of a thread's arena, which malloc_trim does not shrink.
    /// Call once, before the threads start.
    static func mapLargeBlocksAlone() {
        let mmapThreshold: Int32 = -3, trimThreshold: Int32 = -1  // M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
        _ = mallopt?(mmapThreshold, 128 << 10)
        _ = mallopt?(trimThreshold, 128 << 10)
    }

    /// When the last large request was done (monotonic nanoseconds); 0 once trimmed.
    private let lastLarge = Atomic<UInt64>(0)

    /// Notes that `bytes` were just held for one request (its message and reply).
    func noteHeld(bytes: Int) {
        if bytes >= Self.largeBytes { lastLarge.store(MonotonicClock.nanoseconds(), ordering: .relaxed) }
    }

    /// Called by an idle worker: gives the free memory back once a burst is over.
    func trimIfPending() {
        let last = lastLarge.load(ordering: .relaxed)
        guard last != 0, MonotonicClock.nanoseconds() &- last >= Self.settleNanos,
              lastLarge.compareExchange(expected: last, desired: 0, ordering: .relaxed).exchanged else { return }
        _ = Self.mallocTrim?(0)
    }
}
