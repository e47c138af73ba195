// A meeting read from the corpus into cleaned, weighted sentences: the material
// every summarise method ranks.

import Foundation
import MeetingKit

/// One sentence of the transcript, cleaned, with its citation and its TF-IDF vector.
struct SpokenSentence {
    let turn: Int
    /// Index into `MeetingText.speakers`; nil for an unnamed voice.
    let speaker: Int?
    /// Unicode-scalar offsets of the cited span in the stored turn text.
    let start: Int
    let end: Int
    let text: String
    let words: Int
    /// Unit-length TF-IDF vector over content stems, sorted by term id.
    let vector: [TermWeight]
    /// Content stems with repeats, for BM25.
    let terms: [Int]
    /// Whether it may appear in a summary: enough content words, not a backchannel or courtesy.
    let eligible: Bool
    /// Whether it ends as a sentence does (. ! ? …), rather than where its speaker was cut off.
    let terminated: Bool
}

struct TermWeight {
    let term: Int
    let weight: Float
}

struct SpokenTurn {
    let index: Int
    let speaker: Int?
    let sentences: Range<Int>
    /// Content-stem counts of the whole turn, for BM25.
    let termCounts: [Int: Int]
    let length: Int
}

/// Stems numbered per meeting, with their corpus IDF; and the words seen, each mapped
/// once to its stem's number, so that analysing a word is one lookup.
struct Vocabulary {
    private(set) var ids: [String: Int] = [:]
    private(set) var stems: [String] = []
    private(set) var idf: [Float] = []
    private var wordIndex: [String: Int] = [:]
    private var wordTerm: [Int?] = []
    private var wordInformative: [Bool] = []
    private var wordCourteous: [Bool] = []
    private var wordSpelling: [String] = []
    private var wordUses: [Int] = []

    /// The word's term (nil for a function word), whether it carries content beyond courtesy,
    /// and whether it thanks or greets.
    mutating func classify(_ lowercased: String, analyser: inout TextAnalyser) -> (term: Int?, informative: Bool, courteous: Bool) {
        if let known = wordIndex[lowercased] {
            wordUses[known] += 1
            return (wordTerm[known], wordInformative[known], wordCourteous[known])
        }
        let courteous = SpokenText.courtesies.contains(lowercased)
        var term: Int?
        let isFunctionWord = analyser.isFunctionWord(lowercased)
        let informative = !isFunctionWord && !SpokenText.phatic.contains(lowercased)
        if !isFunctionWord {
            let stem = analyser.term(lowercased)
            if let id = ids[stem] {
                term = id
            } else {
                term = stems.count
                ids[stem] = stems.count
                stems.append(stem)
                idf.append(analyser.statistics.idf(stem))
            }
        }
        wordIndex[lowercased] = wordTerm.count
        wordTerm.append(term)
        wordInformative.append(informative)
        wordCourteous.append(courteous)
        wordSpelling.append(lowercased)
        wordUses.append(1)
        return (term, informative, courteous)
    }

    /// Every word seen that has a term, with how often it was used.
    var spellings: [(spelling: String, uses: Int)] {
        wordSpelling.indices.compactMap { wordTerm[$0] == nil ? nil : (wordSpelling[$0], wordUses[$0]) }
    }

    /// The word as people said it most often (ties broken alphabetically, for determinism).
    func surface(_ term: Int) -> String {
        var best: Int?
        for word in wordTerm.indices where wordTerm[word] == term {
            if let current = best, wordUses[current] > wordUses[word]
                || (wordUses[current] == wordUses[word] && wordSpelling[current] < wordSpelling[word]) { continue }
            best = word
        }
        return best.map { wordSpelling[$0] } ?? stems[term]
    }
}

/// A meeting ready to rank: turns, sentences and the vocabulary they share.
struct MeetingText {
    let id: String
    let title: String
    let date: String?
    var speakers: [String] = []
    /// Per speaker, what a question may call them: the name, the labels they speak with and their roles.
    var speakerForms: [[String]] = []
    var turns: [SpokenTurn] = []
    /// The section of each turn (parallel to `turns`, when the meeting has sections), and
    /// each section's title as term numbers.
    var turnSections: [Int?] = []
    var sectionTerms: [Set<Int>] = []
    var sentences: [SpokenSentence] = []
    var vocabulary = Vocabulary()

