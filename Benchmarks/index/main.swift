// Top-10 latency of MeetingIndex with block-max pruning against the same code's
// exhaustive path (every match scored), on a synthetic corpus shaped like ours:
// 2.5M turns, lengths log-normal around 32 tokens, words Zipfian over 200,000 stems.
// Not run in CI. Build and run in release:
//
//   swift build -c release --product IndexBenchmark
//   .build/release/IndexBenchmark [documents] [queries per class] [--phrases]
//
// Each query runs once untimed, so that both paths are timed warm. Prints per query class the p50/p99 of both paths, the p50 ratio, and the share of
// the query terms' postings blocks each decoded. Both paths must agree on every hit.
//
// Then phrases ending in a prefix, as the search module sends them (one phrase whose last
// position holds every term the prefix covers), against the OR of one phrase per term
// that it sent before, in the same run, with a plain phrase of two common words for
// reference; both forms must give the same hits and total. `--phrases` runs these alone.

import Foundation
import MeetingIndex

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let documentCount = arguments.first ?? 2_500_000
let queriesPerClass = arguments.dropFirst().first ?? 200
let vocabularySize = 200_000

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15
}

/// `work`'s result, its duration in milliseconds appended to `samples`.
func timed<Result>(into samples: inout [Double], _ work: () -> Result) -> Result {
    let start = ContinuousClock.now
    let result = work()
    samples.append(milliseconds(ContinuousClock.now - start))
    return result
}

func seconds(since start: ContinuousClock.Instant) -> String {
    String(format: "%.1f s", milliseconds(ContinuousClock.now - start) / 1e3)
}

/// Zipf (exponent 1) over ranks: rank r has probability ∝ 1 / (r + 1).
struct ZipfSampler {
    let cumulative: [Double]

    init(count: Int) {
        var total = 0.0
        cumulative = (0..<count).map { rank in
            total += 1 / Double(rank + 1)
            return total
        }
    }

