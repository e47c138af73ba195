// search.query: parse, plan, score within the filters, correct typos, then build
// the page of hits for the unit asked for.

import Foundation
import MeetingKit

extension SearchModule {
    enum Unit: String {
        case turn, sentence, meeting
    }

    func query(_ params: JSONValue) throws(MethodError) -> JSONValue {
        let started = DispatchTime.now().uptimeNanoseconds
        let text = params["q"]?.stringValue ?? ""
        let parsed: ParsedQuery
        do { parsed = try QueryLanguage.parse(text) } catch { throw error.invalidParams }
        let unit = Unit(rawValue: params["unit"]?.stringValue ?? "turn") ?? .turn
        let page = (offset: params["offset"]?.intValue ?? 0, limit: params["limit"]?.intValue ?? 10)
        let markers = markers(params)
        var plan = SearchPlan(query: text, parsed: parsed)
        plan.searchesOneMeeting = params["meeting"] != nil

        var answer: JSONObject = try read { db in
            let scope = try SearchScope.resolve(db, params)
            // The person the `speaker` param or `speaker:Name` in q means, as every module resolves
            // a name; the index holds each turn's speaker under that person's canonical name.
            let meetingPK = try params["meeting"]?.stringValue.flatMap { id in
                try Int64.fetchOne(db.cachedStatement(sql: "SELECT pk FROM meeting WHERE id = ?"), arguments: [id])
            }
            if let typed = params["speaker"]?.stringValue {
                let person = try PersonResolver.person(typed, field: "speaker", in: db, meetingPK: meetingPK)
                (plan.speakerParam, plan.speakerParamID) = (person.name, person.id)
            }
            let people = try plan.speakers.map { typed in try PersonResolver.person(typed, field: "q", in: db, meetingPK: meetingPK) }
            (plan.speakers, plan.speakerIDs) = (people.map(\.name), people.map(\.id))
            if plan.isRequest { try findNamedSpeakers(db, &plan, meeting: params["meeting"]?.stringValue) }
            // Keyword turns are ranked by the index; requests are rescored and meetings grouped here.
            // At least one hit is ranked, so that `limit: 0` still counts the matches.
            let ranked = max(page.offset + page.limit, 1)
            var indexQuery = plan.isRequest ? nil : try self.indexQuery(plan, limit: ranked, index: index(db))
            func search(_ plan: inout SearchPlan) throws -> JSONObject {
                if plan.isRequest, plan.searchesOneMeeting, let ranges = scope.ranges, ranges.count == 1 {
                    try findMatchingSections(db, &plan, meeting: ranges[0])
                }
                guard let indexQuery else { return try requestPage(db, plan: plan, scope: scope, unit: unit, page: page, markers: markers) }
                switch unit {
                case .turn: return try indexedKeywordTurns(db, indexQuery, plan: plan, scope: scope, page: page, markers: markers)
                case .sentence: return try indexedSentences(db, indexQuery, plan: plan, scope: scope, page: page, markers: markers)
                case .meeting: return try indexedMeetings(db, indexQuery, plan: plan, scope: scope, page: page, markers: markers)
                }
            }
            var answer = try search(&plan)
            // Only a query that finds nothing is corrected: a rare word is not a typo.
            var corrections: [Correction] = []
            if answer["total"] == 0 {
                corrections = plan.isRequest ? try correctTopicWords(db, &plan) : try correctKeywords(db, &plan)
                // Keywords are searched again with the corrected words (a request's query is made
                // from its topic words as it is searched).
                if !corrections.isEmpty, indexQuery != nil {
                    indexQuery = try self.indexQuery(plan, limit: ranked, index: index(db))
                }
                if !corrections.isEmpty {
                    answer = try search(&plan)
                } else if plan.searchesOneMeeting, !plan.namedSpeakers.isEmpty {
                    // The topic is not in the meeting, but the speaker asked about is.
                    plan.typosRuledOut = true
                    answer = try search(&plan)
                }
            }
            answer["interpreted"] = plan.interpreted
            if !corrections.isEmpty {
                let corrected = corrections.reduce(text) { Self.replacingWord($1.word, with: $1.replacement, in: $0) }
                answer["corrected"] = [
                    "q": .string(corrected),
                    "words": .array(corrections.map { ["from": .string($0.written), "to": .string($0.replacement)] }),
                ]
            }
            return answer
        }
        answer["took_ms"] = .double(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
        return .object(answer)
    }

    struct Correction {
        /// The word as the index tokenizer reads it, lowercased.
        let word: String
        /// The word as the query has it.
        let written: String
        /// What was searched instead, as the corpus writes it (in the case of `written`).
        let replacement: String
    }

    /// Keyword words with no match at all are replaced by the closest index term.
    private func correctKeywords(_ db: Database, _ plan: inout SearchPlan) throws -> [Correction] {
        var corrections: [Correction] = []
        for (c, clause) in plan.clauses.enumerated() {
            for (t, term) in clause.enumerated() where term.tokens.count == 1 && !term.isPrefix {
                guard let replacement = try correction(db, word: term.tokens[0]) else { continue }
                let written = Self.matchingCase(of: term.written, replacement)
                // The corrected word is read as if the user had written it.
                plan.clauses[c][t].tokens = [replacement]
                plan.clauses[c][t].written = written
                corrections.append(Correction(word: term.tokens[0], written: term.written, replacement: written))
            }
        }
        return corrections
    }

    /// A request's topic words with no match are replaced, or kept when nothing is close.
    private func correctTopicWords(_ db: Database, _ plan: inout SearchPlan) throws -> [Correction] {
        var corrections: [Correction] = []
        var words: [String] = []
        for word in plan.topicWords {
            guard let replacement = try correction(db, word: word) else { words.append(word); continue }
            words.append(replacement)
            corrections.append(Correction(word: word, written: word, replacement: replacement))
        }
        plan.topicWords = words
        return corrections
    }

    /// "Sputnk" is corrected to "Sputnik", "sputnk" to "sputnik".
    static func matchingCase(of original: String, _ word: String) -> String {
        guard original.first?.isUppercase == true else { return word }
        return word.prefix(1).uppercased() + word.dropFirst()
    }

    /// For a word no turn holds, the closest index term as the corpus writes it.
    private func correction(_ db: Database, word: String) throws -> String? {
        let vocabulary = try vocabulary(db)
        guard Vocabulary.allowedDistance(word) > 0, !vocabulary.holds(word),
              let replacement = vocabulary.correction(for: word) else { return nil }
        return try writtenForm(db, term: replacement, in: vocabulary)
    }

    /// In a request, the turns of a speaker it names count double: "What did X think
    /// about Y" is answered by X's turns about Y. Named speakers are looked for among
    /// the speakers of the meeting searched or, across the corpus, among the people a
    /// word or two words of the request are a name or alias of ("Putin", "Kirsty Williams").
    private func findNamedSpeakers(_ db: Database, _ plan: inout SearchPlan, meeting: String?) throws {
        let speakers: [(id: Int64, name: String)]
        if let meeting {
            // Each speaker under every label they speak with here ("Hon. Andrew Scheer (Leader
            // of the Opposition)") and every role they hold here, so that a role names them too.
            speakers = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT DISTINCT p.id, coalesce(t.label, p.name) FROM meeting m JOIN turn t
                ON t.id BETWEEN m.first_turn AND m.first_turn + m.turns - 1 JOIN person p ON p.id = t.person_id
                WHERE m.id = :id
                UNION SELECT t.person_id, t.role FROM meeting m JOIN turn t ON t.id BETWEEN m.first_turn AND m.first_turn + m.turns - 1
                WHERE m.id = :id AND t.person_id IS NOT NULL AND t.role IS NOT NULL
                UNION SELECT pa.person_id, pa.role FROM meeting m JOIN participant pa ON pa.meeting_pk = m.pk
                WHERE m.id = :id AND pa.role IS NOT NULL
                ORDER BY 1, 2
                """), arguments: ["id": meeting]).map { (id: $0[0] as Int64, name: $0[1] as String) }
        } else {
            // The people whose name or alias (a label, a role) is a run of up to six of the
            // request's words; lone letters ("What did C think") name someone only within one meeting.
            let words = plan.written.flatMap(\.tokens)
            var keys = words.filter { $0.count >= 3 }
            for length in 2...6 where length <= words.count {
                for start in 0...(words.count - length) { keys.append(words[start..<(start + length)].joined(separator: " ")) }
            }
            guard !keys.isEmpty else { return }
            speakers = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT id, name FROM person WHERE key IN (SELECT value FROM json_each(:keys))
                UNION SELECT p.id, a.alias FROM person_alias a JOIN person p ON p.id = a.person_id
                WHERE a.key IN (SELECT value FROM json_each(:keys))
                """), arguments: ["keys": JSONValue.array(keys.map { .string(PersonName.key($0)) }).serialized])
                .map { (id: $0[0] as Int64, name: $0[1] as String) }
        }
        // Repeats stay: "the Leader of the Opposition" is a name only with its second "the".
        let terms = plan.written
        let words = terms.flatMap(\.tokens)
        // Positions of words written with a capital; plain words are one token each.
        var capitalised = Set<Int>()
        var position = 0
        for term in terms {
            if term.tokens.count == 1, term.written.first?.isUppercase == true { capitalised.insert(position) }
            position += term.tokens.count
        }
        let named = NamesInText.named(in: words, capitalised: capitalised, among: speakers)
        guard !named.speakers.isEmpty else { return }
        let canonical = try Dictionary(Row.fetchAll(db.cachedStatement(sql: """
            SELECT id, name FROM person WHERE id IN (SELECT value FROM json_each(?))
            """), arguments: [Self.jsonArray(named.speakers.map(\.id))]).map { ($0[0] as Int64, $0[1] as String) },
            uniquingKeysWith: { first, _ in first })
        var seen = Set<Int64>()
        plan.namedSpeakers = named.speakers.compactMap { speaker in
            seen.insert(speaker.id).inserted ? (speaker.id, canonical[speaker.id] ?? speaker.name) : nil
        }
        // The name is who spoke, not what was said.
        let topic = RequestPhrasing.topicWords(of: words, skipping: named.positions)
        if !topic.isEmpty { plan.topicWords = topic }
    }

    /// BM25 favours short turns ("Yes, the battery."); requests are answered by turns that
    /// say something, so a turn's score grows slowly with its length, and doubles for a named speaker.
    private func adjustForRequest(_ db: Database, _ candidates: inout [Candidate], plan: SearchPlan) throws {
        let named = Set(plan.namedSpeakers.map(\.id))
        // One statement for all the candidates: one per turn took longer than ranking them.
        var factor: [Int64: Double] = [:]
        factor.reserveCapacity(candidates.count)
        let rows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT id, words, person_id FROM turn WHERE id IN (SELECT value FROM json_each(?))
            """), arguments: [Self.jsonArray(candidates.map(\.rowid))])
        while let row = try rows.next() {
            let words: Int = row[1]
            let speaker: Int64? = row[2]
            factor[row[0]] = pow(Double(max(words, 1)), 0.2) * (speaker.map(named.contains) == true ? 2 : 1)
        }
        for index in candidates.indices {
            if let factor = factor[candidates[index].rowid] { candidates[index].score *= factor }
        }
    }

    /// "What did X say about Y?" is answered by X's substantial turns even where they do
    /// not use Y's words: a designer presenting the device's structure need not say
    /// "structure". Within the one meeting searched, every turn of a named speaker gains
    /// a share of the best match's score that grows with the square of its length, relative
    /// to the meeting's longest turn. The share was chosen on QMSum's training splits; it
    /// lifts the gold turn in the top 5 from 0.726 to 0.764 on the validation split.
    private func favourNamedSpeakersTurns(_ db: Database, _ candidates: inout [Candidate], plan: SearchPlan,
                                          meeting range: ClosedRange<Int64>) throws {
        let named = plan.namedSpeakers.map(\.id)
        let longest = try Int.fetchOne(db.cachedStatement(sql: "SELECT max(words) FROM turn WHERE id BETWEEN ? AND ?"),
                                       arguments: [range.lowerBound, range.upperBound]) ?? 0
        // Without a single match, the request is first corrected for typos.
        guard !named.isEmpty, longest > 0,
              let best = candidates.map(\.score).max() ?? (plan.typosRuledOut ? 1 : nil) else { return }
        let share = Self.namedSpeakerLengthShare * best
        var position = Dictionary(uniqueKeysWithValues: candidates.indices.map { (candidates[$0].rowid, $0) })
        let turns = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT id, words FROM turn WHERE id BETWEEN ? AND ? AND person_id IN (SELECT value FROM json_each(?))
            """), arguments: [range.lowerBound, range.upperBound, Self.jsonArray(named)])
        while let turn = try turns.next() {
            let rowid: Int64 = turn[0]
            let length = Double(turn[1] as Int) / Double(longest)
            let bonus = share * length * length
            if let index = position[rowid] {
                candidates[index].score += bonus
            } else if bonus > 0 {
                position[rowid] = candidates.count
                candidates.append(Candidate(rowid: rowid, score: bonus))
            }
        }
    }

    static let namedSpeakerLengthShare = 0.1

    /// Sections (an agenda, or the topic list of a QMSum file) say where a topic is
    /// discussed: the sections of the one meeting searched whose titles share the request's
    /// topic words, with how many they share.
    private func findMatchingSections(_ db: Database, _ plan: inout SearchPlan, meeting range: ClosedRange<Int64>) throws {
        plan.sectionShares = [:]
        plan.favouredSections = []
        let titles = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT s.ordinal, s.title FROM section s JOIN meeting m ON m.pk = s.meeting_pk WHERE m.first_turn = ? ORDER BY s.ordinal
            """), arguments: [range.lowerBound])
        guard titles.count > 1, !plan.topicWords.isEmpty else { return }
        let topic = Set(analyzer.terms(plan.topicWords.joined(separator: " ")))
        for title in titles {
            let count = Set(analyzer.terms(title[1])).intersection(topic).count
            guard count > 0 else { continue }
            plan.sectionShares[title[0]] = count
            plan.favouredSections.append(title[1])
        }
    }

    /// A turn in a section found by `findMatchingSections` counts up to `sectionBoost` more,
    /// in proportion to the words its title shares against the best title's. The boost was
    /// chosen on QMSum's training splits; on the validation split it lifts the gold turn in
    /// the top 5 from 0.768 to 0.810.
    private func favourMatchingSections(_ db: Database, _ candidates: inout [Candidate], plan: SearchPlan,
                                        meeting range: ClosedRange<Int64>) throws {
        guard let most = plan.sectionShares.values.max() else { return }
        var factor: [Int64: Double] = [:]
        let turns = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT id, section FROM turn WHERE id BETWEEN ? AND ? AND section IN (SELECT value FROM json_each(?))
            """), arguments: [range.lowerBound, range.upperBound, Self.jsonArray(plan.sectionShares.keys)])
        while let turn = try turns.next() {
            let shared = plan.sectionShares[turn[1]] ?? 0
            factor[turn[0]] = 1 + Self.sectionBoost * Double(shared) / Double(most)
        }
        for index in candidates.indices {
            if let boost = factor[candidates[index].rowid] { candidates[index].score *= boost }
        }
    }

    static let sectionBoost = 1.0

    /// Keys as a JSON array, for SQLite's json_each: one bound parameter, whatever their number.
    static func jsonArray(_ keys: some Sequence<Int64>) -> String {
        JSONValue.array(keys.map { .int($0) }).serialized
    }

    // MARK: Hits

    /// Turns with their meetings, each with its snippet marking the words `highlight` holds, or
    /// its opening, unmarked, when it holds none (a named speaker's turn ranked without a match);
    /// in the order given, turns not found left out.
    func turnHits(_ db: Database, _ turns: [Candidate], highlight: Highlight, markers: Markers) throws -> [JSONValue] {
        let hits = try hitsByTurn(db, turns, highlight: highlight, markers: markers)
        return turns.compactMap { hits[$0.rowid].map(JSONValue.object) }
    }

    /// `turnHits`' hits by turn id. One statement reads them all: a page read a row at a
    /// time cost a statement per hit. Each hit is made from its row as the statement steps
    /// (a turn listed twice takes its first score), its text not copied into a row first.
    private func hitsByTurn(_ db: Database, _ turns: [Candidate], highlight: Highlight, markers: Markers) throws -> [Int64: JSONObject] {
        guard !turns.isEmpty else { return [:] }
        var scores: [Int64: Double] = [:]
        scores.reserveCapacity(turns.count)
        for turn in turns where scores[turn.rowid] == nil { scores[turn.rowid] = turn.score }
        let rows = try Row.fetchCursor(db.cachedStatement(sql: Self.hitsByTurnSQL), arguments: [Self.jsonArray(turns.map(\.rowid))])
        var hits: [Int64: JSONObject] = [:]
        hits.reserveCapacity(scores.count)
        let terms = HighlightTerms(highlight.terms, analyzer: analyzer), joining = SpanJoining(highlight)
        while let row = try rows.next() {
            let rowid: Int64 = row[8]
            guard hits[rowid] == nil, let score = scores[rowid] else { continue }
            let text = TranscriptText.strippingMarks(row[7])
            let snippet = try IndexSnippet.snippet(of: text, terms: terms, markers: markers, joining: joining, analyzer: analyzer,
                                                   budget: budget)
                ?? Self.opening(of: text, words: IndexSnippet.words)
            hits[rowid] = Self.hit(row, score: score, snippet: snippet)
        }
        return hits
    }

    /// The first `words` words of `text`, with an ellipsis when there is more.
    static func opening(of text: String, words: Int) -> String {
        let parts = text.split(whereSeparator: \.isWhitespace)
        return parts.prefix(words).joined(separator: " ") + (parts.count > words ? "…" : "")
    }

    static let hitColumns = "t.idx, m.id, m.title, m.date, m.place, p.name, sec.title"
    static let hitJoins = """
        JOIN meeting m ON m.pk = t.meeting_pk LEFT JOIN person p ON p.id = t.person_id \
        LEFT JOIN section sec ON sec.meeting_pk = t.meeting_pk AND sec.ordinal = t.section
        """
    /// Made once: the statement cache is keyed by its text. The turns are joined to the ids'
    /// list rather than looked up `IN` it, which SQLite copies into a temporary b-tree first;
    /// a CROSS JOIN, so that the list is always the outer loop (the other order would read every
    /// turn); a turn listed twice comes twice, and `hitsByTurn` keeps the first.
    static let hitsByTurnSQL = "SELECT \(hitColumns), t.text, t.id FROM json_each(?) ids CROSS JOIN turn t ON t.id = ids.value \(hitJoins)"

    /// A hit from a row that starts with `hitColumns`.
    /// Its members are listed as an array: a dictionary literal is copied once more into one.
    static func hit(_ row: Row, score: Double, snippet: String) -> JSONObject {
        JSONObject([
            (key: "meeting", value: .string(row[1])), (key: "title", value: .string(row[2])),
            (key: "date", value: JSONValue(row[3] as String?)), (key: "place", value: JSONValue(row[4] as String?)),
            (key: "turn", value: JSONValue(row[0] as Int)), (key: "speaker", value: JSONValue(row[5] as String?)),
            (key: "section", value: JSONValue(row[6] as String?)),
            (key: "score", value: .double(score)), (key: "snippet", value: .string(snippet)),
        ])
    }

    /// The index's query for a keyword plan. A word the analyzer reads nothing of matches
    /// nothing. A plan with speakers and no word to search is answered by `indexSearch`
    /// listing their turns.
    func indexQuery(_ plan: SearchPlan, limit: Int, index: SegmentSet) -> IndexQuery {
        /// A word, a phrase (a quoted one, or a word the analyzer cuts in several), or a
        /// prefix's terms; a phrase ending in a prefix is one phrase whose last position holds
        /// every term its last word covers ("remote contr*": "remote control", "remote contract"…).
        func terms(_ queryTerm: QueryTerm) -> [IndexQuery.Term] {
            guard let (words, prefix) = queryTerm.indexForm(analyzer) else { return [] }
            guard let prefix else { return [words.count == 1 ? IndexQuery.Term(words[0]) : IndexQuery.Term(phrase: words)] }
            // The terms of the words starting with the prefix: "negotiat*" covers "negoti"
            // ("negotiations"), however many terms that is (past 256 they are scored term at a time).
            let expanded = index.terms(ofWordsStartingWith: prefix)
            if words.isEmpty { return expanded.map { IndexQuery.Term($0) } }
            return expanded.isEmpty ? [] : [IndexQuery.Term(phrase: words, endingInAnyOf: expanded)]
        }
        var clauses: [[IndexQuery.Term]] = []
        for clause in plan.clauses {
            let alternatives = clause.flatMap(terms)
            // A clause nothing can satisfy (a prefix no term starts with) leaves no match.
            if alternatives.isEmpty { return IndexQuery(clauses: [], limit: limit) }
            clauses.append(alternatives)
        }
        return IndexQuery(clauses: clauses, excluded: plan.excluded.flatMap(terms), limit: limit, exactTotalUpTo: exactTotalUpTo)
    }

    /// A page of keyword turns ranked by the index: exact BM25 over every match within the
    /// filters, no budget; snippets mark the words the index matched.
    func indexedKeywordTurns(_ db: Database, _ query: IndexQuery, plan: SearchPlan, scope: SearchScope,
                             page: (offset: Int, limit: Int), markers: Markers) throws -> JSONObject {
        guard let found = try indexSearch(db, query, plan: plan, scope: scope) else { return Self.page([], total: 0, exact: true) }
        let highlight = Highlight(query)
        let turns = found.hits.dropFirst(page.offset).prefix(page.limit).map { Candidate(rowid: Int64($0.documentID), score: $0.score) }
        let hits = try turnHits(db, turns, highlight: highlight, markers: markers)
        return Self.page(hits, total: found.total, exact: found.totalExact)
    }

    /// The index's answer to `query` within the filters (scope and speakers), or nil when
    /// the filters leave no turn.
    private func indexSearch(_ db: Database, _ query: IndexQuery, plan: SearchPlan, scope: SearchScope) throws -> IndexSearchResult? {
        // Scope ranges are descending; the index wants them ascending.
        let ranges = scope.ranges.map { ranges in
            ranges.reversed().compactMap { range -> ClosedRange<UInt32>? in
                guard range.upperBound >= 1, range.lowerBound <= Int64(UInt32.max) else { return nil }
                return UInt32(max(range.lowerBound, 0))...UInt32(min(range.upperBound, Int64(UInt32.max)))
            }
        }
        var allowed = ranges
        let index = try index(db)
        let peopleFilters = [plan.speakerParamID.map { [$0] }, plan.speakerIDs.isEmpty ? nil : plan.speakerIDs].compactMap({ $0 })
        // One person across the corpus: their masks are kept (`SpeakerMasks`).
        if ranges == nil, peopleFilters.count == 1, peopleFilters[0].count == 1 {
            let person = peopleFilters[0][0]
            let turns = try speakerTurns(db, people: [person])
            if turns.isEmpty { return nil }
            let masks = try speakerMasks(db, person: person, turns: turns, index: index)
            if plan.clauses.isEmpty { return index.documents(in: masks, excluding: query.excluded, limit: query.limit) }
            return index.search(query, within: masks)
        }
        for people in peopleFilters {
            let turns = try speakerTurns(db, people: people)
            allowed = allowed.map { TurnRanges.intersection($0, turns) } ?? turns
        }
        if let allowed, allowed.isEmpty { return nil }
        // Speakers with no word to search: all their turns, each scoring 0, so the tie rule
        // (lower turn id first) orders them.
        if plan.clauses.isEmpty, let allowed { return index.documents(in: allowed, excluding: query.excluded, limit: query.limit) }
        return index.search(query, idRanges: allowed)
    }

    /// The sentences holding a matched word, in the order of their turns' exact BM25 ranks
    /// (then in the turn's order): every matching turn has such a sentence, so the index
    /// ranks only `offset + limit` turns. `total` counts turns.
    func indexedSentences(_ db: Database, _ query: IndexQuery, plan: SearchPlan, scope: SearchScope,
                          page: (offset: Int, limit: Int), markers: Markers) throws -> JSONObject {
        var query = query
        query.limit = max(page.offset + page.limit, 1)
        guard let found = try indexSearch(db, query, plan: plan, scope: scope) else { return Self.page([], total: 0, exact: true) }
        let turns = found.hits.map { Candidate(rowid: Int64($0.documentID), score: $0.score) }
        let hits = try sentenceHits(db, turns, highlight: Highlight(query), page: page, markers: markers)
        return Self.page(hits, total: found.total, exact: found.totalExact)
    }

    /// The sentences of `turns` (ranked) holding a word `highlight` marks (every sentence when
    /// it marks none: a speaker alone), turn by turn, each turn's in its order.
    private func sentenceHits(_ db: Database, _ turns: [Candidate], highlight: Highlight,
                              page: (offset: Int, limit: Int), markers: Markers) throws -> [JSONValue] {
        let details = try db.cachedStatement(sql: "SELECT \(Self.hitColumns), t.text FROM turn t \(Self.hitJoins) WHERE t.id = ?")
        var hits: [JSONValue] = []
        var skipped = 0
        let terms = HighlightTerms(highlight.terms, analyzer: analyzer), joining = SpanJoining(highlight, withinALine: true)
        for turn in turns where hits.count < page.limit {
            try budget.checkDeadline()
            guard let row = try Row.fetchOne(details, arguments: [turn.rowid]) else { continue }
            let marked = IndexSnippet.marking(TranscriptText.strippingMarks(row[7]), terms: terms,
                                              markers: Markers(open: "\u{2}", close: "\u{3}"), joining: joining, analyzer: analyzer)
            let scalars = Array(marked.unicodeScalars)
            for (index, span) in TranscriptText.sentences(in: marked).enumerated() where hits.count < page.limit {
                let sentence = String(String.UnicodeScalarView(scalars[span.start..<span.end]))
                guard highlight.terms.isEmpty || sentence.contains("\u{2}") else { continue }
                guard skipped >= page.offset else { skipped += 1; continue }
                let snippet = sentence.replacingOccurrences(of: "\u{2}", with: markers.open)
                    .replacingOccurrences(of: "\u{3}", with: markers.close)
                var hit = Self.hit(row, score: turn.score, snippet: snippet)
                hit["sentence"] = JSONValue(index)
                hits.append(.object(hit))
            }
        }
        return hits
    }

    /// A page of meetings from the index's turns, grouped and scored as `groupByMeeting`
    /// does. The index ranks up to `rankingBudget` turns (the best, not the newest); when
    /// fewer match, every match is grouped, so meeting scores, `matches` and `total` are
    /// exact; otherwise meetings are grouped from the best `rankingBudget` turns and
    /// `total_exact` is false.
    func indexedMeetings(_ db: Database, _ query: IndexQuery, plan: SearchPlan, scope: SearchScope,
                         page: (offset: Int, limit: Int), markers: Markers) throws -> JSONObject {
        var query = query
        // One more than the budget says whether any match was left out: until its top k
        // are full the index prunes nothing.
        query.limit = rankingBudget + 1
        guard let found = try indexSearch(db, query, plan: plan, scope: scope) else { return Self.page([], total: 0, exact: true) }
        let turns = found.hits.prefix(rankingBudget).map { Candidate(rowid: Int64($0.documentID), score: $0.score) }
        return try meetingsPage(db, turns, highlight: Highlight(query), page: page, markers: markers,
                                exact: found.hits.count <= rankingBudget)
    }

    /// A page of the meetings `turns` (scored) fall in, each with its best three as passages.
    private func meetingsPage(_ db: Database, _ turns: [Candidate], highlight: Highlight,
                              page: (offset: Int, limit: Int), markers: Markers, exact: Bool) throws -> JSONObject {
        let groups = try groupByMeeting(db, turns)
        let shown = groups.dropFirst(page.offset).prefix(page.limit)
        // The page's passages in one statement, as a page of turns is read, not one per meeting.
        let passages = try hitsByTurn(db, shown.flatMap { $0.turns.prefix(3) }, highlight: highlight, markers: markers)
        let hits = shown.map { group in meetingHit(group, passages: group.turns.prefix(3).compactMap { passages[$0.rowid] }) }
        return Self.page(hits, total: groups.count, exact: exact)
    }

    static func page(_ hits: [JSONValue], total: Int, exact: Bool) -> JSONObject {
        ["total": JSONValue(total), "total_exact": .bool(exact), "hits": .array(hits)]
    }

    /// A request's turns, their sentences or their meetings. The candidates are the index's
    /// matches of any topic word, rescored here (`adjustForRequest`, then the named speakers'
    /// turns and the matching sections within one meeting). Within one meeting every match
    /// is rescored, so the ranking is exact; across the corpus the index's best
    /// `rankingBudget` turns by BM25 are, and past them `total_exact` is false.
    private func requestPage(_ db: Database, plan: SearchPlan, scope: SearchScope, unit: Unit,
                             page: (offset: Int, limit: Int), markers: Markers) throws -> JSONObject {
        let meeting = plan.searchesOneMeeting ? scope.ranges.flatMap { $0.count == 1 ? $0[0] : nil } : nil
        var query = requestQuery(plan)
        // One more than the budget says whether any match was left out.
        query.limit = meeting.map { Int($0.upperBound - $0.lowerBound) + 1 } ?? rankingBudget + 1
        guard let found = try indexSearch(db, query, plan: plan, scope: scope) else { return Self.page([], total: 0, exact: true) }
        let exact = meeting != nil || found.hits.count <= rankingBudget
        var candidates = found.hits.prefix(exact ? found.hits.count : rankingBudget)
            .map { Candidate(rowid: Int64($0.documentID), score: $0.score) }
        try adjustForRequest(db, &candidates, plan: plan)
        if let meeting, !plan.namedSpeakers.isEmpty {
            try favourNamedSpeakersTurns(db, &candidates, plan: plan, meeting: meeting)
        }
        if !plan.sectionShares.isEmpty, let ranges = scope.ranges, ranges.count == 1 {
            try favourMatchingSections(db, &candidates, plan: plan, meeting: ranges[0])
        }
        candidates.sort { $0.score != $1.score ? $0.score > $1.score : $0.rowid > $1.rowid }
        let highlight = Highlight(query)
        let total = exact ? candidates.count : max(found.total, candidates.count)
        switch unit {
        case .turn:
            let hits = try turnHits(db, Array(candidates.dropFirst(page.offset).prefix(page.limit)), highlight: highlight,
                                    markers: markers)
            return Self.page(hits, total: total, exact: exact)
        case .sentence:
            return Self.page(try sentenceHits(db, candidates, highlight: highlight, page: page, markers: markers), total: total, exact: exact)
        case .meeting:
            return try meetingsPage(db, candidates, highlight: highlight, page: page, markers: markers, exact: exact)
        }
    }

    /// A request's index query: any of its topic words (one OR clause of their terms; two
    /// words of one stem add their weights, as in keywords).
    func requestQuery(_ plan: SearchPlan) -> IndexQuery {
        let terms = plan.topicWords.flatMap { word in analyzer.words(word).map { IndexQuery.Term($0.term) } }
        return IndexQuery(clauses: [terms], exactTotalUpTo: exactTotalUpTo)
    }

    struct MeetingGroup {
        var meetingPK: Int64
        var score: Double
        var turns: [Candidate]
    }

    /// Turns grouped per meeting; a meeting scores its best turn plus a share of its next two,
    /// so a meeting that keeps returning to the topic outranks one passing mention.
    private func groupByMeeting(_ db: Database, _ ranked: [Candidate]) throws -> [MeetingGroup] {
        let starts = try meetingStarts(db)
        var groups: [Int64: MeetingGroup] = [:]
        for candidate in ranked {
            guard let pk = starts.meeting(ofTurn: candidate.rowid) else { continue }
            groups[pk, default: MeetingGroup(meetingPK: pk, score: 0, turns: [])].turns.append(candidate)
        }
        return groups.values.map { group in
            var group = group
            let best = group.turns.prefix(3).map(\.score)
            group.score = best[0] + 0.3 * best.dropFirst().reduce(0, +)
            return group
        }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.meetingPK > $1.meetingPK }
    }

    /// A meeting hit: its best passage's fields, its score, its matching turns, its best passages.
    private func meetingHit(_ group: MeetingGroup, passages: [JSONObject]) -> JSONValue {
        var hit = passages.first ?? [:]
        hit["score"] = .double(group.score)
        hit["matches"] = JSONValue(group.turns.count)
        hit["passages"] = .array(passages.map { passage in
            .object(["turn": passage["turn"] ?? .null, "speaker": passage["speaker"] ?? .null,
                     "score": passage["score"] ?? .null, "snippet": passage["snippet"] ?? .null])
        })
        return .object(hit)
    }
}
