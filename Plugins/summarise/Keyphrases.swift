// Key phrases of a meeting: runs of up to three content words, ranked by how
// often they were said and how rare their words are in the corpus.

import MeetingKit

struct Keyphrase {
    let phrase: String
    let count: Int
    let score: Float
}

extension MeetingText {
    static let longestPhrase = 3

    func keyphrases(limit: Int, analyser: inout TextAnalyser) -> [Keyphrase] {
        var counts: [[Int]: Int] = [:]
        var surfaces: [[Int]: [String: Int]] = [:]
        for sentence in sentences where sentence.eligible {
            // Punctuation ends a phrase as a function word does.
            for chunk in sentence.text.split(whereSeparator: { ",.;:!?()\"“”".contains($0) }) {
                var run: [(term: Int, word: String)] = []
                func flush() {
                    for length in 1...Self.longestPhrase where length <= run.count {
                        for start in 0...(run.count - length) {
                            let slice = run[start..<start + length]
                            let key = slice.map(\.term)
                            counts[key, default: 0] += 1
                            surfaces[key, default: [:]][slice.map(\.word).joined(separator: " "), default: 0] += 1
                        }
                    }
                    run.removeAll()
                }
                for word in analyser.words(chunk) {
                    let lower = word.lowercased()
                    guard lower.count > 1, !lower.allSatisfy(\.isNumber), !analyser.isFunctionWord(lower),
                          !SpokenText.phatic.contains(lower), let term = vocabulary.ids[analyser.term(lower)] else {
                        flush()
                        continue
                    }
                    run.append((term, lower))
                }
                flush()
            }
        }
        let ranked = counts.compactMap { key, count -> (key: [Int], count: Int, score: Float)? in
            guard key.count == 1 || count >= 2 else { return nil }
            return (key, count, Float(count) * key.reduce(0) { $0 + vocabulary.idf[$1] })
        }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.key.lexicographicallyPrecedes($1.key) }
        var result: [Keyphrase] = []
        var covered: Set<Int> = []
        for candidate in ranked where result.count < limit {
            // A phrase adds nothing when a better one already holds all its words.
            if candidate.key.allSatisfy(covered.contains) { continue }
            covered.formUnion(candidate.key)
            let surface = surfaces[candidate.key]!.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }!.key
            result.append(Keyphrase(phrase: surface, count: candidate.count, score: candidate.score))
        }
        return result
    }
}
