import MeetingKit
import XCTest

/// The cleaner on real talk: every source below is a stretch of a turn of QMSum val, as stored.
final class SpokenTranscriptTests: XCTestCase {
    static let cases: [(source: String, clean: String)] = [
        // Restarts: a word or a run of words said again.
        ("the the remote control", "The remote control"),
        ("we we have to", "We have to"),
        ("I {disfmarker} I designed the", "I designed the"),
        ("this {disfmarker} this VAD problem", "This VAD problem"),
        ("if you {disfmarker} if you get", "If you get"),
        ("at the at the bottom", "At the bottom"),
        ("quite uh quite uh intelligent", "Quite intelligent"),
        ("later on , on the meeting", "Later on the meeting"),
        ("who you were t who you were looking at .", "Who you were looking at."),
        ("Well , we t we t we talked about this", "We talked about this"),
        ("Tw - twelve hours of work", "Twelve hours of work"),
        ("Th - the terminology we 're using is", "The terminology we're using is"),
        ("In - in a intention lattice", "In a intention lattice"),
        // Word fragments: letters and starts of words cut off.
        ("LDA followed b by a spectral", "LDA followed by a spectral"),
        ("has to r recognise one as", "Has to recognise one as"),
        ("I'm gonna save th a copy of this", "I'm gonna save a copy of this"),
        ("for th for that eh for all the zone .", "For that for all the zone."),
        ("No , I th I think I 've been affected", "No, I think I've been affected"),
        ("these are the cha ch channel three", "These are the channel three"),
        ("the screen , wha what is the", "The screen, what is the"),
        ("W What is the", "What is the"),
        ("U Uh compressed how much", "Compressed how much"),
        // Tokenised punctuation.
        ("to hand - transcribe the", "To hand-transcribe the"),
        ("the close - talking mike", "The close-talking mike"),
        ("in forty - five minutes", "In forty-five minutes"),
        ("if we doesn't use the delta - delta , uh we have", "If we doesn't use the delta-delta, we have"),
        ("Mm - hmm .", ""),
        ("what \" wa \" is", "What \"wa\" is"),
        ("the \" status \" I", "The \"status\" I"),
        ("any of you guys ' worry , except that", "Any of you guys' worry, except that"),
        ("until one o ' clock this afternoon", "Until one o'clock this afternoon"),
        ("so um with Andreas ' help um Andreas put", "With Andreas' help Andreas put"),
        ("So I think maybe what 's causing it to crash", "Maybe what's causing it to crash"),
        // Discourse phrases set apart from the sentence, and hedges opening a clause.
        ("So it 's , you know , not a matter", "It's not a matter"),
        ("but I think , you know , what we had", "What we had"),
        ("so you can , sort of , give a sensible", "You can give a sensible"),
        ("I mean , he certainly could use", "He certainly could use"),
        ("I think we should aim at the", "We should aim at the"),
        ("So, the early evaluation, I think, will give us", "The early evaluation will give us"),
        // A stop before the aside ends the clause already: the aside's own stop goes with it.
        ("it 's fine ; you know . we go", "It's fine; we go"),
        ("it 's fine . you know . we go", "It's fine. we go"),
        ("it's fine; you know. We go", "It's fine; We go"),
        ("the front - end, you know, is", "The front-end, you know, is"),
        // What stays: articles, the pronoun, names and letters that are not a restart.
        ("you know , intention A , intention B , intention C .", "Intention A, intention B, intention C."),
        ("will be some dialogue , you know ?", "Will be some dialogue, you know?"),
        ("once you know what the focus is", "Once you know what the focus is"),
        ("I think so", "I think so"),
        ("I mean it", "I mean it"),
        ("I think that goes against the", "I think that goes against the"),
        ("how to get from A to B .", "How to get from A to B."),
        ("If you have an L_C_D_ on the remote control", "If you have an LCD on the remote control"),
        ("I think that would be a good thing to add", "I think that would be a good thing to add"),
        ("we were trying to", "We were trying to"),
    ]

    func testRealRestartsFragmentsAndPunctuationCleanAsExpected() {
        for (source, clean) in Self.cases {
            XCTAssertEqual(SpokenTranscript.clean(Substring(source)).text, clean, "cleaning \(source)")
        }
    }

