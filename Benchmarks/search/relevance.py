#!/usr/bin/env python3
"""Relevance of search.query on the QMSum validation queries (issue 5).

For every specific query of val.jsonl, asks the running daemon for the top 20 turns
of that query's meeting (search.query with `meeting`), and measures the recall of
the gold `relevant_text_span` turns at 5, 10 and 20 and the share of queries with a
gold turn in the top 5 and top 10. Next to it, in the same run, plain BM25 with the
raw query: every word of it OR-ed, ranked by FTS5's bm25 over the same stored turns
(a bare FTS5 table this script builds from the corpus, `bare_fts5.py`), read directly
with Python's sqlite3.

QMSum files carry a topic list (the meeting's agenda, with turn spans), which the
ingester reads as sections; a request within a meeting favours the sections its topic
names. To measure ranking from the turns alone, ingest a copy without `topic_list`.

The daemon must serve a corpus holding val.jsonl ingested as is (`meetingd ingest
... val.jsonl` names its meetings val-0, val-1, ... in file order), e.g.:

    meetingd ingest --corpus /tmp/val.sqlite Samples ../shared/qmsum/val.jsonl
    meetingd serve --corpus /tmp/val.sqlite --endpoint tcp://127.0.0.1:5555 &
    Benchmarks/search/relevance.py --corpus /tmp/val.sqlite

usage: relevance.py --corpus FILE [--endpoint tcp://127.0.0.1:5555] [--qmsum val.jsonl] [--show N]
"""
import argparse
import json
import os
import re
import sqlite3
import sys
import tempfile

import zmq

import bare_fts5

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_QMSUM = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "qmsum", "val.jsonl"))
DEPTH = 20


def rpc(socket, method, params):
    socket.send_string(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
    if not socket.poll(30000):
        sys.exit(f"no reply to {method}")
    reply = json.loads(socket.recv())
    if "error" in reply:
        raise RuntimeError(f"{method} {params}: {reply['error']}")
    return reply["result"]


def daemon_ranking(socket, meeting_id, query):
    hits = rpc(socket, "search.query", {"q": query, "meeting": meeting_id, "limit": DEPTH})["hits"]
    return [hit["turn"] for hit in hits]


def plain_bm25_ranking(db, meeting_id, query):
    """The baseline: each word of the raw query quoted and OR-ed, FTS5's bm25 within the meeting."""
    words = re.findall(r"\w+", query.lower())
    expression = " OR ".join(f'"{word}"' for word in words)
    first, count = db.execute("SELECT first_turn, turns FROM meeting WHERE id = ?", (meeting_id,)).fetchone()
    rows = db.execute("SELECT rowid FROM baseline.turn_fts WHERE turn_fts MATCH ? AND rowid BETWEEN ? AND ? "
                      "ORDER BY rank LIMIT ?", (expression, first, first + count - 1, DEPTH)).fetchall()
    return [rowid - first for (rowid,) in rows]


def gold_turns(spans):
    return {turn for start, end in spans for turn in range(int(start), int(end) + 1)}


class Figures:
    def __init__(self, name):
        self.name, self.recall, self.hit5, self.hit10, self.count = name, {5: 0.0, 10: 0.0, 20: 0.0}, 0, 0, 0

    def add(self, ranking, gold):
        self.count += 1
        for k in self.recall:
            self.recall[k] += len(set(ranking[:k]) & gold) / len(gold)
        self.hit5 += bool(set(ranking[:5]) & gold)
        self.hit10 += bool(set(ranking[:10]) & gold)

    def row(self):
        n = max(self.count, 1)
        return (f"{self.name:<22}{self.recall[5] / n:>10.3f}{self.recall[10] / n:>11.3f}{self.recall[20] / n:>11.3f}"
                f"{self.hit5 / n:>12.3f}{self.hit10 / n:>13.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default="tcp://127.0.0.1:5555")
    parser.add_argument("--corpus", required=True, help="the SQLite corpus the daemon serves")
    parser.add_argument("--qmsum", default=DEFAULT_QMSUM)
    parser.add_argument("--show", type=int, default=0, help="print this many queries the daemon misses in the top 5")
    args = parser.parse_args()

    socket = zmq.Context.instance().socket(zmq.REQ)
    socket.linger = 0
    socket.connect(args.endpoint)
    db = sqlite3.connect(f"file:{args.corpus}?mode=ro", uri=True)
    baseline = os.path.join(tempfile.mkdtemp(prefix="relevance-"), "fts5.sqlite")
    bare_fts5.build(args.corpus, baseline)
    db.execute("ATTACH DATABASE ? AS baseline", (baseline,))
    stem = os.path.splitext(os.path.basename(args.qmsum))[0]

    ours, plain, misses = Figures("meetingd search.query"), Figures("plain BM25, raw query"), []
    with open(args.qmsum, encoding="utf-8") as lines:
        for index, line in enumerate(lines):
            meeting = json.loads(line)
            meeting_id = f"{stem}-{index}"
            for item in meeting["specific_query_list"]:
                gold = gold_turns(item["relevant_text_span"])
                ranking = daemon_ranking(socket, meeting_id, item["query"])
                ours.add(ranking, gold)
                plain.add(plain_bm25_ranking(db, meeting_id, item["query"]), gold)
                if not set(ranking[:5]) & gold:
                    misses.append((meeting_id, item["query"], ranking[:5], sorted(gold)[:3]))

    print(f"{ours.count} specific queries of {args.qmsum}, top {DEPTH} turns of the query's meeting\n")
    print(f"{'':<22}{'recall@5':>10}{'recall@10':>11}{'recall@20':>11}{'gold in 5':>12}{'gold in 10':>13}")
    print(ours.row())
    print(plain.row())
    for meeting_id, query, top, gold in misses[:args.show]:
        print(f"\nmiss {meeting_id}: {query}\n  top 5 {top}; gold starts {gold}")


if __name__ == "__main__":
    main()
