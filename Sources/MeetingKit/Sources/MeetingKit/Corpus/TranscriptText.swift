import Foundation

/// Text rules shared by ingest and by the modules, so that what is indexed,
/// counted and cited is computed one way.
public enum TranscriptText {
    /// Transcription marks of the QMSum/ICSI/AMI transcripts. They stay in the
    /// stored text but are left out of the index, the word counts and summaries.
    /// The search index is built from text without them (`CorpusIndex`), so changing
    /// the list needs a migration that rebuilds the index. Benchmarks/search/bare_fts5.py
    /// reads this literal list.
    public static let marks = ["{disfmarker}", "{vocalsound}", "{pause}", "{comment}", "{gap}", "{nonvocalsound}"]

    /// `text` with the transcription marks removed (whitespace left as it was): mark by
    /// mark, over UTF-8 bytes, with no Unicode equivalence, byte for byte what SQLite's
    /// nested `replace()` gives (`CorpusSchema.strippingMarksSQL`).
    public static func strippingMarks(_ text: String) -> String {
        guard holdsBrace(text) else { return text }
        var bytes = Array(text.utf8)
        var count = bytes.count
        // Each pass compacts the bytes in place (kept bytes go behind the one read): one
        // buffer for all marks, as a buffer per mark cost ingest a tenth of its analysis.
        bytes.withUnsafeMutableBufferPointer { buffer in
            for mark in markBytes {
                var read = 0, kept = 0
                while read < count {
                    if buffer[read] == UInt8(ascii: "{"), read + mark.count <= count,
                       memcmp(buffer.baseAddress! + read, mark, mark.count) == 0 {
                        read += mark.count
                    } else {
                        buffer[kept] = buffer[read]
                        kept += 1
                        read += 1
                    }
                }
                count = kept
            }
        }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }

