// The percolator's prefilter for alerts (as Lucene's Monitor and Elasticsearch's
// percolator do): the terms a meeting must hold for a keyword query to match one of its
// turns, read from the query once, so that each meeting ingested is searched only with
// the alerts that can match it. It reads a query as search's index query does
// (`QueryTerm.indexForm`: a prefix is held when the meeting holds a term of a word that
// begins with it)
// and may let through more than search matches, never less: exclusions,
// speakers and filters only narrow a match and are not read, and a query that can match
// without its words (a request, speakers alone) lets every meeting through.

public struct QueryPrefilter: Sendable {
    /// One way to satisfy a clause: every term held and, with `prefix`, a word starting with it.
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
                // A word the analyzer reads nothing of matches nothing, in search too.
                term.indexForm(analyzer).map { Alternative(terms: $0.terms, prefix: $0.prefix) }
            }
        }
    }

    /// Whether a meeting holding `held` may match; false only when search would find no turn.
    /// `covered` gives the terms a prefix covers in the whole corpus, as search expands it
    /// from the index: a meeting holds one through any word of that term, also one that does
    /// not start with the prefix ("negotiable" has the term of "negotiations", "negoti").
    public func mayMatch(_ held: MeetingTerms, covered: (String) -> Set<String>) -> Bool {
        guard let clauses else { return true }
        return clauses.allSatisfy { clause in
            clause.contains { alternative in
                alternative.terms.allSatisfy(held.terms.contains)
                    && (alternative.prefix.map { held.holdsWord(startingWith: $0) || !covered($0).isDisjoint(with: held.terms) } ?? true)
            }
        }
    }
}

/// The index terms of one meeting's turns, stop words included, as the index holds them,
/// and their words folded (for prefixes).
public struct MeetingTerms: Sendable {
    let terms: Set<String>
    let words: Set<String>

    public init(storedTexts: some Sequence<String>, analyzer: Analyzer) {
        var terms = Set<String>(), words = Set<String>()
        for text in storedTexts {
            for word in CorpusIndex.words(ofStoredText: text, analyzer: analyzer) where words.insert(word.normalized).inserted {
                terms.insert(word.term)
            }
        }
        self.terms = terms
        self.words = words
    }

    /// The terms of meeting `id` in the corpus `db` reads (none for a meeting it does not hold).
    public static func read(_ db: Database, meeting id: String, analyzer: Analyzer) throws -> MeetingTerms {
        let texts = try String.fetchAll(db.cachedStatement(sql: """
            SELECT t.text FROM meeting m JOIN turn t ON t.id BETWEEN m.first_turn AND m.first_turn + m.turns - 1
            WHERE m.id = ?
            """), arguments: [id])
        return MeetingTerms(storedTexts: texts, analyzer: analyzer)
    }

    /// Byte-wise, as the index lists the words a prefix covers.
    func holdsWord(startingWith prefix: String) -> Bool {
        words.contains { $0.utf8.starts(with: prefix.utf8) }
    }
}
