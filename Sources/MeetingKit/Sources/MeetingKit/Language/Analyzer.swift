// The one analyzer: how every module and ingest cut text into words and terms, so that
// the query side and the stored side agree by construction.

import CSnowball
import Foundation

/// The languages the analyzer knows. A word's language is read from its script:
/// Cyrillic words are Russian, other words English, so a Latin name quoted on a
/// Russian page and a Cyrillic one on an English page are each stemmed as their own
/// language. A meeting records its language (`Meeting.language`) for readers.
public enum Language: String, Encodable, Sendable, CaseIterable {
    case english = "en"
    case russian = "ru"

    /// The language most of the text's letters are written in.
    public static func detect(in text: String) -> Language {
        var cyrillic = 0, latin = 0
        for scalar in text.unicodeScalars {
            if Analyzer.isCyrillic(scalar) {
                cyrillic += 1
            } else if scalar.isASCII ? (scalar.value | 0x20) >= 0x61 && (scalar.value | 0x20) <= 0x7A : scalar.properties.isAlphabetic {
                latin += 1
            }
        }
        return cyrillic > latin ? .russian : .english
    }

    var snowballName: String {
        switch self {
        case .english: "english"
        case .russian: "russian"
        }
    }
}

/// One word of a text as the analyzer reads it.
public struct AnalyzedWord: Equatable, Sendable {
    /// UTF-8 byte offsets of the word in the text given to the analyzer.
    public let bytes: Range<Int>
    /// Its ordinal among the text's words, stop words included (for phrases).
    public let position: Int
    /// Lower case, diacritics and apostrophes folded: "Café" is "cafe", "O’Regan" is "o'regan".
    public let normalized: String
    /// The Snowball stem of `normalized`, in the word's own language.
    public let term: String
    public let isStopWord: Bool
}

/// Values for numbers (an analyzer's form or term numbers), emptied at once: an entry holds
/// while its stamp is the current one. Grouping a text's words by number with it hashes nothing.
struct NumberedSlots {
    private var values: [Int32] = []
    private var stamps: [UInt32] = []
    private var stamp: UInt32 = 1
    /// The numbers that have a value, in the order they got it.
    private(set) var numbers: [Int32] = []

    func value(of number: Int32) -> Int32? {
        let index = Int(number)
        return index < stamps.count && stamps[index] == stamp ? values[index] : nil
    }

    mutating func set(_ number: Int32, to value: Int32) {
        let index = Int(number)
        if index >= stamps.count {
            let count = max(index + 1, 2 * stamps.count)
            values += repeatElement(0, count: count - values.count)
            stamps += repeatElement(0, count: count - stamps.count)
        }
        if stamps[index] != stamp {
            stamps[index] = stamp
            numbers.append(number)
        }
        values[index] = value
    }

    mutating func removeAll() {
        numbers.removeAll(keepingCapacity: true)
        stamp &+= 1
        if stamp == 0 {
            // Once in four billion emptyings, old stamps could be taken for current.
            stamps = [UInt32](repeating: 0, count: stamps.count)
            stamp = 1
        }
    }
}

/// What `CorpusIndex.Document` uses between turns, kept by the analyzer (`Analyzer.documentScratch`)
/// so that a turn allocates only what its document keeps.
struct IndexDocumentScratch {
    /// A slot per distinct term of the turn, in order of first use.
    var slotOfTerm = NumberedSlots()
    var slotWordCounts: [Int] = []
    /// Whether the slot's term was handed to `eachStatisticTerm`.
    var slotCounted: [Bool] = []
    /// Each word's slot, in order.
    var wordSlots: [Int32] = []
    /// The turn's distinct forms, each with its term's slot.
    var formsMet = NumberedSlots()

    mutating func removeAll() {
        slotOfTerm.removeAll()
        slotWordCounts.removeAll(keepingCapacity: true)
        slotCounted.removeAll(keepingCapacity: true)
        wordSlots.removeAll(keepingCapacity: true)
        formsMet.removeAll()
    }
}

