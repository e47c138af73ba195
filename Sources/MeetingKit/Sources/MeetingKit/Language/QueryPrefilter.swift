// The percolator's prefilter for alerts (as Lucene's Monitor and Elasticsearch's
// percolator do): the terms a meeting must hold for a keyword query to match one of its
// turns, read from the query once, so that each meeting ingested is searched only with
// the alerts that can match it. It reads a query as search's index query does (the
// analyzer's term of every word; a prefix covers every term starting with its last
// word's term) and may let through more than search matches, never less: exclusions,
// speakers and filters only narrow a match and are not read, and a query that can match
// without its words (a request, speakers alone) lets every meeting through.

public struct QueryPrefilter: Sendable {
    /// One way to satisfy a clause: every term held and, with `prefix`, a term starting with it.
    struct Alternative: Sendable {
        let terms: [String]
        let prefix: String?
    }

    /// Every clause must be satisfied by one of its alternatives; nil lets every meeting through.
    private let clauses: [[Alternative]]?

    public init(query: String, analyzer: Analyzer) {
        // A query search refuses fails there too: the prefilter does not judge it.
        guard let parsed = try? QueryLanguage.parse(query), !parsed.clauses.isEmpty, !parsed.readsAsRequest(query) else {
            clauses = nil
            return
        }
        clauses = parsed.clauses.map { clause in
            clause.compactMap { term in
                var terms = analyzer.words(term.written).map(\.term)
                // A word the analyzer reads nothing of matches nothing, in search too.
                guard !terms.isEmpty else { return nil }
                let prefix = term.isPrefix ? terms.removeLast() : nil
                return Alternative(terms: terms, prefix: prefix)
            }
        }
    }

    /// Whether a meeting holding `held` may match; false only when search would find no turn.
    public func mayMatch(_ held: MeetingTerms) -> Bool {
        guard let clauses else { return true }
        return clauses.allSatisfy { clause in
            clause.contains { alternative in
                alternative.terms.allSatisfy(held.terms.contains)
                    && (alternative.prefix.map(held.holdsTerm(startingWith:)) ?? true)
            }
        }
    }
}

/// The index terms of one meeting's turns, stop words included, as the index holds them.
public struct MeetingTerms: Sendable {
    let terms: Set<String>

    public init(storedTexts: some Sequence<String>, analyzer: Analyzer) {
        var terms = Set<String>()
        for text in storedTexts {
            for word in CorpusIndex.words(ofStoredText: text, analyzer: analyzer) { terms.insert(word.term) }
        }
        self.terms = terms
    }

    /// The terms of meeting `id` in the corpus `db` reads (none for a meeting it does not hold).
    public static func read(_ db: Database, meeting id: String, analyzer: Analyzer) throws -> MeetingTerms {
        let texts = try String.fetchAll(db.cachedStatement(sql: """
            SELECT t.text FROM meeting m JOIN turn t ON t.id BETWEEN m.first_turn AND m.first_turn + m.turns - 1
            WHERE m.id = ?
            """), arguments: [id])
        return MeetingTerms(storedTexts: texts, analyzer: analyzer)
    }

    /// Byte-wise, as the index lists the terms a prefix covers.
    func holdsTerm(startingWith prefix: String) -> Bool {
        terms.contains { $0.utf8.starts(with: prefix.utf8) }
    }
}
