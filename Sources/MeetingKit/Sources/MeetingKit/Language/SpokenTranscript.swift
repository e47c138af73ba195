// Spoken transcripts made readable: the one cleaner every quoted sentence goes through,
// keeping the way back from the cleaned text to the stored text a citation points at.

/// A span of transcript text cleaned for reading, and where each of its tokens came from.
public struct CleanedText: Sendable, Equatable {
    /// One kept token: where it lies in `text` and in the source, in Unicode scalar offsets.
    public struct Piece: Sendable, Equatable {
        public let cleaned: Range<Int>
        public let source: Range<Int>
        /// The token is its source scalar for scalar (but for the capital that may start `text`),
        /// so offsets inside it map one to one; a repaired token ("front - end") maps as a whole.
        public let verbatim: Bool
    }

    public let text: String
    public let pieces: [Piece]

    /// The source range that `cleaned` (offsets into `text`) came from: exact inside verbatim
    /// tokens, whole tokens otherwise; nil when the range holds no token.
    public func sourceRange(of cleaned: Range<Int>) -> Range<Int>? {
        guard let first = pieces.firstIndex(where: { $0.cleaned.upperBound > cleaned.lowerBound }),
              let last = pieces.lastIndex(where: { $0.cleaned.lowerBound < cleaned.upperBound }), first <= last else { return nil }
        let head = pieces[first], tail = pieces[last]
        let lower = head.verbatim ? head.source.lowerBound + max(0, cleaned.lowerBound - head.cleaned.lowerBound) : head.source.lowerBound
        let upper = tail.verbatim
            ? tail.source.lowerBound + min(cleaned.upperBound, tail.cleaned.upperBound) - tail.cleaned.lowerBound
            : tail.source.upperBound
        return lower..<upper
    }
}

