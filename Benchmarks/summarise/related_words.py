#!/usr/bin/env python3
"""Builds summarise's related-words table (Plugins/summarise/related.json) from QMSum's training splits.

    python3 Benchmarks/summarise/related_words.py            # academic-train and committee-train
    python3 Benchmarks/summarise/related_words.py --out /tmp/related.json --neighbours 3

A question may name its subject in other words than the talk does ("company sign" for a
logo). Words said together in the same stretch of talk are related: the talk of each training
meeting is cut into windows of `--window` words, and two stems are related by their normalised
pointwise mutual information over those windows (NPMI: 1 when always together, 0 when as often
as chance). Each stem keeps its `--neighbours` best neighbours at NPMI `--min-npmi` or more,
seen together in `--min-together` windows at least. Stems are the analyzer's (Snowball's
English stemmer, through libstemmer as meetingd calls it), function words are skipped by the
same lists the module uses, read from its sources. Never built from val or test.
"""
import argparse
import ctypes
import ctypes.util
import json
import math
import re
from collections import Counter
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPLITS = [ROOT.parent / "shared" / "qmsum" / f"{name}.jsonl" for name in ("academic-train", "committee-train")]


class Stemmer:
    """Snowball's English stemmer from libstemmer, the library meetingd's analyzer uses."""

    def __init__(self):
        library = ctypes.CDLL(ctypes.util.find_library("stemmer") or "libstemmer.so.0d")
        library.sb_stemmer_new.restype = ctypes.c_void_p
        library.sb_stemmer_new.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        library.sb_stemmer_stem.restype = ctypes.POINTER(ctypes.c_ubyte)
        library.sb_stemmer_stem.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        library.sb_stemmer_length.argtypes = [ctypes.c_void_p]
        self.library, self.stemmer, self.cache = library, library.sb_stemmer_new(b"english", None), {}

    def __call__(self, word):
        if word not in self.cache:
            raw = word.encode()
            output = self.library.sb_stemmer_stem(self.stemmer, raw, len(raw))
            self.cache[word] = bytes(output[:self.library.sb_stemmer_length(self.stemmer)]).decode()
        return self.cache[word]


def swift_word_set(path, name):
    """The string literals of the Swift set literal `name` in `path`."""
    text = path.read_text()
    body = re.search(rf"{name}: Set<String> = \[(.*?)\]", text, re.S).group(1)
    return set(re.findall(r'"([^"]*)"', body))


def function_words():
    return (swift_word_set(ROOT / "Sources/MeetingKit/Sources/MeetingKit/Language/StopWords.swift", "english")
            | swift_word_set(ROOT / "Plugins/summarise/SpokenText.swift", "spokenFunctionWords")
            | swift_word_set(ROOT / "Plugins/summarise/SpokenText.swift", "phatic"))


# Words as the analyzer cuts them (letters and digits, an apostrophe between letters), without
# QMSum's transcription marks ({vocalsound}, {disfmarker}).
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
MARK = re.compile(r"\{[^}]*\}")


def windows(paths, size, stem, skip):
    """Each training meeting's content stems, cut into windows of `size` words of talk."""
    for path in paths:
        for line in path.read_text().splitlines():
            words = []
            for turn in json.loads(line)["meeting_transcripts"]:
                words += WORD.findall(MARK.sub(" ", turn["content"].lower()))
            for start in range(0, len(words), size):
                stems = {stem(word) for word in words[start:start + size]
                         if word not in skip and len(word) > 1 and not word.isdigit()}
                if stems:
                    yield stems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "Plugins/summarise/related.json"))
    parser.add_argument("--window", type=int, default=100, help="words of talk per window (default 100)")
    parser.add_argument("--neighbours", type=int, default=5, help="neighbours kept per stem (default 5)")
    parser.add_argument("--min-npmi", type=float, default=0.3, help="least NPMI kept (default 0.3)")
    parser.add_argument("--min-together", type=int, default=5, help="least windows a pair shares (default 5)")
    args = parser.parse_args()

    stem, skip = Stemmer(), function_words()
    single, together, count = Counter(), Counter(), 0
    for window in windows(SPLITS, args.window, stem, skip):
        count += 1
        single.update(window)
        together.update(combinations(sorted(window), 2))
    neighbours = {}
    for (a, b), shared in together.items():
        if shared < args.min_together:
            continue
        joint = shared / count
        npmi = math.log(joint / (single[a] / count * single[b] / count)) / -math.log(joint)
        if npmi >= args.min_npmi:
            neighbours.setdefault(a, []).append((b, npmi))
            neighbours.setdefault(b, []).append((a, npmi))
    table = {term: [[other, round(npmi, 3)] for other, npmi in sorted(related, key=lambda e: (-e[1], e[0]))[:args.neighbours]]
             for term, related in sorted(neighbours.items())}
    Path(args.out).write_text(json.dumps({
        "source": "QMSum academic-train and committee-train, Benchmarks/summarise/related_words.py "
                  f"--window {args.window} --neighbours {args.neighbours} --min-npmi {args.min_npmi} "
                  f"--min-together {args.min_together}",
        "neighbours": table}, indent=0, ensure_ascii=False) + "\n")
    print(f"{count} windows, {len(single)} stems, {len(table)} with neighbours -> {args.out}")


if __name__ == "__main__":
    main()
