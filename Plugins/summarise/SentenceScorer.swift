// The learned sentence scorer: for a question's candidates and for a whole meeting's, either a
// logistic regression or a small gradient-boosted tree ensemble over each candidate's features,
// trained on QMSum's training splits by Benchmarks/summarise/train_scorer.py, which writes them to
// scorer.json. The file is compiled into the module (SwiftPM's embedInCode), so an installed module
// carries its models; a `scorer` path in the module's settings loads another file instead (for
// training experiments and tests).

import Foundation
import MeetingKit

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
    /// Mean share of written answers that keep its words when their talk says them (`SummaryWords`).
    case summaryWords
    /// Mean log of that share against the rate over all words: words answers drop weigh down.
    case summaryWordsLift
    /// Its speaker's share of the turns the candidates come from: who holds the floor where the question is answered.
    case speakerTurnShare
}

extension SentenceFeature {
    /// The features computed from the question (its words, its located region, the speakers it
    /// names): a whole-meeting summary, which has no question, has them at zero.
    static let ofTheQuestion: [SentenceFeature] = [.relevance, .topicCoverage, .turnRelevance, .namedSpeaker,
                                                   .expandedRelevance, .topicSection]
    /// The features biased towards the question, each with the feature it equals without one.
    static let unbiasedWithoutQuestion: KeyValuePairs<SentenceFeature, SentenceFeature> = [.biasedCentrality: .centrality]

    var name: String { SentenceScorer.featureNames[rawValue] }
}

struct SentenceScorer {
    /// A model's probability is the logistic of a logit, which either kind computes from the features.
    struct Model {
        /// A tree's node: a split (`feature`'s value at most `threshold` goes `left`, else `right`)
        /// or, with `feature` nil, a leaf holding `value`.
        struct Node {
            let feature: Int?
            let threshold: Float
            let left: Int
            let right: Int
            let value: Float
        }

        enum Kind {
            /// Logistic regression: `bias` plus each weight times its feature.
            case linear(weights: [Float], bias: Float)
            /// Boosted trees: `base` plus one leaf value per tree; each tree's nodes start at its root,
            /// and a child always comes after its parent.
            case trees(base: Float, trees: [[Node]])
        }

        let kind: Kind

        func probability(_ features: [Float]) -> Float {
            let logit: Float
            switch kind {
            case let .linear(weights, bias):
                logit = zip(weights, features).reduce(bias) { $0 + $1.0 * $1.1 }
            case let .trees(base, trees):
                logit = trees.reduce(base) { sum, tree in
                    var node = tree[0]
                    while let feature = node.feature {
                        node = tree[features[feature] <= node.threshold ? node.left : node.right]
                    }
                    return sum + node.value
                }
            }
            return 1 / (1 + exp(-logit))
        }
    }

    static let featureNames = ["relevance", "topic_coverage", "turn_relevance", "centrality",
                               "biased_centrality", "position", "log_words", "short", "named_speaker", "speaker_share",
                               "top_speaker", "is_question", "content_share", "clean_share", "first_in_turn", "log_turn_words",
                               "expanded_relevance", "agenda_words", "topic_section",
                               "first_person", "second_person", "summary_words", "summary_words_lift",
                               "speaker_turn_share"]

    /// For a question's candidates, and for a whole meeting's (or one speaker's).
    let question: Model
    let meeting: Model

    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    /// Parses scorer.json: `features` (must equal `featureNames`, in order), and for `question`
    /// and `meeting` a `kind`: "linear" with `weights` (one finite number per feature) and a finite
    /// `bias`, or "trees" with a finite `base` and `trees`, each a list of nodes: `[feature, threshold,
    /// left, right]` for a split (feature an index into `features`, children later in the list),
    /// `[value]` for a leaf.
    init(json: [UInt8], source: String) throws {
        func fail(_ reason: String) -> LoadError { LoadError(description: "sentence scorer \(source): \(reason)") }
        guard let object = (try? JSONValue.parse(json))?.objectValue else {
            throw fail("not a JSON object")
        }
        let names = Self.featureNames
        guard object["features"] == .array(names.map(JSONValue.string)) else {
            throw fail("`features` must be \(names)")
        }
        func number(_ value: JSONValue) -> Float? { try? Float(json: value) }
        func linear(_ key: String, _ entry: JSONObject) throws -> Model.Kind {
            guard let weights = entry["weights"]?.arrayValue, weights.count == names.count,
                  case let values = weights.compactMap(number), values.count == names.count,
                  let bias = entry["bias"].flatMap(number) else {
                throw fail("`\(key)` needs `weights` (\(names.count) finite numbers) and a finite `bias`")
            }
            return .linear(weights: values, bias: bias)
        }
        func trees(_ key: String, _ entry: JSONObject) throws -> Model.Kind {
            guard let base = entry["base"].flatMap(number), let list = entry["trees"]?.arrayValue,
                  case let trees = list.compactMap(\.arrayValue), trees.count == list.count else {
                throw fail("`\(key)` needs a finite `base` and a list of `trees`")
            }
            return .trees(base: base, trees: try trees.enumerated().map { t, tree in
                guard !tree.isEmpty else { throw fail("`\(key)` tree \(t) has no nodes") }
                return try tree.enumerated().map { position, node in
                    let fields = node.arrayValue ?? []
                    let values = fields.compactMap(number)
                    if fields.count == 1, values.count == 1 {
                        return Model.Node(feature: nil, threshold: 0, left: 0, right: 0, value: values[0])
                    }
                    // Children after their parent: every walk down a tree ends at a leaf.
                    let children = position + 1..<tree.count
                    guard fields.count == 4, values.count == 4,
                          let feature = Int(exactly: values[0]), names.indices.contains(feature),
                          let left = Int(exactly: values[2]), let right = Int(exactly: values[3]),
                          children.contains(left), children.contains(right) else {
                        throw fail("`\(key)` tree \(t) node \(position) must be [value] or [feature, threshold, left, right] with later children")
                    }
                    return Model.Node(feature: feature, threshold: values[1], left: left, right: right, value: 0)
                }
            })
        }
        func model(_ key: String) throws -> Model {
            let entry = object[key]?.objectValue ?? [:]
            switch entry["kind"]?.stringValue {
            case "linear": return Model(kind: try linear(key, entry))
            case "trees": return Model(kind: try trees(key, entry))
            default: throw fail("`\(key)` needs a `kind`, \"linear\" or \"trees\"")
            }
        }
        question = try model("question")
        meeting = try model("meeting")
    }

    /// The models built into the module, or those of the file a module config names.
    static func load(path: String?) throws -> SentenceScorer {
        guard let path else { return try SentenceScorer(json: PackageResources.scorer_json, source: "built in") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(description: "sentence scorer \(path): cannot read the file")
        }
        return try SentenceScorer(json: [UInt8](data), source: path)
    }
}
