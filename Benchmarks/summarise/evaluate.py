#!/usr/bin/env python3
"""ROUGE of summarise.meeting on QMSum: every query of a split, through a running meetingd.

    pip install rouge-score pyzmq
    swift build --product meetingd && swift build --product summarise
    python3 Benchmarks/summarise/evaluate.py                        # ingests ../shared/qmsum/val.jsonl, serves it, scores
    python3 Benchmarks/summarise/evaluate.py --endpoint tcp://127.0.0.1:5555   # a daemon already serving the split

Prints ROUGE-1/2/L/Lsum F1 (rouge-score, Porter stemming) overall and for general and
specific queries, the mean and p90 round-trip time per query, and, for specific queries,
"in span": the share of returned sentences whose turn lies in QMSum's annotated relevant
spans (how well the question was located). With --located, how many specific queries were
located at all, how many of those overlap an annotated span, how many were "not found", and
the located turns against the annotated ones: the share of annotated turns located (recall),
the share of located turns annotated (precision), both averaged over the queries.
Meeting ids are the ingester's: `STEM-N` for
line N (from 0) of STEM.jsonl.
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zmq

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """meetingd with one worker serving a corpus ingested from `sources`, in a temporary folder;
    `scorer` is a sentence-scorer file for summarise to load instead of its built-in weights."""

    def __init__(self, meetingd, *sources, scorer=None):
        meetingd = Path(meetingd).resolve()  # the config's module_dirs is read relative to the config
        self.directory = Path(tempfile.mkdtemp(prefix="meetingd-eval-"))
        self.corpus = self.directory / "corpus.sqlite"
        subprocess.run([str(meetingd), "ingest", "--corpus", str(self.corpus), *map(str, sources)], check=True,
                       capture_output=True)
        self.endpoint = f"tcp://127.0.0.1:{free_port()}"
        config = self.directory / "meetingd.yaml"
        config.write_text(f"endpoints: [{self.endpoint}]\nworkers: 1\ncorpus: {self.corpus}\n"
                          f"module_dirs: [{Path(meetingd).parent}]\nmodules:\n"
                          + (f"  summarise: {{settings: {{scorer: {Path(scorer).resolve()}}}}}\n" if scorer else "  summarise: {}\n"))
        self.process = subprocess.Popen([str(meetingd), "serve", "--config", str(config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)
        shutil.rmtree(self.directory, ignore_errors=True)


class Client:
    def __init__(self, endpoint):
        self.socket = zmq.Context.instance().socket(zmq.REQ)
        self.socket.linger = 0
        self.socket.connect(endpoint)

    def call(self, method, params, timeout_ms=60000):
        self.socket.send_string(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        if not self.socket.poll(timeout_ms, zmq.POLLIN):
            raise TimeoutError(f"no reply to {method} in {timeout_ms} ms")
        reply = json.loads(self.socket.recv())
        if "error" in reply:
            raise RuntimeError(f"{method} {params}: {reply['error']}")
        return reply["result"]

    def wait_ready(self, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                probe = zmq.Context.instance().socket(zmq.REQ)
                probe.linger = 0
                probe.connect(self.socket.getsockopt_string(zmq.LAST_ENDPOINT))
                probe.send_string(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "meetingd.ping"}))
                ready = probe.poll(500, zmq.POLLIN)
                probe.close()
                if ready:
                    return
            except zmq.ZMQError:
                time.sleep(0.2)
        raise TimeoutError("meetingd did not answer")


def explained_queries(client, split_paths, budget):
    """Every query of the splits through `summarise.meeting` with `explain`: (meeting id, query, candidates),
    the candidates being the sentences the module chooses among, with their features; queries without any are skipped.
    Meeting ids are the ingester's, `STEM-N` for line N of STEM.jsonl."""
    for path in split_paths:
        for line_number, line in enumerate(path.read_text().splitlines()):
            meeting = json.loads(line)
            for query in meeting["general_query_list"] + meeting["specific_query_list"]:
                result = client.call("summarise.meeting", {"meeting": f"{path.stem}-{line_number}", "query": query["query"],
                                                           "max_words": budget, "explain": True})
                if "explain" in result and result["explain"]["candidates"]:
                    yield f"{path.stem}-{line_number}", query, result["explain"]


def sentences(text):
    """One sentence a line, as rougeLsum expects."""
    return "\n".join(s for s in re.split(r"(?<=[.!?])\s+|\n", text) if s.strip())


def in_span(result, spans):
    turns = [s["turn"] for s in result["sentences"]]
    if not turns:
        return 0.0
    ranges = [(int(a), int(b)) for a, b in spans]
    return sum(any(a <= t <= b for a, b in ranges) for t in turns) / len(turns)


def located_in_span(result, spans):
    """Whether a located range overlaps an annotated span."""
    ranges = [(int(a), int(b)) for a, b in spans]
    return any(lo <= b and a <= hi for lo, hi in result.get("located", []) for a, b in ranges)


