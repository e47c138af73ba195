"""The search module through the running daemon, on the seed page and the QMSum validation meetings."""
import pytest

from meetingd_client import RPCError, SEED_ID


def search(daemon, q, **params):
    return daemon.call("search.query", {"q": q, **params})


def all_hits(daemon, q, **params):
    """Every turn hit of q, page by page."""
    hits, offset = [], 0
    while True:
        page = search(daemon, q, limit=100, offset=offset, **params)["hits"]
        hits += page
        if len(page) < 100:
            return hits
        offset += 100


def marked_words(snippet, open_="[", close="]"):
    words, rest = [], snippet
    while open_ in rest:
        rest = rest.split(open_, 1)[1]
        word, rest = rest.split(close, 1)
        words.append(word.lower())
    return words


# The seed page

def test_sputnik_v_finds_putins_turn(corpus_daemon):
    result = search(corpus_daemon, "Sputnik V")
    assert result["total"] >= 1 and isinstance(result["took_ms"], float)
    hit = result["hits"][0]
    assert (hit["meeting"], hit["turn"], hit["speaker"]) == (SEED_ID, 0, "Vladimir Putin")
    assert hit["title"] == "Meeting of CIS Heads of State Council" and hit["date"] == "2020-12-18"
    assert "[Sputnik] [V]" in hit["snippet"]


@pytest.mark.parametrize("chrome", ["Font size", "Print version", "Text version"])
def test_site_chrome_is_not_indexed(corpus_daemon, chrome):
    assert search(corpus_daemon, chrome, meeting=SEED_ID)["hits"] == []
    assert all(hit["meeting"] != SEED_ID for hit in search(corpus_daemon, chrome)["hits"])


# The query language

def test_words_are_stemmed(corpus_daemon):
    hits = all_hits(corpus_daemon, "vaccines")
    forms = {word for hit in hits for word in marked_words(hit["snippet"])}
    assert {"vaccinated", "vaccines"} <= forms or len(forms) > 1


def test_all_words_must_match(corpus_daemon):
    both = search(corpus_daemon, "remote battery")["total"]
    assert 0 < both < min(search(corpus_daemon, "remote")["total"], search(corpus_daemon, "battery")["total"])
    for hit in search(corpus_daemon, "remote battery", limit=20)["hits"]:
        words = marked_words(hit["snippet"])
        assert any(w.startswith("remote") for w in words) or any(w.startswith("batter") for w in words)


def test_phrase_is_exact(corpus_daemon):
    phrase = search(corpus_daemon, '"remote control"', limit=20)
    assert 0 < phrase["total"] < search(corpus_daemon, "remote control")["total"]
    # A phrase is marked as one span; its words are stemmed like any ("remote controls").
    assert all(any(w.startswith("remote control") for w in marked_words(hit["snippet"])) for hit in phrase["hits"])


@pytest.mark.parametrize("unit", ["turn", "sentence", "meeting"])
def test_a_phrase_is_one_span_in_every_unit(corpus_daemon, unit):
    hits = search(corpus_daemon, '"remote control"', unit=unit, limit=20, markers={"open": "<b>", "close": "</b>"})["hits"]
    assert hits
    for hit in hits:
        words = marked_words(hit["snippet"], "<b>", "</b>")
        assert any(w.startswith("remote control") for w in words) and "</b> <b>" not in hit["snippet"], hit["snippet"]


def test_prefix(corpus_daemon):
    prefix = search(corpus_daemon, "vaccin*", limit=100)
    assert prefix["total"] >= search(corpus_daemon, "vaccines")["total"]
    words = {w for hit in prefix["hits"] for w in marked_words(hit["snippet"])}
    assert words and all(w.startswith("vaccin") for w in words)


def test_or(corpus_daemon):
    a, b = search(corpus_daemon, "titanium")["total"], search(corpus_daemon, "kinetic")["total"]
    either = search(corpus_daemon, "titanium OR kinetic")["total"]
    both = search(corpus_daemon, "titanium kinetic")["total"]
    assert a > 0 and b > 0 and either == a + b - both


