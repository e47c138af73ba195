#!/usr/bin/env python3
"""First requests on a fresh daemon (issue 11): what each worker's first typo-corrected
search and first summary cost, against the same requests once warm, on a generated corpus.

    swift build -c release --product meetingd            # and the other build to compare, if any
    python3 Benchmarks/language/first_request.py --meetingd .build/release/meetingd \\
        [--meetingd-before OTHER/meetingd] [--meetings 10000]

Generates the corpus once (Benchmarks/corpus/generate.py) under --workdir, ingests it with
each binary into its own corpus file (kept for later runs), then per binary and round:
starts `meetingd serve` with 2 workers, times the start until the first ping is answered,
sends two `search.query {q: "batery"}` at once (a typo: nothing matches, so the term dictionaries are
needed) so that each worker takes one, then two `summarise.meeting` at once, then both again
warm (the summary of another meeting, as each worker keeps the meetings it analysed). Prints milliseconds per worker and the ratio of first to warm.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import json
from pathlib import Path

import zmq

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(endpoint, method, params, results, index):
    context = zmq.Context.instance()
    sock = context.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    started = time.perf_counter()
    sock.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode())
    if not sock.poll(120_000):
        raise SystemExit(f"{method}: no answer in 120 s")
    reply = json.loads(sock.recv())
    results[index] = (time.perf_counter() - started) * 1000
    if "error" in reply:
        raise SystemExit(f"{method}: {reply['error']}")
    sock.close()


def pair(endpoint, method, params):
    """Two requests at once, so that each of the two workers answers one."""
    results = [None, None]
    threads = [threading.Thread(target=call, args=(endpoint, method, params, results, i)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results)


def round_trip(binary, corpus):
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    started = time.perf_counter()
    daemon = subprocess.Popen([binary, "serve", "--corpus", corpus, "--endpoint", endpoint, "--workers", "2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            results = [None]
            try:
                call(endpoint, "meetingd.ping", {}, results, 0)
                break
            except SystemExit:
                raise
            except Exception:
                time.sleep(0.01)
        ready = (time.perf_counter() - started) * 1000
        meeting = "gen-000042"
        figures = {"ready": ready}
        figures["search first"] = pair(endpoint, "search.query", {"q": "batery"})
        figures["summary first"] = pair(endpoint, "summarise.meeting", {"meeting": meeting, "max_words": 100})
        figures["search warm"] = pair(endpoint, "search.query", {"q": "batery"})
        # Another meeting: a worker keeps the meetings it analysed, and the warm figure must analyse one too.
        figures["summary warm"] = pair(endpoint, "summarise.meeting", {"meeting": "gen-000043", "max_words": 100})
        return figures
    finally:
        daemon.terminate()
        daemon.wait(30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--meetingd", required=True)
    parser.add_argument("--meetingd-before")
    parser.add_argument("--meetings", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", default=str(ROOT / ".build-language-bench"))
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(exist_ok=True)
    source = work / f"meetings-{args.meetings}"
    if not source.exists():
        subprocess.run([sys.executable, str(ROOT / "Benchmarks/corpus/generate.py"), str(args.meetings), str(source)], check=True)
    binaries = [("after", args.meetingd)] + ([("before", args.meetingd_before)] if args.meetingd_before else [])
    for label, binary in binaries:
        corpus = work / f"corpus-{label}-{args.meetings}.sqlite"
        if not corpus.exists():
            started = time.perf_counter()
            subprocess.run([binary, "ingest", "--corpus", str(corpus), str(source)], check=True, stdout=subprocess.DEVNULL)
            print(f"{label}: ingested {args.meetings} meetings in {time.perf_counter() - started:.0f} s", flush=True)
        rounds = [round_trip(binary, str(corpus)) for _ in range(args.rounds)]
        print(f"\n{label} ({binary}), {args.rounds} fresh daemons, median ms [worker answering first, second]:")
        print(f"  start until the first ping: {statistics.median(r['ready'] for r in rounds):.0f}")
        for what in ("search", "summary"):
            first = [statistics.median(r[f"{what} first"][i] for r in rounds) for i in range(2)]
            warm = [statistics.median(r[f"{what} warm"][i] for r in rounds) for i in range(2)]
            print(f"  {what:7s} first {first[0]:8.1f} {first[1]:8.1f}   warm {warm[0]:7.1f} {warm[1]:7.1f}"
                  f"   first/warm {first[1] / max(warm[1], 0.001):6.1f}x")


if __name__ == "__main__":
    main()
