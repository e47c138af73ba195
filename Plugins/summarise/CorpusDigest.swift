// summarise.corpus: the turns of every meeting that the corpus's index ranks best
// for a subject, gathered into one text and summarised like a question on a meeting.

import Foundation
import MeetingKit

struct CorpusDigest {
    /// How many of the index's best turns are read.
    static let turnLimit = 200

    var text = MeetingText(id: "", title: "", date: nil)
    /// Per turn of `text`: its meeting, the meeting's date and the index's BM25 score.
    var origins: [(meeting: String, date: String?, score: Float)] = []

    /// The words of `q` searched for: its subject, without function and request words (or
    /// without function words alone, when that leaves none).
    static func subject(of q: String, analyser: TextAnalyser) throws -> [String] {
        let words = analyser.words(Substring(q)).map { $0.lowercased() }
        var subject = words.filter { !analyser.isFunctionWord($0) && !QueryFocus.requestWords.contains($0) }
        if subject.isEmpty { subject = words.filter { !analyser.isFunctionWord($0) } }
        guard !subject.isEmpty else { throw MethodError.invalidParams(field: "q", reason: "has no words to search for") }
        return subject
    }

    /// The digest of `hits` (the index's best turns, with their scores), its turns in the
    /// order people would read them: by date, meeting and turn.
    static func gather(_ hits: [IndexHit], _ db: Database, analyser: inout TextAnalyser) throws -> CorpusDigest {
        let details = try db.cachedStatement(sql: """
            SELECT m.id, m.date, t.idx, p.name, t.text, t.sentences
            FROM turn t JOIN meeting m ON m.pk = t.meeting_pk LEFT JOIN person p ON p.id = t.person_id WHERE t.id = ?
            """)
        let rows = try hits.compactMap { hit in
            try Row.fetchOne(details, arguments: [Int64(hit.documentID)]).map { (row: $0, score: Float(hit.score)) }
        }
        let ordered = rows.sorted { a, b in
            let left = (a.row["date"] as String? ?? "", a.row["id"] as String, a.row["idx"] as Int)
            let right = (b.row["date"] as String? ?? "", b.row["id"] as String, b.row["idx"] as Int)
            return left < right
        }
        var digest = CorpusDigest()
        for (row, score) in ordered {
            try digest.text.addTurn(index: row["idx"], speaker: row["name"], text: row["text"],
                                    spans: TranscriptText.decodeSentences(row["sentences"] as Data), analyser: &analyser)
            digest.origins.append((row["id"], row["date"], score))
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
