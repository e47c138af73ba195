// What one module instance remembers between requests: resolved names and each person's
// meetings by date. A person filter then counts and pages by binary search instead of
// walking the person's participant and speaker rows and seeking every meeting on each
// request. Everything is dropped as soon as the corpus changes (`PRAGMA data_version`
// moves when another connection commits) or another reader connection serves the
// instance; an instance is used by one thread only, so there are no locks.

import MeetingKit

/// A meeting's place in date order.
struct DatedMeeting {
    let date: String?
    let pk: Int64
}

/// One person's meetings: the dated ones by date then pk, the undated ones by pk.
struct PersonMeetings {
    let dated: [DatedMeeting]
    let undated: [Int64]

    /// The pks in `lookup.meetings` date order: undated last, `from`/`until` as half-open
    /// bounds on the date text (which leave the undated out).
    func ordered(from: String?, until: String?, descending: Bool) -> [Int64] {
        let lower = from.map { bound in firstIndex { $0 >= bound } } ?? 0
        let upper = until.map { bound in firstIndex { $0 >= bound } } ?? dated.count
        let inRange = lower < upper ? dated[lower..<upper].map(\.pk) : []
        let undatedIncluded = from == nil && until == nil ? undated : []
        return descending ? inRange.reversed() + undatedIncluded.reversed() : inRange + undatedIncluded
    }

    /// The first dated meeting whose date satisfies `isAtOrAfter` (dates are sorted).
    private func firstIndex(_ isAtOrAfter: (String) -> Bool) -> Int {
        var low = 0, high = dated.count
        while low < high {
            let middle = (low + high) / 2
            if isAtOrAfter(dated[middle].date!) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

final class CorpusCache {
    /// Typed names are unbounded; past this many the resolutions start over.
    static let maxResolutions = 4096

    private var stamp: (connection: ObjectIdentifier, version: Int64)?
    private var resolutions: [String: NameResolution] = [:]
    private var meetingsByPerson: [PersonKey: PersonMeetings] = [:]

    private struct PersonKey: Hashable {
        let person: Int64
        let spokeOnly: Bool
    }

    /// Drops everything unless this connection, at this data version, filled the cache.
    func validate(_ db: Database) throws {
        let version = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0
        let current = (connection: ObjectIdentifier(db), version: version)
        if let stamp, stamp == current { return }
        stamp = current
        resolutions = [:]
        meetingsByPerson = [:]
    }

    func resolve(_ name: String, in db: Database) throws -> NameResolution {
        if let known = resolutions[name] { return known }
        let resolution = try PersonResolver.resolve(name, in: db)
        if resolutions.count >= Self.maxResolutions { resolutions = [:] }
        resolutions[name] = resolution
        return resolution
    }

    /// The meetings a person took part in (listed or spoke), or only spoke in.
    func meetings(of person: Int64, spokeOnly: Bool, in db: Database) throws -> PersonMeetings {
        let key = PersonKey(person: person, spokeOnly: spokeOnly)
        if let known = meetingsByPerson[key] { return known }
        let sql = spokeOnly
            ? "SELECT pk, date FROM meeting WHERE pk IN (SELECT meeting_pk FROM speaker WHERE person_id = :id)"
            : """
              SELECT pk, date FROM meeting WHERE pk IN (SELECT meeting_pk FROM participant WHERE person_id = :id
                                                        UNION ALL SELECT meeting_pk FROM speaker WHERE person_id = :id)
              """
        var dated: [DatedMeeting] = []
        var undated: [Int64] = []
        for row in try Row.fetchAll(db.cachedStatement(sql: sql), arguments: ["id": person]) {
            if let date: String = row[1] { dated.append(DatedMeeting(date: date, pk: row[0])) } else { undated.append(row[0]) }
        }
        dated.sort { ($0.date!, $0.pk) < ($1.date!, $1.pk) }
        undated.sort()
        let meetings = PersonMeetings(dated: dated, undated: undated)
        meetingsByPerson[key] = meetings
        return meetings
    }
}
