#!/usr/bin/env python3
"""verdict_split.py - the seeded train/dev/test split of the shared corpora
for the verdict model (stdlib only).

Usage: verdict_split.py CORPUS_DIR OUT_DIR

CORPUS_DIR holds the unpacked sets (phishing_pot-dev/email,
spamassassin-dev/{easy-ham-1,hard-ham-1,spam-1}). OUT_DIR receives
{train,dev,test}/{phishing_pot,easy_ham,hard_ham,spam}/ folders of symlinks.

Split: a message's group key is its Subject, lower-cased, digits removed,
whitespace collapsed (the file name when there is no subject), so copies of
one campaign never straddle train and test. bucket = first 8 hex digits of
SHA-256("shield-verdict-split-v1:" + key) mod 100: 0-59 train, 60-69 dev
(thresholds), 70-99 test (the reported figures). Deterministic: same data,
same split.
"""
import email.header
import hashlib
import os
import re
import sys

SETS = {
    "phishing_pot": "phishing_pot-dev/email",
    "easy_ham": "spamassassin-dev/easy-ham-1",
    "hard_ham": "spamassassin-dev/hard-ham-1",
    "spam": "spamassassin-dev/spam-1",
}
SEED = "shield-verdict-split-v1:"


def subject_of(path):
    with open(path, "rb") as fh:
        head = fh.read(65536)
    end = re.search(rb"\r?\n\r?\n", head)
    if end:
        head = head[: end.start()]
    m = re.search(rb"(?im)^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)", head)
    if not m:
        return ""
    raw = m.group(1).decode("latin-1")
    raw = re.sub(r"\r?\n[ \t]", " ", raw)
    try:
        parts = email.header.decode_header(raw)
        raw = "".join(
            p.decode(c or "latin-1", "replace") if isinstance(p, bytes) else p for p, c in parts
        )
    except Exception:  # malformed encoded words: keep the raw text
        pass
    return raw


def split_of(path):
    key = subject_of(path).lower()
    key = re.sub(r"[0-9]+", "", key)
    key = re.sub(r"\s+", " ", key).strip()
    if not key:
        key = "file:" + os.path.basename(path)
    b = int(hashlib.sha256((SEED + key).encode("utf-8", "replace")).hexdigest()[:8], 16) % 100
    return "train" if b < 60 else "dev" if b < 70 else "test"


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    counts = {}
    for name, rel in SETS.items():
        src = os.path.join(corpus, rel)
        if not os.path.isdir(src):
            continue
        for part in ("train", "dev", "test"):
            os.makedirs(os.path.join(out, part, name), exist_ok=True)
        for f in sorted(os.listdir(src)):
            p = os.path.join(src, f)
            if not os.path.isfile(p):
                continue
            part = split_of(p)
            link = os.path.join(out, part, name, f)
            if not os.path.lexists(link):
                os.symlink(os.path.abspath(p), link)
            counts[(part, name)] = counts.get((part, name), 0) + 1
    for (part, name), n in sorted(counts.items()):
        print(f"{part:6s} {name:13s} {n:6d}")


if __name__ == "__main__":
    main()