public enum SpokenTranscript {
    /// Cleans one span of a transcript, on its whitespace-separated tokens:
    /// 1. transcription marks (`TranscriptText.marks`) are removed wherever they occur, and letters
    ///    spelled the AMI way lose their `_` ("L_C_D_s" becomes "LCDs");
    /// 2. tokenised punctuation is put back: a lone `-` between two words joins them ("front - end"
    ///    becomes "front-end", "Mm - hmm" "Mm-hmm"), unless the first is a restart of the second
    ///    ("Th - the", "is - is": only the second stays); a lone `'` after a word ends it ("guys '"
    ///    becomes "guys'", "o ' clock" "o'clock");
    /// 3. fillers (`fillers`, compared lowercased without trailing `,.;:!?`) are dropped, and so is a
    ///    lone `,` right after one; word fragments are dropped (below); while nothing is kept yet,
    ///    openers (`openers`, compared as fillers are) and tokens of `,.;:!?` alone are dropped too;
    ///    and discourse phrases that carry nothing are dropped where they stand apart from the sentence,
    ///    compared as fillers are: an aside (`asides`: "you know", "I mean", "sort of") at the start or
    ///    after `,.;:!?` and followed by `,.;:!` or the end, with the commas around it ("it's, you know,
    ///    not a matter" becomes "it's not a matter"; a `.;:!` ending it stays unless the word before
    ///    ends in one: "difference, you know." becomes "difference.", "fine; you know." "fine;"; a comma
    ///    or stop the cleaner would have to cut out of a rebuilt token, "front - end," or a word with a
    ///    mark removed, keeps the aside), and a hedge opener (`hedgeOpeners`: "I think") at the start or after
    ///    `,.;:!?` before a word other than `literalAfterOpener` ("I think we should" becomes "We
    ///    should"; "I think so" stays);
    /// 4. a word fragment is a lone lowercase letter other than "a" and "i" ("h having"); two lowercase
    ///    consonants but `consonantWords` ("th a copy"); two or three lowercase letters, not one of
    ///    `shortWords`, that begin the next token that is neither a filler nor a fragment ("wha what",
    ///    "cha ch channel"); a capital other than "A" and "I", at the start or after `,.;:!?`, when the
    ///    next token, or the next that is neither a filler nor a fragment, starts with its letter
    ///    ("B But", "U Uh");
    /// 5. restarts are dropped: when a run of one to four words is said again right away (ignoring
    ///    case, trailing commas and lone commas between: "we we should", "on , on the", "who you were
    ///    who you were looking"), the first saying goes (with the commas after it);
    /// 6. tokens are joined by one space, except that tokens made only of `,.;:!?%)`, clitics
    ///    (`'s`, `'re`, `'m`, `'ll`, `'ve`, `'d`, `n't`) and a closing `"` are glued to the token
    ///    before, and an opening `"` to the token after (a lone `"` opens at the start, closes at
    ///    the end or before punctuation, and otherwise alternates);
    /// 7. the first letter is upper-cased.
    /// Source offsets count Unicode scalars of `span`, plus `sourceOffset` (the span's own start
    /// in the turn text, so that the map gives turn offsets as stored citations do).
    public static func clean(_ span: Substring, sourceOffset: Int = 0) -> CleanedText {
        var tokens = repairingPunctuation(tokens(span, offset: sourceOffset))
        let fragments = fragments(tokens)
        // Positions in `tokens`, not copies: a Token holds a Substring, and copying one retains its string.
        var kept: [Int] = []
        kept.reserveCapacity(tokens.count)
        var afterFiller = false
        var phraseEnd = 0
        for index in tokens.indices where index >= phraseEnd {
            let token = tokens[index]
            if token.isFiller {
                afterFiller = true
                continue
            }
            if fragments[index] { continue }
            if kept.isEmpty ? token.text.utf8.allSatisfy(isSentencePunctuation) : afterFiller && token.text == "," { continue }
            afterFiller = false
            if kept.isEmpty, openerKeys.contains(token.key) { continue }
            if discourseFirstKeys.contains(token.key), let end = droppingDiscoursePhrase(at: index, kept: &kept, tokens: &tokens) {
                phraseEnd = end
                // A lone comma after it goes too, as after a filler: one stands before it, or nothing.
                afterFiller = true
                continue
            }
            kept.append(index)
            droppingRestarts(&kept, of: tokens)
        }
        return joined(kept, of: tokens)
    }

    /// Discourse markers said as asides, set off from the sentence ("it's, you know, cheaper").
    public static let asides: [[String]] = [["you", "know"], ["i", "mean"], ["i", "guess"], ["i", "think"], ["you", "see"],
                                            ["sort", "of"], ["kind", "of"], ["yeah"]]

    /// Hedges that open a clause: the speaker's own view, which a summary's attribution already gives.
    public static let hedgeOpeners: [[String]] = [["i", "think"], ["i", "mean"], ["i", "guess"]]

    /// Words after which a hedge opener is said literally ("I think so", "I think that ...", "I mean of course").
    public static let literalAfterOpener: Set<String> = ["so", "that", "about", "of", "not", "this", "it"]

    /// Sounds that carry no words.
    public static let fillers: Set<String> = [
        "um", "umm", "uh", "uhh", "uhm", "hmm", "hm", "mm", "mmm", "mhm", "mm-hmm", "uh-huh", "uh-uh", "er", "erm", "ah", "eh",
    ]

    /// Discourse markers that open spoken sentences without adding to them ("So, well, the price...").
    public static let openers: Set<String> = ["so", "well", "yeah", "yes", "okay", "ok", "alright", "right", "oh", "and", "but", "anyway", "like"]

