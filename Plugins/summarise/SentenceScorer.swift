// The learned sentence scorer: a logistic regression over each candidate's features,
// trained on QMSum's training splits by Benchmarks/summarise/train_scorer.py, which
// writes its weights to scorer.json. The file is compiled into the module (SwiftPM's
// embedInCode), so an installed module carries its weights; a `scorer` path in the
// module's settings loads another file instead (for training experiments and tests).

import Foundation

/// What the scorer knows of a candidate sentence, in the order of `SentenceScorer.featureNames`.
enum SentenceFeature: Int, CaseIterable {
    /// BM25-like weight of the question's topic words in the sentence, relative to the best candidate's.
    case relevance
    /// Share of the question's distinct topic words the sentence holds.
    case topicCoverage
    /// Its turn's smoothed relevance, relative to the peak (closeness to where the question is answered).
    case turnRelevance
    /// LexRank with a uniform prior, relative to the best candidate's.
    case centrality
    /// LexRank biased towards the question (the hand-tuned score before the scorer), relative to the best.
    case biasedCentrality
    /// Where it falls in the meeting, 0 at the start to 1 at the end.
    case position
    /// log(1 + words).
    case logWords
    /// 1 for a sentence of fewer than `RankingWeights.fullSentenceWords` words.
    case short
    /// 1 when its speaker is named in the question.
    case namedSpeaker
    /// Its speaker's share of the meeting's words (a chair or project manager talks most).
    case speakerShare
    /// 1 when its speaker talks most in the meeting.
    case topSpeaker
    /// 1 for a question (ends with ?).
    case isQuestion
    /// Content words per word after cleaning.
    case contentShare
    /// Cleaned length over the cited span's length: what cleaning removed (fillers, restarts) makes it lower.
    case cleanShare
    /// 1 for the first sentence of its turn.
    case firstInTurn
    /// log(1 + words of its turn).
    case logTurnWords
    /// BM25-like weight of the question's topic widened by feedback (the words said where it is
    /// answered, as locating uses them), relative to the best candidate's.
    case expandedRelevance
    /// log(1 + distinct words it shares with the meeting's section headings): the agenda's words.
    case agendaWords
    /// How far its section's heading names the question's topic (0 to 1, against the best heading's).
    case topicSection
    /// Share of its words that are the speaker's "I", "me", "my" (`SpokenText.firstPerson`).
    case firstPerson
    /// Share of its words that address the room: "you", "your" (`SpokenText.secondPerson`).
    case secondPerson
}

struct SentenceScorer {
    struct Model {
        let weights: [Float]
        let bias: Float

        func probability(_ features: [Float]) -> Float {
            let logit = zip(weights, features).reduce(bias) { $0 + $1.0 * $1.1 }
            return 1 / (1 + exp(-logit))
        }
    }

    static let featureNames = ["relevance", "topic_coverage", "turn_relevance", "centrality",
                               "biased_centrality", "position", "log_words", "short", "named_speaker", "speaker_share",
                               "top_speaker", "is_question", "content_share", "clean_share", "first_in_turn", "log_turn_words",
                               "expanded_relevance", "agenda_words", "topic_section",
                               "first_person", "second_person"]

    /// For a question's candidates, and for a whole meeting's (or one speaker's).
    let question: Model
    let meeting: Model

    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    /// Parses scorer.json: `features` (must equal `featureNames`, in order), and for `question`
    /// and `meeting` a `weights` array of that length and a `bias`.
    init(json: Data, source: String) throws {
        func fail(_ reason: String) -> LoadError { LoadError(description: "sentence scorer \(source): \(reason)") }
        guard let object = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else {
            throw fail("not a JSON object")
        }
        guard let names = object["features"] as? [String], names == Self.featureNames else {
            throw fail("`features` must be \(Self.featureNames)")
        }
        func model(_ key: String) throws -> Model {
            guard let entry = object[key] as? [String: Any],
                  let weights = (entry["weights"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.floatValue }),
                  weights.count == names.count, weights.allSatisfy(\.isFinite),
                  let bias = (entry["bias"] as? NSNumber)?.floatValue, bias.isFinite else {
                throw fail("`\(key)` needs `weights` (\(names.count) finite numbers) and a finite `bias`")
            }
            return Model(weights: weights, bias: bias)
        }
        question = try model("question")
        meeting = try model("meeting")
    }

    /// The weights built into the module, or those of the file a module config names.
    static func load(path: String?) throws -> SentenceScorer {
        guard let path else { return try SentenceScorer(json: Data(PackageResources.scorer_json), source: "built in") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(description: "sentence scorer \(path): cannot read the file")
        }
        return try SentenceScorer(json: data, source: path)
    }
}
