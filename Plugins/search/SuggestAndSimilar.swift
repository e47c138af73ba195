// search.suggest (completions and "did you mean") and search.similar (more like this).

import Foundation
import MeetingKit

extension SearchModule {
    func suggest(_ params: JSONValue) throws(MethodError) -> JSONValue {
        let text = params["q"]?.stringValue ?? ""
        let limit = params["limit"]?.intValue ?? 8
        let words = QueryLanguage.tokens(text)
        // The last word is still being typed unless the query ends in a space.
        let typing = text.last.map { !$0.isWhitespace && $0 != "\"" } == true ? words.last : nil
        return try read { db in
            let vocabulary = try vocabulary(db)
            var answer: JSONObject = ["completions": [], "speakers": []]
            if let typing {
                var completions: [String] = []
                for term in vocabulary.completions(of: typing, limit: limit * 2) where completions.count < limit {
                    let written = try writtenForm(db, term: term)
                    if written.hasPrefix(typing), written != typing, !completions.contains(written) { completions.append(written) }
                }
                answer["completions"] = .array(completions.map(JSONValue.string))
                let pattern = typing.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                    .replacingOccurrences(of: "_", with: "\\_")
                let speakers = try String.fetchAll(db, sql: """
                    SELECT name FROM person WHERE name LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\'
                    ORDER BY name LIMIT ?
                    """, arguments: [pattern + "%", "% " + pattern + "%", limit])
                answer["speakers"] = .array(speakers.map(JSONValue.string))
            }
            var corrected = text
            var changed = false
            // A word still being typed that completes to something is not misspelt.
            let completes = !(answer["completions"]?.arrayValue?.isEmpty ?? true)
            for word in Set(words) where !(word == typing && completes) {
                guard Vocabulary.allowedDistance(word) > 0, !vocabulary.holds(word),
                      let replacement = vocabulary.correction(for: word) else { continue }
                corrected = Self.replacingWord(word, with: try writtenForm(db, term: replacement), in: corrected)
                changed = true
            }
            if changed { answer["did_you_mean"] = .string(corrected) }
            return .object(answer)
        }
    }

    /// Replaces whole words only, whatever their case.
    static func replacingWord(_ word: String, with replacement: String, in text: String) -> String {
        var result = ""
        var current = ""
        func flush() {
            result += current.lowercased() == word ? matchingCase(of: current, replacement) : current
            current = ""
        }
        for character in text {
            if character.isLetter || character.isNumber { current.append(character) } else { flush(); result.append(character) }
        }
        flush()
        return result
    }

    func similar(_ params: JSONValue) throws(MethodError) -> JSONValue {
        let meeting = params["meeting"]?.stringValue ?? ""
        let index = params["turn"]?.intValue ?? 0
        let limit = params["limit"]?.intValue ?? 10
        let sameMeeting = params["same_meeting"]?.boolValue ?? false
        let markers = markers(params)
        return try read { db in
            guard let span = try Row.fetchOne(db, sql: "SELECT first_turn, turns FROM meeting WHERE id = ?", arguments: [meeting]) else {
                throw MethodError.notFound("meeting", id: meeting)
            }
            let first: Int64 = span[0], count: Int = span[1]
            guard index < count else { throw MethodError.notFound("turn", id: "\(meeting) turn \(index)") }
            let source = first + Int64(index)
            let text = try String.fetchOne(db, sql: "SELECT text FROM \(CorpusSchema.ftsContentView) WHERE turn_id = ?",
                                           arguments: [source]) ?? ""
            let terms = try weightedTerms(db, of: text, count: 12)
            guard !terms.isEmpty else { return ["terms": [], "hits": []] }
            let expression = "text : (" + terms.map { SearchPlan.quoted([$0.word]) }.joined(separator: " OR ") + ")"
            var candidates = try scoredMatches(db, expression: expression, scope: SearchScope(ranges: nil)).candidates
            candidates.removeAll { sameMeeting ? $0.rowid == source : (first..<(first + Int64(count))).contains($0.rowid) }
            candidates.sort { $0.score != $1.score ? $0.score > $1.score : $0.rowid > $1.rowid }
            let hits = try candidates.prefix(limit).map { candidate -> JSONValue in
                .object(try turnHit(db, candidate, highlighting: expression, markers: markers))
            }
            return ["terms": .array(terms.map { .string($0.term) }), "hits": .array(hits)]
        }
    }

    /// The turn's most telling index terms, frequent in it and rare in the corpus
    /// (tf·idf), each with a word of the turn that has it, for FTS5 to search.
    private func weightedTerms(_ db: Database, of text: String, count: Int) throws -> [(term: String, word: String)] {
        let index = try index(db)
        let turns = Double(index.documentCount)
        let stopWords = RequestPhrasing.stopWords
        var frequencies: [String: (count: Int, word: String)] = [:]
        for word in analyzer.words(TranscriptText.strippingMarks(text))
        where word.term.unicodeScalars.count >= 3 && !stopWords.contains(word.normalized)
            && word.term.contains(where: \.isLetter) {
            frequencies[word.term, default: (0, word.normalized)].count += 1
        }
        let weighted = frequencies.compactMap { term, frequency -> (term: String, word: String, weight: Double)? in
            // A term only this turn holds finds nothing else; one in every twentieth turn tells nothing apart.
            let documents = index.documentFrequency(term)
            guard documents > 1, Double(documents) < turns / 20 else { return nil }
            return (term, frequency.word, Double(frequency.count).squareRoot() * log(turns / Double(documents)))
        }
        return weighted.sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.term < $1.term }
            .prefix(count).map { ($0.term, $0.word) }
    }
}
