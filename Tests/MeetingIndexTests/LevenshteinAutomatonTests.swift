import XCTest
import MeetingIndex

/// The automaton run along a sorted dictionary finds exactly the terms a brute-force
/// edit distance over the whole dictionary finds, and reads only a small part of it.
final class LevenshteinAutomatonTests: XCTestCase {
    /// Optimal string alignment distance from the full table, no cut-offs.
    static func bruteForceDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in stride(from: 1, through: a.count, by: 1) {
            for j in stride(from: 1, through: b.count, by: 1) {
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1) }
            }
        }
        return table[a.count][b.count]
    }

    /// Sorted distinct terms in an array, counting the terms read.
    final class ArrayDictionary: SortedTermDictionary {
        let terms: [[Unicode.Scalar]]
        var termsRead = 0

        init(_ words: some Sequence<String>) {
            terms = Set(words).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { Array($0.unicodeScalars) }
        }

        var termCount: Int { terms.count }

        func termScalars(at index: Int) -> [Unicode.Scalar] {
            termsRead += 1
            return terms[index]
        }

        func firstTermIndex(notBefore scalars: [Unicode.Scalar]) -> Int {
            let wanted = String(String.UnicodeScalarView(scalars))
            var low = 0, high = terms.count
            while low < high {
                let middle = (low + high) / 2
                if String(String.UnicodeScalarView(terms[middle])).utf8.lexicographicallyPrecedes(wanted.utf8) {
                    low = middle + 1
                } else {
                    high = middle
                }
            }
            return low
        }
    }

    static let latin = Array("abcdeilmnorstu").map { $0.unicodeScalars.first! }
    static let cyrillic = Array("авекинорстуыя").map { $0.unicodeScalars.first! }

    static func randomWord(_ generator: inout SeededGenerator, letters: [Unicode.Scalar], length: ClosedRange<Int>) -> [Unicode.Scalar] {
        (0..<Int.random(in: length, using: &generator)).map { _ in letters.randomElement(using: &generator)! }
    }

    /// A dictionary word with up to three random edits, or a fresh random word.
    static func queryWord(_ generator: inout SeededGenerator, from terms: [[Unicode.Scalar]], letters: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard Bool.random(using: &generator) else { return randomWord(&generator, letters: letters, length: 1...9) }
        var word = terms.randomElement(using: &generator)!
        for _ in 0..<Int.random(in: 0...3, using: &generator) {
            let at = Int.random(in: 0...word.count, using: &generator)
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: word.insert(letters.randomElement(using: &generator)!, at: at)
            case 1 where at < word.count: word.remove(at: at)
            case 2 where at < word.count: word[at] = letters.randomElement(using: &generator)!
            case 3 where at + 1 < word.count: word.swapAt(at, at + 1)
            default: break
            }
        }
        return word
    }

    private func assertMatchesBruteForce(letters: [Unicode.Scalar], seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let dictionary = ArrayDictionary((0..<1500).map { _ in
            String(String.UnicodeScalarView(Self.randomWord(&generator, letters: letters, length: 1...10)))
        })
        for round in 0..<150 {
            let word = Self.queryWord(&generator, from: dictionary.terms, letters: letters)
            let maxDistance = 1 + round % 2
            let automaton = LevenshteinAutomaton(word, maxDistance: maxDistance)
            let found = automaton.matches(in: dictionary)
            let expected = dictionary.terms.indices.compactMap { index -> (index: Int, distance: Int)? in
                let distance = Self.bruteForceDistance(word, dictionary.terms[index])
                return distance <= maxDistance ? (index, distance) : nil
            }
            let text = String(String.UnicodeScalarView(word))
            XCTAssertEqual(found.map(\.index), expected.map(\.index), "\(text) within \(maxDistance)")
            XCTAssertEqual(found.map(\.distance), expected.map(\.distance), "\(text) within \(maxDistance)")
            if let first = word.first {
                let sameFirst = automaton.matches(in: dictionary, startingWith: [first])
                XCTAssertEqual(sameFirst.map(\.index), expected.filter { dictionary.terms[$0.index].first == first }.map(\.index), text)
            }
            for term in dictionary.terms.prefix(20) {
                let distance = Self.bruteForceDistance(word, term)
                XCTAssertEqual(automaton.distance(to: term), distance <= maxDistance ? distance : nil)
            }
        }
    }

    func testLatinWordsMatchBruteForceAtDistancesOneAndTwo() {
        assertMatchesBruteForce(letters: Self.latin, seed: 1)
    }

    func testCyrillicWordsMatchBruteForceAtDistancesOneAndTwo() {
        assertMatchesBruteForce(letters: Self.cyrillic, seed: 2)
    }

    func testMixedScriptsMatchBruteForce() {
        assertMatchesBruteForce(letters: Self.latin + Self.cyrillic, seed: 3)
    }

    func testTranspositionIsOneEdit() {
        let dictionary = ArrayDictionary(["the", "then", "tie", "ten", "вакцина", "вакцниа"])
        let the = LevenshteinAutomaton("teh", maxDistance: 1).matches(in: dictionary).map { dictionary.terms[$0.index] }
        XCTAssertEqual(the.map { String(String.UnicodeScalarView($0)) }, ["ten", "the"])
        XCTAssertEqual(LevenshteinAutomaton("вакцниа", maxDistance: 1).distance(to: "вакцина".unicodeScalars), 1)
        XCTAssertNil(LevenshteinAutomaton("abc", maxDistance: 1).distance(to: "cba".unicodeScalars))
    }

    /// The terms read grow with the terms near the word, not with the dictionary: on a
    /// dictionary a hundred times larger, far fewer than a hundred times the terms are
    /// read. Distance 2 is looked up among the terms of the word's first letter, as
    /// search's typo correction does.
    func testLookupReadsASmallPartOfTheDictionary() {
        var generator = SeededGenerator(seed: 4)
        let letters = Self.latin + Self.cyrillic
        let words = (0..<200_000).map { _ in String(String.UnicodeScalarView(Self.randomWord(&generator, letters: letters, length: 3...12))) }
        let small = ArrayDictionary(words.prefix(2000))
        let large = ArrayDictionary(words)
        let lookups = 50
        for _ in 0..<lookups {
            let word = Self.queryWord(&generator, from: small.terms, letters: letters)
            for dictionary in [small, large] {
                _ = LevenshteinAutomaton(word, maxDistance: 1).matches(in: dictionary)
                _ = LevenshteinAutomaton(word, maxDistance: 2).matches(in: dictionary, startingWith: Array(word.prefix(1)))
            }
        }
        let perLookup = Double(large.termsRead) / Double(lookups)
        print("terms read per lookup: \(Double(small.termsRead) / Double(lookups)) of \(small.termCount), \(perLookup) of \(large.termCount)")
        XCTAssertLessThan(perLookup, 0.03 * Double(large.termCount))
        XCTAssertLessThan(Double(large.termsRead) / Double(small.termsRead), 25)
    }

    /// Through the segments: the terms of every segment within the distance, and
    /// completions held by live documents, most postings first.
    func testSegmentSetLookups() throws {
        let (set, live) = try SegmentSetTests.segmentSet()
        let all = Set(SegmentSetTests.corpus.flatMap(\.terms.keys))
        for word in ["w12", "w1", "w2999", "x", "w1000"] {
            for maxDistance in 1...2 {
                let expected = Dictionary(uniqueKeysWithValues: all.compactMap { term -> (String, Int)? in
                    let distance = Self.bruteForceDistance(Array(word.unicodeScalars), Array(term.unicodeScalars))
                    return distance <= maxDistance ? (term, distance) : nil
                })
                let automaton = LevenshteinAutomaton(word, maxDistance: maxDistance)
                XCTAssertEqual(set.terms(matching: automaton), expected, word)
                XCTAssertEqual(set.terms(matching: automaton, startingWith: "w1"), expected.filter { $0.key.hasPrefix("w1") }, word)
            }
        }
        let liveTerms = Set(live.flatMap(\.terms.keys))
        for prefix in ["w1", "w29", "w"] {
            let completions = set.completions(of: prefix, limit: 10)
            XCTAssertEqual(completions.count, min(10, liveTerms.filter { $0.hasPrefix(prefix) }.count), prefix)
            // The corpus writes each word as its term: the words completed are terms.
            XCTAssert(completions.allSatisfy { $0.hasPrefix(prefix) && liveTerms.contains($0) }, prefix)
            let postings = completions.map { term in SegmentSetTests.corpus.filter { $0.terms[term] != nil }.count }
            XCTAssertEqual(postings, postings.sorted(by: >), prefix)
        }
        for term in liveTerms.prefix(50) {
            let id = try XCTUnwrap(set.firstDocument(holding: term))
            XCTAssert(live.contains { $0.id == id && $0.terms[term] != nil }, term)
        }
    }
}