def span_turns(ranges):
    return {turn for lo, hi in ranges for turn in range(int(lo), int(hi) + 1)}


def locating(result, spans):
    """How the located turns cover the annotated ones: (recall, precision, located turns)."""
    located, gold = span_turns(result.get("located", [])), span_turns(spans)
    shared = len(located & gold)
    return shared / max(len(gold), 1), shared / len(located) if located else 0.0, len(located)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default=str(ROOT.parent / "shared" / "qmsum" / "val.jsonl"), help="a QMSum .jsonl file")
    parser.add_argument("--endpoint", help="a daemon already serving the split (else one is started)")
    parser.add_argument("--meetingd", default=os.environ.get("MEETINGD_BIN", str(ROOT / ".build/debug/meetingd")))
    parser.add_argument("--words", type=int, default=100, help="max_words of each summary (default 100)")
    parser.add_argument("--show", type=int, default=0, help="print this many worst-scored queries")
    parser.add_argument("--scorer", help="a sentence-scorer file (train_scorer.py --out) instead of the built-in one")
    parser.add_argument("--located", action="store_true", help="also count the specific queries located, in span, not found")
    parser.add_argument("--dump", help="write every query's scores and summary to this JSON file")
    args = parser.parse_args()

    split = Path(args.split)
    # Here, not at the top: the tests import this file's helpers without rouge-score installed.
    from rouge_score import rouge_scorer
    daemon = None if args.endpoint else Daemon(args.meetingd, split, scorer=args.scorer)
    endpoint = args.endpoint or daemon.endpoint
    try:
        client = Client(endpoint)
        if daemon:
            client.wait_ready()
        scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
        rows = []
        for line_number, line in enumerate(split.read_text().splitlines()):
            meeting = json.loads(line)
            queries = [("general", q, None) for q in meeting["general_query_list"]]
            queries += [("specific", q, q.get("relevant_text_span")) for q in meeting["specific_query_list"]]
            for kind, query, spans in queries:
                params = {"meeting": f"{split.stem}-{line_number}", "query": query["query"], "max_words": args.words}
                started = time.perf_counter()
                result = client.call("summarise.meeting", params)
                elapsed = (time.perf_counter() - started) * 1000
                score = scorer.score(sentences(query["answer"]), sentences(result["summary"]))
                rows.append({"kind": kind, "ms": elapsed, "query": query["query"], "meeting": params["meeting"],
                             "summary": result["summary"],
                             "in_span": in_span(result, spans) if spans else None,
                             "located": bool(result.get("located")), "found": result.get("found", True),
                             "located_in_span": located_in_span(result, spans) if spans else None,
                             "locating": locating(result, spans) if spans else None,
                             **{name: value.fmeasure * 100 for name, value in score.items()}})
    finally:
        if daemon:
            daemon.stop()

    print(f"summarise.meeting on {split.name}, max_words {args.words}: ROUGE F1 (rouge-score, stemming)")
    print(f"{'queries':<10}{'n':>5}{'R-1':>8}{'R-2':>8}{'R-L':>8}{'R-Lsum':>8}{'in span':>9}{'ms mean':>9}{'ms p90':>8}")
    for label, subset in (("overall", rows), ("general", [r for r in rows if r["kind"] == "general"]),
                          ("specific", [r for r in rows if r["kind"] == "specific"])):
        located = [r["in_span"] for r in subset if r["in_span"] is not None]
        times = sorted(r["ms"] for r in subset)
        print(f"{label:<10}{len(subset):>5}" + "".join(f"{statistics.mean(r[m] for r in subset):>8.2f}"
                                                       for m in ("rouge1", "rouge2", "rougeL", "rougeLsum"))
              + (f"{statistics.mean(located) * 100:>8.1f}%" if located else f"{'':>9}")
              + f"{statistics.mean(times):>9.2f}{times[int(len(times) * 0.9)]:>8.2f}")
    if args.located:
        specific = [r for r in rows if r["kind"] == "specific"]
        print(f"specific queries: {len(specific)}, located {sum(r['located'] for r in specific)}, "
              f"located overlapping a span {sum(bool(r['located_in_span']) for r in specific)}, "
              f"not found {sum(not r['found'] for r in specific)}")
        recall, precision, size = (statistics.mean(r["locating"][i] for r in specific) for i in range(3))
        print(f"annotated turns located (recall) {recall * 100:.1f}%, located turns annotated (precision) "
              f"{precision * 100:.1f}%, turns located {size:.0f} on average")
    if args.dump:
        Path(args.dump).write_text(json.dumps(rows, indent=1))
    for row in sorted(rows, key=lambda r: r["rouge1"])[:args.show]:
        print(f"\n{row['rouge1']:.1f} {row['meeting']} {row['query']}\n{row['summary']}")


if __name__ == "__main__":
    sys.exit(main())
