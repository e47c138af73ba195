// lookup.person, lookup.speakers, lookup.documents and lookup.stats.

import MeetingKit

struct DocumentQuery {
    let meeting: String?
    let text: String?
    let from: String?
    let until: String?
    let page: Page

    init(_ params: Params) throws(MethodError) {
        meeting = params.string("meeting")
        text = try params.string("text").map { text throws(MethodError) in try WordMatch.argument(text, field: "text") }
        from = try params.string("from").map { text throws(MethodError) in try DateBounds.lower(text, field: "from") }
        until = try params.string("to").map { text throws(MethodError) in try DateBounds.upperExclusive(text, field: "to") }
        try DateBounds.checkOrder(lower: from, upperExclusive: until, field: "to")
        page = params.page(LookupLimits.documents)
    }
}

extension LookupModule {
    func person(_ db: Database, name: String, page: Page) throws -> JSONValue {
        let person: PersonMatch
        switch try cache.resolve(name, in: db) {
        case .unknown: throw MethodError.notFound("person", id: name)
        case .ambiguous(let candidates):
            return ["ambiguous": true, "query": .string(name), "candidates": .array(try candidates.map { candidate in
                ["name": .string(candidate.name), "matched": .string(candidate.matched),
                 "meetings": JSONValue(try meetingCount(db, person: candidate.id))]
            })]
        case .person(let match): person = match
        }
        let aliases = try String.fetchAll(db.cachedStatement(sql: """
            SELECT alias FROM person_alias WHERE person_id = :id AND key <> (SELECT key FROM person WHERE id = :id) ORDER BY alias
            """), arguments: ["id": person.id])
        let roles = try db.jsonRows("""
            SELECT role, country, organisation, count(DISTINCT meeting_pk) AS meetings FROM participant
            WHERE person_id = :id AND role IS NOT NULL GROUP BY role, country, organisation ORDER BY meetings DESC, role
            """, ["id": person.id]) { row in
                ["role": .string(row["role"]), "country": JSONValue(row["country"] as String?),
                 "organisation": JSONValue(row["organisation"] as String?), "meetings": JSONValue(row["meetings"] as Int)]
            }
        let total = try meetingCount(db, person: person.id)
        let meetings = try db.jsonRows("""
            SELECT m.id, m.title, m.date,
                   (SELECT role FROM participant p WHERE p.meeting_pk = m.pk AND p.person_id = :id ORDER BY ordinal LIMIT 1) AS role,
                   EXISTS (SELECT 1 FROM participant p WHERE p.meeting_pk = m.pk AND p.person_id = :id) AS listed,
                   s.turns, s.words
            FROM meeting m LEFT JOIN speaker s ON s.meeting_pk = m.pk AND s.person_id = :id
            WHERE m.pk IN (SELECT meeting_pk FROM participant WHERE person_id = :id
                           UNION SELECT meeting_pk FROM speaker WHERE person_id = :id)
            ORDER BY m.date IS NULL, m.date, m.pk LIMIT :limit OFFSET :offset
            """, ["id": person.id] + page.arguments) { row in
                ["id": .string(row["id"]), "title": .string(row["title"]), "date": JSONValue(row["date"] as String?),
                 "role": JSONValue(row["role"] as String?), "participant": .bool(row["listed"]),
                 "turns": JSONValue(row["turns"] as Int? ?? 0), "words": JSONValue(row["words"] as Int? ?? 0)]
            }
        var match: JSONObject = ["kind": .string(person.kind.rawValue), "matched": .string(person.matched)]
        if person.kind == .spelling { match["distance"] = JSONValue(person.distance) }
        return page.answer(total: total, "meetings", meetings, extra: [
            "ambiguous": false, "name": .string(person.name), "match": .object(match),
            "aliases": .array(aliases.map(JSONValue.string)), "roles": .array(roles),
        ])
    }

