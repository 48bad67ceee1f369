#!/usr/bin/env python3
"""verdict_report.py - quality figures of the verdict stage (stdlib only).

Usage: verdict_report.py DIR

DIR holds one `shield extract --json` output per set (phishing_pot.jsonl,
easy_ham.jsonl, hard_ham.jsonl, spam.jsonl) over the held-out test split.
Prints the confusion matrix, figures per language, the 20 worst mistakes
with their reasons, and checks the targets of issue 3; the last line is
"N passed, N failed" and the exit status is non-zero if a target is missed.
"""
import json
import os
import sys

CLASSES = ["phishing", "malware", "scam", "spam", "legitimate", "unknown", "null"]
SETS = ["phishing_pot", "easy_ham", "hard_ham", "spam"]
MALICIOUS = {"phishing", "malware", "scam", "spam"}  # for phishing_pot: caught
FLAGGED = {"phishing", "malware"}  # for ham: a false alarm


def load(path):
    out = []
    with open(path, "rb") as fh:
        for line in fh:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def pct(a, b):
    return 100.0 * a / b if b else 0.0


def main():
    d = sys.argv[1]
    data = {}
    for s in SETS:
        p = os.path.join(d, s + ".jsonl")
        if os.path.exists(p):
            data[s] = load(p)
    print("Confusion matrix (held-out test split; rows: corpus, columns: verdict)")
    print("%-13s %6s " % ("set", "n") + " ".join("%10s" % c for c in CLASSES))
    for s, objs in data.items():
        cnt = {c: 0 for c in CLASSES}
        for o in objs:
            cnt[o.get("verdict") or "null"] = cnt.get(o.get("verdict") or "null", 0) + 1
        print("%-13s %6d " % (s, len(objs)) + " ".join("%10d" % cnt[c] for c in CLASSES))
    print()
    print("Per language (detected: phishing_pot not legitimate/unknown; "
          "false alarms: ham judged phishing/malware)")
    print("%-6s %-13s %6s %9s %8s" % ("lang", "set", "n", "ok", "rate"))
    for s, objs in data.items():
        langs = {}
        for o in objs:
            lg = o.get("language") or "?"
            n, ok = langs.get(lg, (0, 0))
            v = o.get("verdict")
            if s == "phishing_pot":
                good = v in MALICIOUS
            elif s == "spam":
                good = v in MALICIOUS
            else:
                good = v not in FLAGGED
            langs[lg] = (n + 1, ok + (1 if good else 0))
        for lg, (n, ok) in sorted(langs.items(), key=lambda kv: -kv[1][0]):
            print("%-6s %-13s %6d %9d %7.1f%%" % (lg, s, n, ok, pct(ok, n)))
    print()
    worst = []
    for s, objs in data.items():
        for o in objs:
            v = o.get("verdict")
            sc = o.get("score") or 0
            if s == "phishing_pot" and v not in MALICIOUS:
                worst.append((100 - sc, s, o))
            elif s in ("easy_ham", "hard_ham") and v in FLAGGED:
                worst.append((sc + 100, s, o))
    worst.sort(key=lambda t: -t[0])
    print("20 worst mistakes (false alarms on ham first, then missed phishing_pot, "
          "by score) of %d" % len(worst))
    for _, s, o in worst[:20]:
        subj = (o.get("subject") or "")[:70].replace("\n", " ")
        print("- [%s] %s -> %s (score %s, lang %s) subject: %s" % (
            s, os.path.basename(o.get("source", "?")), o.get("verdict"), o.get("score"),
            o.get("language"), subj))
        for r in o.get("reasons") or []:
            det = (r.get("detail") or "")[:160]
            print("      %+4d %-24s %s" % (r.get("weight", 0), r.get("code"), det))
    print()
    passed = failed = 0

    def target(name, value, ok):
        nonlocal passed, failed
        print("%-58s %6.2f%%  %s" % (name, value, "ok" if ok else "MISSED"))
        if ok:
            passed += 1
        else:
            failed += 1

    print("Targets (issue 3)")
    if "phishing_pot" in data:
        objs = data["phishing_pot"]
        r = pct(sum(o.get("verdict") in MALICIOUS for o in objs), len(objs))
        target("phishing_pot judged phishing/malware/scam/spam (>= 97%)", r, r >= 97.0)
    if "easy_ham" in data:
        objs = data["easy_ham"]
        r = pct(sum(o.get("verdict") in FLAGGED for o in objs), len(objs))
        target("easy ham judged phishing or malware (<= 0.5%)", r, r <= 0.5)
    if "hard_ham" in data:
        objs = data["hard_ham"]
        r = pct(sum(o.get("verdict") in FLAGGED for o in objs), len(objs))
        target("hard ham judged phishing or malware (<= 3%)", r, r <= 3.0)
    if "spam" in data:
        objs = data["spam"]
        r = pct(sum(o.get("verdict") in MALICIOUS for o in objs), len(objs))
        print("%-58s %6.2f%%  (informative)" % ("spam-1 judged spam/scam/phishing/malware", r))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
