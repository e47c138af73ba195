"""The lookup module through a running meetingd over ZeroMQ: every method, every
filter, pagination edges, name resolution and every error, on the seed page and the
QMSum validation meetings (`corpus_daemon`), and on fixture meetings with several
people who share names (`people_daemon`)."""
import json
import subprocess
import threading
from pathlib import Path

import pytest

from meetingd_client import SEED_ID, CorpusDaemon, RPCError

FIXTURES = Path(__file__).parent / "fixtures" / "lookup"
SEED_DOCUMENTS = 9
QMSUM_MEETINGS = 35


@pytest.fixture(scope="module")
def people_daemon():
    """An official page (Putin, Mishustin…), a summit where two Berdimuhamedovs speak,
    and a call between Anna and John Smith."""
    daemon = CorpusDaemon([FIXTURES])
    yield daemon
    daemon.stop()


def error_of(daemon, method, params):
    with pytest.raises(RPCError) as caught:
        daemon.call(method, params)
    return caught.value


def all_meetings(daemon, **filters):
    """Every meeting matching `filters`, page by page."""
    found, offset = [], 0
    while True:
        page = daemon.call("lookup.meetings", {**filters, "offset": offset, "limit": 100})
        found += page["meetings"]
        offset += 100
        if offset >= page["total"]:
            return found


# lookup.meeting

def test_meeting_has_everything_but_the_turn_texts(corpus_daemon):
    meeting = corpus_daemon.call("lookup.meeting", {"id": SEED_ID})
    assert meeting["title"] == "Meeting of CIS Heads of State Council"
    assert (meeting["date"], meeting["place"], meeting["format"]) == ("2020-12-18", "Novo-Ogaryovo, Moscow Region", "videoconference")
    assert meeting["source"].endswith("000_16830d1d99dc7d5d.txt")
    assert meeting["lead"][0].startswith("Vladimir Putin took part")
    assert len(meeting["participants"]) == 11
    assert meeting["participants"][7] == {"name": "Gurbanguly Berdimuhamedov", "role": "President of Turkmenistan",
                                          "country": "Turkmenistan", "organisation": None}
    assert len(meeting["documents"]) == SEED_DOCUMENTS
    assert any("Border Security" in title for title in meeting["documents"])
    assert meeting["sections"] == [{"index": 0, "title": "Speech at the Meeting of the CIS Heads of State Council",
                                    "first_turn": 0, "last_turn": 0, "turns": 1}]
    assert meeting["speakers"] == [{"name": "Vladimir Putin", "turns": 1, "words": 1341}]
    assert (meeting["turn_count"], meeting["words"], meeting["unnamed_turns"], meeting["duration"]) == (1, 1341, 0, None)
    assert "turns" not in meeting
    assert "forced us to mobilise" not in json.dumps(meeting)  # a sentence of the speech


def test_meeting_speaker_counts_add_up_on_qmsum(corpus_daemon):
    meeting = corpus_daemon.call("lookup.meeting", {"id": "val-0"})
    assert meeting["date"] is None and meeting["participants"] == []
    # QMSum's topic list is the meeting's agenda.
    assert meeting["sections"] == [
        {"index": 0, "title": "Potential collaboration with other ICSI member", "first_turn": 0, "last_turn": 134, "turns": 135},
        {"index": 1, "title": "Speaker overlap efforts", "first_turn": 135, "last_turn": 700, "turns": 566},
        {"index": 2, "title": "Recordings and transcriptions", "first_turn": 701, "last_turn": 880, "turns": 180}]
    assert len(meeting["speakers"]) == 8
    assert sum(s["turns"] for s in meeting["speakers"]) + meeting["unnamed_turns"] == meeting["turn_count"] == 881
    assert sum(s["words"] for s in meeting["speakers"]) == meeting["words"]
    words = [s["words"] for s in meeting["speakers"]]
    assert words == sorted(words, reverse=True)


def test_meeting_sections_with_turn_ranges_times_and_unnamed_voices(people_daemon):
    meeting = people_daemon.call("lookup.meeting", {"id": "ashgabat-2021"})
    assert meeting["sections"] == [
        {"index": 0, "title": "Plenary session", "first_turn": 0, "last_turn": 2, "turns": 3},
        {"index": 1, "title": "Press statements", "first_turn": 3, "last_turn": 5, "turns": 3},
    ]
    assert meeting["duration"] == 90
    assert meeting["unnamed_turns"] == 1
    assert meeting["participants"][3] == {"name": "Anna Smith", "role": "Observer", "country": None,
                                          "organisation": "United Nations"}
    assert meeting["lead"] == ["The heads of state met in Ashgabat.", "An agreement on transit was signed."]


