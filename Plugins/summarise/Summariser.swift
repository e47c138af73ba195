// Choosing a summary: which sentences are candidates, their features and learned scores
// (whole meeting, one speaker, or one question), then a budgeted MMR choice and the text.

import Foundation
import MeetingKit

/// The candidates of a summary with their scores, and the turns a query located.
struct SummaryPlan {
    var candidates: [Int] = []
    var scores: [Float] = []
    var located: [ClosedRange<Int>] = []
    /// Each candidate's features (parallel to `candidates`), as the sentence scorer read them.
    var features: [[Float]] = []
    /// Whether the question's model scored them (a subject was located), else the whole meeting's.
    var forQuestion = false
}

/// Where a question was located: each turn's smoothed relevance relative to the peak, and the located stretches.
struct LocatedRegion {
    var closeness: [Float]
    var inRegion: [Bool]
    var located: [ClosedRange<Int>]
}

extension MeetingText {
    /// Candidates and scores for a whole-meeting summary, or a question's if `query` names a subject.
    /// `onlySpeakers` keeps the sentences of those speakers only. The learned scorer scores each
    /// candidate from its features. The request's budget is checked between the steps.
    func plan(query: String?, onlySpeakers: Set<Int>?, scorer: SentenceScorer,
              analyser: inout TextAnalyser) throws(MethodError) -> SummaryPlan {
        let focus = query.map { QueryFocus(query: $0, meeting: self, analyser: &analyser) } ?? QueryFocus()
        let speakers = onlySpeakers ?? (focus.topic.isEmpty && !focus.namedSpeakers.isEmpty ? focus.namedSpeakers : nil)
        let complete = completeSentences()
        var plan = SummaryPlan()
        plan.candidates = sentences.indices.filter { index in
            complete(index) && (speakers == nil || sentences[index].speaker.map { speakers!.contains($0) } == true)
        }
        guard !plan.candidates.isEmpty else { return plan }
        let turnPositions = turnPositionOfSentences()
        try analyser.budget.checkDeadline()
        let region = focus.topic.isEmpty ? nil : locate(focus)
        try analyser.budget.checkDeadline()
        if let region {
            // A question's candidates are the located stretches' sentences, when they have any.
            let inside = plan.candidates.filter { region.inRegion[turnPositions[$0]] }
            if !inside.isEmpty { plan.candidates = inside }
        }
        plan.located = region?.located ?? []
        plan.forQuestion = region != nil
        plan.features = features(of: plan.candidates, focus: focus, region: region)
        try analyser.budget.checkDeadline()
        let model = plan.forQuestion ? scorer.question : scorer.meeting
        plan.scores = zip(plan.candidates, plan.features).map { index, features in
            let score = model.probability(features)
            return sentences[index].words < RankingWeights.fullSentenceWords ? score * RankingWeights.shortShare : score
        }
        return plan
    }

    /// For each sentence, the position of its turn in `turns`.
    func turnPositionOfSentences() -> [Int] {
        var positions = [Int](repeating: 0, count: sentences.count)
        for (position, turn) in turns.enumerated() { for index in turn.sentences { positions[index] = position } }
        return positions
    }

