// Edit-distance lookup on a sorted term dictionary, as Lucene's FuzzyQuery and tantivy
// do it: a Levenshtein automaton for the word is run along the sorted terms, and every
// prefix it rejects is skipped with one binary search to the next prefix it could
// accept. A lookup reads the terms near the word (and a binary search per rejected
// branch), not the whole vocabulary.

/// Accepts the texts within `maxDistance` edits of `word`: insertions, deletions,
/// substitutions, and transpositions of neighbours counted as one edit ("teh" is one
/// from "the"; the optimal string alignment distance, which `EditDistance` counts too).
///
/// Its state after reading a text is the last row of the edit-distance table (the
/// distances from each prefix of the word to the text, capped past `maxDistance`), with
/// the row before and the last scalar read, which a transposition needs; a lookup keeps
/// the rows of the text it reads as a stack in one buffer, so reading a scalar allocates nothing.
public struct LevenshteinAutomaton: Sendable {
    public let word: [Unicode.Scalar]
    public let maxDistance: Int
    /// The word's distinct scalars, ascending: once a character the word does not hold
    /// would be rejected, only these can be accepted.
    let wordScalars: [Unicode.Scalar]
    /// Values in a row: one per prefix of the word, the empty one included.
    let width: Int

    public init(_ word: [Unicode.Scalar], maxDistance: Int) {
        self.word = word
        self.maxDistance = maxDistance
        wordScalars = Set(word).sorted { $0.value < $1.value }
        width = word.count + 1
    }

    public init(_ word: String, maxDistance: Int) {
        self.init(Array(word.unicodeScalars), maxDistance: maxDistance)
    }

    /// The rows of the text read so far, first the row of the empty text.
    struct Rows {
        var values: [Int]
        var read: [Unicode.Scalar] = []
        /// A row computed without being pushed, to try a scalar.
        var scratch: [Int]
    }

    func emptyRows() -> Rows {
        Rows(values: (0..<width).map { min($0, maxDistance + 1) }, scratch: [Int](repeating: 0, count: width))
    }

    /// Writes the row after reading `scalar` (nil: one the word does not hold) into `next`,
    /// from the rows of the text read so far; returns whether some value is within `maxDistance`.
    private func row(after scalar: Unicode.Scalar?, _ rows: UnsafeBufferPointer<Int>, read: [Unicode.Scalar],
                     into next: UnsafeMutablePointer<Int>) -> Bool {
        let cap = maxDistance + 1
        let current = rows.baseAddress! + read.count * width
        // A transposition of the last scalar read and this one.
        let before: UnsafePointer<Int>? = read.isEmpty ? nil : current - width
        let last = read.last
        next[0] = min(current[0] + 1, cap)
        var accepts = next[0] <= maxDistance
        var i = 1
        while i < width {
            var value = min(current[i] + 1, next[i - 1] + 1, current[i - 1] + (word[i - 1] == scalar ? 0 : 1))
            if i > 1, let before, word[i - 1] == last, word[i - 2] == scalar { value = min(value, before[i - 2] + 1) }
            next[i] = min(value, cap)
            accepts = accepts || value <= maxDistance
            i += 1
        }
        return accepts
    }

    /// Reads `scalar` onto `rows`, if some continuation can still be accepted (a
    /// transposition cannot revive a rejected text: its cost is never below the row's minimum).
    func push(_ scalar: Unicode.Scalar, onto rows: inout Rows) -> Bool {
        guard canRead(scalar, rows: &rows) else { return false }
        rows.values.append(contentsOf: rows.scratch)
        rows.read.append(scalar)
        return true
    }

    /// Whether `rows` followed by `scalar` (nil: one the word does not hold) can still be accepted; its row is left in `scratch`.
    func canRead(_ scalar: Unicode.Scalar?, rows: inout Rows) -> Bool {
        var next: [Int] = []
        swap(&next, &rows.scratch)
        defer { swap(&next, &rows.scratch) }
        return rows.values.withUnsafeBufferPointer { values in
            next.withUnsafeMutableBufferPointer { row(after: scalar, values, read: rows.read, into: $0.baseAddress!) }
        }
    }

