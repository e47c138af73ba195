"""Typo correction and completion through the daemon, from the index's term dictionary,
checked against a brute-force search of the same dictionary written here: every term
of the stored turns (the daemon's analyzer's, from `meetingd analyze`), with the turns
holding it, and the rule the README documents (edit distance 1 for words of up to 7
letters, 2 for longer ones with the same first letter; a transposition is one edit; the
closest term, then the one most turns hold, then the first in byte order), over English
and Russian misspellings of the corpus's own words."""
import json
import random
import re
import sqlite3
from collections import defaultdict

import pytest

from test_index import analyze, turns_without_marks

LATIN = "abcdefghijklmnopqrstuvwxyz"
CYRILLIC = "абвгдежзийклмнопрстуфхцчшщъыьэюя"


def distance(a, b, limit):
    """Optimal string alignment distance (neighbours transposed count once), or None past limit."""
    if abs(len(a) - len(b)) > limit:
        return None
    before, previous = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return None
        before, previous = previous, current
    return previous[-1] if previous[-1] <= limit else None


class Dictionary:
    """Every term of the stored turns with the turns holding it, and the words that have them."""

    def __init__(self, corpus):
        with sqlite3.connect(corpus) as db:
            rows = turns_without_marks(db)
        self.turns = defaultdict(set)
        for (turn, _), terms in zip(rows, analyze([text for _, text in rows])):
            for term in terms:
                self.turns[term].add(turn)
        self.words = sorted({word.lower() for _, text in rows for word in re.findall(r"[^\W\d_]+", text)
                             if len(word) >= 4 and set(word.lower()) <= set(LATIN) | set(CYRILLIC)})

    def correction(self, word, term):
        """The term the documented rule picks for a word no turn holds, or None."""
        limit = 1 if len(word) <= 7 else 2
        best = None
        for target in {word, term}:
            for candidate, turns in self.turns.items():
                found = distance(target, candidate, limit)
                if not found or (found == 2 and candidate[0] != target[0]):
                    continue
                key = (found, -len(turns), candidate)
                best = min(best or key, key)
        return best and best[2]


def misspelt(word, generator):
    """The word with one edit, or two for a long word, in its own script's letters."""
    letters = CYRILLIC if word[0] in CYRILLIC else LATIN
    for _ in range(1 if len(word) <= 7 or generator.random() < 0.5 else 2):
        at = generator.randrange(len(word))
        kind = generator.choice(["insert", "delete", "replace", "transpose"])
        if kind == "insert":
            word = word[:at] + generator.choice(letters) + word[at:]
        elif kind == "delete" and len(word) > 4:
            word = word[:at] + word[at + 1:]
        elif kind == "replace":
            word = word[:at] + generator.choice(letters) + word[at + 1:]
        elif at + 1 < len(word):
            word = word[:at] + word[at + 1] + word[at] + word[at + 2:]
    return word


@pytest.fixture(scope="module")
def dictionary(pages_daemon):
    return Dictionary(pages_daemon.corpus)


@pytest.mark.parametrize("script", [LATIN, CYRILLIC], ids=["english", "russian"])
def test_corrections_are_the_closest_most_frequent_terms(pages_daemon, dictionary, script):
    generator = random.Random(7 if script == LATIN else 8)
    words = [word for word in dictionary.words if word[0] in script]
    typos = []
    while len(typos) < 30:
        typo = misspelt(generator.choice(words), generator)
        if typo not in typos:
            typos.append(typo)
    terms = analyze(typos)
    checked = 0
    for typo, typo_terms in zip(typos, terms):
        if len(typo_terms) != 1 or typo_terms[0] in dictionary.turns:
            continue  # a word the corpus holds is not corrected
        expected = dictionary.correction(typo, typo_terms[0])
        result = pages_daemon.call("search.query", {"q": typo})
        suggested = pages_daemon.call("search.suggest", {"q": typo + " "})
        if expected is None:
            assert "corrected" not in result and "did_you_mean" not in suggested, typo
            continue
        (word,) = result["corrected"]["words"]
        assert word["from"] == typo and analyze([word["to"]])[0] == [expected], (typo, word, expected)
        assert result["total"] == len(dictionary.turns[expected]) and result["hits"], typo
        assert suggested["did_you_mean"] == word["to"] + " ", (typo, suggested)
        checked += 1
    assert checked >= 15


