// The index's own vocabulary (porter stems with their document counts), for typo
// correction, completions and term weights. Read once per corpus generation and shared
// by every instance (`SharedCorpusValue`).

import MeetingKit

final class Vocabulary: Sendable {
    /// Stem → number of turns holding it.
    let documentCounts: [String: Int]
    /// Stems by length in scalars, for edit-distance scans that skip impossible lengths.
    private let stemsByLength: [Int: [[Unicode.Scalar]]]
    /// Stems in order, for prefix completion by binary search.
    private let sortedStems: [String]

    init(_ db: Database) throws {
        try Self.prepare(db)
        var counts: [String: Int] = [:]
        var byLength: [Int: [[Unicode.Scalar]]] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT term, doc FROM temp.search_vocabulary")
        while let row = try rows.next() {
            let term: String = row[0]
            let scalars = Array(term.unicodeScalars)
            // Numbers and very long tokens are not words anyone misspells.
            guard scalars.count <= 40, scalars.contains(where: \.properties.isAlphabetic) else { continue }
            counts[term] = row[1]
            byLength[scalars.count, default: []].append(scalars)
        }
        documentCounts = counts
        stemsByLength = byLength
        sortedStems = counts.keys.sorted()
    }

    /// The vocabulary table is TEMP: fts5vocab tables cannot be created in a read-only main database.
    static func prepare(_ db: Database) throws {
        try db.execute(sql: "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocabulary USING fts5vocab(main, \(CorpusSchema.ftsTable), 'row')")
    }

    /// Edit distance 1 for words of up to 7 letters, 2 for longer ones; none under 3 letters
    /// or with digits (codes and figures are not misspelt words).
    static func allowedDistance(_ word: String) -> Int {
        let length = word.unicodeScalars.count
        guard length >= 3, !word.contains(where: \.isNumber) else { return 0 }
        return length <= 7 ? 1 : 2
    }

    /// The most frequent stem within the allowed edit distance of `word` or of its own stem.
    func correction(for word: String, stem: String) -> String? {
        let limit = Self.allowedDistance(word)
        guard limit > 0 else { return nil }
        var best: (distance: Int, documents: Int, stem: String)?
        for target in Set([word, stem]) {
            let scalars = Array(target.unicodeScalars)
            for length in max(1, scalars.count - limit)...(scalars.count + limit) {
                for candidate in stemsByLength[length] ?? [] {
                    guard let distance = EditDistance.between(scalars, candidate, atMost: limit), distance > 0,
                          // Two edits and another first letter is another word ("sanctions", "functions").
                          distance == 1 || candidate.first == scalars.first else { continue }
                    let text = String(String.UnicodeScalarView(candidate))
                    let documents = documentCounts[text] ?? 0
                    if best == nil || distance < best!.distance || (distance == best!.distance && documents > best!.documents) {
                        best = (distance, documents, text)
                    }
                }
            }
        }
        return best?.stem
    }

    /// Stems starting with `prefix`, most frequent first.
    func completions(of prefix: String, limit: Int) -> [String] {
        var low = 0, high = sortedStems.count
        while low < high {
            let middle = (low + high) / 2
            if sortedStems[middle] < prefix { low = middle + 1 } else { high = middle }
        }
        var matches: [String] = []
        var index = low
        while index < sortedStems.count, sortedStems[index].hasPrefix(prefix) {
            if sortedStems[index] != prefix { matches.append(sortedStems[index]) }
            index += 1
        }
        return Array(matches.sorted { documentCounts[$0]! > documentCounts[$1]! }.prefix(limit))
    }
}

/// Porter stems exactly as the FTS5 index makes them, from a TEMP FTS5 table with the same
/// tokenizer, for looking words up in that index's own vocabulary. Everything else stems
/// with the language layer's `Analyzer`.
enum Stemmer {
    static func stems(of text: String, _ db: Database) throws -> [String] {
        try stems(ofEach: [text], db)[0]
    }

    /// The stems of several texts, in one pass through the tokenizer.
    static func stems(ofEach texts: [String], _ db: Database) throws -> [[String]] {
        try db.execute(sql: """
            CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_stemmer USING fts5(text, tokenize='porter unicode61 remove_diacritics 2');
            CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_stems USING fts5vocab(temp, search_stemmer, 'instance');
            DELETE FROM temp.search_stemmer;
            """)
        let insert = try db.cachedStatement(sql: "INSERT INTO temp.search_stemmer(rowid, text) VALUES (?, ?)")
        for (index, text) in texts.enumerated() { try insert.execute(arguments: [index, text]) }
        var stems = [[String]](repeating: [], count: texts.count)
        let rows = try Row.fetchCursor(db, sql: "SELECT doc, term FROM temp.search_stems ORDER BY doc, offset")
        while let row = try rows.next() { stems[row[0] as Int].append(row[1]) }
        return stems
    }
}