/// An analyzer's forms (folded words) by their bytes, each with its numbers: an open-addressing
/// table, so that numbering a word met before hashes and compares bytes and makes no String.
/// A form's number is its place in the table (forms are numbered in the order they are added).
struct FormTable {
    /// Per slot: the high half of its form's hash, then the form's number + 1 (0: the slot is empty).
    /// At most half the slots are used.
    private var slots = [UInt64](repeating: 0, count: 1024)
    /// The forms' folded bytes one after another; a form's bytes end at `ends[number]`.
    private var bytes: [UInt8] = []
    private var ends: [Int] = []
    private var words: [Analyzer.NumberedWord] = []
    /// Keys the hash, drawn per process by Swift's own hashing (fixed under SWIFT_DETERMINISTIC_HASHING),
    /// so that which words collide differs from process to process, as with Swift's own tables.
    private let key: UInt64 = {
        var hasher = Hasher()
        hasher.combine(UInt8(0))
        return UInt64(UInt(bitPattern: hasher.finalize()))
    }()

    /// A form's hash, a byte at a time, so that an ASCII word is lowercased and hashed in one pass.
    struct Hash {
        private var state: UInt64
        private var chunk: UInt64 = 0
        private var count = 0

        fileprivate init(key: UInt64) { state = key }

        @inline(__always)
        mutating func add(_ byte: UInt8) {
            chunk |= UInt64(byte) << (UInt64(count & 7) &* 8)
            count &+= 1
            if count & 7 == 0 {
                state = Self.mix(state ^ chunk)
                chunk = 0
            }
        }

        @inline(__always)
        func finish() -> UInt64 { Self.mix(Self.mix(state ^ chunk) ^ UInt64(count)) }

        /// A folded multiply (the high and low halves of the 128-bit product xored), as aHash uses.
        @inline(__always)
        private static func mix(_ value: UInt64) -> UInt64 {
            let product = value.multipliedFullWidth(by: 0x5851_F42D_4C95_7F2D)
            return product.high ^ product.low
        }
    }

    func startHash() -> Hash { Hash(key: key) }

    func hash(_ folded: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash = startHash()
        for byte in folded { hash.add(byte) }
        return hash.finish()
    }

    func word(_ folded: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Analyzer.NumberedWord? {
        let tag = hash >> 32, mask = slots.count - 1
        var index = Int(truncatingIfNeeded: tag) & mask
        while true {
            let slot = slots[index]
            if slot == 0 { return nil }
            if slot >> 32 == tag {
                let number = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1
                if hasBytes(number, folded) { return words[number] }
            }
            index = (index + 1) & mask
        }
    }

    /// Adds a form not in the table: its number is the count of forms before it.
    mutating func add(_ folded: UnsafeBufferPointer<UInt8>, hash: UInt64, _ word: Analyzer.NumberedWord) {
        if 2 * (words.count + 1) > slots.count {
            let old = slots
            slots = [UInt64](repeating: 0, count: 2 * old.count)
            for slot in old where slot != 0 { place(slot) }
        }
        bytes.append(contentsOf: folded)
        ends.append(bytes.count)
        words.append(word)
        place(hash & 0xFFFF_FFFF_0000_0000 | UInt64(words.count))
    }

    mutating func removeAll() {
        slots = [UInt64](repeating: 0, count: slots.count)
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        words.removeAll(keepingCapacity: true)
    }

    private mutating func place(_ slot: UInt64) {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: slot >> 32) & mask
        while slots[index] != 0 { index = (index + 1) & mask }
        slots[index] = slot
    }

    private func hasBytes(_ number: Int, _ folded: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = number == 0 ? 0 : ends[number - 1]
        guard ends[number] - start == folded.count else { return false }
        return folded.isEmpty || bytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + start, folded.baseAddress!, folded.count) == 0 }
    }
}

