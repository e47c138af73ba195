#!/usr/bin/env python3
"""summarise.meeting against sumy's LexRank, in the same run: time on meetings of about
1k, 10k and 30k words, and ROUGE on the QMSum validation split.

    swift build -c release --scratch-path .build-release --product meetingd
    swift build -c release --scratch-path .build-release --product summarise
    python3 Benchmarks/summarise/bench.py      # installs sumy and rouge-score with pip if missing

meetingd is timed through the daemon (one worker, round trip over ZeroMQ): "cold" is a
meeting not analysed yet by that worker (its cache of recent meetings evicted first),
"warm" a repeat. sumy is timed on the same sentences (the corpus's sentence spans, marks
stripped), asked for 5 sentences, in-process and so with no transport cost. ROUGE for
sumy takes its LexRank order within 100 words, whole sentences only, for every query
(sumy has no query focus); meetingd's is evaluate.py's.
"""
import importlib
import json
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VAL = ROOT.parent / "shared" / "qmsum" / "val.jsonl"
MEETINGD = ROOT / ".build-release" / "release" / "meetingd"
MARK = re.compile(r"\{(disfmarker|vocalsound|pause|comment|gap|nonvocalsound)\}")
SIZES = (1_000, 10_000, 30_000)


def ensure(module, package):
    try:
        importlib.import_module(module)
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)


ensure("sumy", "sumy")
ensure("rouge_score", "rouge-score")
sys.path.insert(0, str(HERE))
from evaluate import Client, Daemon, sentences as one_per_line  # noqa: E402
from rouge_score import rouge_scorer  # noqa: E402
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence  # noqa: E402
from sumy.nlp.stemmers import Stemmer  # noqa: E402
from sumy.summarizers.lex_rank import LexRankSummarizer  # noqa: E402
from sumy.utils import get_stop_words  # noqa: E402


class WordTokenizer:
    """Sentences come from the corpus; sumy only needs words."""
    language = "english"

    def to_words(self, sentence):
        return re.findall(r"[A-Za-z0-9']+", sentence)


def sized_meetings(lines):
    """QMSum meetings cut or joined to about each size in words, as QMSum lines."""
    turns = [turn for line in lines for turn in json.loads(line)["meeting_transcripts"]]
    result = []
    for size in SIZES:
        chosen, words = [], 0
        for turn in turns:
            if words >= size:
                break
            chosen.append(turn)
            words += len(MARK.sub("", turn["content"]).split())
        result.append({"meeting_transcripts": chosen, "words": words})
    return result


def corpus_sentences(corpus, meeting):
    """The meeting's sentences as the corpus splits them, marks stripped (what sumy is given)."""
    with sqlite3.connect(f"file:{corpus}?mode=ro", uri=True) as db:
        first, count = db.execute("SELECT first_turn, turns FROM meeting WHERE id = ?", (meeting,)).fetchone()
        rows = db.execute("SELECT text, sentences FROM turn WHERE id BETWEEN ? AND ? ORDER BY id",
                          (first, first + count - 1)).fetchall()
    result = []
    for text, encoded in rows:
        end, values, shift, value = 0, [], 0, 0
        for byte in encoded:  # TranscriptText.encodeSentences: LEB128 (gap, length) pairs
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                values.append(value)
                value, shift = 0, 0
        for gap, length in zip(values[::2], values[1::2]):
            start = end + gap
            end = start + length
            sentence = " ".join(MARK.sub("", text[start:end]).split())
            if sentence:
                result.append(sentence)
    return result


