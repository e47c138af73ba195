#!/usr/bin/env python3
"""Writes a realistic corpus of N meetings in meetingd's JSON form, one meeting per file
(or, with --jsonl, one meeting per line of OUTPUT, a single JSONL file).

Turns recombine real sentences of the QMSum transcripts (so the vocabulary, the
transcription marks and the sentence lengths are real); meetings get dates,
places, titles from QMSum topics and speakers from QMSum's speaker names. Turn
and word counts follow the shape of the corpus issue 5 measures against (about
250 turns and 8,600 words a meeting). Deterministic for a given --seed.

usage: generate.py N OUTPUT_DIR [--qmsum DIR] [--seed S]
       generate.py N OUTPUT.jsonl --jsonl [--qmsum DIR] [--seed S]
"""
import argparse
import json
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_QMSUM = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "qmsum"))
PLACES = ["Geneva", "The Kremlin, Moscow", "Cardiff Bay", "Berkeley, California", "Edinburgh", "Brussels",
          "Novo-Ogaryovo, Moscow Region", "Vienna", "Sochi", "London", "Videoconference"]
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z{])")


def load_material(qmsum_dir):
    sentences, speakers, topics = [], set(), []
    for name in sorted(os.listdir(qmsum_dir)):
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(qmsum_dir, name), encoding="utf-8") as lines:
            for line in lines:
                meeting = json.loads(line)
                topics += [t["topic"] for t in meeting.get("topic_list", [])]
                for turn in meeting["meeting_transcripts"]:
                    speakers.add(turn["speaker"].strip())
                    sentences += [s for s in SENTENCE_END.split(turn["content"].strip()) if s]
    return sentences, sorted(speakers), topics


def meeting(index, rng, sentences, speakers, topics):
    cast = rng.sample(speakers, rng.randint(3, 8))
    turns = []
    for position in range(max(20, int(rng.gauss(250, 80)))):
        # Most turns are short; some run long, as in QMSum (mean about 34 words).
        count = 1 if rng.random() < 0.4 else min(14, 1 + int(rng.expovariate(0.28)))
        text = " ".join(rng.choice(sentences) for _ in range(count))
        turns.append({"index": position, "speaker": rng.choice(cast), "paragraphs": [text]})
    year = rng.randint(2000, 2024)
    return {
        "id": f"gen-{index:06d}",
        "title": rng.choice(topics),
        "date": f"{year:04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "place": rng.choice(PLACES),
        "participants": [{"name": name} for name in cast],
        "turns": turns,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", type=int)
    parser.add_argument("output")
    parser.add_argument("--qmsum", default=DEFAULT_QMSUM)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jsonl", action="store_true", help="write one JSONL file (the same meetings as without it)")
    args = parser.parse_args()
    sentences, speakers, topics = load_material(args.qmsum)
    rng = random.Random(args.seed)
    if args.jsonl:
        with open(args.output, "w", encoding="utf-8") as out:
            for index in range(args.count):
                out.write(json.dumps(meeting(index, rng, sentences, speakers, topics), ensure_ascii=False) + "\n")
        return
    os.makedirs(args.output, exist_ok=True)
    for index in range(args.count):
        path = os.path.join(args.output, f"gen-{index:06d}.json")
        with open(path, "w", encoding="utf-8") as out:
            json.dump(meeting(index, rng, sentences, speakers, topics), out, ensure_ascii=False)


if __name__ == "__main__":
    main()
