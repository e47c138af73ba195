import XCTest
import MeetingKit
@testable import MeetingIngest

final class SeedPageTests: XCTestCase {
    func testSeedPageFieldsAreExact() throws {
        let parsed = try parseFile(TestPaths.seed)
        XCTAssertEqual(parsed.format, .officialPage)
        XCTAssertEqual(parsed.meetings.count, 1)
        let meeting = try XCTUnwrap(parsed.meetings.first)
        XCTAssertEqual(meeting.id, "000_16830d1d99dc7d5d")
        XCTAssertEqual(meeting.title, "Meeting of CIS Heads of State Council")
        XCTAssertEqual(meeting.date, "2020-12-18")
        XCTAssertEqual(meeting.place, "Novo-Ogaryovo, Moscow Region")
        XCTAssertEqual(meeting.format, .videoconference)
        XCTAssertEqual(meeting.lead.count, 6)
        XCTAssertEqual(meeting.lead.first, "Vladimir Putin took part in the CIS Heads of State Council meeting via videoconference.")

        XCTAssertEqual(meeting.participants, [
            Participant(name: "Shavkat Mirziyoyev", role: "President of Uzbekistan", country: "Uzbekistan"),
            Participant(name: "Ilham Aliyev", role: "President of Azerbaijan", country: "Azerbaijan"),
            Participant(name: "Alexander Lukashenko", role: "President of Belarus", country: "Belarus"),
            Participant(name: "Kassym-Jomart Tokayev", role: "President of Kazakhstan", country: "Kazakhstan"),
            Participant(name: "Talant Mamytov", role: "Acting President of Kyrgyzstan", country: "Kyrgyzstan"),
            Participant(name: "Igor Dodon", role: "President of Moldova", country: "Moldova"),
            Participant(name: "Emomali Rahmon", role: "President of Tajikistan", country: "Tajikistan"),
            Participant(name: "Gurbanguly Berdimuhamedov", role: "President of Turkmenistan", country: "Turkmenistan"),
            Participant(name: "Valentina Matviyenko",
                        role: "Speaker of the Federation Council, Chair of the Council of the Inter-Parliamentary Assembly of the CIS Member States",
                        organisation: "Council of the Inter-Parliamentary Assembly of the CIS Member States"),
            Participant(name: "Sergei Lebedev",
                        role: "Chairman of the Executive Committee – Executive Secretary of the Commonwealth of Independent States",
                        organisation: "Commonwealth of Independent States"),
            Participant(name: "Vladimir Putin", role: "President of Russia", country: "Russia"),
        ])

        XCTAssertEqual(meeting.documents, [
            "Resolution On the Concept for the Further Development of the Commonwealth of Independent States and the Plan of Basic Measures for its Implementation",
            "Resolution On the Development and Strengthening of Inter-Parliamentary Cooperation of the CIS Member States",
            "Resolution On the Concept of Military Cooperation of the CIS Member States until 2025",
            "Decision on joint statements on the 75th anniversary of the UN",
            "Decision on joint statements on international information security cooperation",
            "Agreement on the Joint Engineering Unit for Humanitarian Demining of the Armed Forces of the CIS Member States",
            "Decision on the CIS Programme of Cooperation to Strengthen Border Security for 2021–2025",
            "Document to declare 2022 a Year of Folk Art and Cultural Heritage in the CIS",
            "Document to declare 2023 a Year of the Russian language as a language of interethnic communication",
        ])

        XCTAssertEqual(meeting.sections, [Section(title: "Speech at the Meeting of the CIS Heads of State Council")])
        XCTAssertEqual(meeting.turns.count, 1)
        let turn = try XCTUnwrap(meeting.turns.first)
        XCTAssertEqual(turn.index, 0)
        XCTAssertEqual(turn.section, 0)
        XCTAssertEqual(turn.speaker, "Vladimir Putin")
        XCTAssertEqual(turn.role, "President of Russia")
        XCTAssertEqual(turn.paragraphs.count, 23)
        XCTAssertEqual(turn.paragraphs.first, "Colleagues,")
        XCTAssertEqual(turn.paragraphs.last, "Thank you for your attention.")
        XCTAssertNil(turn.start)
        // Site chrome and the closing date line belong to nothing.
        let everything = ([meeting.title] + meeting.lead + meeting.turns.flatMap(\.paragraphs)).joined(separator: "\n")
        for chrome in ["Font size", "Site colours", "View settings", "Official website", "News   /"] {
            XCTAssertFalse(everything.contains(chrome), chrome)
        }
        XCTAssertFalse(turn.paragraphs.contains { $0.hasPrefix("December 18, 2020") })
    }

    func testBundledSampleIsTheSeed() throws {
        let sample = TestPaths.packageRoot.appendingPathComponent("Samples/000_16830d1d99dc7d5d.txt")
        XCTAssertEqual(try Data(contentsOf: sample), try Data(contentsOf: TestPaths.seed))
    }
}
