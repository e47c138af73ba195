// Choosing a summary: which sentences are candidates and how they score (whole
// meeting, one speaker, or one question), then a budgeted MMR choice and the text.

import Foundation
import MeetingKit

/// The candidates of a summary with their scores, and the turns a query located.
struct SummaryPlan {
    var candidates: [Int] = []
    var scores: [Float] = []
    var located: [ClosedRange<Int>] = []
}

extension MeetingText {
    /// Candidates and scores for a whole-meeting summary, or a question's if `query` names a subject.
    /// `onlySpeakers` keeps the sentences of those speakers only.
    func plan(query: String?, onlySpeakers: Set<Int>?, analyser: inout TextAnalyser) -> SummaryPlan {
        let focus = query.map { QueryFocus(query: $0, meeting: self, analyser: &analyser) } ?? QueryFocus()
        let speakers = onlySpeakers ?? (focus.topic.isEmpty && !focus.namedSpeakers.isEmpty ? focus.namedSpeakers : nil)
        let complete = completeSentences()
        func admitted(_ index: Int) -> Bool {
            complete(index) && (speakers == nil || sentences[index].speaker.map { speakers!.contains($0) } == true)
        }
        var plan: SummaryPlan
        if !focus.topic.isEmpty, let located = locate(focus, admitted: admitted) {
            plan = located
        } else {
            plan = SummaryPlan()
            plan.candidates = sentences.indices.filter(admitted)
            plan.scores = lexRank(plan.candidates, prior: [Float](repeating: 1, count: plan.candidates.count),
                                  damping: RankingWeights.damping)
        }
        for (position, index) in plan.candidates.enumerated() where sentences[index].words < RankingWeights.fullSentenceWords {
            plan.scores[position] *= RankingWeights.shortShare
        }
        return plan
    }

    /// Which sentences may be summary sentences: eligible ones, and in a punctuated transcript
    /// only those that end as sentences do; one without a final . ! ? there is where a speaker
    /// broke off or was cut short. A transcript without punctuation (captions) has no such ends.
    func completeSentences() -> (Int) -> Bool {
        let punctuated = sentences.lazy.filter(\.terminated).count * 2 >= sentences.count
        return { [sentences] index in sentences[index].eligible && (sentences[index].terminated || !punctuated) }
    }

    /// Turns the question is about (BM25, smoothed over neighbours, named speakers counted
    /// up), their sentences as candidates, scored by LexRank biased towards relevance.
    private func locate(_ focus: QueryFocus, admitted: (Int) -> Bool) -> SummaryPlan? {
        let weights = locatingWeights(focus.topic)
        var relevance = turnRelevance(expandedByFeedback(weights))
        for (position, bonus) in phraseRelevance(focus.phrases, weights: weights).enumerated() { relevance[position] += bonus }
        if !focus.namedSpeakers.isEmpty {
            for (position, turn) in turns.enumerated() where turn.speaker.map(focus.namedSpeakers.contains) == true {
                relevance[position] *= 1 + RankingWeights.namedSpeakerBoost
            }
        }
        for (position, factor) in sectionFactors(focus.topic) { relevance[position] *= factor }
        let smoothed = smooth(relevance, halfWidth: focus.asksForDiscussion
                                ? RankingWeights.discussionHalfWidth : RankingWeights.smoothingHalfWidth)
        guard let peak = smoothed.max(), peak > 0 else { return nil }
        var plan = SummaryPlan()
        var inRegion = [Bool](repeating: false, count: turns.count)
        while plan.located.count < RankingWeights.maxRegions {
            guard let top = smoothed.indices.filter({ !inRegion[$0] }).max(by: { smoothed[$0] < smoothed[$1] }),
                  smoothed[top] >= (plan.located.isEmpty ? peak : RankingWeights.secondRegionRatio * peak) else { break }
            let floor = RankingWeights.regionThreshold * smoothed[top]
            var lower = top, upper = top
            while lower > 0, !inRegion[lower - 1], smoothed[lower - 1] >= floor { lower -= 1 }
            while upper < turns.count - 1, !inRegion[upper + 1], smoothed[upper + 1] >= floor { upper += 1 }
            for position in lower...upper { inRegion[position] = true }
            plan.located.append(turns[lower].index...turns[upper].index)
        }
        plan.located.sort { $0.lowerBound < $1.lowerBound }
        var prior: [Float] = []
        var topicPeak: Float = 0
        var sentenceScores: [Float] = []
        for (position, turn) in turns.enumerated() where inRegion[position] {
            for index in turn.sentences where admitted(index) {
                let own = sentenceRelevance(index, focus.topic)
                topicPeak = max(topicPeak, own)
                plan.candidates.append(index)
                sentenceScores.append(own)
                prior.append(smoothed[position] / peak)
            }
        }
        guard !plan.candidates.isEmpty else { return nil }
        let share = RankingWeights.sentenceRelevanceShare
        for i in prior.indices {
            prior[i] = share * (topicPeak > 0 ? sentenceScores[i] / topicPeak : 0) + (1 - share) * prior[i]
            if let speaker = sentences[plan.candidates[i]].speaker, focus.namedSpeakers.contains(speaker) {
                prior[i] *= 1 + RankingWeights.namedSpeakerSentenceBoost
            }
        }
        plan.scores = lexRank(plan.candidates, prior: prior, damping: RankingWeights.queryDamping)
        return plan
    }

