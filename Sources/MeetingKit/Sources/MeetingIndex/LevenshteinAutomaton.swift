// Edit-distance lookup on a sorted term dictionary, as Lucene's FuzzyQuery and tantivy
// do it: a Levenshtein automaton for the word is run along the sorted terms, and every
// prefix it rejects is skipped with one binary search to the next prefix it could
// accept. A lookup reads the terms near the word (and a binary search per rejected
// branch), not the whole vocabulary.

/// Accepts the texts within `maxDistance` edits of `word`: insertions, deletions,
/// substitutions, and transpositions of neighbours counted as one edit ("teh" is one
/// from "the"; the optimal string alignment distance, which `EditDistance` counts too).
public struct LevenshteinAutomaton: Sendable {
    public let word: [Unicode.Scalar]
    public let maxDistance: Int
    /// The word's distinct scalars, ascending: once a character the word does not hold
    /// would be rejected, only these can be accepted.
    let wordScalars: [Unicode.Scalar]

    /// After reading a text: the edit distances from each prefix of the word to it (the
    /// last row of the edit-distance table, values past `maxDistance` capped), with the
    /// row before and the last scalar read, which a transposition needs.
    public struct State: Sendable {
        var row: [Int]
        var previousRow: [Int]
        var last: Unicode.Scalar?
    }

    public init(_ word: [Unicode.Scalar], maxDistance: Int) {
        self.word = word
        self.maxDistance = maxDistance
        wordScalars = Set(word).sorted { $0.value < $1.value }
    }

    public init(_ word: String, maxDistance: Int) {
        self.init(Array(word.unicodeScalars), maxDistance: maxDistance)
    }

    /// Before any text is read.
    public var start: State {
        let row = (0...word.count).map { min($0, maxDistance + 1) }
        return State(row: row, previousRow: row, last: nil)
    }

    /// The state after `state` reads `scalar`; nil stands for a scalar the word does not hold.
    public func step(_ state: State, _ scalar: Unicode.Scalar?) -> State {
        let cap = maxDistance + 1
        var row = [Int](repeating: cap, count: word.count + 1)
        row[0] = min(state.row[0] + 1, cap)
        for i in stride(from: 1, through: word.count, by: 1) {
            let cost = word[i - 1] == scalar ? 0 : 1
            var value = min(state.row[i] + 1, row[i - 1] + 1, state.row[i - 1] + cost)
            if i > 1, let last = state.last, word[i - 1] == last, word[i - 2] == scalar {
                value = min(value, state.previousRow[i - 2] + 1)
            }
            row[i] = min(value, cap)
        }
        return State(row: row, previousRow: state.row, last: scalar)
    }

    /// Whether some continuation of the text read so far may still be accepted. (A
    /// transposition cannot revive a dead state: its cost is never below the row's minimum.)
    public func canAccept(_ state: State) -> Bool {
        state.row.contains { $0 <= maxDistance }
    }

    /// The distance of the text read so far, if it is within `maxDistance`.
    public func distance(_ state: State) -> Int? {
        state.row[word.count] <= maxDistance ? state.row[word.count] : nil
    }

    /// The distance from the word to `text`, if within `maxDistance`.
    public func distance(to text: some Sequence<Unicode.Scalar>) -> Int? {
        var state = start
        for scalar in text {
            state = step(state, scalar)
            guard canAccept(state) else { return nil }
        }
        return distance(state)
    }

    /// The smallest scalar above `scalar` that `state` can read and still accept something.
    func smallestAcceptable(from state: State, above scalar: Unicode.Scalar) -> Unicode.Scalar? {
        // A character the word holds never costs more than one it does not, so when those
        // are acceptable every character is.
        if canAccept(step(state, nil)) { return Self.successor(of: scalar) }
        return wordScalars.first { $0.value > scalar.value && canAccept(step(state, $0)) }
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
        // states[k] is the state after reading the first k scalars of `read`.
        var states = [start]
        for scalar in prefix {
            states.append(step(states[states.count - 1], scalar))
            guard canAccept(states[states.count - 1]) else { return [] }
        }
        var read = prefix
        var index = dictionary.firstTermIndex(notBefore: prefix)
        while index < dictionary.termCount {
            let term = dictionary.termScalars(at: index)
            guard term.starts(with: prefix) else { break }
            // The states of the prefix this term shares with the last one are kept.
            var shared = prefix.count
            while shared < min(term.count, read.count), term[shared] == read[shared] { shared += 1 }
            states.removeSubrange((shared + 1)...)
            var rejectedAt: Int?
            for k in shared..<term.count {
                let next = step(states[k], term[k])
                guard canAccept(next) else { rejectedAt = k; break }
                states.append(next)
            }
            guard let rejectedAt else {
                read = term
                if let distance = distance(states[term.count]) { found.append((index, distance)) }
                index += 1
                continue
            }
            read = Array(term[0..<rejectedAt])
            // Every term starting with term[...rejectedAt] is rejected too: seek to the
            // smallest prefix that is not, backing up a scalar while there is none.
            var depth = rejectedAt
            var next: [Unicode.Scalar]?
            while next == nil {
                if let scalar = smallestAcceptable(from: states[depth], above: term[depth]) {
                    next = Array(term[0..<depth]) + [scalar]
                } else if depth == prefix.count {
                    return found
                } else {
                    depth -= 1
                }
            }
            index = max(index + 1, dictionary.firstTermIndex(notBefore: next!))
        }
        return found
    }
}
