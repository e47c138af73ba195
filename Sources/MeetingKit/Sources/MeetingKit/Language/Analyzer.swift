// The one analyzer: how every module and ingest cut text into words and terms, so that
// the query side and the stored side agree by construction.

import CSnowball
import Foundation

/// The languages the analyzer knows. A word's language is read from its script:
/// Cyrillic words are Russian, other words English, so a Latin name quoted on a
/// Russian page and a Cyrillic one on an English page are each stemmed as their own
/// language. A meeting records its language (`Meeting.language`) for readers.
public enum Language: String, Codable, Sendable, CaseIterable {
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
/// An instance keeps its stemmers and a cache of stems, and is not thread-safe: make one
/// per thread (a module instance is used by one worker thread only).
public final class Analyzer {
    private let stemmers: [OpaquePointer]
    private var stems: [String: String] = [:]
    /// Words are unbounded (names, typos); past this many stems the cache starts over.
    static let stemCacheLimit = 200_000

    public init() {
        stemmers = Language.allCases.map { language in
            guard let stemmer = sb_stemmer_new(language.snowballName, nil) else {
                fatalError("libstemmer has no \(language.snowballName) stemmer")
            }
            return stemmer
        }
    }

    deinit { stemmers.forEach { sb_stemmer_delete($0) } }

    /// Every word of `text`, stop words included.
    public func words(_ text: String) -> [AnalyzedWord] {
        var result: [AnalyzedWord] = []
        forEachWord(text) { bytes, normalized in
            let isStop = StopWords.contains(normalized)
            result.append(AnalyzedWord(bytes: bytes, position: result.count, normalized: normalized,
                                       term: term(normalized), isStopWord: isStop))
        }
        return result
    }

    /// The terms of the words that are not stop words, in order, repeats kept.
    public func terms(_ text: String) -> [String] {
        var result: [String] = []
        forEachWord(text) { _, normalized in
            if !StopWords.contains(normalized) { result.append(term(normalized)) }
        }
        return result
    }

    public func isStopWord(_ normalized: String) -> Bool { StopWords.contains(normalized) }

    /// The stem of a word already folded by `normalize` (or given by `forEachWord`).
    public func term(_ normalized: String) -> String {
        if let known = stems[normalized] { return known }
        let isCyrillic = !normalized.utf8.allSatisfy { $0 < 0x80 } && normalized.unicodeScalars.contains(where: Self.isCyrillic)
        let language: Language = isCyrillic ? .russian : .english
        let stemmer = stemmers[Language.allCases.firstIndex(of: language)!]
        var word = normalized
        let stem = word.withUTF8 { utf8 -> String in
            guard let base = utf8.baseAddress, let output = sb_stemmer_stem(stemmer, base, Int32(utf8.count)) else {
                return normalized
            }
            return String(decoding: UnsafeBufferPointer(start: output, count: Int(sb_stemmer_length(stemmer))), as: UTF8.self)
        }
        if stems.count >= Self.stemCacheLimit { stems.removeAll(keepingCapacity: true) }
        stems[normalized] = stem
        return stem
    }

    /// Calls `body` with each word's UTF-8 byte range in `text` and its folded form.
    public func forEachWord(_ text: String, _ body: (Range<Int>, String) -> Void) {
        var text = text
        text.withUTF8 { utf8 in Self.scan(utf8, body) }
    }

    /// The folded form of one word as a user typed it (the same folding `words` applies).
    public static func normalize<S: StringProtocol>(_ word: S) -> String {
        Array(word.utf8).withUnsafeBufferPointer(fold)
    }

    // MARK: - Scanning

    private static func scan(_ utf8: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>, String) -> Void) {
        var start: Int?
        var asciiOnly = true
        var index = 0
        let count = utf8.count
        func flush(_ end: Int) {
            guard let begin = start else { return }
            start = nil
            let slice = UnsafeBufferPointer(rebasing: utf8[begin..<end])
            body(begin..<end, asciiOnly ? lowercasedASCII(slice) : fold(slice))
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
            for (offset, byte) in bytes.enumerated() {
                buffer[offset] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            }
            return bytes.count
        }
    }

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
