// lookup.meeting, lookup.meetings and lookup.turns.

import MeetingKit

/// The filters of `lookup.meetings`, checked before the corpus is read.
struct MeetingFilter {
    let from: String?
    let until: String?
    let place: String?
    let title: String?
    let participant: String?
    let speaker: String?
    let order: String
    /// For the date sorts, whether descending; nil for the others.
    let dateDescending: Bool?
    let page: Page

    init(_ params: Params) throws(MethodError) {
        from = try params.string("from").map { text throws(MethodError) in try DateBounds.lower(text, field: "from") }
        until = try params.string("to").map { text throws(MethodError) in try DateBounds.upperExclusive(text, field: "to") }
        try DateBounds.checkOrder(lower: from, upperExclusive: until, field: "to")
        place = try params.string("place").map { text throws(MethodError) in try WordMatch.argument(text, field: "place") }
        title = try params.string("title").map { text throws(MethodError) in try WordMatch.argument(text, field: "title") }
        participant = params.string("participant")
        speaker = params.string("speaker")
        let sort = params.string("sort") ?? MeetingSort.defaultKey
        guard let order = MeetingSort.sql(for: sort, datesBounded: from != nil || until != nil) else {
            throw MethodError.invalidParams(field: "sort", reason: "unknown sort key \"\(sort)\"")
        }
        self.order = order
        dateDescending = sort == "date" ? false : sort == "-date" ? true : nil
        page = params.page(LookupLimits.meetings)
    }
}

struct TurnQuery {
    let meeting: String
    let speaker: String?
    let section: Int?
    let from: Int
    let to: Int?
    let page: Page

    init(_ params: Params) throws(MethodError) {
        meeting = params.string("meeting") ?? ""
        speaker = params.string("speaker")
        section = params.int("section")
        from = params.int("from") ?? 0
        to = params.int("to")
        if let to, to < from { throw MethodError.invalidParams(field: "to", reason: "is before from (\(from))") }
        page = params.page(LookupLimits.turns)
    }
}