    /// Meetings a person took part in: listed as a participant or spoke.
    private func meetingCount(_ db: Database, person: Int64) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: """
            SELECT count(*) FROM (SELECT meeting_pk FROM participant WHERE person_id = :id
                                  UNION SELECT meeting_pk FROM speaker WHERE person_id = :id)
            """), arguments: ["id": person]) ?? 0
    }

    /// One person for a name filter, as every module resolves one (`PersonResolver.person`).
    func resolvedPerson(_ db: Database, _ name: String, field: String) throws -> PersonMatch {
        try PersonResolver.decided(cache.resolve(name, in: db), typed: name, field: field, in: db)
    }

    func speakers(_ db: Database, meeting: String?, page: Page) throws -> JSONValue {
        let total: Int
        let speakers: [JSONValue]
        let asJSON = { (row: Row) -> JSONValue in
            ["name": .string(row["name"]), "turns": JSONValue(row["turns"] as Int), "words": JSONValue(row["words"] as Int),
             "meetings": JSONValue(row["meetings"] as Int)]
        }
        if let meeting {
            guard let pk = try Int64.fetchOne(db.cachedStatement(sql: "SELECT pk FROM meeting WHERE id = :id"),
                                              arguments: ["id": meeting]) else { throw MethodError.notFound("meeting", id: meeting) }
            total = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM speaker WHERE meeting_pk = :pk"),
                                     arguments: ["pk": pk]) ?? 0
            speakers = try db.jsonRows("""
                SELECT person.name, speaker.turns, speaker.words, 1 AS meetings FROM speaker
                JOIN person ON person.id = speaker.person_id WHERE meeting_pk = :pk
                ORDER BY speaker.words DESC, person.name LIMIT :limit OFFSET :offset
                """, ["pk": pk] + page.arguments, asJSON)
        } else {
            total = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(DISTINCT person_id) FROM speaker")) ?? 0
            speakers = try db.jsonRows("""
                SELECT person.name, sum(speaker.turns) AS turns, sum(speaker.words) AS words, count(*) AS meetings
                FROM speaker JOIN person ON person.id = speaker.person_id GROUP BY speaker.person_id
                ORDER BY words DESC, person.name LIMIT :limit OFFSET :offset
                """, page.arguments, asJSON)
        }
        return page.answer(total: total, "speakers", speakers, extra: meeting.map { ["meeting": .string($0)] } ?? [:])
    }

    func documents(_ db: Database, _ query: DocumentQuery) throws -> JSONValue {
        var conditions: [String] = []
        var arguments: [String: (any DatabaseValueConvertible)?] = [:]
        if let meeting = query.meeting {
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM meeting WHERE id = :id)"),
                                    arguments: ["id": meeting]) == true else { throw MethodError.notFound("meeting", id: meeting) }
            conditions.append("m.id = :meeting"); arguments["meeting"] = meeting
        }
        if let text = query.text { conditions.append("\(WordMatch.sqlName)(d.title, :text)"); arguments["text"] = text }
        if let from = query.from { conditions.append("m.date >= :from"); arguments["from"] = from }
        if let until = query.until { conditions.append("m.date < :until"); arguments["until"] = until }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let filterArguments = StatementArguments(arguments)
        let join = "FROM document d JOIN meeting m ON m.pk = d.meeting_pk \(whereClause)"
        let total = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) \(join)"), arguments: filterArguments) ?? 0
        guard query.page.limit > 0, query.page.offset < total else { return query.page.answer(total: total, "documents", []) }
        let documents = try db.jsonRows("""
            SELECT d.title, m.id, m.title AS meeting_title, m.date \(join)
            ORDER BY m.date IS NULL, m.date, m.pk, d.ordinal LIMIT :limit OFFSET :offset
            """, filterArguments + query.page.arguments) { row in
                ["title": .string(row["title"]),
                 "meeting": ["id": .string(row["id"]), "title": .string(row["meeting_title"]),
                             "date": JSONValue(row["date"] as String?)]]
            }
        return query.page.answer(total: total, "documents", documents)
    }

    func stats(_ db: Database) throws -> JSONValue {
        let figures = try CorpusFigures.fetch(db)
        let perYear = try db.jsonRows("""
            SELECT substr(date, 1, 4) AS year, count(*) AS meetings FROM meeting WHERE date IS NOT NULL
            GROUP BY year ORDER BY year
            """) { row in ["year": .string(row["year"]), "meetings": JSONValue(row["meetings"] as Int)] }
        let counts = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT (SELECT count(*) FROM document) AS documents,
                   (SELECT count(*) FROM meeting WHERE date IS NULL) AS undated
            """))!
        return [
            "meetings": JSONValue(figures.meetings), "turns": JSONValue(figures.turns), "words": JSONValue(figures.words),
            "people": JSONValue(figures.people), "documents": JSONValue(counts["documents"] as Int),
            "first_date": JSONValue(figures.firstDate), "last_date": JSONValue(figures.lastDate),
            "undated": JSONValue(counts["undated"] as Int), "per_year": .array(perYear),
        ]
    }
}
