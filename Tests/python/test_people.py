"""One person, whatever module is asked: a table of name and role forms over the seed,
official pages of our own in English and Russian, and QMSum meetings. Each form goes to
lookup.person, lookup.meetings {participant}, search.query {speaker}, summarise.meeting
{speaker}, and (for names and roles written as people write them) a question naming the
person in search.query; every module must answer the same person, the same ambiguity
or the same not-found."""
import pytest

from meetingd_client import RPCError

NOT_FOUND, INVALID_PARAMS = -32004, -32602
SEED = "000_16830d1d99dc7d5d"

# Spellings the one person may be stored under: the name of whichever page came first.
PUTIN = {"Vladimir Putin", "Владимир Путин"}
MIRZIYOYEV = {"Shavkat Mirziyoyev", "Шавкат Мирзиёев"}
TOKAYEV = {"Kassym-Jomart Tokayev", "Касым-Жомарт Токаев"}
SAVELYEV = {"Vitaly Savelyev", "Виталий Савельев"}
LAVROV = {"Sergei Lavrov", "Сергей Лавров"}

# (form, expected, a meeting where the person speaks, whether a question may name them by it)
# expected: a set of spellings of one person, "ambiguous" with the candidates, or None for not found.
TABLE = [
    ("Vladimir Putin", PUTIN, SEED, True),
    ("President Putin", PUTIN, SEED, True),
    ("Mr Putin", PUTIN, SEED, True),
    ("Mr. Putin", PUTIN, SEED, True),
    ("putin", PUTIN, SEED, True),
    ("Путин", PUTIN, "ru_cis_council", True),
    ("В.Путин", PUTIN, "ru_cis_council", False),
    ("V. Putin", PUTIN, SEED, False),
    ("the President of Russia", PUTIN, SEED, True),
    ("the President of Uzbekistan", MIRZIYOYEV, "ru_cis_council", True),
    ("President Mirziyoyev", MIRZIYOYEV, "ru_cis_council", True),
    ("Mirziyoev", MIRZIYOYEV, "ru_cis_council", False),
    ("Мирзиёев", MIRZIYOYEV, "ru_cis_council", True),
    ("Шавкат Мирзиёев", MIRZIYOYEV, "ru_cis_council", True),
    ("Президент Узбекистана", MIRZIYOYEV, "ru_cis_council", True),
    ("Berdymukhamedov", {"Gurbanguly Berdimuhamedov"}, None, False),
    ("President Berdimuhamedov", {"Gurbanguly Berdimuhamedov"}, None, True),
    ("Kassym-Jomart Tokayev", TOKAYEV, "talks_with_press", True),
    ("Токаев", TOKAYEV, "ru_talks_with_press", True),
    ("К.Токаев", TOKAYEV, "ru_talks_with_press", False),
    ("Speaker of the Federation Council", {"Valentina Matviyenko"}, None, True),
    ("Valentina Matviyenko", {"Valentina Matviyenko"}, None, True),
    # Canada's Minister of Transport speaks in a QMSum committee meeting: the role alone fits two people.
    ("the Minister of Transport", ("ambiguous", [{"Marc Garneau"}, SAVELYEV]), "transport_council", False),
    ("Министр транспорта", SAVELYEV, "ru_talks_with_press", True),
    ("Vitaly Savelyev", SAVELYEV, "transport_council", True),
    ("Sergei Lavrov", LAVROV, None, True),
    ("Сергей Лавров", LAVROV, None, True),
    ("Hon. Navdeep Bains", {"Navdeep Bains"}, "val-31", True),
    ("Navdeep Bains", {"Navdeep Bains"}, "val-31", True),
    ("Bains", {"Navdeep Bains"}, "val-31", True),
    ("Kirsty Williams AM", {"Kirsty Williams"}, None, True),
    ("Professor C", {"Professor C"}, None, False),
    ("Industrial Designer", {"Industrial Designer"}, "val-1", True),
    ("Davies", ("ambiguous", [{"Suzy Davies"}, {"Don Davies"}]), None, False),
    ("Morgan", ("ambiguous", [{"Eluned Morgan"}, {"Julie Morgan"}]), None, False),
    ("Nobody Atall", None, None, False),
    ("President Nobody", None, None, False),
]


def outcome(call):
    """("person", name), ("ambiguous", candidate names) or ("not found",) of one call."""
    try:
        return ("person", call())
    except RPCError as error:
        if error.code == NOT_FOUND:
            return ("not found",)
        assert error.code == INVALID_PARAMS and "candidates" in error.data, error
        return ("ambiguous", frozenset(error.data["candidates"]))