    /// Sections (an agenda, QMSum's topic list) say where a topic is discussed: a turn in a
    /// section whose title shares the question's topic stems counts up to
    /// `sectionBoost` more, in proportion to the stems shared against the best title's.
    private func sectionFactors(_ topic: [(term: Int, weight: Float)]) -> [(position: Int, factor: Float)] {
        guard sectionTerms.count > 1, turnSections.count == turns.count else { return [] }
        let topicTerms = Set(topic.map(\.term))
        let shared = sectionTerms.map { $0.intersection(topicTerms).count }
        guard let most = shared.max(), most > 0 else { return [] }
        return turnSections.enumerated().compactMap { position, section in
            guard let section, shared[section] > 0 else { return nil }
            return (position, 1 + RankingWeights.sectionBoost * Float(shared[section]) / Float(most))
        }
    }

    /// Topic weights for finding where a question is answered: a word's rarity among this
    /// meeting's turns, since a word said all through the meeting locates nothing, however
    /// rare it is in the corpus.
    func locatingWeights(_ topic: [(term: Int, weight: Float)]) -> [(term: Int, weight: Float)] {
        let turnCount = Float(turns.count)
        return topic.map { query in
            let df = Float(turns.reduce(0) { $0 + ($1.termCounts[query.term] == nil ? 0 : 1) })
            return (query.term, log(1 + (turnCount - df + 0.5) / (df + 0.5)))
        }
    }

    /// Pseudo-relevance feedback: the words that weigh most in the turns the question matches
    /// best join it at a fraction of its weight, so that a stretch talking about the subject
    /// in other words is found too.
    func expandedByFeedback(_ topic: [(term: Int, weight: Float)]) -> [(term: Int, weight: Float)] {
        let feedbackTerms = RankingWeights.feedbackTerms
        guard feedbackTerms > 0, let strongest = topic.map(\.weight).max() else { return topic }
        let relevance = turnRelevance(topic)
        let top = relevance.indices.filter { relevance[$0] > 0 }
            .sorted { relevance[$0] != relevance[$1] ? relevance[$0] > relevance[$1] : $0 < $1 }.prefix(RankingWeights.feedbackTurns)
        let turnCount = Float(turns.count)
        let asked = Set(topic.map(\.term))
        var weight: [Int: Float] = [:]
        for position in top {
            for (term, count) in turns[position].termCounts where !asked.contains(term) {
                weight[term, default: 0] += Float(count)
            }
        }
        var documentFrequency: [Int: Float] = [:]
        for turn in turns { for term in turn.termCounts.keys where weight[term] != nil { documentFrequency[term, default: 0] += 1 } }
        var scored: [(term: Int, weight: Float)] = []
        for (term, count) in weight {
            let df = documentFrequency[term] ?? 0
            let idf: Float = log(1 + (turnCount - df + 0.5) / (df + 0.5))
            if count * idf > 0 { scored.append((term, count * idf)) }
        }
        scored.sort { $0.weight != $1.weight ? $0.weight > $1.weight : $0.term < $1.term }
        guard let best = scored.first?.weight else { return topic }
        let scale = RankingWeights.feedbackWeight * strongest / best
        return topic + scored.prefix(feedbackTerms).map { (term: $0.term, weight: $0.weight * scale) }
    }