def test_unknown_meeting_is_not_found_with_its_id(corpus_daemon):
    error = error_of(corpus_daemon, "lookup.meeting", {"id": "no-such-meeting"})
    assert error.code == -32004
    assert error.data == {"kind": "meeting", "id": "no-such-meeting"}


@pytest.mark.parametrize("params, field", [
    ({}, "id"), ({"id": ""}, "id"), ({"id": 5}, "id"), ({"id": SEED_ID, "turns": True}, "turns"),
])
def test_meeting_params_are_checked(corpus_daemon, params, field):
    error = error_of(corpus_daemon, "lookup.meeting", params)
    assert (error.code, error.data["field"]) == (-32602, field)


# lookup.meetings

def test_meetings_lists_the_whole_corpus_page_by_page(corpus_daemon):
    first = corpus_daemon.call("lookup.meetings", {})
    assert first["total"] == QMSUM_MEETINGS + 1
    assert (first["offset"], first["limit"], len(first["meetings"])) == (0, 20, 20)
    seen = []
    for offset in range(0, first["total"], 7):
        seen += [m["id"] for m in corpus_daemon.call("lookup.meetings", {"limit": 7, "offset": offset})["meetings"]]
    assert len(seen) == len(set(seen)) == first["total"]
    assert seen[0] == SEED_ID  # the only dated meeting comes before the undated ones
    assert set(first["meetings"][0]) == {"id", "title", "date", "place", "format", "turn_count", "words", "duration"}


@pytest.mark.parametrize("params", [{"offset": 36}, {"offset": 1000}, {"limit": 0}, {"limit": 0, "offset": 5}])
def test_meetings_past_the_end_or_limit_zero_give_the_total_and_no_items(corpus_daemon, params):
    page = corpus_daemon.call("lookup.meetings", params)
    assert page["total"] == QMSUM_MEETINGS + 1 and page["meetings"] == []


def test_meetings_last_partial_page(corpus_daemon):
    page = corpus_daemon.call("lookup.meetings", {"offset": 30, "limit": 20})
    assert len(page["meetings"]) == 6


@pytest.mark.parametrize("params, expected", [
    ({"to": "2020-12-18"}, 1), ({"from": "2020-12-18"}, 1), ({"from": "2020-12-19"}, 0), ({"to": "2020-12-17"}, 0),
    ({"from": "2020", "to": "2020"}, 1), ({"from": "2020-12", "to": "2020-12"}, 1), ({"to": "2020-11"}, 0),
    ({"from": "2021"}, 0),
])
def test_meetings_date_bounds_are_inclusive_and_skip_undated(corpus_daemon, params, expected):
    assert corpus_daemon.call("lookup.meetings", params)["total"] == expected


def test_meetings_to_includes_a_date_with_a_time(people_daemon):
    # Stored as 2021-10-15T11:00:00+05:00 and 2022-03-04T15:00.
    assert [m["id"] for m in people_daemon.call("lookup.meetings", {"from": "2021-10-15", "to": "2022-03-04"})["meetings"]] \
        == ["ashgabat-2021", "security_council_2022"]


@pytest.mark.parametrize("params, field", [
    ({"from": "2021-02-30"}, "from"), ({"from": "2020-13"}, "from"), ({"to": "18.12.2020"}, "to"),
    ({"to": "2020-12-1"}, "to"), ({"from": "2021-02-29"}, "from"), ({"from": "2021", "to": "2020-12-31"}, "to"),
    ({"from": "2020-12-19", "to": "2020-12-18"}, "to"),
    ({"limit": -1}, "limit"), ({"limit": 101}, "limit"), ({"offset": -1}, "offset"), ({"limit": "5"}, "limit"),
    ({"sort": "size"}, "sort"), ({"sort": "date; DROP TABLE meeting"}, "sort"),
    ({"title": ""}, "title"), ({"title": "--"}, "title"), ({"place": "   "}, "place"),
    ({"participant": ""}, "participant"), ({"colour": "red"}, "colour"),
])
def test_meetings_bad_params_answer_invalid_params_naming_the_param(corpus_daemon, params, field):
    error = error_of(corpus_daemon, "lookup.meetings", params)
    assert (error.code, error.data["field"]) == (-32602, field), error.message