@pytest.mark.parametrize("form,expected,meeting,in_question", TABLE, ids=[row[0] for row in TABLE])
def test_every_module_answers_the_same_person(pages_daemon, form, expected, meeting, in_question):
    call = pages_daemon.call

    def person():
        answer = call("lookup.person", {"name": form})
        if answer["ambiguous"]:
            raise RPCError({"code": INVALID_PARAMS, "message": "ambiguous",
                            "data": {"candidates": [c["name"] for c in answer["candidates"]]}})
        return answer["name"]

    outcomes = {
        "lookup.person": outcome(person),
        "lookup.meetings": outcome(lambda: call("lookup.meetings", {"participant": form})["participant"]),
        "search.query": outcome(lambda: call("search.query", {"q": "budget", "speaker": form})["interpreted"]["speaker"]),
        "summarise.corpus": outcome(lambda: call("summarise.corpus", {"q": "budget", "speaker": form}) and form),
    }
    # summarise.corpus gives no name back: it must only agree on found, ambiguous or not found.
    if outcomes["summarise.corpus"][0] == "person":
        outcomes["summarise.corpus"] = outcomes["lookup.person"]

    if expected is None:
        assert set(outcomes.values()) == {("not found",)}, outcomes
    elif isinstance(expected, tuple):
        assert len(set(outcomes.values())) == 1, outcomes
        kind, candidates = outcomes["lookup.person"]
        assert kind == "ambiguous" and len(candidates) == len(expected[1]), outcomes
        assert all(any(name in spellings for name in candidates) for spellings in expected[1]), outcomes
        if meeting:
            # Within a meeting where one of them takes part, the form is that one.
            here = call("search.query", {"q": "budget", "meeting": meeting, "speaker": form})["interpreted"]["speaker"]
            assert here in candidates, here
    else:
        assert len(set(outcomes.values())) == 1, outcomes
        kind, name = outcomes["lookup.person"]
        assert kind == "person" and name in expected, outcomes
        if meeting:
            # Within a meeting where the person speaks, summarise gives their words alone.
            result = call("summarise.meeting", {"meeting": meeting, "speaker": form, "max_words": 40})
            assert result["sentences"] and {s["speaker"] for s in result["sentences"]} == {name}, result
            # And search finds their turns by a word they said.
            said = max(result["sentences"][0]["text"].split(), key=len).strip(".,!?;:«»\"")
            hits = call("search.query", {"q": said, "meeting": meeting, "speaker": form})
            assert hits["hits"] and {hit["speaker"] for hit in hits["hits"]} == {name}, hits
        if in_question:
            asked = call("search.query", {"q": f"What did {form} say about the budget?"})
            assert asked["interpreted"].get("favoured_speakers") == [name], asked["interpreted"]


def test_a_person_who_does_not_speak_in_the_meeting_is_named_in_the_error(pages_daemon):
    with pytest.raises(RPCError) as error:
        pages_daemon.call("summarise.meeting", {"meeting": "val-1", "speaker": "President Putin"})
    assert error.value.code == NOT_FOUND and error.value.data["person"] in PUTIN


def test_a_name_several_people_share_is_one_person_within_a_meeting(pages_daemon):
    # Two Davies in the corpus; within a meeting where one of them takes part, the name is that one.
    answer = pages_daemon.call("lookup.person", {"name": "Davies"})
    assert answer["ambiguous"]
    for candidate in answer["candidates"]:
        meetings = pages_daemon.call("lookup.meetings", {"participant": candidate["name"]})["meetings"]
        meeting = meetings[0]["id"]
        hits = pages_daemon.call("search.query", {"q": "the", "meeting": meeting, "speaker": "Davies"})
        assert hits["interpreted"]["speaker"] == candidate["name"]


def test_russian_pages_are_searched_by_word_form_and_summarised(pages_daemon):
    call = pages_daemon.call
    # FTS5 stays the index until ours replaces it: Russian words are found as written.
    hits = call("search.query", {"q": "вакцины"})
    assert [hit["meeting"] for hit in hits["hits"]] == ["ru_cis_council"]
    hits = call("search.query", {"q": "транспортные коридоры", "meeting": "ru_talks_with_press"})
    assert hits["hits"] and hits["hits"][0]["speaker"] in SAVELYEV | PUTIN
    meeting = call("lookup.meeting", {"id": "ru_cis_council"})
    assert meeting["title"] == "Заседание Совета глав государств СНГ" and meeting["date"] == "2020-12-18"
    # The summary is made with the Russian stemmer and stop words: sentences with content, cited.
    summary = call("summarise.meeting", {"meeting": "ru_cis_council", "max_words": 60})
    assert summary["sentences"], summary
    text = call("lookup.turns", {"meeting": "ru_cis_council"})["turns"]
    for sentence in summary["sentences"]:
        cited = "\n".join(text[sentence["turn"]]["paragraphs"])[sentence["start"]:sentence["end"]]
        assert all(word in cited for word in sentence["text"].split() if len(word) > 3), (sentence, cited)
    focused = call("summarise.meeting", {"meeting": "ru_cis_council", "query": "Что говорили о Нагорном Карабахе?",
                                         "max_words": 40})
    assert any("Карабах" in sentence["text"] for sentence in focused["sentences"]), focused


def test_speaker_in_the_query_language_means_a_person_too(pages_daemon):
    hits = pages_daemon.call("search.query", {"q": 'vaccines speaker:"President Putin"'})
    assert hits["hits"] and {hit["speaker"] for hit in hits["hits"]} <= PUTIN
    assert hits["interpreted"]["speakers"][0] in PUTIN
    with pytest.raises(RPCError) as error:
        pages_daemon.call("search.query", {"q": "budget speaker:Davies"})
    assert error.value.code == INVALID_PARAMS and set(error.value.data["candidates"]) == {"Suzy Davies", "Don Davies"}
    with pytest.raises(RPCError) as error:
        pages_daemon.call("search.query", {"q": "budget speaker:Nobody"})
    assert error.value.code == NOT_FOUND
