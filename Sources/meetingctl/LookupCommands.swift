// The lookup subcommands: a meeting, a filtered list of meetings, a person, a
// meeting's turns. Readable tables and text by default, the JSON result with --json.

import ArgumentParser
import Foundation
import MeetingKit

struct MeetingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meeting", abstract: "Everything about one meeting except the turn texts (lookup.meeting).")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The meeting id.") var id: String

    func run() throws {
        let meeting = try client.call("lookup.meeting", ["id": .string(id)])
        guard !client.json else { return print(meeting.serialized) }
        print(text(meeting["title"]))
        print([meeting["date"], meeting["place"], meeting["format"]].compactMap { $0?.stringValue }.joined(separator: " · "))
        print("\(text(meeting["id"])): \(text(meeting["turn_count"])) turns, \(text(meeting["words"])) words"
              + (meeting["duration"]?.doubleValue.map { ", \(Int($0)) s" } ?? ""))
        if let source = meeting["source"]?.stringValue { print("source: \(source)") }
        for paragraph in meeting["lead"]?.arrayValue ?? [] { print("\n" + text(paragraph)) }
        section("Participants", meeting["participants"], columns: ["name", "role", "country", "organisation"])
        section("Speakers", meeting["speakers"], columns: ["name", "turns", "words"])
        if let unnamed = meeting["unnamed_turns"]?.intValue, unnamed > 0 { print("(and \(unnamed) turn\(unnamed == 1 ? "" : "s") by unnamed voices)") }
        section("Sections", meeting["sections"], columns: ["index", "title", "first_turn", "last_turn", "turns"])
        let documents = meeting["documents"]?.arrayValue ?? []
        if !documents.isEmpty {
            print("\nDocuments")
            for document in documents { print("  - \(text(document))") }
        }
    }

    private func section(_ heading: String, _ rows: JSONValue?, columns: [String]) {
        guard let rows = rows?.arrayValue, !rows.isEmpty else { return }
        print("\n" + heading)
        printTable(rows, columns: columns, indent: "  ")
    }
}

struct MeetingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meetings", abstract: "Meetings matching every filter given, a page at a time (lookup.meetings).",
        discussion: "Dates are YYYY, YYYY-MM or YYYY-MM-DD, both ends inclusive. Names go through the same resolution as `person`.")
    @OptionGroup var client: ClientOptions
    @Option(help: "Earliest date.") var from: String?
    @Option(help: "Latest date.") var to: String?
    @Option(help: "Words the place must contain.") var place: String?
    @Option(help: "Someone who took part (listed or spoke).") var participant: String?
    @Option(help: "Someone who spoke.") var speaker: String?
    @Option(help: "Words the title must contain.") var title: String?
    @Option(help: "date, -date, id, title, words, -words, turns or -turns.") var sort: String?
    @Option(help: "Meetings per page (at most 100).") var limit: Int?
    @Option(help: "Meetings to skip.") var offset: Int?

    func run() throws {
        let params = namedParams(["from": from, "to": to, "place": place, "participant": participant, "speaker": speaker,
                                  "title": title, "sort": sort], limit: limit, offset: offset)
        let page = try client.call("lookup.meetings", params)
        guard !client.json else { return print(page.serialized) }
        for key in ["participant", "speaker"] {
            if let name = page[key]?.stringValue { print("\(key): \(name)") }
        }
        printTable(page["meetings"]?.arrayValue ?? [], columns: ["date", "id", "title", "turn_count", "words"])
        printPageFooter(page, "meetings")
    }
}

