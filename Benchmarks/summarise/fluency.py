#!/usr/bin/env python3
"""How many summary sentences still read as raw talk: every QMSum query of a split through meetingd,
and in the sentences it returns, the share with

  restart    a word or a run of up to four words said twice in a row ("we we should", "the the"),
             or a start of a word before the word ("th the", "Th-the");
  fragment   a cut-off word: a lone letter other than a/A/I/i ("h having", "c those"), a capital
             before a word with its letter at the start of a clause ("B But"), a word ending in "-";
  punctuation  tokenised punctuation: a hyphen or quote between spaces ("front - end", '" tourist "'),
             a clitic after a space ("it 's"), punctuation after a space ("word ,"), an opening quote
             glued to the word before ("raised:'Oh").

    swift build --product meetingd && swift build --product summarise
    python3 Benchmarks/summarise/fluency.py                                   # the build in .build/debug
    python3 Benchmarks/summarise/fluency.py --baseline .build-before/meetingd # and another build, side by side

A daemon is started (one per build) on a corpus ingested from the split, as evaluate.py does.
"""
import argparse
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

from evaluate import ROOT, Client, Daemon

KINDS = ("restart", "fragment", "punctuation")
WORD = re.compile(r"[\w'’-]+")
# Words of two or three letters that a cut-off start of the next word ("th the", "wha what") is not.
SHORT_WORDS = set("""ad ah am an as at be by do eh go ha he hi if in is it me my no of oh ok on or so to up us we ye
act add ago aid aim air all and any app are arm art ask ate bad bag bar bed bet big bin bit box boy bug bus but buy bye
can cap car cat cup cut dad day did die dig dog dot due ear eat egg end era eye fan far fat fed fee few fit fix fly for
fun gap gas get god got guy had has hat her hey him his hit hot how ice ill its job joy key kid lab law lay led leg let
lid lie lit log lot low mad man map may men met mix mom mum net new nor not now nut odd off oil old one our out owe own
pay pen per pet pin pop pot pro put ran rat raw red rid row run sad sat saw say sea see set she shy sit six sky son sum
sun tab tag tap tax tea ten the tie tip toe too top toy try two use van via war was way web wet who why win won yes yet
you zip""".split())
PUNCTUATION = [
    re.compile(r"\w \- \w"),             # front - end
    re.compile(r'(^|\s)"(\s|$)'),        # " tourist "
    re.compile(r"(^|\s)'(\s|$)"),        # guys ' worry
    re.compile(r"\w (['’](s|re|m|ll|ve|d)|n't)\b"),  # it 's
    re.compile(r"\w [,.;:!?%)]"),        # word ,
    re.compile(r"\w[:;,]['\"‘“]\w"),     # raised:'Oh
]


def faults(sentence):
    """The kinds of raw talk left in one sentence."""
    found = set()
    matches = [m for m in WORD.finditer(sentence) if m.group().strip("'’-")]
    tokens = [m.group().strip("'’-") for m in matches]
    lower = [t.lower() for t in tokens]
    # A run said twice within one clause: "this. This" is two sentences, not a restart.
    clause = [len(re.findall(r"[.!?;:]", sentence[:m.start()])) for m in matches]
    for i in range(len(tokens)):
        for n in range(1, 5):
            if i + 2 * n <= len(tokens) and lower[i:i + n] == lower[i + n:i + 2 * n] \
                    and clause[i] == clause[i + 2 * n - 1] and any(c.isalpha() for t in lower[i:i + n] for c in t):
                found.add("restart")
        nxt = lower[i + 1] if i + 1 < len(tokens) else ""
        t = tokens[i]
        if re.fullmatch(r"[a-z]{2,3}", t) and t not in SHORT_WORDS and len(nxt) > len(t) and nxt.startswith(t):
            found.add("restart")
        if re.fullmatch(r"[b-hj-z]", t) and matches[i].group()[0] not in "'’":
            found.add("fragment")
        clause_start = i == 0 or re.search(r"[,.;:!?]\s*$", sentence[:matches[i].start()])
        if re.fullmatch(r"[B-HJ-Z]", t) and nxt.startswith(t.lower()) and clause_start:
            found.add("fragment")
    for first, second in re.findall(r"\b(\w+)-(\w+)", sentence):
        if second.lower().startswith(first.lower()) and len(first) < len(second):
            found.add("restart")
    if re.search(r"\w-(\s|$)", sentence):
        found.add("fragment")
    if any(p.search(sentence) for p in PUNCTUATION):
        found.add("punctuation")
    return found


def domain(meeting):
    speakers = {turn["speaker"].split()[0] for turn in meeting["meeting_transcripts"]}
    if speakers & {"Marketing", "Project", "Industrial", "User"}:
        return "product"
    if speakers & {"Professor", "PhD", "Grad", "Postdoc"}:
        return "academic"
    return "committee"


def measure(meetingd, split, words_budget):
    """Per domain: sentences returned and how many have each fault; with examples."""
    daemon = Daemon(meetingd, split)
    counts, examples = Counter(), {}
    try:
        client = Client(daemon.endpoint)
        client.wait_ready()
        for number, line in enumerate(split.read_text().splitlines()):
            meeting = json.loads(line)
            kind = domain(meeting)
            for query in meeting["general_query_list"] + meeting["specific_query_list"]:
                result = client.call("summarise.meeting", {"meeting": f"{split.stem}-{number}", "query": query["query"],
                                                           "max_words": words_budget})
                for sentence in result["sentences"]:
                    found = faults(sentence["text"])
                    for scope in (kind, "all"):
                        counts[scope, "sentences"] += 1
                        counts[scope, "any"] += bool(found)
                        for fault in found:
                            counts[scope, fault] += 1
                    for fault in found:
                        examples.setdefault(fault, []).append(sentence["text"])
    finally:
        daemon.stop()
    return counts, examples


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default=str(ROOT.parent / "shared" / "qmsum" / "val.jsonl"), help="a QMSum .jsonl file")
    parser.add_argument("--meetingd", default=os.environ.get("MEETINGD_BIN", str(ROOT / ".build/debug/meetingd")))
    parser.add_argument("--baseline", help="another meetingd build to measure the same way, printed first")
    parser.add_argument("--words", type=int, default=100, help="max_words of each summary (default 100)")
    parser.add_argument("--show", type=int, default=0, help="print this many sentences of each fault (of --meetingd)")
    args = parser.parse_args()

    split = Path(args.split)
    builds = ([("baseline", args.baseline)] if args.baseline else []) + [("meetingd", args.meetingd)]
    measured = [(label, *measure(path, split, args.words)) for label, path in builds]
    print(f"summarise.meeting on {split.name}, max_words {args.words}: share of returned sentences with")
    print(f"{'build':<10}{'domain':<11}{'sentences':>10}" + "".join(f"{k:>13}" for k in (*KINDS, "any")))
    for label, counts, _ in measured:
        for scope in ("all", "product", "academic", "committee"):
            total = counts[scope, "sentences"]
            if total:
                print(f"{label:<10}{scope:<11}{total:>10}" + "".join(f"{counts[scope, k] / total * 100:>12.1f}%" for k in (*KINDS, "any")))
    _, _, examples = measured[-1]
    for fault in KINDS:
        for text in examples.get(fault, [])[:args.show]:
            print(f"{fault}: {text}")


if __name__ == "__main__":
    sys.exit(main())