    /// Each word of the cleaned text maps back to the source text it was made from.
    func testEveryCleanedWordMapsToItsSourceText() {
        for (source, _) in Self.cases {
            let scalars = Array(source.unicodeScalars)
            let cleaned = SpokenTranscript.clean(Substring(source))
            let cleanedScalars = Array(cleaned.text.unicodeScalars)
            for word in words(in: cleanedScalars) {
                let wordText = text(cleanedScalars[word])
                guard let range = cleaned.sourceRange(of: word) else { return XCTFail("\(wordText) of \(source) has no source") }
                XCTAssertEqual(folded(text(scalars[range])), folded(wordText), "\(wordText) of \(source)")
            }
        }
    }

    /// With the span's start in its turn, offsets are the turn's, as stored citations count them.
    func testOffsetsCountScalarsOfTheTurn() {
        let turn = "Sí, señor . Instead of just h having c those cleaned up t cepstrum"
        let spans = TranscriptText.sentences(in: turn)
        XCTAssertEqual(spans.count, 2)
        let scalars = Array(turn.unicodeScalars)
        let span = spans[1]
        let cleaned = SpokenTranscript.clean(Substring(text(scalars[span.start..<span.end])), sourceOffset: span.start)
        XCTAssertEqual(cleaned.text, "Instead of just having those cleaned up cepstrum")
        let having = cleaned.text.range(of: "aving")!
        let start = cleaned.text.unicodeScalars.distance(from: cleaned.text.startIndex, to: having.lowerBound)
        let range = cleaned.sourceRange(of: start..<(start + 5))!
        XCTAssertEqual(text(scalars[range]), "aving", "inside a word kept as it was, the map is exact")
        let first = cleaned.sourceRange(of: 0..<7)!
        XCTAssertEqual(text(scalars[first]), "Instead")
        XCTAssertEqual(first.lowerBound, 12)
    }

    /// An aside's `.` stays, and maps to its own scalar, not to the words dropped before it.
    func testTheStopEndingADroppedAsideMapsToItself() {
        for source in ["not a massive difference , you know .", "not a massive difference, you know."] {
            let cleaned = SpokenTranscript.clean(Substring(source))
            XCTAssertEqual(cleaned.text, "Not a massive difference.")
            let scalars = Array(source.unicodeScalars)
            XCTAssertEqual(cleaned.sourceRange(of: 24..<25), (scalars.count - 1)..<scalars.count, "the stop of \(source)")
            XCTAssertEqual(cleaned.sourceRange(of: 14..<24).map { text(scalars[$0]) }, "difference", "the word before the aside in \(source)")
        }
    }

    func testARepairedTokenMapsAsAWhole() {
        let cleaned = SpokenTranscript.clean("the front - end is")
        XCTAssertEqual(cleaned.text, "The front-end is")
        XCTAssertEqual(cleaned.sourceRange(of: 6..<9), 4..<15, "part of front-end is the whole of front - end")
    }

    func testAnOpeningQuoteIsNotGluedToTheWordBefore() {
        XCTAssertEqual(SpokenTranscript.clean("The point she raised: 'Oh, we never knew.'").text, "The point she raised: 'Oh, we never knew.'")
    }

    func testSentencesEndAtFinalPunctuationBeforeClosingQuotes() {
        XCTAssertTrue(TranscriptText.endsSentence("He said \"we will.\""))
        XCTAssertTrue(TranscriptText.endsSentence("Is it?)"))
        XCTAssertFalse(TranscriptText.endsSentence("and then we"))
        XCTAssertFalse(TranscriptText.endsSentence("\""))
    }

    private func text(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        String(String.UnicodeScalarView(scalars))
    }

    /// Cleaned words run between spaces.
    private func words(in scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var words: [Range<Int>] = []
        var start: Int?
        for (index, scalar) in scalars.enumerated() {
            if scalar == " " {
                if let begin = start { words.append(begin..<index) }
                start = nil
            } else if start == nil {
                start = index
            }
        }
        if let begin = start { words.append(begin..<scalars.count) }
        return words
    }

    /// What a source stretch and the word made of it share: no marks, spaces, fillers inside or AMI underscores, any case.
    private func folded(_ text: String) -> String {
        TranscriptText.strippingMarks(text).split(separator: " ").filter { !SpokenTranscript.fillers.contains($0.lowercased()) }
            .joined().replacingOccurrences(of: "_", with: "").lowercased()
    }
}
