#!/usr/bin/env python3
"""Two meetingd builds' CPU per search.query, side by side (not a test).

On a machine shared with other builds, round-trip times swing with the load by more than
a per-request change is worth; the CPU a daemon spends per request (user + system, from
/proc/PID/stat) swings much less. Both daemons serve one corpus at once (4 workers each);
each query group is sent to one, then the other, `--loops` times over, in alternating order
for `--reps` repetitions, and the daemon's CPU per request is printed per group with the
ratio (after / before) and the mean over the queries.

usage: cpu_per_request.py --corpus FILE --meetingd-before OTHER/meetingd [--corpus-before FILE] [--meetingd BIN]
                          [--groups 'rare,middling'] [--reps 4] [--loops 100]
The groups are queries.py's (vs_tantivy.py's).
"""
import argparse
import json
import os
import sqlite3
import statistics
import sys

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from latency import ROOT  # noqa: E402
from queries import daemons_before_and_after, queries  # noqa: E402


def cpu_seconds(pid):
    """User + system CPU of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--meetingd-before", required=True)
    parser.add_argument("--corpus-before", help="a copy of the corpus for the build before, when the new build migrates it "
                        "(each refuses the other's schema; default: --corpus)")
    parser.add_argument("--meetingd", default=os.path.join(ROOT, ".build-release", "release", "meetingd"))
    parser.add_argument("--groups", help="comma-separated query groups (default: all)")
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--loops", type=int, default=100)
    args = parser.parse_args()

    db = sqlite3.connect(f"file:{args.corpus}?mode=ro", uri=True)
    items = queries(db, args.groups)
    groups = list(dict.fromkeys(group for group, _ in items))
    with daemons_before_and_after(args, workers=4) as daemons:
        sockets = []
        for daemon in daemons:
            sock = zmq.Context.instance().socket(zmq.REQ)
            sock.connect(daemon.endpoint)
            sockets.append(sock)
        # One warm-up pass each: page cache, statements, speakers' turn runs.
        for daemon, sock in zip(daemons, sockets):
            for _, params in items:
                daemon.call("search.query", {**params, "limit": 10}, sock=sock)
        per_request = [{group: [] for group in groups} for _ in daemons]
        for rep in range(args.reps):
            for which in ((0, 1) if rep % 2 == 0 else (1, 0)):
                daemon, sock = daemons[which], sockets[which]
                for group in groups:
                    group_params = [params for g, params in items if g == group]
                    before = cpu_seconds(daemon.process.pid)
                    for _ in range(args.loops):
                        for params in group_params:
                            daemon.call("search.query", {**params, "limit": 10}, sock=sock)
                    spent = cpu_seconds(daemon.process.pid) - before
                    per_request[which][group].append(spent * 1e3 / (args.loops * len(group_params)))
        for sock in sockets:
            sock.close()

    print(f"daemon CPU ms per request, median of {args.reps} alternating reps of {args.loops} loops")
    print(f"{'group':<18}{'before':>9}{'after':>9}{'ratio':>8}")
    totals = [0.0, 0.0]
    for group in groups:
        before, after = (statistics.median(per_request[which][group]) for which in (0, 1))
        count = sum(1 for g, _ in items if g == group)
        totals[0] += before * count
        totals[1] += after * count
        print(f"{group:<18}{before:>9.3f}{after:>9.3f}{after / before:>8.2f}")
    print(f"{'mean per query':<18}{totals[0] / len(items):>9.3f}{totals[1] / len(items):>9.3f}{totals[1] / totals[0]:>8.2f}")


if __name__ == "__main__":
    main()
