#!/usr/bin/env python3
"""The index against FTS5 (issue 12, not a test).

Two daemons serve the same corpus, one of this build (the index), one of an older build
given by --meetingd-fts5 with `engine: fts5` (FTS5 as it shipped: stop words left out of
multi-word queries, at most `ranking_budget` turns scored; search no longer has the
setting, whose `fts5` it now ignores); a third, FTS5 without the budget, is the exact FTS5 ranking. Each runs
latency.py's keyword queries (rare, middling and common words, two words, two with grammar
words, a meeting filter, a date filter), phrases, prefixes and speaker filters (the `speaker`
param and `speaker:` in q), excluded phrases and prefixes, phrases ending in a prefix and
`speaker:` alone, which the index answers, top 10 with snippets, rounds
alternating between the daemons so that a busy moment of the machine hits all alike.
Prints p50/p99 per engine and per group, and the ratios.

usage: engines.py --corpus FILE --meetingd-fts5 OLDER/meetingd [--meetingd .build-release/release/meetingd]
                  [--rounds 5] [--groups G,G]
Build and make a corpus as latency.py says.
"""
import argparse
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from latency import COMMON, MIDDLING, RARE, ROOT, TWO_WORDS, Daemon, daemon_times, percentile  # noqa: E402

# Phrases of rare, middling and common words; prefixes covering few and many terms.
PHRASES = ['"remote control"', '"the meeting"', '"i think"', '"a lot of"', '"at the moment"', '"speech recognition"',
           '"health board"', '"of the"']
PREFIXES = ["remot*", "budg*", "design*", "interf*", "recogn*", "con*", "pre*", "sta*"]
# Exclusions of a phrase or a prefix, from a rare, a middling and a common word.
EXCLUSIONS = ['remote -"remote control"', 'budget -con*', 'think -"i think"', 'the -"of the"', 'health -men*',
              'government -pre*']
PHRASE_PREFIXES = ['"remote contr*"', '"speech rec*"', '"the meet*"', '"i thi*"', '"at the mom*"', '"of the con*"']

# (name, whether it runs the older build, search settings)
ENGINES = [("index", False, ""), ("fts5", True, "engine: fts5"), ("fts5, no budget", True, "engine: fts5, ranking_budget: 1000000000")]


def queries(db):
    """(group, params) for latency.py's keyword queries, with filters that fit a corpus of any size."""
    items = []
    for group, qs in [("rare", RARE), ("middling", MIDDLING), ("common", COMMON), ("two words", TWO_WORDS),
                      ("with a grammar word", ["the government", "speech of the president"])]:
        items += [(group, {"q": q}) for q in qs]
    count = db.execute("SELECT count(*) FROM meeting").fetchone()[0]
    meeting_ids = [row[0] for row in db.execute("SELECT id FROM meeting ORDER BY pk LIMIT 3 OFFSET ?", (count // 2,))]
    items += [("meeting filter", {"q": q, "meeting": m}) for m, q in zip(meeting_ids, ["battery", "the", "think"])]
    items += [("date filter", {"q": q, "from": "2020-01-01", "to": "2020-12-31"}) for q in ["health", "remote control"]]
    items += [("phrase", {"q": q}) for q in PHRASES]
    items += [("prefix", {"q": q}) for q in PREFIXES]
    # The most and the least prolific of the ten busiest speakers, as the param and in q.
    busiest = [row[0] for row in db.execute(
        "SELECT p.name FROM speaker s JOIN person p ON p.id = s.person_id GROUP BY p.id ORDER BY sum(s.turns) DESC LIMIT 10")]
    for name in busiest[:1] + busiest[-1:]:
        items += [("speaker", {"q": "think", "speaker": name}), ("speaker", {"q": f'budget speaker:"{name}"'}),
                  ("speaker", {"q": '"remote control"', "speaker": name})]
    items += [("exclusion", {"q": q}) for q in EXCLUSIONS]
    items += [("phrase prefix", {"q": q}) for q in PHRASE_PREFIXES]
    for name in busiest[:1] + busiest[-1:]:
        items += [("speaker alone", {"q": f'speaker:"{name}"'}), ("speaker alone", {"q": f'speaker:"{name}" -the'})]
    return items


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--meetingd", default=os.path.join(ROOT, ".build-release", "release", "meetingd"))
    parser.add_argument("--meetingd-fts5", required=True,
                        help="a meetingd built before search dropped FTS5 (its modules beside it)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--groups", help="only these groups, comma-separated (e.g. 'exclusion,phrase prefix')")
    args = parser.parse_args()

    db = sqlite3.connect(f"file:{args.corpus}?mode=ro", uri=True)
    meetings, turns = db.execute("SELECT count(*), sum(turns) FROM meeting").fetchone()
    segments = db.execute("SELECT count(*), sum(length(bytes)) FROM index_segment").fetchone()
    items = queries(db)
    if args.groups:
        items = [item for item in items if item[0] in args.groups.split(",")]
    print(f"corpus: {meetings} meetings, {turns} turns; index: {segments[0]} segments, {segments[1] / 1e6:.0f} MB; "
          f"{len(items)} queries, top 10 with snippets, {args.rounds} rounds each\n")

    daemons = [Daemon(args.meetingd_fts5 if older else args.meetingd, args.corpus, workers=1, settings=settings)
               for _, older, settings in ENGINES]
    try:
        for daemon in daemons:
            daemon_times(daemon, items, 1)  # warm the page cache and the statements
        samples = [[[] for _ in items] for _ in daemons]
        for _ in range(args.rounds):
            for daemon, per_query in zip(daemons, samples):
                for query_samples, new in zip(per_query, daemon_times(daemon, items, 1)):
                    query_samples += new
        totals = [[daemon.call("search.query", {**item[1], "limit": 0})["total"] for item in items] for daemon in daemons]
    finally:
        for daemon in daemons:
            daemon.stop()

    flat = [[x for xs in per_query for x in xs] for per_query in samples]
    print(f"{'':<24}{'p50 ms':>9}{'p99 ms':>9}")
    for (name, _, _), times in zip(ENGINES, flat):
        print(f"{name:<24}{percentile(times, 50) / 1e3:>9.2f}{percentile(times, 99) / 1e3:>9.2f}")
    for (name, _, _), times in zip(ENGINES[1:], flat[1:]):
        print(f"{'ratio ' + name + ' / index':<24}{percentile(times, 50) / percentile(flat[0], 50):>9.2f}"
              f"{percentile(times, 99) / percentile(flat[0], 99):>9.2f}")
    print(f"\nper group, p50 and p99 ms ({' | '.join(name for name, _, _ in ENGINES)}):")
    for group in dict.fromkeys(item[0] for item in items):
        times = [[x for item, xs in zip(items, per_query) if item[0] == group for x in xs] for per_query in samples]
        print(f"  {group:<20}" + " |".join(f"{percentile(t, 50) / 1e3:>8.2f} {percentile(t, 99) / 1e3:>8.2f}" for t in times))
    print("\nper query, p50 ms and total (index | fts5 | fts5 no budget):")
    for index, item in enumerate(items):
        cells = [f"{percentile(per_query[index], 50) / 1e3:8.2f} {total[index]:>8}" for per_query, total in zip(samples, totals)]
        print(f"  {(item[1]['q'] + (' @' + item[1]['speaker'] if 'speaker' in item[1] else ''))[:22]:<22}{' |'.join(cells)}")


if __name__ == "__main__":
    main()
