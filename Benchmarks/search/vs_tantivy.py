#!/usr/bin/env python3
"""meetingd's index against tantivy (issue 12's benchmark, not a test).

One command: generates N meetings as one JSONL file (Benchmarks/corpus/generate.py
--jsonl), ingests it with the release meetingd, builds a tantivy index (pip
`tantivy==0.27.0`, in-process, English stemmer) from the same stored turns, then
runs queries.py's queries (words common to rare, two words, phrases, prefixes,
with and without meeting, date and speaker filters, exclusions, phrases ending in a
prefix, a speaker alone) through the daemon (search.query
over pyzmq) and through tantivy (top 10, stored fields, one snippet per hit) in
alternating rounds. Prints p50/p90/p99 per system and the ratios, throughput with 1
and 4 clients, the first query on a freshly started daemon, and build time, index
size and peak RSS of both builds, and the daemon's memory while serving (after the query
rounds): resident anonymous memory against file-mapped pages, per process.

usage: vs_tantivy.py [--meetings 10000] [--rounds 5] [--seconds 10] [--work DIR] [--reuse]
                     [--groups 'speaker,phrase']
--reuse keeps the corpus and tantivy's index that an earlier run left in --work (to time
a new build's queries without generating and ingesting again: build figures are then not
printed); --groups runs only the named query groups.
Builds the release meetingd first if it is missing:
  swift build -c release --build-path .build-release
"""
import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from queries import queries  # noqa: E402
from latency import ROOT, Daemon, daemon_times, percentile, throughput  # noqa: E402

TURNS_SQL = """
    SELECT turn.id, turn.text, coalesce(person.name, ''), meeting.id, coalesce(meeting.date, '')
    FROM turn JOIN meeting ON meeting.pk = turn.meeting_pk LEFT JOIN person ON person.id = turn.person_id
    ORDER BY turn.id"""