def test_exclusion(corpus_daemon):
    remote, with_control = search(corpus_daemon, "remote")["total"], search(corpus_daemon, "remote control")["total"]
    without = search(corpus_daemon, "remote -control", limit=50)
    assert without["total"] == remote - with_control > 0
    assert all("control" not in hit["snippet"].lower() for hit in without["hits"])


def test_every_keyword_counts_in_the_index(corpus_daemon):
    # The index weighs a grammar word by its rarity instead of leaving it out.
    result = search(corpus_daemon, "the titanium")
    assert result["interpreted"]["words"] == ["the", "titanium"] and "ignored" not in result["interpreted"]
    titanium = search(corpus_daemon, "titanium")["total"]
    assert 0 < result["total"] < titanium


def test_repeated_words_are_searched_once(corpus_daemon):
    result = search(corpus_daemon, "titanium titanium OR titanium " + "kinetic OR " * 50 + "kinetic")
    assert result["interpreted"]["words"] == ["titanium", "kinetic"]
    assert result["total"] == search(corpus_daemon, "titanium kinetic")["total"]


def test_request_is_read_as_its_topic(corpus_daemon):
    result = search(corpus_daemon, "Summarize the discussion about the titanium case.", meeting="val-20")
    assert result["interpreted"]["as"] == "request"
    assert "titanium" in result["interpreted"]["words"] and "summarize" not in result["interpreted"]["words"]
    assert result["hits"] and "[titanium]" in result["hits"][0]["snippet"].lower()



def test_request_naming_a_speaker_by_letter_favours_that_speaker(corpus_daemon):
    # val-10's speakers are Professor C, Grad A, B, D, E and F.
    asked = search(corpus_daemon, "What did C think about setting up the recording equipment?", meeting="val-10")
    assert asked["interpreted"]["favoured_speakers"] == ["Professor C"]
    assert "c" not in asked["interpreted"]["words"] and "equipment" in asked["interpreted"]["words"]
    # Their best turn rises to the top 3, from below it when nobody is named.
    unnamed = search(corpus_daemon, "What did they think about setting up the recording equipment?", meeting="val-10")
    def first_by_c(result):
        return [hit["speaker"] for hit in result["hits"]].index("Professor C")
    assert first_by_c(asked) < min(3, first_by_c(unnamed)), (asked["hits"], unnamed["hits"])
    # "Grad E" names Grad E alone, though "Grad" is in Grad A's name too.
    grad = search(corpus_daemon, "What did Grad E contribute to the discussion on storage disks?", meeting="val-16")
    assert grad["interpreted"]["favoured_speakers"] == ["Grad E"]
    # A surname names the one person holding it: his two labels are one person, stored under the plain name.
    bains = search(corpus_daemon, "What did Bains say about business loans?", meeting="val-31")
    assert bains["interpreted"]["favoured_speakers"] == ["Navdeep Bains"]
    assert "bains" not in bains["interpreted"]["words"]
    # A role in brackets names by its whole phrase, with its repeated "the", and "of the" names nobody:
    # val-31 has "Hon. Andrew Scheer (Leader of the Opposition)" and "Hon. Pablo Rodriguez (Leader of the
    # Government in the House of Commons)".
    leader = search(corpus_daemon, "What did the Leader of the Opposition say about the debt?", meeting="val-31")
    assert leader["interpreted"]["favoured_speakers"] == ["Andrew Scheer"]
    assert leader["interpreted"]["words"] == ["debt"]
    # Written small, "a" is an article, not Grad A.
    small = search(corpus_daemon, "What did a student think about the recording equipment?", meeting="val-10")
    assert "favoured_speakers" not in small["interpreted"]



