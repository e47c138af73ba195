// The search module: ranked full-text search over the turns of the corpus, with
// filters, highlights, typo tolerance, suggestions and more-like-this.

import Foundation
import MeetingKit

final class SearchModule: MeetingdModule {
    static let name = "search"
    static let version = "0.2.0"
    static let maxLimit = 100

    static let dateSchema: JSONValue = [
        "type": "string", "pattern": "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$",
        "description": "A date, YYYY-MM-DD (or YYYY-MM, YYYY for a whole month or year).",
    ]
    static let markersSchema: JSONValue = [
        "type": "object", "additionalProperties": false,
        "description": "The strings put around matched words in snippets (default from the module settings, else [ and ]).",
        "properties": [
            "open": ["type": "string", "maxLength": 32, "description": "Put before a matched word."],
            "close": ["type": "string", "maxLength": 32, "description": "Put after a matched word."],
        ],
    ]
    static let hitSchema: JSONValue = [
        "type": "object", "required": ["meeting", "title", "turn", "score", "snippet"],
        "properties": [
            "meeting": ["type": "string", "description": "The meeting id."],
            "title": ["type": "string"], "date": ["type": ["string", "null"]], "place": ["type": ["string", "null"]],
            "turn": ["type": "integer", "description": "The turn index in its meeting."],
            "sentence": ["type": "integer", "description": "With unit sentence: the sentence index in the turn."],
            "speaker": ["type": ["string", "null"]],
            "section": ["type": ["string", "null"], "description": "The title of the turn's section (an agenda item), if it has one."],
            "score": ["type": "number", "description": "Higher is better; comparable within one answer."],
            "snippet": ["type": "string", "description": "The best passage, matched words between the markers."],
            "matches": ["type": "integer", "description": "With unit meeting: the meeting's matching turns."],
            "passages": ["type": "array", "description": "With unit meeting: its best turns, as hits."],
        ],
    ]

    static let methods = [
        MethodSpec(
            "search.query",
            summary: "BM25-ranked turns, sentences or meetings matching a query, with highlighted snippets. Query language: words (all must match, stemmed), \"exact phrases\", prefix*, a OR b, -excluded, speaker:Name. A question or request (\"What did Y say about Z?\") is read as its topic words, any of which may match; with `meeting`, it favours the speakers it names, whose longest turns rank even without a topic word.",
            params: [
                "type": "object", "additionalProperties": false, "required": ["q"],
                "properties": [
                    "q": ["type": "string", "minLength": 1, "maxLength": 2000, "description": "The query, in the search query language."],
                    "unit": ["type": "string", "enum": ["turn", "sentence", "meeting"],
                             "description": "What a hit is: a turn (default), a sentence, or a meeting with its best passages."],
                    "meeting": ["type": "string", "minLength": 1, "description": "Search only this meeting."],
                    "speaker": ["type": "string", "minLength": 1, "maxLength": 200, "description": "Only turns by this person: a name, surname, alias or role, resolved as in every module (-32004 if unknown, -32602 with data.candidates if it fits several people; within `meeting`, the one who takes part there)."],
                    "from": dateSchema, "to": dateSchema,
                    "place": ["type": "string", "minLength": 1, "maxLength": 200, "description": "Only meetings whose place contains this text."],
                    "limit": ["type": "integer", "minimum": 0, "maximum": .int(Int64(maxLimit)), "description": "Hits to return (default 10)."],
                    "offset": ["type": "integer", "minimum": 0, "maximum": 10000, "description": "Hits to skip, for the next page (default 0)."],
                    "markers": markersSchema,
                ],
            ],
            result: [
                "type": "object", "required": ["total", "took_ms", "hits"],
                "properties": [
                    "total": ["type": "integer", "description": "Matching units (a lower bound when total_exact is false)."],
                    "total_exact": ["type": "boolean", "description": "False when total is a lower bound: past exact_total_up_to matches the index stops counting what cannot make the page, and a request across the corpus (or unit meeting) ranks the best ranking_budget turns of more."],
                    "took_ms": ["type": "number"],
                    "hits": ["type": "array", "items": hitSchema],
                    "interpreted": ["type": "object", "description": "How q was read: request or keywords, the words searched, and `speaker`: whom the speaker param resolved to."],
                    "corrected": ["type": "object", "description": "Present when a word had no match: what was searched instead."],
                ],
            ]),
        MethodSpec(
            "search.suggest",
            summary: "Completions of the last word of q (index terms and speaker names) and a \"did you mean\" for misspelt words.",
            params: [
                "type": "object", "additionalProperties": false, "required": ["q"],
                "properties": [
                    "q": ["type": "string", "minLength": 1, "maxLength": 200, "description": "What the user has typed so far."],
                    "limit": ["type": "integer", "minimum": 1, "maximum": 50, "description": "Completions of each kind (default 8)."],
                ],
            ],
            result: [
                "type": "object", "required": ["completions", "speakers"],
                "properties": [
                    "completions": ["type": "array", "items": ["type": "string"], "description": "Words of the corpus that complete the last word, most frequent first."],
                    "speakers": ["type": "array", "items": ["type": "string"], "description": "Speaker names matching the last word."],
                    "did_you_mean": ["type": "string", "description": "q with misspelt words replaced, when any was."],
                ],
            ]),
        MethodSpec(
            "search.similar",
            summary: "Passages in other meetings that discuss what a given turn discusses (more like this, from its weighted terms).",
            params: [
                "type": "object", "additionalProperties": false, "required": ["meeting", "turn"],
                "properties": [
                    "meeting": ["type": "string", "minLength": 1, "description": "The meeting id."],
                    "turn": ["type": "integer", "minimum": 0, "description": "The turn index in that meeting."],
                    "limit": ["type": "integer", "minimum": 1, "maximum": .int(Int64(maxLimit)), "description": "Hits to return (default 10)."],
                    "same_meeting": ["type": "boolean", "description": "Also return passages of the same meeting (default false)."],
                    "markers": markersSchema,
                ],
            ],
            result: [
                "type": "object", "required": ["terms", "hits"],
                "properties": [
                    "terms": ["type": "array", "items": ["type": "string"], "description": "The weighted index terms searched for."],
                    "hits": ["type": "array", "items": hitSchema],
                ],
            ]),
    ]

