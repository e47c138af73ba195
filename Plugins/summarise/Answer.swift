// summarise.answer: a question answered from the part of the record that holds its
// answer (participants, documents, date and place, a person's words, or the turns and
// lead about its topic), every piece cited, and "not found" when the topic is absent.

import Foundation
import MeetingKit

/// What a question asks for, read from its words (English and Russian).
enum AskedFor: String {
    case participants, speakers, documents, date, place, words

    static func read(_ words: [String]) -> AskedFor {
        let set = Set(words)
        func has(_ prefixes: String...) -> Bool { words.contains { word in prefixes.contains { word.hasPrefix($0) } } }
        let who = set.contains("who") || set.contains("кто")
        if has("signed", "sign", "adopted", "adopt", "document", "agreement", "agreed", "подпис", "документ", "утвержд", "принят") {
            return .documents
        }
        if who && has("spoke", "speak", "talked", "выступ", "говорил") || set.contains("speakers") { return .speakers }
        if who && has("took", "part", "attend", "particip", "present", "участ", "присутств") || has("participants", "участник") {
            return .participants
        }
        if words.first == "when" || words.first == "когда" || set.contains("date") || set.contains("дата") { return .date }
        if words.first == "where" || words.first == "где" || (set.contains("what") && set.contains("place")) { return .place }
        return .words
    }

    /// Words that say what is asked for rather than its subject.
    static let questionWords: Set<String> = [
        "who", "took", "take", "part", "attended", "attend", "participated", "participate", "participants", "present",
        "spoke", "speak", "talked", "speakers", "signed", "sign", "adopted", "adopt", "documents", "document",
        "agreed", "agreements", "agreement", "when", "where", "date", "place", "held", "kept", "happen", "happened",
        "кто", "участвовал", "участвовали", "принял", "приняли", "участие", "участники", "выступал", "выступали",
        "подписано", "подписаны", "подписали", "документы", "когда", "где", "состоялось", "прошло", "что", "какие",
    ]
}