    init(id: String, title: String, date: String?) {
        self.id = id
        self.title = title
        self.date = date
    }

    /// Adds one stored turn: splits it at its stored sentence spans and cleans each one,
    /// checking the request's budget per sentence (one turn may hold 80,000 words).
    mutating func addTurn(index: Int, speaker name: String?, text: String, spans: [TranscriptText.SentenceSpan],
                          analyser: inout TextAnalyser) throws(MethodError) {
        let speaker = name.map { name -> Int in
            if let known = speakers.firstIndex(of: name) { return known }
            speakers.append(name)
            speakerForms.append([name])
            return speakers.count - 1
        }
        let scalars = text.unicodeScalars
        let first = sentences.count
        var turnCounts: [Int: Int] = [:]
        var length = 0
        var scalarIndex = scalars.startIndex
        var scalarOffset = 0
        for span in spans {
            try analyser.budget.checkDeadline()
            // Spans are in order, so one forward walk converts offsets to indices.
            scalarIndex = scalars.index(scalarIndex, offsetBy: span.start - scalarOffset)
            let spanEnd = scalars.index(scalarIndex, offsetBy: span.end - span.start)
            scalarOffset = span.end
            let raw = Substring(text.unicodeScalars[scalarIndex..<spanEnd])
            scalarIndex = spanEnd
            let cleaned = SpokenTranscript.clean(raw, sourceOffset: span.start).text
            let analysis = analyser.analyse(cleaned, into: &vocabulary)
            for term in analysis.terms { turnCounts[term, default: 0] += 1 }
            length += analysis.terms.count
            // Words as budgets count them ("sixth-form" is one), for the minimum length too.
            let words = TranscriptText.wordCount(cleaned)
            sentences.append(SpokenSentence(
                turn: index, speaker: speaker, start: span.start, end: span.end, text: cleaned,
                words: words, vector: analysis.vector(idf: vocabulary.idf), terms: analysis.terms,
                eligible: analysis.informativeWords >= RankingWeights.minInformativeWords
                    && words >= RankingWeights.minWords && !analysis.courteous,
                terminated: TranscriptText.endsSentence(cleaned)))
        }
        turns.append(SpokenTurn(index: index, speaker: speaker, sentences: first..<sentences.count,
                                termCounts: turnCounts, length: length))
    }
}

/// The language layer as summarise uses it: the module instance's analyzer and the
/// corpus's shared word statistics.
struct TextAnalyser {
    let analyzer: Analyzer
    let statistics: TermStatistics
    /// The request's running-time budget, checked per sentence read.
    let budget: RequestBudget

    struct Analysis {
        var terms: [Int] = []
        var informativeWords = 0
        var courteous = false

        func vector(idf: [Float]) -> [TermWeight] {
            var counts: [Int: Float] = [:]
            for term in terms { counts[term, default: 0] += 1 }
            var vector = counts.map { TermWeight(term: $0.key, weight: $0.value * idf[$0.key]) }.sorted { $0.term < $1.term }
            let norm = vector.reduce(0) { $0 + $1.weight * $1.weight }.squareRoot()
            if norm > 0 { vector = vector.map { TermWeight(term: $0.term, weight: $0.weight / norm) } }
            return vector
        }
    }

    /// The analyzer's term of a word as written.
    func term(_ word: String) -> String { analyzer.term(Analyzer.normalize(word)) }

    /// The words of `text` as written, cut as the analyzer cuts them.
    func words(_ text: Substring) -> [Substring] {
        var result: [Substring] = []
        let utf8 = text.utf8
        analyzer.forEachWord(String(text)) { bytes, _ in
            let start = utf8.index(utf8.startIndex, offsetBy: bytes.lowerBound)
            result.append(text[start..<utf8.index(start, offsetBy: bytes.count)])
        }
        return result
    }