    let corpus: Corpus
    /// The running-time budget of the request being answered.
    let budget: RequestBudget
    /// The index counts matches exactly up to this many (per segment), then may skip
    /// documents that cannot enter the page; `total_exact` is false beyond it.
    let exactTotalUpTo: Int
    let defaultMarkers: Markers
    /// Across the corpus, a request rescores the index's best this many matching turns,
    /// and `unit: meeting` groups as many: their cost grows with the turns they read.
    let rankingBudget: Int
    /// This instance's analyzer (it caches stems; one per worker thread).
    let analyzer = Analyzer()
    /// Completions' written forms, this worker's own (`writtenForm(_:word:in:)`).
    var writtenWords = WrittenWords()
    /// The index's segments, read once per process and corpus generation and searched by every worker.
    private let sharedIndex: SharedCorpusValue<SegmentSet>
    /// Speakers' turns as runs of ids (a filter the index applies while it retrieves), kept
    /// once per process and corpus generation for every worker.
    private let sharedSpeakerTurns: SharedCorpusValue<SpeakerTurns>
    /// Speakers' turns as the index's masks, kept with the index of the same generation.
    private let sharedSpeakerMasks: SharedCorpusValue<SpeakerMasks>
    /// Where each meeting's turns start, for `unit: meeting` to group turns by, kept once per
    /// process and corpus generation: a request read every meeting's row (10,000 of them).
    private let sharedMeetingStarts: SharedCorpusValue<MeetingStarts>

    init(context: ModuleContext) throws {
        budget = context.budget
        corpus = try Corpus.openReadOnly(path: context.corpusPath, budget: budget)
        let settings = context.config
        defaultMarkers = Markers(open: settings["markers"]?["open"]?.stringValue ?? "[",
                                 close: settings["markers"]?["close"]?.stringValue ?? "]")
        rankingBudget = max(settings["ranking_budget"]?.intValue ?? 20_000, 100)
        // The setting once chose another engine for keyword queries (issue 12); a config that
        // still asks for one is refused by name rather than quietly searched otherwise.
        if let engine = settings["engine"], engine.stringValue != "index" {
            throw CorpusError("modules.search.settings.engine: \(engine.serialized) is no longer available: "
                              + "search always uses the index; remove the setting")
        }
        exactTotalUpTo = max(settings["exact_total_up_to"]?.intValue ?? 10_000, 0)
        let sharedIndex = CorpusIndex.shared(corpusPath: context.corpusPath)
        self.sharedIndex = sharedIndex
        sharedSpeakerTurns = SpeakerTurns.shared(corpusPath: context.corpusPath)
        sharedSpeakerMasks = SharedCorpusValue("search.speakerMasks", corpusPath: context.corpusPath) { db in
            try SpeakerMasks(db, index: sharedIndex.get(db))
        }
        sharedMeetingStarts = SharedCorpusValue("search.meetingStarts", corpusPath: context.corpusPath, build: MeetingStarts.init)
        // Loaded before the daemon says READY, so that no first query waits for it. A corpus that
        // cannot be read fails the requests that need it (-32007), not the start.
        do {
            _ = try corpus.reader.read { db in try sharedIndex.get(db) }
        } catch {
            context.log(.warning, "cannot load the index yet: \(error)")
        }
    }

