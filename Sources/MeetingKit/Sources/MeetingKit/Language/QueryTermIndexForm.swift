// How the index reads a query term, shared by search's index query and the alerts' prefilter.
// Apart from QueryLanguage.swift, which the fuzz targets build without the analyzer.

extension QueryTerm {
    /// How the index reads this term: the analyzer's terms of its words, and for a prefix its
    /// last word folded but not stemmed (`prefix`, with `terms` the words before it). Users
    /// type the start of a word, which its stem may be shorter than ("negotiations" is
    /// "negoti"): a prefix covers the terms of the words that begin with it (byte-wise),
    /// which the index reads from its word forms and alerts from a meeting's words. Nil
    /// when the analyzer reads no word in it (it matches nothing).
    public func indexForm(_ analyzer: Analyzer) -> (terms: [String], prefix: String?)? {
        let words = analyzer.words(written)
        guard let last = words.last else { return nil }
        guard isPrefix else { return (words.map(\.term), nil) }
        return (words.dropLast().map(\.term), last.normalized)
    }
}