    /// The scorer's features of each candidate, in `SentenceFeature` order.
    func features(of candidates: [Int], focus: QueryFocus, region: LocatedRegion?) -> [[Float]] {
        let turnPositions = turnPositionOfSentences()
        let relevance = candidates.map { sentenceRelevance($0, focus.topic) }
        let topicPeak = relevance.max() ?? 0
        let topicTerms = Set(focus.topic.map(\.term))
        let expandedTopic = focus.topic.isEmpty ? [] : expandedByFeedback(locatingWeights(focus.topic))
        let expandedRelevance = candidates.map { sentenceRelevance($0, expandedTopic) }
        let expandedPeak = expandedRelevance.max() ?? 0
        let agenda = sectionTerms.reduce(into: Set<Int>()) { $0.formUnion($1) }
        var topicSection = [Float](repeating: 0, count: turns.count)
        for (position, factor) in sectionFactors(focus.topic) { topicSection[position] = (factor - 1) / RankingWeights.sectionBoost }
        let uniform = [Float](repeating: 1, count: candidates.count)
        let centrality = lexRank(candidates, prior: uniform, damping: RankingWeights.damping)
        var biased = centrality
        if let region {
            let share = RankingWeights.sentenceRelevanceShare
            let prior = candidates.indices.map { i -> Float in
                var value = share * (topicPeak > 0 ? relevance[i] / topicPeak : 0)
                    + (1 - share) * region.closeness[turnPositions[candidates[i]]]
                if let speaker = sentences[candidates[i]].speaker, focus.namedSpeakers.contains(speaker) {
                    value *= 1 + RankingWeights.namedSpeakerSentenceBoost
                }
                return value
            }
            biased = lexRank(candidates, prior: prior, damping: RankingWeights.queryDamping)
        }
        let centralityPeak = max(centrality.max() ?? 0, 1e-9), biasedPeak = max(biased.max() ?? 0, 1e-9)
        var speakerWords = [Float](repeating: 0, count: speakers.count)
        for sentence in sentences { if let speaker = sentence.speaker { speakerWords[speaker] += Float(sentence.words) } }
        let totalWords = max(speakerWords.reduce(0, +), 1)
        let topSpeaker = speakerWords.indices.max { speakerWords[$0] < speakerWords[$1] }
        let lastSentence = Float(max(sentences.count - 1, 1))
        // Once per turn: summed per candidate, a turn of n sentences cost n² (a minute for 10,000).
        let turnWords = turns.map { turn in sentences[turn.sentences].reduce(0) { $0 + $1.words } }
        let candidateTurns = Set(candidates.map { turnPositions[$0] })
        var turnsBySpeaker = [Float](repeating: 0, count: speakers.count)
        for position in candidateTurns { if let speaker = turns[position].speaker { turnsBySpeaker[speaker] += 1 } }
        let candidateTurnCount = Float(max(candidateTurns.count, 1))
        return candidates.indices.map { i in
            let index = candidates[i]
            let sentence = sentences[index]
            let position = turnPositions[index]
            let turn = turns[position]
            var row = [Float](repeating: 0, count: SentenceFeature.allCases.count)
            func set(_ feature: SentenceFeature, _ value: Float) { row[feature.rawValue] = value }
            func flag(_ feature: SentenceFeature, _ value: Bool) { row[feature.rawValue] = value ? 1 : 0 }
            set(.relevance, topicPeak > 0 ? relevance[i] / topicPeak : 0)
            set(.topicCoverage, topicTerms.isEmpty ? 0
                : Float(topicTerms.intersection(sentence.terms).count) / Float(topicTerms.count))
            set(.turnRelevance, region?.closeness[position] ?? 0)
            set(.centrality, centrality[i] / centralityPeak)
            set(.biasedCentrality, biased[i] / biasedPeak)
            set(.position, Float(index) / lastSentence)
            set(.logWords, log(1 + Float(sentence.words)))
            flag(.short, sentence.words < RankingWeights.fullSentenceWords)
            flag(.namedSpeaker, sentence.speaker.map(focus.namedSpeakers.contains) == true)
            set(.speakerShare, sentence.speaker.map { speakerWords[$0] / totalWords } ?? 0)
            flag(.topSpeaker, sentence.speaker != nil && sentence.speaker == topSpeaker)
            flag(.isQuestion, sentence.text.hasSuffix("?"))
            set(.contentShare, Float(sentence.terms.count) / Float(max(sentence.words, 1)))
            set(.cleanShare, min(1, Float(sentence.text.unicodeScalars.count) / Float(max(sentence.end - sentence.start, 1))))
            flag(.firstInTurn, index == turn.sentences.lowerBound)
            set(.logTurnWords, log(1 + Float(turnWords[position])))
            set(.expandedRelevance, expandedPeak > 0 ? expandedRelevance[i] / expandedPeak : 0)
            set(.agendaWords, log(1 + Float(agenda.intersection(sentence.terms).count)))
            set(.topicSection, topicSection[position])
            let words = SpokenText.scoredWords(sentence.text)
            let person = SpokenText.personShares(words)
            set(.firstPerson, person.first)
            set(.secondPerson, person.second)
            let kept = SummaryWords.builtIn.shares(words)
            set(.summaryWords, kept.mean)
            set(.summaryWordsLift, kept.lift)
            set(.speakerTurnShare, sentence.speaker.map { turnsBySpeaker[$0] / candidateTurnCount } ?? 0)
            return row
        }
    }

    /// Which sentences may be summary sentences: eligible ones, and in a punctuated transcript
    /// only those that end as sentences do; one without a final . ! ? there is where a speaker
    /// broke off or was cut short. A transcript without punctuation (captions) has no such ends.
    func completeSentences() -> (Int) -> Bool {
        let punctuated = sentences.lazy.filter(\.terminated).count * 2 >= sentences.count
        return { [sentences] index in sentences[index].eligible && (sentences[index].terminated || !punctuated) }
    }

