// meetingctl summarise: a meeting's summary (summarise.meeting), or with --corpus a digest
// across meetings (summarise.corpus); each sentence under its speaker, with its turn, so
// it can be checked. --json prints the result.

import ArgumentParser
import Foundation
import MeetingKit

struct SummariseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summarise", abstract: "An extractive summary of a meeting, a speaker or a question (summarise.meeting).",
        discussion: """
            `meetingctl summarise ID` summarises meeting ID; --query focuses on the part that answers a question \
            ("What did Marketing think about the price?"), --speaker on one person's sentences. \
            `meetingctl summarise --corpus "SUBJECT"` digests what every meeting said about a subject.
            """)
    @OptionGroup var client: ClientOptions
    @Argument(help: "The meeting id (or, with --corpus, the subject).") var target: String
    @Option(help: "A question to answer from the meeting.") var query: String?
    @Option(help: "Only this speaker's sentences.") var speaker: String?
    @Option(help: "Word budget, attributions included.") var words: Int = 100
    @Option(name: .customLong("sentences"), help: "At most this many sentences.") var maxSentences: Int?
    @Flag(help: "Summarise what all meetings said about the subject TARGET instead.") var corpus = false
    @Option(help: "With --corpus: earliest date (YYYY, YYYY-MM or YYYY-MM-DD).") var from: String?
    @Option(help: "With --corpus: latest date, inclusive.") var to: String?

    func validate() throws {
        guard words > 0 else { throw ValidationError("--words must be positive") }
        if corpus, query != nil || maxSentences != nil { throw ValidationError("--query and --sentences are for one meeting, not --corpus") }
        if !corpus, from != nil || to != nil { throw ValidationError("--from and --to go with --corpus") }
    }

    func run() throws {
        var params: JSONObject = ["max_words": JSONValue(words)]
        if let speaker { params["speaker"] = .string(speaker) }
        let method: String
        if corpus {
            method = "summarise.corpus"
            params["q"] = .string(target)
            if let from { params["from"] = .string(from) }
            if let to { params["to"] = .string(to) }
        } else {
            method = "summarise.meeting"
            params["meeting"] = .string(target)
            if let query { params["query"] = .string(query) }
            if let maxSentences { params["max_sentences"] = JSONValue(maxSentences) }
        }
        let result = try client.call(method, .object(params))
        guard !client.json else { return print(result.serialized) }
        let sentences = result["sentences"]?.arrayValue ?? []
        if sentences.isEmpty {
            print("(nothing to summarise)")
            return
        }
        if corpus {
            for sentence in sentences {
                let origin = [sentence["meeting"]?.stringValue, sentence["date"]?.stringValue].compactMap { $0 }.joined(separator: " ")
                print("\(origin), turn \(sentence["turn"]?.serialized ?? "?") · \(sentence["speaker"]?.stringValue ?? "(unnamed)")")
                print("  \(sentence["text"]?.stringValue ?? "")")
            }
        } else {
            // One block per run of a speaker, as the summary text has them, with the turns cited.
            var previous: String??
            for sentence in sentences {
                let speaker = sentence["speaker"]?.stringValue
                if previous == nil || previous! != speaker {
                    if previous != nil { print("") }
                    print("\(speaker ?? "(unnamed)"):")
                }
                print("  \(sentence["text"]?.stringValue ?? "")  [turn \(sentence["turn"]?.serialized ?? "?")]")
                previous = .some(speaker)
            }
            let located = (result["located"]?.arrayValue ?? []).map { range in
                (range.arrayValue ?? []).map(\.serialized).joined(separator: "–")
            }
            if !located.isEmpty { print("\nabout turns \(located.joined(separator: ", "))") }
            if let keywords = result["keywords"]?.arrayValue, !keywords.isEmpty {
                print((located.isEmpty ? "\n" : "") + "keywords: \(keywords.compactMap(\.stringValue).joined(separator: ", "))")
            }
        }
        print("(\(result["words"]?.serialized ?? "?") words)")
    }
}
