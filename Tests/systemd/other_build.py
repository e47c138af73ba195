#!/usr/bin/env python3
"""other_build.py SRC DST: copies the Swift module SRC to DST as if it had been
compiled against another MeetingKit build: the hash in its build fingerprint
("MeetingKit <16 hex>, Swift <version>", which exportModule hands the daemon)
is changed, nothing else. Prints the fingerprint before and after, one a line.
Used by Tests/systemd/run.sh and Tests/python/test_build_fingerprint.py."""
import re
import sys

FINGERPRINT = re.compile(rb"MeetingKit ([0-9a-f]{16}), Swift [0-9A-Za-z.\-]+")
OTHER_DIGIT = bytes.maketrans(b"0123456789abcdef", b"fedcba9876543210")  # no digit maps to itself

src, dst = sys.argv[1:3]
data = open(src, "rb").read()
found = {m.group(0) for m in FINGERPRINT.finditer(data)}
if len(found) != 1:
    sys.exit(f"other_build.py: {src} holds {len(found)} build fingerprints, expected 1: {sorted(found)}")
old = found.pop()
digits = FINGERPRINT.match(old).group(1)
new = old.replace(digits, digits.translate(OTHER_DIGIT))
with open(dst, "wb") as out:
    out.write(data.replace(old, new))
print(old.decode())
print(new.decode())