    /// Words of two or three letters, which a cut-off word of that length ("th", "wha") is not.
    public static let shortWords: Set<String> = [
        "ad", "ah", "am", "an", "as", "at", "be", "by", "do", "eh", "go", "ha", "he", "hi", "if", "in", "is", "it", "me",
        "my", "no", "of", "oh", "ok", "on", "or", "ox", "so", "to", "up", "us", "we", "ye",
        "act", "add", "ago", "aid", "aim", "air", "all", "and", "any", "app", "are", "arm", "art", "ask", "ate", "bad",
        "bag", "bar", "bed", "bet", "big", "bin", "bit", "box", "boy", "bug", "bus", "but", "buy", "bye", "can", "cap",
        "car", "cat", "cup", "cut", "dad", "day", "did", "die", "dig", "dog", "dot", "due", "ear", "eat", "egg", "end",
        "era", "eye", "fan", "far", "fat", "fed", "fee", "few", "fit", "fix", "fly", "for", "fun", "gap", "gas", "get",
        "god", "got", "gum", "guy", "had", "has", "hat", "her", "hey", "him", "his", "hit", "hot", "how", "ice", "ill",
        "its", "job", "joy", "key", "kid", "lab", "law", "lay", "led", "leg", "let", "lid", "lie", "lit", "log", "lot",
        "low", "mad", "man", "map", "may", "men", "met", "mix", "mom", "mum", "net", "new", "nor", "not", "now", "nut",
        "odd", "off", "oil", "old", "one", "our", "out", "owe", "own", "pay", "pen", "per", "pet", "pin", "pop", "pot",
        "pro", "put", "ran", "rat", "raw", "red", "rid", "row", "run", "sad", "sat", "saw", "say", "sea", "see", "set",
        "she", "shy", "sit", "six", "sky", "son", "sum", "sun", "tab", "tag", "tap", "tax", "tea", "ten", "the", "tie",
        "tip", "toe", "too", "top", "toy", "try", "two", "use", "van", "via", "war", "was", "way", "web", "wet", "who",
        "why", "win", "won", "yes", "yet", "you", "zip",
    ]

    /// Two consonants that are words or units, unlike "th" or "wh".
    public static let consonantWords: Set<String> = ["mr", "dr", "ms", "st", "tv", "pc", "cd", "dj", "km", "kg", "cm", "mg", "ml", "gb", "mb", "kb", "hz", "pm"]

    private static let maxRestartWords = 4

    // MARK: Tokens

    private struct Token {
        let text: Substring
        let source: Range<Int>
        let verbatim: Bool
        /// `bareWordKey` of the text.
        let key: UInt64
        /// `packedWord` of the text, for restarts.
        let wordKey: UInt64
        let isFiller: Bool
        let isComma: Bool

        init(_ text: Substring, source: Range<Int>, verbatim: Bool) {
            self.text = text
            self.source = source
            self.verbatim = verbatim
            key = SpokenTranscript.bareWordKey(text)
            wordKey = SpokenTranscript.packedWord(text)
            isFiller = key != 0 && SpokenTranscript.fillerKeys.contains(key)
            isComma = text.utf8.first == UInt8(ascii: ",") && text.utf8.allSatisfy { $0 == UInt8(ascii: ",") }
        }
    }

