import XCTest
import MeetingKit
@testable import MeetingIngest

/// Russian official pages: the seed's layout in Russian words, read into the same model.
final class RussianPageTests: XCTestCase {
    func testTheSeedLayoutInRussian() throws {
        let parsed = try parseFile(TestPaths.fixture("ru_cis_council.txt"))
        XCTAssertEqual(parsed.format, .officialPage)
        let meeting = try XCTUnwrap(parsed.meetings.first)
        XCTAssertEqual(meeting.language, .russian)
        XCTAssertEqual(meeting.title, "Заседание Совета глав государств СНГ")
        XCTAssertEqual(meeting.date, "2020-12-18")
        XCTAssertEqual(meeting.place, "Ново-Огарёво, Московская область")
        XCTAssertEqual(meeting.format, .videoconference)
        XCTAssertEqual(meeting.lead.count, 3)
        XCTAssertEqual(meeting.participants.map(\.name), [
            "Шавкат Мирзиёев", "Ильхам Алиев", "Александр Лукашенко", "Касым-Жомарт Токаев", "Талант Мамытов",
            "Эмомали Рахмон", "Сергей Лебедев", "Владимир Путин",
        ])
        XCTAssertEqual(meeting.participants[0].role, "Президент Узбекистана")
        XCTAssertEqual(meeting.participants[4].role, "Исполняющий обязанности Президента Киргизии")
        XCTAssertEqual(meeting.participants[6].role, "Председатель Исполнительного комитета – Исполнительный секретарь СНГ")
        XCTAssertEqual(meeting.documents, [
            "Решение о председательстве в Содружестве Независимых Государств в 2021 году",
            "Решение о Концепции сотрудничества государств – участников СНГ в сфере здравоохранения",
            "Заявление глав государств о стратегическом партнёрстве",
        ])
        XCTAssertEqual(meeting.sections.map(\.title), ["Выступление на заседании Совета глав государств СНГ"])
        // «В.Путин» is the participant Владимир Путин; «Ш.Мирзиёев» is Шавкат Мирзиёев.
        XCTAssertEqual(meeting.turns.map(\.speaker), ["Владимир Путин", "Шавкат Мирзиёев", "Александр Лукашенко", "Владимир Путин"])
        XCTAssertEqual(meeting.turns[0].paragraphs.count, 4)
        XCTAssertEqual(meeting.turns[0].paragraphs[0], "Уважаемые коллеги!")
        XCTAssertFalse(meeting.turns.last!.paragraphs.contains { $0.hasPrefix("18 декабря") })
    }

    func testQuestionsRemarksTimeAndASpeakerKnownOnlyByInitial() throws {
        let meeting = try XCTUnwrap(try parseFile(TestPaths.fixture("ru_talks_with_press.txt")).meetings.first)
        XCTAssertEqual(meeting.date, "2023-10-03T15:40")
        XCTAssertEqual(meeting.place, "Москва, Кремль")
        XCTAssertEqual(meeting.participants.prefix(3).map(\.name), ["Сергей Лавров", "Юрий Ушаков", "Виталий Савельев"])
        XCTAssertEqual(meeting.participants[2].role, "Министр транспорта")
        XCTAssertEqual(meeting.documents, [
            "Совместное заявление о 30-летии установления дипломатических отношений",
            "Программа экономического сотрудничества на 2024–2026 годы",
        ])
        XCTAssertEqual(meeting.sections.map(\.title), ["Заявления для прессы", "Ответы на вопросы журналистов"])
        // Токаев is named only in the instrumental case in the lead, so his label stays as written.
        XCTAssertEqual(meeting.turns.map(\.speaker), ["Владимир Путин", "К. Токаев", nil, "Владимир Путин", nil,
                                                      "Владимир Путин", "Виталий Савельев"])
        XCTAssertEqual(meeting.turns.map(\.role), [nil, nil, "Вопрос", nil, "Реплика", nil, nil])
    }

    func testEnglishPagesAreStillEnglish() throws {
        let meeting = try XCTUnwrap(try parseFile(TestPaths.fixture("talks_with_press.txt")).meetings.first)
        XCTAssertEqual(meeting.language, .english)
    }
}

/// A person written in Cyrillic on a Russian page and in Latin letters on an English one
/// is stored once, and found by either spelling.
final class CrossScriptPeopleTests: XCTestCase {
    func testRussianAndEnglishPagesShareTheirPeople() throws {
        let folder = try makeScratchFolder(self)
        try FileManager.default.copyItem(at: TestPaths.seed, to: folder.appendingPathComponent("seed.txt"))
        try FileManager.default.copyItem(at: TestPaths.fixture("ru_cis_council.txt"), to: folder.appendingPathComponent("ru.txt"))
        let corpusURL = folder.appendingPathComponent("corpus.sqlite")
        let report = try Ingester(corpusPath: corpusURL.path) { _ in }.ingest(paths: [folder.path], prune: false)
        XCTAssertEqual(report.added.count, 2)
        try assertCorpusConsistent(corpusURL.path)
        let corpus = try Corpus.openReadOnly(path: corpusURL.path)
        try corpus.reader.read { db in
            func participants(_ meeting: String) throws -> [String] {
                try String.fetchAll(db, sql: """
                    SELECT person.name FROM participant JOIN person ON person.id = participant.person_id
                    JOIN meeting ON meeting.pk = participant.meeting_pk WHERE meeting.id = ? ORDER BY person.name
                    """, arguments: [meeting])
            }
            // Every participant of the Russian page is one of the English page's people.
            let russian = try participants("ru")
            XCTAssertEqual(russian.count, 8)
            XCTAssertEqual(Set(russian).subtracting(try participants("seed")), [])
            XCTAssertEqual(try String.fetchOne(db, sql: "SELECT language FROM meeting WHERE id = 'ru'"), "ru")
            // Either spelling, or a role in either language, finds the same one person (stored under
            // the name of whichever page came first).
            func person(_ typed: String) throws -> Int64? {
                guard case .person(let match) = try PersonResolver.resolve(typed, in: db) else { return nil }
                return match.id
            }
            for group in [["Путин", "Vladimir Putin", "Владимир Путин", "President Putin"],
                          ["Мирзиёев", "Mirziyoyev", "Президент Узбекистана", "the President of Uzbekistan", "Шавкат Мирзиёев"],
                          ["Токаев", "Tokayev", "Kassym-Jomart Tokayev"]] {
                let ids = try group.map(person)
                XCTAssertNotNil(ids[0], group[0])
                XCTAssertEqual(Set(ids).count, 1, "\(group): \(ids)")
            }
        }
        // The Russian turns keep their labels as written.
        XCTAssertEqual(try corpus.meeting(id: "ru")?.turns.first?.speaker, "Владимир Путин")
        XCTAssertEqual(try corpus.meeting(id: "seed")?.turns.first?.speaker, "Vladimir Putin")
    }
}