/// Cuts text into words, folds them and stems them with Snowball (libstemmer).
///
/// - A word is a run of letters, digits and combining marks; an apostrophe between two
///   letters belongs to the word ("don't", "O'Regan"); everything else separates words
///   (hyphens too: "front-end" is two words).
/// - Folding: lower case; `’`, `ʼ` and `‘` become `'`; Latin letters lose their diacritics
///   ("naïve" is "naive"); Cyrillic keeps its letters ("й" stays) but "ё" is "е" and stress
///   marks go, as Russian is written both ways.
/// - Terms: the Snowball stemmer of the word's language ("english" is Porter2, "russian").
///
/// An instance keeps its stemmers and a vocabulary of the folded words it has met, and is
/// not thread-safe: make one per thread (a module instance is used by one worker thread only).
public final class Analyzer {
    private let stemmers: [OpaquePointer]
    /// The vocabulary: each folded word met so far (a form) by number, with the number of its
    /// term and whether it is a stop word, and the terms by number. A word's folded bytes are
    /// hashed once per occurrence and a form stemmed once; ingest groups a turn's words by these
    /// numbers alone (`indexWordNumbers`), with no string hashed again (it was four hashes a word).
    /// Held through a pointer: a stored `var` of a class is checked for exclusive access at each
    /// use (`swift_beginAccess`), which per word cost more than the rest of a lookup.
    private let formTable: UnsafeMutablePointer<FormTable> = {
        let table = UnsafeMutablePointer<FormTable>.allocate(capacity: 1)
        table.initialize(to: FormTable())
        return table
    }()
    private(set) var forms: [String] = []
    private var termNumbers: [String: Int32] = [:]
    private(set) var termsByNumber: [String] = []
    /// Words are unbounded (names, typos); past this many forms, or terms (`termNumbers(of:)`
    /// numbers terms no word has met, such as the many a prefix covers), the vocabulary starts over.
    private let vocabularyLimit: Int
    /// Kept here between turns for `CorpusIndex.Document`, which groups a turn's words by
    /// number, and for the turn counts of a meeting's terms: no allocation per turn.
    var documentScratch = IndexDocumentScratch(), meetingTermCounts = NumberedSlots()
    /// Where an ASCII word is lowercased to be numbered, so that a word met before makes no String
    /// (a longer word makes one).
    private let asciiWord = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 64)

    /// A word as the vocabulary numbers it: one lookup gives all three.
    struct NumberedWord {
        let form: Int32
        let term: Int32
        let isStopWord: Bool
    }

    public convenience init() { self.init(vocabularyLimit: 200_000) }

    init(vocabularyLimit: Int) {
        self.vocabularyLimit = vocabularyLimit
        stemmers = Language.allCases.map { language in
            guard let stemmer = sb_stemmer_new(language.snowballName, nil) else {
                fatalError("libstemmer has no \(language.snowballName) stemmer")
            }
            return stemmer
        }
    }

    deinit {
        stemmers.forEach { sb_stemmer_delete($0) }
        asciiWord.deallocate()
        formTable.deinitialize(count: 1)
        formTable.deallocate()
    }

    /// Every word of `text`, stop words included.
    public func words(_ text: String) -> [AnalyzedWord] {
        startOverIfFull()
        var result: [AnalyzedWord] = []
        forEachNumberedWord(text) { bytes, word in
            result.append(AnalyzedWord(bytes: bytes, position: result.count, normalized: forms[Int(word.form)],
                                       term: termsByNumber[Int(word.term)], isStopWord: word.isStopWord))
        }
        return result
    }

    /// The terms of the words that are not stop words, in order, repeats kept.
    public func terms(_ text: String) -> [String] {
        startOverIfFull()
        var result: [String] = []
        forEachNumberedWord(text) { _, word in
            if !word.isStopWord { result.append(termsByNumber[Int(word.term)]) }
        }
        return result
    }

    public func isStopWord(_ normalized: String) -> Bool { StopWords.contains(normalized) }

    /// The stem of a word already folded by `normalize` (or given by `forEachWord`).
    public func term(_ normalized: String) -> String {
        startOverIfFull()
        return termsByNumber[Int(number(normalized).term)]
    }

    /// The numbers of `terms` (stems), numbering those no word met so far has: a caller that
    /// looks for these terms in text compares each word's term number (`forEachWordTerm`)
    /// instead of hashing its stem a second time. The numbers hold until the next call of
    /// `words`, `terms`, `term` or this, which may start the vocabulary over.
    public func termNumbers(of terms: some Sequence<String>) -> [Int32] {
        startOverIfFull()
        return terms.map { term in
            if let known = termNumbers[term] { return known }
            let number = Int32(termsByNumber.count)
            termNumbers[term] = number
            termsByNumber.append(term)
            return number
        }
    }

    /// Calls `body` with each word's UTF-8 byte range in `text` and its term's number, which
    /// compares with those `termNumbers(of:)` gave (this never starts the vocabulary over).
    public func forEachWordTerm(_ text: String, _ body: (Range<Int>, Int32) -> Void) {
        forEachNumberedWord(text) { bytes, word in body(bytes, word.term) }
    }

    /// Calls `body` with the numbers of each word of `text`, in order. They index `forms`
    /// and `termsByNumber` until the vocabulary starts over, which happens only in
    /// `startOverIfFull` (callers call it where they hold no number).
    func indexWordNumbers(_ text: String, _ body: (NumberedWord) -> Void) {
        forEachNumberedWord(text) { _, word in body(word) }
    }

    /// Empties a full vocabulary: form and term numbers handed out before are void. The
    /// slots by number need no emptying: their users empty them after each use.
    func startOverIfFull() {
        guard forms.count >= vocabularyLimit || termsByNumber.count >= vocabularyLimit else { return }
        formTable.pointee.removeAll()
        forms.removeAll(keepingCapacity: true)
        termNumbers.removeAll(keepingCapacity: true)
        termsByNumber.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with each word's UTF-8 byte range in `text` and its numbers. A word is numbered
    /// by its folded bytes: a String is made only for a form not met before, or a word not of ASCII.
    private func forEachNumberedWord(_ text: String, _ body: (Range<Int>, NumberedWord) -> Void) {
        var text = text
        text.withUTF8 { utf8 in
            Self.scan(utf8) { bytes, asciiOnly in
                let written = UnsafeBufferPointer(rebasing: utf8[bytes])
                body(bytes, asciiOnly ? numberASCII(written) : number(Self.fold(written)))
            }
        }
    }

    private func numberASCII(_ written: UnsafeBufferPointer<UInt8>) -> NumberedWord {
        guard written.count <= asciiWord.count else { return number(Self.lowercasedASCII(written)) }
        var hash = formTable.pointee.startHash()
        for (offset, byte) in written.enumerated() {
            let lower = Self.lowercasedASCII(byte)
            asciiWord[offset] = lower
            hash.add(lower)
        }
        let folded = UnsafeBufferPointer(rebasing: asciiWord[..<written.count])
        return number(folded: folded, hash: hash.finish()) { String(decoding: folded, as: UTF8.self) }
    }

    private func number(_ normalized: String) -> NumberedWord {
        var text = normalized
        return text.withUTF8 { folded in number(folded: folded, hash: formTable.pointee.hash(folded)) { normalized } }
    }

    /// The numbers of the form `folded`, whose String `normalized` makes if the form is new.
    private func number(folded: UnsafeBufferPointer<UInt8>, hash: UInt64, _ normalized: () -> String) -> NumberedWord {
        if let known = formTable.pointee.word(folded, hash: hash) { return known }
        let normalized = normalized()
        let stem = stem(normalized)
        let term: Int32
        if let known = termNumbers[stem] {
            term = known
        } else {
            term = Int32(termsByNumber.count)
            termNumbers[stem] = term
            termsByNumber.append(stem)
        }
        let word = NumberedWord(form: Int32(forms.count), term: term, isStopWord: StopWords.contains(normalized))
        formTable.pointee.add(folded, hash: hash, word)
        forms.append(normalized)
        return word
    }

    private func stem(_ normalized: String) -> String {
        let isCyrillic = !normalized.utf8.allSatisfy { $0 < 0x80 } && normalized.unicodeScalars.contains(where: Self.isCyrillic)
        let language: Language = isCyrillic ? .russian : .english
        let stemmer = stemmers[Language.allCases.firstIndex(of: language)!]
        var word = normalized
        return word.withUTF8 { utf8 -> String in
            guard let base = utf8.baseAddress, let output = sb_stemmer_stem(stemmer, base, Int32(utf8.count)) else {
                return normalized
            }
            return String(decoding: UnsafeBufferPointer(start: output, count: Int(sb_stemmer_length(stemmer))), as: UTF8.self)
        }
    }

    /// Calls `body` with each word's UTF-8 byte range in `text` and its folded form.
    public func forEachWord(_ text: String, _ body: (Range<Int>, String) -> Void) {
        var text = text
        text.withUTF8 { utf8 in
            Self.scan(utf8) { bytes, asciiOnly in
                let written = UnsafeBufferPointer(rebasing: utf8[bytes])
                body(bytes, asciiOnly ? Self.lowercasedASCII(written) : Self.fold(written))
            }
        }
    }

    /// The folded form of one word as a user typed it (the same folding `words` applies).
    public static func normalize<S: StringProtocol>(_ word: S) -> String {
        Array(word.utf8).withUnsafeBufferPointer(fold)
    }

    // MARK: - Scanning

    /// Calls `body` with each word's UTF-8 byte range in `utf8` and whether the word is all ASCII.
    private static func scan(_ utf8: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>, Bool) -> Void) {
        var start: Int?
        var asciiOnly = true
        var index = 0
        let count = utf8.count
        func flush(_ end: Int) {
            guard let begin = start else { return }
            start = nil
            body(begin..<end, asciiOnly)
            asciiOnly = true
        }
        while index < count {
            let byte = utf8[index]
            if byte < 0x80 {
                if isASCIIWordByte(byte) {
                    if start == nil { start = index }
                } else if byte == UInt8(ascii: "'"), start != nil, index + 1 < count, startsLetter(utf8, at: index + 1) {
                    // An apostrophe inside a word.
                } else {
                    flush(index)
                }
                index += 1
                continue
            }
            let (scalar, length) = decode(utf8, at: index)
            if isWordScalar(scalar, inWord: start != nil) {
                if start == nil { start = index }
                asciiOnly = false
            } else if isApostrophe(scalar), start != nil, index + length < count, startsLetter(utf8, at: index + length) {
                asciiOnly = false
            } else {
                flush(index)
            }
            index += length
        }
        flush(count)
    }

    @inline(__always)
    private static func isASCIIWordByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
    }

    private static func isWordScalar(_ scalar: Unicode.Scalar, inWord: Bool) -> Bool {
        let properties = scalar.properties
        if properties.isAlphabetic || properties.numericType != nil { return true }
        // Combining marks belong to the letter before them.
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return inWord
        default: return false
        }
    }

    private static func isApostrophe(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "'" || scalar == "\u{2019}" || scalar == "\u{02BC}" || scalar == "\u{2018}"
    }

    private static func startsLetter(_ utf8: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        let byte = utf8[index]
        if byte < 0x80 { return (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
        return decode(utf8, at: index).scalar.properties.isAlphabetic
    }

    static func isCyrillic(_ scalar: Unicode.Scalar) -> Bool {
        (0x0400...0x052F).contains(scalar.value)
    }

    /// The scalar starting at `index` of valid UTF-8 (Swift strings are), and its length.
    @inline(__always)
    private static func decode(_ utf8: UnsafeBufferPointer<UInt8>, at index: Int) -> (scalar: Unicode.Scalar, length: Int) {
        let lead = utf8[index]
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        guard index + length <= utf8.count else { return ("\u{FFFD}", 1) }
        var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        for offset in 1..<length { value = value << 6 | UInt32(utf8[index + offset] & 0x3F) }
        return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
    }

    private static func lowercasedASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { buffer in
            for (offset, byte) in bytes.enumerated() { buffer[offset] = lowercasedASCII(byte) }
            return bytes.count
        }
    }

    @inline(__always)
    private static func lowercasedASCII(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

    // MARK: - Folding

    private static func fold(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let word = String(decoding: bytes, as: UTF8.self)
        if bytes.allSatisfy({ $0 < 0x80 }) { return lowercasedASCII(bytes) }
        var folded = String.UnicodeScalarView()
        // Composed first, so that "и" with a combining breve is "й" and keeps its breve.
        for scalar in word.precomposedStringWithCanonicalMapping.unicodeScalars {
            if isApostrophe(scalar) {
                folded.append("'")
            } else if isCyrillic(scalar) {
                for lower in scalar.properties.lowercaseMapping.unicodeScalars {
                    folded.append(lower == "ё" ? "е" : lower)
                }
            } else if scalar.isASCII {
                folded.append(scalar.value >= 0x41 && scalar.value <= 0x5A ? Unicode.Scalar(scalar.value | 0x20)! : scalar)
            } else {
                for part in String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars where !isMark(part) {
                    folded.append(contentsOf: part.properties.lowercaseMapping.unicodeScalars)
                }
            }
        }
        return String(folded)
    }

    private static func isMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }
}
