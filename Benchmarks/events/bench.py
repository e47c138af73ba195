#!/usr/bin/env python3
"""The event stream benchmark (issue 16, not a test): time from an ingest commit to the
event at a subscriber (p50/p99), with --subscribers SUB sockets, while --meetings meetings
are ingested in batches of --batch (one `meetingd ingest` run each); run twice in the same
run on fresh corpora, without alerts (the baseline) and with --alerts saved queries, so
the cost alerts add is a ratio: to the event latency, to the time until the last message
of the run arrived, and to ingest's own wall time.

The commit time of each sequence number is when a reader of the corpus (this process,
polling `PRAGMA data_version` every millisecond) first sees it. Meetings are short (20
turns of QMSum sentences, or made-up words without --qmsum) so that the run measures the
stream, not ingest's text work.

usage: bench.py [--meetings 10000] [--batch 100] [--subscribers 100] [--alerts 100]
                [--bin-dir DIR] [--qmsum DIR] [--workdir DIR]
"""
import argparse
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_QMSUM = os.path.normpath(os.path.join(ROOT, "..", "shared", "qmsum"))
SENTINEL = "zzsentinelzz"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sentences(qmsum_dir):
    path = os.path.join(qmsum_dir, "val.jsonl")
    if not os.path.exists(path):
        rng = random.Random(1)
        words = ["".join(rng.choice("abcdefghijklmnoprstuvw") for _ in range(rng.randint(3, 9))) for _ in range(3000)]
        return [" ".join(rng.choice(words) for _ in range(12)) + "." for _ in range(20000)]
    found = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            for turn in json.loads(line)["meeting_transcripts"]:
                found += [s for s in re.split(r"(?<=[.!?])\s+", turn["content"].strip()) if len(s.split()) >= 4]
    return found


def write_meetings(directory, count, batch, material, seed=7):
    """count meetings in folders of `batch` files, `Speaker: text` lines."""
    rng = random.Random(seed)
    folders = []
    for start in range(0, count, batch):
        folder = os.path.join(directory, f"batch{start // batch:05d}")
        os.makedirs(folder)
        for index in range(start, min(start + batch, count)):
            lines = [f"Speaker {rng.randint(1, 30)}: {' '.join(rng.choice(material) for _ in range(rng.randint(1, 3)))}"
                     for _ in range(20)]
            with open(os.path.join(folder, f"m{index:06d}.txt"), "w") as out:
                out.write("\n".join(lines) + "\n")
        folders.append(folder)
    # The last meeting holds a word no other has: its event (and its alert) arrive last.
    folder = os.path.join(directory, "sentinel")
    os.makedirs(folder)
    with open(os.path.join(folder, "sentinel.txt"), "w") as out:
        out.write(f"Speaker 1: {SENTINEL} closes the run.\n")
    folders.append(folder)
    return folders


def alert_queries(material, count, seed=11):
    """Words and two-word phrases from the material: some fire often, some rarely."""
    rng = random.Random(seed)
    words = [w.lower() for s in material for w in re.findall(r"[A-Za-z]{5,}", s)]
    queries = []
    while len(queries) < count:
        sentence = re.findall(r"[A-Za-z]{4,}", rng.choice(material))
        if len(sentence) >= 2 and rng.random() < 0.5:
            i = rng.randrange(len(sentence) - 1)
            queries.append(f'"{sentence[i]} {sentence[i + 1]}"')
        elif words:
            queries.append(rng.choice(words))
    return queries


class CommitWatcher(threading.Thread):
    """Notes when each sequence number first becomes visible to a reader of the corpus."""

    def __init__(self, corpus):
        super().__init__(daemon=True)
        self.corpus, self.seen, self.stop = corpus, {}, threading.Event()

    def run(self):
        db = sqlite3.connect(self.corpus)
        version, last = None, 0
        while not self.stop.is_set():
            now = time.monotonic()
            current = db.execute("PRAGMA data_version").fetchone()[0]
            if current != version:
                version = current
                newest = db.execute("SELECT coalesce(max(seq), 0) FROM change_log").fetchone()[0]
                for seq in range(last + 1, newest + 1):
                    self.seen[seq] = now
                last = max(last, newest)
            time.sleep(0.001)


