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
        let informative = !SpokenText.stopwords.contains(lowercased) && !SpokenText.phatic.contains(lowercased)
        if !SpokenText.stopwords.contains(lowercased) {
            let stem = analyser.stem(lowercased)
            if let id = ids[stem] {
                term = id
            } else {
                term = stems.count
                ids[stem] = stems.count
                stems.append(stem)
                idf.append(analyser.frequencies.idf(stem))
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

/// Document frequencies of stems over the corpus's turns, read once from the FTS index.
struct CorpusFrequencies {
    let documents: Int
    let frequency: [String: Int]

    func idf(_ stem: String) -> Float {
        let df = Float(frequency[stem] ?? 0)
        return log(1 + (Float(documents) - df + 0.5) / (df + 0.5))
    }

    static func load(_ db: Database) throws -> CorpusFrequencies {
        // fts5vocab reads the index only; a temp table is allowed on a read-only corpus.
        try db.execute(sql: "CREATE VIRTUAL TABLE IF NOT EXISTS temp.summarise_vocab USING fts5vocab(main, '\(CorpusSchema.ftsTable)', 'col')")
        var frequency: [String: Int] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT term, doc FROM temp.summarise_vocab WHERE col = 'text'")
        while let row = try rows.next() { frequency[row[0]] = row[1] }
        let documents = try Int.fetchOne(db, sql: "SELECT count(*) FROM turn") ?? 0
        return CorpusFrequencies(documents: max(documents, 1), frequency: frequency)
    }
}

/// A meeting ready to rank: turns, sentences and the vocabulary they share.
struct MeetingText {
    let id: String
    let title: String
    let date: String?
    var speakers: [String] = []
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

    /// Adds one stored turn: splits it at its stored sentence spans and cleans each one.
    mutating func addTurn(index: Int, speaker name: String?, text: String, spans: [TranscriptText.SentenceSpan],
                          analyser: inout TextAnalyser) {
        let speaker = name.map { name -> Int in
            if let known = speakers.firstIndex(of: name) { return known }
            speakers.append(name)
            return speakers.count - 1
        }
        let scalars = text.unicodeScalars
        let first = sentences.count
        var turnCounts: [Int: Int] = [:]
        var length = 0
        var scalarIndex = scalars.startIndex
        var scalarOffset = 0
        for span in spans {
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
            sentences.append(SpokenSentence(
                turn: index, speaker: speaker, start: span.start, end: span.end, text: cleaned,
                words: TranscriptText.wordCount(cleaned), vector: analysis.vector(idf: vocabulary.idf), terms: analysis.terms,
                eligible: analysis.informativeWords >= RankingWeights.minInformativeWords
                    && analysis.words >= RankingWeights.minWords && !analysis.courteous,
                terminated: TranscriptText.endsSentence(cleaned)))
        }
        turns.append(SpokenTurn(index: index, speaker: speaker, sentences: first..<sentences.count,
                                termCounts: turnCounts, length: length))
    }
}

/// Cuts text into stems, with a per-instance cache of the stems of words seen before.
struct TextAnalyser {
    let frequencies: CorpusFrequencies
    private var stemCache: [String: String] = [:]

    init(frequencies: CorpusFrequencies) { self.frequencies = frequencies }

    struct Analysis {
        var terms: [Int] = []
        var words = 0
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

    mutating func stem(_ word: String) -> String {
        if let known = stemCache[word] { return known }
        let stem = PorterStemmer.stem(word)
        stemCache[word] = stem
        return stem
    }

    mutating func analyse(_ text: String, into vocabulary: inout Vocabulary) -> Analysis {
        var analysis = Analysis()
        for word in SpokenText.words(Substring(text)) {
            analysis.words += 1
            let (term, informative, courteous) = vocabulary.classify(word.lowercased(), analyser: &self)
            if courteous { analysis.courteous = true }
            if informative { analysis.informativeWords += 1 }
            if let term { analysis.terms.append(term) }
        }
        return analysis
    }

    /// Stems of free text (a query), not added to any vocabulary.
    mutating func stems(_ text: String) -> [String] {
        SpokenText.words(Substring(text)).compactMap { word in
            let lower = word.lowercased()
            return SpokenText.stopwords.contains(lower) ? nil : stem(lower)
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
            meeting.addTurn(index: turn[0], speaker: turn[1], text: turn[2], spans: spans, analyser: &analyser)
            meeting.turnSections.append(turn[4])
        }
        let titles = try String.fetchAll(db, sql: """
            SELECT s.title FROM section s JOIN meeting m ON m.pk = s.meeting_pk WHERE m.id = ? ORDER BY s.ordinal
            """, arguments: [key.id])
        meeting.sectionTerms = titles.map { title in
            Set(analyser.stems(title).compactMap { meeting.vocabulary.ids[$0] })
        }
        return meeting
    }
}
