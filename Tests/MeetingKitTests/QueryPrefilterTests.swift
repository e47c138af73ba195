import MeetingKit
import XCTest

/// The alerts' prefilter lets through every meeting search could match (it may let through
/// more) and keeps out the meetings that lack a required word.
final class QueryPrefilterTests: XCTestCase {
    let analyzer = Analyzer()

    /// Whether a meeting of `texts` passes, in a corpus of it and `others` (as the index
    /// expands a prefix: the terms of every word of the corpus that starts with it).
    func passes(_ query: String, _ texts: [String], others: [String] = []) -> Bool {
        let words = (texts + others).flatMap { CorpusIndex.words(ofStoredText: $0, analyzer: analyzer) }
        return QueryPrefilter(query: query, analyzer: analyzer).mayMatch(MeetingTerms(storedTexts: texts, analyzer: analyzer)) { prefix in
            Set(words.filter { $0.normalized.utf8.starts(with: prefix.utf8) }.map(\.term))
        }
    }

    func testEveryFormSearchMatchesIsLetThrough() {
        let meeting = ["We should buy rechargeable batteries{vocalsound} for the remote.", "The negotiation went well.",
                       "Нам нужна вакцина. The children's toys.", "The budget and the sanctions."]
        // "negotiat*" is held by "negotiation", whose term "negoti" is shorter than the prefix.
        for query in ["negotiat*", "negotiation*", "вакцин*", "batter*", "\"rechargeable batteries\"", "\"rechargeable batt*\"", "вакцины", "children's",
                      "\"for the\"", "budget -sanctions", "zeppelin OR remote", "speaker:Alice",
                      "What did Alice say about zeppelins?", "\"unclosed"] {
            XCTAssertTrue(passes(query, meeting), query)
        }
    }

    /// Search covers the terms of the corpus's words that start with a prefix, so a meeting
    /// holds "negotiat*" through "negotiable" (the term of "negotiations", "negoti") when
    /// another meeting says "negotiations", and not when none does.
    func testAPrefixIsHeldThroughATermAnotherMeetingsWordGivesIt() {
        let meeting = ["The terms are negotiable."]
        XCTAssertEqual(analyzer.words("negotiable negotiations").map(\.term).count, 2)
        XCTAssertEqual(Set(analyzer.words("negotiable negotiations").map(\.term)).count, 1, "the premise: one term")
        XCTAssertTrue(passes("negotiat*", meeting, others: ["The negotiations went well."]))
        XCTAssertFalse(passes("negotiat*", meeting))
        XCTAssertFalse(passes("negotiat*", meeting, others: ["The weather went well."]))
    }

    func testAMeetingWithoutARequiredWordIsKeptOut() {
        let meeting = ["The batteries are not rechargeable{vocalsound}."]
        // Holding every word of a phrase lets it through: the search decides.
        XCTAssertTrue(passes("\"rechargeable batteries\"", meeting))
        // A prefix is the start of a word as written: "batteryless*" is not in "batteries"
        // although both words' terms start "batteri".
        for query in ["zeppelin", "batteries zeppelin", "zeppelin OR blimp", "zepp*", "batteryless*", "\"rechargeable zeppelins\"",
                      "\"batteries zepp*\"", "zeppelin speaker:Alice", "vocalsound"] {
            XCTAssertFalse(passes(query, meeting), query)
        }
    }
}
