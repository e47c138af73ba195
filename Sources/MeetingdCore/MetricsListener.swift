// `GET /metrics` over HTTP at `metrics.listen`, served by FlyingFox (a small
// HTTP server on Swift concurrency, its socket polled on its own queue). It only
// reads the metrics registry, so it is never on a request's path: a slow or
// stuck scraper holds no lock a worker or the broker needs.

import FlyingFox
import FlyingSocks
import Foundation
import Logging
import Synchronization

final class MetricsListener: Sendable {
    /// How long the daemon waits at start for the listening socket, and at stop for scrapes in progress.
    static let startTimeoutSeconds = 10.0
    static let stopTimeoutSeconds = 1.0

    private let server: HTTPServer
    private let address: MetricsConfig.Listen
    private let progress = Progress()

    /// Listens, or throws why it cannot (the address in use, say) so that the daemon
    /// does not start without the metrics it was asked for.
    init(address: MetricsConfig.Listen, exposition: @escaping @Sendable (MetricsFormat) -> String, logger: Logger) throws {
        self.address = address
        let socketAddress: any SocketAddress
        do {
            socketAddress = address.isIPv6 ? try sockaddr_in6.inet6(ip6: address.host, port: address.port)
                : try sockaddr_in.inet(ip4: address.host, port: address.port)
        } catch {
            throw ServerError("metrics.listen: cannot listen on \(address): \(error)")
        }
        server = HTTPServer(address: socketAddress, logger: FlyingFoxLog(logger: logger, progress: progress))
        let (server, progress) = (server, progress)
        let settled = DispatchSemaphore(value: 0)
        Task {
            await server.appendRoute("GET /metrics") { request in
                // Content negotiation as Prometheus does it: OpenMetrics for a scraper that asks for it.
                let format = MetricsFormat(accept: request.headers[HTTPHeader("Accept")])
                return HTTPResponse(statusCode: .ok, headers: [.contentType: format.contentType], body: Data(exposition(format).utf8))
            }
            do {
                try await server.run()
            } catch {
                progress.failed(error)
                settled.signal()
                if !progress.stopping.load(ordering: .relaxed) { logger.error("metrics: the HTTP listener on \(address) stopped: \(error)") }
            }
        }
        Task {
            do {
                try await server.waitUntilListening(timeout: Self.startTimeoutSeconds)
            } catch {
                progress.failed(error)
            }
            settled.signal()
        }
        settled.wait()
        if let error = progress.firstError.withLock({ $0 }) {
            throw ServerError("metrics.listen: cannot listen on \(address): \(error)")
        }
        logger.info("metrics: serving http://\(address)/metrics")
    }

    /// Closes the listening socket and lets scrapes in progress end (for a second at most).
    func stop() {
        progress.stopping.store(true, ordering: .relaxed)
        let stopped = DispatchSemaphore(value: 0)
        Task { [server] in
            // FlyingFox waits for the open connections, then cancels its accept loop (timeout 0: at once).
            await server.stop(timeout: 0)
            stopped.signal()
        }
        _ = stopped.wait(timeout: .now() + Self.stopTimeoutSeconds)
    }
}

/// What the listener's tasks tell the thread that started and stops it.
private final class Progress: Sendable {
    /// Why it could not start (or stopped), first reason only.
    let firstError = Mutex<(any Error)?>(nil)
    /// Set by `stop`, so that the end of the server's run is not an error.
    let stopping = Atomic<Bool>(false)

    func failed(_ error: any Error) { firstError.withLock { $0 = $0 ?? error } }
}

/// FlyingFox's log lines through the daemon's logger: its per-connection chatter at
/// debug, and so its errors once the listener is stopping (the cancelled accept loop).
private struct FlyingFoxLog: FlyingSocks.Logging {
    let logger: Logger
    let progress: Progress

    func logDebug(_ debug: @autoclosure () -> String) { logger.debug("metrics http: \(debug())") }
    func logInfo(_ info: @autoclosure () -> String) { logger.debug("metrics http: \(info())") }
    func logWarning(_ warning: @autoclosure () -> String) { logger.warning("metrics http: \(warning())") }
    func logError(_ error: @autoclosure () -> String) { problem(error()) }
    func logCritical(_ critical: @autoclosure () -> String) { problem(critical()) }

    private func problem(_ text: String) {
        logger.log(level: progress.stopping.load(ordering: .relaxed) ? .debug : .error, "metrics http: \(text)")
    }
}