class Subscribers(threading.Thread):
    """N SUB sockets polled by one thread; the arrival time of every message."""

    def __init__(self, endpoint, count):
        super().__init__(daemon=True)
        self.ctx = zmq.Context()
        self.sockets = []
        for _ in range(count):
            sock = self.ctx.socket(zmq.SUB)
            sock.setsockopt(zmq.RCVHWM, 0)
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.SUBSCRIBE, b"")
            sock.connect(endpoint)
            self.sockets.append(sock)
        self.arrivals, self.other_alerts, self.stop = [], 0, threading.Event()

    def run(self):
        poller = zmq.Poller()
        for sock in self.sockets:
            poller.register(sock, zmq.POLLIN)
        first = self.sockets[0]
        while not self.stop.is_set():
            for sock, _ in poller.poll(100):
                while True:
                    try:
                        topic, body = sock.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    # Every meeting event is timed; alerts (many, and long) at the first subscriber only.
                    if topic.startswith(b"alert.") and sock is not first:
                        self.other_alerts += 1
                    else:
                        self.arrivals.append((time.monotonic(), topic.decode(), json.loads(body)["seq"]))


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def one_run(args, bin_dir, folders, queries, workdir, label):
    meetingd = os.path.join(bin_dir, "meetingd")
    directory = tempfile.mkdtemp(prefix=f"events-{label}-", dir=workdir)
    corpus = os.path.join(directory, "corpus.sqlite")
    subprocess.run([meetingd, "ingest", "--corpus", corpus, os.path.join(ROOT, "Samples")], check=True, capture_output=True)
    endpoint, events = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    config = os.path.join(directory, "meetingd.yaml")
    with open(config, "w") as out:
        out.write(f"endpoints: [{endpoint}]\nworkers: 2\ncorpus: {corpus}\nmodule_dirs: [{bin_dir}]\n"
                  f"modules: {{lookup: {{}}, search: {{}}, events: {{}}}}\nevents: {{endpoints: [{events}]}}\n")
    daemon = subprocess.Popen([meetingd, "serve", "--config", config], stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(directory, "stderr"), "w"))
    req = zmq.Context.instance().socket(zmq.REQ)
    req.setsockopt(zmq.RCVTIMEO, 120000)
    req.connect(endpoint)

    def call(method, params=None):
        req.send_json({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}})
        return req.recv_json()

    call("meetingd.ping")  # the daemon is up (the request waits in the socket until it binds)
    print(f"{label}: daemon up, adding {len(queries)} alerts", file=sys.stderr)
    for index, q in enumerate(queries):
        answer = call("alerts.add", {"name": f"a{index}", "q": q})
        assert "result" in answer, answer
    if queries:
        call("alerts.add", {"name": "sentinel", "q": SENTINEL})
    subscribers = Subscribers(events, args.subscribers)
    subscribers.start()
    watcher = CommitWatcher(corpus)
    watcher.start()
    time.sleep(1)  # subscriptions reach the publisher
    first_seq = call("events.since", {"seq": 10**12})["result"]["last"]
    started = time.monotonic()
    for folder in folders:
        subprocess.run([meetingd, "ingest", "--config", config, folder], check=True, capture_output=True)
    ingest_s = time.monotonic() - started
    print(f"{label}: ingested in {ingest_s:.1f} s, waiting for the stream to drain", file=sys.stderr)
    # Done when every subscriber has the sentinel meeting's event, and with alerts, when the
    # sentinel's alert came (the alert thread works in commit order, so it comes last).
    deadline = time.monotonic() + 7200
    while time.monotonic() < deadline:
        arrivals = list(subscribers.arrivals)
        last_seq = call("events.since", {"seq": 10**12})["result"]["last"]
        # A subscriber the one reading thread left behind by 1,000 messages (ZMQ_SNDHWM) lost
        # some, by PUB's design: the run counts them rather than wait for them. All arrivals
        # are searched: with alerts, the last meeting's event can be followed by far more
        # alert messages than any fixed window holds.
        events_in = any(topic.startswith("meeting.") and seq == last_seq for _, topic, seq in reversed(arrivals))
        alerts_in = not queries or any(topic == "alert.sentinel" for _, topic, _ in reversed(arrivals))
        if events_in and alerts_in:
            time.sleep(3)  # the other subscribers' copies
            break
        # The sentinel's alert may be lost to the high-water mark too: then 10 quiet seconds end the run.
        if events_in and subscribers.arrivals and time.monotonic() - subscribers.arrivals[-1][0] > 10:
            break
        time.sleep(1)
    expected = args.subscribers * (last_seq - first_seq)
    subscribers.stop.set()
    watcher.stop.set()
    daemon.terminate()
    daemon.wait(timeout=60)
    arrivals = subscribers.arrivals
    arrivals = [a for a in arrivals if a[1] != "alert.sentinel"]
    meeting_ms = [(t - watcher.seen[seq]) * 1000 for t, topic, seq in arrivals if topic.startswith("meeting.") and seq in watcher.seen]
    alert_ms = [(t - watcher.seen[seq]) * 1000 for t, topic, seq in arrivals if topic.startswith("alert.") and seq in watcher.seen]
    drained_s = max(t for t, _, _ in arrivals) - started
    shutil.rmtree(directory, ignore_errors=True)
    return {"ingest_s": ingest_s, "drained_s": drained_s, "meeting_ms": meeting_ms, "alert_ms": alert_ms,
            "meeting_messages": len(meeting_ms), "expected": expected, "alert_messages": len(alert_ms) + subscribers.other_alerts}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--alerts", type=int, default=100)
    parser.add_argument("--bin-dir", default=os.path.join(ROOT, ".build-systemd", "release"))
    parser.add_argument("--qmsum", default=DEFAULT_QMSUM)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="meetingd-events-bench-")
    material = sentences(args.qmsum)
    folders = write_meetings(os.path.join(workdir, "meetings"), args.meetings, args.batch, material)
    queries = alert_queries(material, args.alerts)
    base = one_run(args, os.path.abspath(args.bin_dir), folders, [], workdir, "baseline")
    alerts = one_run(args, os.path.abspath(args.bin_dir), folders, queries, workdir, "alerts")
    print(f"{args.meetings} meetings in batches of {args.batch}, {args.subscribers} subscribers")
    for label, run in (("no alerts", base), (f"{args.alerts} alerts", alerts)):
        print(f"  {label:>10}: commit -> meeting event p50 {percentile(run['meeting_ms'], 0.5):7.1f} ms, "
              f"p99 {percentile(run['meeting_ms'], 0.99):7.1f} ms ({run['meeting_messages']} of {run['expected']} messages); "
              f"ingest {run['ingest_s']:.1f} s, last message {run['drained_s']:.1f} s after the first ingest")
    if alerts["alert_ms"]:
        print(f"  alerts: commit -> alert p50 {percentile(alerts['alert_ms'], 0.5):.1f} ms, "
              f"p99 {percentile(alerts['alert_ms'], 0.99):.1f} ms (at one subscriber; {alerts['alert_messages']} alert messages to all)")
    print(f"  ratios with alerts / without: meeting event p50 {percentile(alerts['meeting_ms'], 0.5) / percentile(base['meeting_ms'], 0.5):.2f}x, "
          f"p99 {percentile(alerts['meeting_ms'], 0.99) / percentile(base['meeting_ms'], 0.99):.2f}x, "
          f"ingest {alerts['ingest_s'] / base['ingest_s']:.2f}x, last message {alerts['drained_s'] / base['drained_s']:.2f}x")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
