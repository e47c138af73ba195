// From a parsed query to what the index searches: the plan, the scope of the filters,
// and what snippets mark.

import MeetingKit

/// What one search looks for: keyword clauses, or a request's topic words.
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
        excluded = parsed.excluded
        speakers = parsed.speakers
        topicWords = []
        isRequest = parsed.readsAsRequest(query)
        if isRequest {
            topicWords = RequestPhrasing.topicWords(of: parsed.terms.flatMap(\.tokens))
            // A question that names no topic ("What did they say?") is searched for its words.
            if topicWords.isEmpty { isRequest = false }
        }
    }

    /// "a OR a OR b" searches for a or b, "a a" for a: a repeat is a slip, not more weight.
    static func withoutRepeats(_ clauses: [[QueryTerm]]) -> [[QueryTerm]] {
        func key(_ term: QueryTerm) -> String { term.tokens.joined(separator: " ") + (term.isPrefix ? "*" : "") }
        var seenClauses = Set<[String]>()
        return clauses.compactMap { clause in
            var seen = Set<String>()
            let alternatives = clause.filter { seen.insert(key($0)).inserted }
            return seenClauses.insert(alternatives.map(key).sorted()).inserted ? alternatives : nil
        }
    }

    var interpreted: JSONValue {
        var words: [String] = isRequest ? topicWords : clauses.flatMap { $0.map(\.written) }
        words += excluded.map { "-" + $0.written }
        var answer: JSONObject = ["as": isRequest ? "request" : "keywords", "words": .array(words.map(JSONValue.string))]
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
    /// nil: the whole corpus. Descending.
    var ranges: [ClosedRange<Int64>]?

    static func resolve(_ db: Database, _ params: JSONValue) throws -> SearchScope {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let meeting = params["meeting"]?.stringValue {
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM meeting WHERE id = ?"), arguments: [meeting]) != nil else {
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
        // Cached: the text depends only on which filters are given, so a request reuses a prepared statement.
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT first_turn, turns FROM meeting WHERE \(conditions.joined(separator: " AND ")) AND turns > 0
            ORDER BY first_turn DESC
            """), arguments: arguments)
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
        return SearchScope(ranges: ranges)
    }
}

struct Candidate {
    let rowid: Int64
    var score: Double
}

/// What a snippet marks: the words of an index query's terms, a phrase's words as one span.
struct Highlight {
    let terms: Set<String>
    let joinsPhrases: Bool

    init(_ query: IndexQuery) {
        terms = Set(query.clauses.joined().flatMap(\.words))
        joinsPhrases = query.clauses.joined().contains(where: \.isPhrase)
    }
}
