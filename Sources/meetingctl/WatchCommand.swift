// meetingctl watch: the daemon's event stream as it comes, caught up through
// events.since on start and after every gap in sequence numbers, so nothing is lost
// (the zguide's Clone pattern).

import ArgumentParser
import CZeroMQ
import Foundation
import MeetingKit
import MeetingdClient

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Print corpus changes as they happen (the event stream, with events.since after a gap).",
        discussion: """
            Subscribes to the daemon's event stream (`events.endpoints` in its config) and prints each \
            meeting added, updated or removed, each reload, and each alert's hits (alert.NAME, from \
            `meetingctl alert add`). TOPIC prefixes choose what to print \
            (default: everything). --since N first prints what came after sequence number N (0: all that is kept).
            """)
    @OptionGroup var client: ClientOptions
    @Argument(help: "Topic prefixes to print: meeting.added, meeting.updated, meeting.removed, daemon.reloaded, meeting., alert.NAME, alert.") var topics: [String] = []
    @Option(help: "The event stream's endpoint (default: the first of the config's events.endpoints).") var events: String?
    @Option(help: "First print the events after this sequence number.") var since: Int?
    @Option(help: "Stop after this many events (for scripts).") var count: Int?

    func run() throws {
        let endpoint = try events ?? {
            let endpoints: [String]
            do { endpoints = try DaemonConfigFile.eventEndpoints(file: client.configFile) } catch {
                throw ValidationError("\(error)")
            }
            guard let first = endpoints.first else {
                throw ValidationError("the config has no events.endpoints: give --events ENDPOINT")
            }
            return first
        }()
        guard let context = zmq_ctx_new(), let socket = zmq_socket(context, ZMQ_SUB) else {
            throw ClientError.transport("cannot create a ZeroMQ socket")
        }
        defer { zmq_close(socket); zmq_ctx_term(context) }
        var linger: Int32 = 0
        zmq_setsockopt(socket, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
        try client.curve()?.apply(to: socket)
        for topic in topics.isEmpty ? [""] : topics {
            var bytes = Array(topic.utf8)
            zmq_setsockopt(socket, ZMQ_SUBSCRIBE, &bytes, bytes.count)
        }
        guard zmq_connect(socket, endpoint) == 0 else {
            throw ClientError.transport("cannot connect to \(endpoint): \(String(cString: zmq_strerror(zmq_errno())))")
        }
        var printed = 0
        var seen: Int64? = since.map(Int64.init)
        func show(_ topic: String, _ body: JSONValue) throws {
            guard topics.isEmpty || topics.contains(where: topic.hasPrefix) else { return }
            let line: String
            if client.json {
                line = JSONValue.object(["topic": .string(topic), "event": body]).serialized
            } else {
                var what = body["meeting"]?.stringValue ?? body["generation"].map { "generation \($0.serialized)" } ?? ""
                if let hits = body["hits"]?.arrayValue, let first = hits.first {
                    what += "  \(body["total"]?.serialized ?? "\(hits.count)") hits, turn \(first["turn"]?.serialized ?? "?"): \(first["snippet"]?.stringValue ?? "")"
                }
                line = "\(body["seq"]?.serialized ?? "?")  \(topic.escapingControls)  \(what.escapingControls)"
            }
            // Unbuffered, so a script reading the pipe sees each event as it comes.
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
            printed += 1
            if let count, printed >= count { throw ExitCode.success }
        }
        /// Prints the logged changes after `seq` up to `upTo`, and returns the last number printed.
        func catchUp(after seq: Int64, upTo: Int64? = nil) throws -> Int64 {
            var last = seq
            while true {
                let page = try client.call("events.since", ["seq": .int(last), "limit": 1000])
                let events = page["events"]?.arrayValue ?? []
                for event in events {
                    guard let number = event["seq"]?.intValue.map(Int64.init) else { continue }
                    if let upTo, number >= upTo { return last }
                    try show(event["topic"]?.stringValue ?? "?", event)
                    last = number
                }
                if events.isEmpty { return last }
            }
        }
        if let start = seen { seen = try catchUp(after: start) }
        while true {
            var parts: [[UInt8]] = []
            repeat {
                var message = zmq_msg_t()
                zmq_msg_init(&message)
                defer { zmq_msg_close(&message) }
                guard zmq_msg_recv(&message, socket, 0) >= 0 else {
                    throw ClientError.transport("the event stream failed: \(String(cString: zmq_strerror(zmq_errno())))")
                }
                parts.append(Array(UnsafeRawBufferPointer(start: zmq_msg_data(&message), count: zmq_msg_size(&message))))
            } while hasMore(socket)
            guard parts.count == 2, let body = try? JSONValue.parse(parts[1]) else { continue }
            let topic = String(decoding: parts[0], as: UTF8.self)
            let number = body["seq"]?.intValue.map(Int64.init)
            if topic.hasPrefix("meeting."), let number {
                // A gap: the stream dropped messages; the log has them.
                if let last = seen, number > last + 1 { seen = try catchUp(after: last, upTo: number) }
                if let last = seen, number <= last { continue }
                seen = number
            }
            try show(topic, body)
        }
    }

    private func hasMore(_ socket: UnsafeMutableRawPointer) -> Bool {
        var more: Int32 = 0
        var size = MemoryLayout<Int32>.size
        zmq_getsockopt(socket, ZMQ_RCVMORE, &more, &size)
        return more != 0
    }
}
