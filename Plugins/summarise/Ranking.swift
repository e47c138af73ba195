// Ranking sentences: centrality (LexRank), query relevance (BM25 on turns,
// smoothed over neighbouring turns), and a budgeted MMR choice.

import Foundation
import MeetingKit

/// Tunable weights, gathered so that their roles are visible in one place.
enum RankingWeights {
    /// LexRank damping: the share of a sentence's score that flows from similar sentences.
    static let damping: Float = 0.85
    /// For a question the prior is relevance, and it should weigh more than centrality.
    static let queryDamping: Float = 0.5
    static let lexRankIterations = 20
    /// A summary sentence has at least this many words, and this many that are neither function words nor courtesy.
    static let minWords = 5
    static let minInformativeWords = 3
    /// Sentences shorter than this keep only `shortShare` of their score: they fill what is left
    /// of a budget, or summarise a meeting of short captions, but rarely say enough on their own.
    static let fullSentenceWords = 8
    static let shortShare: Float = 0.1
    /// MMR: weight of a sentence's own score against its similarity to sentences already chosen.
    static let mmrLambda: Float = 0.7
    /// BM25 parameters.
    static let k1: Float = 1.2
    static let b: Float = 0.75
    /// Words on each side over which a turn's relevance spreads (about half a typical answer's
    /// stretch), and for a request to summarise a discussion, which spans more talk.
    static let smoothingHalfWidth: Float = 300
    static let discussionHalfWidth: Float = 900
    /// A located stretch extends from its peak while smoothed relevance stays above this share of the peak.
    static let regionThreshold: Float = 0.5
    /// Another stretch is located if its peak reaches this share of the best one's.
    static let secondRegionRatio: Float = 0.8
    /// Pseudo-relevance feedback: words taken from the best-matching turns, how many turns, and their weight.
    static let feedbackTerms = 20
    static let feedbackTurns = 5
    static let feedbackWeight: Float = 0.2
    /// Weight of a question's two-word phrase found in a turn, relative to its words' own weights.
    static let phraseWeight: Float = 2
    /// How much more a turn counts, at most, for being in a section whose title names the question's topic.
    static let sectionBoost: Float = 1
    /// How much more a turn counts, at most, for being in a section whose title names what a
    /// question's "when …" clause says was going on ("… when discussing the shape of the remote").
    static let contextSectionBoost: Float = 3
    /// A "when …" clause names a section when its heading holds at least this share of the clause's words'
    /// weight (val ROUGE-1 30.05 at 0.5, 30.06 at 0.7; any shared word named one before, 30.01).
    static let clauseHeadingCoverage: Float = 0.5
    /// Weight of a "when …" clause's words in the talk, against the question's own, when no heading names them
    /// (30.05 at 1 and 1.5, 29.99 at 0.5).
    static let unmatchedClauseWeight: Float = 1
    /// Weight of a related word (`RelatedWords`) against the question's word it is related to, times their
    /// strength (30.01 at 0.3, 29.99 at 0.6, against 29.99 without).
    static let relatedWeight: Float = 0.3
    /// At most this many stretches are located.
    static let maxRegions = 2
    /// How much a named speaker's turns count for more when locating.
    static let namedSpeakerBoost: Float = 2
    /// How much a named speaker's sentences count for more in the biased-centrality prior.
    static let namedSpeakerSentenceBoost: Float = 3
    /// Share of the biased-centrality prior that comes from a sentence's own words rather than its turn's neighbourhood.
    static let sentenceRelevanceShare: Float = 0.4
}

struct TermPair: Hashable {
    let first: Int
    let second: Int
}

/// What a question asks for: topic stems (with IDF weights) and the speakers it names.
struct QueryFocus {
    var topic: [(term: Int, weight: Float)] = []
    /// The question's subject words as asked (its words less names, request and function words),
    /// whether or not the meeting holds them.
    var subjectWords: [String] = []
    var namedSpeakers: Set<Int> = []
    /// Subject words next to each other in the question ("touch screen"): said together, they locate better.
    var phrases: Set<TermPair> = []
    /// The topic stems of a "when …" clause ("… when discussing the shape of the remote"): what
    /// was going on when the thing asked about was said, which names a section rather than the answer.
    var context: [(term: Int, weight: Float)] = []
    /// "Summarize the discussion about X" asks for a whole stretch of talk, not one exchange.
    var asksForDiscussion = false

