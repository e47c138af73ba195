// Name resolution: from a name as someone types it to the person the corpus knows.
//
// In order, stopping at the first step that finds anyone:
// 1. the whole name's key (`PersonName.key`) against every person's name and aliases
//    (the ingester stores full names, surnames and "Role Name" forms as aliases);
// 2. the name without its leading words ("President Putin" → "Putin"), provided each
//    dropped word is a title or a word of the person's own name or aliases, so that
//    "John Putin" does not reach Vladimir Putin; when several people fit, those whose own
//    names explain more of the dropped words win ("President Berdimuhamedov" is the one
//    stored as "President of Turkmenistan Gurbanguly Berdimuhamedov");
// 3. spelling: the same forms, compared after folding transliteration variants
//    ("kh"/"h", "y"/"i", doubled letters…) within a small edit distance, so that
//    "Berdymukhamedov" finds "Gurbanguly Berdimuhamedov".
// Several people at the best step answer `.ambiguous`, never a guess; a person whose
// canonical name is exactly the name typed wins over others who merely have it as an alias.

import Foundation
import MeetingKit

struct PersonMatch {
    enum Kind: String { case name, alias, spelling }
    let id: Int64
    let name: String
    let kind: Kind
    /// The stored name or alias that matched.
    let matched: String
    let distance: Int
}

enum NameResolution {
    case person(PersonMatch)
    case ambiguous([PersonMatch])
    case unknown
}

enum PersonResolver {
    /// Words that may precede a name without being part of it.
    static let titles: Set<String> = [
        "mr", "mrs", "ms", "miss", "dr", "sir", "dame", "madam", "lord", "lady", "professor", "prof",
        "president", "vice", "prime", "minister", "chancellor", "premier", "king", "queen", "prince", "princess",
        "chairman", "chairwoman", "chair", "speaker", "secretary", "general", "governor", "mayor", "deputy",
        "acting", "ambassador", "senator", "the", "of", "his", "her", "excellency", "majesty", "comrade",
    ]

    static func resolve(_ typed: String, in db: Database) throws -> NameResolution {
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
            guard dropped.allSatisfy({ ownWords.contains($0) || titles.contains($0) }) else { continue }
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
                      let distance = editDistance(form, candidate, atMost: allowed),
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

    /// A key with the usual romanisation variants folded to one spelling, so that
    /// "Berdymukhamedov" and "Berdimuhamedov" meet.
    static func transliterationKey(_ key: String) -> [Unicode.Scalar] {
        var text = key.replacingOccurrences(of: "-", with: " ").replacingOccurrences(of: "'", with: "")
        for (variant, folded) in [("dzh", "j"), ("zh", "j"), ("kh", "h"), ("ck", "k"), ("ph", "f"), ("x", "ks"),
                                  ("w", "v"), ("y", "i"), ("ou", "u")] {
            text = text.replacingOccurrences(of: variant, with: folded)
        }
        var scalars: [Unicode.Scalar] = []
        for scalar in text.unicodeScalars where scalar != scalars.last { scalars.append(scalar) }
        return scalars
    }

    /// Levenshtein distance, or nil once it must exceed `limit`.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar], atMost limit: Int) -> Int? {
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) <= limit ? max(a.count, b.count) : nil }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                rowMinimum = min(rowMinimum, current[j])
            }
            if rowMinimum > limit { return nil }
            swap(&previous, &current)
        }
        return previous[b.count] <= limit ? previous[b.count] : nil
    }
}