def test_request_naming_a_speaker_ranks_their_turns_without_the_topic_words(corpus_daemon):
    # In val-3 the Industrial Designer presents the remote's insides (turns 55-61) without
    # saying "structure" or "device".
    q = "What did Industrial Designer say about the structure of the device?"
    result = search(corpus_daemon, q, meeting="val-3", limit=10)
    unmarked = [hit for hit in result["hits"] if "[" not in hit["snippet"]]
    assert unmarked and {hit["speaker"] for hit in unmarked} == {"Industrial Designer"}
    assert any(55 <= hit["turn"] <= 61 for hit in unmarked)
    assert all(hit["snippet"] and hit["meeting"] == "val-3" for hit in result["hits"])
    scores = [hit["score"] for hit in result["hits"]]
    assert scores == sorted(scores, reverse=True)
    # Keywords, and requests across the corpus, return matching turns only.
    for hit in search(corpus_daemon, "structure device", meeting="val-3", limit=100)["hits"]:
        assert "[" in hit["snippet"]
    for hit in search(corpus_daemon, q, limit=100)["hits"]:
        assert "[" in hit["snippet"]
    # A topic the meeting never mentions: the speaker's turns alone, and the answer says so.
    absent = search(corpus_daemon, "What did the Industrial Designer say about zeppelins?", meeting="val-3")
    assert absent["interpreted"]["unmatched"] == ["zeppelins"] and "corrected" not in absent
    assert absent["hits"] and {hit["speaker"] for hit in absent["hits"]} == {"Industrial Designer"}
    assert "unmatched" not in result["interpreted"]
    # A misspelt topic is still corrected, though the speaker's turns would rank.
    typo = search(corpus_daemon, "What did Industrial Designer say about the batery?", meeting="val-3")
    assert typo["corrected"]["words"] == [{"from": "batery", "to": "battery"}]



def test_request_across_the_corpus_favours_the_person_it_names(corpus_daemon):
    putin = search(corpus_daemon, "What did Putin say about vaccines?")
    assert putin["interpreted"]["favoured_speakers"] == ["Vladimir Putin"]
    assert putin["interpreted"]["words"] == ["vaccines"]
    assert putin["hits"][0]["speaker"] == "Vladimir Putin" and putin["hits"][0]["meeting"] == SEED_ID
    # "Kirsty Williams AM" is found by her plain name; the hits still match the topic.
    kirsty = search(corpus_daemon, "What did Kirsty Williams say about university mergers?")
    assert kirsty["interpreted"]["favoured_speakers"] == ["Kirsty Williams"]
    assert kirsty["hits"][0]["speaker"] == "Kirsty Williams"
    assert all("[" in hit["snippet"] or hit["speaker"] == "Kirsty Williams AM" for hit in kirsty["hits"])
    # Only the meeting param ranks a speaker's turns without a match, not a date that keeps one meeting.
    dated = search(corpus_daemon, "What did Putin say about zeppelins?", **{"from": "2020-12-18", "to": "2020-12-18"})
    assert dated["interpreted"]["favoured_speakers"] == ["Vladimir Putin"] and dated["hits"] == []
    # A word that is nobody's name favours nobody.
    assert "favoured_speakers" not in search(corpus_daemon, "What was said about the battery life?")["interpreted"]



def test_request_within_a_meeting_favours_the_section_its_topic_names(corpus_daemon):
    # val-0's agenda (QMSum's topic list) ends with "Recordings and transcriptions", turns 701-880.
    q = "What's the current status of recordings and transcriptions?"
    within = search(corpus_daemon, q, meeting="val-0")
    assert within["interpreted"]["favoured_sections"] == ["Recordings and transcriptions"]
    assert all(701 <= hit["turn"] <= 880 for hit in within["hits"][:3])
    assert within["hits"][0]["section"] == "Recordings and transcriptions"
    # Every hit says which section it is in, null where the meeting has none.
    assert search(corpus_daemon, "Sputnik")["hits"][0]["section"] == "Speech at the Meeting of the CIS Heads of State Council"
    assert "favoured_sections" not in search(corpus_daemon, q)["interpreted"]
    # Keywords are ranked as written, sections or not.
    assert "favoured_sections" not in search(corpus_daemon, "recordings transcriptions", meeting="val-0")["interpreted"]


# Filters

def test_meeting_filter(corpus_daemon):
    hits = all_hits(corpus_daemon, "remote", meeting="val-3")
    assert hits and {hit["meeting"] for hit in hits} == {"val-3"}
    assert len(hits) < search(corpus_daemon, "remote")["total"]


