#!/usr/bin/env python3
"""Ingest benchmark (issue 3): generates corpora of N meetings, ingests each with
`meetingd ingest`, and in the same run bulk-loads the same turns into a bare FTS5
table with SQLite itself (one transaction, same tokenizer), then prints MB/s,
meetings/s, peak memory and database size relative to the raw turn text.

Goals: ingest within 1.5x of the bare FTS5 load; database at most 2x the raw text.

usage: bench.py [--sizes 1000 10000] [--meetingd PATH] [--workdir DIR]
Build meetingd first: swift build -c release --product meetingd
"""
import argparse
import glob
import json
import os
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def file_size(path):
    return sum(os.path.getsize(p) for p in glob.glob(path + "*") if os.path.isfile(p))


def run_ingest(meetingd, corpus, folder):
    started = time.perf_counter()
    process = subprocess.Popen([meetingd, "ingest", "--corpus", corpus, folder],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        sys.exit(f"meetingd ingest failed ({status}): {output}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output.strip()


def bare_fts5_load(turn_texts, path):
    for stale in glob.glob(path + "*"):
        os.remove(stale)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE VIRTUAL TABLE turn USING fts5(text, tokenize='porter unicode61 remove_diacritics 2')")
    started, cpu_started = time.perf_counter(), time.process_time()
    db.execute("BEGIN")
    db.executemany("INSERT INTO turn(text) VALUES (?)", ((t,) for t in turn_texts))
    db.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return elapsed, cpu, file_size(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--meetingd", default=os.path.join(ROOT, ".build", "release", "meetingd"))
    parser.add_argument("--workdir", default=os.path.join(ROOT, ".build-corpus-bench"))
    args = parser.parse_args()
    if not os.access(args.meetingd, os.X_OK):
        sys.exit(f"no meetingd at {args.meetingd}: swift build -c release --product meetingd")
    print(f"sqlite {sqlite3.sqlite_version}, meetingd {args.meetingd}")
    # CPU seconds next to wall seconds: on a shared machine the CPU ratio is the steadier one.
    header = ("meetings", "turns", "text MB", "ingest s", "cpu s", "MB/s", "meetings/s", "peak MB", "db/text",
              "bare s", "bare cpu s", "wall ratio", "cpu ratio", "bare/text")
    print("  ".join(f"{h:>10}" for h in header))
    for size in args.sizes:
        folder = os.path.join(args.workdir, f"corpus-{size}")
        if len(glob.glob(os.path.join(folder, "*.json"))) != size:
            subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), str(size), folder], check=True)
        file_bytes = sum(os.path.getsize(p) for p in glob.glob(os.path.join(folder, "*.json")))
        corpus = os.path.join(args.workdir, f"corpus-{size}.sqlite")
        for stale in glob.glob(corpus + "*"):
            os.remove(stale)
        # Ingest before this process loads the turns: a child forked from a big parent
        # would count the parent's pages in its peak memory.
        ingest_s, ingest_cpu, peak_mb, summary = run_ingest(args.meetingd, corpus, folder)
        db_bytes = file_size(corpus)

        turn_texts = []
        for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
            with open(path, encoding="utf-8") as source:
                turn_texts += ["\n".join(t["paragraphs"]) for t in json.load(source)["turns"]]
        text_bytes = sum(len(t.encode("utf-8")) for t in turn_texts)
        bare_s, bare_cpu, bare_bytes = bare_fts5_load(turn_texts, os.path.join(args.workdir, f"bare-{size}.sqlite"))

        row = (size, len(turn_texts), f"{text_bytes / 1e6:.1f}", f"{ingest_s:.1f}", f"{ingest_cpu:.1f}",
               f"{file_bytes / 1e6 / ingest_s:.1f}", f"{size / ingest_s:.0f}", f"{peak_mb:.0f}", f"{db_bytes / text_bytes:.2f}",
               f"{bare_s:.1f}", f"{bare_cpu:.1f}", f"{ingest_s / bare_s:.2f}", f"{ingest_cpu / bare_cpu:.2f}",
               f"{bare_bytes / text_bytes:.2f}")
        print("  ".join(f"{str(v):>10}" for v in row))
        print(f"    ({summary.splitlines()[0]}; source files {file_bytes / 1e6:.1f} MB, db {db_bytes / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