extension SummariseModule {
    static let answerSpec = MethodSpec(
        "summarise.answer",
        summary: """
            Answers a question from the part of the record that holds the answer: who took part or spoke \
            (participants, speakers with roles), what was signed or adopted (documents), when and where (date, place), \
            what a person said (their sentences, about the question's subject), otherwise the lead and turns about its \
            subject. Every piece is cited; `found` is false, with hints, when the subject does not occur in the scope.
            """,
        params: [
            "type": "object", "additionalProperties": false, "required": ["question"],
            "properties": [
                "question": ["type": "string", "minLength": 1, "maxLength": 1000, "description": "The question, as people ask it."],
                "meeting": ["type": "string", "minLength": 1, "maxLength": 500, "description": """
                    The meeting to answer from; without it, the meeting that answers best is found (and named in each piece).
                    """],
                "from": ["type": "string", "pattern": #"^\d{4}(-\d{2}(-\d{2})?)?$"#, "description": "Without `meeting`: only meetings on or after this date."],
                "to": ["type": "string", "pattern": #"^\d{4}(-\d{2}(-\d{2})?)?$"#, "description": "Without `meeting`: only meetings on or before this date."],
                "speaker": ["type": "string", "minLength": 1, "maxLength": 500, "description": "Only this person's words (resolved as in every module)."],
                "max_words": ["type": "integer", "minimum": 1, "maximum": 5000, "description": "Word budget of the answer's texts (default 100)."],
            ],
        ],
        result: [
            "type": "object", "required": ["found", "answer", "interpreted"],
            "properties": [
                "found": ["type": "boolean", "description": "False when the question's subject does not occur in the scope: then `answer` is empty."],
                "answer": ["type": "array", "items": [
                    "type": "object", "required": ["text", "meeting", "source"],
                    "properties": [
                        "text": ["type": "string"], "meeting": ["type": "string"],
                        "turn": ["type": "integer"], "speaker": ["type": ["string", "null"]],
                        "start": ["type": "integer", "description": "Offset in the stored turn text or lead, in Unicode scalars."],
                        "end": ["type": "integer"],
                        "source": ["type": "string", "enum": ["turn", "lead", "documents", "participants", "metadata"]],
                    ],
                ]],
                "interpreted": ["type": "object", "description": "asks (participants, speakers, documents, date, place, words), meeting, topic words, person."],
                "hints": ["type": "object", "description": "When not found: terms of the meeting spelled closest to the subject's, and meetings that do mention it."],
            ],
        ])

    func answer(_ params: JSONValue) throws -> JSONValue {
        let question = params["question"]?.stringValue ?? ""
        let maxWords = params["max_words"]?.intValue ?? Self.defaultWords
        let words = NamesInText.words(question)
        let asks = AskedFor.read(words)
        return try withAnalyser { analyser in
            let topicWords = words.filter { word in
                !AskedFor.questionWords.contains(word) && !QueryFocus.requestWords.contains(word)
                    && !analyser.isFunctionWord(word) && !SpokenText.phatic.contains(word)
            }
            let id: String
            if let given = params["meeting"]?.stringValue {
                id = given
            } else if let found = try bestMeeting(for: topicWords, question: question, params: params, analyser: analyser) {
                id = found
            } else {
                return notFound(topicWords, meeting: nil, asks: asks, analyser: analyser)
            }
            let meeting = try loadMeeting(id, analyser: &analyser)
            let record = try corpus.reader.read { db in try Meeting.fetchRecord(db, id: id) }
            var interpreted: JSONObject = ["asks": .string(asks.rawValue), "meeting": .string(id)]
            var pieces: [JSONValue] = []
            var budget = maxWords
            func add(_ text: String, source: String, extra: JSONObject = [:]) {
                let cost = TranscriptText.wordCount(text)
                guard cost <= budget else { return }
                budget -= cost
                var piece: JSONObject = ["text": .string(text), "meeting": .string(id), "source": .string(source)]
                for (key, value) in extra { piece[key] = value }
                pieces.append(.object(piece))
            }
            switch asks {
            case .participants, .speakers:
                let listed = asks == .participants && !record.participants.isEmpty
                let people = listed ? record.participants : record.speakers.map { Participant(name: $0.name, role: $0.role) }
                for person in people {
                    add(person.role.map { "\(person.name), \($0)" } ?? person.name, source: listed ? "participants" : "turn")
                }
            case .documents:
                for document in record.documents { add(document, source: "documents") }
            case .date:
                if let date = record.date { add(date, source: "metadata") }
            case .place:
                if let place = record.place { add(place, source: "metadata") }
            case .words:
                break
            }
            if !pieces.isEmpty {
                return ["found": true, "answer": .array(pieces), "interpreted": .object(interpreted)]
            }
            if asks == .date || asks == .place {
                // The record does not say: no summary stands in for a date or a place.
                return ["found": false, "answer": [], "interpreted": .object(interpreted), "hints": [:]]
            }
            // A question about what was said (or a record without that part): the person's
            // or the subject's sentences, the lead first when it speaks of the subject.
            var onlySpeakers: Set<Int>?
            if let name = params["speaker"]?.stringValue {
                onlySpeakers = try speakers(named: name, in: meeting)
            }
            let checked = subjectCheck(question, meeting: meeting, record: record, analyser: &analyser)
            let focus = checked.focus
            let asked = checked.asked
            if !checked.corrections.isEmpty { interpreted["corrected"] = .array(checked.corrections) }
            if !focus.namedSpeakers.isEmpty {
                interpreted["person"] = .array(focus.namedSpeakers.sorted().map { .string(meeting.speakers[$0]) })
            }
            interpreted["topic"] = .array(focus.subjectWords.map(JSONValue.string))
            let absent = checked.absent
            if checked.notFound {
                return notFound(focus.subjectWords, meeting: meeting, asks: asks, analyser: analyser, interpreted: interpreted)
            }
            if !absent.isEmpty { interpreted["absent"] = .array(absent.map(JSONValue.string)) }
            let subjectTerms = Set(focus.subjectWords.map(analyser.term))
            if focus.namedSpeakers.isEmpty, onlySpeakers == nil,
               let lead = record.leadSentences.max(by: { a, b in
                   subjectTerms.intersection(analyser.terms(a.text)).count < subjectTerms.intersection(analyser.terms(b.text)).count
               }), !subjectTerms.isDisjoint(with: analyser.terms(lead.text)) {
                add(lead.text, source: "lead", extra: ["start": JSONValue(lead.start), "end": JSONValue(lead.end)])
            }
            let speakers = onlySpeakers ?? (focus.namedSpeakers.isEmpty ? nil : focus.namedSpeakers)
            let plan = try meeting.plan(query: asked, onlySpeakers: speakers, scorer: scorer, analyser: &analyser)
            for index in meeting.choose(plan, maxWords: budget, maxSentences: Int.max, labelWords: { _ in 0 }) {
                let sentence = meeting.sentences[index]
                add(sentence.text, source: "turn", extra: [
                    "turn": JSONValue(sentence.turn), "speaker": JSONValue(sentence.speaker.map { meeting.speakers[$0] }),
                    "start": JSONValue(sentence.start), "end": JSONValue(sentence.end),
                ])
            }
            return ["found": .bool(!pieces.isEmpty), "answer": .array(pieces), "interpreted": .object(interpreted)]
        }
    }

    /// Whether the question's subject is in the meeting (its turns, title or lead): typos of the
    /// meeting's words corrected first, the subject there when at least half its words are
    /// ("the Eurasian Economic Union" is not on a page that only says "economic"), or when the
    /// question names someone who speaks here and the corpus knows the subject's words.
    func subjectCheck(_ question: String, meeting: MeetingText, record: MeetingRecord, analyser: inout TextAnalyser)
        -> (focus: QueryFocus, asked: String, corrections: [JSONValue], absent: [String], notFound: Bool) {
        var asked = question
        var focus = QueryFocus(query: asked, meeting: meeting, analyser: &analyser)
        let inRecord = Set(analyser.terms(record.titleAndLead))
        func missing(_ focus: QueryFocus) -> [String] {
            focus.subjectWords.filter { word in
                let stem = analyser.term(word)
                return meeting.vocabulary.ids[stem] == nil && !inRecord.contains(stem)
            }
        }
        var corrections: [JSONValue] = []
        // Only a word the corpus never holds is taken for a typo ("vacines"); "rail" is no typo of "jail".
        for word in missing(focus) where analyser.statistics.turnsWithTerm[analyser.term(word)] == nil {
            guard let closest = meeting.vocabulary.closestSurface(to: word, within: word.count <= 7 ? 1 : 2) else { continue }
            asked = asked.replacingOccurrences(of: word, with: closest, options: [.caseInsensitive])
            corrections.append(["from": .string(word), "to": .string(closest)])
        }
        if !corrections.isEmpty { focus = QueryFocus(query: asked, meeting: meeting, analyser: &analyser) }
        let absent = missing(focus)
        // A question naming someone who speaks here is about their words, whatever it calls the
        // subject, unless a subject word occurs nowhere in the corpus ("What did Putin say about
        // cryptocurrency?" on a corpus that never says it).
        let unknownAnywhere = absent.contains { analyser.statistics.turnsWithTerm[analyser.term($0)] == nil }
        let notFound = !focus.subjectWords.isEmpty && absent.count * 2 > focus.subjectWords.count
            && (focus.namedSpeakers.isEmpty || unknownAnywhere)
        return (focus, asked, corrections, absent, notFound)
    }

    /// `found: false` with hints: the meeting's words spelled closest to the subject's, and
    /// the meetings that do mention it.
    private func notFound(_ topicWords: [String], meeting: MeetingText?, asks: AskedFor, analyser: TextAnalyser,
                          interpreted: JSONObject = [:]) -> JSONValue {
        var interpreted = interpreted
        interpreted["asks"] = .string(asks.rawValue)
        interpreted["topic"] = .array(topicWords.map(JSONValue.string))
        var hints: JSONObject = [:]
        if let meeting {
            hints["closest"] = .array(topicWords.compactMap { meeting.vocabulary.closestSurface(to: $0, within: 2) }.map(JSONValue.string))
        }
        let elsewhere = (try? corpus.reader.read { db in
            try meetingsMentioning(topicWords, db, analyser: analyser, limit: 5, every: true)
        }) ?? []
        hints["meetings"] = .array(elsewhere.filter { $0 != meeting?.id }.map(JSONValue.string))
        return ["found": false, "answer": [], "interpreted": .object(interpreted), "hints": .object(hints)]
    }

    /// The meetings whose turns the index ranks best for the words, best first: a meeting
    /// scores the sum of its turns among the best `mentionTurns` within `allowed` (nil: every
    /// turn). With `every`, only turns that hold every word count.
    func meetingsMentioning(_ words: [String], _ db: Database, analyser: TextAnalyser, limit: Int, every: Bool = false,
                            allowed: [ClosedRange<UInt32>]? = nil) throws -> [String] {
        let hits = try bestTurns(words, db, analyser: analyser, limit: Self.mentionTurns, every: every, allowed: allowed)
        let meetingOf = try db.cachedStatement(sql: "SELECT m.id FROM turn t JOIN meeting m ON m.pk = t.meeting_pk WHERE t.id = ?")
        var scores: [String: Double] = [:]
        for hit in hits {
            guard let id = try String.fetchOne(meetingOf, arguments: [Int64(hit.documentID)]) else { continue }
            scores[id, default: 0] += hit.score
        }
        return scores.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(limit).map(\.key)
    }

    /// How many of the index's best turns choose the meetings.
    static let mentionTurns = 200

    /// Without `meeting`: the meeting whose turns answer best. Words that name people (a name,
    /// a surname, a role of up to six words) are not searched for: they choose those people's
    /// turns instead ("What did the Minister of Transport say about rail freight?").
    private func bestMeeting(for topicWords: [String], question: String, params: JSONValue, analyser: TextAnalyser) throws -> String? {
        try corpus.reader.read { db in
            var people = Set<Int64>()
            if let typed = params["speaker"]?.stringValue {
                people = [try PersonResolver.person(typed, field: "speaker", in: db).id]
            }
            let words = NamesInText.words(question)
            var nameWords = Set<String>()
            let holders = try db.cachedStatement(sql: """
                SELECT id FROM person WHERE key = :key UNION SELECT person_id FROM person_alias WHERE key = :key
                """)
            var named = Set<Int64>()
            for length in stride(from: min(6, words.count), through: 1, by: -1) {
                for start in 0...(words.count - length) {
                    let run = words[start..<(start + length)]
                    guard length > 1 || topicWords.contains(run.first!), !run.allSatisfy(analyser.isFunctionWord),
                          !run.contains(where: nameWords.contains) else { continue }
                    let found = try Int64.fetchAll(holders, arguments: ["key": PersonName.key(run.joined(separator: " "))])
                    if !found.isEmpty { named.formUnion(found); nameWords.formUnion(run) }
                }
            }
            if people.isEmpty { people = named }
            var subject = topicWords.filter { !nameWords.contains($0) }
            if subject.isEmpty { subject = topicWords }
            let allowed = try allowedTurns(db, from: params["from"]?.stringValue, to: params["to"]?.stringValue,
                                           people: people.sorted())
            return try meetingsMentioning(subject, db, analyser: analyser, limit: 1, allowed: allowed).first
        }
    }
}

/// The parts of a meeting's record an answer may cite besides its turns.
struct MeetingRecord {
    var date: String?
    var place: String?
    var titleAndLead: String
    var participants: [Participant]
    var speakers: [(name: String, role: String?)]
    var documents: [String]
    /// The lead's sentences with their Unicode-scalar offsets in the stored lead text.
    var leadSentences: [(text: String, start: Int, end: Int)]
}

extension Meeting {
    static func fetchRecord(_ db: Database, id: String) throws -> MeetingRecord {
        guard let row = try Row.fetchOne(db, sql: "SELECT pk, title, date, place, lead FROM meeting WHERE id = ?", arguments: [id]) else {
            throw MethodError.notFound("meeting", id: id)
        }
        let pk: Int64 = row["pk"]
        let lead: String = row["lead"]
        let participants = try Row.fetchAll(db, sql: """
            SELECT person.name, role, country, organisation FROM participant JOIN person ON person.id = participant.person_id
            WHERE meeting_pk = ? ORDER BY ordinal
            """, arguments: [pk]).map { Participant(name: $0[0], role: $0[1], country: $0[2], organisation: $0[3]) }
        let speakers = try Row.fetchAll(db, sql: """
            SELECT p.name, (SELECT t.role FROM turn t, meeting m WHERE m.pk = s.meeting_pk AND t.person_id = p.id
                            AND t.id BETWEEN m.first_turn AND m.first_turn + m.turns - 1 AND t.role IS NOT NULL LIMIT 1)
            FROM speaker s JOIN person p ON p.id = s.person_id WHERE s.meeting_pk = ? ORDER BY s.words DESC, p.name
            """, arguments: [pk]).map { (name: $0[0] as String, role: $0[1] as String?) }
        let documents = try String.fetchAll(db, sql: "SELECT title FROM document WHERE meeting_pk = ? ORDER BY ordinal", arguments: [pk])
        let scalars = Array(lead.unicodeScalars)
        let leadSentences = TranscriptText.sentences(in: lead).map { span in
            (text: String(String.UnicodeScalarView(scalars[span.start..<span.end])), start: span.start, end: span.end)
        }
        return MeetingRecord(date: row["date"], place: row["place"], titleAndLead: (row["title"] as String) + "\n" + lead,
                             participants: participants, speakers: speakers, documents: documents, leadSentences: leadSentences)
    }
}

extension Vocabulary {
    /// The word of the meeting spelled closest to `word`, within `within` edits, for
    /// corrections and hints: the most used of equally close ones.
    func closestSurface(to word: String, within limit: Int) -> String? {
        let target = Array(word.lowercased().unicodeScalars)
        guard target.count >= 3 else { return nil }
        var best: (distance: Int, uses: Int, surface: String)?
        for (spelling, uses) in spellings {
            let candidate = Array(spelling.unicodeScalars)
            guard abs(candidate.count - target.count) <= limit,
                  let distance = EditDistance.between(target, candidate, atMost: limit), distance > 0 else { continue }
            if best == nil || (distance, -uses, spelling) < (best!.distance, -best!.uses, best!.surface) {
                best = (distance, uses, spelling)
            }
        }
        return best?.surface
    }
}