    /// Words that phrase a request rather than name its subject.
    static let requestWords: Set<String> = [
        "summarize", "summarise", "summary", "summarization", "discuss", "discussed", "discussing", "discussion", "discussions",
        "talk", "talked", "talking", "think", "thought", "thinks", "opinion", "opinions", "say", "said", "says", "meeting",
        "meetings", "group", "whole", "decide", "decided", "decision", "decisions", "conclusion", "conclusions", "conclude",
        "concluded", "agree", "agreed", "agreement", "disagree", "disagreed", "main", "point", "points", "topic", "topics",
        "mention", "mentioned", "mentioning", "explain", "explained", "view", "views", "believe", "believed", "feel", "felt",
        "suggest", "suggested", "suggestion", "suggestions", "express", "expressed", "ask", "asked", "answer", "answered",
        "respond", "responded", "response", "happen", "happened", "overall", "general", "regarding", "part", "reason",
        "reasons", "consider", "considered", "comment", "commented", "comments", "debate", "debated", "argue", "argued",
        "state", "stated", "talk", "team", "everyone", "people", "members", "member", "committee", "party", "whole",
        "detail", "details", "detailed", "question", "questions", "questioning", "raise", "raised", "present", "presented",
        "presentation", "presentations", "introduce", "introduced", "idea", "ideas", "come", "came", "discuss", "give", "gave",
        "говорил", "говорила", "говорили", "говорилось", "сказал", "сказала", "сказали", "сказано", "обсуждали",
        "обсуждалось", "обсуждался", "заявил", "заявила", "думает", "считает", "считают", "мнение", "обсуждение",
    ]

    /// Words that open a clause saying what was going on ("… when discussing …").
    static let contextWords: Set<String> = ["when", "while", "когда"]

    init() {}

    init(query: String, meeting: MeetingText, analyser: inout TextAnalyser) {
        let queryWords = NamesInText.words(query)
        asksForDiscussion = queryWords.contains { ["summarize", "summarise", "discussion", "discussed"].contains($0) }
        // Who the question names, by the rule every module shares: each speaker under their
        // name, the labels they speak with here and their roles.
        let candidates = meeting.speakerForms.enumerated().flatMap { speaker, forms in forms.map { (id: Int64(speaker), name: $0) } }
        let named = NamesInText.named(in: queryWords, capitalised: NamesInText.capitalisedPositions(query), among: candidates)
        namedSpeakers = Set(named.speakers.map { Int($0.id) })
        var seen: Set<Int> = []
        var mainTerms: Set<Int> = []
        // Not the question's first word: "When will the prototype be ready?" asks about a time.
        let clauseStart = queryWords.indices.dropFirst().first { Self.contextWords.contains(queryWords[$0]) } ?? queryWords.count
        for (position, lower) in queryWords.enumerated() where !named.positions.contains(position) {
            if Self.requestWords.contains(lower) || analyser.isFunctionWord(lower) || SpokenText.phatic.contains(lower) { continue }
            if !subjectWords.contains(lower) { subjectWords.append(lower) }
            let stem = analyser.term(lower)
            guard let term = meeting.vocabulary.ids[stem] else { continue }
            if position > clauseStart { context.append((term, meeting.vocabulary.idf[term])) } else { mainTerms.insert(term) }
            guard seen.insert(term).inserted else { continue }
            topic.append((term, meeting.vocabulary.idf[term]))
        }
        // The clause's own words are not what was asked about: matched in the talk, they find the
        // section's subject wherever it comes up. They stay when the question has no other subject.
        let clauseOnly = Set(context.map(\.term)).subtracting(mainTerms)
        let asked = topic.filter { !clauseOnly.contains($0.term) }
        if !asked.isEmpty { topic = asked }
        phrases = Set(zip(topic, topic.dropFirst()).map { TermPair(first: $0.term, second: $1.term) })
    }
}

extension MeetingText {
    /// LexRank with a prior (Otterbacher et al.'s biased LexRank) over `candidates`, in
    /// linear time: the similarity-weighted sum over all sentences is one dot product with
    /// the sum of their unit vectors, so no n×n matrix is built.
    func lexRank(_ candidates: [Int], prior: [Float], damping: Float) -> [Float] {
        let n = candidates.count
        guard n > 1 else { return [Float](repeating: 1, count: n) }
        let vocabularySize = vocabulary.stems.count
        var sum = [Float](repeating: 0, count: vocabularySize)
        for index in candidates { for entry in sentences[index].vector { sum[entry.term] += entry.weight } }
        func dot(_ index: Int, _ dense: [Float]) -> Float {
            sentences[index].vector.reduce(0) { $0 + $1.weight * dense[$1.term] }
        }
        // Degree without the sentence's similarity to itself (1 for a non-empty unit vector).
        let degree = candidates.map { index -> Float in
            max(dot(index, sum) - (sentences[index].vector.isEmpty ? 0 : 1), 0)
        }
        let priorTotal = prior.reduce(0, +)
        let teleport = priorTotal > 0 ? prior.map { $0 / priorTotal } : [Float](repeating: 1 / Float(n), count: n)
        var score = teleport
        var flow = [Float](repeating: 0, count: vocabularySize)
        for _ in 0..<RankingWeights.lexRankIterations {
            for i in flow.indices { flow[i] = 0 }
            var stranded: Float = 0
            for (position, index) in candidates.enumerated() {
                guard degree[position] > 1e-6 else { stranded += score[position]; continue }
                let share = score[position] / degree[position]
                for entry in sentences[index].vector { flow[entry.term] += share * entry.weight }
            }
            var next = [Float](repeating: 0, count: n)
            for (position, index) in candidates.enumerated() {
                let selfFlow = degree[position] > 1e-6 && !sentences[index].vector.isEmpty ? score[position] / degree[position] : 0
                let incoming = dot(index, flow) - selfFlow
                next[position] = (1 - damping + damping * stranded) * teleport[position] + damping * incoming
            }
            score = next
        }
        return score
    }

