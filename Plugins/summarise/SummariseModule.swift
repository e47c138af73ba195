// The summarise module: extractive summaries of a meeting, of one speaker's part,
// of the part that answers a question, and of what the corpus says about a subject,
// every sentence cited by turn and offsets; and a meeting's key phrases.

import MeetingKit

final class SummariseModule: MeetingdModule {
    static let name = "summarise"
    static let version = "1.0.0"
    static let defaultWords = 100

    static let cleaningRule = """
        `text` is the cited span of the stored turn text (`start`..<`end`, in Unicode scalars as SQLite's substr and \
        Python's str count) cleaned as follows (MeetingKit's SpokenTranscript.clean), on its whitespace-separated \
        tokens: transcription marks ({vocalsound}, {disfmarker}, {pause}, {comment}, {gap}, {nonvocalsound}) are \
        removed and AMI's spelled letters lose their _ (L_C_D_s: LCDs); a lone - between two words joins them \
        (front - end: front-end) unless the first begins the second (Th - the, is - is: the second alone stays), and a \
        lone ' after a word ends it (guys ': guys', o ' clock: o'clock); filler tokens (um, umm, uh, uhh, uhm, hmm, hm, \
        mm, mmm, mhm, mm-hmm, uh-huh, uh-uh, er, erm, ah, eh; compared lowercased without trailing ,.;:!?) are \
        dropped, and so is a lone "," right after one; word fragments are dropped: a lone lowercase letter other than \
        a and i, two lowercase consonants that are not a word or unit (th), two or three lowercase letters that are \
        not a word and begin the next word (wha what), a capital other than A and I at the start or after ,.;:!? before \
        a word with its letter (B But); while nothing is kept yet, openers (so, well, yeah, yes, okay, ok, alright, \
        right, oh, and, but, anyway, like) and tokens of ,.;:!? alone are dropped; discourse phrases that stand apart \
        are dropped (compared as fillers are): an aside (you know, I mean, I guess, I think, you see, sort of, kind of, \
        yeah) at the start or after ,.;:!? and followed by ,.;:! or the end, with the commas around it (it's , you \
        know , not: it's not), a .;:! ending it staying unless the word before ends in one (difference , you know .: difference.; fine; you know.: fine;), unless that comma or stop would have to be cut out of a token the cleaner rebuilt (front - end, you know,), and a hedge opener (I \
        think, I mean, I guess) at the start or after ,.;:!? before a word other than so, that, about, of, not, this, it \
        (I think we should: We should); when a run of one to four words is \
        said again right away (ignoring case and commas: we we should, on , on the), the first saying is dropped; \
        tokens are joined by one space, except that tokens made only of ,.;:!?%), the clitics 's 're 'm 'll 've 'd \
        n't and a closing " are glued to the one before, and an opening " to the one after; the first letter is \
        upper-cased.
        """

    static let sentenceSchema: JSONValue = [
        "type": "object", "required": ["text", "turn", "speaker", "start", "end"],
        "properties": [
            "text": ["type": "string", "description": .string(cleaningRule)],
            "turn": ["type": "integer", "description": "The turn's index in its meeting, from 0."],
            "speaker": ["type": ["string", "null"], "description": "The speaker's canonical name; null for an unnamed voice."],
            "start": ["type": "integer", "description": "Offset of the span in the stored turn text, in Unicode scalars."],
            "end": ["type": "integer", "description": "End of the span (exclusive)."],
        ],
    ]