    /// A stop word of the analyzer's, or a word of speech too common to locate a topic.
    func isFunctionWord(_ lowercased: String) -> Bool {
        analyzer.isStopWord(lowercased) || SpokenText.spokenFunctionWords.contains(lowercased)
    }

    func analyse(_ text: String, into vocabulary: inout Vocabulary) -> Analysis {
        var analysis = Analysis()
        var analyser = self
        for word in words(Substring(text)) {
            let (term, informative, courteous) = vocabulary.classify(word.lowercased(), analyser: &analyser)
            if courteous { analysis.courteous = true }
            if informative { analysis.informativeWords += 1 }
            if let term { analysis.terms.append(term) }
        }
        return analysis
    }

    /// Stems of free text (a query), not added to any vocabulary.
    func terms(_ text: String) -> [String] {
        words(Substring(text)).compactMap { word in
            let lower = word.lowercased()
            return isFunctionWord(lower) ? nil : term(lower)
        }
    }
}

/// Where a meeting's turns lie in the corpus: a re-ingested meeting gets new turn ids,
/// so an unchanged key means unchanged text.
struct MeetingKey: Equatable {
    let id: String
    let firstTurn: Int64
    let turns: Int64
}

extension MeetingText {
    static func key(_ db: Database, id: String) throws -> (key: MeetingKey, title: String, date: String?)? {
        guard let row = try Row.fetchOne(db, sql: "SELECT title, date, first_turn, turns FROM meeting WHERE id = ?",
                                         arguments: [id]) else { return nil }
        return (MeetingKey(id: id, firstTurn: row["first_turn"], turns: row["turns"]), row["title"], row["date"])
    }

    /// Reads and analyses the turns of the meeting `key` names.
    static func load(_ db: Database, key: MeetingKey, title: String, date: String?, analyser: inout TextAnalyser) throws -> MeetingText {
        var meeting = MeetingText(id: key.id, title: title, date: date)
        guard key.turns > 0 else { return meeting }
        let turns = try Row.fetchCursor(db, sql: """
            SELECT t.idx, p.name, t.text, t.sentences, t.section FROM turn t LEFT JOIN person p ON p.id = t.person_id
            WHERE t.id BETWEEN ? AND ? ORDER BY t.id
            """, arguments: [key.firstTurn, key.firstTurn + key.turns - 1])
        while let turn = try turns.next() {
            let spans = TranscriptText.decodeSentences(turn[3] as Data)
            try meeting.addTurn(index: turn[0], speaker: turn[1], text: turn[2], spans: spans, analyser: &analyser)
            meeting.turnSections.append(turn[4])
        }
        let forms = try Row.fetchAll(db, sql: """
            SELECT p.name, t.label FROM turn t JOIN person p ON p.id = t.person_id
            WHERE t.id BETWEEN :first AND :last AND t.label IS NOT NULL
            UNION SELECT p.name, t.role FROM turn t JOIN person p ON p.id = t.person_id
            WHERE t.id BETWEEN :first AND :last AND t.role IS NOT NULL
            UNION SELECT p.name, pa.role FROM participant pa JOIN meeting m ON m.pk = pa.meeting_pk JOIN person p ON p.id = pa.person_id
            WHERE m.id = :id AND pa.role IS NOT NULL
            ORDER BY 1, 2
            """, arguments: ["first": key.firstTurn, "last": key.firstTurn + key.turns - 1, "id": key.id])
        for row in forms {
            guard let speaker = meeting.speakers.firstIndex(of: row[0]) else { continue }
            meeting.speakerForms[speaker].append(row[1])
        }
        let titles = try String.fetchAll(db, sql: """
            SELECT s.title FROM section s JOIN meeting m ON m.pk = s.meeting_pk WHERE m.id = ? ORDER BY s.ordinal
            """, arguments: [key.id])
        // A heading's words join the vocabulary even where nobody says them, so that a question
        // asked in the agenda's words ("the budget review") is located by its section.
        meeting.sectionTerms = titles.map { title in Set(analyser.analyse(title, into: &meeting.vocabulary).terms) }
        return meeting
    }
}
