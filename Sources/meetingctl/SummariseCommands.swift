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
        if result["found"] == false {
            let topic = (result["topic"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ")
            print("Not found in \(target): \(topic)")
            throw ExitCode(1)
        }
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

/// meetingctl ask: a question answered from the record (summarise.answer), each piece with
/// where it came from; exit 1 when the subject is not found.
struct AskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask", abstract: "Answer a question from a meeting, or from the meeting that answers best (summarise.answer).",
        discussion: """
            `meetingctl ask "Which documents were signed?" --meeting ID` answers from that meeting's documents; \
            "Who took part?", "When…", "Where…" from its participants, date and place; "What did X say about Y?" \
            from X's sentences. Without --meeting the best meeting is found and named.
            """)
    @OptionGroup var client: ClientOptions
    @Argument(help: "The question.") var question: String
    @Option(help: "The meeting to answer from.") var meeting: String?
    @Option(help: "Only this person's words.") var speaker: String?
    @Option(help: "Word budget of the answer.") var words: Int = 100
    @Option(help: "Without --meeting: earliest date (YYYY, YYYY-MM or YYYY-MM-DD).") var from: String?
    @Option(help: "Without --meeting: latest date, inclusive.") var to: String?

    func validate() throws {
        guard words > 0 else { throw ValidationError("--words must be positive") }
        if meeting != nil, from != nil || to != nil { throw ValidationError("--from and --to choose among meetings: leave out --meeting") }
    }

    func run() throws {
        var params: JSONObject = ["question": .string(question), "max_words": JSONValue(words)]
        for (key, value) in [("meeting", meeting), ("speaker", speaker), ("from", from), ("to", to)] {
            if let value { params[key] = .string(value) }
        }
        let result = try client.call("summarise.answer", .object(params))
        guard !client.json else {
            print(result.serialized)
            if result["found"] == false { throw ExitCode(1) }
            return
        }
        let interpreted = result["interpreted"]
        guard result["found"] != false else {
            let topic = (interpreted?["topic"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ")
            print("Not found\(topic.isEmpty ? "" : ": \(topic)")\(interpreted?["meeting"]?.stringValue.map { " in \($0)" } ?? "").")
            let hints = result["hints"]
            if let closest = hints?["closest"]?.arrayValue, !closest.isEmpty {
                print("Closest words there: \(closest.compactMap(\.stringValue).joined(separator: ", "))")
            }
            if let meetings = hints?["meetings"]?.arrayValue, !meetings.isEmpty {
                print("Mentioned in: \(meetings.compactMap(\.stringValue).joined(separator: ", "))")
            }
            throw ExitCode(1)
        }
        if let meeting = interpreted?["meeting"]?.stringValue { print("From \(meeting):") }
        for piece in result["answer"]?.arrayValue ?? [] {
            let source = piece["source"]?.stringValue ?? "?"
            var citation = source
            if let turn = piece["turn"], turn != .null { citation = "turn \(turn.serialized)" }
            let speaker = piece["speaker"]?.stringValue.map { "\($0): " } ?? ""
            print("  \(speaker)\(piece["text"]?.stringValue ?? "")  [\(citation)]")
        }
    }
}
