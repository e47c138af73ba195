// The lookup methods as `rpc.discover` publishes them: the params schemas the host
// validates against (so handlers only re-check what a schema cannot say, such as
// calendar dates) and the result schemas. Limits are capped here.

import MeetingKit

enum LookupLimits {
    static let meetings = (default: 20, max: 100)
    static let turns = (default: 50, max: 200)
    static let personMeetings = (default: 50, max: 200)
    static let speakers = (default: 50, max: 500)
    static let documents = (default: 50, max: 200)
    /// The largest offset, turn index or section index a request may give.
    static let maxIndex = 1_000_000_000
}

/// The `sort` keys of `lookup.meetings` and their SQL; a leading "-" sorts descending.
/// Ties go in ingest order (`pk`), which the date index already holds.
enum MeetingSort {
    static let orders: [(key: String, sql: String)] = [
        ("date", "m.date, m.pk"),
        ("-date", "m.date DESC, m.pk DESC"),
        ("id", "m.id"),
        ("title", "m.title COLLATE NOCASE, m.pk"),
        ("words", "m.words, m.pk"),
        ("-words", "m.words DESC, m.pk"),
        ("turns", "m.turns, m.pk"),
        ("-turns", "m.turns DESC, m.pk"),
    ]
    static let defaultKey = "date"

    /// Undated meetings sort last in either date order; under a date bound there are
    /// none, and the bare order lets SQLite walk the date index instead of sorting.
    static func sql(for key: String, datesBounded: Bool) -> String? {
        guard let order = orders.first(where: { $0.key == key })?.sql else { return nil }
        return key.hasSuffix("date") && !datesBounded ? "m.date IS NULL, " + order : order
    }
}

extension LookupModule {
    static let lookupMethods: [MethodSpec] = [
        MethodSpec(
            "lookup.meeting",
            summary: "Everything the corpus knows about one meeting except the turn texts.",
            params: object(required: ["id"], [
                "id": ["type": "string", "minLength": 1, "description": "The meeting id."],
            ]),
            result: ["type": "object", "required": ["id", "title", "participants", "documents", "sections", "speakers"],
                     "properties": [
                        "id": string("The meeting id."),
                        "title": string("The title."),
                        "date": nullable("string", "ISO 8601 date, with time where the source gives one."),
                        "place": nullable("string", "Where it took place."),
                        "format": nullable("string", "\"in person\", \"videoconference\" or \"telephone\"."),
                        "source": nullable("string", "The file or URL it was ingested from."),
                        "lead": ["type": "array", "items": ["type": "string"], "description": "The summary paragraphs an official page opens with."],
                        "participants": ["type": "array", "description": "Listed participants: name, role, country, organisation."],
                        "documents": ["type": "array", "items": ["type": "string"], "description": "Titles of what was signed or adopted."],
                        "sections": ["type": "array", "description": "Sections: index, title, first_turn, last_turn, turns."],
                        "speakers": ["type": "array", "description": "Named speakers with their turns and words, most words first."],
                        "unnamed_turns": integer("Turns by an unnamed voice (a question from the floor, narration)."),
                        "turn_count": integer("Turns in the meeting."),
                        "words": integer("Words in the meeting."),
                        "duration": nullable("number", "Seconds, where the source has times."),
                     ]]),
        MethodSpec(
            "lookup.meetings",
            summary: "Meetings matching every filter given, a page at a time, with the total.",
            params: object([
                "from": date("Earliest date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD. Undated meetings are left out."),
                "to": date("Latest date, inclusive: YYYY, YYYY-MM (the whole month) or YYYY-MM-DD."),
                "place": words("Words the place must contain, e.g. \"Moscow\"."),
                "participant": name("Someone who took part: listed as a participant or spoke."),
                "speaker": name("Someone who spoke."),
                "title": words("Words the title must contain (whole words, any order, case and accents ignored)."),
                "sort": ["type": "string", "enum": .array(MeetingSort.orders.map { .string($0.key) }),
                         "description": "Order: date (default; undated last), -date, id, title, words, -words, turns, -turns."],
                "limit": limit(LookupLimits.meetings, "Meetings per page"),
                "offset": offset,
            ]),
            result: page("meetings", "id, title, date, place, format, turn_count, words, duration per meeting; "
                         + "`participant`/`speaker` echo whom the names resolved to.")),
        MethodSpec(
            "lookup.turns",
            summary: "A meeting's turns in order, with index, section, speaker, role and paragraphs.",
            params: object(required: ["meeting"], [
                "meeting": ["type": "string", "minLength": 1, "description": "The meeting id."],
                "speaker": name("Only this speaker's turns."),
                "section": index("Only turns of this section (an index into the meeting's sections)."),
                "from": index("First turn index, inclusive."),
                "to": index("Last turn index, inclusive."),
                "limit": limit(LookupLimits.turns, "Turns per page"),
                "offset": offset,
            ]),
            result: page("turns", "index, section, speaker (null for an unnamed voice), role, paragraphs, start, end per turn.")),
        MethodSpec(
            "lookup.person",
            summary: "Resolves a name as people type it (titles, surnames, other spellings) to one person, "
                + "with aliases, roles and meetings; an ambiguous name answers the candidates.",
            params: object(required: ["name"], [
                "name": name("The name, e.g. \"Putin\", \"President Putin\", \"Berdymukhamedov\"."),
                "limit": limit(LookupLimits.personMeetings, "Meetings per page"),
                "offset": offset,
            ]),
            result: ["type": "object", "required": ["ambiguous"], "properties": [
                "ambiguous": ["type": "boolean", "description": "True when the name fits several people: then only `query` and `candidates` are given."],
                "candidates": ["type": "array", "description": "The people the name could mean: name, matched, meetings."],
                "name": string("The canonical name."),
                "match": ["type": "object", "description": "How the name was reached: kind (name, alias, spelling), the alias, the edit distance."],
                "aliases": ["type": "array", "items": ["type": "string"]],
                "roles": ["type": "array", "description": "Roles held: role, country, organisation, meetings."],
                "total": integer("Meetings attended or spoken in."),
                "meetings": ["type": "array", "description": "id, title, date, role, participant, turns, words per meeting, by date."],
            ]]),
        MethodSpec(
            "lookup.speakers",
            summary: "The speakers of one meeting, or of the whole corpus, with turn, word and meeting counts; most words first.",
            params: object([
                "meeting": ["type": "string", "minLength": 1, "description": "The meeting id; without it, the whole corpus."],
                "limit": limit(LookupLimits.speakers, "Speakers per page"),
                "offset": offset,
            ]),
            result: page("speakers", "name, turns, words, meetings per speaker.")),
        MethodSpec(
            "lookup.documents",
            summary: "Documents signed or adopted, with their meetings, by date.",
            params: object([
                "meeting": ["type": "string", "minLength": 1, "description": "Only this meeting's documents."],
                "text": words("Words the document title must contain."),
                "from": date("Earliest meeting date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD."),
                "to": date("Latest meeting date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD."),
                "limit": limit(LookupLimits.documents, "Documents per page"),
                "offset": offset,
            ]),
            result: page("documents", "title, meeting {id, title, date} per document.")),
        MethodSpec(
            "lookup.stats",
            summary: "Corpus figures: meetings, turns, words, people, documents, date range and meetings per year.",
            params: object([:]),
            result: ["type": "object", "required": ["meetings", "turns", "words", "people", "per_year"], "properties": [
                "meetings": integer("Meetings."), "turns": integer("Turns."), "words": integer("Words."),
                "people": integer("People."), "documents": integer("Documents."),
                "first_date": nullable("string", "The earliest date."), "last_date": nullable("string", "The latest date."),
                "undated": integer("Meetings without a date."),
                "per_year": ["type": "array", "description": "year, meetings, by year."],
            ]]),
    ]