    func handle(method: String, params: JSONValue) throws(MethodError) -> JSONValue {
        switch method {
        case "search.query": return try query(params)
        case "search.suggest": return try suggest(params)
        case "search.similar": return try similar(params)
        default: throw MethodError(code: ErrorCode.methodNotFound, message: "search has no method \(method)")
        }
    }

    /// Runs `body` on a reader connection; an unreadable corpus is -32007, other failures -32603.
    func read<T>(_ body: (Database) throws -> T) throws(MethodError) -> T {
        do {
            return try corpus.reader.read { db in try body(db) }
        } catch {
            throw .corpusFailure(error, in: Self.name)
        }
    }

    /// The corpus generation whose speakers' masks this worker holds.
    private var speakerMasksGeneration: Int64?

    /// The index's segments as of the corpus `db` reads. A new generation renews the speakers'
    /// masks this worker holds too: kept for the old one, they would keep the old index (its
    /// mapped segments, merged away) until this worker next searched one speaker's turns.
    func index(_ db: Database) throws -> SegmentSet {
        let (index, generation) = try sharedIndex.valueAndGeneration(db)
        if generation != speakerMasksGeneration {
            _ = try sharedSpeakerMasks.get(db)
            speakerMasksGeneration = generation
        }
        return index
    }

    /// The index's terms as of the corpus `db` reads, for corrections and completions.
    func vocabulary(_ db: Database) throws -> Vocabulary {
        let (index, generation) = try sharedIndex.valueAndGeneration(db)
        return Vocabulary(index: index, generation: generation, analyzer: analyzer)
    }

    /// The turns any of `people` spoke, as of the corpus `db` reads.
    func speakerTurns(_ db: Database, people: [Int64]) throws -> [ClosedRange<UInt32>] {
        try sharedSpeakerTurns.get(db).turns(db, people: people)
    }

    /// The masks of `person`'s turns (`turns`) in `index`, the index as of the corpus `db` reads.
    func speakerMasks(_ db: Database, person: Int64, turns: [ClosedRange<UInt32>], index: SegmentSet) throws -> SegmentMasks {
        try sharedSpeakerMasks.get(db).masks(person: person, turns: turns, in: index)
    }

    /// Where each meeting's turns start, as of the corpus `db` reads.
    func meetingStarts(_ db: Database) throws -> MeetingStarts { try sharedMeetingStarts.get(db) }

    func markers(_ params: JSONValue) -> Markers {
        Markers(open: params["markers"]?["open"]?.stringValue ?? defaultMarkers.open,
                close: params["markers"]?["close"]?.stringValue ?? defaultMarkers.close)
    }
}

/// The first turn of every meeting, ascending (meetings hold consecutive turn ids), with its key.
struct MeetingStarts: Sendable {
    private let firstTurns: [Int64]
    private let meetingPKs: [Int64]

    init(_ db: Database) throws {
        let rows = try Row.fetchAll(db, sql: "SELECT pk, first_turn FROM meeting WHERE turns > 0 ORDER BY first_turn")
        meetingPKs = rows.map { $0[0] }
        firstTurns = rows.map { $0[1] }
    }

    /// The key of the meeting holding turn `id`: the last one starting at or before it.
    func meeting(ofTurn id: Int64) -> Int64? {
        var low = 0, high = firstTurns.count
        while low < high {
            let middle = (low + high) / 2
            if firstTurns[middle] <= id { low = middle + 1 } else { high = middle }
        }
        return low > 0 ? meetingPKs[low - 1] : nil
    }
}

struct Markers {
    var open: String
    var close: String
}

@_cdecl("meetingd_module_entry")
public func meetingdModuleEntry() -> UnsafeRawPointer { exportModule(SearchModule.self) }
