// From a parsed query to ranked turns: the FTS5 expression, the scope of the filters,
// and the budgeted scoring every method shares.

import MeetingKit

/// What one search looks for, as FTS5 syntax built from the module's own tokens only.
struct SearchPlan {
    /// The query's words as written, in order and with repeats: names are read from them.
    let written: [QueryTerm]
    var clauses: [[QueryTerm]]
    var excluded: [QueryTerm]
    var speakers: [String]
    /// The people `speaker:` in q resolved to (any of them spoke the turn), by id.
    var speakerIDs: [Int64] = []
    /// The canonical name of the person the `speaker` param resolved to, and their id.
    var speakerParam: String?
    var speakerParamID: Int64?
    /// A request is read as its topic words, any of which may match.
    var isRequest: Bool
    var topicWords: [String]
    /// Speakers a request names, whose turns it favours.
    var namedSpeakers: [(id: Int64, name: String)] = []
    /// Grammar words left out of a keyword query that has other words (for FTS5).
    var ignored: [String] = []
    /// The keyword clauses with their grammar words: the index searches every word.
    private let clausesWithStopWords: [[QueryTerm]]
    /// Set when a request matched nothing and no word of it was a typo: its named
    /// speakers' turns may then rank on their own.
    var typosRuledOut = false
    /// Set by the `meeting` param: a named speaker's long turns then rank without a match.
    /// (Other filters may also leave one range of turns, spanning several meetings.)
    var searchesOneMeeting = false
    /// The sections whose turns a one-meeting request favours: by ordinal, the topic words
    /// their titles share; and the titles, for `interpreted`.
    var sectionShares: [Int64: Int] = [:]
    var favouredSections: [String] = []

    init(query: String, parsed: ParsedQuery) {
        written = parsed.terms
        clauses = Self.withoutRepeats(parsed.clauses)
        clausesWithStopWords = clauses
        excluded = parsed.excluded
        speakers = parsed.speakers
        topicWords = []
        isRequest = RequestPhrasing.isRequest(query, parsed: parsed)
        if isRequest {
            topicWords = RequestPhrasing.topicWords(of: parsed.terms.flatMap(\.tokens))
            // A question that names no topic ("What did they say?") is searched for its words.
            if topicWords.isEmpty { isRequest = false }
        }
        if !isRequest { dropStopWords() }
    }

    /// "a OR a OR b" searches for a or b, "a a" for a: FTS5 would walk each copy's postings.
    static func withoutRepeats(_ clauses: [[QueryTerm]]) -> [[QueryTerm]] {
        func key(_ term: QueryTerm) -> String { term.tokens.joined(separator: " ") + (term.isPrefix ? "*" : "") }
        var seenClauses = Set<[String]>()
        return clauses.compactMap { clause in
            var seen = Set<String>()
            let alternatives = clause.filter { seen.insert(key($0)).inserted }
            return seenClauses.insert(alternatives.map(key).sorted()).inserted ? alternatives : nil
        }
    }

    /// "the president" searches for "president": a stop word adds nothing to the ranking
    /// but costs a walk through millions of postings.
    private mutating func dropStopWords() {
        func isStopWord(_ clause: [QueryTerm]) -> Bool {
            clause.count == 1 && clause[0].tokens.count == 1 && !clause[0].isPrefix
                && RequestPhrasing.isStopWord(clause[0].tokens[0])
        }
        guard clauses.contains(where: { !isStopWord($0) }) else { return }
        ignored = clauses.filter(isStopWord).map { $0[0].written }
        clauses.removeAll(where: isStopWord)
    }

    /// For the index, which weighs every word by its rarity: "the president" searches both.
    mutating func keepStopWords() {
        clauses = clausesWithStopWords
        ignored = []
    }

    static func quoted(_ tokens: [String], prefix: Bool = false) -> String {
        "\"" + tokens.joined(separator: " ") + "\"" + (prefix ? "*" : "")
    }

