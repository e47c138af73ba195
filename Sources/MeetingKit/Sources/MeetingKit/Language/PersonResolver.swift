// Name resolution: from a name or role as someone types it to the person the corpus
// knows. Every module param that names a person and every name a question holds goes
// through it, so that all modules answer the same person, ambiguity or not-found.
//
// In order, stopping at the first step that finds anyone:
// 1. the whole name's key (`PersonName.key`) against every person's name and aliases
//    (the ingester stores full names, surnames, speaker labels, roles and "Role Name"
//    forms as aliases, so "the President of Uzbekistan" is an alias of the person in
//    that role);
// 2. the name without its leading words ("President Putin" → "Putin"), provided each
//    dropped word is a title or a word of the person's own name or aliases, so that
//    "John Putin" does not reach Vladimir Putin; when several people fit, those whose own
//    names explain more of the dropped words win ("President Berdimuhamedov" is the one
//    stored as "President of Turkmenistan Gurbanguly Berdimuhamedov");
// 3. spelling: the same forms, compared after transliterating Cyrillic to Latin
//    (`transliterationKey`) and folding romanisation variants ("kh"/"h", "y"/"i",
//    doubled letters…) within a small edit distance, so that "Berdymukhamedov" finds
//    "Gurbanguly Berdimuhamedov" and "Putin" finds «Путин».
// Several people at the best step answer `.ambiguous`, never a guess; a person whose
// canonical name is exactly the name typed wins over others who merely have it as an alias.

import Foundation

public struct PersonMatch: Sendable {
    public enum Kind: String, Sendable { case name, alias, spelling }
    public let id: Int64
    public let name: String
    public let kind: Kind
    /// The stored name or alias that matched.
    public let matched: String
    public let distance: Int
}

public enum NameResolution: Sendable {
    case person(PersonMatch)
    case ambiguous([PersonMatch])
    case unknown
}

public enum PersonResolver {
    /// One person for a param that names someone: an unknown name is -32004 (not found),
    /// one that fits several people -32602 with `data.candidates`. With `meetingPK`, a name
    /// several people share is fine when only one of them takes part in that meeting.
    public static func person(_ typed: String, field: String, in db: Database, meetingPK: Int64? = nil) throws -> PersonMatch {
        try decided(resolve(typed, in: db), typed: typed, field: field, in: db, meetingPK: meetingPK)
    }

    /// `person` for a resolution already made (a module may cache resolutions).
    public static func decided(_ resolution: NameResolution, typed: String, field: String, in db: Database,
                               meetingPK: Int64? = nil) throws -> PersonMatch {
        switch resolution {
        case .unknown: throw MethodError.notFound("person", id: typed)
        case .person(let person): return person
        case .ambiguous(let candidates):
            guard let meetingPK else { throw ambiguity(typed, field: field, candidates) }
            let present = Set(try Int64.fetchAll(db.cachedStatement(sql: """
                SELECT person_id FROM speaker WHERE meeting_pk = :pk UNION SELECT person_id FROM participant WHERE meeting_pk = :pk
                """), arguments: ["pk": meetingPK]))
            let here = candidates.filter { present.contains($0.id) }
            if here.count == 1 { return here[0] }
            throw ambiguity(typed, field: field, here.isEmpty ? candidates : here)
        }
    }

    public static func ambiguity(_ typed: String, field: String, _ candidates: [PersonMatch]) -> MethodError {
        let names = candidates.map(\.name)
        let reason = "\"\(typed)\" could be any of \(names.count) people: \(names.prefix(10).joined(separator: ", "))"
        return MethodError(code: ErrorCode.invalidParams, message: "Invalid params: \(field): \(reason)",
                           data: ["field": .string(field), "reason": .string(reason),
                                  "candidates": .array(names.map(JSONValue.string))])
    }

    /// Words that may precede a name without being part of it.
    static let titles: Set<String> = [
        "mr", "mrs", "ms", "miss", "mx", "dr", "sir", "dame", "madam", "lord", "lady", "professor", "prof", "hon",
        "honourable", "honorable", "right", "rt",
        "president", "vice", "prime", "minister", "chancellor", "premier", "king", "queen", "prince", "princess",
        "chairman", "chairwoman", "chair", "speaker", "secretary", "general", "governor", "mayor", "deputy",
        "acting", "ambassador", "senator", "the", "of", "his", "her", "excellency", "majesty", "comrade",
    ]

