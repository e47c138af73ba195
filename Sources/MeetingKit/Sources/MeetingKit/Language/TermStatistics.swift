// Corpus-wide word statistics in the analyzer's terms, kept by ingest in the corpus
// (`term_stat`) so that readers load them instead of counting 86 million words.

import Foundation

/// How many turns hold each term. A turn's terms are the analyzer's terms of its text
/// without transcription marks, stop words left out, each counted once per turn.
public struct TermStatistics: Sendable {
    /// Turns in the corpus.
    public let turns: Int
    public let turnsWithTerm: [String: Int]

    /// BM25's inverse document frequency: ln(1 + (N - n + 0.5) / (n + 0.5)).
    public func idf(_ term: String) -> Float {
        let n = Float(turnsWithTerm[term] ?? 0)
        return log(1 + (Float(max(turns, 1)) - n + 0.5) / (n + 0.5))
    }

    public static func load(_ db: Database) throws -> TermStatistics {
        var counts: [String: Int] = [:]
        counts.reserveCapacity(try Int.fetchOne(db, sql: "SELECT count(*) FROM term_stat") ?? 0)
        let rows = try Row.fetchCursor(db, sql: "SELECT term, turns FROM term_stat")
        while let row = try rows.next() { counts[row[0]] = row[1] }
        let turns = try Int.fetchOne(db, sql: "SELECT count(*) FROM turn") ?? 0
        return TermStatistics(turns: turns, turnsWithTerm: counts)
    }

    /// Whether a word of a turn makes the turn count towards its term: the rule ingest
    /// (`CorpusIndex.Document`) and removal (`distinctTerms`) both count by.
    static func counts(_ word: AnalyzedWord) -> Bool { !word.isStopWord }

    /// The distinct terms of one stored turn text that `term_stat` counts, so that removing
    /// a turn takes away what adding it added (without building its index document).
    static func distinctTerms(ofStoredText text: String, analyzer: Analyzer) -> [String] {
        var seen = Set<String>()
        return CorpusIndex.words(ofStoredText: text, analyzer: analyzer).compactMap { word in
            counts(word) && seen.insert(word.term).inserted ? word.term : nil
        }
    }

    /// Adds (`sign` 1) or takes away (`sign` -1) turn counts; terms no turn holds any more go.
    static func apply(_ counts: [String: Int], sign: Int, _ db: Database) throws {
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO term_stat (term, turns) VALUES (?, ?) ON CONFLICT (term) DO UPDATE SET turns = turns + excluded.turns
            """)
        let dropEmpty = try db.cachedStatement(sql: "DELETE FROM term_stat WHERE term = ? AND turns <= 0")
        for (term, count) in counts {
            try upsert.execute(arguments: [term, sign * count])
            if sign < 0 { try dropEmpty.execute(arguments: [term]) }
        }
    }
}

/// A number every change to the corpus raises, in the same transaction as the change:
/// what readers derive from the corpus is rebuilt when it moves.
public enum CorpusGeneration {
    public static func current(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT generation FROM corpus_state")) ?? 0
    }

    static func advance(_ db: Database) throws {
        try db.execute(sql: "UPDATE corpus_state SET generation = generation + 1")
    }
}
