#!/usr/bin/env python3
"""Whether two meetingd builds answer queries.py's queries alike (not a test): each query is
sent to both daemons at a few limits and the replies are compared whole (hits, scores to the
bit as JSON prints them, snippets, total, total_exact) but for took_ms. For a change meant to
make search faster without changing what it finds.

usage: same_results.py --corpus FILE --meetingd-before OTHER/meetingd --meetingd BIN
                       [--corpus-before FILE] [--groups 'rare,middling'] [--limits 10,50]
Exits 1 when any reply differs, naming the first differences.
"""
import argparse
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from queries import daemons_before_and_after, queries  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--corpus-before", help="the before build's copy of the corpus (default: --corpus)")
    parser.add_argument("--meetingd-before", required=True)
    parser.add_argument("--meetingd", required=True)
    parser.add_argument("--groups", help="comma-separated query groups (default: all)")
    parser.add_argument("--limits", default="10,50")
    args = parser.parse_args()

    db = sqlite3.connect(f"file:{args.corpus}?mode=ro", uri=True)
    items = queries(db, args.groups)
    limits = [int(limit) for limit in args.limits.split(",")]
    differences = 0
    with daemons_before_and_after(args, workers=1) as daemons:
        for group, params in items:
            for limit in limits:
                replies = [daemon.call("search.query", {**params, "limit": limit}) for daemon in daemons]
                for reply in replies:
                    reply.pop("took_ms", None)
                if replies[0] != replies[1]:
                    differences += 1
                    if differences <= 5:
                        print(f"differs: {group} {params} limit {limit}\n  before: {str(replies[0])[:400]}\n"
                              f"  after:  {str(replies[1])[:400]}")
    print(f"{len(items) * len(limits) - differences} of {len(items) * len(limits)} replies identical")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
