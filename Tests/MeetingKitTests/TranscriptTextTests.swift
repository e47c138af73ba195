import MeetingKit
import XCTest

/// TranscriptText's word counts and sentence spans, which ingest stores for every turn.
final class TranscriptTextTests: XCTestCase {
    func testSentencesAndOffsets() {
        let text = "Mr. Smith arrived. He said: “Hello!” Then {vocalsound} J. Brown left.\nNew paragraph here"
        let scalars = Array(text.unicodeScalars)
        let sentences = TranscriptText.sentences(in: text).map { String(String.UnicodeScalarView(scalars[$0.start..<$0.end])) }
        XCTAssertEqual(sentences, ["Mr. Smith arrived.", "He said: “Hello!”", "Then {vocalsound} J. Brown left.", "New paragraph here"])
        XCTAssertEqual(TranscriptText.wordCount("Then {vocalsound} J. Brown's left."), 4)
        XCTAssertEqual(TranscriptText.strippingMarks("a {disfmarker} b"), "a  b")
    }

    /// ASCII text is read a byte a scalar, other text decoded: both give the same counts and spans.
    func testASCIITextCountsAndSplitsAsDecodedText() {
        for text in ["Mr. Smith arrived. He said: 'Hello!' Then {vocalsound} J. Brown's left-wing view.\nNew one here",
                     "e.g. it's 3.5 {gap} x. Y? no - 42", "  {pause}  ", ""] {
            // A trailing no-break space is no word and is trimmed off a sentence, but makes the text not ASCII.
            let decoded = text + "\u{A0}"
            XCTAssertEqual(TranscriptText.wordCount(text), TranscriptText.wordCount(decoded), text)
            XCTAssertEqual(TranscriptText.sentences(in: text), TranscriptText.sentences(in: decoded), text)
        }
        XCTAssertEqual(TranscriptText.wordCount("Mr. Smith's left-wing {pause} view, 42"), 5)
    }
}