    /// Goes back to the first `count` scalars read.
    func pop(_ rows: inout Rows, to count: Int) {
        rows.values.removeLast((rows.read.count - count) * width)
        rows.read.removeLast(rows.read.count - count)
    }

    /// The distance of the text read so far, if it is within `maxDistance`.
    func distance(_ rows: Rows) -> Int? {
        let value = rows.values[rows.values.count - 1]
        return value <= maxDistance ? value : nil
    }

    /// The distance from the word to `text`, if within `maxDistance`.
    public func distance(to text: some Sequence<Unicode.Scalar>) -> Int? {
        var rows = emptyRows()
        for scalar in text {
            guard push(scalar, onto: &rows) else { return nil }
        }
        return distance(rows)
    }

    /// The smallest scalar above `scalar` that `rows` can read and still accept something.
    func smallestAcceptable(from rows: inout Rows, above scalar: Unicode.Scalar) -> Unicode.Scalar? {
        // A character the word holds never costs more than one it does not, so when those
        // are acceptable every character is.
        if canRead(nil, rows: &rows) { return Self.successor(of: scalar) }
        return wordScalars.first { $0.value > scalar.value && canRead($0, rows: &rows) }
    }

    static func successor(of scalar: Unicode.Scalar) -> Unicode.Scalar? {
        var value = scalar.value + 1
        if value == 0xD800 { value = 0xE000 }  // surrogates are not scalars
        return Unicode.Scalar(value)
    }
}

/// A dictionary of distinct terms sorted by their UTF-8 bytes, which is the order of
/// their Unicode scalars.
public protocol SortedTermDictionary {
    var termCount: Int { get }
    func termScalars(at index: Int) -> [Unicode.Scalar]
    /// The index of the first term not ordered before `scalars` (`termCount` if none).
    func firstTermIndex(notBefore scalars: [Unicode.Scalar]) -> Int
}

extension LevenshteinAutomaton {
    /// The dictionary indexes of the terms within `maxDistance` of the word, ascending,
    /// with their distances; with `prefix`, only among the terms that start with it.
    public func matches(in dictionary: some SortedTermDictionary,
                        startingWith prefix: [Unicode.Scalar] = []) -> [(index: Int, distance: Int)] {
        var found: [(index: Int, distance: Int)] = []
        var rows = emptyRows()
        for scalar in prefix {
            guard push(scalar, onto: &rows) else { return [] }
        }
        var index = dictionary.firstTermIndex(notBefore: prefix)
        while index < dictionary.termCount {
            let term = dictionary.termScalars(at: index)
            guard term.starts(with: prefix) else { break }
            // The rows of the prefix this term shares with the text read are kept.
            var shared = prefix.count
            while shared < min(term.count, rows.read.count), term[shared] == rows.read[shared] { shared += 1 }
            pop(&rows, to: shared)
            var rejectedAt: Int?
            for k in shared..<term.count {
                guard push(term[k], onto: &rows) else { rejectedAt = k; break }
            }
            guard let rejectedAt else {
                if let distance = distance(rows) { found.append((index, distance)) }
                index += 1
                continue
            }
            // Every term starting with term[...rejectedAt] is rejected too: seek to the
            // smallest prefix that is not, backing up a scalar while there is none.
            var depth = rejectedAt
            var next: [Unicode.Scalar]?
            while next == nil {
                if let scalar = smallestAcceptable(from: &rows, above: term[depth]) {
                    next = Array(term[0..<depth]) + [scalar]
                } else if depth == prefix.count {
                    return found
                } else {
                    depth -= 1
                    pop(&rows, to: depth)
                }
            }
            index = max(index + 1, dictionary.firstTermIndex(notBefore: next!))
        }
        return found
    }
}
