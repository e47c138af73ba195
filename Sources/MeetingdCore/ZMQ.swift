// Thin helpers over libzmq's C API: error text and the few socket calls the
// daemon makes. Messages move as zmq_msg_t so frames are forwarded without copies.

import CZeroMQ
import Foundation

public struct ZMQError: Error, CustomStringConvertible {
    public let operation: String
    public let code: Int32
    public var description: String { "\(operation): \(String(cString: zmq_strerror(code)))" }

    static func last(_ operation: String) -> ZMQError { ZMQError(operation: operation, code: zmq_errno()) }
}

/// A libzmq socket pointer; used by one thread at a time, as libzmq requires.
struct ZMQSocket: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    init(context: UnsafeMutableRawPointer, type: Int32) throws(ZMQError) {
        guard let handle = zmq_socket(context, type) else { throw .last("zmq_socket") }
        self.handle = handle
        try setInt(ZMQ_LINGER, 0)  // never block shutdown on unsent replies
    }

    func setInt(_ option: Int32, _ value: Int32) throws(ZMQError) {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) == 0 else { throw .last("zmq_setsockopt(\(option))") }
    }

    func setInt64(_ option: Int32, _ value: Int64) throws(ZMQError) {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int64>.size) == 0 else { throw .last("zmq_setsockopt(\(option))") }
    }

    func setString(_ option: Int32, _ value: String) throws(ZMQError) {
        var bytes = Array(value.utf8)
        guard zmq_setsockopt(handle, option, &bytes, bytes.count) == 0 else { throw .last("zmq_setsockopt(\(option))") }
    }

    func bind(_ endpoint: String) throws(ZMQError) {
        guard zmq_bind(handle, endpoint) == 0 else { throw .last("bind \(endpoint)") }
    }

    func connect(_ endpoint: String) throws(ZMQError) {
        guard zmq_connect(handle, endpoint) == 0 else { throw .last("connect \(endpoint)") }
    }

    func close() { zmq_close(handle) }

    /// The descriptor libzmq signals when commands reach the socket (ZMQ_FD). It signals only
    /// what arrives after the socket was last drained: a reader polling it reads with
    /// ZMQ_DONTWAIT until nothing is left, and again after each send (`SignalledSocket`).
    func signalDescriptor() throws(ZMQError) -> Int32 {
        var fd: Int32 = -1
        var size = MemoryLayout<Int32>.size
        guard zmq_getsockopt(handle, ZMQ_FD, &fd, &size) == 0 else { throw .last("zmq_getsockopt(ZMQ_FD)") }
        return fd
    }

    /// Whether the last frame received has more frames after it.
    var hasMore: Bool {
        var more: Int32 = 0
        var size = MemoryLayout<Int32>.size
        zmq_getsockopt(handle, ZMQ_RCVMORE, &more, &size)
        return more != 0
    }

    func send(_ bytes: UnsafeRawBufferPointer, more: Bool = false) -> Bool {
        zmq_send(handle, bytes.baseAddress, bytes.count, more ? ZMQ_SNDMORE : 0) >= 0
    }

    func send(_ string: String, more: Bool = false) -> Bool {
        var copy = string
        return copy.withUTF8 { send(UnsafeRawBufferPointer($0), more: more) }
    }
}

/// A socket polled by its descriptor (`signalDescriptor`) rather than as a ZMQ socket. The
/// descriptor announces only what arrives after the socket was drained, so it is also read
/// when messages may have been left behind: on the first turn (they may have come before any
/// poll), after a full batch, after an interrupted receive (which may have taken the wake-up),
/// and after a send (libzmq takes in the socket's commands on a send too, wake-up and all).
/// Polled this way, the broker's sockets cost a receive that finds nothing after each wake-up
/// and send, where zmq_poll checked every ZMQ socket's events before and after each poll.
struct SignalledSocket {
    let socket: ZMQSocket
    let descriptor: Int32
    /// Messages may be waiting that the descriptor will not announce: poll without waiting.
    private(set) var mayHoldUnread = true