    /// BM25 of every turn for the query's topic stems.
    func turnRelevance(_ topic: [(term: Int, weight: Float)]) -> [Float] {
        let averageLength = max(Float(turns.reduce(0) { $0 + $1.length }) / Float(max(turns.count, 1)), 1)
        return turns.map { turn in
            topic.reduce(0) { score, query in
                guard let count = turn.termCounts[query.term] else { return score }
                let tf = Float(count)
                let norm = RankingWeights.k1 * (1 - RankingWeights.b + RankingWeights.b * Float(turn.length) / averageLength)
                return score + query.weight * tf * (RankingWeights.k1 + 1) / (tf + norm)
            }
        }
    }

    /// Per turn, a bonus for each of the question's phrases said in it (its two words in a
    /// row, function words aside), worth `phraseWeight` times the pair's weights, saturating.
    func phraseRelevance(_ phrases: Set<TermPair>, weights: [(term: Int, weight: Float)]) -> [Float] {
        guard !phrases.isEmpty else { return [Float](repeating: 0, count: turns.count) }
        let weight = Dictionary(weights.map { ($0.term, $0.weight) }, uniquingKeysWith: max)
        return turns.map { turn in
            var found: [TermPair: Float] = [:]
            for index in turn.sentences {
                let terms = sentences[index].terms
                for (first, second) in zip(terms, terms.dropFirst()) {
                    let pair = TermPair(first: first, second: second)
                    if phrases.contains(pair) { found[pair, default: 0] += 1 }
                }
            }
            // Summed in a fixed order: dictionary order changes from process to process.
            return found.sorted { ($0.key.first, $0.key.second) < ($1.key.first, $1.key.second) }.reduce(0) { total, entry in
                total + RankingWeights.phraseWeight * ((weight[entry.key.first] ?? 0) + (weight[entry.key.second] ?? 0))
                    * entry.value / (entry.value + 1)
            }
        }
    }

    /// BM25-like weight of the topic stems in one sentence, saturating per stem.
    func sentenceRelevance(_ index: Int, _ topic: [(term: Int, weight: Float)]) -> Float {
        let terms = sentences[index].terms
        return topic.reduce(0) { score, query in
            let tf = Float(terms.lazy.filter { $0 == query.term }.count)
            return score + query.weight * tf / (tf + 0.5)
        }
    }

    /// Each turn's relevance spread over the turns within `halfWidth` words of it, with a
    /// triangular kernel: a question's answer is a stretch of talk, measured in words
    /// because a turn may be one word or five hundred.
    func smooth(_ scores: [Float], halfWidth: Float) -> [Float] {
        let middles = turnMiddles()
        let relevant = scores.indices.filter { scores[$0] > 0 }
        return middles.map { middle in
            relevant.reduce(0) { total, other in
                let distance = abs(middles[other] - middle)
                return distance < halfWidth ? total + scores[other] * (1 - distance / halfWidth) : total
            }
        }
    }

    /// Each turn's middle, in words of talk from the meeting's start.
    func turnMiddles() -> [Float] {
        var middles: [Float] = []
        var wordsBefore: Float = 0
        for turn in turns {
            let words = Float(sentences[turn.sentences].reduce(0) { $0 + $1.words })
            middles.append(wordsBefore + words / 2)
            wordsBefore += words
        }
        return middles
    }

    func cosine(_ a: Int, _ b: Int) -> Float {
        let x = sentences[a].vector, y = sentences[b].vector
        var i = 0, j = 0
        var total: Float = 0
        while i < x.count && j < y.count {
            if x[i].term == y[j].term { total += x[i].weight * y[j].weight; i += 1; j += 1 }
            else if x[i].term < y[j].term { i += 1 } else { j += 1 }
        }
        return total
    }
}
