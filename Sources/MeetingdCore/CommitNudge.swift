// Ingest is another process than the daemon. After each commit it nudges the daemon's
// event stream over an ipc socket next to the corpus (`<corpus>-nudge`), so events go out
// at once rather than at the stream's next timer tick; when no daemon listens, the nudge
// is dropped and the timer (`events.poll_ms`) still finds the commit.

import CZeroMQ
import Foundation

public enum CommitNudge {
    /// Where the daemon serving `corpusPath` listens for nudges, or nil when the path is
    /// too long for a Unix socket (108 bytes with its NUL): then only the timer serves.
    static func endpoint(corpusPath: String) -> String? {
        let path = corpusPath + "-nudge"
        return path.utf8.count < 108 ? "ipc://" + path : nil
    }

    /// What `meetingd ingest` nudges with: connected once, one message after each commit.
    public final class Sender {
        private let context: UnsafeMutableRawPointer
        private let socket: ZMQSocket?

        public init(corpusPath: String) {
            let context = zmq_ctx_new()!
            self.context = context
            socket = CommitNudge.endpoint(corpusPath: corpusPath).flatMap { endpoint in
                guard let socket = try? ZMQSocket(context: context, type: ZMQ_PUSH) else { return nil }
                // One pending nudge says all there is to say; a short linger lets the last one out.
                try? socket.setInt(ZMQ_SNDHWM, 1)
                try? socket.setInt(ZMQ_LINGER, 200)
                guard (try? socket.connect(endpoint)) != nil else { socket.close(); return nil }
                return socket
            }
        }

        /// Never blocks: with a nudge already waiting, or nobody listening, this one is dropped.
        public func nudge() {
            guard let socket else { return }
            zmq_send(socket.handle, nil, 0, ZMQ_DONTWAIT)
        }

        deinit {
            socket?.close()
            zmq_ctx_term(context)
        }
    }
}