    /// Whether `text` holds a "{", which every mark starts with: read in place with `memchr`, as the
    /// generic scan of `String.UTF8View` was 2% of a rare word's search (a hit's turn each).
    private static func holdsBrace(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.count > 0 && memchr(bytes.baseAddress!, Int32(UInt8(ascii: "{")), bytes.count) != nil
        } ?? text.utf8.contains(UInt8(ascii: "{"))
    }

    /// Every mark starts with "{".
    private static let markBytes = marks.map { Array($0.utf8) }

    /// Words as the reader sees them: runs of letters and digits, marks excluded.
    public static func wordCount(_ text: String) -> Int {
        // ASCII text (most turns) is read a byte a scalar: decoding UTF-8 cost more than the count.
        let ascii = text.utf8.withContiguousStorageIfAvailable { bytes in
            isASCII(bytes) ? wordCount(ofScalars: bytes.lazy.map(Unicode.Scalar.init)) : nil
        }
        return (ascii ?? nil) ?? wordCount(ofScalars: text.unicodeScalars)
    }

    private static func wordCount(ofScalars scalars: some Sequence<Unicode.Scalar>) -> Int {
        var count = 0
        var inWord = false
        var inMark = false
        for scalar in scalars {
            if scalar == "{" { inMark = true; inWord = false; continue }
            if inMark { if scalar == "}" { inMark = false }; continue }
            let isWordScalar = scalar.isASCII
                ? (scalar.value >= 0x30 && scalar.value <= 0x39) || ((scalar.value | 0x20) >= 0x61 && (scalar.value | 0x20) <= 0x7A)
                : scalar.properties.isAlphabetic || scalar.properties.numericType != nil
            if isWordScalar && !inWord { count += 1 }
            inWord = isWordScalar || (inWord && (scalar == "'" || scalar == "’" || scalar == "-"))
        }
        return count
    }

    /// A text's scalars; ASCII text (most turns) a byte each, with no UTF-8 to decode.
    static func scalarArray(of text: String) -> [Unicode.Scalar] {
        let ascii = text.utf8.withContiguousStorageIfAvailable { bytes in
            isASCII(bytes) ? bytes.map(Unicode.Scalar.init) : nil
        }
        return (ascii ?? nil) ?? Array(text.unicodeScalars)
    }

    private static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        // One OR over all bytes, which the compiler vectorises, rather than a test per byte.
        var any: UInt8 = 0
        for byte in bytes { any |= byte }
        return any < 0x80
    }

    /// A sentence of a turn: offsets count Unicode scalars (code points, as SQLite's
    /// `substr` and Python's `str` do) into `Turn.text`; `end` is exclusive.
    public struct SentenceSpan: Equatable, Sendable {
        public var start: Int
        public var end: Int
        public init(start: Int, end: Int) { self.start = start; self.end = end }
    }

    /// Sentence spans as stored in `turn.sentences`: per sentence, the gap since the
    /// previous sentence's end and the sentence's length, as LEB128 varints (2 bytes a
    /// sentence, typically).
    public static func encodeSentences(_ spans: [SentenceSpan]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(spans.count * 2)
        func append(_ value: Int) {
            var rest = UInt(value)
            while rest >= 0x80 {
                bytes.append(UInt8(rest & 0x7F) | 0x80)
                rest >>= 7
            }
            bytes.append(UInt8(rest))
        }
        var previousEnd = 0
        for span in spans {
            append(span.start - previousEnd)
            append(span.end - span.start)
            previousEnd = span.end
        }
        return bytes
    }

    public static func decodeSentences<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [SentenceSpan] {
        var spans: [SentenceSpan] = []
        var iterator = bytes.makeIterator()
        func next() -> Int? {
            var value = 0, shift = 0
            while let byte = iterator.next() {
                value |= Int(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }
        var previousEnd = 0
        while let gap = next(), let length = next() {
            let start = previousEnd + gap
            spans.append(SentenceSpan(start: start, end: start + length))
            previousEnd = start + length
        }
        return spans
    }
}

/// How person names are compared: case, diacritics, dots and spacing folded,
/// so "Berdimuhamedov" and "BERDIMUHAMEDOV", or "Mr. Putin" and "Mr Putin", meet.
public enum PersonName {
    public static func key(_ name: String) -> String {
        let folded = name.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        var key = ""
        key.reserveCapacity(folded.utf8.count)
        var pendingSpace = false
        for character in folded {
            if character == "." || character == "," { pendingSpace = true; continue }
            if character.isWhitespace { pendingSpace = true; continue }
            if pendingSpace, !key.isEmpty { key.append(" ") }
            pendingSpace = false
            key.append(character == "’" ? "'" : character)
        }
        return key
    }

    /// The person's own name in a speaker label: without a role in brackets, a courtesy
    /// title before it or letters after it, so that "Hon. Navdeep Bains (Minister of
    /// Industry)" is "Navdeep Bains" and "Kirsty Williams AM" is "Kirsty Williams".
    /// Role labels ("Industrial Designer", "Professor C") are left as they are.
    public static func plainName(_ name: String) -> String {
        var words = name.prefix { $0 != "(" }.split(whereSeparator: \.isWhitespace)
        while words.count > 1, courtesyTitles.contains(key(String(words[0]))) { words.removeFirst() }
        while words.count > 1, postNominals.contains(String(words[words.count - 1])) { words.removeLast() }
        return words.joined(separator: " ")
    }

    /// The names a person is also found by: the plain name and its last word (the surname).
    public static func aliases(of name: String) -> [String] {
        let plain = plainName(name)
        var aliases = plain == name || plain.isEmpty ? [] : [plain]
        let words = plain.split(separator: " ")
        if words.count > 1, let surname = words.last { aliases.append(String(surname)) }
        return aliases
    }

    /// The role in a label's brackets, "Minister of Natural Resources" in "Hon. Seamus O'Regan
    /// (Minister of Natural Resources)"; nil for other brackets (a riding and party).
    public static func bracketedRole(_ label: String) -> String? {
        guard let open = label.lastIndex(of: "("), let close = label.lastIndex(of: ")"), open < close else { return nil }
        let inside = label[label.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
        guard let head = inside.split(separator: " ").first, roleHeads.contains(key(String(head))) else { return nil }
        return inside
    }

    /// First words of a role: a bracket that starts with one names a role.
    static let roleHeads: Set<String> = [
        "minister", "president", "prime", "deputy", "vice", "acting", "chair", "chairman", "chairwoman", "chairperson",
        "secretary", "speaker", "leader", "parliamentary", "associate", "assistant", "director", "commissioner", "clerk",
        "member", "governor", "mayor", "ambassador", "head", "chief", "counsel", "auditor", "advisor", "adviser",
    ]

    /// Compared word by word, so "Right Hon." and "Rt Hon" go as two words.
    static let courtesyTitles: Set<String> = ["right", "rt", "hon", "mr", "mrs", "ms", "miss", "mx", "dr", "sir", "dame"]
    /// Written in capitals, as labels have them: "AM" after a name, not "am".
    static let postNominals: Set<String> = ["AM", "MS", "MP", "MSP", "MLA", "MEP", "TD", "QC", "KC", "OBE", "CBE", "MBE", "KBE", "DBE", "PC"]
}
