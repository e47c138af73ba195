import MeetingKit
import XCTest

/// The alerts' prefilter lets through every meeting search could match (it may let through
/// more) and keeps out the meetings that lack a required word.
final class QueryPrefilterTests: XCTestCase {
    let analyzer = Analyzer()

    func passes(_ query: String, _ texts: [String]) -> Bool {
        QueryPrefilter(query: query, analyzer: analyzer).mayMatch(MeetingTerms(storedTexts: texts, analyzer: analyzer))
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