    // Schema pieces shared by the methods above.

    private static func object(required: [String] = [], _ properties: JSONObject) -> JSONValue {
        ["type": "object", "additionalProperties": false, "required": .array(required.map(JSONValue.string)),
         "properties": .object(properties)]
    }
    private static func string(_ description: String) -> JSONValue { ["type": "string", "description": .string(description)] }
    private static func integer(_ description: String) -> JSONValue { ["type": "integer", "description": .string(description)] }
    private static func nullable(_ type: String, _ description: String) -> JSONValue {
        ["type": [.string(type), "null"], "description": .string(description)]
    }
    private static func date(_ description: String) -> JSONValue {
        ["type": "string", "pattern": .string(DateBounds.pattern), "description": .string(description)]
    }
    private static func words(_ description: String) -> JSONValue {
        ["type": "string", "minLength": 1, "maxLength": 200, "description": .string(description)]
    }
    private static func name(_ description: String) -> JSONValue {
        ["type": "string", "minLength": 1, "maxLength": 200, "description": .string(description)]
    }
    private static func limit(_ bounds: (default: Int, max: Int), _ what: String) -> JSONValue {
        ["type": "integer", "minimum": 0, "maximum": .int(Int64(bounds.max)),
         "description": .string("\(what): default \(bounds.default), at most \(bounds.max).")]
    }
    private static let offset = index("How many to skip (default 0).")
    /// Positions and counts: bounded so that no arithmetic on them can overflow.
    private static func index(_ description: String) -> JSONValue {
        ["type": "integer", "minimum": 0, "maximum": .int(Int64(LookupLimits.maxIndex)), "description": .string(description)]
    }
    private static func page(_ items: String, _ description: String) -> JSONValue {
        ["type": "object", "required": ["total", "offset", "limit", .string(items)], "properties": [
            "total": integer("How many match, over all pages."),
            "offset": integer("As asked."), "limit": integer("As applied."),
            items: ["type": "array", "description": .string(description)],
        ]]
    }
}