    /// Words an attribution adds before a sentence of `speaker`.
    func attributionWords(_ speaker: Int?) -> Int {
        speaker.map { TranscriptText.wordCount(Self.displayName(speakers[$0])) } ?? 0
    }

    /// A speaker as the summary names them: parenthesised constituencies and parties
    /// ("(Sherwood Park, CPC)") left out, roles ("(Leader of the Opposition)") kept.
    static func displayName(_ name: String) -> String {
        var result = name
        while let close = result.firstIndex(of: ")"),
              let open = result[..<close].lastIndex(of: "("),
              result[open..<close].contains(",") {
            result.removeSubrange(open...close)
        }
        return result.split(separator: " ").joined(separator: " ")
    }

    /// MMR within the budget: each step takes the candidate with the best score less its
    /// similarity to what is already chosen, among those that still fit, counting the
    /// attributions the summary text will carry (one per run of a speaker, or `labelWords`
    /// per sentence when every sentence is labelled). Returns sentence indices in transcript order.
    func choose(_ plan: SummaryPlan, maxWords: Int, maxSentences: Int, labelWords: ((Int) -> Int)? = nil) -> [Int] {
        guard let best = plan.scores.max(), best > 0 else { return [] }
        let relative = plan.scores.map { $0 / best }
        var similarity = [Float](repeating: 0, count: plan.candidates.count)
        var taken = [Bool](repeating: false, count: plan.candidates.count)
        var chosen: [Int] = []
        var words = 0
        let attributions = speakers.indices.map { attributionWords($0) }
        func prefix(_ index: Int, after previous: Int?) -> Int {
            guard let speaker = sentences[index].speaker else { return 0 }
            return previous.map { sentences[$0].speaker == speaker } == true ? 0 : attributions[speaker]
        }
        /// Words the summary grows by if `index` joins, given where it falls among the chosen.
        func cost(_ index: Int) -> Int {
            if let labelWords { return sentences[index].words + labelWords(index) }
            let position = chosen.firstIndex { $0 > index } ?? chosen.count
            let before = position > 0 ? chosen[position - 1] : nil
            var total = sentences[index].words + prefix(index, after: before)
            if position < chosen.count {
                let after = chosen[position]
                total += prefix(after, after: index) - prefix(after, after: before)
            }
            return total
        }
        while chosen.count < maxSentences {
            var pick: (position: Int, value: Float, cost: Int)?
            for position in plan.candidates.indices where !taken[position] {
                let index = plan.candidates[position]
                let value = RankingWeights.mmrLambda * relative[position] - (1 - RankingWeights.mmrLambda) * similarity[position]
                if let current = pick, value <= current.value { continue }
                let added = cost(index)
                if words + added <= maxWords { pick = (position, value, added) }
            }
            guard let pick else { break }
            taken[pick.position] = true
            let index = plan.candidates[pick.position]
            chosen.insert(index, at: chosen.firstIndex { $0 > index } ?? chosen.count)
            words += pick.cost
            for position in plan.candidates.indices where !taken[position] {
                similarity[position] = max(similarity[position], cosine(index, plan.candidates[position]))
            }
        }
        return chosen
    }

    /// The summary as read: a speaker's name before each run of their sentences, one line a run.
    func summaryText(_ chosen: [Int]) -> String {
        var text = ""
        var previousSpeaker: Int??
        for index in chosen {
            let speaker = sentences[index].speaker
            if previousSpeaker == nil || previousSpeaker! != speaker {
                if !text.isEmpty { text.append("\n") }
                if let speaker { text += Self.displayName(speakers[speaker]) + ": " }
            } else {
                text.append(" ")
            }
            text += sentences[index].text
            previousSpeaker = .some(speaker)
        }
        return text
    }

    /// The stems that weigh most in `indices`, as the words people used.
    func keywords(of indices: [Int], limit: Int) -> [String] {
        var weight: [Int: Float] = [:]
        for index in indices { for entry in sentences[index].vector { weight[entry.term, default: 0] += entry.weight } }
        return weight.sorted { $0.value != $1.value ? $0.value > $1.value : vocabulary.stems[$0.key] < vocabulary.stems[$1.key] }
            .lazy.map { vocabulary.surface($0.key) }.filter { !SpokenText.phatic.contains($0) }.prefix(limit).map { $0 }
    }
}