    init(_ socket: ZMQSocket) throws(ZMQError) {
        self.socket = socket
        descriptor = try socket.signalDescriptor()
    }

    /// The descriptor as poll(2) waits on it.
    var pollDescriptor: pollfd { pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0) }

    /// Notes what the poll said of the descriptor: signalled, messages may be waiting.
    mutating func polled(signalled: Bool) {
        if signalled { mayHoldUnread = true }
    }

    /// Receives one message into `frames` when messages may be unread (the descriptor was
    /// signalled since the socket was last drained, or `mayHoldUnread`); false once nothing is
    /// left (or on an error).
    mutating func receive(into frames: FrameList) -> Bool {
        guard mayHoldUnread else { return false }
        if frames.receive(from: socket, flags: ZMQ_DONTWAIT) { return true }
        mayHoldUnread = zmq_errno() == EINTR
        return false
    }

    /// When the descriptor `signalled` or messages may be unread, receives up to `batch` messages
    /// into `frames`, each handed to `handle` and then cleared; returns how many.
    @discardableResult
    mutating func read(signalled: Bool, into frames: FrameList, batch: Int = .max, _ handle: (FrameList) -> Void) -> Int {
        polled(signalled: signalled)
        var received = 0
        while received < batch, receive(into: frames) {
            received += 1
            handle(frames)
            frames.clear()
        }
        return received
    }

    /// Sends `frames` (`FrameList.send`); the socket is read again before its descriptor is waited on.
    mutating func send(_ frames: FrameList, range: Range<Int>? = nil, moreAfter: Bool = false) -> Bool {
        mayHoldUnread = true
        return frames.send(to: socket, range: range, moreAfter: moreAfter)
    }

    /// Sends one frame; the socket is read again before its descriptor is waited on.
    mutating func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        mayHoldUnread = true
        return socket.send(bytes)
    }
}

/// A reusable list of zmq_msg_t frames: one multipart message at a time.
final class FrameList {
    private(set) var frames: UnsafeMutablePointer<zmq_msg_t>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 8) {
        self.capacity = capacity
        frames = .allocate(capacity: capacity)
    }

    deinit {
        clear()
        frames.deallocate()
    }

    /// Receives one whole multipart message. Returns false on error (errno tells which).
    func receive(from socket: ZMQSocket, flags: Int32 = 0) -> Bool {
        clear()
        repeat {
            if count == capacity { grow() }
            zmq_msg_init(&frames[count])
            guard zmq_msg_recv(&frames[count], socket.handle, flags) >= 0 else {
                zmq_msg_close(&frames[count])
                clear()
                return false
            }
            count += 1
        } while zmq_msg_more(&frames[count - 1]) != 0
        return true
    }

    /// Sends the frames in `range` (all by default), moving them; the last goes without
    /// SNDMORE unless `moreAfter`. Every frame is released afterwards.
    func send(to socket: ZMQSocket, range: Range<Int>? = nil, moreAfter: Bool = false) -> Bool {
        let range = range ?? 0..<count
        var ok = true
        for i in range {
            let last = i == range.upperBound - 1 && !moreAfter
            if zmq_msg_send(&frames[i], socket.handle, last ? 0 : ZMQ_SNDMORE) < 0 { ok = false }
        }
        clear()
        return ok
    }

    /// Inserts a new first frame holding `bytes`.
    func prepend(_ bytes: UnsafeRawBufferPointer) {
        if count == capacity { grow() }
        (frames + 1).moveInitialize(from: frames, count: count)
        zmq_msg_init_size(&frames[0], bytes.count)
        zmq_msg_data(&frames[0]).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        count += 1
    }

    func bytes(at index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: zmq_msg_data(&frames[index]), count: zmq_msg_size(&frames[index]))
    }

    func size(at index: Int) -> Int { zmq_msg_size(&frames[index]) }

    func clear() {
        for i in 0..<count { zmq_msg_close(&frames[i]) }
        count = 0
    }

    private func grow() {
        let bigger = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: frames, count: count)
        frames.deallocate()
        frames = bigger
        capacity *= 2
    }
}
