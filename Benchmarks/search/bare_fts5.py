"""The FTS5 baseline of the search benchmarks, built from a corpus's stored turns.

Corpora hold no FTS5 since schema v6 (the index answers every search). Where a
benchmark compares meetingd with what an application would do with SQLite alone,
it builds this table itself, as meetingd used to: `turn_fts(text, date UNINDEXED)`,
rowid = turn id, the text without transcription marks, tokenizer
`porter unicode61 remove_diacritics 2`."""
import json
import os
import re
import sqlite3
import time
from pathlib import Path

TRANSCRIPT_TEXT = Path(__file__).resolve().parents[2] / "Sources/MeetingKit/Sources/MeetingKit/Corpus/TranscriptText.swift"


def transcript_marks():
    """MeetingKit's TranscriptText.marks (kept in the stored text, never indexed), read from
    its source so that the two cannot drift apart: the daemon exposes them nowhere."""
    found = re.search(r"public static let marks = (\[[^\]]*\])", TRANSCRIPT_TEXT.read_text())
    if not found:
        raise SystemExit(f"bare_fts5: TranscriptText.marks is no longer a literal list in {TRANSCRIPT_TEXT}")
    return json.loads(found.group(1))


MARKS = transcript_marks()


def text_without_marks_sql(column):
    """SQL giving `column` without the marks, mark by mark, as ingest strips them."""
    for mark in MARKS:
        column = f"replace({column}, '{mark}', '')"
    return column


def build(corpus, path):
    """Writes the baseline table into a new SQLite file at `path` (replacing it); returns seconds taken."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute("ATTACH DATABASE ? AS corpus", (corpus,))
    db.execute("CREATE VIRTUAL TABLE turn_fts USING fts5(text, date UNINDEXED, "
               "tokenize='porter unicode61 remove_diacritics 2')")
    db.execute(f"""INSERT INTO turn_fts (rowid, text, date)
                   SELECT turn.id, {text_without_marks_sql('turn.text')}, meeting.date
                   FROM corpus.turn JOIN corpus.meeting ON meeting.pk = turn.meeting_pk""")
    db.commit()
    db.execute("DETACH DATABASE corpus")
    db.close()
    return time.perf_counter() - started
