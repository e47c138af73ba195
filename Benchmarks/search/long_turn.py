#!/usr/bin/env python3
"""Long-turn benchmark (issue 14, not a test): how the time of search.query and
summarise.meeting grows with the length of one matching turn.

Meetings of one turn each, of 10,000, 20,000, 40,000 and 80,000 words (the same
sentence over and over, so every sentence matches), are ingested into one corpus
and served by one daemon; each request is timed (median of --rounds) on each
meeting and printed with its ratio to the 10,000-word turn of the same run: work
linear in the turn doubles with each row (2, 4, 8), quadratic work quadruples
(4, 16, 64).

usage: long_turn.py [--meetingd .build/debug/meetingd] [--rounds 3]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "Tests" / "python"))

SIZES = [10_000, 20_000, 40_000, 80_000]
SENTENCE = "The word of the day is spoken here."
REQUESTS = [
    ("search.query", {"q": "word"}),                      # the index, IndexSnippet
    ("search.query", {"q": '"word of"'}),                 # a phrase, marked as one span
    ("search.query", {"q": '"word of"', "unit": "sentence"}),
    ("summarise.meeting", {}),
]


def meeting(words):
    text = " ".join([SENTENCE] * (words // len(SENTENCE.split())))
    return {"id": f"turn-{words}", "title": f"One turn of {words} words", "date": "2024-01-01",
            "turns": [{"index": 0, "speaker": "Long Talker", "paragraphs": [text]}]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetingd", default=str(HERE.parent.parent / ".build/debug/meetingd"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["MEETINGD_BIN"] = args.meetingd
    from meetingd_client import CorpusDaemon  # reads MEETINGD_BIN

    directory = Path(tempfile.mkdtemp(prefix="meetingd-long-turn-"))
    for words in SIZES:
        (directory / f"turn-{words}.json").write_text(json.dumps(meeting(words)))
    corpus = directory / "corpus.sqlite"
    subprocess.run([args.meetingd, "ingest", "--corpus", str(corpus), *map(str, sorted(directory.glob("*.json")))],
                   check=True, capture_output=True)
    # A budget no request reaches, so that each is timed to its end.
    daemon = CorpusDaemon([], corpus=corpus, workers=1, extra_config="limits: {max_running_ms: 3600000}\n")
    try:
        print(f"{'request':52} {'words':>7} {'ms':>9} {'ratio':>6}")
        for method, params in REQUESTS:
            baseline = None
            for words in SIZES:
                call = dict(params, meeting=f"turn-{words}")
                times = []
                for _ in range(args.rounds):
                    started = time.monotonic()
                    daemon.call(method, call, timeout_ms=3_600_000)
                    times.append((time.monotonic() - started) * 1000)
                median = statistics.median(times)
                baseline = baseline or median
                print(f"{method + ' ' + json.dumps(params):52} {words:>7} {median:>9.1f} {median / baseline:>6.1f}")
    finally:
        daemon.stop()


if __name__ == "__main__":
    main()