    static let methods = [
        MethodSpec(
            "summarise.meeting",
            summary: """
                An extractive summary of a meeting, of one speaker's part in it, or of the part that answers a question, \
                within a word budget; every sentence cited by turn and offsets. Backchannels, thanks and greetings, and \
                sentences of fewer than 5 words or 3 content words are never chosen, nor in a punctuated transcript a \
                sentence without a final . ! or ? (one its speaker broke off); no sentence is ever cut.
                """,
            params: [
                "type": "object", "additionalProperties": false, "required": ["meeting"],
                "properties": [
                    "meeting": ["type": "string", "minLength": 1, "maxLength": 500, "description": "The meeting id."],
                    "query": ["type": "string", "minLength": 1, "maxLength": 1000, "description": """
                        A question as people ask it ("Summarize the discussion about X", "What did Y think about Z?"). \
                        Without a subject ("Summarize the whole meeting.") the whole meeting is summarised; a speaker \
                        it names counts for more when locating, or is summarised alone if it names no subject.
                        """],
                    "speaker": ["type": "string", "minLength": 1, "maxLength": 500, "description": """
                        Summarise only this speaker's sentences: a name, surname, alias or role, resolved as in every module \
                        ("President Putin", "Huw Irranca-Davies", "the President of Uzbekistan"). Not-found (-32004) if \
                        nobody of that name is known or that person does not speak in the meeting; -32602 with \
                        `data.candidates` if it fits several people.
                        """],
                    "max_words": ["type": "integer", "minimum": 1, "maximum": 5000, "description": """
                        Word budget of `summary` (attributions included, words counted as TranscriptText.wordCount \
                        does: runs of letters and digits); never exceeded, no sentence is ever cut. Default 100.
                        """],
                    "max_sentences": ["type": "integer", "minimum": 1, "maximum": 200, "description": "At most this many sentences."],
                    "explain": ["type": "boolean", "description": """
                        For tooling (Benchmarks/summarise/train_scorer.py): also return `explain`, every candidate sentence \
                        with the features the sentence scorer read (in the order of `explain.features`) and its score.
                        """],
                ],
            ],
            result: [
                "type": "object", "required": ["meeting", "summary", "words", "sentences", "keywords", "located"],
                "properties": [
                    "meeting": ["type": "string"],
                    "found": ["type": "boolean", "description": """
                        False when `query` has a subject that the meeting does not hold (after stemming and typo correction): \
                        then nothing is summarised, and `topic` gives the subject words looked for.
                        """],
                    "topic": ["type": "array", "items": ["type": "string"]],
                    "summary": ["type": "string", "description": """
                        The sentences in transcript order, each run of one speaker's sentences on its own line after \
                        "Name: " (parenthesised constituency and party left out of the name).
                        """],
                    "words": ["type": "integer", "description": "Words in `summary`, at most max_words."],
                    "sentences": ["type": "array", "items": sentenceSchema],
                    "keywords": ["type": "array", "items": ["type": "string"], "description": "The words that weigh most in the part summarised."],
                    "located": ["type": "array", "description": "For a question: the turn ranges [from, to] (inclusive) found to be about it; empty otherwise.",
                                "items": ["type": "array", "items": ["type": "integer"]]],
                    "explain": ["type": "object", "description": """
                        Only with `explain`: `model` ("question" when a subject was located, else "meeting"), `features` \
                        (their names), `candidates`, each a sentence's citation and `words` with its `features` and `score`, and \
                        `without_question`: which features a summary without a question has at zero (`zero`) and which equal \
                        another (`same_as`, name to name).
                        """],
                ],
            ]),
        MethodSpec(
            "summarise.corpus",
            summary: "A digest across meetings of what was said about a subject, each sentence cited by meeting, date, speaker, turn and offsets.",
            params: [
                "type": "object", "additionalProperties": false, "required": ["q"],
                "properties": [
                    "q": ["type": "string", "minLength": 1, "maxLength": 1000, "description": "The subject, in words."],
                    "from": ["type": "string", "pattern": #"^\d{4}(-\d{2}(-\d{2})?)?$"#, "description": "Only meetings on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)."],
                    "to": ["type": "string", "pattern": #"^\d{4}(-\d{2}(-\d{2})?)?$"#, "description": "Only meetings on or before this date."],
                    "speaker": ["type": "string", "minLength": 1, "maxLength": 500, "description": "Only this person's words (a name, alias or role, resolved as in every module); not-found if unknown, -32602 with data.candidates if ambiguous."],
                    "max_words": ["type": "integer", "minimum": 1, "maximum": 5000, "description": "Word budget of `summary`, labels included (default 100)."],
                ],
            ],
            result: [
                "type": "object", "required": ["summary", "words", "sentences"],
                "properties": [
                    "summary": ["type": "string", "description": "One line a sentence: \"date speaker: text\" (each part when known)."],
                    "words": ["type": "integer"],
                    "sentences": ["type": "array", "items": [
                        "type": "object", "required": ["meeting", "date", "text", "turn", "speaker", "start", "end"],
                        "properties": [
                            "meeting": ["type": "string"], "date": ["type": ["string", "null"]],
                            "text": ["type": "string", "description": .string(cleaningRule)],
                            "turn": ["type": "integer"], "speaker": ["type": ["string", "null"]],
                            "start": ["type": "integer"], "end": ["type": "integer"],
                        ],
                    ]],
                ],
            ]),
        MethodSpec(
            "summarise.keywords",
            summary: "The key phrases of a meeting, ranked: runs of up to three content words, by frequency times corpus rarity.",
            params: [
                "type": "object", "additionalProperties": false, "required": ["meeting"],
                "properties": [
                    "meeting": ["type": "string", "minLength": 1, "maxLength": 500, "description": "The meeting id."],
                    "limit": ["type": "integer", "minimum": 1, "maximum": 100, "description": "Phrases to return (default 10)."],
                ],
            ],
            result: [
                "type": "object", "required": ["meeting", "keywords"],
                "properties": [
                    "meeting": ["type": "string"],
                    "keywords": ["type": "array", "items": [
                        "type": "object", "required": ["phrase", "count", "score"],
                        "properties": ["phrase": ["type": "string"], "count": ["type": "integer"], "score": ["type": "number"]],
                    ]],
                ],
            ]),
        answerSpec,
    ]

    let corpus: Corpus
    /// Corpus document frequencies, read on first use and kept for the instance's life.
    /// This instance's analyzer (it caches stems; one per worker thread).
    private let analyzer = Analyzer()
    /// The corpus's word statistics, shared with every other instance in the process.
    private let statistics: SharedCorpusValue<TermStatistics>
    /// The corpus's index (one copy per process, shared with the search module), for
    /// finding the turns about a subject across meetings.
    let index: SharedCorpusValue<SegmentSet>
    /// Speakers' turns as the index's filters (one table per process, shared with search).
    let speakerTurns: SharedCorpusValue<SpeakerTurns>
    /// Meetings analysed lately, most recent last: questions tend to come in runs on one meeting.
    private var recentMeetings: [MeetingText] = []
    private var recentKeys: [MeetingKey] = []
    /// The learned sentence scorer: built in, or the file named by the settings' `scorer`.
    let scorer: SentenceScorer
    static let recentLimit = 8

    init(context: ModuleContext) throws {
        scorer = try SentenceScorer.load(path: context.config["scorer"]?.stringValue)
        corpus = try Corpus.openReadOnly(path: context.corpusPath, budget: context.budget)
        statistics = SharedCorpusValue("summarise.term-statistics", corpusPath: context.corpusPath, build: TermStatistics.load)
        index = CorpusIndex.shared(corpusPath: context.corpusPath)
        speakerTurns = SpeakerTurns.shared(corpusPath: context.corpusPath)
        // Loaded before the daemon says READY, so that no first request waits for it.
        // A corpus that cannot be read fails the requests that need it (-32007), not the start.
        do {
            _ = try corpus.reader.read { db in (try statistics.get(db), try index.get(db)) }
        } catch {
            context.log(.warning, "cannot load the word statistics or the index yet: \(error)")
        }
    }

    func handle(method: String, params: JSONValue) throws(MethodError) -> JSONValue {
        do {
            switch method {
            case "summarise.meeting": return try summariseMeeting(params)
            case "summarise.corpus": return try summariseCorpus(params)
            case "summarise.keywords": return try keywords(params)
            case "summarise.answer": return try answer(params)
            default: throw MethodError(code: ErrorCode.methodNotFound, message: "summarise has no method \(method)")
            }
        } catch {
            throw .corpusFailure(error, in: Self.name)
        }
    }

    /// Runs `body` with the instance's analyzer and the corpus's current word statistics.
    func withAnalyser<T>(_ body: (inout TextAnalyser) throws -> T) throws -> T {
        var analyser = TextAnalyser(analyzer: analyzer, statistics: try corpus.reader.read { db in try statistics.get(db) },
                                    budget: corpus.budget ?? RequestBudget())
        return try body(&analyser)
    }

    func loadMeeting(_ id: String, analyser: inout TextAnalyser) throws -> MeetingText {
        try corpus.reader.read { db in
            guard let found = try MeetingText.key(db, id: id) else { throw MethodError.notFound("meeting", id: id) }
            if let position = recentKeys.firstIndex(of: found.key) {
                let meeting = recentMeetings.remove(at: position)
                recentKeys.remove(at: position)
                recentMeetings.append(meeting)
                recentKeys.append(found.key)
                return meeting
            }
            let meeting = try MeetingText.load(db, key: found.key, title: found.title, date: found.date, analyser: &analyser)
            if recentKeys.count == Self.recentLimit {
                recentKeys.removeFirst()
                recentMeetings.removeFirst()
            }
            recentMeetings.append(meeting)
            recentKeys.append(found.key)
            return meeting
        }
    }

    private func summariseMeeting(_ params: JSONValue) throws -> JSONValue {
        let id = params["meeting"]?.stringValue ?? ""
        let maxWords = params["max_words"]?.intValue ?? Self.defaultWords
        let maxSentences = params["max_sentences"]?.intValue ?? Int.max
        return try withAnalyser { analyser in
            let meeting = try loadMeeting(id, analyser: &analyser)
            var onlySpeakers: Set<Int>?
            if let name = params["speaker"]?.stringValue {
                onlySpeakers = try speakers(named: name, in: meeting)
            }
            var query = params["query"]?.stringValue
            if let asked = query {
                // As summarise.answer does: a subject the meeting does not hold is not found, never
                // answered with an unrelated summary; a typo of one of its words is corrected.
                let record = try corpus.reader.read { db in try Meeting.fetchRecord(db, id: id) }
                let checked = subjectCheck(asked, meeting: meeting, record: record, analyser: &analyser)
                if checked.notFound {
                    return ["meeting": .string(id), "found": false, "summary": "", "words": 0, "sentences": [], "keywords": [],
                            "located": [], "topic": .array(checked.focus.subjectWords.map(JSONValue.string))]
                }
                query = checked.asked
            }
            let plan = try meeting.plan(query: query, onlySpeakers: onlySpeakers, scorer: scorer, analyser: &analyser)
            let chosen = meeting.choose(plan, maxWords: maxWords, maxSentences: maxSentences)
            let summary = meeting.summaryText(chosen)
            let sentences: [JSONValue] = chosen.map { index in
                let sentence = meeting.sentences[index]
                return ["text": .string(sentence.text), "turn": JSONValue(sentence.turn),
                        "speaker": JSONValue(sentence.speaker.map { meeting.speakers[$0] }),
                        "start": JSONValue(sentence.start), "end": JSONValue(sentence.end)]
            }
            var result: JSONObject = [
                "meeting": .string(id), "found": true, "summary": .string(summary), "words": JSONValue(TranscriptText.wordCount(summary)),
                "sentences": .array(sentences),
                "keywords": .array(meeting.keywords(of: plan.candidates, limit: 8).map(JSONValue.string)),
                "located": .array(plan.located.map { [JSONValue($0.lowerBound), JSONValue($0.upperBound)] }),
            ]
            if params["explain"]?.boolValue == true { result["explain"] = explanation(plan, meeting: meeting) }
            return .object(result)
        }
    }

    /// Every candidate of `plan` with the features its score was computed from.
    private func explanation(_ plan: SummaryPlan, meeting: MeetingText) -> JSONValue {
        let candidates: [JSONValue] = plan.candidates.indices.map { position in
            let sentence = meeting.sentences[plan.candidates[position]]
            return ["text": .string(sentence.text), "turn": JSONValue(sentence.turn),
                    "speaker": JSONValue(sentence.speaker.map { meeting.speakers[$0] }),
                    "start": JSONValue(sentence.start), "end": JSONValue(sentence.end), "words": JSONValue(sentence.words),
                    "features": .array(plan.features[position].map { .double(Double($0)) }),
                    "score": .double(Double(plan.scores[position]))]
        }
        return ["model": .string(plan.forQuestion ? "question" : "meeting"),
                "features": .array(SentenceScorer.featureNames.map(JSONValue.string)), "candidates": .array(candidates),
                "without_question": Self.featuresWithoutQuestion]
    }

    /// What the features are without a question (`SentenceFeature.ofTheQuestion`, `unbiasedWithoutQuestion`),
    /// for train_scorer.py, which reads a question's candidates as a whole meeting's with it.
    private static let featuresWithoutQuestion: JSONValue = [
        "zero": .array(SentenceFeature.ofTheQuestion.map { .string($0.name) }),
        "same_as": .object(JSONObject(SentenceFeature.unbiasedWithoutQuestion.map { (key: $0.key.name, value: .string($0.value.name)) })),
    ]

    /// The meeting's speaker a name or role refers to, as every module resolves one
    /// (`PersonResolver`); not found when that person does not speak in the meeting.
    func speakers(named name: String, in meeting: MeetingText) throws -> Set<Int> {
        let person = try corpus.reader.read { db in
            let pk = try Int64.fetchOne(db.cachedStatement(sql: "SELECT pk FROM meeting WHERE id = ?"), arguments: [meeting.id])
            return try PersonResolver.person(name, field: "speaker", in: db, meetingPK: pk)
        }
        guard let index = meeting.speakers.firstIndex(of: person.name) else {
            throw MethodError(code: ErrorCode.notFound, message: "\(person.name) does not speak in meeting \(meeting.id)",
                              data: ["kind": "speaker", "id": .string(name), "person": .string(person.name)])
        }
        return [index]
    }

    private func keywords(_ params: JSONValue) throws -> JSONValue {
        let id = params["meeting"]?.stringValue ?? ""
        let limit = params["limit"]?.intValue ?? 10
        return try withAnalyser { analyser in
            let meeting = try loadMeeting(id, analyser: &analyser)
            let phrases = meeting.keyphrases(limit: limit, analyser: &analyser)
            return ["meeting": .string(id), "keywords": .array(phrases.map { phrase in
                ["phrase": .string(phrase.phrase), "count": JSONValue(phrase.count), "score": .double(Double(phrase.score))]
            })]
        }
    }

    private func summariseCorpus(_ params: JSONValue) throws -> JSONValue {
        let q = params["q"]?.stringValue ?? ""
        let maxWords = params["max_words"]?.intValue ?? Self.defaultWords
        return try withAnalyser { analyser in
            let subject = try CorpusDigest.subject(of: q, analyser: analyser)
            let digest = try corpus.reader.read { db in
                let people = try params["speaker"]?.stringValue.map { [try PersonResolver.person($0, field: "speaker", in: db).id] }
                let allowed = try allowedTurns(db, from: params["from"]?.stringValue, to: params["to"]?.stringValue,
                                               people: people ?? [])
                let hits = try bestTurns(subject, db, analyser: analyser, limit: CorpusDigest.turnLimit, allowed: allowed)
                return try CorpusDigest.gather(hits, db, analyser: &analyser)
            }
            return digest.summary(q: q, maxWords: maxWords, analyser: &analyser)
        }
    }
}

@_cdecl("meetingd_module_entry")
public func meetingdModuleEntry() -> UnsafeRawPointer { exportModule(SummariseModule.self) }
