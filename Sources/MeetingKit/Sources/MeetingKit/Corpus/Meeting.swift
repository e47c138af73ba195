import Foundation

/// One meeting as meetingd knows it. Its `Encodable` form is the project's
/// documented, lossless JSON: `meetingd export` writes it (one meeting a line, keys
/// sorted) and `meetingd ingest` reads it back (`init(json:defaultID:)`), one meeting per `.json` file, an array
/// of them, or one per line of a `.jsonl` file. Optional fields are left out when
/// unknown; `id` may be omitted on input (the file's stem, or `stem-N` for line N of a
/// JSONL file, is used) and arrays may be omitted (read as empty). For example:
///
///     {"id": "board-2024-01", "title": "Board meeting", "date": "2024-01-15T10:00:00+01:00",
///      "place": "Vienna", "format": "in person", "source": "https://example.org/board",
///      "lead": ["The board reviewed the plan."],
///      "participants": [{"name": "Eva Gruber", "role": "Chair", "organisation": "Board"}],
///      "documents": ["Annual plan 2024"], "sections": [{"title": "Annual plan"}], "language": "en",
///      "turns": [{"index": 0, "section": 0, "speaker": "Eva Gruber", "role": "Chair",
///                 "paragraphs": ["Welcome.", "Let us begin."], "start": 0, "end": 12.5}]}
///
/// `format` is "in person", "videoconference" or "telephone"; times are seconds;
/// `turns[i].index` must be `i`; a turn without `speaker` is an unnamed voice.
/// `language` is "en" or "ru"; when a file does not say, ingest reads it from the script
/// most of the title, lead and first turns are written in.
public struct Meeting: Encodable, Sendable, Equatable {
    /// Stable across re-ingests: the file's stem, `stem-N` for line N (from 0) of a
    /// JSONL file, or the id the document carries.
    public var id: String
    public var title: String
    /// ISO 8601: `2020-12-18`, or with time and zone where the source gives them.
    public var date: String?
    public var place: String?
    public var format: MeetingFormat?
    /// Where the meeting came from: a file path or URL.
    public var source: String?
    /// The summary paragraphs an official page opens with.
    public var lead: [String]
    public var participants: [Participant]
    /// Titles of what was signed or adopted.
    public var documents: [String]
    public var sections: [Section]
    /// In source order; `turns[i].index == i`.
    public var turns: [Turn]
    /// The language the meeting is held in; nil when the source does not say.
    public var language: Language?

    public init(id: String, title: String, date: String? = nil, place: String? = nil,
                format: MeetingFormat? = nil, source: String? = nil, lead: [String] = [],
                participants: [Participant] = [], documents: [String] = [],
                sections: [Section] = [], turns: [Turn] = [], language: Language? = nil) {
        self.id = id
        self.title = title
        self.date = date
        self.place = place
        self.format = format
        self.source = source
        self.lead = lead
        self.participants = participants
        self.documents = documents
        self.sections = sections
        self.turns = turns
        self.language = language
    }

    /// The language as given, or else read from the script of the title, lead and first turns.
    public var languageOrDetected: Language {
        if let language { return language }
        let sample = ([title] + lead + turns.prefix(20).map(\.text)).joined(separator: " ")
        return Language.detect(in: sample)
    }

    /// Reads the documented form from a parsed document: an absent or null optional member
    /// is nil and an absent or null array empty (as Foundation's `decodeIfPresent` read
    /// them), unknown members are ignored, and `defaultID` is the id of a document
    /// without one (ingest gives the file's stem).
    public init(json: JSONValue, defaultID: String?) throws(JSONShapeError) {
        let object = try json.object()
        guard let id = try object.optional("id", as: String.self) ?? defaultID else { throw JSONShapeError("missing \"id\"") }
        self.id = id
        title = try object.required("title")
        date = try object.optional("date")
        place = try object.optional("place")
        format = try object.optional("format")
        source = try object.optional("source")
        lead = try object.optional("lead") ?? []
        participants = try object.optional("participants") ?? []
        documents = try object.optional("documents") ?? []
        sections = try object.optional("sections") ?? []
        turns = try object.optional("turns") ?? []
        language = try object.optional("language")
    }
}

public enum MeetingFormat: String, Encodable, Sendable, CaseIterable, JSONReadable {
    case inPerson = "in person"
    case videoconference
    case telephone
}

public struct Participant: Encodable, Sendable, Equatable, JSONReadable {
    /// The canonical name of the person.
    public var name: String
    public var role: String?
    /// Taken from roles such as "President of Uzbekistan".
    public var country: String?
    /// Taken from roles that name a body, such as "Speaker of the Federation Council".
    public var organisation: String?

    public init(name: String, role: String? = nil, country: String? = nil, organisation: String? = nil) {
        self.name = name
        self.role = role
        self.country = country
        self.organisation = organisation
    }

    public init(json: JSONValue) throws(JSONShapeError) {
        let object = try json.object()
        name = try object.required("name")
        role = try object.optional("role")
        country = try object.optional("country")
        organisation = try object.optional("organisation")
    }
}

public struct Section: Encodable, Sendable, Equatable, JSONReadable {
    public var title: String
    public init(title: String) { self.title = title }
    public init(json: JSONValue) throws(JSONShapeError) { title = try json.object().required("title") }
}

public struct Turn: Encodable, Sendable, Equatable, JSONReadable {
    /// Counted from 0 in source order, as QMSum's spans count them.
    public var index: Int
    /// Index into `Meeting.sections`, when the meeting has sections.
    public var section: Int?
    /// The canonical name of the speaker; nil for an unnamed voice
    /// (a journalist's "Question:", a "Remark:", narration).
    public var speaker: String?
    /// The role as written before the name, or "Question"/"Remark".
    public var role: String?
    /// The text, paragraph by paragraph, transcription marks such as `{vocalsound}` kept.
    public var paragraphs: [String]
    /// Seconds from the start of the recording, where the source has them.
    public var start: Double?
    public var end: Double?

    public init(index: Int, section: Int? = nil, speaker: String? = nil, role: String? = nil,
                paragraphs: [String], start: Double? = nil, end: Double? = nil) {
        self.index = index
        self.section = section
        self.speaker = speaker
        self.role = role
        self.paragraphs = paragraphs
        self.start = start
        self.end = end
    }

    public init(json: JSONValue) throws(JSONShapeError) {
        let object = try json.object()
        index = try object.required("index")
        section = try object.optional("section")
        speaker = try object.optional("speaker")
        role = try object.optional("role")
        paragraphs = try object.required("paragraphs")
        start = try object.optional("start")
        end = try object.optional("end")
    }

    /// The stored text: paragraphs joined by "\n". Sentence offsets count into it.
    public var text: String { paragraphs.joined(separator: "\n") }
}

extension Language: JSONReadable {}
