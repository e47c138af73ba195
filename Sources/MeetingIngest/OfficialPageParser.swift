import Foundation
import MeetingKit

/// Official meeting pages copied as text (like the seed), in English or Russian
/// (`OfficialPageStyle`): site chrome, title, the date-and-place line, lead paragraphs,
/// `* * *` sections and `Role Name:` turns («В.Путин:» in Russian), and the
/// date-and-place line repeated at the end.
enum OfficialPageParser {
    static func looksLikeOfficialPage(_ text: Substring) -> Bool {
        paragraphs(of: text).prefix(40).contains { OfficialPageStyle.of(dateLine: $0) != nil }
    }

    /// Lines as paragraphs, with the no-break and doubled spaces of page-to-text copies made single spaces.
    private static func paragraphs(of text: Substring) -> [String] {
        text.split(separator: "\n").map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }.filter { !$0.isEmpty }
    }

    static func parse(_ text: String, id: String, source: String) throws -> Meeting {
        let all = paragraphs(of: text[...])
        guard let dateIndex = all.firstIndex(where: { OfficialPageStyle.of(dateLine: $0) != nil }),
              let style = OfficialPageStyle.of(dateLine: all[dateIndex]),
              let (date, place) = style.readDateLine(all[dateIndex]) else {
            throw IngestError("official page without a date-and-place line")
        }
        let dateText = all[dateIndex]
        guard let title = all[..<dateIndex].last(where: { !style.chrome.contains($0) && !$0.hasSuffix("/") }) else {
            throw IngestError("official page without a title before the date line")
        }
        guard all.count > dateIndex + 1, all.last == dateText else {
            throw IngestError("truncated official page: it does not end with the date-and-place line \"\(dateText)\"")
        }

        var meeting = Meeting(id: id, title: title, date: date, place: place, source: source, language: style.language)
        let body = all[(dateIndex + 1)..<(all.count - 1)].filter { $0 != dateText }
        var people = PeopleOfPage(style: style)
        var position = body.startIndex
        // The lead runs to the first separator or speaker line (probed on a copy, so
        // that the participants sentence registers people first).
        var probe = people
        while position < body.endIndex, body[position] != "* * *", probe.speaker(of: body[position]) == nil {
            meeting.lead.append(body[position])
            position += 1
        }
        meeting.format = format(of: meeting.lead, style: style)
        for paragraph in meeting.lead {
            let found = style.language == .russian ? RussianPage.participants(in: paragraph) : participants(in: paragraph)
            for participant in found { people.add(participant) }
        }
        people.addActors(of: meeting.lead)
        meeting.documents = style.language == .russian ? RussianPage.documents(in: meeting.lead)
            : DocumentsOfPage.documents(in: meeting.lead)

        var currentSection: Int?
        while position < body.endIndex {
            let paragraph = body[position]
            position += 1
            if paragraph == "* * *" {
                if position < body.endIndex, body[position] != "* * *", people.speaker(of: body[position]) == nil {
                    meeting.sections.append(Section(title: body[position]))
                    currentSection = meeting.sections.count - 1
                    position += 1
                } else {
                    currentSection = nil
                }
                continue
            }
            if let speaker = people.speaker(of: paragraph) {
                let turn = Turn(index: meeting.turns.count, section: currentSection, speaker: speaker.name,
                                role: speaker.role, paragraphs: speaker.text.isEmpty ? [] : [speaker.text])
                meeting.turns.append(turn)
            } else if let last = meeting.turns.indices.last, meeting.turns[last].section == currentSection {
                meeting.turns[last].paragraphs.append(paragraph)
            } else {
                // Text under a section title before anyone speaks: narration.
                meeting.turns.append(Turn(index: meeting.turns.count, section: currentSection, paragraphs: [paragraph]))
            }
        }
        meeting.participants = people.participants
        return meeting
    }

    private static func format(of lead: [String], style: OfficialPageStyle) -> MeetingFormat? {
        let text = lead.joined(separator: " ").lowercased()
        if style.language == .russian { return RussianPage.format(of: text) }
        if text.contains("videoconference") || text.contains("video conference") || text.contains("video link") {
            return .videoconference
        }
        if text.contains("telephone") || text.contains("phone conversation") || text.contains("phone call") {
            return .telephone
        }
        if text.contains("in person") { return .inPerson }
        return nil
    }

    nonisolated(unsafe) private static let participantsOpening = #/(?:^|\. )(?:Also )?(?:[Tt]aking part|[Pp]articipating|[Aa]ttending)\b[^.:]*? (?:were|was|included) (.+?)\.?$/#
    nonisolated(unsafe) private static let attendedBy = #/(?:^|\. )[^.]*\b(?:was|were) (?:also )?attended by (.+?)\.?$/#

    /// People from "Taking part in the meeting were A, B, ..., and C."; items are split
    /// at commas unless the part before a comma has no name yet (a role with commas).
    static func participants(in paragraph: String) -> [RoleAndName] {
        guard let list = (paragraph.firstMatch(of: participantsOpening)?.output.1
            ?? paragraph.firstMatch(of: attendedBy)?.output.1).map(String.init) else { return [] }
        var items = list.replacingOccurrences(of: ", and ", with: ", ").components(separatedBy: ", ")
        if items.count == 1 { items = list.components(separatedBy: " and ") }
        var merged: [String] = []
        var pending = ""
        for item in items {
            pending = pending.isEmpty ? item : pending + ", " + item
            if RoleAndName.endsWithName(pending) {
                merged.append(pending)
                pending = ""
            }
        }
        if !pending.isEmpty { merged.append(pending) }
        return merged.map { RoleAndName.split($0.hasPrefix("and ") ? String($0.dropFirst(4)) : $0) }
            .filter { !$0.name.isEmpty }
    }

    /// The people of one page, by name key: participants first, then speakers as they appear.
    struct PeopleOfPage {
        let style: OfficialPageStyle
        private(set) var participants: [Participant] = []
        private var indexByKey: [String: Int] = [:]
        private var keyBySurname: [String: String] = [:]

        init(style: OfficialPageStyle) { self.style = style }

        mutating func add(_ person: RoleAndName) {
            let key = PersonName.key(person.name)
            if let index = indexByKey[key] {
                // A speaker line may give the role the participants list left out.
                if participants[index].role == nil, let role = person.role {
                    participants[index].role = role
                    participants[index].country = person.country
                    participants[index].organisation = person.organisation
                }
                return
            }
            indexByKey[key] = participants.count
            participants.append(person.participant)
            if let surname = person.name.split(separator: " ").last, person.name.contains(" ") {
                keyBySurname[PersonName.key(String(surname))] = key
            }
        }

        /// "Vladimir Putin took part in ..." makes him a participant even before he speaks.
        mutating func addActors(of lead: [String]) {
            if style.language == .russian {
                if let name = lead.first.flatMap(RussianPage.actor(of:)) { add(RoleAndName(name: name)) }
                return
            }
            guard let first = lead.first,
                  let match = first.firstMatch(of: #/^(\p{Lu}[\p{L}’'-]+(?: \p{Lu}[\p{L}’'-]+){1,2}) (?:took part|held|chaired|attended|had)\b/#)
            else { return }
            let name = String(match.output.1)
            if !(name.split(separator: " ").contains { RoleAndName.roleWords.contains(String($0)) }) {
                add(RoleAndName(name: name))
            }
        }

        func canonicalName(_ name: String) -> String? {
            let key = PersonName.key(name)
            if let index = indexByKey[key] { return participants[index].name }
            if let fullKey = keyBySurname[key], let index = indexByKey[fullKey] { return participants[index].name }
            return nil
        }

        /// The speaker a paragraph opens with, if it opens with `Role Name:`, `Name:`,
        /// `Name (retranslated):`, `Question:` or `Remark:`; registers new speakers.
        mutating func speaker(of paragraph: String) -> (name: String?, role: String?, text: String)? {
            guard let colon = paragraph.firstIndex(of: ":"),
                  paragraph.distance(from: paragraph.startIndex, to: colon) <= 160 else { return nil }
            let afterColon = paragraph.index(after: colon)
            guard afterColon == paragraph.endIndex || paragraph[afterColon] == " " else { return nil }
            var prefix = String(paragraph[..<colon]).trimmingCharacters(in: .whitespaces)
            let text = paragraph[afterColon...].trimmingCharacters(in: .whitespaces)
            if style.anonymousSpeakers.contains(prefix) { return (nil, prefix, text) }
            for note in style.speakerNotes where prefix.hasSuffix(note) {
                prefix.removeLast(note.count)
            }
            if style.language == .russian, let initialled = RussianPage.initialsAndSurname(prefix) {
                // «В.Путин»: the participant with that surname and first initial, else the label as written.
                if let known = canonicalName(initialled.surname),
                   known.first.map({ String($0) == initialled.initials.first.map(String.init) }) == true {
                    return (known, nil, text)
                }
                let name = initialled.initials.map { "\($0)." }.joined() + " " + initialled.surname
                add(RoleAndName(name: name))
                return (name, nil, text)
            }
            guard OfficialPageParser.isSpeakerPrefix(prefix) else { return nil }
            if let known = canonicalName(prefix) { return (known, nil, text) }
            let person = style.language == .russian ? RussianPage.roleAndName(prefix) : RoleAndName.split(prefix)
            guard !person.name.isEmpty, person.name.contains(" ") || canonicalName(person.name) != nil else { return nil }
            add(person)
            return (canonicalName(person.name) ?? person.name, person.role, text)
        }
    }

    /// Capitalised words and role connectors only, ending in a capitalised word:
    /// "President of Russia Vladimir Putin", not "As my colleagues said".
    static func isSpeakerPrefix(_ prefix: String) -> Bool {
        let words = prefix.split(separator: " ")
        guard (1...20).contains(words.count), let last = words.last, last.first?.isUppercase == true,
              words.first?.first?.isUppercase == true else { return false }
        for word in words {
            let bare = word.hasSuffix(",") ? word.dropLast() : word
            if bare.contains(where: { ".!?;\"“”()".contains($0) }) { return false }
            guard let first = bare.first else { return false }
            if !(first.isUppercase || first.isNumber || RoleAndName.connectors.contains(String(bare))
                 || RoleAndName.nameParticles.contains(String(bare))) { return false }
        }
        return true
    }
}
