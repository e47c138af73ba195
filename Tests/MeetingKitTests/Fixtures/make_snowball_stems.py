#!/usr/bin/env python3
"""Writes the reference stems the analyzer test compares with: Snowball's own
algorithms as the `snowballstemmer` package implements them (pure Python, not
libstemmer), at the version Debian's libstemmer has (2.2.0).

    pip install snowballstemmer==2.2.0
    Tests/MeetingKitTests/Fixtures/make_snowball_stems.py ../shared/qmsum/val.jsonl

English words are the 3,000 most frequent and 1,000 rarer words of the QMSum file;
Russian words are those of russian_words.txt (text from official pages' layout).
"""
import collections, json, random, re, sys
from pathlib import Path

import snowballstemmer

here = Path(__file__).parent
counts = collections.Counter()
for line in open(sys.argv[1], encoding="utf-8"):
    for turn in json.loads(line)["meeting_transcripts"]:
        counts.update(re.findall(r"[a-z]+(?:'[a-z]+)?", turn["content"].lower()))
ranked = [word for word, _ in counts.most_common()]
random.seed(11)
english = ranked[:3000] + random.sample(ranked[3000:], 1000)
english += ["café", "naïve", "résumé", "generously", "o'regan", "cepstrum"]
russian = sorted(set(re.findall(r"[а-яё]+", (here / "russian_words.txt").read_text(encoding="utf-8").lower().replace("ё", "е"))))

for name, words in (("english", english), ("russian", russian)):
    stemmer = snowballstemmer.stemmer(name)
    with open(here / f"snowball_{name}.tsv", "w", encoding="utf-8") as out:
        for word in words:
            out.write(f"{word}\t{stemmer.stemWord(word)}\n")
