import XCTest
import MeetingKit

/// A typo is counted alike everywhere: `EditDistance` (names, hints) and the index's
/// `LevenshteinAutomaton` (typo correction of words) give the same distances.
final class EditDistanceTests: XCTestCase {
    func testEditDistanceAndTheIndexAutomatonAgreeOnEveryShortWord() {
        // Every word of up to 4 letters over two Latin letters and a Cyrillic one.
        var words: [[Unicode.Scalar]] = [[]]
        var last: [[Unicode.Scalar]] = [[]]
        for _ in 1...4 {
            last = last.flatMap { word in "aяb".unicodeScalars.map { word + [$0] } }
            words += last
        }
        for a in words {
            for b in words {
                for limit in 0...3 {
                    XCTAssertEqual(EditDistance.between(a, b, atMost: limit), LevenshteinAutomaton(a, maxDistance: limit).distance(to: b),
                                   "\(String(String.UnicodeScalarView(a))) \(String(String.UnicodeScalarView(b))) \(limit)")
                }
            }
        }
        XCTAssertEqual(EditDistance.between(Array("teh".unicodeScalars), Array("the".unicodeScalars), atMost: 2), 1)
    }
}
