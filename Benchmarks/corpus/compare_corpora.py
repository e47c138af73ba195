#!/usr/bin/env python3
"""Whether two corpora ingested from the same file hold the same content, table by table.

Every row of each table of the first corpus (but GRDB's migrations, SQLite's sequences and
the random generation number) is hashed (BLOBs such as index_segment.bytes by their SHA-256),
in rowid order (tables without rowid order by all columns); timestamps are left out.
Segment ids start at a random offset in each corpus (CorpusSchema), so they are compared
as offsets from the corpus's first segment id.
Usage: compare_corpora.py A.sqlite B.sqlite; exit 1 on any difference."""
import hashlib
import sqlite3
import sys

SKIPPED_TABLES = {"grdb_migrations", "sqlite_sequence", "corpus_state"}
SKIPPED_COLUMNS = {"ingested_at", "at"}


def tables(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    db.close()
    return [name for name in names if name not in SKIPPED_TABLES]


def digest_rows(path, table):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return digest_open(db, table)
    finally:
        db.close()


def digest_open(db, table):
    first_segment = db.execute("SELECT min(id) FROM index_segment").fetchone()[0] or 0
    relative = {("index_segment", "id"), ("index_deleted", "segment_id")}
    columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})") if row[1] not in SKIPPED_COLUMNS]
    if not columns:
        return None, 0, []
    without_rowid = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    order = ", ".join(columns) if "WITHOUT ROWID" in without_rowid.upper() else "rowid"
    whole = hashlib.sha256()
    samples = []
    count = 0
    selected = [f"{column} - {first_segment}" if (table, column) in relative else column for column in columns]
    for row in db.execute(f"SELECT {', '.join(selected)} FROM {table} ORDER BY {order}"):
        cells = [hashlib.sha256(cell).hexdigest() if isinstance(cell, bytes) else repr(cell) for cell in row]
        line = "\x1f".join(cells)
        whole.update(line.encode() + b"\x1e")
        if count < 3:
            samples.append(line[:200])
        count += 1
    return whole.hexdigest(), count, samples


def main(a, b):
    same = True
    for table in tables(a):
        da, na, sa = digest_rows(a, table)
        db_, nb, sb = digest_rows(b, table)
        status = "same" if (da, na) == (db_, nb) else "DIFFERENT"
        same &= status == "same"
        print(f"{table:15} {na:>9} rows  {nb:>9} rows  {status}")
        if status != "same":
            print("   a:", sa, "\n   b:", sb)
    print("corpora identical" if same else "corpora DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:3]))
