// Where sentences begin and end: one rule for ingest's stored spans, search's sentence hits
// and summarise's complete sentences.

extension TranscriptText {
    private static let abbreviations: Set<String> = [
        "mr", "mrs", "ms", "dr", "st", "no", "vs", "etc", "e.g", "i.e", "prof", "gen", "jr", "sr", "co", "inc", "ltd", "approx", "fig", "cf",
    ]

    /// Splits a turn's text into sentences: at `.`, `!`, `?` or `…` (with closing
    /// quotes or brackets) followed by a space and a capital, digit or quote, and
    /// at every paragraph break. Abbreviations and initials do not end a sentence.
    public static func sentences(in text: String) -> [SentenceSpan] {
        let scalars = scalarArray(of: text)
        var spans: [SentenceSpan] = []
        var start = 0

        func emit(_ end: Int) {
            var lower = start, upper = end
            while lower < upper, isSpace(scalars[lower]) { lower += 1 }
            while upper > lower, isSpace(scalars[upper - 1]) { upper -= 1 }
            if lower < upper { spans.append(SentenceSpan(start: lower, end: upper)) }
            start = end
        }

        var i = 0
        while i < scalars.count {
            let scalar = scalars[i]
            if scalar == "\n" {
                emit(i)
                start = i + 1
            } else if endsSentence(scalar) {
                var end = i + 1
                while end < scalars.count, isTerminalPunctuation(scalars[end]) { end += 1 }
                if end < scalars.count, scalars[end] == " " || scalars[end] == "\t" {
                    var next = end
                    while next < scalars.count, scalars[next] == " " || scalars[next] == "\t" { next += 1 }
                    if next < scalars.count, startsSentence(scalars[next]),
                       !(scalar == "." && isAbbreviation(scalars, before: i)) {
                        emit(end)
                    }
                }
                i = end
                continue
            }
            i += 1
        }
        emit(scalars.count)
        return spans
    }

    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "\u{A0}"
    }

    /// Whether `text` ends as a sentence does (`.`, `!`, `?` or `…`, closing quotes or brackets
    /// after it), rather than where its speaker broke off.
    public static func endsSentence<Text: StringProtocol>(_ text: Text) -> Bool {
        for scalar in text.unicodeScalars.reversed() {
            if endsSentence(scalar) { return true }
            if !closes(scalar) { return false }
        }
        return false
    }

    private static func endsSentence(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "." || scalar == "!" || scalar == "?" || scalar == "…"
    }

    private static func closes(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\"", "'", "”", "’", ")", "]", "»": return true
        default: return false
        }
    }

    private static func isTerminalPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        endsSentence(scalar) || closes(scalar)
    }

    private static func startsSentence(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.properties.isUppercase { return true }
        switch scalar {
        case "0"..."9", "\"", "“", "‘", "'", "(", "[", "«", "{", "–", "—": return true
        default: return false
        }
    }

    /// A single letter ("J. Smith") or a listed abbreviation ("Mr.") before the dot.
    private static func isAbbreviation(_ scalars: [Unicode.Scalar], before dot: Int) -> Bool {
        var begin = dot
        while begin > 0, !isSpace(scalars[begin - 1]), scalars[begin - 1] != "(" { begin -= 1 }
        if begin == dot { return false }
        let word = String(String.UnicodeScalarView(scalars[begin..<dot])).lowercased()
        if word.count == 1, word.unicodeScalars.first!.properties.isAlphabetic { return true }
        return abbreviations.contains(word)
    }
}
