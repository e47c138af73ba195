// Client connections are capped (limits.max_connections). Every connection is a
// file descriptor; once the process runs out of them, libzmq's listener can no
// longer accept, and its poller reports the listening socket ready again and
// again: new clients get nothing and the daemon spins. So the daemon raises its
// descriptor limit to fit the cap at start, watches the frontend's connections
// through a libzmq socket monitor, and past the cap shuts the oldest one down,
// so that a crowd of idle connections cannot keep a new client out.

import CZeroMQ
import DequeModule
import Foundation

/// The frontend's connections in the order they were accepted, as the socket
/// monitor reports them (accepted, disconnected, by file descriptor).
struct ConnectionGate {
    let limit: Int
    /// Open connections: descriptor to its accept sequence number.
    private var open: [Int32: UInt64] = [:]
    /// Accept order; entries whose descriptor has since closed (or been reused) are skipped.
    private var order = Deque<(fd: Int32, sequence: UInt64)>()
    private var sequence: UInt64 = 0

    init(limit: Int) { self.limit = limit }

    var count: Int { open.count }

    /// Records a new connection; returns the descriptors to shut down to stay within
    /// the limit, oldest first.
    mutating func accepted(_ fd: Int32) -> [Int32] {
        sequence += 1
        open[fd] = sequence
        order.append((fd, sequence))
        var evicted: [Int32] = []
        while open.count > limit, let oldest = order.popFirst() {
            guard open[oldest.fd] == oldest.sequence else { continue }
            open[oldest.fd] = nil
            evicted.append(oldest.fd)
        }
        // Stale entries would otherwise pile up while connections come and go under the limit.
        if order.count > 2 * limit + 64 { order.removeAll { open[$0.fd] != $0.sequence } }
        return evicted
    }

    mutating func disconnected(_ fd: Int32) { open[fd] = nil }
}

enum Connections {
    /// Descriptors the daemon needs besides client connections: libzmq's own
    /// (listeners, mailboxes), the corpus files, systemd's sockets.
    static let descriptorsBesidesConnections = 256
    static let descriptorsPerWorker = 16

    /// Raises the soft descriptor limit (up to the hard one) so that `maxConnections`
    /// clients fit. Returns the limit now in force and the one wanted.
    static func raiseDescriptorLimit(maxConnections: Int, workers: Int) -> (limit: UInt64, wanted: UInt64) {
        let wanted = UInt64(maxConnections + descriptorsBesidesConnections + descriptorsPerWorker * workers)
        var limits = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0 else { return (0, wanted) }
        if limits.rlim_cur < rlim_t(wanted) {
            var raised = limits
            raised.rlim_cur = min(rlim_t(wanted), limits.rlim_max)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limits = raised }
        }
        return (UInt64(limits.rlim_cur), wanted)
    }

    /// Ends a connection libzmq holds without closing its descriptor under libzmq's
    /// feet: shutdown makes libzmq read the end and close it itself (and report
    /// DISCONNECTED). Only a connected stream socket is touched, in case the number
    /// was closed and reused meanwhile by something that is not a connection.
    static func shutDown(_ fd: Int32) {
        var type: Int32 = 0, listening: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) == 0, type == Int32(SOCK_STREAM.rawValue) else { return }
        size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == 0, listening == 0 else { return }
        shutdown(fd, Int32(SHUT_RDWR))
    }

    /// The event and its value (a descriptor, for the events watched) of one socket
    /// monitor message: a 6-byte frame (uint16 event, uint32 value), then the endpoint.
    static func monitorEvent(_ message: FrameList) -> (event: Int32, fd: Int32)? {
        guard message.count >= 1, message.size(at: 0) == 6 else { return nil }
        let bytes = message.bytes(at: 0)
        return (Int32(bytes.loadUnaligned(as: UInt16.self)), bytes.loadUnaligned(fromByteOffset: 2, as: Int32.self))
    }
}
