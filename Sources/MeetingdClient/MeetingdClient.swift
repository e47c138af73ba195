// The one client of meetingd's request/reply endpoint, for meetingctl and the Swift
// tests: JSON-RPC 2.0 framing over a ZeroMQ REQ socket, CURVE when asked, and the
// zguide's Lazy Pirate (a reply that does not come within the timeout is asked for
// again on a fresh socket, up to `tries` times, then the call fails clearly).
// It needs libzmq and MeetingKit's JSON only, not the server core.

import CZeroMQ
import Glibc
import MeetingKit

/// The request never got a well-formed answer.
public enum ClientError: Error, CustomStringConvertible {
    /// Every try timed out: the daemon is down, hung, or refused our CURVE handshake.
    case noReply(endpoint: String, tries: Int, timeoutMs: Int)
    /// libzmq refused to set up the socket (bad endpoint, bad key, ...).
    case transport(String)
    /// The reply is not a JSON-RPC 2.0 response to the request sent.
    case badReply(String)

    public var description: String {
        switch self {
        case .noReply(let endpoint, let tries, let timeoutMs):
            "no reply from \(endpoint) after \(tries) tries of \(timeoutMs) ms each; is meetingd running there?"
        case .transport(let reason): reason
        case .badReply(let reason): "not a JSON-RPC 2.0 reply: \(reason)"
        }
    }
}

/// A JSON-RPC error object the daemon answered with.
public struct RPCError: Error, CustomStringConvertible, Equatable {
    public let code: Int
    public let message: String
    public let data: JSONValue?

    public var description: String {
        "error \(code): \(message)" + (data.map { "\n  data: \($0.serialized)" } ?? "")
    }
}

/// A CURVE client's keys, as Z85 text: the daemon's public key and this client's pair.
public struct CurveClientKeys: Sendable {
    public let serverKey: String
    public let publicKey: String
    public let secretKey: String

    public init(serverKey: String, publicKey: String, secretKey: String) {
        self.serverKey = serverKey
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// The keys from the daemon's `.pub` and this client's `.key` (as `meetingd keygen` writes them).
    public init(serverKeyFile: String, secretKeyFile: String) throws(CurveKeyError) {
        let secretKey = try CurveKeys.read(secretKeyFile, secret: true)
        self.init(serverKey: try CurveKeys.read(serverKeyFile, secret: false),
                  publicKey: try CurveKeys.publicKey(ofSecret: secretKey), secretKey: secretKey)
    }

    /// Makes `socket` a CURVE client with these keys; before it connects.
    public func apply(to socket: UnsafeMutableRawPointer) throws(ClientError) {
        for (option, key) in [(ZMQ_CURVE_SERVERKEY, serverKey), (ZMQ_CURVE_PUBLICKEY, publicKey), (ZMQ_CURVE_SECRETKEY, secretKey)] {
            var bytes = Array(key.utf8)
            guard zmq_setsockopt(socket, option, &bytes, bytes.count) == 0 else {
                throw .transport("cannot set the CURVE keys: \(zmqError())")
            }
        }
    }
}

func zmqError() -> String { String(cString: zmq_strerror(zmq_errno())) }

/// One connection to a daemon. Not for several threads at once: give each its own.
public final class MeetingdClient {
    public let endpoint: String
    public let timeoutMs: Int
    public let tries: Int
    public let curve: CurveClientKeys?
    private let context: UnsafeMutableRawPointer
    /// The REQ socket, opened on first use and again after a try that timed out.
    private var socket: UnsafeMutableRawPointer?
    private var nextID: Int64 = 1

    public init(endpoint: String, timeoutMs: Int = 5000, tries: Int = 3, curve: CurveClientKeys? = nil) throws(ClientError) {
        guard let context = zmq_ctx_new() else { throw .transport("cannot create a ZeroMQ context: \(zmqError())") }
        self.context = context
        self.endpoint = endpoint
        self.timeoutMs = max(timeoutMs, 1)
        self.tries = max(tries, 1)
        self.curve = curve
    }

    deinit {
        closeSocket()
        zmq_ctx_term(context)
    }

