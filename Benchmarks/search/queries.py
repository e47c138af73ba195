"""The query set the search benchmarks share (vs_tantivy.py): latency.py's keyword queries
(rare, middling and common words, two words, two with grammar words, a meeting filter, a
date filter), phrases, prefixes, speaker filters (the `speaker` param and `speaker:` in q),
excluded phrases and prefixes, phrases ending in a prefix and `speaker:` alone, as
(group, search.query params) for a given corpus; and the two daemons that the scripts comparing
two builds on it start."""
import contextlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from latency import COMMON, MIDDLING, RARE, TWO_WORDS, Daemon  # noqa: E402

# Phrases of rare, middling and common words; prefixes covering few and many terms.
PHRASES = ['"remote control"', '"the meeting"', '"i think"', '"a lot of"', '"at the moment"', '"speech recognition"',
           '"health board"', '"of the"']
PREFIXES = ["remot*", "budg*", "design*", "interf*", "recogn*", "con*", "pre*", "sta*"]
# Exclusions of a phrase or a prefix, from a rare, a middling and a common word.
EXCLUSIONS = ['remote -"remote control"', 'budget -con*', 'think -"i think"', 'the -"of the"', 'health -men*',
              'government -pre*']
PHRASE_PREFIXES = ['"remote contr*"', '"speech rec*"', '"the meet*"', '"i thi*"', '"at the mom*"', '"of the con*"']


def queries(db, groups=None):
    """(group, params) for latency.py's keyword queries, with filters that fit a corpus of any size;
    only those of `groups` (the scripts' --groups, comma-separated) when given."""
    items = []
    for group, qs in [("rare", RARE), ("middling", MIDDLING), ("common", COMMON), ("two words", TWO_WORDS),
                      ("with a grammar word", ["the government", "speech of the president"])]:
        items += [(group, {"q": q}) for q in qs]
    count = db.execute("SELECT count(*) FROM meeting").fetchone()[0]
    meeting_ids = [row[0] for row in db.execute("SELECT id FROM meeting ORDER BY pk LIMIT 3 OFFSET ?", (count // 2,))]
    items += [("meeting filter", {"q": q, "meeting": m}) for m, q in zip(meeting_ids, ["battery", "the", "think"])]
    items += [("date filter", {"q": q, "from": "2020-01-01", "to": "2020-12-31"}) for q in ["health", "remote control"]]
    items += [("phrase", {"q": q}) for q in PHRASES]
    items += [("prefix", {"q": q}) for q in PREFIXES]
    # The most and the least prolific of the ten busiest speakers, as the param and in q.
    busiest = [row[0] for row in db.execute(
        "SELECT p.name FROM speaker s JOIN person p ON p.id = s.person_id GROUP BY p.id ORDER BY sum(s.turns) DESC LIMIT 10")]
    for name in busiest[:1] + busiest[-1:]:
        items += [("speaker", {"q": "think", "speaker": name}), ("speaker", {"q": f'budget speaker:"{name}"'}),
                  ("speaker", {"q": '"remote control"', "speaker": name})]
    items += [("exclusion", {"q": q}) for q in EXCLUSIONS]
    items += [("phrase prefix", {"q": q}) for q in PHRASE_PREFIXES]
    for name in busiest[:1] + busiest[-1:]:
        items += [("speaker alone", {"q": f'speaker:"{name}"'}), ("speaker alone", {"q": f'speaker:"{name}" -the'})]
    if groups:
        wanted = {group.strip() for group in groups.split(",")}
        unknown = wanted - {group for group, _ in items}
        if unknown:
            sys.exit(f"--groups: no group named {', '.join(sorted(unknown))}")
        items = [item for item in items if item[0] in wanted]
    return items


@contextlib.contextmanager
def daemons_before_and_after(args, workers):
    """[before, after]: `--meetingd-before` serving `--corpus-before` (default `--corpus`), then
    `--meetingd` serving `--corpus`; both stopped on the way out. Started one at a time, so that
    the first is stopped if the second cannot start."""
    daemons = []
    try:
        for binary, corpus in [(args.meetingd_before, args.corpus_before or args.corpus), (args.meetingd, args.corpus)]:
            daemons.append(Daemon(binary, corpus, workers=workers))
        yield daemons
    finally:
        for daemon in daemons:
            daemon.stop()