def test_meetings_leap_day_is_a_date(corpus_daemon):
    assert corpus_daemon.call("lookup.meetings", {"from": "2020-02-29"})["total"] == 1


@pytest.mark.parametrize("title, expected", [
    ("CIS council", 1), ("council cis", 1), ("HEADS of state", 1), ("Counc", 0), ("cis parliament", 0),
    ("val-0", 1),
])
def test_meetings_title_matches_whole_words(corpus_daemon, title, expected):
    assert corpus_daemon.call("lookup.meetings", {"title": title})["total"] == expected


def test_meetings_place_matches_words(corpus_daemon, people_daemon):
    assert [m["id"] for m in corpus_daemon.call("lookup.meetings", {"place": "moscow"})["meetings"]] == [SEED_ID]
    assert corpus_daemon.call("lookup.meetings", {"place": "Mosc"})["total"] == 0
    assert [m["id"] for m in people_daemon.call("lookup.meetings", {"place": "Moscow Kremlin"})["meetings"]] \
        == ["security_council_2022"]


def test_meetings_sort_orders(corpus_daemon):
    by_words = [m["words"] for m in all_meetings(corpus_daemon, sort="-words")]
    assert by_words == sorted(by_words, reverse=True) and len(by_words) == 36
    by_turns = [m["turn_count"] for m in all_meetings(corpus_daemon, sort="turns")]
    assert by_turns == sorted(by_turns)
    ids = [m["id"] for m in all_meetings(corpus_daemon, sort="id")]
    assert ids == sorted(ids)
    titles = [m["title"].lower() for m in all_meetings(corpus_daemon, sort="title")]
    assert titles == sorted(titles)
    assert all_meetings(corpus_daemon, sort="-date")[0]["id"] == SEED_ID  # undated last either way


def test_meetings_sort_by_date_both_ways(people_daemon):
    assert [m["id"] for m in people_daemon.call("lookup.meetings", {})["meetings"]] \
        == ["budget-call-2019", "ashgabat-2021", "security_council_2022"]
    assert [m["id"] for m in people_daemon.call("lookup.meetings", {"sort": "-date"})["meetings"]] \
        == ["security_council_2022", "ashgabat-2021", "budget-call-2019"]


@pytest.mark.parametrize("name", ["Putin", "President Putin", "Vladimir Putin", "vladimir  PUTIN", "Berdymukhamedov"])
def test_meetings_participant_goes_through_name_resolution(corpus_daemon, name):
    page = corpus_daemon.call("lookup.meetings", {"participant": name})
    assert [m["id"] for m in page["meetings"]] == [SEED_ID]
    assert page["participant"] in {"Vladimir Putin", "Gurbanguly Berdimuhamedov"}


def test_meetings_participant_includes_those_who_only_spoke(corpus_daemon):
    person = corpus_daemon.call("lookup.person", {"name": "Project Manager"})
    page = corpus_daemon.call("lookup.meetings", {"participant": "Project Manager"})
    assert page["total"] == person["total"] > 1
    assert {m["id"] for m in page["meetings"]} == {m["id"] for m in person["meetings"]}


def test_meetings_speaker_is_only_who_spoke(corpus_daemon):
    assert corpus_daemon.call("lookup.meetings", {"participant": "Mirziyoyev"})["total"] == 1
    assert corpus_daemon.call("lookup.meetings", {"speaker": "Mirziyoyev"})["total"] == 0
    page = corpus_daemon.call("lookup.meetings", {"speaker": "President Putin"})
    assert ([m["id"] for m in page["meetings"]], page["speaker"]) == ([SEED_ID], "Vladimir Putin")


def test_meetings_filters_combine(people_daemon):
    assert people_daemon.call("lookup.meetings", {"participant": "Putin", "from": "2022"})["total"] == 1
    assert people_daemon.call("lookup.meetings", {"participant": "Putin", "title": "summit"})["total"] == 1
    assert people_daemon.call("lookup.meetings", {"participant": "Putin", "speaker": "Mishustin"})["total"] == 1
    assert people_daemon.call("lookup.meetings", {"speaker": "Anna Smith", "place": "Geneva", "to": "2019"})["total"] == 1
    assert people_daemon.call("lookup.meetings", {"speaker": "Anna Smith", "place": "Geneva", "from": "2020"})["total"] == 0


