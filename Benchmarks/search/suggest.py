#!/usr/bin/env python3
"""Typo correction and search.suggest against another build (not a test).

Two daemons serve the same generated corpus: this build (the index's term dictionary:
a Levenshtein automaton along the sorted terms, prefix ranges) and another one given as
--meetingd-before (e.g. one that read FTS5's vocabulary and scanned it). Each answers
the same requests, rounds alternating between the daemons so that a busy moment of the
machine hits both alike:
  - typo:        search.query of a misspelt corpus word (nothing matches, so it is corrected and searched again)
  - did_you_mean: search.suggest of two misspelt words
  - complete:    search.suggest of the first 3 to 5 letters of a corpus word
Prints p50/p99 per daemon and group, the ratios (this build / before), and how many
answers differ between the two.

usage: suggest.py --meetingd .build/debug/meetingd --meetingd-before OTHER/meetingd [--meetings 1000] [--rounds 5]
The corpus is generated (Benchmarks/corpus/generate.py) and ingested once under --workdir.
"""
import argparse
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from latency import ROOT, Daemon, percentile  # noqa: E402

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def misspelt(word, generator):
    at = generator.randrange(len(word))
    kind = generator.randrange(4)
    if kind == 0:
        return word[:at] + generator.choice(LETTERS) + word[at:]
    if kind == 1:
        return word[:at] + word[at + 1:]
    if kind == 2:
        return word[:at] + generator.choice(LETTERS.replace(word[at], "")) + word[at + 1:]
    at = min(at, len(word) - 2)
    return word[:at] + word[at + 1] + word[at] + word[at + 2:]


def requests(corpus, count, seed):
    """(group, method, params) for misspelt and half-typed words of the corpus's own turns."""
    generator = random.Random(seed)
    with sqlite3.connect(corpus) as db:
        turns = db.execute("SELECT count(*) FROM turn").fetchone()[0]
        texts = [row[0] for row in db.execute("SELECT text FROM turn WHERE id % ? = 0 LIMIT 3000", (max(turns // 3000, 1),))]
    words = sorted({w.lower() for text in texts for w in re.findall(r"[A-Za-z]{5,}", text)})
    chosen = generator.sample(words, min(count * 3, len(words)))
    items = []
    for word in chosen[:count]:
        items.append(("typo", "search.query", {"q": misspelt(word, generator), "limit": 10}))
    for first, second in zip(chosen[count:2 * count], chosen[2 * count:3 * count]):
        items.append(("did_you_mean", "search.suggest", {"q": f"{misspelt(first, generator)} {misspelt(second, generator)} "}))
    for word in chosen[:count]:
        items.append(("complete", "search.suggest", {"q": word[:generator.randint(3, 5)]}))
    return items


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--meetingd", default=os.path.join(ROOT, ".build/debug/meetingd"))
    parser.add_argument("--meetingd-before", required=True)
    parser.add_argument("--meetings", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=30, help="of each group")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workdir", default=os.path.join(ROOT, ".build-suggest-bench"))
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(exist_ok=True)
    source = work / f"meetings-{args.meetings}"
    if not source.exists():
        subprocess.run([sys.executable, os.path.join(ROOT, "Benchmarks/corpus/generate.py"), str(args.meetings), str(source)], check=True)
    corpus = work / f"corpus-{args.meetings}.sqlite"
    if not corpus.exists():
        started = time.perf_counter()
        subprocess.run([args.meetingd, "ingest", "--corpus", str(corpus), str(source)], check=True, stdout=subprocess.DEVNULL)
        print(f"ingested {args.meetings} meetings in {time.perf_counter() - started:.0f} s", flush=True)
    items = requests(corpus, args.requests, seed=5)
    daemons = [("this build", Daemon(args.meetingd, str(corpus), workers=1)),
               ("before", Daemon(args.meetingd_before, str(corpus), workers=1))]
    times = {(label, group): [] for label, _ in daemons for group, _, _ in items}
    answers = {label: {} for label, _ in daemons}
    try:
        for _, daemon in daemons:  # untimed: first reads of the corpus's pages
            for _, method, params in items:
                daemon.call(method, params)
        for round_ in range(args.rounds):
            for label, daemon in (daemons if round_ % 2 == 0 else daemons[::-1]):
                for index, (group, method, params) in enumerate(items):
                    started = time.perf_counter()
                    result = daemon.call(method, params)
                    times[(label, group)].append((time.perf_counter() - started) * 1000)
                    answers[label][index] = (result.get("corrected", {}).get("q"), result.get("total")) \
                        if method == "search.query" else (result.get("did_you_mean"), result.get("completions"))
    finally:
        for _, daemon in daemons:
            daemon.stop()
    print(f"\n{args.meetings} generated meetings, {args.requests} requests a group, {args.rounds} rounds; ms")
    print(f"{'group':14s} {'this p50':>9s} {'p99':>8s} {'before p50':>11s} {'p99':>8s} {'p50 ratio':>10s} {'p99 ratio':>10s}")
    for group in dict.fromkeys(group for group, _, _ in items):
        new, old = times[("this build", group)], times[("before", group)]
        n50, n99, o50, o99 = percentile(new, 50), percentile(new, 99), percentile(old, 50), percentile(old, 99)
        print(f"{group:14s} {n50:9.2f} {n99:8.2f} {o50:11.2f} {o99:8.2f} {n50 / o50:9.2f}x {n99 / o99:9.2f}x")
    differ = [index for index in answers["this build"] if answers["this build"][index] != answers["before"][index]]
    print(f"answers that differ: {len(differ)} of {len(items)}")
    for index in differ[:10]:
        group, _, params = items[index]
        print(f"  {group} {params['q']!r}: this build {answers['this build'][index]}, before {answers['before'][index]}")


if __name__ == "__main__":
    main()
