import Foundation
@testable import MeetingIndex

/// SplitMix64: the same numbers on every run and platform.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Draws ranks 0..<count with probability ∝ 1 / (rank + 1)^exponent.
struct ZipfSampler {
    private let cumulative: [Double]

    init(count: Int, exponent: Double = 1.05) {
        var total = 0.0
        cumulative = (0..<count).map { rank in
            total += 1 / pow(Double(rank + 1), exponent)
            return total
        }
    }

    func sample(_ generator: inout SeededGenerator) -> Int {
        let target = Double.random(in: 0..<cumulative.last!, using: &generator)
        var low = 0, high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] <= target { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

struct TestDocument {
    let id: UInt32
    let length: UInt32
    /// Term → ascending positions.
    let terms: [String: [UInt32]]
}

/// Documents with ids ascending by random gaps, lengths from 0 to a few hundred
/// tokens (mostly short, like turns), words drawn from a Zipfian vocabulary.
func makeCorpus(documents: Int, vocabulary: Int, seed: UInt64) -> [TestDocument] {
    var generator = SeededGenerator(seed: seed)
    let words = ZipfSampler(count: vocabulary)
    var id: UInt32 = 0
    return (0..<documents).map { _ in
        id += UInt32.random(in: 1...3, using: &generator)
        let length: Int
        switch Int.random(in: 0..<20, using: &generator) {
        case 0: length = 0
        case 1...3: length = Int.random(in: 100...400, using: &generator)
        default: length = Int.random(in: 1...40, using: &generator)
        }
        var terms: [String: [UInt32]] = [:]
        for position in 0..<length {
            terms["w\(words.sample(&generator))", default: []].append(UInt32(position))
        }
        return TestDocument(id: id, length: UInt32(length), terms: terms)
    }
}

/// A segment's bytes in memory the test owns, and the reader over them.
final class TestSegment {
    let bytes: UnsafeMutableRawBufferPointer
    let reader: SegmentReader

    init(_ segment: [UInt8]) throws {
        bytes = .allocate(byteCount: segment.count, alignment: 8)
        bytes.copyBytes(from: segment)
        reader = try SegmentReader(UnsafeRawBufferPointer(bytes))
    }

    convenience init(_ corpus: [TestDocument]) throws {
        var writer = SegmentWriter()
        for document in corpus {
            // Dictionary order varies between runs; the writer must not care.
            try writer.addDocument(id: document.id, length: document.length,
                                   terms: document.terms.map { (term: $0.key, positions: $0.value) })
        }
        try self.init(writer.finish().bytes())
    }

    deinit { bytes.deallocate() }
}

/// How many positions `words` start at, one after another, in `document` (overlaps count).
func phraseFrequency(_ words: [String], in document: TestDocument) -> Int {
    guard let first = document.terms[words[0]] else { return 0 }
    return first.filter { start in
        words.indices.allSatisfy { document.terms[words[$0]]?.contains(start + UInt32($0)) == true }
    }.count
}

/// BM25 over every document, written from the formula documented in BM25.swift
/// rather than from the index's code; a phrase's tf is its frequency, its idf the sum of its
/// words'. A phrase ending in any of several words is the OR of a phrase per word.
/// Only the documents `admits` (by their index in `corpus`) may match; statistics stay the corpus's.
func exhaustiveSearch(_ corpus: [TestDocument], frequencies: [String: Int],
                      _ query: IndexQuery, admits: (Int) -> Bool = { _ in true }) -> (hits: [IndexHit], total: Int) {
    var terms: [(words: [String], boost: Double)] = []
    for term in query.clauses.joined() {
        for words in term.alternatives {
            if let index = terms.firstIndex(where: { $0.words == words }) { terms[index].boost += term.boost }
            else { terms.append((words, term.boost)) }
        }
    }
    func holds(_ term: IndexQuery.Term, _ document: TestDocument) -> Bool {
        term.alternatives.contains { phraseFrequency($0, in: document) > 0 }
    }
    let clauses = query.clauses.filter { !$0.isEmpty }
    let n = Double(corpus.count)
    let totalTokens = corpus.reduce(0) { $0 + Int($1.length) }
    let averageLength = corpus.isEmpty || totalTokens == 0 ? 1 : Double(totalTokens) / n
    let weights = terms.map { term -> Double in
        term.boost * term.words.reduce(0.0) { sum, word in
            let df = Double(frequencies[word] ?? 0)
            return sum + log(1 + (n - df + 0.5) / (df + 0.5))
        }
    }
    var hits: [IndexHit] = []
    for (index, document) in corpus.enumerated() where admits(index) {
        let matches = !clauses.isEmpty && clauses.allSatisfy { $0.contains { holds($0, document) } }
        guard matches, !query.excluded.contains(where: { holds($0, document) }) else { continue }
        var score = 0.0
        for (index, term) in terms.enumerated() {
            let tf = Double(phraseFrequency(term.words, in: document))
            guard tf > 0 else { continue }
            score += weights[index] * (tf / (tf + 1.2 * (1 - 0.75 + 0.75 * Double(document.length) / averageLength)))
        }
        hits.append(IndexHit(documentID: document.id, score: score))
    }
    hits.sort { $0.score > $1.score || ($0.score == $1.score && $0.documentID < $1.documentID) }
    return (Array(hits.prefix(query.limit)), hits.count)
}

/// 2–3 consecutive words of a random document of `corpus` (so that the phrase occurs),
/// or, one time in four, two common words side by side that may never occur together.
func randomPhrase(_ corpus: [TestDocument], _ generator: inout SeededGenerator) -> [String] {
    if Int.random(in: 0..<4, using: &generator) == 0 {
        return (0..<2).map { _ in "w\(Int.random(in: 0..<4, using: &generator))" }
    }
    while true {
        let document = corpus.randomElement(using: &generator)!
        guard document.length >= 3 else { continue }
        var wordAt = [String](repeating: "", count: Int(document.length))
        for (term, positions) in document.terms { for position in positions { wordAt[Int(position)] = term } }
        let count = Int.random(in: 2...3, using: &generator)
        let start = Int.random(in: 0...(Int(document.length) - count), using: &generator)
        return Array(wordAt[start..<(start + count)])
    }
}

/// A phrase of `corpus` (see `randomPhrase`) whose last word is cut by a digit, ending in
/// any of the vocabulary's words `w0`…`w2999` that are the cut word and at most one digit
/// more (up to 11, so that the exhaustive scorer stays quick), in byte order: those the
/// corpus lacks too.
func randomPhrasePrefix(_ corpus: [TestDocument], _ generator: inout SeededGenerator) -> IndexQuery.Term {
    let words = randomPhrase(corpus, &generator)
    let last = words.last!
    let prefix = last.count > 2 ? String(last.dropLast()) : last
    let covered = (0..<3000).map { "w\($0)" }.filter { $0.hasPrefix(prefix) && $0.count <= prefix.count + 1 }
        .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    return IndexQuery.Term(phrase: Array(words.dropLast()), endingInAnyOf: covered)
}

/// Term → the number of documents holding it.
func documentFrequencies(_ corpus: [TestDocument]) -> [String: Int] {
    var frequencies: [String: Int] = [:]
    for document in corpus { for term in document.terms.keys { frequencies[term, default: 0] += 1 } }
    return frequencies
}

extension PostingsCursor {
    /// The current posting's positions as a phrase reads them (`positions(writingTo:)`), into
    /// a buffer with room to spare: what it writes past the positions it counts shows too.
    func positionsAsRead() -> [UInt32] {
        var buffer = [UInt32](repeating: .max, count: Int(frequency) + 4)
        let count = buffer.withUnsafeMutableBufferPointer { positions(writingTo: $0) }
        return Array(buffer[..<count] + buffer[count...].filter { $0 != .max })
    }
}
