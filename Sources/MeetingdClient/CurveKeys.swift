// CurveZMQ keys as meetingd uses them: the one-line Z85 files `meetingd keygen`
// writes, read and written here for the daemon and its clients alike.

import CZeroMQ
import Foundation

public struct CurveKeyError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
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

    /// The Z85 text of 32 key bytes, for log lines.
    public static func encode(_ bytes: [UInt8]) -> String {
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
}
