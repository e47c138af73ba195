// Typo correction and completion from the index's term dictionaries, which every worker
// shares with the index itself: the terms near a misspelt word (a Levenshtein automaton
// run along each segment's sorted terms) and the words that start what is being typed.
// Words are read by the language layer's analyzer, so English and Russian words are
// looked up among the terms of their own language's stemmer.

import MeetingKit

struct Vocabulary {
    let index: SegmentSet
    /// The corpus generation `index` is of, read once with it: what written forms are kept for.
    let generation: Int64
    let analyzer: Analyzer

    /// Edit distance 1 for words of up to 7 letters, 2 for longer ones; none under 3 letters
    /// or with digits (codes and figures are not misspelt words).
    static func allowedDistance(_ word: String) -> Int {
        let length = word.unicodeScalars.count
        guard length >= 3, !word.contains(where: \.isNumber) else { return 0 }
        return length <= 7 ? 1 : 2
    }

    /// Whether a live turn holds `word`'s term.
    func holds(_ word: String) -> Bool {
        index.firstDocument(holding: analyzer.term(Analyzer.normalize(word))) != nil
    }

    /// The term within the allowed edit distance of `word` or of its own term that the
    /// most turns hold (closest first, then most turns, then byte order).
    func correction(for word: String) -> String? {
        let limit = Self.allowedDistance(word)
        guard limit > 0 else { return nil }
        let normalized = Analyzer.normalize(word)
        var best: (distance: Int, documents: Int, term: String)?
        for target in Set([normalized, analyzer.term(normalized)]) {
            let scalars = Array(target.unicodeScalars)
            var near = index.terms(matching: LevenshteinAutomaton(scalars, maxDistance: 1))
            if limit > 1, let first = scalars.first {
                // Two edits and another first letter is another word ("sanctions", "functions").
                near.merge(index.terms(matching: LevenshteinAutomaton(scalars, maxDistance: 2), startingWith: String(first)),
                           uniquingKeysWith: { min($0, $1) })
            }
            for (term, distance) in near where distance > 0 {
                let documents = index.documentFrequency(term)
                guard documents > 0 else { continue }
                if let current = best, (current.distance, -current.documents) < (distance, -documents)
                    || ((current.distance, current.documents) == (distance, documents)
                        && current.term.utf8.lexicographicallyPrecedes(term.utf8)) { continue }
                best = (distance, documents, term)
            }
        }
        return best?.term
    }

    /// Words starting with `prefix` (folded as the analyzer folds), those of the most frequent terms first.
    func completions(of prefix: String, limit: Int) -> [String] {
        index.completions(of: prefix, limit: limit)
    }
}

extension SearchModule {
    /// How `term` is written in the corpus: the first word of a live turn holding it, lowercased.
    func writtenForm(_ db: Database, term: String, in vocabulary: Vocabulary) throws -> String {
        guard let id = vocabulary.index.firstDocument(holding: term) else { return term }
        // Stemmers change endings: a word of another first letter has another term.
        return try firstWord(db, turn: id) { $0.first == term.first && analyzer.term($0) == term } ?? term
    }

    /// The first turns holding a word's term may write it otherwise ("Naively" before "naïve"):
    /// this many are read for a word's written form.
    static let turnsReadForAWrittenWord = 8

    /// How the folded `word` is written in the corpus, with the accents and "ё" folding takes
    /// away: in the first of a few live turns holding its term that holds it, lowercased.
    /// Kept for the vocabulary's corpus generation (`writtenWords`).
    func writtenForm(_ db: Database, word: String, in vocabulary: Vocabulary) throws -> String {
        try writtenWords.form(of: word, generation: vocabulary.generation) { try readWrittenForm(db, word: word, in: vocabulary.index) }
    }

    private func readWrittenForm(_ db: Database, word: String, in index: SegmentSet) throws -> String {
        for id in index.documents(holding: analyzer.term(word), limit: Self.turnsReadForAWrittenWord) {
            if let written = try firstWord(db, turn: id, where: { $0 == word }) { return written }
        }
        return word
    }

    /// The first word of turn `id` whose folded form `matches`, as written there, lowercased.
    private func firstWord(_ db: Database, turn id: UInt32, where matches: (String) -> Bool) throws -> String? {
        guard let text = try String.fetchOne(db.cachedStatement(sql: "SELECT text FROM turn WHERE id = ?"), arguments: [Int64(id)])
        else { return nil }
        let stripped = TranscriptText.strippingMarks(text)
        var written: String?
        analyzer.forEachWord(stripped) { bytes, normalized in
            guard written == nil, matches(normalized) else { return }
            written = String(decoding: Array(stripped.utf8)[bytes], as: UTF8.self).lowercased()
        }
        return written
    }
}

/// Words' written forms already read, for one corpus generation: typing asks for mostly
/// the same completions keystroke after keystroke, and each may read and fold several
/// turns (`SearchModule.turnsReadForAWrittenWord`).
struct WrittenWords {
    /// Words are unbounded (names, typos): past this many the forms kept start over.
    static let limit = 20_000
    private var generation: Int64?
    private var forms: [String: String] = [:]

    /// `word`'s form at `generation`, read by `read` unless kept.
    mutating func form(of word: String, generation: Int64, orRead read: () throws -> String) rethrows -> String {
        if generation != self.generation || forms.count >= Self.limit {
            forms.removeAll(keepingCapacity: true)
            self.generation = generation
        }
        if let known = forms[word] { return known }
        let form = try read()
        forms[word] = form
        return form
    }
}