    /// Calls `method` and returns its result; a JSON-RPC error is thrown as `RPCError`.
    public func call(_ method: String, _ params: JSONValue = .object([:])) throws -> JSONValue {
        let reply = try reply(method, params)
        if let error = reply["error"] {
            throw RPCError(code: error["code"]?.intValue ?? 0, message: error["message"]?.stringValue ?? "", data: error["data"])
        }
        return reply["result"] ?? .null
    }

    /// The whole response object to one call, for callers that read errors themselves;
    /// `id` is the request's (default: this client's next number).
    public func reply(_ method: String, _ params: JSONValue = .object([:]), id: JSONValue? = nil) throws(ClientError) -> JSONValue {
        let id = id ?? .int(nextID)
        nextID += 1
        let request: JSONValue = ["jsonrpc": "2.0", "id": id, "method": .string(method), "params": params]
        let bytes = try exchange(Array(request.serialized.utf8))
        guard let reply = try? JSONValue.parse(bytes), reply.objectValue != nil else {
            throw .badReply(String(decoding: bytes.prefix(200), as: UTF8.self))
        }
        guard reply["jsonrpc"] == "2.0", reply["result"] != nil || reply["error"] != nil else {
            throw .badReply("no jsonrpc 2.0, result or error in \(reply.serialized.prefix(200))")
        }
        // An error the daemon could not tie to a request carries id null (JSON-RPC 2.0, section 5).
        guard reply["id"] == id || (reply["error"] != nil && reply["id"] == .null) else {
            throw .badReply("the reply's id \(reply["id"]?.serialized ?? "(none)") is not the request's \(id.serialized)")
        }
        return reply
    }

    /// Sends one message frame and returns the reply frame, the Lazy Pirate way.
    public func exchange(_ body: [UInt8]) throws(ClientError) -> [UInt8] {
        for _ in 0..<tries {
            let socket = try openSocket()
            var bytes = body
            guard zmq_send(socket, &bytes, bytes.count, 0) >= 0 else {
                throw .transport("cannot send to \(endpoint): \(zmqError())")
            }
            if let reply = receive(on: socket) { return reply }
            // A REQ socket waiting for a reply that will not come cannot send again.
            closeSocket()
        }
        throw .noReply(endpoint: endpoint, tries: tries, timeoutMs: timeoutMs)
    }

    private func openSocket() throws(ClientError) -> UnsafeMutableRawPointer {
        if let socket { return socket }
        guard let socket = zmq_socket(context, ZMQ_REQ) else { throw .transport("cannot create a socket: \(zmqError())") }
        // Unsent requests are dropped at close: a later try sends its own.
        var linger: Int32 = 0
        zmq_setsockopt(socket, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
        do throws(ClientError) {
            try curve?.apply(to: socket)
            guard zmq_connect(socket, endpoint) == 0 else { throw .transport("cannot connect to \(endpoint): \(zmqError())") }
        } catch {
            zmq_close(socket)
            throw error
        }
        self.socket = socket
        return socket
    }

    private func closeSocket() {
        if let socket { zmq_close(socket) }
        socket = nil
    }

    /// The reply's last frame, or nil when none came within the timeout.
    private func receive(on socket: UnsafeMutableRawPointer) -> [UInt8]? {
        let deadline = monotonicMs() + timeoutMs
        var item = zmq_pollitem_t(socket: socket, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        while true {
            let left = deadline - monotonicMs()
            guard left > 0 else { return nil }
            let ready = zmq_poll(&item, 1, left)
            if ready < 0 && zmq_errno() == EINTR { continue }
            guard ready > 0 else { return nil }
            var frames: [[UInt8]] = []
            var more = true
            while more {
                var message = zmq_msg_t()
                zmq_msg_init(&message)
                defer { zmq_msg_close(&message) }
                guard zmq_msg_recv(&message, socket, 0) >= 0 else { return nil }
                frames.append(Array(UnsafeRawBufferPointer(start: zmq_msg_data(&message), count: zmq_msg_size(&message))))
                more = zmq_msg_more(&message) != 0
            }
            return frames.last
        }
    }
}

private func monotonicMs() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
}
