import Foundation
import MeetingKit

/// What a Russian official page says in its own words: the participants sentence
/// («В заседании приняли участие Президент Узбекистана Шавкат Мирзиёев, …»), what was
/// signed («По итогам заседания подписаны …»), the format, and speaker labels of an
/// initial and a surname («В.Путин:»). The rest of the layout is the English page's.
enum RussianPage {
    // Regex is immutable but not marked Sendable, hence nonisolated(unsafe).
    nonisolated(unsafe) private static let participantsSentence = #/(?:^|\. )В [^.]*? (?:приняли участие|принял участие|приняла участие|участвовали|участвовал|участвовала|присутствовали) (.+?)\.?$/#
    nonisolated(unsafe) private static let initialled = #/^((?:\p{Lu}\.\s?){1,2})(\p{Lu}[\p{L}’'-]+)$/#
    nonisolated(unsafe) private static let opensWithName = #/^(\p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)? \p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)?) \p{Ll}/#
    nonisolated(unsafe) private static let signed = #/(?:подписан[аоы]?|утвержден[аоы]?|утверждён[аоы]?|принят[аоы]?|одобрен[аоы]?) /#

    /// People of «В заседании приняли участие A, B и C.», each a role and a name.
    static func participants(in paragraph: String) -> [RoleAndName] {
        guard let list = paragraph.firstMatch(of: participantsSentence)?.output.1 else { return [] }
        var items = String(list).components(separatedBy: ", ")
        if let last = items.popLast() { items += last.components(separatedBy: " и ") }
        return items.map { roleAndName($0.trimmingCharacters(in: .whitespaces)) }.filter { !$0.name.isEmpty }
    }

    /// «Президент Узбекистана Шавкат Мирзиёев»: the name is the last two capitalised words
    /// (three with a patronymic, «-вич»/«-вна»), the role what comes before.
    static func roleAndName(_ text: String) -> RoleAndName {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        var nameWords = 0
        while nameWords < min(3, words.count), words[words.count - 1 - nameWords].first?.isUppercase == true { nameWords += 1 }
        // Three capitalised words are a name only with a patronymic in the middle; otherwise
        // the first of them ends the role («Узбекистана», «СНГ»).
        if nameWords == 3, !["вич", "вна", "ич"].contains(where: words[words.count - 2].hasSuffix) { nameWords = 2 }
        let role = words.dropLast(nameWords)
        return RoleAndName(role: role.isEmpty ? nil : role.joined(separator: " "),
                           name: words.suffix(nameWords).joined(separator: " "))
    }

    /// «В.Путин», «В. В. Путин»: the initials and the surname.
    static func initialsAndSurname(_ label: String) -> (initials: [Character], surname: String)? {
        guard let match = label.wholeMatch(of: initialled)?.output else { return nil }
        return (match.1.filter { $0.isLetter }.map { $0 }, String(match.2))
    }

    /// «Владимир Путин в режиме видеоконференции принял участие …»: the person the lead opens with.
    static func actor(of paragraph: String) -> String? {
        paragraph.firstMatch(of: opensWithName).map { String($0.output.1) }
    }

    static func format(of loweredLead: String) -> MeetingFormat? {
        if loweredLead.contains("видеоконференц") || loweredLead.contains("видеосвяз") { return .videoconference }
        if loweredLead.contains("телефонн") { return .telephone }
        if loweredLead.contains("в очном формате") { return .inPerson }
        return nil
    }

    /// «По итогам заседания подписаны решение о A; решение о B, а также утверждена программа C.»
    /// gives «Решение о A», «Решение о B», «Программа C».
    static func documents(in lead: [String]) -> [String] {
        var titles: [String] = []
        for paragraph in lead {
            for sentence in MeetingKitSentences.split(paragraph) {
                guard let verb = sentence.firstMatch(of: signed) else { continue }
                var list = String(sentence[verb.range.upperBound...])
                if list.hasSuffix(".") { list.removeLast() }
                for item in list.components(separatedBy: "; ").flatMap({ $0.components(separatedBy: ", а также ") }) {
                    var title = item.trimmingCharacters(in: .whitespaces)
                    if let again = title.prefixMatch(of: signed) { title.removeSubrange(again.range) }
                    guard let first = title.first else { continue }
                    titles.append(first.uppercased() + title.dropFirst())
                }
            }
        }
        return titles
    }
}
