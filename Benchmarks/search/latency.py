#!/usr/bin/env python3
"""Search latency benchmark (issue 5, not a test).

On a generated corpus (Benchmarks/corpus/generate.py, 10,000 meetings), runs a fixed
set of about 50 queries (rare, common and two words, phrases, prefixes, with and
without filters), top 10 with snippets:
  - through meetingd (search.query over ZeroMQ, this script's pyzmq client), and
  - directly with the SQLite C API (direct.c, the same MATCH expressions, ORDER BY
    rank LIMIT 10 with snippet()) over a bare FTS5 table of the same turns, which this
    script builds (bare_fts5.py; corpora hold no FTS5 since schema v6), in the same run,
and prints p50/p99 of each and their ratio, throughput with 4 concurrent clients,
and what the common-word guard (the ranking budget) buys: those queries through
meetingd, directly, and through a second meetingd whose budget is unlimited.

usage: latency.py --corpus FILE [--meetingd .build-release/release/meetingd] [--rounds 5]
Build first: swift build -c release --scratch-path .build-release --product meetingd
             swift build -c release --scratch-path .build-release --product search
Make a corpus: Benchmarks/corpus/generate.py 10000 /tmp/gen && meetingd ingest --corpus /tmp/gen.sqlite /tmp/gen
"""
import argparse
import json
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import zmq

import bare_fts5

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
ALL = (-(2 ** 63), 2 ** 63 - 1)

RARE = ["georgia", "loneliness", "disregard", "confess", "monsieur", "amalgamation", "westminster", "candidly",
        "downstairs", "bursary", "notepad", "unveil", "creditor"]
MIDDLING = ["reach", "confusion", "pupils", "relevant", "confidence", "email", "commitment", "instance"]
COMMON = ["the", "yeah", "and", "think", "government"]
TWO_WORDS = ["remote control", "mental health", "interest rates", "teacher training", "climate change",
             "speech recognition"]
PHRASES = ['"remote control"', '"mental health"', '"the government"', '"speech recognition"', '"I think"']
PREFIXES = ["vaccin*", "educat*", "recogn*", "batter*"]


def queries(db):
    """(label, params, match expression, rowid range, date range) for each benchmark query."""
    def meeting_range(meeting_id):
        first, count = db.execute("SELECT first_turn, turns FROM meeting WHERE id = ?", (meeting_id,)).fetchone()
        return first, first + count - 1

    def words(q):
        terms = []
        for term in re.findall(r'"[^"]*"|\S+', q):
            prefix = "*" if term.endswith("*") else ""
            terms.append('"' + " ".join(re.findall(r"\w+", term.lower())) + '"' + prefix)
        return "text : (" + " AND ".join(terms) + ")"

    items = []
    for group, qs in [("rare", RARE), ("middling", MIDDLING), ("common", COMMON), ("two words", TWO_WORDS),
                      ("phrase", PHRASES), ("prefix", PREFIXES)]:
        items += [(group, {"q": q}, words(q), ALL, None) for q in qs]
    meeting_ids = [row[0] for row in db.execute("SELECT id FROM meeting ORDER BY pk LIMIT 3 OFFSET 4000")]
    for meeting_id, q in zip(meeting_ids, ["battery", "the", "think"]):
        items.append(("meeting filter", {"q": q, "meeting": meeting_id}, words(q), meeting_range(meeting_id), None))
    speaker = db.execute("SELECT name FROM person WHERE name LIKE 'Hon.%' ORDER BY id LIMIT 1").fetchone()[0]
    speaker_phrase = " ".join(re.findall(r"[^\W_]+", speaker.lower()))
    items.append(("speaker filter", {"q": "government", "speaker": speaker},
                  f'speaker : ("{speaker_phrase}") AND ' + words("government"), ALL, None))
    for q in ["health", "remote control"]:
        items.append(("date filter", {"q": q, "from": "2020-01-01", "to": "2020-12-31"}, words(q), ALL,
                      ("2020-01-01", "2020-12-31~")))
    return items


def free_endpoint():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


