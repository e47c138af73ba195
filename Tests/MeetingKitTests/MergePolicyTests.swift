@testable import MeetingKit
import XCTest

/// Which neighbouring index segments a merge joins: ten of one tier, never past
/// `maxMergedTurns` live turns, so a merge's memory stays bounded.
final class MergePolicyTests: XCTestCase {
    private func segments(_ live: [Int]) -> [CorpusIndex.SegmentRow] {
        var first: Int64 = 1
        return live.enumerated().map { index, turns in
            defer { first += Int64(turns) }
            return CorpusIndex.SegmentRow(id: Int64(index), first: first, last: first + Int64(turns) - 1, live: turns)
        }
    }

    private func merged(_ live: [Int]) -> [Int]? {
        CorpusIndex.nextMerge(segments(live)).map { $0.map(\.live) }
    }

    func testTenSegmentsOfOneTierMerge() {
        XCTAssertEqual(merged(Array(repeating: 800, count: 10)), Array(repeating: 800, count: 10))
        XCTAssertNil(merged(Array(repeating: 800, count: 9)))
        // Tiers by digits, all below 10,000 counted as 10,000: 120,000 is the next tier but one.
        XCTAssertEqual(merged([20_000] + Array(repeating: 800, count: 9)), [20_000] + Array(repeating: 800, count: 9))
        XCTAssertNil(merged([120_000] + Array(repeating: 800, count: 9)))
        XCTAssertEqual(merged([120_000] + Array(repeating: 800, count: 10)), Array(repeating: 800, count: 10))
    }

    func testARunStopsBeforeItWouldPassTheCap() {
        let cap = CorpusIndex.maxMergedTurns
        let part = cap / 4 - 1
        XCTAssertEqual(merged(Array(repeating: part, count: 5)), Array(repeating: part, count: 4))
        XCTAssertNil(merged([cap / 2 + 1, cap / 2 + 1]), "two segments past half the cap never merge")
        XCTAssertNil(merged([cap + 10, 5_000, 5_000]))
        XCTAssertEqual(merged([cap + 10] + Array(repeating: 5_000, count: 10)), Array(repeating: 5_000, count: 10))
    }

    /// Segments as ingest writes them, one run merged at a time, as `mergeIfNeeded` does:
    /// every merged segment is within the cap and the number of segments stays small.
    func testAGrowingCorpusKeepsFewSegmentsNoneBeyondTheCap() {
        var live: [Int] = []
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            live.append(Int.random(in: 500...6_000, using: &generator))
            while let run = CorpusIndex.nextMerge(segments(live)) {
                let start = run.first!.id, end = run.last!.id
                live.replaceSubrange(Int(start)...Int(end), with: [run.map(\.live).reduce(0, +)])
            }
        }
        let total = live.reduce(0, +)
        XCTAssertTrue(live.allSatisfy { $0 <= CorpusIndex.maxMergedTurns }, "\(live)")
        XCTAssertLessThanOrEqual(live.count, total / (CorpusIndex.maxMergedTurns / 2) + 3 * CorpusIndex.mergeFactor, "\(live)")
    }
}