    static func quoted(_ term: QueryTerm) -> String { quoted(term.tokens, prefix: term.isPrefix) }

    /// The text part alone: what snippets highlight.
    var textExpression: String? {
        let positive: String
        if isRequest {
            positive = topicWords.map { Self.quoted([$0]) }.joined(separator: " OR ")
        } else if !clauses.isEmpty {
            positive = clauses.map { clause in
                clause.count == 1 ? Self.quoted(clause[0]) : "(" + clause.map(Self.quoted).joined(separator: " OR ") + ")"
            }.joined(separator: " AND ")
        } else {
            return nil
        }
        guard !excluded.isEmpty else { return "text : (\(positive))" }
        return "text : ((\(positive)) NOT (\(excluded.map(Self.quoted).joined(separator: " OR "))))"
    }

    /// What snippets mark: the text words, else (a speaker-only query) the whole match.
    var highlightExpression: String { textExpression ?? matchExpression }

    var matchExpression: String {
        var parts: [String] = []
        if let speakerParam { parts.append("speaker : (\(Self.quoted(QueryLanguage.tokens(speakerParam))))") }
        if !speakers.isEmpty {
            parts.append("speaker : (" + speakers.map { Self.quoted(QueryLanguage.tokens($0)) }.joined(separator: " OR ") + ")")
        }
        if let textExpression { parts.append(textExpression) }
        return parts.joined(separator: " AND ")
    }

    var interpreted: JSONValue {
        var words: [String] = isRequest ? topicWords : clauses.flatMap { $0.map(\.written) }
        words += excluded.map { "-" + $0.written }
        var answer: JSONObject = ["as": isRequest ? "request" : "keywords", "words": .array(words.map(JSONValue.string))]
        if !ignored.isEmpty { answer["ignored"] = .array(ignored.map(JSONValue.string)) }
        if let speakerParam { answer["speaker"] = .string(speakerParam) }
        if !speakers.isEmpty { answer["speakers"] = .array(speakers.map(JSONValue.string)) }
        if !namedSpeakers.isEmpty { answer["favoured_speakers"] = .array(namedSpeakers.map { .string($0.name) }) }
        if typosRuledOut { answer["unmatched"] = .array(topicWords.map(JSONValue.string)) }
        if !favouredSections.isEmpty { answer["favoured_sections"] = .array(favouredSections.map(JSONValue.string)) }
        return .object(answer)
    }
}

/// Which turns a search may return: id ranges of the meetings the filters keep.
struct SearchScope {
    /// nil: the whole corpus.
    var ranges: [ClosedRange<Int64>]?
    /// Set when the filters keep too many meetings to query range by range:
    /// candidates are then checked against `ranges` after scoring.
    var filterAfterScoring = false

    static let maxRangeQueries = 64

    static func resolve(_ db: Database, _ params: JSONValue) throws -> SearchScope {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let meeting = params["meeting"]?.stringValue {
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM meeting WHERE id = ?", arguments: [meeting]) != nil else {
                throw MethodError.notFound("meeting", id: meeting)
            }
            conditions.append("id = ?"); arguments += [meeting]
        }
        if let from = params["from"]?.stringValue { conditions.append("date >= ?"); arguments += [from] }
        // "2020" and "2020-05" take in every day of that year or month.
        if let to = params["to"]?.stringValue { conditions.append("date <= ?"); arguments += [to + "~"] }
        if let place = params["place"]?.stringValue {
            conditions.append("place LIKE ? ESCAPE '\\'")
            arguments += ["%" + place.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_") + "%"]
        }
        guard !conditions.isEmpty else { return SearchScope(ranges: nil) }
        let rows = try Row.fetchAll(db, sql: """
            SELECT first_turn, turns FROM meeting WHERE \(conditions.joined(separator: " AND ")) AND turns > 0
            ORDER BY first_turn DESC
            """, arguments: arguments)
        var ranges: [ClosedRange<Int64>] = []
        for row in rows {
            let first: Int64 = row[0], count: Int64 = row[1]
            // Meetings adjacent in id order merge into one range.
            if let last = ranges.last, last.lowerBound == first + count {
                ranges[ranges.count - 1] = first...last.upperBound
            } else {
                ranges.append(first...(first + count - 1))
            }
        }
        return SearchScope(ranges: ranges, filterAfterScoring: ranges.count > maxRangeQueries)
    }