def test_meetings_unknown_person_is_not_found(corpus_daemon):
    error = error_of(corpus_daemon, "lookup.meetings", {"participant": "Zbigniew Quarterpounder"})
    assert (error.code, error.data) == (-32004, {"kind": "person", "id": "Zbigniew Quarterpounder"})


def test_meetings_ambiguous_person_names_the_candidates(people_daemon):
    error = error_of(people_daemon, "lookup.meetings", {"speaker": "Smith"})
    assert (error.code, error.data["field"]) == (-32602, "speaker")
    assert sorted(error.data["candidates"]) == ["Anna Smith", "John Smith"]


# lookup.turns

def test_turns_in_order_with_paragraphs(corpus_daemon):
    page = corpus_daemon.call("lookup.turns", {"meeting": "val-0"})
    assert (page["total"], page["limit"], len(page["turns"])) == (881, 50, 50)
    assert [t["index"] for t in page["turns"]] == list(range(50))
    assert page["turns"][0]["speaker"] == "Professor E"
    assert page["turns"][0]["paragraphs"][0].startswith("So . OK .")
    seed = corpus_daemon.call("lookup.turns", {"meeting": SEED_ID})["turns"][0]
    assert (seed["speaker"], seed["role"], seed["section"]) == ("Vladimir Putin", "President of Russia", 0)
    assert seed["paragraphs"][0] == "Colleagues," and len(seed["paragraphs"]) > 5


def test_turns_index_window_and_pages(corpus_daemon):
    page = corpus_daemon.call("lookup.turns", {"meeting": "val-0", "from": 100, "to": 109, "offset": 5, "limit": 3})
    assert page["total"] == 10
    assert [t["index"] for t in page["turns"]] == [105, 106, 107]
    assert corpus_daemon.call("lookup.turns", {"meeting": "val-0", "from": 880})["total"] == 1
    assert corpus_daemon.call("lookup.turns", {"meeting": "val-0", "from": 881})["total"] == 0
    assert corpus_daemon.call("lookup.turns", {"meeting": "val-0", "to": 5000})["total"] == 881
    assert corpus_daemon.call("lookup.turns", {"meeting": "val-0", "offset": 881})["turns"] == []
    assert corpus_daemon.call("lookup.turns", {"meeting": "val-0", "limit": 0}) == \
        {"total": 881, "offset": 0, "limit": 0, "meeting": "val-0", "turns": []}


def test_turns_of_one_speaker_resolve_within_the_meeting(corpus_daemon):
    # "A" is several people in the corpus but only PhD A speaks in val-0.
    meeting = corpus_daemon.call("lookup.meeting", {"id": "val-0"})
    expected = next(s["turns"] for s in meeting["speakers"] if s["name"] == "PhD A")
    page = corpus_daemon.call("lookup.turns", {"meeting": "val-0", "speaker": "A", "limit": 200})
    assert page["speaker"] == "PhD A" and page["total"] == expected == len(page["turns"])
    assert {t["speaker"] for t in page["turns"]} == {"PhD A"}


def test_turns_by_section_speaker_and_unnamed_voices(people_daemon):
    page = people_daemon.call("lookup.turns", {"meeting": "security_council_2022", "section": 1})
    assert [(t["index"], t["speaker"]) for t in page["turns"]] == \
        [(2, "Vladimir Putin"), (3, "Mikhail Mishustin"), (4, None), (5, "Vladimir Putin")]
    assert page["turns"][2]["role"] == "Question"
    page = people_daemon.call("lookup.turns", {"meeting": "security_council_2022", "speaker": "President Putin", "section": 1})
    assert [t["index"] for t in page["turns"]] == [2, 5]
    summit = people_daemon.call("lookup.turns", {"meeting": "ashgabat-2021", "speaker": "Gurbanguly Berdymukhamedov"})
    assert [(t["index"], t["start"], t["end"]) for t in summit["turns"]] == [(0, 0, 30), (3, 60, 75)]
    assert summit["turns"][0]["paragraphs"] == ["Dear colleagues, welcome to Ashgabat.", "Let us open the session."]


def test_turns_of_someone_who_did_not_speak_there_are_none(people_daemon):
    page = people_daemon.call("lookup.turns", {"meeting": "budget-call-2019", "speaker": "Putin"})
    assert (page["total"], page["turns"]) == (0, [])