    public static func resolve(_ typed: String, in db: Database) throws -> NameResolution {
        let words = PersonName.key(typed).split(separator: " ").map(String.init)
        guard !words.isEmpty else { return .unknown }
        // Steps 1 and 2: the whole name, then ever shorter tails of it.
        for start in words.indices {
            let tail = words[start...].joined(separator: " ")
            let fitting = try bestExplained(try exactMatches(tail, in: db), dropping: words[..<start], in: db)
            if !fitting.isEmpty { return decide(fitting) }
        }
        return try spellingMatches(words, in: db)
    }

    /// The people whose name or an alias has exactly this key.
    private static func exactMatches(_ key: String, in db: Database) throws -> [PersonMatch] {
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT id, name, key, name AS matched FROM person WHERE key = :key
            UNION
            SELECT person.id, person.name, person.key, person_alias.alias FROM person_alias
            JOIN person ON person.id = person_alias.person_id WHERE person_alias.key = :key
            """), arguments: ["key": key])
        var seen = Set<Int64>()
        return rows.compactMap { row in
            let id: Int64 = row["id"]
            guard seen.insert(id).inserted else { return nil }
            let personKey: String = row["key"]
            return PersonMatch(id: id, name: row["name"], kind: personKey == key ? .name : .alias,
                               matched: row["matched"], distance: 0)
        }
    }

    /// The matches that may drop these leading words, keeping those whose own name and
    /// aliases contain the most of them.
    private static func bestExplained(_ matches: [PersonMatch], dropping dropped: ArraySlice<String>,
                                      in db: Database) throws -> [PersonMatch] {
        guard !dropped.isEmpty, !matches.isEmpty else { return matches }
        var best: [PersonMatch] = []
        var bestCount = -1
        for match in matches {
            let ownWords = Set(try String.fetchAll(db.cachedStatement(sql: """
                SELECT key FROM person WHERE id = :id UNION SELECT key FROM person_alias WHERE person_id = :id
                """), arguments: ["id": match.id]).flatMap { $0.split(separator: " ").map(String.init) })
            // An initial ("V. Putin", «В.Путин») may stand for a word of the person's own name.
            let isInitial = { (word: String) in word.count == 1 && ownWords.contains { $0.first == word.first } }
            guard dropped.allSatisfy({ ownWords.contains($0) || titles.contains($0) || isInitial($0) }) else { continue }
            let explained = dropped.filter(ownWords.contains).count
            if explained > bestCount { best = []; bestCount = explained }
            if explained == bestCount { best.append(match) }
        }
        return best
    }

    private static func decide(_ matches: [PersonMatch]) -> NameResolution {
        if matches.count == 1 { return .person(matches[0]) }
        let byName = matches.filter { $0.kind == .name }
        return byName.count == 1 ? .person(byName[0]) : .ambiguous(matches)
    }

    /// Step 3: every name and alias in the corpus against the typed name and its tails.
    private static func spellingMatches(_ words: [String], in db: Database) throws -> NameResolution {
        let forms = words.indices.map { Array(transliterationKey(words[$0...].joined(separator: " "))) }
        // Fewer edits first; among equals, the longer form (the earlier tail, more of what was typed).
        var best: (distance: Int, form: Int) = (Int.max, Int.max)
        var matches: [PersonMatch] = []
        let rows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT id, name, name AS matched, key FROM person
            UNION ALL
            SELECT person.id, person.name, person_alias.alias, person_alias.key FROM person_alias
            JOIN person ON person.id = person_alias.person_id
            """))
        while let row = try rows.next() {
            let candidate = transliterationKey(row["key"])
            for (index, form) in forms.enumerated() {
                let allowed = maxDistance(form.count)
                guard abs(candidate.count - form.count) <= allowed,
                      let distance = EditDistance.between(form, candidate, atMost: allowed),
                      (distance, index) <= best else { continue }
                if (distance, index) < best { matches = [] }
                best = (distance, index)
                let id: Int64 = row["id"]
                if !matches.contains(where: { $0.id == id }) {
                    matches.append(PersonMatch(id: id, name: row["name"], kind: .spelling, matched: row["matched"], distance: distance))
                }
            }
        }
        guard best.form < forms.count else { return .unknown }
        let fitting = try bestExplained(matches, dropping: words[..<best.form], in: db)
        return fitting.isEmpty ? .unknown : fitting.count == 1 ? .person(fitting[0]) : .ambiguous(fitting)
    }

    /// Short names must be spelled right (after folding); longer ones may be off by one or two.
    static func maxDistance(_ length: Int) -> Int { length <= 4 ? 0 : length <= 8 ? 1 : 2 }

    /// A key in Latin letters with the usual romanisation variants folded to one spelling,
    /// so that "Berdymukhamedov" and "Berdimuhamedov", or "Putin" and «Путин», meet.
    /// Cyrillic is first written in Latin letters by `cyrillicToLatin`.
    public static func transliterationKey(_ key: String) -> [Unicode.Scalar] {
        var text = cyrillicToLatin(key).replacingOccurrences(of: "-", with: " ").replacingOccurrences(of: "'", with: "")
        for (variant, folded) in [("dzh", "j"), ("zh", "j"), ("kh", "h"), ("ck", "k"), ("ph", "f"), ("x", "ks"),
                                  ("w", "v"), ("y", "i"), ("ou", "u")] {
            text = text.replacingOccurrences(of: variant, with: folded)
        }
        var scalars: [Unicode.Scalar] = []
        for scalar in text.unicodeScalars where scalar != scalars.last { scalars.append(scalar) }
        return scalars
    }

    /// A name in Latin letters, surname first, folded as `transliterationKey` folds it:
    /// «Владимир Путин» and "Vladimir Putin" are both "putin vladimir". Ingest keeps it
    /// per person (`person_romanised`) to store a person written in both scripts once.
    public static func romanisedKey(_ name: String) -> String {
        var words = PersonName.key(PersonName.plainName(name)).split(separator: " ").map(String.init)
        if words.count > 1 { words.insert(words.removeLast(), at: 0) }
        return String(String.UnicodeScalarView(transliterationKey(words.joined(separator: " "))))
    }

    /// The person already stored under another spelling of `name`: the same romanised key;
    /// for a name in the other script (Cyrillic against Latin), one within the spelling
    /// distance ("Мирзиёев" and "Mirziyoyev"); for initials and a surname ("К. Токаев",
    /// "V. Putin"), the one person with that surname whose given names start with those
    /// letters. Nil unless exactly one.
    public static func storedPerson(spelling name: String, in db: Database) throws -> Int64? {
        let romanised = romanisedKey(name)
        guard romanised.unicodeScalars.count >= 3 else { return nil }
        let exact = try Int64.fetchAll(db.cachedStatement(sql: "SELECT person_id FROM person_romanised WHERE key = ?"),
                                       arguments: [romanised])
        if !exact.isEmpty { return exact.count == 1 ? exact[0] : nil }
        let isCyrillic = { (text: String) in text.unicodeScalars.contains { (0x0400...0x04FF).contains($0.value) } }
        let cyrillic = isCyrillic(name)
        let parts = romanised.split(separator: " ").map { Array($0.unicodeScalars) }
        let initials = parts.count > 1 && parts.dropFirst().allSatisfy { $0.count == 1 } ? parts.dropFirst().map { $0[0] } : nil
        let target = Array(romanised.unicodeScalars)
        var found = Set<Int64>()
        let rows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT r.key, r.person_id, p.name FROM person_romanised r JOIN person p ON p.id = r.person_id
            WHERE r.key >= :prefix AND r.key < :prefix || char(1114111)
            """), arguments: ["prefix": String(romanised.prefix(3))])
        while let row = try rows.next() {
            let key: String = row[0]
            let otherScript = isCyrillic(row[2]) != cyrillic
            let stored = key.split(separator: " ").map { Array($0.unicodeScalars) }
            if let initials {
                // The surname alike (the same, across scripts within the spelling distance), the initials the given names'.
                guard stored.count > initials.count, zip(initials, stored.dropFirst()).allSatisfy({ $0 == $1.first }),
                      stored[0] == parts[0] || (otherScript && EditDistance.between(parts[0], stored[0], atMost: maxDistance(parts[0].count)) != nil)
                else { continue }
                found.insert(row[1])
            } else if otherScript, maxDistance(target.count) > 0,
                      EditDistance.between(target, Array(key.unicodeScalars), atMost: maxDistance(target.count)) != nil {
                found.insert(row[1])
            }
        }
        return found.count == 1 ? found.first : nil
    }

    /// Russian Cyrillic in Latin letters, as the English pages of official sites spell
    /// names (BGN/PCGN without diacritics: «Шавкат» is "shavkat", «Щ» "shch", «ё» "e",
    /// the hard and soft signs nothing). Other text passes through.
    public static func cyrillicToLatin(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { (0x0400...0x04FF).contains($0.value) }) else { return text }
        var result = ""
        for character in text {
            let lower = character.lowercased()
            guard let latin = cyrillicLetters[lower] else { result.append(character); continue }
            result += character.isUppercase ? latin.prefix(1).uppercased() + latin.dropFirst() : latin
        }
        return result
    }

    static let cyrillicLetters: [String: String] = [
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i", "й": "y",
        "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f",
        "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
        "і": "i", "ї": "yi", "є": "ye", "ў": "w",
    ]
}