    func contains(_ rowid: Int64) -> Bool {
        guard let ranges else { return true }
        // Ranges are in descending order.
        var low = 0, high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].lowerBound > rowid { low = middle + 1 } else { high = middle }
        }
        return low < ranges.count && ranges[low].contains(rowid)
    }
}

struct Candidate {
    let rowid: Int64
    var score: Double
}

struct ScoredMatches {
    var candidates: [Candidate]
    /// False when more turns matched than the budget allowed to score.
    var exhaustive: Bool
}

extension SearchModule {
    /// BM25 scores (higher is better) of the turns matching `expression` within `scope`.
    /// Matches are read newest first and at most `rankingBudget` are scored.
    func scoredMatches(_ db: Database, expression: String, scope: SearchScope) throws -> ScoredMatches {
        let table = CorpusSchema.ftsTable
        var candidates: [Candidate] = []
        var exhaustive = true
        var scanned = 0
        func collect(_ sql: String, _ arguments: StatementArguments) throws {
            let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
            while let row = try rows.next() {
                scanned += 1
                guard scanned <= rankingBudget else { exhaustive = false; return }
                let rowid: Int64 = row[0]
                if scope.filterAfterScoring, !scope.contains(rowid) { continue }
                candidates.append(Candidate(rowid: rowid, score: -(row[1] as Double)))
            }
        }
        let limit = rankingBudget + 1
        if let ranges = scope.ranges, !scope.filterAfterScoring {
            for range in ranges where exhaustive {
                try collect("""
                    SELECT rowid, bm25(\(table)) FROM \(table) WHERE \(table) MATCH ? AND rowid BETWEEN ? AND ?
                    ORDER BY rowid DESC LIMIT ?
                    """, [expression, range.lowerBound, range.upperBound, limit - scanned])
            }
        } else {
            try collect("SELECT rowid, bm25(\(table)) FROM \(table) WHERE \(table) MATCH ? ORDER BY rowid DESC LIMIT ?",
                        [expression, limit])
        }
        return ScoredMatches(candidates: candidates, exhaustive: exhaustive)
    }

    /// The best `count` matches, ranked inside SQLite (no row leaves it that is not on the
    /// page), with how many matched: the keyword path, where nothing is rescored.
    func topMatches(_ db: Database, expression: String, scope: SearchScope, count: Int) throws -> (page: [Candidate], total: Int, exhaustive: Bool) {
        let table = CorpusSchema.ftsTable
        let statement = try db.cachedStatement(sql: """
            SELECT rowid, score, count(*) OVER () FROM (
                SELECT rowid, bm25(\(table)) AS score FROM \(table) WHERE \(table) MATCH ? AND rowid BETWEEN ? AND ?
                ORDER BY rowid DESC LIMIT ?)
            ORDER BY score, rowid DESC LIMIT ?
            """)
        var page: [Candidate] = []
        var total = 0
        for range in scope.ranges ?? [Int64.min...Int64.max] where total <= rankingBudget {
            let rows = try Row.fetchCursor(statement, arguments: [
                expression, range.lowerBound, range.upperBound, rankingBudget + 1 - total, max(count, 1)])
            var matched = 0
            while let row = try rows.next() {
                page.append(Candidate(rowid: row[0], score: -(row[1] as Double)))
                matched = row[2]
            }
            total += matched
        }
        page.sort { $0.score != $1.score ? $0.score > $1.score : $0.rowid > $1.rowid }
        return (Array(page.prefix(count)), min(total, rankingBudget), total <= rankingBudget)
    }
}
