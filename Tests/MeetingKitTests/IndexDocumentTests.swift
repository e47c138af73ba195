import Foundation
@testable import MeetingKit
import XCTest

/// A turn's index document, grouped by the analyzer's numbers, against the same grouping
/// done by hand over `Analyzer.words` (strings compared, nothing numbered).
final class IndexDocumentTests: XCTestCase {
    static let texts = [
        "The meeting met; meetings MEET, and the Meeting's minutes {vocalsound} were met.",
        "Café cafe CAFÉ naïve {disfmarker} naive o’regan O'Regan",
        "Мирзиёев Мирзиеев сказал: переговоры, переговорах и о переговорах.",
        "",
        "{pause} {gap}",
        "the the the a an",
        "no no no no no",
        "Budget budgets budgeting budgeted, the budget committee's budget.",
    ]

    struct Expected: Equatable {
        var length = 0
        var terms: [String] = []
        var positions: [[UInt32]] = []
        var forms: [String] = []
        var formTerms: [Int] = []
        var statisticTerms: [String] = []
    }

    static func expected(_ text: String) -> Expected {
        var expected = Expected()
        let words = Analyzer().words(TranscriptText.strippingMarks(text))
        expected.length = words.count
        for word in words {
            let index = expected.terms.firstIndex(of: word.term) ?? expected.terms.count
            if index == expected.terms.count { expected.terms.append(word.term); expected.positions.append([]) }
            expected.positions[index].append(UInt32(word.position))
            if !expected.forms.contains(word.normalized) { expected.forms.append(word.normalized); expected.formTerms.append(index) }
            if !word.isStopWord, !expected.statisticTerms.contains(word.term) { expected.statisticTerms.append(word.term) }
        }
        return expected
    }

    static func actual(_ text: String, _ analyzer: Analyzer) -> Expected {
        var statisticTerms: [String] = []
        let document = CorpusIndex.Document(storedText: text, analyzer: analyzer) {
            statisticTerms.append(analyzer.termsByNumber[Int($0)])
        }
        // Each term's share of the one positions buffer, which the terms' ends must cover exactly.
        let starts = [0] + document.terms.map(\.positionsEnd).dropLast()
        let positions = zip(starts, document.terms).map { Array(document.positions[$0..<$1.positionsEnd]) }
        XCTAssertEqual(document.terms.last?.positionsEnd ?? 0, document.positions.count, text)
        return Expected(length: Int(document.length), terms: document.terms.map(\.term), positions: positions,
                        forms: document.words.map(\.form), formTerms: document.words.map(\.termIndex), statisticTerms: statisticTerms)
    }

    /// One analyzer for every text, in two orders, and one whose vocabulary starts over
    /// every few words: numbers from earlier texts or generations must not leak in.
    func testDocumentsGroupWordsAsTheAnalyzersWordsDo() {
        for limit in [200_000, 3] {
            let analyzer = Analyzer(vocabularyLimit: limit)
            for text in Self.texts + Self.texts.reversed() {
                analyzer.startOverIfFull()
                XCTAssertEqual(Self.actual(text, analyzer), Self.expected(text), "limit \(limit): \(text)")
            }
        }
    }

    /// `term_stat`'s rule, as deletions apply it, equals what ingest counts.
    func testDistinctTermsAreTheStatisticTerms() {
        let analyzer = Analyzer(vocabularyLimit: 5)
        for text in Self.texts {
            XCTAssertEqual(TermStatistics.distinctTerms(ofStoredText: text, analyzer: analyzer), Self.expected(text).statisticTerms)
        }
    }

    /// The terms a meeting's turns hold, counted by number, named as the turns count them:
    /// meetings prepared one after another by one analyzer whose vocabulary starts over
    /// between them, so that counts by a number of the meeting before would show.
    func testPreparedMeetingCountsTurnsPerTerm() {
        let analyzer = Analyzer(vocabularyLimit: 4)
        for shift in 0..<3 {
            let texts = Array(Self.texts[shift...] + Self.texts[..<shift])
            let turns = texts.enumerated().map { Turn(index: $0.offset, speaker: "S\($0.offset % 2)", paragraphs: [$0.element]) }
            let prepared = CorpusWriter.PreparedMeeting(Meeting(id: "m\(shift)", title: "t", turns: turns), analyzer: analyzer)
            var counts: [String: Int] = [:]
            for text in texts { for term in Self.expected(text).statisticTerms { counts[term, default: 0] += 1 } }
            XCTAssertEqual(prepared.termCounts, counts, "meeting \(shift)")
            XCTAssertEqual(prepared.indexDocuments.map { Int($0.length) }, texts.map { Self.expected($0).length })
        }
    }
}
