#!/usr/bin/env python3
"""Latency of summarise.answer (issue 13): every QMSum val query asked of its meeting, and
the same questions without `meeting` (the best meeting is found first), through a daemon,
with meetingd.ping in the same run as the baseline; and how often, without `meeting`, the
meeting found is the one the question was written for.

    swift build -c release
    python3 Benchmarks/summarise/answer_latency.py --meetingd .build/release/meetingd \\
        [--corpus CORPUS.sqlite]   # e.g. the 10,000-meeting corpus of Benchmarks/language, plus val

Without --corpus it ingests ../shared/qmsum/val.jsonl into a temporary corpus. Prints p50,
p90 and p99 in milliseconds per kind of request, and the ratio to ping's p50.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import zmq

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--meetingd", default=str(ROOT / ".build" / "release" / "meetingd"))
    parser.add_argument("--corpus")
    parser.add_argument("--qmsum", default=str(ROOT.parent / "shared" / "qmsum" / "val.jsonl"))
    args = parser.parse_args()
    corpus = args.corpus
    if corpus is None:
        corpus = os.path.join(tempfile.mkdtemp(prefix="answer-latency-"), "corpus.sqlite")
        subprocess.run([args.meetingd, "ingest", "--corpus", corpus, args.qmsum], check=True, stdout=subprocess.DEVNULL)
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    daemon = subprocess.Popen([args.meetingd, "serve", "--corpus", corpus, "--endpoint", endpoint, "--workers", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock = zmq.Context().socket(zmq.REQ)
    sock.connect(endpoint)

    replies = []

    def call(method, params):
        started = time.perf_counter()
        sock.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode())
        if not sock.poll(120_000):
            raise SystemExit(f"{method}: no answer")
        replies.append(json.loads(sock.recv()))
        return (time.perf_counter() - started) * 1000

    try:
        for _ in range(600):
            try:
                call("meetingd.ping", {})
                break
            except zmq.ZMQError:
                time.sleep(0.1)
        stem = Path(args.qmsum).stem
        questions = []
        for index, line in enumerate(open(args.qmsum, encoding="utf-8")):
            meeting = json.loads(line)
            for query in meeting["general_query_list"] + meeting["specific_query_list"]:
                questions.append((f"{stem}-{index}", query["query"]))
        figures = {
            "meetingd.ping": [call("meetingd.ping", {}) for _ in range(200)],
            "answer, meeting given": [call("summarise.answer", {"question": q, "meeting": m}) for m, q in questions],
        }
        replies.clear()
        figures["answer, no meeting"] = [call("summarise.answer", {"question": q}) for _, q in questions]
        found = [reply.get("result", {}).get("interpreted", {}).get("meeting") for reply in replies]
        ping = statistics.median(figures["meetingd.ping"])
        print(f"{len(questions)} questions of {args.qmsum}, corpus {corpus}")
        print(f"{'':24s} {'p50':>8s} {'p90':>8s} {'p99':>8s}  p50/ping")
        for name, values in figures.items():
            p50 = statistics.median(values)
            print(f"{name:24s} {p50:8.2f} {percentile(values, 0.9):8.2f} {percentile(values, 0.99):8.2f}  {p50 / ping:8.1f}x")
        own = sum(meeting == asked for meeting, (asked, _) in zip(found, questions))
        print(f"without meeting, the question's own meeting found: {own} of {len(questions)}")
    finally:
        daemon.terminate()
        daemon.wait(30)


if __name__ == "__main__":
    main()