    /// Tokens between runs of whitespace (Unicode White_Space) with their source offsets, marks
    /// and spelled letters already cleaned; a byte scan when the text is ASCII.
    private static func tokens(_ text: Substring, offset: Int) -> [Token] {
        var tokens: [Token] = []
        tokens.reserveCapacity(32)
        /// `plain`: the token has no `{` or `_`, so marks and spelled letters need no look.
        func add(_ raw: Substring, _ source: Range<Int>, plain: Bool = false) {
            var token = raw
            if !plain, token.utf8.contains(UInt8(ascii: "{")) { token = Substring(TranscriptText.strippingMarks(String(token))) }
            if !plain, token.utf8.contains(UInt8(ascii: "_")) { token = Substring(joiningSpelledLetters(token)) }
            // Both only delete, so an unchanged length is an unchanged token.
            if !token.isEmpty { tokens.append(Token(token, source: source, verbatim: token.utf8.count == raw.utf8.count)) }
        }
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            let utf8 = text.utf8
            var start: (index: String.Index, offset: Int)?
            var plain = true
            var index = utf8.startIndex
            var position = offset
            while index < utf8.endIndex {
                let byte = utf8[index]
                if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) {
                    if let begin = start { add(text[begin.index..<index], begin.offset..<position, plain: plain); start = nil }
                } else {
                    if start == nil { start = (index, position); plain = true }
                    if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "_") { plain = false }
                }
                utf8.formIndex(after: &index)
                position += 1
            }
            if let begin = start { add(text[begin.index..<utf8.endIndex], begin.offset..<position, plain: plain) }
        } else {
            let scalars = text.unicodeScalars
            var start: (index: String.Index, offset: Int)?
            var index = scalars.startIndex
            var position = offset
            while index < scalars.endIndex {
                if scalars[index].properties.isWhitespace {
                    if let begin = start { add(text[begin.index..<index], begin.offset..<position); start = nil }
                } else if start == nil {
                    start = (index, position)
                }
                scalars.formIndex(after: &index)
                position += 1
            }
            if let begin = start { add(text[begin.index..<scalars.endIndex], begin.offset..<position) }
        }
        return tokens
    }

    /// Rule 2: lone hyphens and apostrophes put back where the transcriber's tokeniser took them.
    private static func repairingPunctuation(_ tokens: [Token]) -> [Token] {
        guard tokens.contains(where: { isLone("-", $0.text) || isLone("'", $0.text) }) else { return tokens }
        var repaired: [Token] = []
        repaired.reserveCapacity(tokens.count)
        var index = 0
        while index < tokens.count {
            let token = tokens[index]
            let next = index + 1 < tokens.count ? tokens[index + 1] : nil
            if isLone("-", token.text), let previous = repaired.last, let next, endsWithWordCharacter(previous.text), startsWithWordCharacter(next.text) {
                if isRestart(previous.text, of: next.text) {
                    repaired[repaired.count - 1] = Token(next.text, source: next.source, verbatim: next.verbatim)
                } else {
                    repaired[repaired.count - 1] = Token(Substring(previous.text + "-" + next.text), source: previous.source.lowerBound..<next.source.upperBound,
                                                         verbatim: false)
                }
                index += 2
                continue
            }
            if isLone("'", token.text), let previous = repaired.last, endsWithWordCharacter(previous.text) {
                if previous.text.lowercased() == "o", let next, startsWithWordCharacter(next.text) {
                    repaired[repaired.count - 1] = Token(Substring(previous.text + "'" + next.text), source: previous.source.lowerBound..<next.source.upperBound,
                                                         verbatim: false)
                    index += 2
                } else {
                    repaired[repaired.count - 1] = Token(Substring(previous.text + "'"), source: previous.source.lowerBound..<token.source.upperBound,
                                                         verbatim: false)
                    index += 1
                }
                continue
            }
            repaired.append(token)
            index += 1
        }
        return repaired
    }

    /// "Th" before "the", "is" before "is": the first is a start of the second, not a word of a compound
    /// (which "delta-delta" is).
    private static func isRestart(_ first: Substring, of second: Substring) -> Bool {
        guard first.utf8.count <= second.utf8.count, isASCIIWord(first) else { return false }
        let lowerFirst = first.lowercased(), lowerSecond = second.lowercased()
        guard lowerSecond.hasPrefix(lowerFirst) else { return false }
        return first.utf8.count < second.utf8.count || shortWords.contains(lowerFirst)
    }

    // MARK: Discourse phrases

    private enum DiscourseKind { case aside, hedgeOpener }

    /// Rule 3's discourse phrases: when one starts at `index` where it stands apart, it is dropped (with the
    /// punctuation around it as the rule says) and the position after it returned; nil when none is dropped.
    private static func droppingDiscoursePhrase(at index: Int, kept: inout [Int], tokens: inout [Token]) -> Int? {
        let before = kept.last
        guard before.map({ endsClause(tokens[$0].text) }) ?? true else { return nil }
        for (kind, phrase) in discoursePhrases {
            guard let end = matchEnd(of: phrase, at: index, in: tokens) else { continue }
            let last = tokens[end - 1]
            let mark = trailingPunctuation(last.text)
            let next = end < tokens.count ? tokens[end] : nil
            let loneMark = next.flatMap { $0.text.utf8.allSatisfy(isSentencePunctuation) ? $0.text : nil }
            if kind == .hedgeOpener {
                // A word must follow, not punctuation: set off by punctuation it is an aside.
                guard mark.isEmpty, let next, loneMark == nil, !literalAfterOpener.contains(withoutTrailingPunctuation(next.text).lowercased())
                else { continue }
                return end
            }
            // Followed by `,.;:!` or the end; a question mark makes it a question ("you know?").
            let closing = mark.isEmpty ? (loneMark ?? "") : mark
            guard next == nil || !closing.isEmpty, !closing.contains("?") else { continue }
            let ends = !closing.isEmpty && closing.utf8.first != UInt8(ascii: ",")
            // Nothing kept and nothing after: the phrase is the whole sentence ("You know.").
            if before == nil, ends || next == nil { continue }
            // The commas around it go, and a `.;:!` ending it stays unless a stop ends the word before
            // ("fine; you know." is "fine;"); both are cut out of verbatim tokens only, so that every
            // kept word maps to exactly its source.
            let beforeText = before.map { tokens[$0].text }
            let stopBefore = beforeText.map { $0.utf8.last != UInt8(ascii: ",") } ?? false
            let commaBefore = beforeText?.utf8.last == UInt8(ascii: ",") ? before : nil
            if ends, !stopBefore, !mark.isEmpty, !last.verbatim { continue }
            if let commaBefore, !tokens[commaBefore].isComma, !tokens[commaBefore].verbatim { continue }
            if let commaBefore {
                let token = tokens[commaBefore]
                if token.isComma {
                    kept.removeLast()
                } else {
                    let trimmed = withoutTrailingCommas(token.text)
                    tokens[commaBefore] = Token(trimmed, source: token.source.lowerBound..<(token.source.upperBound - (token.text.utf8.count - trimmed.utf8.count)),
                                                verbatim: true)
                }
            }
            guard ends, !stopBefore else { return ends && mark.isEmpty ? end + 1 : end }
            if !mark.isEmpty {
                tokens.append(Token(mark, source: (last.source.upperBound - mark.utf8.count)..<last.source.upperBound, verbatim: true))
                kept.append(tokens.count - 1)
            }
            return end
        }
        return nil
    }

    /// Where `phrase` ends when its words start at `index` (only its last word may carry punctuation).
    private static func matchEnd(of phrase: [String], at index: Int, in tokens: [Token]) -> Int? {
        guard index + phrase.count <= tokens.count else { return nil }
        for (offset, word) in phrase.enumerated() {
            let text = tokens[index + offset].text
            let bare = offset == phrase.count - 1 ? withoutTrailingPunctuation(text) : text
            guard bare.utf8.count == word.utf8.count,
                  zip(bare.utf8, word.utf8).allSatisfy({ $0 == $1 || (isASCIILetter($0) && $0 | 0x20 == $1) }) else { return nil }
        }
        return index + phrase.count
    }

    private static func trailingPunctuation(_ token: Substring) -> Substring {
        token[withoutTrailingPunctuation(token).endIndex...]
    }

    private static let discoursePhrases: [(DiscourseKind, [String])] =
        asides.map { (DiscourseKind.aside, $0) } + hedgeOpeners.map { (.hedgeOpener, $0) }

    private static let discourseFirstKeys = Set((asides + hedgeOpeners).map { key($0[0]) })

    // MARK: Fragments and restarts

    /// Rule 4 for every token, from the last: a start of a word is judged by the next token that is
    /// neither a filler nor a fragment itself ("cha ch channel").
    private static func fragments(_ tokens: [Token]) -> [Bool] {
        var fragments = [Bool](repeating: false, count: tokens.count)
        var next: Int?
        for index in tokens.indices.reversed() where !tokens[index].isFiller {
            if tokens[index].text.utf8.count <= 3, isFragment(index, in: tokens, before: next) {
                fragments[index] = true
            } else {
                next = index
            }
        }
        return fragments
    }

    /// `next` is the next token that is neither a filler nor a fragment.
    private static func isFragment(_ index: Int, in tokens: [Token], before next: Int?) -> Bool {
        let text = tokens[index].text, bytes = text.utf8
        guard bytes.count <= 3, isASCIIWord(text) else { return false }
        let first = bytes.first!
        if bytes.count == 1 {
            if first >= UInt8(ascii: "a") { return first != UInt8(ascii: "a") && first != UInt8(ascii: "i") }
            guard first != UInt8(ascii: "A"), first != UInt8(ascii: "I") else { return false }
            let startsWithLetter = { (other: Int?) in other.flatMap { tokens[$0].text.utf8.first }.map { $0 | 0x20 == first | 0x20 } ?? false }
            guard startsWithLetter(next) || startsWithLetter(index + 1 < tokens.count ? index + 1 : nil) else { return false }
            var previous = index - 1
            while previous >= 0, tokens[previous].isFiller { previous -= 1 }
            return previous < 0 || endsClause(tokens[previous].text)
        }
        let key = tokens[index].key
        guard bytes.allSatisfy({ $0 >= UInt8(ascii: "a") }), !shortWordKeys.contains(key) else { return false }
        if bytes.count == 2, !bytes.contains(where: isVowel), !consonantWordKeys.contains(key) { return true }
        guard let next, tokens[next].text.utf8.count > bytes.count else { return false }
        return tokens[next].text.utf8.starts(with: bytes) || tokens[next].text.lowercased().hasPrefix(text)
    }

    /// Rule 5 on the tokens kept so far (positions in `tokens`), whose last one was just added.
    /// Commas between the words do not hide a restart ("on , on the meeting").
    private static func droppingRestarts(_ kept: inout [Int], of tokens: [Token]) {
        while let last = kept.last, !tokens[last].isComma, saysAgain(last, in: kept, of: tokens) {
            var words: [Int] = []
            var index = kept.count - 1
            while index >= 0, words.count < 2 * maxRestartWords {
                if !tokens[kept[index]].isComma { words.append(index) }
                index -= 1
            }
            words.reverse()
            let count = words.count
            guard let length = (1...maxRestartWords).first(where: { length in
                count >= 2 * length && (0..<length).allSatisfy {
                    sameWord(kept[words[count - 2 * length + $0]], kept[words[count - length + $0]], of: tokens)
                }
            }) else { break }
            kept.removeSubrange(words[count - 2 * length]..<words[count - length])
        }
    }

    /// Whether `last`, the last kept token, is one of the words just before it: what every restart has.
    private static func saysAgain(_ last: Int, in kept: [Int], of tokens: [Token]) -> Bool {
        var index = kept.count - 2
        var words = 0
        while index >= 0, words < maxRestartWords {
            if !tokens[kept[index]].isComma {
                if sameWord(kept[index], last, of: tokens) { return true }
                words += 1
            }
            index -= 1
        }
        return false
    }

    /// Both tokens are words (with at least one letter) equal but for case and trailing commas.
    private static func sameWord(_ first: Int, _ second: Int, of tokens: [Token]) -> Bool {
        if tokens[first].wordKey != 0 || tokens[second].wordKey != 0 { return tokens[first].wordKey == tokens[second].wordKey }
        return sameLongWord(tokens[first].text, tokens[second].text)
    }

    /// `sameWord` for words that do not pack into an integer: longer or not ASCII.
    private static func sameLongWord(_ first: Substring, _ second: Substring) -> Bool {
        let comma = UInt8(ascii: ",")
        let a = first.utf8.last == comma ? withoutTrailingCommas(first) : first
        let b = second.utf8.last == comma ? withoutTrailingCommas(second) : second
        guard a.utf8.count == b.utf8.count else { return false }
        let equal = a.utf8.allSatisfy({ $0 < 0x80 })
            ? zip(a.utf8, b.utf8).allSatisfy { x, y in x == y || (isASCIILetter(x) && x | 0x20 == y | 0x20) }
            : a.lowercased() == b.lowercased()
        return equal && isWord(a)
    }

    // MARK: Joining

    private static func joined(_ kept: [Int], of tokens: [Token]) -> CleanedText {
        var text = ""
        var pieces: [CleanedText.Piece] = []
        pieces.reserveCapacity(kept.count)
        var length = 0
        var quoteOpen = false
        var glueNext = false
        for (index, position) in kept.enumerated() {
            let token = tokens[position]
            var glued = glueNext || token.text.utf8.allSatisfy(isClosingPunctuation) || isClitic(token.text)
            glueNext = false
            if isLone("\"", token.text) {
                let isLast = index == kept.count - 1
                let opening = index == 0 || (!isLast && !quoteOpen && !tokens[kept[index + 1]].text.utf8.allSatisfy(isClosingPunctuation))
                if opening { glueNext = true } else { glued = true }
                quoteOpen = opening
            }
            if !text.isEmpty && !glued {
                text.append(" ")
                length += 1
            }
            let start = length
            text.append(contentsOf: token.text)
            length += token.verbatim ? token.source.count : token.text.unicodeScalars.count
            pieces.append(CleanedText.Piece(cleaned: start..<length, source: token.source, verbatim: token.verbatim))
        }
        // Upper-casing may change the number of scalars ("ß" is "SS"), which the offsets must not.
        if let first = text.first, first.isLowercase {
            let upper = first.uppercased()
            if upper.unicodeScalars.count == first.unicodeScalars.count { text = upper + text.dropFirst() }
        }
        return CleanedText(text: text, pieces: pieces)
    }

    /// `'s`, `’re`, `n't`... (with any closing punctuation after them): part of the word before.
    private static func isClitic(_ token: Substring) -> Bool {
        guard let byte = token.utf8.first, byte == UInt8(ascii: "'") || byte == UInt8(ascii: "n") || byte == 0xE2 else { return false }
        let bare = withoutTrailingPunctuation(token)
        if bare == "n't" || bare == "n’t" { return true }
        guard let first = bare.first, first == "'" || first == "’" else { return false }
        return clitics.contains(bare.dropFirst().lowercased())
    }

    private static let clitics: Set<String> = ["s", "re", "m", "ll", "ve", "d"]

    // MARK: Bytes

    /// The token lowercased without trailing `,.;:!?`, packed into an integer when it is ASCII
    /// of at most eight bytes, as every filler and opener is (0 otherwise): no string is made
    /// for the check that every token goes through.
    private static func bareWordKey(_ token: Substring) -> UInt64 {
        var key: UInt64 = 0
        var length = 0
        for byte in withoutTrailingPunctuation(token).utf8 {
            length += 1
            guard length <= 8, byte < 0x80 else { return 0 }
            key = key << 8 | UInt64(isASCIILetter(byte) ? byte | 0x20 : byte)
        }
        return key
    }

    /// The token without trailing commas, lowercased and packed into an integer when it is an ASCII
    /// word (letters, digits, `'` and `-`, a letter among them) of at most eight bytes; 0 otherwise.
    private static func packedWord(_ token: Substring) -> UInt64 {
        var key: UInt64 = 0
        var length = 0
        var hasLetter = false
        for byte in withoutTrailingCommas(token).utf8 {
            length += 1
            guard length <= 8 else { return 0 }
            if isASCIILetter(byte) {
                hasLetter = true
                key = key << 8 | UInt64(byte | 0x20)
            } else if (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "-") {
                key = key << 8 | UInt64(byte)
            } else {
                return 0
            }
        }
        return hasLetter ? key : 0
    }

    private static func key(_ word: String) -> UInt64 {
        word.utf8.reduce(0) { $0 << 8 | UInt64($1) }
    }

    private static let fillerKeys = Set(fillers.map(key))
    private static let openerKeys = Set(openers.map(key))
    private static let shortWordKeys = Set(shortWords.map(key))
    private static let consonantWordKeys = Set(consonantWords.map(key))

    private static func withoutTrailingPunctuation(_ token: Substring) -> Substring {
        var end = token.utf8.endIndex
        while end > token.utf8.startIndex, isSentencePunctuation(token.utf8[token.utf8.index(before: end)]) {
            end = token.utf8.index(before: end)
        }
        return token[token.startIndex..<end]
    }

    private static func withoutTrailingCommas(_ token: Substring) -> Substring {
        var end = token.utf8.endIndex
        while end > token.utf8.startIndex, token.utf8[token.utf8.index(before: end)] == UInt8(ascii: ",") {
            end = token.utf8.index(before: end)
        }
        return token[token.startIndex..<end]
    }

    /// The token is that one ASCII character, checked on bytes: string comparison is slow here.
    private static func isLone(_ character: Unicode.Scalar, _ token: Substring) -> Bool {
        token.utf8.count == 1 && token.utf8.first == UInt8(ascii: character)
    }

    private static func isVowel(_ byte: UInt8) -> Bool {
        switch byte | 0x20 {
        case UInt8(ascii: "a"), UInt8(ascii: "e"), UInt8(ascii: "i"), UInt8(ascii: "o"), UInt8(ascii: "u"), UInt8(ascii: "y"): return true
        default: return false
        }
    }

    private static func isSentencePunctuation(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "."), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "!"), UInt8(ascii: "?"): return true
        default: return false
        }
    }

    private static func isClosingPunctuation(_ byte: UInt8) -> Bool {
        isSentencePunctuation(byte) || byte == UInt8(ascii: "%") || byte == UInt8(ascii: ")")
    }

    private static func isASCIILetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
    }

    private static func isASCIIWord(_ token: Substring) -> Bool {
        !token.isEmpty && token.utf8.allSatisfy(isASCIILetter)
    }

    /// Letters, digits, apostrophes and hyphens, with at least one letter.
    private static func isWord(_ token: Substring) -> Bool {
        if token.utf8.allSatisfy({ $0 < 0x80 }) {
            return token.utf8.contains(where: isASCIILetter) && token.utf8.allSatisfy {
                isASCIILetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "-")
            }
        }
        var hasLetter = false
        for scalar in token.unicodeScalars {
            if scalar.properties.isAlphabetic { hasLetter = true; continue }
            if scalar.properties.numericType != nil || scalar == "'" || scalar == "’" || scalar == "-" { continue }
            return false
        }
        return hasLetter
    }

    private static func startsWithWordCharacter(_ token: Substring) -> Bool {
        token.unicodeScalars.first.map { $0.properties.isAlphabetic || $0.properties.numericType != nil } ?? false
    }

    private static func endsWithWordCharacter(_ token: Substring) -> Bool {
        token.unicodeScalars.last.map { $0.properties.isAlphabetic || $0.properties.numericType != nil } ?? false
    }

    /// The kept token ends a clause, so a capital after it starts one.
    private static func endsClause(_ token: Substring) -> Bool {
        token.utf8.last.map(isSentencePunctuation) ?? false
    }

    private static func joiningSpelledLetters(_ token: Substring) -> String {
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
}