extension LookupModule {
    func meeting(_ db: Database, id: String) throws -> JSONValue {
        // Columns by position: GRDB's lookup by name lowercases the name on every access.
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT pk, id, title, date, place, format, source, lead, first_turn, turns, words, duration
            FROM meeting WHERE id = :id
            """), arguments: ["id": id]) else { throw MethodError.notFound("meeting", id: id) }
        let pk: Int64 = row[0]
        let lead: String = row[7]
        let participants = try db.jsonRows("""
            SELECT person.name, role, country, organisation FROM participant
            JOIN person ON person.id = participant.person_id WHERE meeting_pk = :pk ORDER BY ordinal
            """, ["pk": pk]) { row in
                ["name": .string(row[0]), "role": JSONValue(row[1] as String?),
                 "country": JSONValue(row[2] as String?), "organisation": JSONValue(row[3] as String?)]
            }
        let documents = try String.fetchAll(db.cachedStatement(sql: """
            SELECT title FROM document WHERE meeting_pk = :pk ORDER BY ordinal
            """), arguments: ["pk": pk])
        var namedTurns = 0
        let speakers = try db.jsonRows("""
            SELECT person.name, speaker.turns, speaker.words FROM speaker
            JOIN person ON person.id = speaker.person_id WHERE meeting_pk = :pk ORDER BY speaker.words DESC, person.name
            """, ["pk": pk]) { row in
                namedTurns += row[1] as Int
                return ["name": .string(row[0]), "turns": JSONValue(row[1] as Int), "words": JSONValue(row[2] as Int)]
            }
        let turnCount: Int = row[9]
        return [
            "id": .string(row[1]), "title": .string(row[2]), "date": JSONValue(row[3] as String?),
            "place": JSONValue(row[4] as String?), "format": JSONValue(row[5] as String?),
            "source": JSONValue(row[6] as String?),
            "lead": .array(lead.isEmpty ? [] : lead.split(separator: "\n", omittingEmptySubsequences: false).map { .string(String($0)) }),
            "participants": .array(participants),
            "documents": .array(documents.map(JSONValue.string)),
            "sections": .array(try sections(db, meetingPK: pk, firstTurn: row[8], turnCount: turnCount)),
            "speakers": .array(speakers),
            "unnamed_turns": JSONValue(turnCount - namedTurns),
            "turn_count": JSONValue(turnCount),
            "words": JSONValue(row[10] as Int),
            "duration": (row[11] as Double?).map(JSONValue.double) ?? .null,
        ]
    }

    /// Section titles with the turn range each covers (turns carry their section).
    private func sections(_ db: Database, meetingPK: Int64, firstTurn: Int64, turnCount: Int) throws -> [JSONValue] {
        let titles = try String.fetchAll(db.cachedStatement(sql: """
            SELECT title FROM section WHERE meeting_pk = :pk ORDER BY ordinal
            """), arguments: ["pk": meetingPK])
        guard !titles.isEmpty else { return [] }
        var ranges: [Int: (first: Int, last: Int, turns: Int)] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: """
            SELECT section, min(idx) AS first, max(idx) AS last, count(*) AS turns FROM turn
            WHERE id BETWEEN :first AND :last AND section IS NOT NULL GROUP BY section
            """), arguments: ["first": firstTurn, "last": firstTurn + Int64(turnCount) - 1]) {
            ranges[row["section"]] = (row["first"], row["last"], row["turns"])
        }
        return titles.enumerated().map { index, title in
            let range = ranges[index]
            return ["index": JSONValue(index), "title": .string(title),
                    "first_turn": range.map { JSONValue($0.first) } ?? .null,
                    "last_turn": range.map { JSONValue($0.last) } ?? .null,
                    "turns": JSONValue(range?.turns ?? 0)]
        }
    }

    func meetings(_ db: Database, _ filter: MeetingFilter) throws -> JSONValue {
        let participant = try filter.participant.map { name in try resolvedPerson(db, name, field: "participant") }
        let speaker = try filter.speaker.map { name in try resolvedPerson(db, name, field: "speaker") }
        var resolved: JSONObject = [:]
        if let participant { resolved["participant"] = .string(participant.name) }
        if let speaker { resolved["speaker"] = .string(speaker.name) }
        let (total, page) = try personByDate(db, filter, participant: participant, speaker: speaker)
            ?? filtered(db, filter, participant: participant, speaker: speaker)
        // Columns by position, as in `meeting`.
        let meetings = try page.map { statement, arguments in
            try statement.jsonRows(arguments) { row in
                ["id": .string(row[0]), "title": .string(row[1]), "date": JSONValue(row[2] as String?),
                 "place": JSONValue(row[3] as String?), "format": JSONValue(row[4] as String?),
                 "turn_count": JSONValue(row[5] as Int), "words": JSONValue(row[6] as Int),
                 "duration": (row[7] as Double?).map(JSONValue.double) ?? .null]
            }
        } ?? []
        return filter.page.answer(total: total, "meetings", meetings, extra: resolved)
    }

    /// A listing's total, and the statement that reads its page (nil when the page is empty).
    private typealias Listing = (total: Int, page: (Statement, StatementArguments)?)

    private static let listedColumns = "m.id, m.title, m.date, m.place, m.format, m.turns, m.words, m.duration"

    /// The common listing, one person's meetings in date order within dates, from the
    /// instance's cache: the page's rows are then read by key. Nil for other filters.
    private func personByDate(_ db: Database, _ filter: MeetingFilter, participant: PersonMatch?,
                              speaker: PersonMatch?) throws -> Listing? {
        guard filter.place == nil, filter.title == nil, let descending = filter.dateDescending,
              let (person, spokeOnly) = participant.map({ ($0, false) }) ?? speaker.map({ ($0, true) }),
              participant == nil || speaker == nil else { return nil }
        let ordered = try cache.meetings(of: person.id, spokeOnly: spokeOnly, in: db)
            .ordered(from: filter.from, until: filter.until, descending: descending)
        let pagePKs = ordered.dropFirst(filter.page.offset).prefix(filter.page.limit)
        guard !pagePKs.isEmpty else { return (ordered.count, nil) }
        // One statement for the page: its keys go in as a JSON array, in order.
        let statement = try db.cachedStatement(sql: """
            SELECT \(Self.listedColumns) FROM json_each(:pks) AS page JOIN meeting m ON m.pk = page.value ORDER BY page.key
            """)
        return (ordered.count, (statement, ["pks": "[" + pagePKs.map(String.init).joined(separator: ",") + "]"]))
    }

    /// Any filters, in SQL: a count, then the page.
    private func filtered(_ db: Database, _ filter: MeetingFilter, participant: PersonMatch?,
                          speaker: PersonMatch?) throws -> Listing {
        var conditions: [String] = []
        var arguments: [String: (any DatabaseValueConvertible)?] = [:]
        if let from = filter.from { conditions.append("m.date >= :from"); arguments["from"] = from }
        if let until = filter.until { conditions.append("m.date < :until"); arguments["until"] = until }
        if let place = filter.place { conditions.append("\(WordMatch.sqlName)(m.place, :place)"); arguments["place"] = place }
        if let title = filter.title { conditions.append("\(WordMatch.sqlName)(m.title, :title)"); arguments["title"] = title }
        if let participant {
            conditions.append("""
                m.pk IN (SELECT meeting_pk FROM participant WHERE person_id = :participant
                         UNION ALL SELECT meeting_pk FROM speaker WHERE person_id = :participant)
                """)
            arguments["participant"] = participant.id
        }
        if let speaker {
            conditions.append("m.pk IN (SELECT meeting_pk FROM speaker WHERE person_id = :speaker)")
            arguments["speaker"] = speaker.id
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let filterArguments = StatementArguments(arguments)
        let total = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM meeting m \(whereClause)"),
                                     arguments: filterArguments) ?? 0
        guard filter.page.limit > 0, filter.page.offset < total else { return (total, nil) }
        let statement = try db.cachedStatement(sql: """
            SELECT \(Self.listedColumns) FROM meeting m \(whereClause) ORDER BY \(filter.order) LIMIT :limit OFFSET :offset
            """)
        return (total, (statement, filterArguments + filter.page.arguments))
    }

    func turns(_ db: Database, _ query: TurnQuery) throws -> JSONValue {
        guard let meeting = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT pk, first_turn, turns, (SELECT count(*) FROM section WHERE meeting_pk = pk) AS sections
            FROM meeting WHERE id = :id
            """), arguments: ["id": query.meeting]) else { throw MethodError.notFound("meeting", id: query.meeting) }
        let firstTurn: Int64 = meeting["first_turn"]
        let turnCount: Int = meeting["turns"]
        let sectionCount: Int = meeting["sections"]
        if let section = query.section, section >= sectionCount {
            throw MethodError.invalidParams(field: "section", reason: "meeting \(query.meeting) has \(sectionCount) sections, numbered from 0")
        }
        var conditions = ["t.id BETWEEN :first AND :last"]
        var arguments: [String: (any DatabaseValueConvertible)?] = [
            "first": firstTurn + Int64(query.from),
            "last": firstTurn + Int64(min(query.to ?? turnCount - 1, turnCount - 1)),
        ]
        var resolved: JSONObject = ["meeting": .string(query.meeting)]
        if let name = query.speaker {
            let person = try meetingSpeaker(db, name, meetingPK: meeting["pk"])
            conditions.append("t.person_id = :speaker")
            arguments["speaker"] = person.id
            resolved["speaker"] = .string(person.name)
        }
        if let section = query.section { conditions.append("t.section = :section"); arguments["section"] = section }
        let whereClause = "WHERE " + conditions.joined(separator: " AND ")
        let filterArguments = StatementArguments(arguments)
        let total = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM turn t \(whereClause)"),
                                     arguments: filterArguments) ?? 0
        guard query.page.limit > 0, query.page.offset < total else {
            return query.page.answer(total: total, "turns", [], extra: resolved)
        }
        let turns = try db.jsonRows("""
            SELECT t.idx, t.section, p.name AS speaker, t.role, t.text, t.start_time, t.end_time
            FROM turn t LEFT JOIN person p ON p.id = t.person_id
            \(whereClause) ORDER BY t.id LIMIT :limit OFFSET :offset
            """, filterArguments + query.page.arguments) { row in
            let text: String = row["text"]
            return ["index": JSONValue(row["idx"] as Int), "section": (row["section"] as Int?).map(JSONValue.init) ?? .null,
                    "speaker": JSONValue(row["speaker"] as String?), "role": JSONValue(row["role"] as String?),
                    "paragraphs": .array(text.split(separator: "\n", omittingEmptySubsequences: false).map { .string(String($0)) }),
                    "start": (row["start_time"] as Double?).map(JSONValue.double) ?? .null,
                    "end": (row["end_time"] as Double?).map(JSONValue.double) ?? .null]
        }
        return query.page.answer(total: total, "turns", turns, extra: resolved)
    }

    /// A speaker of this meeting by name: a name several people share in the corpus is
    /// fine when only one of them takes part here.
    private func meetingSpeaker(_ db: Database, _ name: String, meetingPK: Int64) throws -> PersonMatch {
        try PersonResolver.decided(cache.resolve(name, in: db), typed: name, field: "speaker", in: db, meetingPK: meetingPK)
    }
}