@pytest.mark.parametrize("params, code, field", [
    ({"meeting": "val-0", "from": 10, "to": 9}, -32602, "to"),
    ({"meeting": "val-0", "from": -1}, -32602, "from"),
    ({"meeting": "val-0", "limit": 201}, -32602, "limit"),
    ({"meeting": "val-0", "limit": -5}, -32602, "limit"),
    ({"meeting": "val-0", "section": 3}, -32602, "section"),  # val-0 has sections 0-2
    ({"meeting": "val-0", "from": 2 ** 62}, -32602, "from"), ({"meeting": "val-0", "offset": 2 ** 40}, -32602, "offset"),
    ({"meeting": "val-0", "to": 1e300}, -32602, "to"),
    ({"meeting": "val-0", "speaker": "Zbigniew Quarterpounder"}, -32004, None),
    ({"meeting": "nope"}, -32004, None),
    ({}, -32602, "meeting"),
])
def test_turns_errors(corpus_daemon, params, code, field):
    error = error_of(corpus_daemon, "lookup.turns", params)
    assert error.code == code
    if field:
        assert error.data["field"] == field
    else:
        assert error.data["id"] in (params.get("speaker"), params["meeting"])


def test_turns_ambiguous_speaker_within_the_meeting(people_daemon):
    error = error_of(people_daemon, "lookup.turns", {"meeting": "ashgabat-2021", "speaker": "Berdimuhamedov"})
    assert (error.code, error.data["field"]) == (-32602, "speaker")
    assert sorted(error.data["candidates"]) == ["Gurbanguly Berdimuhamedov", "Serdar Berdimuhamedov"]
    # Both Smiths speak in the budget call, but only Anna at the summit.
    page = people_daemon.call("lookup.turns", {"meeting": "ashgabat-2021", "speaker": "Smith"})
    assert page["speaker"] == "Anna Smith" and [t["index"] for t in page["turns"]] == [5]


# lookup.person

@pytest.mark.parametrize("name", ["Putin", "President Putin", "Vladimir Putin", "putin", "Mr. Putin",
                                  "President of Russia Vladimir Putin"])
def test_person_forms_of_a_name_reach_the_same_person(corpus_daemon, name):
    person = corpus_daemon.call("lookup.person", {"name": name})
    assert (person["ambiguous"], person["name"]) == (False, "Vladimir Putin")
    assert person["roles"] == [{"role": "President of Russia", "country": "Russia", "organisation": None, "meetings": 1}]
    assert person["meetings"] == [{"id": SEED_ID, "title": "Meeting of CIS Heads of State Council", "date": "2020-12-18",
                                   "role": "President of Russia", "participant": True, "turns": 1, "words": 1341}]
    assert "Putin" in person["aliases"]


@pytest.mark.parametrize("name", ["Berdymukhamedov", "Berdimuhamedov", "Gurbanguly Berdymukhammedov", "berdimukhamedov"])
def test_person_spelling_variants(corpus_daemon, name):
    person = corpus_daemon.call("lookup.person", {"name": name})
    assert person["name"] == "Gurbanguly Berdimuhamedov"
    assert person["meetings"][0]["turns"] == 0 and person["meetings"][0]["participant"] is True


def test_person_edit_distance_is_reported(corpus_daemon):
    person = corpus_daemon.call("lookup.person", {"name": "Lukashenka"})
    assert person["name"] == "Alexander Lukashenko"
    assert person["match"] == {"kind": "spelling", "matched": "Lukashenko", "distance": 1}
    assert corpus_daemon.call("lookup.person", {"name": "Vladimir Putin"})["match"]["kind"] == "name"


# Leading words the person's names do not explain are not dropped, patronymics included.
@pytest.mark.parametrize("name", ["John Putin", "Vladimir Vladimirovich Putin", "Zbigniew Quarterpounder", "Ptn", "..."])
def test_person_unknown_or_contradicted_is_not_found(corpus_daemon, name):
    error = error_of(corpus_daemon, "lookup.person", {"name": name})
    assert (error.code, error.data) == (-32004, {"kind": "person", "id": name})


