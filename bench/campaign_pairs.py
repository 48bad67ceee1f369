#!/usr/bin/env python3
"""campaign_pairs.py - pairwise precision/recall of Shield's campaigns.

Usage: campaign_pairs.py TRUTH.tsv REPORTS.jsonl
TRUTH.tsv: file name (basename) -> label; REPORTS.jsonl: `shield reports
--json` (source, campaign_id). Only files in TRUTH count; a pair is
positive when both files carry the same label. Prints
"precision P recall R pairs TP FP FN files N".
"""
import sys, os, collections
from itertools import combinations

truth = {}
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    f, lab = line.rstrip("\n").split("\t")[:2]
    truth[f] = lab
import json
pred = {}
for line in open(sys.argv[2], encoding="utf-8"):
    j = json.loads(line)
    b = os.path.basename(j["source"])
    if b in truth and b not in pred:
        pred[b] = j.get("campaign_id") or ("none-" + b)
files = sorted(pred)
# count pairs via contingency (no all-pairs loop)
ct = collections.Counter((truth[f], pred[f]) for f in files)
tl = collections.Counter(truth[f] for f in files)
pl = collections.Counter(pred[f] for f in files)
c2 = lambda n: n * (n - 1) // 2
tp = sum(c2(n) for n in ct.values())
same_pred = sum(c2(n) for n in pl.values())
same_true = sum(c2(n) for n in tl.values())
fp, fn = same_pred - tp, same_true - tp
p = tp / same_pred if same_pred else 1.0
r = tp / same_true if same_true else 1.0
print("precision %.3f recall %.3f pairs tp=%d fp=%d fn=%d files %d" % (p, r, tp, fp, fn, len(files)))
if len(sys.argv) > 3:
    # worst offenders: predicted clusters mixing labels, labels split
    by_pred = collections.defaultdict(collections.Counter)
    for f in files:
        by_pred[pred[f]][truth[f]] += 1
    mixed = sorted(((sum(c.values()) ** 2 - sum(v * v for v in c.values()), k, c)
                    for k, c in by_pred.items() if len(c) > 1), key=lambda x: -x[0])[:8]
    for _, k, c in mixed:
        print("  mixed campaign", k, dict(c.most_common(5)))
    by_true = collections.defaultdict(collections.Counter)
    for f in files:
        by_true[truth[f]][pred[f]] += 1
    split = sorted(((sum(c.values()) ** 2 - sum(v * v for v in c.values()), k, c)
                    for k, c in by_true.items() if len(c) > 1), key=lambda x: -x[0])[:8]
    for _, k, c in split:
        print("  split label", k, dict(c.most_common(6)))