def lexrank(sentence_texts, count):
    summarizer = LexRankSummarizer(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    document = ObjectDocumentModel([Paragraph([Sentence(s, WordTokenizer()) for s in sentence_texts])])
    return [str(s) for s in summarizer(document, count)]


def lexrank_within(sentence_texts, budget):
    """LexRank's ranking, whole sentences in rank order while they fit, then in transcript order."""
    ranked = lexrank(sentence_texts, len(sentence_texts))
    chosen, words = [], 0
    position = {s: i for i, s in enumerate(sentence_texts)}
    for sentence in ranked:
        n = len(re.findall(r"[A-Za-z0-9]+", sentence))
        if words + n <= budget:
            chosen.append(sentence)
            words += n
    return " ".join(sorted(chosen, key=position.get))


def timed(call, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main():
    lines = VAL.read_text().splitlines()
    work = Path(tempfile.mkdtemp(prefix="meetingd-bench-"))
    sized = work / "sized.jsonl"
    meetings = sized_meetings(lines)
    sized.write_text("".join(json.dumps({"meeting_transcripts": m["meeting_transcripts"]}) + "\n" for m in meetings))
    daemon = Daemon(MEETINGD, VAL, sized)
    try:
        client = Client(daemon.endpoint)
        client.wait_ready()
        others = [f"val-{i}" for i in range(9)]

        def cold(params):
            for other in others:  # evict the worker's recent meetings
                client.call("summarise.meeting", {"meeting": other, "max_words": 10})
            started = time.perf_counter()
            client.call("summarise.meeting", params)
            return (time.perf_counter() - started) * 1000

        print("time per summary, ms (median)")
        print(f"{'words':>7}{'meetingd cold':>15}{'warm':>8}{'query cold':>12}{'warm':>8}{'sumy LexRank':>14}{'ratio cold':>12}{'ratio warm':>12}")
        for index, meeting in enumerate(meetings):
            id = f"sized-{index}"
            whole = {"meeting": id, "max_words": 100}
            asked = {"meeting": id, "max_words": 100, "query": "What did the group decide about the remote control's buttons?"}
            whole_cold = statistics.median(cold(whole) for _ in range(3))
            whole_warm = timed(lambda: client.call("summarise.meeting", whole), 10)
            query_cold = statistics.median(cold(asked) for _ in range(3))
            query_warm = timed(lambda: client.call("summarise.meeting", asked), 10)
            texts = corpus_sentences(daemon.corpus, id)
            sumy_ms = timed(lambda: lexrank(texts, 5), 3 if meeting["words"] < 20_000 else 1)
            print(f"{meeting['words']:>7}{whole_cold:>15.2f}{whole_warm:>8.2f}{query_cold:>12.2f}{query_warm:>8.2f}"
                  f"{sumy_ms:>14.1f}{sumy_ms / whole_cold:>11.0f}x{sumy_ms / whole_warm:>11.0f}x")

        scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
        ours, theirs, sumy_times = [], [], []
        for number, line in enumerate(lines):
            qmsum = json.loads(line)
            id = f"val-{number}"
            started = time.perf_counter()
            baseline = lexrank_within(corpus_sentences(daemon.corpus, id), 100)
            sumy_times.append((time.perf_counter() - started) * 1000)
            for query in qmsum["general_query_list"] + qmsum["specific_query_list"]:
                reference = one_per_line(query["answer"])
                summary = client.call("summarise.meeting", {"meeting": id, "query": query["query"], "max_words": 100})["summary"]
                ours.append(scorer.score(reference, one_per_line(summary)))
                theirs.append(scorer.score(reference, one_per_line(baseline)))
        print(f"\nQMSum val, {len(ours)} queries, 100 words: ROUGE-1/2/Lsum F1")
        for name, scores in (("meetingd summarise.meeting", ours), ("sumy LexRank (no query focus)", theirs)):
            figures = "/".join(f"{statistics.mean(s[m].fmeasure for s in scores) * 100:.2f}"
                               for m in ("rouge1", "rouge2", "rougeLsum"))
            print(f"  {name:<32}{figures}")
        print(f"  sumy LexRank per val meeting: mean {statistics.mean(sumy_times):.0f} ms, max {max(sumy_times):.0f} ms")
    finally:
        daemon.stop()


if __name__ == "__main__":
    main()
