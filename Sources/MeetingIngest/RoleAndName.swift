import Foundation
import MeetingKit

/// Splits "President of Uzbekistan Shavkat Mirziyoyev" into role and name, the way
/// official pages write people, and finds the country or organisation the role names.
struct RoleAndName: Equatable {
    var role: String?
    var name: String
    var country: String?
    var organisation: String?

    var participant: Participant {
        Participant(name: name, role: role, country: country, organisation: organisation)
    }

    /// Words that belong to a role or to the body it names, never to a person's name.
    static let roleWords: Set<String> = [
        "President", "Vice", "Prime", "Minister", "Deputy", "First", "Acting", "Chairman", "Chairwoman", "Chair",
        "Speaker", "Secretary", "General", "Executive", "Head", "Director", "Chief", "Governor", "Mayor", "Aide",
        "Adviser", "Advisor", "Presidential", "Press", "Ambassador", "Envoy", "Special", "Representative",
        "Commissioner", "Prosecutor", "Commander", "Commander-in-Chief", "CEO", "Founder", "Rector", "Member",
        "Patriarch", "King", "Queen", "Emir", "Crown", "Prince", "Sultan", "Sheikh", "Senator", "Deputies",
        "Council", "Committee", "Assembly", "States", "Federation", "Republic", "Union", "Commonwealth",
        "Government", "Ministry", "Kingdom", "Emirates", "Nations", "Organisation", "Organization", "Bank",
        "Company", "Board", "Service", "Office", "Administration", "Court", "Duma", "Parliament", "Agency",
        "Corporation", "Group", "Fund", "Academy", "University", "Institute", "Region", "Territory", "Affairs",
        "Development", "Security", "Trade", "Industry", "Defence", "Defense", "Staff", "Forces", "Chamber",
        "Party", "Commission", "Centre", "Center", "Foundation", "Association", "Department", "Secretariat",
        "Justice", "Health", "Education", "Science", "Culture", "Energy", "Transport", "Finance", "Economy",
        "Economic", "Labour", "Emergencies", "Resources", "Communications", "Relations", "Policy", "Guard",
        "Kremlin", "Russian", "CIS", "EAEU", "CSTO", "SCO", "BRICS", "UN",
    ]
    static let nameParticles: Set<String> = ["von", "van", "der", "de", "da", "di", "del", "dos", "bin", "ibn", "al", "el", "le", "la"]
    static let connectors: Set<String> = ["of", "the", "and", "for", "on", "in", "to", "at", "–", "—", "-", "&"]

    /// Role words such as "Speaker" or "Council" end a list item that has no name yet.
    static func endsWithName(_ text: String) -> Bool {
        guard let last = text.split(separator: " ").last else { return false }
        guard let first = last.first, first.isUppercase else { return false }
        return !roleWords.contains(String(last)) && Countries.match(in: text).map { $0.range.upperBound != text.endIndex } ?? true
    }

    /// `text` is a role followed by a name, or a name alone.
    static func split(_ rawText: String) -> RoleAndName {
        let text = rawText.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        // "President of Uzbekistan Shavkat Mirziyoyev": the country ends the role.
        if let country = Countries.match(in: text) {
            let rest = text[country.range.upperBound...].trimmingCharacters(in: .whitespaces)
            if let first = rest.first, first.isUppercase {
                return RoleAndName(role: String(text[..<country.range.upperBound]), name: rest, country: country.name)
            }
        }
        let words = text.split(separator: " ").map(String.init)
        let roleEnd: Int  // number of leading words that form the role
        if text.contains(" of ") {
            // The body a role names can be any length ("of the CIS Member States"), so
            // take the name as its last two words, with particles such as "von der".
            var start = words.count
            var nameWords = 0
            while start > 1, nameWords < 2 || nameParticles.contains(words[start - 1]) {
                start -= 1
                if !nameParticles.contains(words[start]) { nameWords += 1 }
            }
            roleEnd = start
        } else if let lastRoleWord = words.lastIndex(where: { roleWords.contains($0) || (connectors.contains($0)) }) {
            roleEnd = lastRoleWord + 1
        } else {
            roleEnd = 0
        }
        guard roleEnd < words.count else { return RoleAndName(role: text, name: "") }
        let role = roleEnd > 0 ? words[..<roleEnd].joined(separator: " ") : nil
        return RoleAndName(role: role, name: words[roleEnd...].joined(separator: " "),
                           organisation: role.flatMap(organisation(inRole:)))
    }

