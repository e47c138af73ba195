// meetingctl search: ranked hits with highlighted snippets (search.query). Matched
// words are in colour on a terminal, between [ and ] otherwise, and --json prints the result.

import ArgumentParser
import Foundation
import MeetingKit

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Ranked turns, sentences or meetings matching a query (search.query).",
        discussion: """
            Query language: words (all must match, stemmed), "exact phrases", prefix*, a OR b, -excluded, \
            speaker:Name. A question ("What did Y say about Z?") is searched for its topic. \
            Put -- before a query that starts with -: meetingctl search -- '-control remote'.
            """)
    @OptionGroup var client: ClientOptions
    @Argument(help: "The query.") var query: String
    @Option(help: "Search only this meeting.") var meeting: String?
    @Option(help: "Only turns by this speaker.") var speaker: String?
    @Option(help: "Earliest date (YYYY, YYYY-MM or YYYY-MM-DD).") var from: String?
    @Option(help: "Latest date, inclusive.") var to: String?
    @Option(help: "Only meetings whose place contains this.") var place: String?
    @Option(help: "turn, sentence or meeting.") var unit: String = "turn"
    @Option(help: "Hits per page (at most 100).") var limit: Int = 10
    @Option(help: "Hits to skip.") var offset: Int = 0

    // Control characters never occur in indexed text, so they mark matches unambiguously.
    static let openMark = "\u{2}", closeMark = "\u{3}"

    func validate() throws {
        guard ["turn", "sentence", "meeting"].contains(unit) else { throw ValidationError("--unit is turn, sentence or meeting") }
    }

    func run() throws {
        var params: JSONObject = ["q": .string(query), "unit": .string(unit), "limit": JSONValue(limit), "offset": JSONValue(offset)]
        for (key, value) in [("meeting", meeting), ("speaker", speaker), ("from", from), ("to", to), ("place", place)] {
            if let value { params[key] = .string(value) }
        }
        if !client.json { params["markers"] = ["open": .string(Self.openMark), "close": .string(Self.closeMark)] }
        let result = try client.call("search.query", .object(params))
        guard !client.json else { return print(result.serialized) }

        let style = HighlightStyle.forStandardOutput()
        let hits = result["hits"]?.arrayValue ?? []
        let total = result["total"]?.intValue ?? 0
        let noun = unit == "meeting" ? "meeting" : "turn"
        let exact = result["total_exact"]?.boolValue ?? true
        print("\(exact ? "" : "at least ")\(total) \(noun)\(total == 1 ? "" : "s") "
              + String(format: "(%.1f ms)", result["took_ms"]?.doubleValue ?? 0))
        if let corrected = result["corrected"]?["q"]?.stringValue { print("searched for: \(corrected)") }
        if let ignored = result["interpreted"]?["ignored"]?.arrayValue, !ignored.isEmpty {
            print("left out: \(ignored.compactMap(\.stringValue).joined(separator: ", "))")
        }
        for (index, hit) in hits.enumerated() {
            let id = hit["meeting"]?.stringValue
            let title = hit["title"]?.stringValue == id ? nil : hit["title"]?.stringValue
            let place = [title, hit["date"]?.stringValue, id].compactMap { $0 }
            print("\n\(offset + index + 1). " + style.heading(place.joined(separator: " · ")))
            if unit == "meeting" {
                print("   \(hit["matches"]?.intValue ?? 0) matching turns")
                for passage in hit["passages"]?.arrayValue ?? [] { printPassage(passage, style) }
            } else {
                printPassage(hit, style)
            }
        }
        if offset + hits.count < total, !hits.isEmpty { print("\nmore: --offset \(offset + hits.count)") }
    }

    private func printPassage(_ hit: JSONValue, _ style: HighlightStyle) {
        var location = "turn \(hit["turn"]?.intValue ?? 0)"
        if let sentence = hit["sentence"]?.intValue { location += ", sentence \(sentence)" }
        if let speaker = hit["speaker"]?.stringValue { location += " · \(speaker)" }
        if let section = hit["section"]?.stringValue { location += " · in “\(section)”" }
        print("   " + style.dim(location + String(format: " · score %.2f", hit["score"]?.doubleValue ?? 0)))
        let snippet = (hit["snippet"]?.stringValue ?? "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
        print("   " + style.highlight(snippet))
    }
}

/// Colour on a terminal (unless NO_COLOR is set), brackets in pipes and files.
struct HighlightStyle {
    let colour: Bool

    static func forStandardOutput() -> HighlightStyle {
        HighlightStyle(colour: isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
    }

    func highlight(_ snippet: String) -> String {
        snippet.replacingOccurrences(of: SearchCommand.openMark, with: colour ? "\u{1B}[1;33m" : "[")
            .replacingOccurrences(of: SearchCommand.closeMark, with: colour ? "\u{1B}[0m" : "]")
    }

    func heading(_ text: String) -> String { colour ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    func dim(_ text: String) -> String { colour ? "\u{1B}[2m\(text)\u{1B}[0m" : text }
}
