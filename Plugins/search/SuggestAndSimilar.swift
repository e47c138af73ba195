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
                // The words a prefix search for what is typed would find, the word itself left
                // out, as the corpus writes them (the dictionary holds them folded).
                let typed = Analyzer.normalize(typing)
                let completions = vocabulary.completions(of: typed, limit: limit + 1).filter { $0 != typed }.prefix(limit)
                answer["completions"] = .array(try completions.map { .string(try writtenForm(db, word: $0, in: vocabulary)) })
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
                corrected = Self.replacingWord(word, with: try writtenForm(db, term: replacement, in: vocabulary), in: corrected)
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
            let text = try String.fetchOne(db.cachedStatement(sql: "SELECT text FROM turn WHERE id = ?"), arguments: [source]) ?? ""
            let terms = try weightedTerms(db, of: text, count: 12)
            guard !terms.isEmpty else { return ["terms": [], "hits": []] }
            // The exact best `limit` turns holding any of the terms, outside the source turn
            // (or its meeting): every turn id but those, as ascending ranges.
            let left = sameMeeting ? source : first, right = sameMeeting ? source : first + Int64(count) - 1
            let allowed = [left > 0 ? 0...UInt32(clamping: left - 1) : nil,
                           right < Int64(UInt32.max) ? UInt32(clamping: right + 1)...UInt32.max : nil]
            let query = IndexQuery.any(terms.map { IndexQuery.Term($0) }, limit: limit)
            let found = try self.index(db).search(query, idRanges: allowed.compactMap { $0 })
            let highlight = Highlight(query)
            let hits = try turnHits(db, found.hits.map { Candidate(rowid: Int64($0.documentID), score: $0.score) },
                                    highlight: highlight, markers: markers)
            return ["terms": .array(terms.map(JSONValue.string)), "hits": .array(hits)]
        }
    }

    /// The turn's most telling index terms, frequent in it and rare in the corpus (tf·idf).
    private func weightedTerms(_ db: Database, of text: String, count: Int) throws -> [String] {
        let index = try index(db)
        let turns = Double(index.documentCount)
        let stopWords = RequestPhrasing.stopWords
        var frequencies: [String: Int] = [:]
        for word in analyzer.words(TranscriptText.strippingMarks(text))
        where word.term.unicodeScalars.count >= 3 && !stopWords.contains(word.normalized)
            && word.term.contains(where: \.isLetter) {
            frequencies[word.term, default: 0] += 1
        }
        let weighted = frequencies.compactMap { term, frequency -> (term: String, weight: Double)? in
            // A term only this turn holds finds nothing else; one in every twentieth turn tells nothing apart.
            let documents = index.documentFrequency(term)
            guard documents > 1, Double(documents) < turns / 20 else { return nil }
            return (term, Double(frequency).squareRoot() * log(turns / Double(documents)))
        }
        return weighted.sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.term < $1.term }
            .prefix(count).map(\.term)
    }
}
