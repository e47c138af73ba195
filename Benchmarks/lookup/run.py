#!/usr/bin/env python3
"""The lookup benchmark (issue 4): p50/p99 latency of `lookup.meeting` and of a
filtered `lookup.meetings` on a generated corpus of N meetings, as a ratio to
`meetingd.ping` measured in the same run, over the same socket, interleaved
request by request (latency.c). Goal: p50 within 1.5x of ping.

The corpus comes from Benchmarks/corpus/generate.py and `meetingd ingest`, and is
kept in --workdir for the next run. meetingd and the lookup module are built in
release mode (scratch path .build-release) unless --bin-dir gives them.

usage: run.py [--meetings 10000] [--seconds 5] [--rounds 3] [--workers 0] [--workdir DIR] [--bin-dir DIR]
"""
import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
GOAL = 1.5
REQUESTS_PER_KIND = 500


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(command, **kwargs):
    print("$ " + " ".join(command), file=sys.stderr)
    subprocess.run(command, check=True, **kwargs)


def built_binaries(bin_dir):
    if bin_dir:
        return os.path.abspath(bin_dir)
    scratch = os.path.join(ROOT, ".build-release")
    for product in ("meetingd", "lookup"):
        run(["swift", "build", "-c", "release", "--scratch-path", scratch, "--product", product], cwd=ROOT)
    return subprocess.run(["swift", "build", "-c", "release", "--scratch-path", scratch, "--show-bin-path"],
                          cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def corpus(workdir, meetings, meetingd):
    """The generated corpus, ingested once and reused while the file is there."""
    source = os.path.join(workdir, f"meetings-{meetings}")
    path = os.path.join(workdir, f"corpus-{meetings}.sqlite")
    if not os.path.exists(path):
        if not os.path.isdir(source) or len(os.listdir(source)) < meetings:
            run([sys.executable, os.path.join(ROOT, "Benchmarks", "corpus", "generate.py"), str(meetings), source])
        run([meetingd, "ingest", "--corpus", path + ".partial", source])
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + ".partial" + suffix):
                os.replace(path + ".partial" + suffix, path + suffix)
    return path


class Daemon:
    def __init__(self, meetingd, bin_dir, corpus_path, directory, workers):
        self.endpoint = f"tcp://127.0.0.1:{free_port()}"
        config = os.path.join(directory, "meetingd.yaml")
        with open(config, "w") as out:
            out.write(f"endpoints: [{self.endpoint}]\nworkers: {workers}\ncorpus: {corpus_path}\n"
                      f"module_dirs: [{bin_dir}]\nmodules:\n  lookup: {{}}\nlog_level: warning\n")
        self.log = open(os.path.join(directory, "meetingd.stderr"), "w")
        self.process = subprocess.Popen([meetingd, "serve", "--config", config], stdout=self.log, stderr=self.log)
        self.context = zmq.Context()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"meetingd exited; see {self.log.name}")
            try:
                if self.call("meetingd.ping", timeout_ms=500) == "pong":
                    return
            except TimeoutError:
                pass
        raise RuntimeError("meetingd did not answer")

    def call(self, method, params=None, timeout_ms=30000):
        sock = self.context.socket(zmq.REQ)
        sock.linger = 0
        sock.connect(self.endpoint)
        try:
            sock.send_string(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}))
            if not sock.poll(timeout_ms):
                raise TimeoutError(method)
            reply = json.loads(sock.recv())
        finally:
            sock.close()
        if "error" in reply:
            raise RuntimeError(f"{method} {params}: {reply['error']}")
        return reply["result"]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()
        self.context.term()