    func sample(_ generator: inout SplitMix64) -> Int {
        let target = Double.random(in: 0..<cumulative.last!, using: &generator)
        var low = 0, high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] <= target { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// Log-normal, median e^3 ≈ 20 tokens, mean ≈ 33; a few turns run to hundreds.
func sampleLength(_ generator: inout SplitMix64) -> Int {
    let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator)
    let u2 = Double.random(in: 0..<1, using: &generator)
    let normal = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    return min(2000, max(1, Int(exp(3 + normal))))
}

/// The segment of `documentCount` turns. A function rather than top-level code, which
/// runs on the main actor and would check its isolation in every sort comparison.
func buildSegment(documentCount: Int, vocabularySize: Int, _ generator: inout SplitMix64) throws -> [UInt8] {
    let words = ZipfSampler(count: vocabularySize)
    var started = ContinuousClock.now
    var writer = SegmentWriter()
    for rank in 0..<vocabularySize { precondition(writer.termID(for: "t\(rank)") == rank) }
    var tokens: [(rank: Int, position: UInt32)] = []
    var totalTokens = 0
    for id in 0..<documentCount {
        let length = sampleLength(&generator)
        totalTokens += length
        tokens.removeAll(keepingCapacity: true)
        for position in 0..<length { tokens.append((words.sample(&generator), UInt32(position))) }
        tokens.sort { $0.rank < $1.rank || ($0.rank == $1.rank && $0.position < $1.position) }
        var terms: [(termID: Int, positions: [UInt32])] = []
        for token in tokens {
            if terms.last?.termID == token.rank { terms[terms.count - 1].positions.append(token.position) }
            else { terms.append((token.rank, [token.position])) }
        }
        try writer.addDocument(id: UInt32(id), length: UInt32(length), termIDs: terms)
    }
    print("corpus: \(documentCount) documents, \(totalTokens) tokens, \(vocabularySize) words; generated and added in \(seconds(since: started))")
    started = ContinuousClock.now
    let segment = try writer.finish().bytes()
    print("segment: \(segment.count / 1_000_000) MB, finished in \(seconds(since: started))")
    return segment
}

struct QueryClass {
    let name: String
    /// Zipf rank ranges of the words, as the query's clauses (AND of ORs).
    let clauses: [[Range<Int>]]
}
let common = 0..<50, middling = 100..<2000, rare = 5000..<50000
let classes = [
    QueryClass(name: "common word", clauses: [[common]]),
    QueryClass(name: "middling word", clauses: [[middling]]),
    QueryClass(name: "rare word", clauses: [[rare]]),
    QueryClass(name: "OR common+middling", clauses: [[common, middling]]),
    QueryClass(name: "AND common+middling", clauses: [[common], [middling]]),
    QueryClass(name: "OR 2 common", clauses: [[common, common]]),
    QueryClass(name: "AND 2 common", clauses: [[common], [common]]),
    QueryClass(name: "OR 3 middling", clauses: [[middling, middling, middling]]),
    QueryClass(name: "common AND (mid OR mid)", clauses: [[common], [middling, middling]]),
]

func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

func measure(_ segment: [UInt8], _ classes: [QueryClass], queriesPerClass: Int, _ generator: inout SplitMix64) throws {
    try segment.withUnsafeBytes { bytes in
        let reader = try SegmentReader(bytes)
        print("class                   pruned p50/p99 ms   exhaustive p50/p99 ms   p50 ratio   blocks decoded pruned / exhaustive")
        for queryClass in classes {
            var pruned: [Double] = [], exhaustive: [Double] = []
            var prunedBlocks = 0, exhaustiveBlocks = 0, allBlocks = 0, inexactTotals = 0
            for _ in 0..<queriesPerClass {
                let clauses = queryClass.clauses.map { clause in
                    clause.map { IndexQuery.Term("t\(Int.random(in: $0, using: &generator))") }
                }
                let query = IndexQuery(clauses: clauses)
                var exhaustiveQuery = query
                exhaustiveQuery.dynamicPruning = false
                exhaustiveQuery.exactTotalUpTo = .max

                // Both paths are timed with the query's postings in cache.
                _ = reader.search(query)
                let fast = timed(into: &pruned) { reader.search(query) }
                let slow = timed(into: &exhaustive) { reader.search(exhaustiveQuery) }

                precondition(fast.hits == slow.hits, "pruned and exhaustive top 10 differ for \(clauses.map { $0.map(\.text) })")
                precondition(!fast.totalExact || fast.total == slow.total, "totals differ for \(clauses.map { $0.map(\.text) })")
                if !fast.totalExact { inexactTotals += 1 }
                prunedBlocks += fast.blocksDecoded
                exhaustiveBlocks += slow.blocksDecoded
                allBlocks += fast.blocksInQueryTerms
            }
            pruned.sort()
            exhaustive.sort()
            let figures = String(format: "  %8.3f / %-8.3f   %8.3f / %-8.3f     %6.1fx     %5.1f%% / %5.1f%%   (%d of %d totals capped)",
                                 percentile(pruned, 0.5), percentile(pruned, 0.99),
                                 percentile(exhaustive, 0.5), percentile(exhaustive, 0.99),
                                 percentile(exhaustive, 0.5) / percentile(pruned, 0.5),
                                 100 * Double(prunedBlocks) / Double(max(allBlocks, 1)),
                                 100 * Double(exhaustiveBlocks) / Double(max(allBlocks, 1)), inexactTotals, queriesPerClass)
            let line = queryClass.name.padding(toLength: 24, withPad: " ", startingAt: 0) + figures
            print(line)
        }
    }
}

struct PhrasePrefixClass {
    let name: String
    /// Zipf rank ranges of the leading words.
    let leading: [Range<Int>]
    /// The prefix is the first `prefixDigits` digits of a rank from 10,000 to 19,999: 3 cover 1,111 terms, 4 cover 111.
    let prefixDigits: Int?
}
let phrasePrefixClasses = [
    PhrasePrefixClass(name: "2 common + 1,111 terms", leading: [common, common], prefixDigits: 3),  // "of the con*"
    PhrasePrefixClass(name: "middling + 111 terms", leading: [middling], prefixDigits: 4),           // "remote contr*"
    PhrasePrefixClass(name: "plain: 2 common", leading: [common, common], prefixDigits: nil),        // "of the"
]

func measurePhrasePrefixes(_ segment: [UInt8], queriesPerClass: Int, _ generator: inout SplitMix64) throws {
    try segment.withUnsafeBytes { bytes in
        let reader = try SegmentReader(bytes)
        print("phrase class            one phrase p50/p99 ms   OR of phrases p50/p99 ms   p50 ratio  p99 ratio")
        for queryClass in phrasePrefixClasses {
            var together: [Double] = [], apart: [Double] = []
            for _ in 0..<queriesPerClass {
                let leading = queryClass.leading.map { "t\(Int.random(in: $0, using: &generator))" }
                let query: IndexQuery, baseline: IndexQuery
                if let digits = queryClass.prefixDigits {
                    let prefix = "t" + String(Int.random(in: 10_000..<20_000, using: &generator)).prefix(digits)
                    let covered = (0..<vocabularySize).map { "t\($0)" }.filter { $0.hasPrefix(prefix) }
                        .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                    query = IndexQuery.any([IndexQuery.Term(phrase: leading, endingInAnyOf: covered)])
                    baseline = IndexQuery.any(covered.map { IndexQuery.Term(phrase: leading + [$0]) })
                } else {
                    query = IndexQuery.any([IndexQuery.Term(phrase: leading + ["t\(Int.random(in: common, using: &generator))"])])
                    baseline = query
                }
                _ = reader.search(query)
                let found = timed(into: &together) { reader.search(query) }
                let expected = timed(into: &apart) { reader.search(baseline) }
                precondition(found.hits == expected.hits && found.total == expected.total, "the forms differ for \(query.clauses[0][0].text)")
            }
            together.sort()
            apart.sort()
            let line = queryClass.name.padding(toLength: 24, withPad: " ", startingAt: 0)
                + String(format: "  %8.2f / %-8.2f       %8.2f / %-8.2f      %6.1fx    %6.1fx",
                         percentile(together, 0.5), percentile(together, 0.99), percentile(apart, 0.5), percentile(apart, 0.99),
                         percentile(apart, 0.5) / percentile(together, 0.5), percentile(apart, 0.99) / percentile(together, 0.99))
            print(line)
        }
    }
}

var generator = SplitMix64(state: 2026)
let segment = try buildSegment(documentCount: documentCount, vocabularySize: vocabularySize, &generator)
if !CommandLine.arguments.contains("--phrases") { try measure(segment, classes, queriesPerClass: queriesPerClass, &generator) }
// Queries of their own generator: the same whether the word classes ran or not.
var phraseGenerator = SplitMix64(state: 12)
try measurePhrasePrefixes(segment, queriesPerClass: queriesPerClass, &phraseGenerator)