struct PersonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "person", abstract: "A person by name as typed, with aliases, roles and meetings (lookup.person).",
        discussion: "\"Putin\", \"President Putin\" and other spellings resolve to one person; an ambiguous name lists the candidates.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The name.") var name: String
    @Option(help: "Meetings per page (at most 200).") var limit: Int?
    @Option(help: "Meetings to skip.") var offset: Int?

    func run() throws {
        let person = try client.call("lookup.person", namedParams(["name": name], limit: limit, offset: offset))
        guard !client.json else { return print(person.serialized) }
        if person["ambiguous"] == true {
            print("\"\(name)\" could be any of:")
            printTable(person["candidates"]?.arrayValue ?? [], columns: ["name", "matched", "meetings"], indent: "  ")
            return
        }
        print(text(person["name"]))
        if let match = person["match"], match["kind"]?.stringValue != "name" {
            print("(found by \(text(match["kind"])): \(text(match["matched"])))")
        }
        let aliases = (person["aliases"]?.arrayValue ?? []).map(text)
        if !aliases.isEmpty { print("also: " + aliases.joined(separator: "; ")) }
        let roles = person["roles"]?.arrayValue ?? []
        if !roles.isEmpty {
            print("\nRoles")
            printTable(roles, columns: ["role", "country", "organisation", "meetings"], indent: "  ")
        }
        print("\nMeetings")
        printTable(person["meetings"]?.arrayValue ?? [], columns: ["date", "id", "title", "role", "turns", "words"], indent: "  ")
        printPageFooter(person, "meetings")
    }
}

struct TurnsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "turns", abstract: "A meeting's turns in order, as text (lookup.turns).")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The meeting id.") var id: String
    @Option(help: "Only this speaker's turns.") var speaker: String?
    @Option(help: "Only this section (from 0).") var section: Int?
    @Option(help: "First turn index.") var from: Int?
    @Option(help: "Last turn index.") var to: Int?
    @Option(help: "Turns per page (at most 200).") var limit: Int?
    @Option(help: "Turns to skip.") var offset: Int?

    func run() throws {
        var params = namedParams(["meeting": id, "speaker": speaker], limit: limit, offset: offset)
        if case .object(var object) = params {
            for (key, value) in [("section", section), ("from", from), ("to", to)] { if let value { object[key] = JSONValue(value) } }
            params = .object(object)
        }
        let page = try client.call("lookup.turns", params)
        guard !client.json else { return print(page.serialized) }
        for turn in page["turns"]?.arrayValue ?? [] {
            var heading = "[\(text(turn["index"]))] \(turn["speaker"]?.stringValue ?? "(unnamed)")"
            if let role = turn["role"]?.stringValue { heading += " (\(role))" }
            print(heading)
            for paragraph in turn["paragraphs"]?.arrayValue ?? [] { print("    " + text(paragraph)) }
            print()
        }
        printPageFooter(page, "turns")
    }
}

/// Params from the options given; unset ones are left out for the daemon's defaults.
private func namedParams(_ strings: KeyValuePairs<String, String?>, limit: Int?, offset: Int?) -> JSONValue {
    var object: JSONObject = [:]
    for (key, value) in strings { if let value { object[key] = .string(value) } }
    if let limit { object["limit"] = JSONValue(limit) }
    if let offset { object["offset"] = JSONValue(offset) }
    return .object(object)
}

/// A value as a table cell: strings bare, null as "-", anything else as JSON.
private func text(_ value: JSONValue?) -> String {
    switch value {
    case nil, .null?: return "-"
    case .string(let string)?: return string
    case let other?: return other.serialized
    }
}

/// Rows of objects as aligned columns; long cells are cut so each row stays on one line.
func printTable(_ rows: [JSONValue], columns: [String], indent: String = "") {
    guard !rows.isEmpty else { return print(indent + "(none)") }
    let maxWidth = 60
    let cells = rows.map { row in columns.map { column -> String in
        let cell = text(row[column])
        return cell.count > maxWidth ? String(cell.prefix(maxWidth - 1)) + "…" : cell
    } }
    let widths = columns.indices.map { index in max(columns[index].count, cells.map { $0[index].count }.max() ?? 0) }
    func line(_ values: [String]) -> String {
        let padded = indent + zip(values, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        return String(padded.reversed().drop { $0 == " " }.reversed())
    }
    print(line(columns))
    cells.forEach { print(line($0)) }
}

private func printPageFooter(_ page: JSONValue, _ noun: String) {
    let total = page["total"]?.intValue ?? 0
    let offset = page["offset"]?.intValue ?? 0
    let shown = page[noun]?.arrayValue?.count ?? 0
    print(shown == 0 ? "\(total) \(noun); none on this page" : "\(noun) \(offset + 1)–\(offset + shown) of \(total)")
}
