#!/usr/bin/env python3
"""Builds summarise's summary-words table (Plugins/summarise/summary_words.json) from QMSum's training splits.

    python3 Benchmarks/summarise/summary_words.py            # academic-train and committee-train
    python3 Benchmarks/summarise/summary_words.py --out /tmp/summary_words.json --min-queries 50

QMSum's answers are written in the third person by annotators: "the" is in 93% of the answers
whose talk says it, "that" in 73%, "was" in 61%, "they" in 45%; "you", "my", "gonna", "yeah" in 1%
or less. A sentence made of words that answers keep shares more of its
words with an answer. For each word, the share of training queries whose answer says it among
the queries whose talk (the turns of the annotated spans, or the whole meeting for a general
query) says it, smoothed towards the rate over all words by `--prior` queries; only words said in
the talk of `--min-queries` queries or more are kept (the others read as the base rate), so the
table holds common words, not one committee's subjects. Words are lower-cased runs of a-z and
0-9, as the module reads them (ROUGE's tokeniser without its stemming). Never built from val or test.
"""
import argparse
import json
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPLITS = [ROOT.parent / "shared" / "qmsum" / f"{name}.jsonl" for name in ("academic-train", "committee-train")]


def words(text):
    """Lower-cased runs of a-z and 0-9 (transcription marks such as {vocalsound} dropped first)."""
    return re.sub(r"[^a-z0-9]+", " ", re.sub(r"\{[^}]*\}", " ", text).lower()).split()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "Plugins/summarise/summary_words.json")
    parser.add_argument("--min-queries", type=int, default=100, help="keep words said in the talk of this many queries (100)")
    parser.add_argument("--prior", type=float, default=20, help="smoothing towards the base rate, in queries (20)")
    args = parser.parse_args()

    said, kept = Counter(), Counter()
    for path in SPLITS:
        for line in path.read_text().splitlines():
            meeting = json.loads(line)
            turns = meeting["meeting_transcripts"]
            for query in meeting["general_query_list"] + meeting["specific_query_list"]:
                spans = query.get("relevant_text_span")
                scope = [turn for a, b in spans for turn in turns[int(a):int(b) + 1]] if spans else turns
                answer = set(words(query["answer"]))
                for word in {word for turn in scope for word in words(turn["content"])}:
                    said[word] += 1
                    kept[word] += word in answer
    base = sum(kept.values()) / sum(said.values())
    table = {word: round((kept[word] + args.prior * base) / (said[word] + args.prior), 4)
             for word in sorted(said) if said[word] >= args.min_queries}
    args.out.write_text(json.dumps({"trained_on": [path.name for path in SPLITS], "min_queries": args.min_queries,
                                    "prior": args.prior, "base": round(base, 4), "words": table}, indent=0) + "\n")
    print(f"{len(table)} words, base rate {base:.4f}: wrote {args.out}")


if __name__ == "__main__":
    main()