def request_lines(daemon, rng):
    """Pings, meetings by random id, and meetings filtered by a decade and a
    participant who took part in some of them, interleaved."""
    ids, offset = [], 0
    while True:
        page = daemon.call("lookup.meetings", {"sort": "id", "limit": 100, "offset": offset})
        ids += [m["id"] for m in page["meetings"]]
        offset += 100
        if offset >= page["total"] or len(ids) >= 2000:
            break
    speakers = [s["name"] for s in daemon.call("lookup.speakers", {"limit": 200})["speakers"]]
    lines = []
    matched = []
    for _ in range(REQUESTS_PER_KIND):
        year = rng.randint(2000, 2014)
        meetings_params = {"from": str(year), "to": f"{year + 9}-12-31", "participant": rng.choice(speakers), "limit": 20}
        lines += [("ping", {"method": "meetingd.ping"}),
                  ("lookup.meeting", {"method": "lookup.meeting", "params": {"id": rng.choice(ids)}}),
                  ("lookup.meetings", {"method": "lookup.meetings", "params": meetings_params})]
        if len(matched) < 20:
            matched.append(daemon.call("lookup.meetings", meetings_params)["total"])
    print(f"filtered lookup.meetings: e.g. {json.dumps(meetings_params)}; totals of the first 20: {matched}", file=sys.stderr)
    return "".join(f"{tag}\t{json.dumps({'jsonrpc': '2.0', 'id': 1, **body})}\n" for tag, body in lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=10000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0, help="meetingd workers (default 0: one per core)")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "meetingd-lookup-bench"))
    parser.add_argument("--bin-dir", help="a folder with meetingd and liblookup.so (default: build them in release mode)")
    args = parser.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    bin_dir = built_binaries(args.bin_dir)
    meetingd = os.path.join(bin_dir, "meetingd")
    corpus_path = corpus(args.workdir, args.meetings, meetingd)
    latency = os.path.join(args.workdir, "latency")
    zmq_flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libzmq"], check=True, capture_output=True,
                               text=True).stdout.split()
    run(["cc", "-std=c11", "-O2", os.path.join(HERE, "latency.c"), *zmq_flags, "-o", latency])

    run_dir = tempfile.mkdtemp(prefix="lookup-bench-")
    daemon = Daemon(meetingd, bin_dir, corpus_path, run_dir, args.workers)
    try:
        stats = daemon.call("lookup.stats")
        print(f"corpus: {stats['meetings']} meetings, {stats['turns']} turns, {stats['words']} words, "
              f"{stats['people']} people", file=sys.stderr)
        requests_file = os.path.join(run_dir, "requests.tsv")
        with open(requests_file, "w") as out:
            out.write(request_lines(daemon, random.Random(4)))
        rounds = []
        for _ in range(args.rounds):
            output = subprocess.run([latency, "-d", str(args.seconds), requests_file, daemon.endpoint],
                                    check=True, capture_output=True, text=True).stdout
            rounds.append({row["tag"]: row for row in map(json.loads, output.splitlines())})
        server_side = daemon.call("meetingd.status")["methods"]
    finally:
        daemon.stop()
        shutil.rmtree(run_dir, ignore_errors=True)

    def median(tag, key):
        return statistics.median(r[tag][key] for r in rounds)

    ping_p50, ping_p99 = median("ping", "p50_us"), median("ping", "p99_us")
    print(f"{args.meetings} meetings, {args.workers or os.cpu_count()} workers, 1 client, {args.rounds} rounds of {args.seconds:g} s, medians over rounds")
    print(f"{'method':<16} {'requests':>8} {'p50 us':>8} {'p90 us':>8} {'p99 us':>8} {'p50 x ping':>11} {'p99 x ping':>11}")
    verdicts = []
    for tag in ("ping", "lookup.meeting", "lookup.meetings"):
        p50, p99 = median(tag, "p50_us"), median(tag, "p99_us")
        requests = sum(r[tag]["requests"] for r in rounds)
        errors = sum(r[tag]["errors"] for r in rounds)
        print(f"{tag:<16} {requests:>8} {p50:>8.1f} {median(tag, 'p90_us'):>8.1f} {p99:>8.1f}"
              f" {p50 / ping_p50:>11.2f} {p99 / ping_p99:>11.2f}" + (f"  ({errors} errors)" if errors else ""))
        if tag != "ping":
            verdicts.append(f"goal: {tag} p50 within {GOAL}x of ping: {p50 / ping_p50:.2f}x  "
                            + ("MET" if p50 / ping_p50 <= GOAL else "MISSED"))
    print("\n".join(verdicts))
    print("in the daemon (meetingd.status, all rounds): " + ", ".join(
        f"{tag} p50 {server_side[tag]['latency_us']['p50']} us" for tag in ("meetingd.ping", "lookup.meeting", "lookup.meetings")
        if tag in server_side))


if __name__ == "__main__":
    main()
