"""`meetingd ingest` reads a JSONL file a line (meeting) at a time, in parts: a bad line is
reported as `failed: FILE: line N: reason` (exit 1) and the other lines are kept, and a
big file ingests to the same corpus as the same meetings in separate files."""
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from meetingd_client import MEETINGD, ROOT


def ingest(corpus, *sources):
    return subprocess.run([str(MEETINGD), "ingest", "--corpus", str(corpus), *map(str, sources)],
                          capture_output=True, text=True, timeout=1200)


def small_meeting(number):
    return {"id": f"m{number}", "title": f"Meeting {number}",
            "turns": [{"index": 0, "speaker": "Ann Lee", "paragraphs": [f"Item {number} about the budget."]},
                      {"index": 1, "speaker": "Bo Chen", "paragraphs": ["Agreed."]}]}


def meeting_ids(corpus):
    with sqlite3.connect(corpus) as db:
        return [row[0] for row in db.execute("SELECT id FROM meeting ORDER BY id")]


def test_a_bad_line_is_reported_by_number_and_the_other_lines_are_kept(tmp_path):
    lines = [json.dumps(small_meeting(n)) for n in range(1, 6)]
    lines[2] = '{"id": "m3", "title": "cut off'
    source = tmp_path / "meetings.jsonl"
    source.write_text("\n".join(lines) + "\n")
    corpus = tmp_path / "corpus.sqlite"

    first = ingest(corpus, source)
    assert first.returncode == 1, first.stdout + first.stderr
    output = first.stdout + first.stderr
    assert f"failed: {source}: line 3: invalid or truncated JSON" in output
    assert "line 1" not in output and "line 4" not in output
    assert meeting_ids(corpus) == ["m1", "m2", "m4", "m5"]

    # The file stays unfinished: the next run reads it again and reports the line again.
    again = ingest(corpus, source)
    assert again.returncode == 1 and f"{source}: line 3:" in again.stdout + again.stderr
    assert meeting_ids(corpus) == ["m1", "m2", "m4", "m5"]

    lines[2] = json.dumps(small_meeting(3))
    source.write_text("\n".join(lines) + "\n")
    fixed = ingest(corpus, source)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert meeting_ids(corpus) == ["m1", "m2", "m3", "m4", "m5"]
    assert "1 unchanged" in ingest(corpus, source).stdout


def test_a_line_with_a_nul_byte_is_refused_by_number(tmp_path):
    lines = [json.dumps(small_meeting(n)).encode() for n in range(1, 4)]
    lines[1] = lines[1].replace(b"Item 2", b"Item\x002")
    source = tmp_path / "meetings.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    corpus = tmp_path / "corpus.sqlite"

    result = ingest(corpus, source)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"failed: {source}: line 2: contains NUL bytes" in result.stdout + result.stderr
    assert meeting_ids(corpus) == ["m1", "m3"]


def corpus_content(corpus):
    """Every meeting with its turns' speakers and text, in id and turn order."""
    with sqlite3.connect(corpus) as db:
        return db.execute("""
            SELECT meeting.id, meeting.title, meeting.date, meeting.turns, turn.idx, person.name, turn.text
            FROM meeting JOIN turn ON turn.meeting_pk = meeting.pk LEFT JOIN person ON person.id = turn.person_id
            ORDER BY meeting.id, turn.idx""").fetchall()


def test_a_large_jsonl_file_ingests_as_the_same_meetings_in_separate_files():
    directory = Path(tempfile.mkdtemp(prefix="meetingd-jsonl-"))
    generate = [sys.executable, str(ROOT / "Benchmarks/corpus/generate.py"), "200"]
    # About 13 MB: written in several parts.
    subprocess.run([*generate, str(directory / "all.jsonl"), "--jsonl"], check=True, timeout=600)
    subprocess.run([*generate, str(directory / "files")], check=True, timeout=600)
    assert (directory / "all.jsonl").stat().st_size > 8_000_000

    from_lines, from_files = directory / "lines.sqlite", directory / "files.sqlite"
    assert ingest(from_lines, directory / "all.jsonl").returncode == 0
    assert ingest(from_files, directory / "files").returncode == 0

    content = corpus_content(from_lines)
    assert len({row[0] for row in content}) == 200
    assert content == corpus_content(from_files)
    for corpus in (from_lines, from_files):
        check = subprocess.run([str(MEETINGD), "index", "--check", "--corpus", str(corpus)],
                               capture_output=True, text=True, timeout=600)
        assert check.returncode == 0 and "consistent" in check.stdout + check.stderr, check.stdout + check.stderr
