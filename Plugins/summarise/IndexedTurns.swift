// The corpus's own index, read by summarise to find the turns about a subject across
// meetings (summarise.corpus, and summarise.answer without `meeting`): exact BM25 over
// the analyzer's terms, the date and speaker filters applied while it retrieves.

import MeetingKit

extension SummariseModule {
    /// The turns a search across meetings may return: those of the meetings dated within
    /// `from`...`to`, spoken by any of `people` (none: by anyone); nil for every turn.
    func allowedTurns(_ db: Database, from: String?, to: String?, people: [Int64]) throws -> [ClosedRange<UInt32>]? {
        var allowed = try TurnRanges.dated(db, from: from, to: to)
        if !people.isEmpty {
            let spoken = try speakerTurns.get(db).turns(db, people: people)
            allowed = allowed.map { TurnRanges.intersection($0, spoken) } ?? spoken
        }
        return allowed
    }

    /// The index's best `limit` turns within `allowed`, best first, for the terms of `words`
    /// (as the analyzer cuts and stems them, English and Russian alike): any of them, or
    /// with `every` all of them.
    func bestTurns(_ words: [String], _ db: Database, analyser: TextAnalyser, limit: Int, every: Bool = false,
                   allowed: [ClosedRange<UInt32>]?) throws -> [IndexHit] {
        var seen = Set<String>()
        let terms = words.flatMap { analyser.analyzer.words($0) }.map(\.term).filter { seen.insert($0).inserted }
        guard !terms.isEmpty, allowed?.isEmpty != true else { return [] }
        // Only the hits are read, not how many turns match: pruning starts at once.
        let query = IndexQuery(clauses: every ? terms.map { [IndexQuery.Term($0)] } : [terms.map { IndexQuery.Term($0) }],
                               limit: limit, exactTotalUpTo: 0)
        return try index.get(db).search(query, idRanges: allowed).hits
    }
}