def test_person_ambiguous_answers_the_candidates(corpus_daemon, people_daemon):
    answer = corpus_daemon.call("lookup.person", {"name": "A"})
    assert answer["ambiguous"] is True and answer["query"] == "A"
    assert {"PhD A", "Grad A"} <= {c["name"] for c in answer["candidates"]}
    assert all(c["meetings"] >= 1 for c in answer["candidates"])
    for name in ["Smith", "Mr Smith"]:
        answer = people_daemon.call("lookup.person", {"name": name})
        assert answer["ambiguous"] is True
        assert sorted(c["name"] for c in answer["candidates"]) == ["Anna Smith", "John Smith"]
    answer = people_daemon.call("lookup.person", {"name": "Berdymukhamedov"})
    assert sorted(c["name"] for c in answer["candidates"]) == ["Gurbanguly Berdimuhamedov", "Serdar Berdimuhamedov"]


@pytest.mark.parametrize("name, expected", [
    ("President Berdimuhamedov", "Gurbanguly Berdimuhamedov"), ("Deputy Chairman Berdimuhamedov", "Serdar Berdimuhamedov"),
    ("Treasurer Smith", "John Smith"), ("Anna Smith", "Anna Smith"), ("Prime Minister Mishustin", "Mikhail Mishustin"),
])
def test_person_titles_that_tell_people_apart(people_daemon, name, expected):
    assert people_daemon.call("lookup.person", {"name": name})["name"] == expected


def test_person_meetings_by_date_with_roles_and_pages(people_daemon):
    person = people_daemon.call("lookup.person", {"name": "Putin"})
    assert person["total"] == 2
    assert [(m["id"], m["date"], m["turns"]) for m in person["meetings"]] == \
        [("ashgabat-2021", "2021-10-15T11:00:00+05:00", 1), ("security_council_2022", "2022-03-04T15:00", 3)]
    assert person["roles"] == [{"role": "President of Russia", "country": "Russia", "organisation": None, "meetings": 2}]
    page = people_daemon.call("lookup.person", {"name": "Putin", "offset": 1, "limit": 1})
    assert (page["total"], [m["id"] for m in page["meetings"]]) == (2, ["security_council_2022"])
    assert people_daemon.call("lookup.person", {"name": "Putin", "offset": 2})["meetings"] == []
    anna = people_daemon.call("lookup.person", {"name": "Anna Smith"})
    assert anna["roles"] == [{"role": "Observer", "country": None, "organisation": "United Nations", "meetings": 1}]


@pytest.mark.parametrize("params, field", [
    ({}, "name"), ({"name": ""}, "name"), ({"name": "Putin", "limit": 201}, "limit"), ({"name": "Putin", "offset": -1}, "offset"),
])
def test_person_params_are_checked(corpus_daemon, params, field):
    error = error_of(corpus_daemon, "lookup.person", params)
    assert (error.code, error.data["field"]) == (-32602, field)


# lookup.speakers, lookup.documents, lookup.stats

def test_speakers_of_a_meeting_and_of_the_corpus(corpus_daemon):
    meeting = corpus_daemon.call("lookup.meeting", {"id": "val-0"})
    speakers = corpus_daemon.call("lookup.speakers", {"meeting": "val-0"})
    assert speakers["total"] == 8
    assert [(s["name"], s["turns"], s["words"]) for s in speakers["speakers"]] == \
        [(s["name"], s["turns"], s["words"]) for s in meeting["speakers"]]
    corpus = corpus_daemon.call("lookup.speakers", {"limit": 500})
    assert corpus["total"] == len(corpus["speakers"]) > 100
    words = [s["words"] for s in corpus["speakers"]]
    assert words == sorted(words, reverse=True)
    putin = next(s for s in corpus["speakers"] if s["name"] == "Vladimir Putin")
    assert (putin["meetings"], putin["turns"], putin["words"]) == (1, 1, 1341)
    assert corpus_daemon.call("lookup.speakers", {"offset": corpus["total"]})["speakers"] == []
    assert corpus_daemon.call("lookup.speakers", {"limit": 0})["total"] == corpus["total"]


def test_speakers_errors(corpus_daemon):
    assert error_of(corpus_daemon, "lookup.speakers", {"meeting": "nope"}).data == {"kind": "meeting", "id": "nope"}
    assert error_of(corpus_daemon, "lookup.speakers", {"limit": 501}).data["field"] == "limit"


