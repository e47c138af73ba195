import Foundation
import MeetingKit

/// The words an official page is written in: the same layout in English or Russian
/// (title, date-and-place line, lead, participants sentence, documents, `* * *` sections,
/// speaker turns), each language with its own date line, site chrome, participants
/// sentence, anonymous speakers and speaker labels.
struct OfficialPageStyle: Sendable {
    let language: Language
    let chrome: Set<String>
    let anonymousSpeakers: Set<String>
    /// Notes after a speaker's name that are not part of it ("(retranslated)").
    let speakerNotes: [String]
    /// The date as ISO 8601 and the place, from a date-and-place line.
    let readDateLine: @Sendable (String) -> (date: String, place: String?)?

    static let all = [english, russian]

    /// The style whose date-and-place line a paragraph is.
    static func of(dateLine paragraph: String) -> OfficialPageStyle? {
        all.first { $0.readDateLine(paragraph) != nil }
    }

    private static func isoDate(year: Substring, month: Int, day: Substring, hour: Substring?, minute: Substring?) -> String? {
        guard let year = Int(year), let day = Int(day), (1...31).contains(day) else { return nil }
        var date = String(format: "%04d-%02d-%02d", year, month, day)
        if let hour = hour.flatMap({ Int($0) }), let minute = minute.flatMap({ Int($0) }) {
            date += String(format: "T%02d:%02d", hour, minute)
        }
        return date
    }

    // MARK: English

    private static let englishMonths = ["January", "February", "March", "April", "May", "June", "July", "August",
                                        "September", "October", "November", "December"]
    /// "December 18, 2020, Novo-Ogaryovo, Moscow Region", optionally with "14:00, " after the year.
    // Regex is immutable but not marked Sendable, hence nonisolated(unsafe).
    nonisolated(unsafe) private static let englishDateLine = #/^(January|February|March|April|May|June|July|August|September|October|November|December) (\d{1,2}), (\d{4})(?:, (\d{1,2}):(\d{2}))?(?:, (.+))?$/#

    static let english = OfficialPageStyle(
        language: .english,
        chrome: ["View settings", "Font size:", "Site colours:", "Images", "Settings", "Official website of the President of Russia",
                 "Version for people with disabilities", "Text version", "Site colours", "Font size"],
        anonymousSpeakers: ["Question", "Remark", "Response", "Reply", "Answer", "Comment"],
        speakerNotes: [" (retranslated)", " (via interpreter)", " (in Russian)", " (in English)"],
        readDateLine: { line in
            guard let match = line.wholeMatch(of: englishDateLine)?.output,
                  let date = isoDate(year: match.3, month: englishMonths.firstIndex(of: String(match.1))! + 1, day: match.2,
                                     hour: match.4, minute: match.5) else { return nil }
            return (date, match.6.map(String.init))
        })

    // MARK: Russian

    /// Months in the genitive, as a date is written: «18 декабря 2020 года».
    private static let russianMonths = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
                                        "сентября", "октября", "ноября", "декабря"]
    /// «18 декабря 2020 года, Ново-Огарёво, Московская область», optionally with «15:40, » after the year.
    nonisolated(unsafe) private static let russianDateLine = #/^(\d{1,2}) (января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря) (\d{4}) года(?:, (\d{1,2}):(\d{2}))?(?:, (.+))?$/#

    static let russian = OfficialPageStyle(
        language: .russian,
        chrome: ["Настройки отображения", "Размер шрифта:", "Цвета сайта:", "Изображения", "Настройки",
                 "Официальный сайт Президента России", "Версия для людей с ограниченными возможностями", "Текстовая версия",
                 "Цвета сайта", "Размер шрифта"],
        anonymousSpeakers: ["Вопрос", "Реплика", "Ответ", "Комментарий", "Голос из зала"],
        speakerNotes: [" (как переведено)", " (через переводчика)", " (по-русски)", " (по-английски)"],
        readDateLine: { line in
            guard let match = line.wholeMatch(of: russianDateLine)?.output,
                  let date = isoDate(year: match.3, month: russianMonths.firstIndex(of: String(match.2))! + 1, day: match.1,
                                     hour: match.4, minute: match.5) else { return nil }
            return (date, match.6.map(String.init))
        })
}
