import ArgumentParser
import Foundation
import MeetingKit
import MeetingdCore

struct Index: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the corpus's search index: every turn indexed exactly once, and no removed turn (exits 1 if not)."
    )

    @OptionGroup var options: CorpusOptions

    @Flag(name: .long, help: "Check the index against the turns (the only action for now).")
    var check = false

    func run() throws {
        guard check else { throw ValidationError("say what to do: --check") }
        let settings = try options.load()
        let reader = try Corpus.openReadOnly(path: settings.corpusPath).reader
        let (problems, segments, turns) = try reader.read { db in
            (try CorpusIndex.problems(db), try Int.fetchOne(db, sql: "SELECT count(*) FROM index_segment") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM turn") ?? 0)
        }
        for problem in problems.prefix(20) { print(problem) }
        if problems.count > 20 { print("… and \(problems.count - 20) more") }
        print("index: \(turns) turns in \(segments) segments, \(problems.isEmpty ? "consistent" : "\(problems.count) problems")")
        if !problems.isEmpty { throw ExitCode(1) }
    }
}

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the index terms of texts as the analyzer makes them, stop words included, one JSON array per text.",
        discussion: "With no TEXT, each line of standard input is one text as a JSON string (so texts may hold newlines)."
    )

    @Argument(help: "Texts to analyse.")
    var texts: [String] = []

    @Flag(name: .long, help: "Print each word as [folded word, term] (prefixes match the folded words).")
    var words = false

    func run() throws {
        let analyzer = Analyzer()
        func printTerms(_ text: String) {
            print(JSONValue.array(analyzer.words(text).map { word in
                words ? [.string(word.normalized), .string(word.term)] : .string(word.term)
            }).serialized)
        }
        guard texts.isEmpty else { return texts.forEach(printTerms) }
        while let line = readLine() {
            guard case .string(let text) = try JSONValue.parse(line) else { throw ValidationError("not a JSON string: \(line)") }
            printTerms(text)
        }
    }
}