class Daemon:
    def __init__(self, meetingd, corpus, workers, settings=""):
        self.directory = tempfile.mkdtemp(prefix="search-bench-")
        self.endpoint = free_endpoint()
        config = os.path.join(self.directory, "meetingd.yaml")
        with open(config, "w") as out:
            out.write(f"endpoints: [{self.endpoint}]\nworkers: {workers}\ncorpus: {corpus}\n"
                      f"module_dirs: [{os.path.dirname(os.path.abspath(meetingd))}]\n"
                      f"limits: {{request_deadline_ms: 600000}}\n"
                      f"modules:\n  search: {{settings: {{{settings}}}}}\n")
        self.process = subprocess.Popen([meetingd, "serve", "--config", config], stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                if self.call("meetingd.ping", {}, timeout_ms=200) == "pong":
                    return
            except TimeoutError:
                pass
        # Else it would outlive the script, holding its port and corpus.
        self.process.kill()
        self.process.wait()
        sys.exit("meetingd did not start")

    def call(self, method, params, timeout_ms=600000, sock=None):
        own = sock is None
        if own:
            sock = zmq.Context.instance().socket(zmq.REQ)
            sock.linger = 0
            sock.connect(self.endpoint)
        try:
            sock.send_string(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            if not sock.poll(timeout_ms):
                raise TimeoutError(method)
            reply = json.loads(sock.recv())
        finally:
            if own:
                sock.close()
        if "error" in reply:
            sys.exit(f"{method} {params}: {reply['error']}")
        return reply["result"]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def daemon_times(daemon, items, rounds):
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.connect(daemon.endpoint)
    times = []
    for _, params, *_ in items:
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            daemon.call("search.query", {**params, "limit": 10}, sock=sock)
            samples.append((time.perf_counter() - started) * 1e6)
        times.append(samples)
    sock.close()
    return times


def direct_times(binary, corpus, items, rounds):
    lines = "".join(f"{expr}\t{lo}\t{hi}\t{dates[0] if dates else ''}\t{dates[1] if dates else ''}\n"
                    for _, _, expr, (lo, hi), dates in items)
    output = subprocess.run([binary, corpus, str(rounds)], input=lines, capture_output=True, text=True, check=True).stdout
    return [[float(x) for x in line.split()] for line in output.splitlines()]


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def throughput(daemon, items, clients, seconds):
    done, stop = [0] * clients, time.monotonic() + seconds

    def run(index):
        sock = zmq.Context.instance().socket(zmq.REQ)
        sock.connect(daemon.endpoint)
        i = index
        while time.monotonic() < stop:
            daemon.call("search.query", {**items[i % len(items)][1], "limit": 10}, sock=sock)
            done[index] += 1
            i += 1
        sock.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--meetingd", default=os.path.join(ROOT, ".build-release", "release", "meetingd"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10, help="throughput measurement")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="search-direct-")
    direct = os.path.join(work, "direct")
    subprocess.run(["cc", "-std=c11", "-O2", os.path.join(HERE, "direct.c"), "-lsqlite3", "-o", direct], check=True)
    # The corpus holds no FTS5 (schema v6): the baseline gets the table meetingd used to write.
    baseline = os.path.join(work, "fts5.sqlite")
    bare_fts5.build(args.corpus, baseline)
    db = sqlite3.connect(f"file:{args.corpus}?mode=ro", uri=True)
    meetings, turns = db.execute("SELECT count(*), sum(turns) FROM meeting").fetchone()
    items = queries(db)
    guarded = [item for item in items if item[0] == "common" or item[1]["q"] == '"the government"']
    ordinary = [item for item in items if item not in guarded]
    print(f"corpus: {meetings} meetings, {turns} turns; {len(items)} queries, top 10 with snippets, "
          f"{args.rounds} rounds each\n")

    daemon = Daemon(args.meetingd, args.corpus, workers=4)
    try:
        daemon_times(daemon, items, 1)  # warm the page cache and the statements
        # Rounds alternate between the two, so that a busy moment of the machine hits both alike.
        ours, theirs = [[] for _ in ordinary], [[] for _ in ordinary]
        for _ in range(args.rounds):
            for samples, new in zip(ours, daemon_times(daemon, ordinary, 1)):
                samples += new
            for samples, new in zip(theirs, direct_times(direct, baseline, ordinary, 1)):
                samples += new
        ours_flat = [x for xs in ours for x in xs]
        theirs_flat = [x for xs in theirs for x in xs]
        print(f"{'':<34}{'p50 ms':>9}{'p99 ms':>9}")
        print(f"{'meetingd search.query':<34}{percentile(ours_flat, 50) / 1e3:>9.2f}{percentile(ours_flat, 99) / 1e3:>9.2f}")
        print(f"{'SQLite C API directly':<34}{percentile(theirs_flat, 50) / 1e3:>9.2f}{percentile(theirs_flat, 99) / 1e3:>9.2f}")
        print(f"{'ratio meetingd / direct':<34}{percentile(ours_flat, 50) / percentile(theirs_flat, 50):>9.2f}"
              f"{percentile(ours_flat, 99) / percentile(theirs_flat, 99):>9.2f}   (goal: p50 within 1.3x)")
        print(f"\nper group, p50 ms (meetingd / direct):")
        for group in dict.fromkeys(item[0] for item in ordinary):
            a = [x for item, xs in zip(ordinary, ours) if item[0] == group for x in xs]
            b = [x for item, xs in zip(ordinary, theirs) if item[0] == group for x in xs]
            print(f"  {group:<18}{percentile(a, 50) / 1e3:>9.2f} /{percentile(b, 50) / 1e3:>9.2f}")

        rps = throughput(daemon, items, 4, args.seconds)
        print(f"\nthroughput, 4 concurrent clients, all {len(items)} queries in turn: {rps:.0f} requests/s")

        print(f"\ncommon-word guard: stop words left out of multi-word queries, at most "
              f"{daemon.call('search.query', {'q': 'the', 'limit': 0})['total']} of a word's turns scored")
        guard_ours = daemon_times(daemon, guarded, args.rounds)
    finally:
        daemon.stop()
    guard_direct = direct_times(direct, baseline, guarded, 1)
    unguarded = Daemon(args.meetingd, args.corpus, workers=1, settings="ranking_budget: 1000000000")
    try:
        guard_off = daemon_times(unguarded, guarded, 1)
    finally:
        unguarded.stop()
    print(f"  {'query':<20}{'meetingd ms':>12}{'no budget ms':>14}{'direct ms':>11}")
    for item, a, b, c in zip(guarded, guard_ours, guard_off, guard_direct):
        print(f"  {item[1]['q']:<20}{statistics.median(a) / 1e3:>12.1f}{b[0] / 1e3:>14.1f}{c[0] / 1e3:>11.1f}")


if __name__ == "__main__":
    main()
