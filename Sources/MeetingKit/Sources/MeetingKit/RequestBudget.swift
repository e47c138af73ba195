// The running-time budget of one request, as the host sets it through the ABI's
// set_deadline before each call: long loops call `checkDeadline()`, and a corpus
// opened with the budget has SQLite interrupt a statement that runs past it.

import GRDB
import GRDBSQLite
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC in nanoseconds: the clock the ABI's deadlines are on.
public enum MonotonicClock {
    public static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}

/// One per module instance. The host moves the deadline before each request; the
/// instance's thread reads it, and so may SQLite's progress handler on that thread.
public final class RequestBudget: Sendable {
    /// CLOCK_MONOTONIC nanoseconds; 0 while no budget is set.
    private let deadline = Atomic<UInt64>(0)

    public init() {}

    /// Sets the moment the current request's budget ends (0: no budget).
    public func setDeadline(_ nanoseconds: UInt64) {
        deadline.store(nanoseconds, ordering: .relaxed)
    }

    public var isExpired: Bool {
        let end = deadline.load(ordering: .relaxed)
        return end != 0 && MonotonicClock.nanoseconds() >= end
    }

    /// Throws -32005 once the budget is spent. Cheap (one clock read): call it every
    /// few hundred items of a long loop.
    public func checkDeadline() throws(MethodError) {
        if isExpired { throw .runningDeadlineExceeded }
    }

    /// Has SQLite call back every `opcodes` virtual-machine steps on `db` and stop the
    /// statement (SQLITE_INTERRUPT) once the budget is spent. The budget must outlive `db`.
    func interruptStatements(of db: Database, every opcodes: Int32 = 1000) {
        sqlite3_progress_handler(db.sqliteConnection, opcodes, { context in
            guard let context else { return 0 }
            return Unmanaged<RequestBudget>.fromOpaque(context).takeUnretainedValue().isExpired ? 1 : 0
        }, Unmanaged.passUnretained(self).toOpaque())
    }
}

extension MethodError {
    /// A request that ran past its budget. The host words the answer the client gets
    /// (with the method, the budget and the time taken); modules only say which it is.
    public static let runningDeadlineExceeded = MethodError(
        code: ErrorCode.deadlineExceeded, message: "Deadline exceeded: the request ran past its running-time budget",
        data: ["phase": "running"])
}
