#!/usr/bin/env python3
"""Builds summarise's summary-words table (Plugins/summarise/summary_words.json) from QMSum's training splits.

    swift build --product meetingd && swift build --product summarise
    python3 Benchmarks/summarise/summary_words.py            # academic-train and committee-train, through the daemon
    python3 Benchmarks/summarise/summary_words.py --out /tmp/summary_words.json --min-queries 50

QMSum's answers are written in the third person by annotators: "the" is in most of the answers
whose candidates say it, "you", "my", "gonna", "yeah" in few. A sentence made of words that
answers keep shares more of its words with an answer. For each word, the share of training
queries whose answer says it among the queries whose candidates say it: the sentences the module
chooses among (`summarise.meeting`'s `explain`: the located stretches' sentences for a question,
the whole meeting's for a general one, cleaned), so that the rates are those of the choice the
features serve. Smoothed towards the rate over all words by `--prior` queries; only words said
among the candidates of `--min-queries` queries or more are kept (the others read as the base
rate), so the table holds common words, not one committee's subjects. Words are lower-cased runs
of a-z and 0-9, as the module reads them (ROUGE's tokeniser without its stemming). The candidates
do not depend on the table (it only scores them), so any build gives the same table.
Never built from val or test.
"""
import argparse
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import ROOT, Client, Daemon, explained_queries  # noqa: E402

SPLITS = [ROOT.parent / "shared" / "qmsum" / f"{name}.jsonl" for name in ("academic-train", "committee-train")]


def words(text):
    """Lower-cased runs of a-z and 0-9."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).split()


def table(queries, min_queries, prior):
    """The table from (candidate texts, answer) per query: per word, the smoothed share of the answers that
    keep it among the queries whose candidates say it, for words said by `min_queries` queries or more."""
    said, kept = Counter(), Counter()
    for texts, answer in queries:
        answer = set(words(answer))
        for word in {word for text in texts for word in words(text)}:
            said[word] += 1
            kept[word] += word in answer
    base = sum(kept.values()) / sum(said.values())
    return base, {word: round((kept[word] + prior * base) / (said[word] + prior), 4)
                  for word in sorted(said) if said[word] >= min_queries}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetingd", default=os.environ.get("MEETINGD_BIN", str(ROOT / ".build/debug/meetingd")))
    parser.add_argument("--out", type=Path, default=ROOT / "Plugins/summarise/summary_words.json")
    parser.add_argument("--min-queries", type=int, default=100, help="keep words said among the candidates of this many queries (100)")
    parser.add_argument("--prior", type=float, default=50.0, help="smoothing towards the base rate, in queries (50)")
    args = parser.parse_args()

    daemon = Daemon(args.meetingd, *SPLITS)
    try:
        client = Client(daemon.endpoint)
        client.wait_ready()
        queries = [([c["text"] for c in explain["candidates"]], query["answer"])
                   for _, query, explain in explained_queries(client, SPLITS, 100)]
    finally:
        daemon.stop()
    base, words_kept = table(queries, args.min_queries, args.prior)
    args.out.write_text(json.dumps({"trained_on": [path.name for path in SPLITS], "min_queries": args.min_queries,
                                    "prior": args.prior, "base": round(base, 4), "words": words_kept}, indent=0) + "\n")
    print(f"{len(queries)} queries, {len(words_kept)} words, base rate {base:.4f}: wrote {args.out}")


if __name__ == "__main__":
    main()