def test_unknown_meeting_is_not_found(corpus_daemon):
    with pytest.raises(RPCError) as error:
        search(corpus_daemon, "remote", meeting="no-such-meeting")
    assert error.value.code == -32004 and error.value.data == {"kind": "meeting", "id": "no-such-meeting"}


def test_speaker_filter_and_shorthand(corpus_daemon):
    by_param = all_hits(corpus_daemon, "battery", speaker="Industrial Designer")
    assert by_param and {hit["speaker"] for hit in by_param} == {"Industrial Designer"}
    by_syntax = all_hits(corpus_daemon, 'battery speaker:"Industrial Designer"')
    assert [(h["meeting"], h["turn"]) for h in by_syntax] == [(h["meeting"], h["turn"]) for h in by_param]
    putin = search(corpus_daemon, "vaccines speaker:Putin")["hits"]
    assert putin and {hit["speaker"] for hit in putin} == {"Vladimir Putin"}


def test_date_filters(corpus_daemon):
    assert {h["meeting"] for h in search(corpus_daemon, "vaccines", **{"from": "2020-12-01"})["hits"]} == {SEED_ID}
    assert {h["meeting"] for h in search(corpus_daemon, "vaccines", to="2020")["hits"]} == {SEED_ID}
    assert search(corpus_daemon, "vaccines", to="2020-12-17")["hits"] == []
    assert search(corpus_daemon, "vaccines", **{"from": "2021"})["hits"] == []


def test_place_filter(corpus_daemon):
    assert {h["meeting"] for h in search(corpus_daemon, "vaccines", place="ogaryovo")["hits"]} == {SEED_ID}
    assert search(corpus_daemon, "vaccines", place="Geneva")["hits"] == []


def test_bad_date_is_invalid_params(corpus_daemon):
    with pytest.raises(RPCError) as error:
        search(corpus_daemon, "vaccines", **{"from": "last week"})
    assert error.value.code == -32602 and error.value.data["field"] == "from"


# Pagination, highlights, units

def test_pagination(corpus_daemon):
    whole = search(corpus_daemon, "battery", limit=10)["hits"]
    pages = search(corpus_daemon, "battery", limit=5)["hits"] + search(corpus_daemon, "battery", limit=5, offset=5)["hits"]
    assert len(whole) == 10 and pages == whole
    scores = [hit["score"] for hit in whole]
    assert scores == sorted(scores, reverse=True)
    assert search(corpus_daemon, "battery", offset=10000)["hits"] == []


def test_custom_markers(corpus_daemon):
    hit = search(corpus_daemon, "Sputnik", markers={"open": "<b>", "close": "</b>"})["hits"][0]
    assert "<b>Sputnik</b>" in hit["snippet"] and "[" not in hit["snippet"]


def test_grouping_by_meeting(corpus_daemon):
    turns = all_hits(corpus_daemon, "titanium")
    result = search(corpus_daemon, "titanium", unit="meeting", limit=100)
    meetings = [hit["meeting"] for hit in result["hits"]]
    assert len(meetings) == len(set(meetings)) == result["total"] == len({h["meeting"] for h in turns}) > 1
    for hit in result["hits"]:
        assert hit["matches"] == sum(1 for t in turns if t["meeting"] == hit["meeting"])
        assert 1 <= len(hit["passages"]) <= 3 and "[titanium]" in hit["passages"][0]["snippet"].lower()
    assert [hit["score"] for hit in result["hits"]] == sorted((hit["score"] for hit in result["hits"]), reverse=True)


def test_sentence_unit(corpus_daemon):
    hits = search(corpus_daemon, "Sputnik", unit="sentence")["hits"]
    assert hits[0]["meeting"] == SEED_ID and isinstance(hits[0]["sentence"], int)
    assert hits[0]["snippet"].startswith("I am referring to the [Sputnik] V")


# Typos and suggestions

def test_typo_is_corrected(corpus_daemon):
    result = search(corpus_daemon, "Sputnk")
    assert result["corrected"]["words"] == [{"from": "Sputnk", "to": "Sputnik"}]
    assert result["corrected"]["q"] == "Sputnik"
    assert result["hits"][0]["speaker"] == "Vladimir Putin" and "[Sputnik]" in result["hits"][0]["snippet"]