def test_documents_with_their_meetings_and_filters(corpus_daemon, people_daemon):
    every = corpus_daemon.call("lookup.documents", {})
    assert every["total"] == SEED_DOCUMENTS
    assert every["documents"][0]["meeting"] == {"id": SEED_ID, "title": "Meeting of CIS Heads of State Council", "date": "2020-12-18"}
    security = corpus_daemon.call("lookup.documents", {"text": "SECURITY"})
    assert security["total"] == 2 and all("ecurity" in d["title"] for d in security["documents"])
    assert corpus_daemon.call("lookup.documents", {"text": "secur"})["total"] == 0
    assert corpus_daemon.call("lookup.documents", {"meeting": "val-0"})["total"] == 0
    assert corpus_daemon.call("lookup.documents", {"from": "2020-12-18", "to": "2020-12-18"})["total"] == SEED_DOCUMENTS
    assert corpus_daemon.call("lookup.documents", {"from": "2021"})["total"] == 0
    page = corpus_daemon.call("lookup.documents", {"offset": 8, "limit": 5})
    assert len(page["documents"]) == 1
    summit = people_daemon.call("lookup.documents", {"meeting": "ashgabat-2021", "text": "transit"})
    assert [d["title"] for d in summit["documents"]] == ["Agreement on international road transit"]


@pytest.mark.parametrize("params, code, field", [
    ({"meeting": "nope"}, -32004, None), ({"from": "2020-02-30"}, -32602, "from"), ({"text": "!!"}, -32602, "text"),
    ({"limit": 201}, -32602, "limit"), ({"to": "2019", "from": "2020"}, -32602, "to"),
])
def test_documents_errors(corpus_daemon, params, code, field):
    error = error_of(corpus_daemon, "lookup.documents", params)
    assert error.code == code
    assert error.data.get("field") == field if field else error.data == {"kind": "meeting", "id": "nope"}


def test_stats_agree_with_the_listings(corpus_daemon):
    stats = corpus_daemon.call("lookup.stats", {})
    meetings = all_meetings(corpus_daemon)
    assert stats["meetings"] == len(meetings) == 36
    assert stats["turns"] == sum(m["turn_count"] for m in meetings)
    assert stats["words"] == sum(m["words"] for m in meetings)
    assert (stats["first_date"], stats["last_date"], stats["undated"]) == ("2020-12-18", "2020-12-18", 35)
    assert stats["per_year"] == [{"year": "2020", "meetings": 1}]
    assert stats["documents"] == SEED_DOCUMENTS
    assert stats["people"] >= corpus_daemon.call("lookup.speakers", {})["total"]
    assert error_of(corpus_daemon, "lookup.stats", {"x": 1}).data["field"] == "x"


def test_stats_meetings_per_year(people_daemon):
    assert people_daemon.call("lookup.stats", {})["per_year"] == \
        [{"year": "2019", "meetings": 1}, {"year": "2021", "meetings": 1}, {"year": "2022", "meetings": 1}]


# discovery and concurrency

def test_every_method_is_discoverable_with_described_params_and_documented_caps(corpus_daemon):
    methods = {m["name"]: m for m in corpus_daemon.call("rpc.discover")["methods"]}
    caps = {"lookup.meetings": 100, "lookup.turns": 200, "lookup.person": 200, "lookup.speakers": 500,
            "lookup.documents": 200}
    for name in ["lookup.meeting", "lookup.stats", *caps]:
        method = methods[name]
        assert method["summary"] and method["result"]["schema"]["type"] == "object"
        for param in method["params"]:
            assert param["schema"].get("description"), (name, param["name"])
        if name in caps:
            limit = next(p["schema"] for p in method["params"] if p["name"] == "limit")
            assert limit["maximum"] == caps[name] and f"at most {caps[name]}" in limit["description"]
    assert [p["name"] for p in methods["lookup.meeting"]["params"]] == ["id"]
    assert methods["lookup.stats"]["params"] == []


