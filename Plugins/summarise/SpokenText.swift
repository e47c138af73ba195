// How a transcript sentence becomes summary text, and which words carry content.

import MeetingKit

enum SpokenText {
    /// The cleaning every summary sentence goes through, documented in the method
    /// schemas and re-implemented by the tests. On the whitespace-separated tokens of
    /// the cited span of the stored turn text:
    /// 1. a transcription mark (`TranscriptText.marks`) is removed wherever it occurs;
    /// 2. letters spelled out the AMI way are written together: every ASCII letter followed by
    ///    `_` loses the `_` ("L_C_D_s" becomes "LCDs");
    /// 3. a filler token (`fillers`, compared lowercased without trailing `,.;:!?`) is dropped,
    ///    and so is a lone `,` right after a dropped filler or at the start;
    /// 4. while nothing is kept yet, an opener token (`openers`, compared as fillers are) is dropped;
    /// 5. a word token (letters and apostrophes) equal, ignoring case, to the token kept just before it
    ///    is dropped (stutters);
    /// 6. tokens are joined by one space, except that a token made only of `,.;:!?%)` or
    ///    starting with an apostrophe (`'s`, `'ll`) or equal to `n't` is glued to the previous one;
    /// 7. the first character is upper-cased.
    static func clean(_ span: Substring) -> String {
        var kept: [Substring] = []
        kept.reserveCapacity(32)
        var afterFiller = false
        for rawToken in whitespaceTokens(span) {
            var token = rawToken.utf8.contains(UInt8(ascii: "{")) ? Substring(TranscriptText.strippingMarks(String(rawToken))) : rawToken
            if token.utf8.contains(UInt8(ascii: "_")) { token = Substring(joiningSpelledLetters(token)) }
            if token.isEmpty { continue }
            let bare = bareWordKey(token)
            if fillerKeys.contains(bare) {
                afterFiller = true
                continue
            }
            if token == ",", afterFiller || kept.isEmpty { continue }
            afterFiller = false
            if kept.isEmpty, openerKeys.contains(bare) { continue }
            if let previous = kept.last, previous.utf8.count == token.utf8.count, isWordToken(token),
               previous.lowercased() == token.lowercased() { continue }
            kept.append(token)
        }
        var text = ""
        for token in kept {
            let glued = token.utf8.allSatisfy(isClosingPunctuation) || startsWithApostrophe(token) || token == "n't"
            if !text.isEmpty && !glued { text.append(" ") }
            text.append(contentsOf: token)
        }
        if let first = text.first, first.isLowercase {
            text = first.uppercased() + text.dropFirst()
        }
        return text
    }

    /// The token lowercased without trailing `,.;:!?`, packed into an integer when it is ASCII
    /// of at most eight bytes, as every filler and opener is (0 otherwise): no string is made
    /// for the check that every token goes through.
    private static func bareWordKey(_ token: Substring) -> UInt64 {
        var end = token.utf8.endIndex
        while end > token.utf8.startIndex, ",.;:!?".utf8.contains(token.utf8[token.utf8.index(before: end)]) {
            end = token.utf8.index(before: end)
        }
        var key: UInt64 = 0
        var length = 0
        for byte in token.utf8[token.utf8.startIndex..<end] {
            length += 1
            guard length <= 8, byte < 0x80 else { return 0 }
            let lower = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            key = key << 8 | UInt64(lower)
        }
        return key
    }

    private static func key(_ word: String) -> UInt64 {
        word.utf8.reduce(0) { $0 << 8 | UInt64($1) }
    }

    private static let fillerKeys = Set(fillers.map(key))
    private static let openerKeys = Set(openers.map(key))