    /// "Chairman of the Executive Committee – Executive Secretary of the Commonwealth of
    /// Independent States" names the Commonwealth of Independent States: the body after
    /// "of" in the last of its titles.
    static func organisation(inRole role: String) -> String? {
        let titles = role.components(separatedBy: CharacterSet(charactersIn: ",–—")).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let last = titles.last(where: { $0.contains(" of ") }), let of = last.range(of: " of ") else { return nil }
        var body = last[of.upperBound...]
        if body.hasPrefix("the ") { body = body.dropFirst(4) }
        return body.isEmpty ? nil : String(body)
    }
}

/// Country names as roles on official pages write them ("President of Uzbekistan").
enum Countries {
    static let names: [String] = [
        "Abkhazia", "Afghanistan", "Albania", "Algeria", "Andorra", "Angola", "Argentina", "Armenia", "Australia", "Austria",
        "Azerbaijan", "Bahrain", "Bangladesh", "Belarus", "Belgium", "Benin", "Bolivia", "Bosnia and Herzegovina", "Brazil",
        "Brunei", "Bulgaria", "Burkina Faso", "Burundi", "Cambodia", "Cameroon", "Canada", "Chad", "Chile", "China",
        "Colombia", "Congo", "Costa Rica", "Croatia", "Cuba", "Cyprus", "Czech Republic", "Denmark", "Djibouti", "Ecuador",
        "Egypt", "Equatorial Guinea", "Eritrea", "Estonia", "Ethiopia", "Finland", "France", "Gabon", "Georgia", "Germany",
        "Ghana", "Greece", "Guinea", "Guinea-Bissau", "Hungary", "Iceland", "India", "Indonesia", "Iran", "Iraq", "Ireland",
        "Israel", "Italy", "Japan", "Jordan", "Kazakhstan", "Kenya", "Kuwait", "Kyrgyzstan", "Laos", "Latvia", "Lebanon",
        "Libya", "Lithuania", "Luxembourg", "Madagascar", "Malaysia", "Mali", "Malta", "Mauritania", "Mexico", "Moldova",
        "Monaco", "Mongolia", "Montenegro", "Morocco", "Mozambique", "Myanmar", "Namibia", "Nepal", "Nicaragua", "Niger",
        "Nigeria", "North Korea", "North Macedonia", "Norway", "Oman", "Pakistan", "Palestine", "Panama", "Paraguay", "Peru",
        "Poland", "Portugal", "Qatar", "Romania", "Russia", "Rwanda", "Saudi Arabia", "Senegal", "Serbia", "Singapore",
        "Slovakia", "Slovenia", "Somalia", "South Africa", "South Korea", "South Ossetia", "South Sudan", "Spain", "Sri Lanka",
        "Sudan", "Sweden", "Switzerland", "Syria", "Tajikistan", "Tanzania", "Thailand", "Togo", "Tunisia", "Turkey",
        "Türkiye", "Turkmenistan", "Uganda", "Ukraine", "Uruguay", "Uzbekistan", "Venezuela", "Vietnam", "Yemen", "Zambia",
        "Zimbabwe", "the Central African Republic", "the Democratic Republic of the Congo", "the Republic of the Congo",
        "the Democratic People’s Republic of Korea", "the Republic of Korea", "the Russian Federation", "the United States",
        "the United States of America", "the United Kingdom", "the United Arab Emirates", "the UAE", "the Netherlands",
        "the Philippines", "the Czech Republic", "the People’s Republic of China", "the Republic of Belarus",
        "the Republic of Kazakhstan", "the Republic of Uzbekistan", "the Kyrgyz Republic", "the Vatican", "Vatican",
    ]
    /// Longest names first, so "the United States of America" wins over "the United States".
    private static let byLength = names.sorted { $0.count > $1.count }

    /// The first "of <country>" in `text`, if the country ends at a word boundary.
    static func match(in text: String) -> (name: String, range: Range<String.Index>)? {
        var searchStart = text.startIndex
        while let of = text.range(of: " of ", range: searchStart..<text.endIndex) {
            let after = text[of.upperBound...]
            for name in byLength where after.hasPrefix(name) {
                let end = text.index(of.upperBound, offsetBy: name.count)
                if end == text.endIndex || text[end] == " " || text[end] == "," {
                    let country = name.hasPrefix("the ") ? String(name.dropFirst(4)) : name
                    return (country, of.upperBound..<end)
                }
            }
            searchStart = of.upperBound
        }
        return nil
    }
}