    /// Turns the question is about: BM25 on its topic and the topic's related words, smoothed over
    /// neighbours, named speakers counted up; the best one or two stretches. Nil when no turn is about it.
    private func locate(_ focus: QueryFocus) -> LocatedRegion? {
        // A "when …" clause names the section to look in, when a heading says most of it; when
        // none does, its words are looked for in the talk as the question's own are.
        let contextSections = headingCoverage(locatingWeights(focus.context)) >= RankingWeights.clauseHeadingCoverage
            ? sectionFactors(focus.context, boost: RankingWeights.contextSectionBoost) : []
        let asked = Set(focus.topic.map(\.term))
        let clause = contextSections.isEmpty ? locatingWeights(focus.context.filter { !asked.contains($0.term) }) : []
        let weights = locatingWeights(focus.topic)
            + clause.map { (term: $0.term, weight: $0.weight * RankingWeights.unmatchedClauseWeight) }
        var relevance = turnRelevance(expandedByFeedback(expandedByRelatedWords(weights)))
        for (position, bonus) in phraseRelevance(focus.phrases, weights: weights).enumerated() { relevance[position] += bonus }
        if !focus.namedSpeakers.isEmpty {
            for (position, turn) in turns.enumerated() where turn.speaker.map(focus.namedSpeakers.contains) == true {
                relevance[position] *= 1 + RankingWeights.namedSpeakerBoost
            }
        }
        let sections = contextSections.isEmpty ? sectionFactors(focus.topic) : contextSections
        if relevance.allSatisfy({ $0 == 0 }) {
            // No turn says the question's words, but a heading does: its section is the answer's place.
            for (position, factor) in sections { relevance[position] = factor - 1 }
        } else {
            for (position, factor) in sections { relevance[position] *= factor }
        }
        let smoothed = smooth(relevance, halfWidth: focus.asksForDiscussion
                                ? RankingWeights.discussionHalfWidth : RankingWeights.smoothingHalfWidth)
        guard let peak = smoothed.max(), peak > 0 else { return nil }
        var region = LocatedRegion(closeness: smoothed.map { $0 / peak }, inRegion: [Bool](repeating: false, count: turns.count),
                                   located: [])
        while region.located.count < RankingWeights.maxRegions {
            guard let top = smoothed.indices.filter({ !region.inRegion[$0] }).max(by: { smoothed[$0] < smoothed[$1] }),
                  smoothed[top] >= (region.located.isEmpty ? peak : RankingWeights.secondRegionRatio * peak) else { break }
            let floor = RankingWeights.regionThreshold * smoothed[top]
            var lower = top, upper = top
            while lower > 0, !region.inRegion[lower - 1], smoothed[lower - 1] >= floor { lower -= 1 }
            while upper < turns.count - 1, !region.inRegion[upper + 1], smoothed[upper + 1] >= floor { upper += 1 }
            for position in lower...upper { region.inRegion[position] = true }
            region.located.append(turns[lower].index...turns[upper].index)
        }
        region.located.sort { $0.lowerBound < $1.lowerBound }
        return region
    }

    /// Sections (an agenda, QMSum's topic list) say where a topic is discussed: a turn in a
    /// section whose title shares the question's topic stems counts up to
    /// `sectionBoost` more, in proportion to the stems shared against the best title's.
    func sectionFactors(_ topic: [(term: Int, weight: Float)],
                        boost: Float = RankingWeights.sectionBoost) -> [(position: Int, factor: Float)] {
        guard sectionTerms.count > 1, turnSections.count == turns.count else { return [] }
        let topicTerms = Set(topic.map(\.term))
        let shared = sectionTerms.map { $0.intersection(topicTerms).count }
        guard let most = shared.max(), most > 0 else { return [] }
        return turnSections.enumerated().compactMap { position, section in
            guard let section, shared[section] > 0 else { return nil }
            return (position, 1 + boost * Float(shared[section]) / Float(most))
        }
    }

    /// The largest share of the words' weight that one section heading holds: "the naming of the
    /// remote control" is not named by "The financial blueprint of the remote control", whose
    /// shared words are said all through the meeting.
    func headingCoverage(_ words: [(term: Int, weight: Float)]) -> Float {
        let weight = Dictionary(words.map { ($0.term, $0.weight) }, uniquingKeysWith: max)
        let total = weight.values.reduce(0, +)
        guard total > 0 else { return 0 }
        let best = sectionTerms.map { heading in heading.reduce(0) { $0 + (weight[$1] ?? 0) } }.max() ?? 0
        return best / total
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
