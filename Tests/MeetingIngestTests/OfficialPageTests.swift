import XCTest
import MeetingKit
@testable import MeetingIngest

final class OfficialPageTests: XCTestCase {
    func testSeveralSpeakersQuestionsRemarksAndRetranslation() throws {
        let parsed = try parseFile(TestPaths.fixture("talks_with_press.txt"))
        XCTAssertEqual(parsed.format, .officialPage)
        let meeting = try XCTUnwrap(parsed.meetings.first)
        XCTAssertEqual(meeting.title, "Press statements following Russian-Kazakhstani talks")
        XCTAssertEqual(meeting.date, "2023-10-03T15:40")
        XCTAssertEqual(meeting.place, "The Kremlin, Moscow")
        XCTAssertNil(meeting.format)
        XCTAssertEqual(meeting.participants, [
            Participant(name: "Sergei Lavrov", role: "Foreign Minister"),
            Participant(name: "Yury Ushakov", role: "Presidential Aide"),
            Participant(name: "Murat Nurtleu", role: "Minister of Foreign Affairs of Kazakhstan", country: "Kazakhstan"),
            Participant(name: "Vladimir Putin", role: "President of Russia", country: "Russia"),
            Participant(name: "Kassym-Jomart Tokayev", role: "President of Kazakhstan", country: "Kazakhstan"),
        ])
        XCTAssertEqual(meeting.documents, [
            "Joint statement on the 30th anniversary of diplomatic relations",
            "Programme of Economic Cooperation for 2024–2026",
        ])
        XCTAssertEqual(meeting.sections.map(\.title), ["Statements for the press", "Answers to journalists’ questions"])

        let turns = meeting.turns
        XCTAssertEqual(turns.map(\.index), Array(0..<8))
        XCTAssertEqual(turns.map(\.speaker), ["Vladimir Putin", "Kassym-Jomart Tokayev", "Vladimir Putin", nil,
                                              "Vladimir Putin", nil, "Vladimir Putin", "Kassym-Jomart Tokayev"])
        XCTAssertEqual(turns.map(\.role), ["President of Russia", "President of Kazakhstan", nil, "Question", nil, "Remark", nil, nil])
        XCTAssertEqual(turns.map(\.section), [0, 0, 0, 1, 1, 1, 1, 1])
        XCTAssertEqual(turns[0].paragraphs, ["Mr President, friends,",
                                             "Our talks were held in a friendly atmosphere. We discussed trade: it grew by 8 percent."])
        XCTAssertEqual(turns[1].paragraphs, ["Thank you, Mr President.", "We agreed on many things."])
        XCTAssertEqual(turns[3].paragraphs, ["Mr Putin, what about gas supplies?"])
        XCTAssertEqual(turns[6].paragraphs, ["The price is commercial."])
        XCTAssertEqual(turns[7].paragraphs, ["I agree with Mr Putin."])
        XCTAssertFalse(turns.last!.paragraphs.contains { $0.hasPrefix("October 3, 2023") })
    }

    func testAttendedBySentenceWithoutSections() throws {
        let meeting = try XCTUnwrap(try parseFile(TestPaths.fixture("security_council.txt")).meetings.first)
        XCTAssertEqual(meeting.title, "Meeting with permanent members of the Security Council")
        XCTAssertEqual(meeting.date, "2022-03-04")
        XCTAssertEqual(meeting.place, "Moscow")
        XCTAssertEqual(meeting.format, .videoconference)
        XCTAssertEqual(meeting.lead.count, 2)
        XCTAssertEqual(meeting.participants.map(\.name),
                       ["Valentina Matviyenko", "Mikhail Mishustin", "Dmitry Medvedev", "Nikolai Patrushev", "Vladimir Putin"])
        XCTAssertEqual(meeting.participants[0].role, "Speaker of the Federation Council")
        XCTAssertEqual(meeting.participants[0].organisation, "Federation Council")
        XCTAssertEqual(meeting.participants[1].role, "Prime Minister")
        XCTAssertEqual(meeting.participants[2].role, "Deputy Chairman of the Security Council")
        XCTAssertTrue(meeting.sections.isEmpty)
        XCTAssertEqual(meeting.turns.map(\.speaker), ["Vladimir Putin", "Mikhail Mishustin"])
        XCTAssertEqual(meeting.turns.map(\.section), [nil, nil])
        XCTAssertEqual(meeting.turns[1].paragraphs.count, 2)
    }

    func testRoleAndNameSplitting() {
        XCTAssertEqual(RoleAndName.split("President of the United States Joe Biden"),
                       RoleAndName(role: "President of the United States", name: "Joe Biden", country: "United States"))
        XCTAssertEqual(RoleAndName.split("President of Turkey Recep Tayyip Erdogan").name, "Recep Tayyip Erdogan")
        XCTAssertEqual(RoleAndName.split("President of the European Commission Ursula von der Leyen").name, "Ursula von der Leyen")
        XCTAssertEqual(RoleAndName.split("Recep Tayyip Erdogan"), RoleAndName(name: "Recep Tayyip Erdogan"))
        XCTAssertEqual(RoleAndName.split("Deputy Prime Minister – Minister of Industry and Trade Denis Manturov").role,
                       "Deputy Prime Minister – Minister of Industry and Trade")
    }
}
