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

/// Stems numbered per request, with their corpus IDF and the surface form seen most.
struct Vocabulary {
    private(set) var ids: [String: Int] = [:]
    private(set) var stems: [String] = []
    private(set) var idf: [Float] = []
    private var surfaceCounts: [[String: Int]] = []

    mutating func id(stem: String, surface: String, frequencies: CorpusFrequencies) -> Int {
        let id: Int
        if let known = ids[stem] {
            id = known
        } else {
            id = stems.count
            ids[stem] = id
            stems.append(stem)
            idf.append(frequencies.idf(stem))
            surfaceCounts.append([:])
        }
        surfaceCounts[id][surface, default: 0] += 1
        return id
    }

    /// The word as people wrote it most often (ties broken alphabetically, for determinism).
    func surface(_ id: Int) -> String {
        surfaceCounts[id].max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? stems[id]
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
            let cleaned = SpokenText.clean(raw)
            let analysis = analyser.analyse(cleaned, into: &vocabulary)
            for term in analysis.terms { turnCounts[term, default: 0] += 1 }
            length += analysis.terms.count
            sentences.append(SpokenSentence(
                turn: index, speaker: speaker, start: span.start, end: span.end, text: cleaned,
                words: TranscriptText.wordCount(cleaned), vector: analysis.vector(idf: vocabulary.idf), terms: analysis.terms,
                eligible: analysis.informativeWords >= 3 && analysis.words >= 5))
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
            let lower = word.lowercased()
            if SpokenText.stopwords.contains(lower) { continue }
            if !SpokenText.phatic.contains(lower) { analysis.informativeWords += 1 }
            analysis.terms.append(vocabulary.id(stem: stem(lower), surface: lower, frequencies: frequencies))
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

extension MeetingText {
    /// Reads one meeting; nil when the id is unknown.
    static func load(_ db: Database, id: String, analyser: inout TextAnalyser) throws -> MeetingText? {
        guard let row = try Row.fetchOne(db, sql: "SELECT title, date, first_turn, turns FROM meeting WHERE id = ?",
                                         arguments: [id]) else { return nil }
        var meeting = MeetingText(id: id, title: row["title"], date: row["date"])
        let firstTurn: Int64 = row["first_turn"]
        let turnCount: Int64 = row["turns"]
        guard turnCount > 0 else { return meeting }
        let turns = try Row.fetchCursor(db, sql: """
            SELECT t.idx, p.name, t.text, t.sentences FROM turn t LEFT JOIN person p ON p.id = t.person_id
            WHERE t.id BETWEEN ? AND ? ORDER BY t.id
            """, arguments: [firstTurn, firstTurn + turnCount - 1])
        while let turn = try turns.next() {
            let spans = TranscriptText.decodeSentences(turn[3] as Data)
            meeting.addTurn(index: turn[0], speaker: turn[1], text: turn[2], spans: spans, analyser: &analyser)
        }
        return meeting
    }
}