def test_two_workers_answer_concurrent_lookups_correctly(corpus_daemon):
    requests = [
        ("lookup.meeting", {"id": SEED_ID}), ("lookup.meeting", {"id": "val-3"}),
        ("lookup.meetings", {"participant": "President Putin"}), ("lookup.meetings", {"sort": "-words", "limit": 5}),
        ("lookup.turns", {"meeting": "val-1", "from": 10, "limit": 20}), ("lookup.person", {"name": "Berdymukhamedov"}),
        ("lookup.speakers", {"meeting": "val-2"}), ("lookup.documents", {"text": "security"}), ("lookup.stats", {}),
    ]
    expected = [corpus_daemon.call(method, params) for method, params in requests]
    failures = []

    def client(worker):
        try:
            for round_ in range(15):
                index = (worker + round_) % len(requests)
                if corpus_daemon.call(*requests[index]) != expected[index]:
                    failures.append((worker, requests[index]))
        except Exception as error:  # noqa: BLE001 - any failure of a client thread fails the test
            failures.append((worker, repr(error)))

    threads = [threading.Thread(target=client, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures
    assert corpus_daemon.alive()


# meetingctl

def meetingctl(daemon, *args):
    from meetingd_client import MEETINGD
    return subprocess.run([str(MEETINGD.parent / "meetingctl"), *args, "--endpoint", daemon.endpoint],
                          capture_output=True, text=True, timeout=30)


def test_meetingctl_lookup_commands(people_daemon):
    shown = meetingctl(people_daemon, "meeting", "ashgabat-2021")
    assert shown.returncode == 0
    assert "Summit of Turkic Council heads" in shown.stdout and "Press statements" in shown.stdout
    as_json = meetingctl(people_daemon, "meeting", "ashgabat-2021", "--json")
    assert json.loads(as_json.stdout) == people_daemon.call("lookup.meeting", {"id": "ashgabat-2021"})
    listed = meetingctl(people_daemon, "meetings", "--from", "2021", "--participant", "President Putin")
    assert "ashgabat-2021" in listed.stdout and "budget-call-2019" not in listed.stdout and "of 2" in listed.stdout
    assert "John Smith" in meetingctl(people_daemon, "person", "Smith").stdout
    turns = meetingctl(people_daemon, "turns", "security_council_2022", "--speaker", "Mishustin")
    assert "[1] Mikhail Mishustin (Prime Minister)" in turns.stdout and "Vladimir Putin" not in turns.stdout
    missing = meetingctl(people_daemon, "meeting", "nope")
    assert missing.returncode == 1 and "-32004" in missing.stderr


# the instance cache behind person filters

@pytest.mark.parametrize("sort", ["date", "-date"])
def test_person_filter_pages_match_the_general_query(corpus_daemon, people_daemon, sort):
    """A person filter with a date sort is served from the instance's cache; adding a
    title filter that keeps every meeting sends the same listing through SQL."""
    for daemon, person, title, dates in [(corpus_daemon, "Project Manager", "val", {}),
                                         (people_daemon, "Putin", "of", {}),
                                         (people_daemon, "Putin", "of", {"from": "2021-10-15", "to": "2022"})]:
        for params in ({"participant": person}, {"speaker": person}):
            cached = [m["id"] for m in all_meetings(daemon, sort=sort, **params, **dates)]
            general = [m["id"] for m in all_meetings(daemon, sort=sort, title=title, **params, **dates)]
            assert cached == general and cached, (params, dates)
            for offset, limit in [(0, 1), (1, 2), (len(cached) - 1, 5), (len(cached), 5)]:
                page = daemon.call("lookup.meetings", {**params, **dates, "sort": sort, "offset": offset, "limit": limit})
                assert page["total"] == len(cached)
                assert [m["id"] for m in page["meetings"]] == cached[offset:offset + limit]


def test_lookups_see_meetings_ingested_while_serving():
    daemon = CorpusDaemon([FIXTURES / "budget_call.json"])
    try:
        for _ in range(4):  # fill every worker's cache
            assert daemon.call("lookup.meetings", {"participant": "Anna Smith", "sort": "-date"})["total"] == 1
            assert error_of(daemon, "lookup.person", {"name": "Berdimuhamedov"}).code == -32004
        from meetingd_client import MEETINGD
        subprocess.run([str(MEETINGD), "ingest", "--corpus", str(daemon.corpus), str(FIXTURES / "ashgabat_summit.json")],
                       check=True, capture_output=True, timeout=60)
        for _ in range(4):  # every worker's instance, whichever answers
            page = daemon.call("lookup.meetings", {"participant": "Anna Smith", "sort": "-date"})
            assert [m["id"] for m in page["meetings"]] == ["ashgabat-2021", "budget-call-2019"]
            assert daemon.call("lookup.person", {"name": "Berdimuhamedov"})["ambiguous"] is True
    finally:
        daemon.stop()