def test_correct_words_are_left_alone(corpus_daemon):
    assert "corrected" not in search(corpus_daemon, "Sputnik")
    rare = search(corpus_daemon, "EpiVacCorona")
    assert "corrected" not in rare and rare["hits"][0]["meeting"] == SEED_ID


def test_suggest_completes_words_and_speakers(corpus_daemon):
    words = corpus_daemon.call("search.suggest", {"q": "Sputn"})
    assert "sputnik" in words["completions"] and "did_you_mean" not in words
    speakers = corpus_daemon.call("search.suggest", {"q": "vaccines by Vlad"})
    assert "Vladimir Putin" in speakers["speakers"]


def test_suggest_did_you_mean(corpus_daemon):
    assert corpus_daemon.call("search.suggest", {"q": "Sputnk vaccines "})["did_you_mean"] == "Sputnik vaccines "


# More like this

def test_similar_passages(corpus_daemon):
    source = search(corpus_daemon, "titanium rubber")["hits"][0]
    result = corpus_daemon.call("search.similar", {"meeting": source["meeting"], "turn": source["turn"], "limit": 5})
    assert result["terms"] and len(result["hits"]) == 5
    assert all(hit["meeting"] != source["meeting"] for hit in result["hits"])
    assert all(marked_words(hit["snippet"]) for hit in result["hits"])
    same = corpus_daemon.call("search.similar", {"meeting": source["meeting"], "turn": source["turn"], "same_meeting": True})
    assert all((h["meeting"], h["turn"]) != (source["meeting"], source["turn"]) for h in same["hits"])


def test_similar_unknown_turn(corpus_daemon):
    with pytest.raises(RPCError) as error:
        corpus_daemon.call("search.similar", {"meeting": SEED_ID, "turn": 5})
    assert error.value.code == -32004 and error.value.data["kind"] == "turn"


# Hostile queries: a clear error or a sensible result, and the daemon serves on

@pytest.mark.parametrize("q, position", [
    ('"unbalanced quote', 1), ('remote "control', 8), ("OR", 1), ("remote OR", 8), ("OR remote", 1),
    ("remote OR OR battery", 11), ("-", 1), ("remote - battery", 8), ("-remote", 1), ('""', 1),
    ("speaker:", 1), ("*", 1), ("(((", 1), ("th*", 1), ("remote ba*", 8), ('"remote co"*', 1),
])
def test_bad_syntax_is_invalid_params_with_position(corpus_daemon, q, position):
    with pytest.raises(RPCError) as error:
        search(corpus_daemon, q)
    assert error.value.code == -32602
    assert error.value.data["field"] == "q" and error.value.data["position"] == position and error.value.data["hint"]
    assert corpus_daemon.alive()


@pytest.mark.parametrize("q", [
    "NEAR(", "NEAR(remote battery, 2)", "remote AND battery", "remote NOT battery", "{text}: remote", "^remote",
    "remote)", "col:remote", "'; DROP TABLE turn; --", "\"remote\"*", "a*b*c", "ñandú Zürich café",
    "Sputnik\x01 \x1b[31mV\u202e", "🚀 remote",
])
def test_fts5_syntax_is_never_read_from_the_query(corpus_daemon, q):
    result = search(corpus_daemon, q)
    assert isinstance(result["hits"], list)
    assert corpus_daemon.alive()


def test_control_characters_are_spaces(corpus_daemon):
    hit = search(corpus_daemon, "Sputnik\x07\x1f V")["hits"][0]
    assert hit["speaker"] == "Vladimir Putin"


def test_huge_query_is_refused(corpus_daemon):
    with pytest.raises(RPCError) as error:
        search(corpus_daemon, "remote " * 1500)
    assert error.value.code == -32602 and error.value.data["field"] == "q"
    assert corpus_daemon.alive()


def test_long_query_within_limit_answers(corpus_daemon):
    result = search(corpus_daemon, " OR ".join(["remote", "battery", "titanium"] * 60))
    assert result["total"] > 0 and corpus_daemon.alive()


