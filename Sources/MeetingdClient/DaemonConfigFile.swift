// Where a client finds the daemon when not told: the endpoints in the daemon's own
// config file. The daemon reads that file with a YAML library (in MeetingdCore);
// clients read just `endpoints` and `events.endpoints` with the small reader
// below, so that they need neither the server core nor a YAML library.

import Foundation

public enum DaemonConfigFile {
    /// Where the daemon listens when its config names no endpoints.
    public static let defaultEndpoint = "tcp://127.0.0.1:5555"

    /// The config file used when none is named: `$MEETINGD_CONFIG`; the source tree's
    /// `Config/meetingd.yaml` for a binary still inside that tree's build folder (so
    /// `swift build` then `meetingd serve` just works); else the system's
    /// `/etc/meetingd/meetingd.yaml`; else none (the built-in defaults).
    public static func path(environment: [String: String]) -> String? {
        if let named = environment["MEETINGD_CONFIG"], !named.isEmpty { return named }
        let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
        let developmentConfig = sourceRoot + "/Config/meetingd.yaml"
        if executableDirectory.hasPrefix(sourceRoot + "/.build"), FileManager.default.fileExists(atPath: developmentConfig) {
            return developmentConfig
        }
        let systemConfig = "/etc/meetingd/meetingd.yaml"
        return FileManager.default.fileExists(atPath: systemConfig) ? systemConfig : nil
    }

    /// The folder of the running binary.
    public static var executableDirectory: String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path
    }

    /// The daemon's request endpoint a client on this host should use: the first of
    /// `$MEETINGD_ENDPOINTS` (which overrides the file for the daemon too), else of the
    /// file's `endpoints`, else the default; one listening on every interface is
    /// reached on loopback.
    public static func requestEndpoint(file: String?, environment: [String: String]) throws(ConfigReadError) -> String {
        let endpoint: String
        if let listed = environment["MEETINGD_ENDPOINTS"]?.split(separator: ",").first {
            endpoint = String(listed)
        } else if let file, let listed = try sequence(["endpoints"], inFile: file)?.first {
            endpoint = listed
        } else {
            endpoint = defaultEndpoint
        }
        return endpoint.replacingOccurrences(of: "tcp://0.0.0.0:", with: "tcp://127.0.0.1:")
            .replacingOccurrences(of: "tcp://*:", with: "tcp://127.0.0.1:")
    }

    /// The file's `events.endpoints` (none when it has none).
    public static func eventEndpoints(file: String?) throws(ConfigReadError) -> [String] {
        guard let file else { return [] }
        return try sequence(["events", "endpoints"], inFile: file) ?? []
    }

    /// The list of strings at `keyPath`, or nil when the file does not have the key.
    /// Reads block mappings and lists of plain or quoted scalars, in block
    /// (`- item`) or one-line flow (`[a, b]`) style: what a config's endpoints look
    /// like. Anything else at that key is an error asking for --endpoint.
    static func sequence(_ keyPath: [String], inFile file: String) throws(ConfigReadError) -> [String]? {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ConfigReadError(file: file, reason: "cannot read it (\(error.localizedDescription))")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { withoutComment(String($0)) }
        var path: [(indent: Int, key: String)] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            index += 1
            let content = line.drop { $0 == " " }
            let indent = line.count - content.count
            guard !content.isEmpty, !content.hasPrefix("-"), let colon = content.firstIndex(of: ":") else { continue }
            path.removeAll { $0.indent >= indent }
            path.append((indent, unquoted(String(content[..<colon]))))
            let rest = content[content.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard path.map(\.key) == keyPath else {
                // `events: {endpoints: [...]}`: a flow mapping on the way, which this reader does not open.
                if path.count < keyPath.count && keyPath.starts(with: path.map(\.key)) && !rest.isEmpty {
                    throw ConfigReadError(file: file, reason: "\(path.map(\.key).joined(separator: ".")) is not a block mapping this reader knows")
                }
                continue
            }
            if rest.hasPrefix("[") && rest.hasSuffix("]") {
                return rest.dropFirst().dropLast().split(separator: ",").map { unquoted($0.trimmingCharacters(in: .whitespaces)) }
                    .filter { !$0.isEmpty }
            }
            guard rest.isEmpty else {
                throw ConfigReadError(file: file, reason: "\(keyPath.joined(separator: ".")) is not a list this reader knows")
            }
            // A block sequence: `- item` lines, indented or at the key's own indent.
            var items: [String] = []
            while index < lines.count {
                let item = lines[index].drop { $0 == " " }
                let itemIndent = lines[index].count - item.count
                if item.isEmpty { index += 1; continue }
                guard item.hasPrefix("- ") || item == "-", itemIndent >= indent else { break }
                items.append(unquoted(item.dropFirst().trimmingCharacters(in: .whitespaces)))
                index += 1
            }
            return items
        }
        return nil
    }

    /// The line without a `#` comment (one at the start or after a space, outside quotes).
    private static func withoutComment(_ line: String) -> String {
        var quote: Character?
        var previous: Character = " "
        for (offset, character) in line.enumerated() {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "#" && (previous == " " || previous == "\t") {
                return String(line.prefix(offset))
            }
            previous = character
        }
        return line
    }

    private static func unquoted(_ text: String) -> String {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard text.count >= 2, let first = text.first, first == "\"" || first == "'", text.last == first else { return text }
        return String(text.dropFirst().dropLast())
    }
}

public struct ConfigReadError: Error, CustomStringConvertible {
    public let file: String
    public let reason: String
    public var description: String { "\(file): \(reason); give the endpoint with --endpoint or $MEETINGD_ENDPOINT" }
}