def test_completions_are_corpus_words_that_start_so(pages_daemon, dictionary):
    """Completions are the words a prefix search finds, even where their stem is shorter
    than what is typed ("negotiat": "negotiations", whose term is "negoti")."""
    for prefix in ["vacc", "sanct", "negot", "negotiat", "заседа", "заседани", "президен", "содруж"]:
        completions = pages_daemon.call("search.suggest", {"q": prefix, "limit": 5})["completions"]
        assert completions, prefix
        for word in completions:
            (term,) = analyze([word])[0]
            assert word.startswith(prefix) and word != prefix, (prefix, word)
            assert term in dictionary.turns, (prefix, word)


def test_a_misspelt_russian_word_finds_its_meeting(pages_daemon):
    result = pages_daemon.call("search.query", {"q": "Сдружества"})
    (word,) = result["corrected"]["words"]
    assert word["from"] == "Сдружества" and word["to"].startswith("Содружеств"), word
    assert result["hits"] and all("[Содружеств" in hit["snippet"] for hit in result["hits"])


def test_completions_are_written_with_the_accents_the_analyzer_folds(tmp_path):
    """Completions keep what folding takes away (accents, "ё"; case goes), as a live turn
    holding their word writes it: "café", not "cafe". The first turn holding a word's term
    may write another word of it ("Naively" before "naïve"): a later one is read."""
    from meetingd_client import CorpusDaemon
    turns = ["Naively, we met at the cafeteria.", "The Café Müller serves coffee.", "A naïve plan, said the cafe owner.",
             "Ёлки стоят у входа.", "Ёжик под ёлкой."]
    meeting = {"id": "m1", "title": "Accents", "turns": [{"index": index, "speaker": "Ann Lee", "paragraphs": [text]}
                                                          for index, text in enumerate(turns)]}
    source = tmp_path / "accents.jsonl"
    source.write_text(json.dumps(meeting, ensure_ascii=False) + "\n")
    daemon = CorpusDaemon([source])
    try:
        for typed, expected in [("caf", {"café", "cafeteria"}), ("Cafe", {"cafeteria"}), ("naiv", {"naïve", "naively"}),
                                ("mull", {"müller"}), ("елк", {"ёлки", "ёлкой"}), ("Ёжи", {"ёжик"})]:
            completions = daemon.call("search.suggest", {"q": typed, "limit": 20})["completions"]
            assert set(completions) == expected, (typed, completions)
    finally:
        daemon.stop()


def test_written_completions_follow_a_reingested_meeting(tmp_path):
    """Completions' written forms are kept per corpus generation: after the only turn writing
    "café" is ingested again as "cafe", every worker writes the completion as the corpus
    now does, and back again."""
    from test_index import run
    from meetingd_client import CorpusDaemon

    def write(word):
        meeting = {"id": "m1", "title": "Accents", "turns": [
            {"index": 0, "speaker": "Ann Lee", "paragraphs": [f"We met at the {word} near the station."]}]}
        (tmp_path / "meetings").mkdir(exist_ok=True)
        (tmp_path / "meetings" / "m1.json").write_text(json.dumps(meeting, ensure_ascii=False))

    write("café")
    corpus = tmp_path / "corpus.sqlite"
    run("ingest", "--corpus", corpus, tmp_path / "meetings")
    daemon = CorpusDaemon([], corpus=corpus, workers=2)
    try:
        for written in ["café", "cafe", "café"]:
            write(written)
            run("ingest", "--corpus", corpus, tmp_path / "meetings")
            # Each worker in turn, twice: the second answer of each comes from what it kept.
            answers = [daemon.call("search.suggest", {"q": "ca"})["completions"] for _ in range(4)]
            assert answers == [[written]] * 4, (written, answers)
    finally:
        daemon.stop()
