// Martin Porter's 1980 stemmer, the one SQLite's `porter` tokenizer applies to the
// corpus index: stemming the same way lets the module read document frequencies
// straight from `turn_fts` and match "decided" to "decision"-free "decide".

enum PorterStemmer {
    /// The stem of a lowercased ASCII word; other words (and words of two letters or
    /// fewer) come back unchanged.
    static func stem(_ word: String) -> String {
        let bytes = Array(word.utf8)
        guard bytes.count > 2, bytes.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else { return word }
        var stemmer = Stemming(bytes)
        stemmer.run()
        return String(decoding: stemmer.word, as: UTF8.self)
    }

    private struct Stemming {
        var word: [UInt8]
        /// The end of the stem under test in the rules (`j` in Porter's C version).
        var stemEnd = 0

        init(_ word: [UInt8]) { self.word = word }

        mutating func run() {
            step1ab(); step1c(); step2(); step3(); step4(); step5()
        }

        func isConsonant(_ i: Int) -> Bool {
            switch word[i] {
            case UInt8(ascii: "a"), UInt8(ascii: "e"), UInt8(ascii: "i"), UInt8(ascii: "o"), UInt8(ascii: "u"): return false
            case UInt8(ascii: "y"): return i == 0 ? true : !isConsonant(i - 1)
            default: return true
            }
        }

        /// Porter's m: the number of vowel-consonant sequences in word[0..<stemEnd].
        func measure() -> Int {
            var n = 0, i = 0
            while i < stemEnd, isConsonant(i) { i += 1 }
            while i < stemEnd {
                while i < stemEnd, !isConsonant(i) { i += 1 }
                guard i < stemEnd else { break }
                n += 1
                while i < stemEnd, isConsonant(i) { i += 1 }
            }
            return n
        }

        func stemHasVowel() -> Bool { (0..<stemEnd).contains { !isConsonant($0) } }

        func endsWithDoubleConsonant(_ end: Int) -> Bool {
            end >= 2 && word[end - 1] == word[end - 2] && isConsonant(end - 1)
        }

        /// consonant-vowel-consonant ending at `end`, the last not w, x or y.
        func endsCVC(_ end: Int) -> Bool {
            guard end >= 3, isConsonant(end - 1), !isConsonant(end - 2), isConsonant(end - 3) else { return false }
            let last = word[end - 1]
            return last != UInt8(ascii: "w") && last != UInt8(ascii: "x") && last != UInt8(ascii: "y")
        }

        /// Whether the word ends with `suffix`; if so `stemEnd` marks where it starts.
        mutating func ends(_ suffix: String) -> Bool {
            let suffixBytes = Array(suffix.utf8)
            guard word.count >= suffixBytes.count, word.suffix(suffixBytes.count).elementsEqual(suffixBytes) else { return false }
            stemEnd = word.count - suffixBytes.count
            return true
        }

        mutating func replaceSuffix(with replacement: String) {
            word.removeSubrange(stemEnd...)
            word.append(contentsOf: replacement.utf8)
        }

        mutating func replaceIfMeasured(_ replacement: String) {
            if measure() > 0 { replaceSuffix(with: replacement) }
        }

        mutating func step1ab() {
            if word.last == UInt8(ascii: "s") {
                if ends("sses") { replaceSuffix(with: "ss") }
                else if ends("ies") { replaceSuffix(with: "i") }
                else if !ends("ss") { word.removeLast() }
            }
            if ends("eed") {
                if measure() > 0 { word.removeLast() }
            } else if (ends("ed") || ends("ing")) && stemHasVowel() {
                word.removeSubrange(stemEnd...)
                if ends("at") { replaceSuffix(with: "ate") }
                else if ends("bl") { replaceSuffix(with: "ble") }
                else if ends("iz") { replaceSuffix(with: "ize") }
                else if endsWithDoubleConsonant(word.count) {
                    let last = word.last!
                    if last != UInt8(ascii: "l") && last != UInt8(ascii: "s") && last != UInt8(ascii: "z") { word.removeLast() }
                } else {
                    stemEnd = word.count
                    if measure() == 1 && endsCVC(word.count) { word.append(UInt8(ascii: "e")) }
                }
            }
        }

        mutating func step1c() {
            if ends("y") && stemHasVowel() { word[word.count - 1] = UInt8(ascii: "i") }
        }

        static let step2Rules: [(String, String)] = [
            ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("izer", "ize"), ("bli", "ble"),
            ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"), ("ization", "ize"), ("ation", "ate"),
            ("ator", "ate"), ("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"), ("aliti", "al"),
            ("iviti", "ive"), ("biliti", "ble"), ("logi", "log"),
        ]
        static let step3Rules: [(String, String)] = [
            ("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"), ("ful", ""), ("ness", ""),
        ]
        static let step4Suffixes = [
            "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou", "ism", "ate", "iti",
            "ous", "ive", "ize",
        ]

        mutating func step2() {
            for (suffix, replacement) in Self.step2Rules where ends(suffix) {
                replaceIfMeasured(replacement)
                return
            }
        }

        mutating func step3() {
            for (suffix, replacement) in Self.step3Rules where ends(suffix) {
                replaceIfMeasured(replacement)
                return
            }
        }

        mutating func step4() {
            for suffix in Self.step4Suffixes where ends(suffix) {
                if suffix == "ion" {
                    guard stemEnd > 0, word[stemEnd - 1] == UInt8(ascii: "s") || word[stemEnd - 1] == UInt8(ascii: "t") else { return }
                }
                if measure() > 1 { word.removeSubrange(stemEnd...) }
                return
            }
        }

        mutating func step5() {
            stemEnd = word.count - 1
            if word.last == UInt8(ascii: "e") {
                let m = measure()
                if m > 1 || (m == 1 && !endsCVC(word.count - 1)) { word.removeLast() }
            }
            stemEnd = word.count
            if word.last == UInt8(ascii: "l") && endsWithDoubleConsonant(word.count) && measure() > 1 { word.removeLast() }
        }
    }
}
