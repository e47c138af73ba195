// CURVE, libzmq's own encryption and authentication (CurveZMQ): the key files
// `meetingd keygen` writes, and the ZAP handler that lets in only the clients
// whose public key is in the allow-list (the `.pub` files of one folder).

import CZeroMQ
import Foundation
import Logging
import Synchronization

public struct CurveKeyError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

public enum CurveKeys {
    /// A key as Z85 text: 32 bytes in 40 characters.
    public static let textLength = 40

    /// Whether this libzmq was built with CURVE (libsodium or its own tweetnacl).
    public static var isSupported: Bool { zmq_has("curve") != 0 }

    /// A new key pair as Z85 text.
    public static func generatePair() throws(CurveKeyError) -> (publicKey: String, secretKey: String) {
        var publicKey = [CChar](repeating: 0, count: textLength + 1)
        var secretKey = [CChar](repeating: 0, count: textLength + 1)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else {
            throw CurveKeyError("cannot make a CURVE key pair: \(String(cString: zmq_strerror(zmq_errno())))")
        }
        return (text(publicKey), text(secretKey))
    }

    /// The text of a NUL-terminated buffer libzmq filled.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The public key that belongs to a secret key.
    public static func publicKey(ofSecret secretKey: String) throws(CurveKeyError) -> String {
        var publicKey = [CChar](repeating: 0, count: textLength + 1)
        guard zmq_curve_public(&publicKey, secretKey) == 0 else {
            throw CurveKeyError("cannot derive the public key: \(String(cString: zmq_strerror(zmq_errno())))")
        }
        return text(publicKey)
    }

    /// The 32 bytes a Z85 key stands for, or nil when it is not one.
    public static func decode(_ text: String) -> [UInt8]? {
        guard text.utf8.count == textLength else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        return zmq_z85_decode(&bytes, text) == nil ? nil : bytes
    }

    static func encode(_ bytes: [UInt8]) -> String {
        var text = [CChar](repeating: 0, count: textLength + 1)
        guard bytes.count == 32, zmq_z85_encode(&text, bytes, 32) != nil else { return "(not a key)" }
        return Self.text(text)
    }

    /// The key in a `.key` or `.pub` file: one line of 40 Z85 characters. A secret
    /// key others may read is refused, as ssh refuses such a private key; except a
    /// systemd credential, which systemd keeps to the service (with an ACL, whose
    /// mask shows in the group bits).
    public static func read(_ path: String, secret: Bool) throws(CurveKeyError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CurveKeyError("\(path): \(String(cString: strerror(errno)))") }
        let credentials = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"].map { $0 + "/" }
        if secret && info.st_mode & 0o077 != 0 && !(credentials.map(path.hasPrefix) ?? false) {
            throw CurveKeyError("\(path): a secret key must be readable by its owner only (chmod 600)")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw CurveKeyError("\(path): cannot read it")
        }
        let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard decode(key) != nil else {
            throw CurveKeyError("\(path): expected one line of \(textLength) Z85 characters (as `meetingd keygen` writes)")
        }
        return key
    }

    /// Writes `NAME.key` (the secret key, mode 0600) and `NAME.pub` (the public key,
    /// 0644). Never overwrites a file: a lost secret key cannot be brought back.
    public static func writePair(name: String) throws(CurveKeyError) -> (keyFile: String, pubFile: String) {
        let pair = try generatePair()
        let keyFile = name + ".key", pubFile = name + ".pub"
        for file in [keyFile, pubFile] where FileManager.default.fileExists(atPath: file) {
            throw CurveKeyError("\(file) exists; not overwritten")
        }
        try write(pair.secretKey + "\n", to: keyFile, mode: 0o600)
        try write(pair.publicKey + "\n", to: pubFile, mode: 0o644)
        return (keyFile, pubFile)
    }

    private static func write(_ text: String, to path: String, mode: mode_t) throws(CurveKeyError) {
        // Created with its final mode, so the secret is never readable by others, even briefly.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else { throw CurveKeyError("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        // The umask may have taken bits away; the mode is what the files promise.
        guard fchmod(fd, mode) == 0, Foundation.write(fd, bytes, bytes.count) == bytes.count else {
            throw CurveKeyError("\(path): \(String(cString: strerror(errno)))")
        }
    }

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
