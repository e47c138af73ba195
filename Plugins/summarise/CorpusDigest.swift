// summarise.corpus: the turns of every meeting that the full-text index ranks best
// for a subject, gathered into one text and summarised like a question on a meeting.

import Foundation
import MeetingKit

struct CorpusDigest {
    /// How many of the index's best turns are read.
    static let turnLimit = 200

    var text = MeetingText(id: "", title: "", date: nil)
    /// Per turn of `text`: its meeting, the meeting's date and the index's BM25 score.
    var origins: [(meeting: String, date: String?, score: Float)] = []

    static func gather(q: String, from: String?, to: String?, speaker: String?, corpus: Corpus,
                       analyser: inout TextAnalyser) throws -> CorpusDigest {
        let words = analyser.words(Substring(q)).map { $0.lowercased() }
        var subject = words.filter { !analyser.isFunctionWord($0) && !QueryFocus.requestWords.contains($0) }
        if subject.isEmpty { subject = words.filter { !analyser.isFunctionWord($0) } }
        guard !subject.isEmpty else { throw MethodError.invalidParams(field: "q", reason: "has no words to search for") }
        // Quoted words only, so user text is never read as FTS5 syntax.
        let match = "text : (" + subject.map { "\"\($0)\"" }.joined(separator: " OR ") + ")"
        var digest = CorpusDigest()
        try corpus.reader.read { db in
            var filters = ""
            var arguments: StatementArguments = ["match": match, "limit": turnLimit]
            if let from { filters += " AND f.date >= :from"; arguments += ["from": from] }
            if let to { filters += " AND substr(f.date, 1, length(:to)) <= :to"; arguments += ["to": to] }
            if let speaker {
                filters += " AND t.person_id = :person"
                arguments += ["person": try PersonResolver.person(speaker, field: "speaker", in: db).id]
            }
            let table = CorpusSchema.ftsTable
            let rows = try Row.fetchAll(db, sql: """
                SELECT f.meeting_id, f.date, -bm25(\(table)) AS score, t.idx, p.name, t.text, t.sentences
                FROM \(table) f JOIN turn t ON t.id = f.rowid LEFT JOIN person p ON p.id = t.person_id
                WHERE \(table) MATCH :match \(filters)
                ORDER BY rank LIMIT :limit
                """, arguments: arguments)
            // In the order people would read them: by date, meeting and turn.
            let ordered = rows.sorted { a, b in
                let left = (a["date"] as String? ?? "", a["meeting_id"] as String, a["idx"] as Int)
                let right = (b["date"] as String? ?? "", b["meeting_id"] as String, b["idx"] as Int)
                return left < right
            }
            for row in ordered {
                try digest.text.addTurn(index: row["idx"], speaker: row["name"], text: row["text"],
                                    spans: TranscriptText.decodeSentences(row["sentences"] as Data), analyser: &analyser)
                digest.origins.append((row["meeting_id"], row["date"], Float(row["score"] as Double)))
            }
        }
        return digest
    }

    func label(turn position: Int, speaker: Int?) -> String {
        let parts = [origins[position].date, speaker.map { MeetingText.displayName(text.speakers[$0]) }].compactMap { $0 }
        return parts.isEmpty ? "" : parts.joined(separator: " ") + ": "
    }

    func summary(q: String, maxWords: Int, analyser: inout TextAnalyser) -> JSONValue {
        var turnOf: [Int] = []
        for (position, turn) in text.turns.enumerated() { turnOf += Array(repeating: position, count: turn.sentences.count) }
        var seen: Set<Int> = []
        let topic = analyser.terms(q).compactMap { stem -> (term: Int, weight: Float)? in
            guard let term = text.vocabulary.ids[stem], seen.insert(term).inserted else { return nil }
            return (term, text.vocabulary.idf[term])
        }
        var plan = SummaryPlan()
        plan.candidates = text.sentences.indices.filter(text.completeSentences())
        let own = plan.candidates.map { text.sentenceRelevance($0, topic) }
        let ownPeak = max(own.max() ?? 0, 1e-6)
        let turnPeak = max(origins.map(\.score).max() ?? 0, 1e-6)
        let share = RankingWeights.sentenceRelevanceShare
        let prior = plan.candidates.indices.map { i in
            share * own[i] / ownPeak + (1 - share) * origins[turnOf[plan.candidates[i]]].score / turnPeak
        }
        plan.scores = text.lexRank(plan.candidates, prior: prior, damping: RankingWeights.queryDamping)
        let labels = text.sentences.indices.map { label(turn: turnOf[$0], speaker: text.sentences[$0].speaker) }
        let chosen = text.choose(plan, maxWords: maxWords, maxSentences: .max,
                                 labelWords: { TranscriptText.wordCount(labels[$0]) })
        let lines = chosen.map { labels[$0] + text.sentences[$0].text }
        let summary = lines.joined(separator: "\n")
        let sentences: [JSONValue] = chosen.map { index in
            let sentence = text.sentences[index]
            let origin = origins[turnOf[index]]
            return ["meeting": .string(origin.meeting), "date": JSONValue(origin.date), "text": .string(sentence.text),
                    "turn": JSONValue(sentence.turn), "speaker": JSONValue(sentence.speaker.map { text.speakers[$0] }),
                    "start": JSONValue(sentence.start), "end": JSONValue(sentence.end)]
        }
        return ["summary": .string(summary), "words": JSONValue(TranscriptText.wordCount(summary)), "sentences": .array(sentences)]
    }
}
