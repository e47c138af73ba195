// CURVE, libzmq's own encryption and authentication (CurveZMQ), on the daemon's
// side: the allow-list (the `.pub` files of one folder), and the ZAP handler that
// lets in only the clients whose public key is in it. The key files themselves are
// MeetingdClient's CurveKeys, shared with the clients.

import CZeroMQ
import Foundation
import Logging
import MeetingdClient
import Synchronization

extension CurveKeys {
    /// The allow-list: every `.pub` file in `directory`, by key bytes, with its file name.
    static func authorizedKeys(in directory: String) throws(CurveKeyError) -> [[UInt8]: String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw CurveKeyError("authorized_keys_dir \(directory): cannot list it")
        }
        var keys: [[UInt8]: String] = [:]
        for name in names.sorted() where name.hasSuffix(".pub") && !name.hasPrefix(".") {
            let key = try read(directory + "/" + name, secret: false)
            keys[decode(key)!] = String(name.dropLast(".pub".count))
        }
        return keys
    }
}

/// Answers libzmq's ZAP requests (RFC 27) for the frontend: 200 for a CURVE client
/// whose public key is allowed, 400 for anyone else. Runs on its own thread, on
/// the daemon's context, from before the frontend binds until the context ends.
final class ZAPHandler: @unchecked Sendable {
    static let address = "inproc://zeromq.zap.01"
    /// The ZAP domain set on the frontend; libzmq asks the handler only when one is set.
    static let domain = "meetingd"
    /// Unknown keys are logged once each; past this many, no more are remembered.
    static let refusedKeysLogged = 10_000

    private let socket: ZMQSocket
    private let allowed: Mutex<[[UInt8]: String]>
    private let logger: Logger

    init(context: UnsafeMutableRawPointer, allowed: [[UInt8]: String], logger: Logger) throws(ZMQError) {
        socket = try ZMQSocket(context: context, type: ZMQ_REP)
        do { try socket.bind(Self.address) } catch {
            socket.close()
            throw error
        }
        self.allowed = Mutex(allowed)
        self.logger = logger
    }

    /// Takes a new allow-list (a reload); connections already in stay in.
    func replace(allowed keys: [[UInt8]: String]) { allowed.withLock { $0 = keys } }

    func start() {
        let thread = Thread { [self] in serve() }
        thread.name = "meetingd-zap"
        thread.start()
    }

    private func serve() {
        defer { socket.close() }
        let request = FrameList()
        var refused = Set<[UInt8]>()
        while true {
            guard request.receive(from: socket) else {
                if zmq_errno() == EINTR { continue }
                return  // ETERM: the daemon is stopping
            }
            // version, request id, domain, address, routing id, mechanism, credentials...
            let frames = (0..<request.count).map { Array(request.bytes(at: $0)) }
            request.clear()
            let requestID = frames.count > 1 ? frames[1] : []
            let mechanism = frames.count > 5 ? String(decoding: frames[5], as: UTF8.self) : ""
            let key = frames.count > 6 ? frames[6] : []
            let client = mechanism == "CURVE" ? allowed.withLock { $0[key] } : nil
            if client == nil && refused.count < Self.refusedKeysLogged && refused.insert(key).inserted {
                logger.warning("refused a client whose key is not authorized", metadata: [
                    "key": "\(CurveKeys.encode(key))", "address": "\(frames.count > 3 ? String(decoding: frames[3], as: UTF8.self) : "?")",
                    "mechanism": "\(mechanism)",
                ])
                if refused.count == Self.refusedKeysLogged {
                    logger.warning("\(Self.refusedKeysLogged) unknown keys logged; further ones are refused without a log line")
                }
            }
            let reply: [[UInt8]] = [
                Array("1.0".utf8), requestID,
                Array((client == nil ? "400" : "200").utf8), Array((client == nil ? "key not authorized" : "OK").utf8),
                Array((client ?? "").utf8), [],
            ]
            for (index, frame) in reply.enumerated() {
                _ = frame.withUnsafeBytes { socket.send($0, more: index < reply.count - 1) }
            }
        }
    }
}
