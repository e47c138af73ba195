// Related words: stems said together in the same stretches of talk, learned from QMSum's
// training splits by Benchmarks/summarise/related_words.py and compiled in as related.json.
// A question names its subject in other words than the talk may ("company sign" for a logo):
// locating also looks for its words' neighbours, at a lower weight.

import MeetingKit

struct RelatedWords: Sendable {
    /// Per stem, its neighbours with their strength (NPMI over windows of talk, 0 to 1), strongest first.
    let neighbours: [String: [(stem: String, strength: Float)]]

    /// Parses `{"neighbours": {stem: [[stem, strength], ...]}}`; entries of another shape are skipped.
    init(json: [UInt8]) {
        let table = (try? JSONValue.parse(json))?["neighbours"]?.objectValue ?? [:]
        neighbours = Dictionary(table.map { stem, entries in
            (stem, (entries.arrayValue ?? []).compactMap { entry -> (stem: String, strength: Float)? in
                guard let pair = entry.arrayValue, pair.count == 2, let stem = pair[0].stringValue,
                      let strength = try? Float(json: pair[1]) else { return nil }
                return (stem, strength)
            })
        }, uniquingKeysWith: { first, _ in first })
    }

    /// The table built into the module.
    static let builtIn = RelatedWords(json: PackageResources.related_json)
}

extension MeetingText {
    /// The topic with its stems' neighbours that this meeting says, each at `RankingWeights.relatedWeight`
    /// times its strength times the weight of the stem it neighbours (the strongest such link).
    func expandedByRelatedWords(_ topic: [(term: Int, weight: Float)]) -> [(term: Int, weight: Float)] {
        let asked = Set(topic.map(\.term))
        var added: [Int: Float] = [:]
        for query in topic {
            for neighbour in RelatedWords.builtIn.neighbours[vocabulary.stems[query.term]] ?? [] {
                guard let term = vocabulary.ids[neighbour.stem], !asked.contains(term) else { continue }
                added[term] = max(added[term] ?? 0, RankingWeights.relatedWeight * neighbour.strength * query.weight)
            }
        }
        // In term order: dictionary order changes from process to process.
        return topic + added.sorted { $0.key < $1.key }.map { (term: $0.key, weight: $0.value) }
    }
}
