#!/usr/bin/env python3
"""Requests against another build (not a test).

Two daemons serve the same corpus, holding QMSum's val.jsonl as `meetingd ingest` names it
(val-0, val-1, ...): this build and another one given as --meetingd-before (e.g. one whose
requests took FTS5's newest matches). Each answers every specific query of val.jsonl as
written ("What did X say about Y?", "Summarize the discussion about Z"), within its meeting
and across the corpus, top 10 with snippets, rounds alternating between the daemons so that
a busy moment of the machine hits both alike. Prints the daemons' took_ms, p50/p99 per
group, and the ratios (this build / before).

usage: requests.py --corpus FILE --meetingd-before OTHER/meetingd [--meetingd .build/debug/meetingd]
                   [--qmsum val.jsonl] [--rounds 3]
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from latency import ROOT, Daemon, percentile  # noqa: E402

DEFAULT_QMSUM = os.path.normpath(os.path.join(ROOT, "..", "shared", "qmsum", "val.jsonl"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--meetingd", default=os.path.join(ROOT, ".build", "debug", "meetingd"))
    parser.add_argument("--meetingd-before", required=True)
    parser.add_argument("--qmsum", default=DEFAULT_QMSUM)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    stem = os.path.splitext(os.path.basename(args.qmsum))[0]
    items = []
    with open(args.qmsum, encoding="utf-8") as lines:
        for index, line in enumerate(lines):
            for item in json.loads(line)["specific_query_list"]:
                items.append(("within its meeting", {"q": item["query"], "meeting": f"{stem}-{index}", "limit": 10}))
                items.append(("across the corpus", {"q": item["query"], "limit": 10}))
    groups = list(dict.fromkeys(group for group, _ in items))

    daemons = {"this build": Daemon(args.meetingd, args.corpus, workers=1),
               "before": Daemon(args.meetingd_before, args.corpus, workers=1)}
    try:
        for daemon in daemons.values():
            for _, params in items:
                daemon.call("search.query", params)  # warm the page cache and the statements
        took = {name: {group: [] for group in groups} for name in daemons}
        for _ in range(args.rounds):
            for name, daemon in daemons.items():
                for group, params in items:
                    took[name][group].append(daemon.call("search.query", params)["took_ms"])
    finally:
        for daemon in daemons.values():
            daemon.stop()

    print(f"{len(items) // 2} queries of {args.qmsum}, each within its meeting and across the corpus, "
          f"{args.rounds} rounds; took_ms p50 / p99\n")
    print(f"{'':<22}{'this build':>18}{'before':>18}{'ratio p50':>11}{'ratio p99':>11}")
    for group in groups:
        ours, theirs = sorted(took["this build"][group]), sorted(took["before"][group])
        a, b = (percentile(ours, 50), percentile(ours, 99)), (percentile(theirs, 50), percentile(theirs, 99))
        print(f"{group:<22}{a[0]:>9.1f} / {a[1]:<6.1f}{b[0]:>9.1f} / {b[1]:<6.1f}{a[0] / b[0]:>11.2f}{a[1] / b[1]:>11.2f}")


if __name__ == "__main__":
    main()
