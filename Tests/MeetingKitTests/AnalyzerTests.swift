import Foundation
@testable import MeetingKit
import XCTest

final class AnalyzerTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Stems equal to Snowball's own, as the independent Python implementation gives them
    /// (`Fixtures/make_snowball_stems.py` writes the lists).
    func testStemsEqualSnowballsForEnglishAndRussian() throws {
        let analyzer = Analyzer()
        for name in ["english", "russian"] {
            let lines = try String(contentsOf: Self.fixtures.appendingPathComponent("snowball_\(name).tsv"), encoding: .utf8)
                .split(separator: "\n")
            XCTAssertGreaterThan(lines.count, 200, name)
            var wrong: [String] = []
            for line in lines {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                let stem = analyzer.term(fields[0])
                if stem != fields[1] { wrong.append("\(fields[0]): \(stem), Snowball \(fields[1])") }
            }
            XCTAssertEqual(wrong, [], name)
        }
    }

    func testWordsFoldCaseDiacriticsAndApostrophes() {
        let analyzer = Analyzer()
        XCTAssertEqual(analyzer.words("Café, NAÏVE résumé").map(\.normalized), ["cafe", "naive", "resume"])
        XCTAssertEqual(analyzer.words("Seamus O’Regan and O'Regan").map(\.normalized), ["seamus", "o'regan", "and", "o'regan"])
        // "й" keeps its breve, written composed or not; "ё" is "е"; a stress mark goes.
        XCTAssertEqual(analyzer.words("Мирзиёев Пу\u{301}тин Алиеи\u{306} МИРЗИЕЕВ").map(\.normalized),
                       ["мирзиеев", "путин", "алией", "мирзиеев"])
        // Hyphens and quotes separate; an apostrophe at a word's edge is not part of it.
        XCTAssertEqual(analyzer.words("front-end 'tourist' rock'n'roll").map(\.normalized),
                       ["front", "end", "tourist", "rock'n'roll"])
        XCTAssertEqual(analyzer.words("in 2020, 18 декабря").map(\.term), ["in", "2020", "18", "декабр"])
    }

    /// A word's term number equals the number `termNumbers(of:)` gave its stem, whether the
    /// stem was met before (in a word) or first numbered there; other words' numbers differ.
    func testTermNumbersMatchTheWordsOfThoseTerms() {
        let analyzer = Analyzer()
        _ = analyzer.words("remote")
        let numbers = analyzer.termNumbers(of: ["remot", "run", "budget"])
        XCTAssertEqual(Set(numbers).count, 3)
        var matched: [String] = []
        let text = "Running the remote, she runs"
        analyzer.forEachWordTerm(text) { bytes, number in
            let word = String(decoding: Array(text.utf8)[bytes], as: UTF8.self)
            if let index = numbers.firstIndex(of: number) { matched.append("\(word):\(index)") }
        }
        XCTAssertEqual(matched, ["Running:1", "remote:0", "runs:1"])
    }

    /// Terms numbered that no word has met (the many a prefix covers) count towards the
    /// vocabulary's limit: past it the vocabulary starts over instead of the term table growing.
    func testNumberedTermsStartTheVocabularyOverPastTheLimit() {
        let analyzer = Analyzer(vocabularyLimit: 10)
        _ = analyzer.words("remote control")
        XCTAssertEqual(Set(analyzer.termNumbers(of: (0..<20).map { "contr\($0)" })).count, 20)
        XCTAssertEqual(analyzer.termNumbers(of: ["budget"]), [0], "the vocabulary started over")
        XCTAssertEqual(analyzer.termsByNumber, ["budget"])
    }

    /// Words are numbered by their folded bytes: each spelling of a form (case, apostrophes,
    /// Cyrillic "ё" and capitals, combining marks, composed or not) gets the numbers a table keyed
    /// by the folded String gives, in order of first use, including words longer than the
    /// lowercasing buffer and enough forms to grow the table.
    func testWordsAreNumberedAsTheirFoldedStringsWouldBe() {
        let analyzer = Analyzer()
        let spellings = "Café CAFE cafe cafe\u{301} O’Regan O'REGAN o'regan Мирзиёев МИРЗИЕЕВ Пу\u{301}тин ПУТИН путин "
            + "the THE It’s it's Naïve NAIVE eightchr EIGHTCHR sixteencharacter SIXTEENcharacter "
            + String(repeating: "Long", count: 20) + " " + String(repeating: "lONG", count: 20)
        let many = (0..<1500).map { $0 % 2 == 0 ? "Word\($0)" : "wORD\($0)" }.joined(separator: " ")
        let text = spellings + " " + many + " " + spellings.uppercased() + " " + many.lowercased()
        var formNumbers: [String: Int32] = [:], termNumbers: [String: Int32] = [:]
        var expected: [Analyzer.NumberedWord] = []
        analyzer.forEachWord(text) { _, normalized in
            let form = formNumbers[normalized] ?? Int32(formNumbers.count)
            formNumbers[normalized] = form
            let stem = analyzer.term(normalized)
            let term = termNumbers[stem] ?? Int32(termNumbers.count)
            termNumbers[stem] = term
            expected.append(.init(form: form, term: term, isStopWord: StopWords.contains(normalized)))
        }
        XCTAssertEqual(formNumbers.count, 1500 + 10)
        let fresh = Analyzer()
        var numbered: [Analyzer.NumberedWord] = []
        fresh.indexWordNumbers(text) { numbered.append($0) }
        XCTAssertEqual(numbered.map(\.form), expected.map(\.form))
        XCTAssertEqual(numbered.map(\.term), expected.map(\.term))
        XCTAssertEqual(numbered.map(\.isStopWord), expected.map(\.isStopWord))
        XCTAssertEqual(fresh.words(text).map(\.normalized), expected.map { fresh.forms[Int($0.form)] })
        XCTAssertEqual(fresh.words(text).map(\.term), expected.map { fresh.termsByNumber[Int($0.term)] })
    }

    /// A full vocabulary starts over for forms too: a word met before is numbered afresh.
    func testFormsStartTheVocabularyOverPastTheLimit() {
        let analyzer = Analyzer(vocabularyLimit: 10)
        _ = analyzer.words("one two three four five six seven eight nine ten eleven")
        XCTAssertEqual(analyzer.words("Eleven budget").map(\.term), ["eleven", "budget"])
        var forms: [Int32] = []
        analyzer.indexWordNumbers("budget ELEVEN") { forms.append($0.form) }
        XCTAssertEqual(forms, [1, 0])
        XCTAssertEqual(analyzer.forms, ["eleven", "budget"])
    }

    /// Every word's byte range holds exactly the word as written in the source.
    func testOffsetsPointAtTheSourceBytes() {
        let analyzer = Analyzer()
        let text = "«Пу\u{301}тин» said: café’s naïve O’Regan — 18 декабря 2020 года, Ново-Огарёво."
        let bytes = Array(text.utf8)
        let words = analyzer.words(text)
        let written = words.map { String(decoding: bytes[$0.bytes], as: UTF8.self) }
        XCTAssertEqual(written, ["Пу\u{301}тин", "said", "café’s", "naïve", "O’Regan", "18", "декабря", "2020", "года",
                                 "Ново", "Огарёво"])
        XCTAssertEqual(words.map(\.position), Array(0..<11))
        XCTAssertEqual(words.map { Analyzer.normalize(String(decoding: bytes[$0.bytes], as: UTF8.self)) }, words.map(\.normalized))
    }

    func testStopWordsPerLanguageAndTerms() {
        let analyzer = Analyzer()
        XCTAssertEqual(analyzer.terms("What did the presidents say about the vaccines?"), ["presid", "say", "vaccin"])
        XCTAssertEqual(analyzer.terms("Что он сказал о вакцинах и о переговорах?"), ["сказа", "вакцин", "переговор"])
        XCTAssertTrue(analyzer.words("It’s").first!.isStopWord)
    }

    func testLanguageIsReadFromTheScript() {
        XCTAssertEqual(Language.detect(in: "Заседание Совета глав государств СНГ (CIS)"), .russian)
        XCTAssertEqual(Language.detect(in: "Meeting of CIS Heads of State Council (СНГ)"), .english)
    }
}