def timed_with_rss(command):
    """Runs command under /usr/bin/time -v: (seconds, peak RSS in MB, stdout)."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return seconds, rss_kb / 1024, done.stdout


def tantivy_schema():
    import tantivy
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("text", stored=True, tokenizer_name="en_stem", index_option="position")
    builder.add_text_field("speaker", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("meeting", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("date", stored=True, indexed=True, fast=True)
    builder.add_integer_field("turn", stored=True)
    return builder.build()


def date_number(date):
    """2020-12-18 as 20201218 (0 when the meeting has no date), for range filters."""
    return int(date.replace("-", "")) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) else 0


def build_tantivy(corpus, directory):
    """Run in a child process (`--build-tantivy`), so that its peak RSS is its own."""
    import tantivy
    os.makedirs(directory, exist_ok=True)
    index = tantivy.Index(tantivy_schema(), path=directory)
    writer = index.writer()
    db = sqlite3.connect(f"file:{corpus}?mode=ro", uri=True)
    for turn, text, speaker, meeting, date in db.execute(TURNS_SQL):
        writer.add_document(tantivy.Document(text=text, speaker=speaker, meeting=meeting, date=date_number(date), turn=turn))
    writer.commit()
    writer.wait_merging_threads()


class Tantivy:
    """The same query, top 10, stored fields and one snippet per hit, in-process."""

    def __init__(self, directory):
        import tantivy
        self.tantivy = tantivy
        self.index = tantivy.Index.open(directory)
        self.schema = self.index.schema
        self.searcher = self.index.searcher()
        # The field's en_stem analyzer, for the words of a phrase ending in a prefix.
        self.stem = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.remove_long(40)) \
            .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.stemmer("english")).build().analyze

    def query(self, params):
        tantivy = self.tantivy
        q = params["q"]
        speakers = re.findall(r'speaker:"([^"]*)"', q)
        q = re.sub(r'speaker:"[^"]*"', " ", q)
        clauses = []
        for term in re.findall(r'-?"[^"]*"|\S+', q):
            # `-` excludes a word, a phrase or a prefix, as in meetingd's syntax.
            occur = tantivy.Occur.MustNot if term.startswith("-") and len(term) > 1 else tantivy.Occur.Must
            term = term[1:] if occur == tantivy.Occur.MustNot else term
            if term.startswith('"') and term.endswith('*"'):
                # A phrase ending in a prefix is one phrase: its words stemmed, the prefix over stemmed terms.
                phrase = term[1:-2]
                words = [re.escape(word) for word in self.stem(phrase)[:-1]]
                prefix = re.escape(phrase.split()[-1].lower()) + ".*"
                clauses.append((occur, tantivy.Query.regex_phrase_query(self.schema, "text", words + [prefix])))
            elif term.endswith("*"):
                # tantivy's prefixes match stemmed terms; meetingd's cover the terms of the words
                # starting with them, which can be more ("negotiat*" also finds "negotiations").
                clauses.append((occur, tantivy.Query.regex_query(self.schema, "text", re.escape(term[:-1].lower()) + ".*")))
            else:
                clauses.append((occur, self.index.parse_query(term, ["text"])))
        if "speaker" in params:
            speakers.append(params["speaker"])
        for name in speakers:
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "speaker", name)))
        if "meeting" in params:
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "meeting", params["meeting"])))
        if "from" in params or "to" in params:
            clauses.append((tantivy.Occur.Must, tantivy.Query.range_query(
                self.schema, "date", tantivy.FieldType.Integer, date_number(params.get("from", "0000-01-01")),
                date_number(params.get("to", "9999-12-31")))))
        return tantivy.Query.boolean_query(clauses)

    def search(self, params):
        query = self.query(params)
        snippets = self.tantivy.SnippetGenerator.create(self.searcher, query, self.schema, "text")
        hits = []
        for score, address in self.searcher.search(query, 10).hits:
            document = self.searcher.doc(address)
            hits.append((score, document["turn"][0], snippets.snippet_from_doc(document).to_html()))
        return hits

    def times(self, items):
        samples = []
        for _, params in items:
            started = time.perf_counter()
            self.search(params)
            samples.append([(time.perf_counter() - started) * 1e6])
        return samples

    def throughput(self, items, clients, seconds):
        done, stop = [0] * clients, time.monotonic() + seconds

        def run(index):
            i = index
            while time.monotonic() < stop:
                self.search(items[i % len(items)][1])
                done[index] += 1
                i += 1

        threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(done) / seconds


def serving_memory(pid, corpus):
    """The resident memory of the daemon `pid` and of its child processes, if it has any, in MB
    from /proc/PID/smaps: anonymous (heap, stacks: what the goal of 150 MB counts), files of
    the corpus's folder mapped in (the index segments, SQLite's pages), and the other files mapped
    (the binaries)."""
    children = [int(name) for name in os.listdir("/proc") if name.isdigit()
                and _parent(int(name)) == pid]
    rows = []
    # The corpus's folder: SQLite's files and the unnamed files the index segments are mapped from.
    corpus_prefix = os.path.dirname(os.path.realpath(corpus)) + os.sep
    for process in [pid, *children]:
        anonymous = corpus_files = other_files = private_dirty = 0
        path = None
        with open(f"/proc/{process}/smaps") as smaps:
            for line in smaps:
                field, _, rest = line.partition(":")
                if " " in field or "-" in field:  # a mapping's header line: range, perms, offset, dev, inode, path
                    parts = line.split(None, 5)
                    path = parts[5].strip() if len(parts) > 5 else ""
                    continue
                kb = int(rest.split()[0]) if rest.split() and rest.split()[0].isdigit() else 0
                if field == "Anonymous":
                    anonymous += kb
                elif field == "Private_Dirty":
                    private_dirty += kb
                elif field == "Rss" and path.startswith("/"):
                    if os.path.realpath(path.split(" (deleted)")[0]).startswith(corpus_prefix):
                        corpus_files += kb
                    else:
                        other_files += kb
        with open(f"/proc/{process}/smaps_rollup") as rollup:
            rss = int(re.search(r"^Rss:\s+(\d+)", rollup.read(), re.M).group(1))
        rows.append({"pid": process, "rss": rss / 1024, "anonymous": anonymous / 1024,
                     "private_dirty": private_dirty / 1024, "corpus_files": corpus_files / 1024,
                     "other_files": other_files / 1024})
    return rows


def _parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def folder_bytes(directory):
    return sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(directory) for name in names)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10, help="each throughput measurement")
    parser.add_argument("--work", default="/tmp/vs-tantivy", help="where the corpus and the indexes are written")
    parser.add_argument("--meetingd", default=os.path.join(ROOT, ".build-release", "release", "meetingd"))
    parser.add_argument("--reuse", action="store_true", help="keep the corpus and tantivy index already in --work")
    parser.add_argument("--groups", help="comma-separated query groups to run (default: all)")
    parser.add_argument("--build-tantivy", nargs=2, metavar=("CORPUS", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_tantivy:
        build_tantivy(*args.build_tantivy)
        return

    if not os.path.exists(args.meetingd):
        subprocess.run(["swift", "build", "-c", "release", "--build-path", os.path.join(ROOT, ".build-release")],
                       cwd=ROOT, check=True)
    jsonl = os.path.join(args.work, f"gen{args.meetings}.jsonl")
    corpus = os.path.join(args.work, "corpus.sqlite")
    tantivy_dir = os.path.join(args.work, "tantivy")
    if args.reuse:
        if not os.path.exists(corpus) or not os.path.isdir(tantivy_dir):
            sys.exit(f"--reuse: no corpus.sqlite and tantivy/ in {args.work}: run once without --reuse")
    else:
        shutil.rmtree(args.work, ignore_errors=True)
        os.makedirs(args.work)
        subprocess.run([sys.executable, os.path.join(ROOT, "Benchmarks", "corpus", "generate.py"), str(args.meetings),
                        jsonl, "--jsonl"], check=True)
        ours_build = timed_with_rss([args.meetingd, "ingest", "--corpus", corpus, jsonl])
        theirs_build = timed_with_rss([sys.executable, os.path.abspath(__file__), "--build-tantivy", corpus,
                                       tantivy_dir])
    db = sqlite3.connect(f"file:{corpus}?mode=ro", uri=True)
    meetings, turns = db.execute("SELECT count(*), sum(turns) FROM meeting").fetchone()
    segments, segment_bytes = db.execute("SELECT count(*), sum(length(bytes)) FROM index_segment").fetchone()
    items = queries(db, args.groups)
    print(f"corpus: {meetings} meetings, {turns} turns; "
          f"{len(items)} queries, top 10 with snippets, {args.rounds} alternating rounds\n")

    engine = Tantivy(tantivy_dir)
    daemon = Daemon(args.meetingd, corpus, workers=4)
    try:
        started = time.perf_counter()
        daemon.call("search.query", {**items[0][1], "limit": 10})
        first_query_ms = (time.perf_counter() - started) * 1e3
        # One warm-up round each: page cache, statements, speakers' turn runs.
        daemon_times(daemon, items, 1)
        engine.times(items)
        ours, theirs = [[] for _ in items], [[] for _ in items]
        for _ in range(args.rounds):
            for samples, new in zip(ours, daemon_times(daemon, items, 1)):
                samples += new
            for samples, new in zip(theirs, engine.times(items)):
                samples += new
        rps = {(name, clients): run(clients) for clients in (1, 4) for name, run in [
            ("meetingd", lambda c: throughput(daemon, items, c, args.seconds)),
            ("tantivy", lambda c: engine.throughput(items, c, args.seconds))]}
        memory = serving_memory(daemon.process.pid, corpus)
    finally:
        daemon.stop()

    flat = {"meetingd": [x for xs in ours for x in xs], "tantivy": [x for xs in theirs for x in xs]}
    print(f"{'':<22}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'1 client/s':>12}{'4 clients/s':>13}")
    for name in flat:
        print(f"{name:<22}" + "".join(f"{percentile(flat[name], p) / 1e3:>9.2f}" for p in (50, 90, 99))
              + f"{rps[(name, 1)]:>12.0f}{rps[(name, 4)]:>13.0f}")
    print(f"{'ratio meetingd/tantivy':<22}"
          + "".join(f"{percentile(flat['meetingd'], p) / percentile(flat['tantivy'], p):>9.2f}" for p in (50, 90, 99))
          + f"{rps[('meetingd', 1)] / rps[('tantivy', 1)]:>12.2f}{rps[('meetingd', 4)] / rps[('tantivy', 4)]:>13.2f}")
    print("\nper group, p50 / p99 ms (meetingd | tantivy):")
    for group in dict.fromkeys(item[0] for item in items):
        a = [x for item, xs in zip(items, ours) if item[0] == group for x in xs]
        b = [x for item, xs in zip(items, theirs) if item[0] == group for x in xs]
        print(f"  {group:<20}{percentile(a, 50) / 1e3:>8.2f} /{percentile(a, 99) / 1e3:>8.2f}  |"
              f"{percentile(b, 50) / 1e3:>8.2f} /{percentile(b, 99) / 1e3:>8.2f}")
    print(f"\nfirst query on a fresh daemon (after READY): {first_query_ms:.1f} ms")
    print("daemon memory while serving, after the rounds (MB; the goal: anonymous under 150):")
    print(f"  {'process':<10}{'RSS':>8}{'anonymous':>11}{'private dirty':>15}{'corpus files':>14}{'other files':>13}")
    for row in memory:
        print(f"  {row['pid']:<10}{row['rss']:>8.0f}{row['anonymous']:>11.0f}{row['private_dirty']:>15.0f}"
              f"{row['corpus_files']:>14.0f}{row['other_files']:>13.0f}")
    if args.reuse:
        return
    print(f"JSONL: {os.path.getsize(jsonl) / 1e6:.0f} MB")
    print(f"{'build':<10}{'seconds':>9}{'peak RSS MB':>13}  index size")
    print(f"{'meetingd':<10}{ours_build[0]:>9.1f}{ours_build[1]:>13.0f}  {segment_bytes / 1e6:.1f} MB in {segments} "
          f"segments (the whole corpus file, text included: {os.path.getsize(corpus) / 1e6:.0f} MB)")
    print(f"{'tantivy':<10}{theirs_build[0]:>9.1f}{theirs_build[1]:>13.0f}  {folder_bytes(tantivy_dir) / 1e6:.1f} MB "
          f"(postings, positions and the stored turns)")
    print("\nmeetingd's build is `meetingd ingest` of the JSONL (store and index); tantivy's reads the stored "
          "turns and indexes them (its time includes starting Python).")


if __name__ == "__main__":
    main()
