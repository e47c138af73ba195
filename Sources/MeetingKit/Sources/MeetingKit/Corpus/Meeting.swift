import Foundation

/// One meeting as meetingd knows it. Its `Codable` form is the project's
/// documented, lossless JSON: `meetingd export` writes it (one meeting a line, keys
/// sorted) and `meetingd ingest` reads it back, one meeting per `.json` file, an array
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
public struct Meeting: Codable, Sendable, Equatable {
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

    /// A decoder's `userInfo` entry: the id of a meeting whose JSON carries none
    /// (ingest gives the file's stem).
    public static let defaultIDKey = CodingUserInfoKey(rawValue: "meetingd.defaultMeetingID")!

    private enum CodingKeys: String, CodingKey {
        case id, title, date, place, format, source, lead, participants, documents, sections, turns, language
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let id = try container.decodeIfPresent(String.self, forKey: .id) {
            self.id = id
        } else if let id = decoder.userInfo[Self.defaultIDKey] as? String {
            self.id = id
        } else {
            throw DecodingError.keyNotFound(CodingKeys.id, .init(codingPath: container.codingPath, debugDescription: "no meeting id"))
        }
        title = try container.decode(String.self, forKey: .title)
        date = try container.decodeIfPresent(String.self, forKey: .date)
        place = try container.decodeIfPresent(String.self, forKey: .place)
        format = try container.decodeIfPresent(MeetingFormat.self, forKey: .format)
        source = try container.decodeIfPresent(String.self, forKey: .source)
        lead = try container.decodeIfPresent([String].self, forKey: .lead) ?? []
        participants = try container.decodeIfPresent([Participant].self, forKey: .participants) ?? []
        documents = try container.decodeIfPresent([String].self, forKey: .documents) ?? []
        sections = try container.decodeIfPresent([Section].self, forKey: .sections) ?? []
        turns = try container.decodeIfPresent([Turn].self, forKey: .turns) ?? []
        language = try container.decodeIfPresent(Language.self, forKey: .language)
    }
}

public enum MeetingFormat: String, Codable, Sendable, CaseIterable {
    case inPerson = "in person"
    case videoconference
    case telephone
}

public struct Participant: Codable, Sendable, Equatable {
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
}

public struct Section: Codable, Sendable, Equatable {
    public var title: String
    public init(title: String) { self.title = title }
}

public struct Turn: Codable, Sendable, Equatable {
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

    /// The stored text: paragraphs joined by "\n". Sentence offsets count into it.
    public var text: String { paragraphs.joined(separator: "\n") }
}
