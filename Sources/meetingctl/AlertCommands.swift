// meetingctl alert add|list|remove: saved queries whose hits in new meetings the daemon
// publishes on alert.<name> (see `meetingctl watch alert.NAME`).

import ArgumentParser
import Foundation
import MeetingKit

struct AlertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alert", abstract: "Saved-query alerts: add, list and remove (alerts.*).",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Save a query as an alert: each meeting added or updated that it matches is published on alert.NAME.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The alert's name: letters, digits, _ and -.") var name: String
        @Argument(help: "The query, in the search query language.") var query: String
        @Option(help: "Only turns by this person.") var speaker: String?
        @Option(help: "Only meetings whose place contains this text.") var place: String?
        @Option(help: "What a hit is: turn, sentence or meeting.") var unit: String?

        func run() throws {
            var params: JSONObject = ["name": .string(name), "q": .string(query)]
            if let speaker { params["speaker"] = .string(speaker) }
            if let place { params["place"] = .string(place) }
            if let unit { params["unit"] = .string(unit) }
            let result = try client.call("alerts.add", .object(params))
            guard !client.json else { return print(result.serialized) }
            print("\(result["replaced"]?.boolValue == true ? "replaced" : "added") alert \(name.escapingControls): "
                  + "watch it with `meetingctl watch alert.\(name.escapingControls)`")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The saved alerts.")
        @OptionGroup var client: ClientOptions

        func run() throws {
            let result = try client.call("alerts.list")
            guard !client.json else { return print(result.serialized) }
            printTable(result["alerts"]?.arrayValue ?? [], columns: ["name", "q", "speaker", "place", "unit"])
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an alert.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The alert's name.") var name: String

        func run() throws {
            let result = try client.call("alerts.remove", ["name": .string(name)])
            print(client.json ? result.serialized : "removed alert \(name.escapingControls)")
        }
    }
}