def test_methods_are_discoverable(corpus_daemon):
    methods = {m["name"]: m for m in corpus_daemon.call("rpc.discover")["methods"]}
    assert {"search.query", "search.suggest", "search.similar"} <= methods.keys()


# Module settings: the ranking budget and the default markers

def serve_with_search_settings(corpus, directory, settings):
    """A daemon on `corpus` whose search module has `settings` (YAML); its stderr goes to
    `daemon.log_path`. Raises when it exits or does not answer."""
    import subprocess
    import time
    from meetingd_client import CorpusDaemon, MEETINGD, free_port
    daemon = object.__new__(CorpusDaemon)
    daemon.endpoint = f"tcp://127.0.0.1:{free_port()}"
    config = directory / "meetingd.yaml"
    config.write_text(f"endpoints: [{daemon.endpoint}]\nworkers: 1\ncorpus: {corpus}\n"
                      f"module_dirs: [{MEETINGD.parent}]\nmodules:\n  search: {{settings: {settings}}}\n")
    daemon.log_path = directory / "meetingd.stderr"
    with open(daemon.log_path, "w") as log:
        daemon.process = subprocess.Popen([str(MEETINGD), "serve", "--config", str(config)], stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and daemon.process.poll() is None:
        try:
            if daemon.call("meetingd.ping", timeout_ms=500) == "pong":
                return daemon
        except TimeoutError:
            pass
    daemon.process.kill()
    daemon.process.wait(timeout=20)
    raise RuntimeError(f"meetingd did not serve:\n{daemon.log_path.read_text()}")


def stop(daemon):
    daemon.process.terminate()
    daemon.process.wait(timeout=20)


@pytest.fixture(scope="module")
def budget_daemon(corpus_daemon, tmp_path_factory):
    """A second daemon on the same corpus file, rescoring at most 100 turns per request."""
    daemon = serve_with_search_settings(corpus_daemon.corpus, tmp_path_factory.mktemp("budget"),
                                        "{ranking_budget: 100, markers: {open: '<<', close: '>>'}}")
    yield daemon
    stop(daemon)


def test_ranking_budget_bounds_a_request_across_the_corpus(budget_daemon, corpus_daemon):
    # The index's exact BM25 ranking of the word (test_index.py checks it against brute force):
    # the budget rescores its best 100 turns, not the newest.
    best = search(corpus_daemon, "remote", limit=100)
    assert best["total"] > 100 and best["total_exact"]
    budgeted = search(budget_daemon, "What was said about the remote?", limit=20)
    assert budgeted["interpreted"] == {"as": "request", "words": ["remote"]}
    assert budgeted["total"] == best["total"] and budgeted["total_exact"] is False and len(budgeted["hits"]) == 20
    assert {(h["meeting"], h["turn"]) for h in budgeted["hits"]} <= {(h["meeting"], h["turn"]) for h in best["hits"]}
    assert [h["score"] for h in budgeted["hits"]] == sorted((h["score"] for h in budgeted["hits"]), reverse=True)
    # With the default budget every match is rescored.
    assert search(corpus_daemon, "What was said about the remote?")["total_exact"] is True
    rare = search(budget_daemon, "What was said about titanium?")
    assert rare["total_exact"] is True and rare["total"] == search(corpus_daemon, "titanium")["total"]


def test_the_removed_fts5_engine_setting_is_refused_by_name(corpus_daemon, tmp_path):
    (tmp_path / "fts5").mkdir()
    with pytest.raises(RuntimeError) as refused:
        serve_with_search_settings(corpus_daemon.corpus, tmp_path / "fts5", "{engine: fts5}")
    assert 'modules.search.settings.engine: "fts5" is no longer available' in str(refused.value)
    # `engine: index`, what search always does, is still accepted.
    (tmp_path / "index").mkdir()
    daemon = serve_with_search_settings(corpus_daemon.corpus, tmp_path / "index", "{engine: index}")
    try:
        assert search(daemon, "titanium")["total"] == search(corpus_daemon, "titanium")["total"]
    finally:
        stop(daemon)


def test_markers_setting(budget_daemon):
    assert "<<Sputnik>>" in search(budget_daemon, "Sputnik")["hits"][0]["snippet"]
