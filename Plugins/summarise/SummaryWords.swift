// Summary words: how often QMSum's written answers keep a word that the sentences the module
// chose among for them say ("the" 0.89, "that" 0.70, "was" 0.59; "you", "my", "yeah" 0.03 or less),
// learned from the training splits by Benchmarks/summarise/summary_words.py and compiled in as summary_words.json.
// A sentence made of words answers keep shares more of its words with an answer: two of the
// sentence scorer's features.

import Foundation
import MeetingKit

struct SummaryWords: Sendable {
    /// Per lower-cased word, the share of answers that keep it when their talk says it.
    let kept: [String: Float]
    /// The share over all words: what a word the table lacks reads as.
    let base: Float

    /// Parses `{"base": rate, "words": {word: rate}}`; entries of another shape are skipped.
    init(json: [UInt8]) {
        let object = (try? JSONValue.parse(json))?.objectValue ?? [:]
        let table = object["words"]?.objectValue ?? [:]
        kept = Dictionary(table.compactMap { word, value in
            guard let rate = try? Float(json: value), rate > 0 else { return nil }
            return (word, rate)
        }, uniquingKeysWith: { first, _ in first })
        let base = object["base"].flatMap { try? Float(json: $0) } ?? 0
        self.base = base > 0 ? base : 1
    }

    /// The table built into the module.
    static let builtIn = SummaryWords(json: PackageResources.summary_words_json)

    /// Over the sentence's words read as ROUGE reads them, runs of a-z and 0-9 (within `words`,
    /// `SpokenText.scoredWords`, which no such run crosses): the mean share of answers that keep them,
    /// and the mean log of that share against the base rate. A sentence with no such word reads as the base rate.
    func shares(_ words: [String]) -> (mean: Float, lift: Float) {
        var count = 0
        var total: Float = 0, lift: Float = 0
        for word in words {
            for run in word.unicodeScalars.split(whereSeparator: { !(("a"..."z").contains($0) || ("0"..."9").contains($0)) }) {
                let rate = kept[String(Substring(run))] ?? base
                count += 1
                total += rate
                lift += log(rate / base)
            }
        }
        guard count > 0 else { return (base, 0) }
        return (total / Float(count), lift / Float(count))
    }
}
