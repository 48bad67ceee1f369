#!/bin/sh
# verdict_invariance.sh [BIN] - the verdict must not depend on how a message
# was collected: the date, the recipient, or headers a receiving server adds
# (Authentication-Results, ARC-*, Received-SPF, Received, X-*Spam*,
# Delivered-To). Takes a fixed sample of the held-out split (200 ham: 150
# easy + 50 hard; 200 phishing_pot), adds the honeypot's headers, To:
# phishing@pot and a 2024 Date to the ham, strips them from the phishing
# (tests/corpus/verdict_invariance.py), and compares `BIN extract --json`
# verdicts and scores of each original and its variant. One check per
# sample: no verdict may change. Score changes are reported.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/../shared/data"
BIN="${1:-build/shield}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
OUT="$ROOT/build/corpus"
PP="$DATA/phishing_pot-dev.tar.zst"
SA="$DATA/spamassassin-dev.tar.zst"
if [ ! -f "$PP" ] || [ ! -f "$SA" ]; then
	echo "SKIP: $PP or $SA absent"
	echo "0 passed, 0 failed"
	exit 0
fi
unpack() { # SET DIR
	[ -d "$2" ] && [ -n "$(ls -A "$2" 2>/dev/null)" ] && return 0
	mkdir -p "$2" && tar -I zstd -xf "$1" -C "$2"
}
unpack "$PP" "$OUT/phishing_pot-dev" || exit 1
unpack "$SA" "$OUT/spamassassin-dev" || exit 1
SPLIT="$OUT/verdict-split"
[ -d "$SPLIT/test" ] || python3 "$ROOT/tests/corpus/verdict_split.py" "$OUT" "$SPLIT" >/dev/null || exit 1
TMP="$OUT/verdict-invariance.$$"
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT INT TERM
PY="$ROOT/tests/corpus/verdict_invariance.py"
python3 "$PY" "$SPLIT/test/easy_ham" "$TMP/ham" add 150 >/dev/null &&
	python3 "$PY" "$SPLIT/test/hard_ham" "$TMP/ham" add 50 >/dev/null &&
	python3 "$PY" "$SPLIT/test/phishing_pot" "$TMP/phish" strip 200 >/dev/null || {
	echo "0 passed, 1 failed"
	exit 1
}
pass=0
fail=0
for s in ham phish; do
	"$BIN" extract --json "$TMP/$s/orig" >"$TMP/$s.orig.jsonl" 2>/dev/null
	"$BIN" extract --json "$TMP/$s/var" >"$TMP/$s.var.jsonl" 2>/dev/null
	res=$(python3 - "$TMP/$s.orig.jsonl" "$TMP/$s.var.jsonl" <<'PY'
import json, os, sys
def load(p):
    d = {}
    for line in open(p, "rb"):
        try:
            o = json.loads(line)
        except ValueError:
            continue
        d[(os.path.basename(o["source"]), o.get("suspect_index", 0))] = o
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
n = vc = sc = 0
ex = []
for k, o in sorted(a.items()):
    v = b.get(k)
    if v is None:
        continue
    n += 1
    if o.get("verdict") != v.get("verdict"):
        vc += 1
        ex.append("%s: %s -> %s" % (k[0], o.get("verdict"), v.get("verdict")))
    if o.get("score") != v.get("score"):
        sc += 1
        if len(ex) < 10:
            ra = {(r["code"], r["weight"]) for r in o.get("reasons") or []}
            rb = {(r["code"], r["weight"]) for r in v.get("reasons") or []}
            ex.append("%s: score %s -> %s (reasons only before: %s; only after: %s)" % (
                k[0], o.get("score"), v.get("score"), sorted(ra - rb), sorted(rb - ra)))
print(n, vc, sc)
for e in ex[:10]:
    print("   ", e)
PY
)
	set -- $(echo "$res" | head -1)
	n=$1; vc=$2; sc=$3
	what="ham + receiver headers, To phishing@pot, 2024 Date"
	[ "$s" = phish ] && what="phishing_pot - receiver headers, other To and Date"
	if [ "$vc" -eq 0 ] && [ "$n" -gt 0 ]; then
		pass=$((pass + 1)); r=ok
	else
		fail=$((fail + 1)); r=FAIL
	fi
	printf '%-52s %4d messages, %d verdicts changed, %d scores changed: %s\n' "$what" "$n" "$vc" "$sc" "$r"
	echo "$res" | tail -n +2
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