    private static func isClosingPunctuation(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "."), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "!"), UInt8(ascii: "?"),
             UInt8(ascii: "%"), UInt8(ascii: ")"): return true
        default: return false
        }
    }

    /// `'` or `’` first (`'s`, `’ll`), checked on bytes: `hasPrefix` is generic and slow here.
    private static func startsWithApostrophe(_ token: Substring) -> Bool {
        guard let first = token.utf8.first else { return false }
        return first == UInt8(ascii: "'") || (first == 0xE2 && token.utf8.starts(with: "’".utf8))
    }

    /// Letters and apostrophes only, at least one letter.
    private static func isWordToken(_ token: Substring) -> Bool {
        if token.utf8.allSatisfy({ $0 < 0x80 }) {
            return token.utf8.contains { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }
                && token.utf8.allSatisfy { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A || $0 == UInt8(ascii: "'") }
        }
        return token.contains(where: \.isLetter) && token.allSatisfy { $0.isLetter || $0 == "'" || $0 == "’" }
    }

    /// Tokens between runs of whitespace (Unicode White_Space), with a byte scan for ASCII text.
    static func whitespaceTokens(_ text: Substring) -> [Substring] {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return text.split(whereSeparator: \.isWhitespace) }
        var tokens: [Substring] = []
        tokens.reserveCapacity(32)
        let utf8 = text.utf8
        var start: String.Index?
        var index = utf8.startIndex
        while index < utf8.endIndex {
            let byte = utf8[index]
            let isSpace = byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
            if isSpace {
                if let begin = start { tokens.append(text[begin..<index]); start = nil }
            } else if start == nil {
                start = index
            }
            utf8.formIndex(after: &index)
        }
        if let begin = start { tokens.append(text[begin..<utf8.endIndex]) }
        return tokens
    }

    static func joiningSpelledLetters(_ token: Substring) -> String {
        var result = ""
        var characters = token.makeIterator()
        var pending = characters.next()
        while let character = pending {
            let next = characters.next()
            result.append(character)
            if character.isASCII, character.isLetter, next == "_" {
                pending = characters.next()
            } else {
                pending = next
            }
        }
        return result
    }

    /// Sounds that carry no words; never in a summary.
    static let fillers: Set<String> = [
        "um", "umm", "uh", "uhh", "uhm", "hmm", "hm", "mm", "mmm", "mhm", "mm-hmm", "uh-huh", "er", "erm", "ah", "eh",
    ]

    /// Discourse markers that open spoken sentences without adding to them ("So, well, the price...").
    static let openers: Set<String> = ["so", "well", "yeah", "yes", "okay", "ok", "alright", "right", "oh", "and", "but", "anyway", "like"]

    /// Words that make a sentence a backchannel, an acknowledgement or a courtesy
    /// ("Yeah, okay.", "Thank you for your attention.", "Colleagues,") rather than content.
    static let phatic: Set<String> = [
        "yeah", "yes", "yep", "no", "nope", "okay", "ok", "right", "alright", "sure", "oh", "well", "so", "thank", "thanks",
        "colleagues", "friends", "dear", "ladies", "gentlemen", "good", "morning", "afternoon", "evening", "welcome",
        "hello", "hi", "bye", "attention", "great", "cool", "fine", "really", "exactly", "true", "absolutely", "indeed",
        "gonna", "wanna", "gotta", "kinda", "sorta", "like", "mean", "know", "guess", "think", "just", "actually", "chair",
        "anyway", "maybe", "probably", "huh", "wow", "sorry", "pardon", "mister", "madam", "sir", "please",
    ]

    /// Words of thanks and greeting: a sentence with one is a courtesy, not content.
    static let courtesies: Set<String> = [
        "thank", "thanks", "thanked", "greetings", "greet", "congratulate", "congratulations", "congratulating", "applause",
    ]

    /// Words of speech too common to locate a topic, beyond the analyzer's stop words
    /// (`StopWords`): no weight in any vector.
    static let spokenFunctionWords: Set<String> = [
        "also", "can", "d", "don", "else", "even", "ever", "every", "get", "got", "let", "ll", "m", "might", "much",
        "must", "now", "one", "quite", "re", "s", "shall", "t", "thing", "things", "us", "ve", "way", "will", "n't",
        "nt", "lot", "bit", "kind", "sort", "stuff", "something", "anything", "everything", "nothing", "someone",
        "anyone", "everyone", "go", "going", "gone", "went", "say", "said", "says", "see", "saw", "seen", "come",
        "came", "make", "made", "put", "take", "took", "want", "wanted", "need", "needed", "use", "used", "yeah",
        "okay", "ok", "uh", "um", "mm", "hmm", "oh", "ah", "whether", "though", "although", "yet", "still", "however",
        "therefore", "per", "via", "upon", "within", "without", "across", "along", "among", "around", "two", "three",
        "first", "second", "many", "may", "another", "back", "well", "just", "like", "really", "know", "mean",
        "think", "right", "gonna", "wanna", "actually", "probably", "maybe", "sure", "good", "yes", "thank", "thanks",
        "anyway", "whatever", "basically", "certainly", "course", "able", "getting", "doesn",
    ]
}

extension StringProtocol {
    func trimmingSuffix(while predicate: (Character) -> Bool) -> String {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return String(self[startIndex..<end])
    }
}
