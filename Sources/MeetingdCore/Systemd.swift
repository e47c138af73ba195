// The two systemd protocols the daemon speaks itself: sd_notify (a datagram to
// $NOTIFY_SOCKET) and socket activation (listening sockets passed as fds 3...
// with $LISTEN_FDS and $LISTEN_PID). Log lines go to the journal through
// libsystemd's sd_journal_sendv (Log.swift).

import Foundation

public final class SystemdNotifier: Sendable {
    private let address: String?
    /// Half of $WATCHDOG_USEC: how often the watchdog must hear from us, or nil when off.
    public let watchdogInterval: UInt64?
    /// The full watchdog timeout in nanoseconds.
    public let watchdogTimeout: UInt64?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        address = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let watchdogPID = environment["WATCHDOG_PID"].flatMap { Int32($0) }
        if let micros = environment["WATCHDOG_USEC"].flatMap(UInt64.init), micros > 0,
           watchdogPID == nil || watchdogPID == getpid() {
            watchdogTimeout = micros * 1000
            watchdogInterval = micros * 1000 / 2
        } else {
            watchdogTimeout = nil
            watchdogInterval = nil
        }
    }

    public var isActive: Bool { address != nil }

    public func notify(_ message: String) {
        guard let address else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var target = sockaddr_un()
        target.sun_family = sa_family_t(AF_UNIX)
        var path = Array(address.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: target.sun_path)
        guard path.count < capacity else { return }
        withUnsafeMutableBytes(of: &target.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        var bytes = Array(message.utf8)
        _ = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, &bytes, bytes.count, 0, $0, length) }
        }
    }

    /// RELOADING=1 with the monotonic time systemd 253+ asks for (older ones ignore it).
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        notify("RELOADING=1\nMONOTONIC_USEC=\(UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000)")
    }
}

public enum SocketActivation {
    /// Listening sockets systemd passed us, by the ZeroMQ endpoint they listen on.
    public static func listeningSockets(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String: Int32] {
        guard let pid = environment["LISTEN_PID"].flatMap(Int32.init), pid == getpid(),
              let count = environment["LISTEN_FDS"].flatMap(Int32.init), count > 0 else { return [:] }
        var sockets: [String: Int32] = [:]
        for fd in 3..<(3 + count) {
            if let endpoint = endpoint(of: fd) { sockets[endpoint] = fd }
        }
        return sockets
    }

    static func addressText(_ family: Int32, _ address: UnsafeRawPointer) -> String {
        var text = [UInt8](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        text.withUnsafeMutableBufferPointer { buffer in
            _ = buffer.withMemoryRebound(to: CChar.self) { inet_ntop(family, address, $0.baseAddress, socklen_t($0.count)) }
        }
        return String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func endpoint(of fd: Int32) -> String? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    var raw = address.pointee.sin_addr
                    return "tcp://\(addressText(AF_INET, &raw)):\(UInt16(bigEndian: address.pointee.sin_port))"
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    var raw = address.pointee.sin6_addr
                    return "tcp://[\(addressText(AF_INET6, &raw))]:\(UInt16(bigEndian: address.pointee.sin6_port))"
                }
            }
        case AF_UNIX:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { address in
                    withUnsafeBytes(of: address.pointee.sun_path) { bytes in
                        let path = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                        return path.isEmpty ? nil : "ipc://\(path)"
                    }
                }
            }
        default:
            return nil
        }
    }
}
