#!/bin/sh
# Robustness run: `BIN extract --json` over the whole phishing_pot dev corpus
# and the SpamAssassin dev set (easy-ham-1, hard-ham-1, spam-1).
# Usage: tests/corpus/corpus_run.sh [BIN]   (BIN defaults to build/shield;
#        give build-asan/shield from `make asan` for the sanitizer run)
# Checks per set: exit status 0 or 1 (no signal, no other status), every
# line valid JSON, every input file has at least one object (files vs
# distinct `source` values), no "ERROR: AddressSanitizer" / "LeakSanitizer"
# / "runtime error:" (UBSan) on stderr.  One check per set and criterion.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/../shared/data"
BIN="${1:-build/shield}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
OUT="$ROOT/build/corpus"
PP="$DATA/phishing_pot-dev.tar.zst"
SA="$DATA/spamassassin-dev.tar.zst"
if [ ! -f "$PP" ] && [ ! -f "$SA" ]; then
	echo "SKIP: $PP and $SA absent"
	echo "0 passed, 0 failed"
	exit 0
fi
if [ ! -x "$BIN" ]; then
	echo "error: $BIN is not an executable (build it with make)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
pass=0
fail=0
unpack() { # SET DIR
	[ -d "$2" ] && [ -n "$(ls -A "$2" 2>/dev/null)" ] && return 0
	mkdir -p "$2" && tar -I zstd -xf "$1" -C "$2"
}
SETS=""
if [ -f "$PP" ]; then
	unpack "$PP" "$OUT/phishing_pot-dev" && SETS="$SETS phishing_pot-dev/email"
else
	echo "SKIP: $PP absent"
fi
if [ -f "$SA" ]; then
	unpack "$SA" "$OUT/spamassassin-dev" &&
		SETS="$SETS spamassassin-dev/easy-ham-1 spamassassin-dev/hard-ham-1 spamassassin-dev/spam-1"
else
	echo "SKIP: $SA absent"
fi
TMP="$OUT/run.$$"
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT INT TERM
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
total_files=0
total_objs=0
printf '%-28s %7s %8s %8s %5s %s\n' set files objects sources exit result
for s in $SETS; do
	dir="$OUT/$s"
	start=$(date +%s.%N)
	"$BIN" extract --json "$dir" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	end=$(date +%s.%N)
	files=$(find "$dir" -type f | wc -l)
	res=$(python3 - "$TMP/out" "$dir" <<'PY'
import json, os, sys
out, d = sys.argv[1], sys.argv[2]
files = set()
for root, _d, fs in os.walk(d):
    for f in fs:
        files.add(os.path.join(root, f))
srcs, bad, n = set(), 0, 0
with open(out, "rb") as fh:
    for line in fh:
        n += 1
        try:
            o = json.loads(line)
        except ValueError:
            bad += 1
            continue
        srcs.add(o.get("source"))
missing = sorted(files - srcs)
print(n, len(srcs & files), bad, len(missing), " ".join(os.path.basename(m) for m in missing[:10]))
PY
)
	set -- $res
	objs=$1; nsrc=$2; bad=$3; nmiss=$4; shift 4; missing="$*"
	why=""
	case $rc in 0|1) ;; *) why="$why exit=$rc" ;; esac
	[ "$rc" -gt 128 ] 2>/dev/null && why="$why (signal $((rc - 128)))"
	[ "$bad" -ne 0 ] && why="$why invalid-json-lines=$bad"
	[ "$nmiss" -ne 0 ] && why="$why files-without-object=$nmiss ($missing)"
	if grep -q -E "ERROR: AddressSanitizer|ERROR: LeakSanitizer|LeakSanitizer|runtime error:" "$TMP/err"; then
		why="$why sanitizer-report"
		grep -E -m 5 "ERROR: (Address|Leak)Sanitizer|SUMMARY|runtime error:" "$TMP/err" | sed 's/^/    /'
	fi
	secs=$(echo "$end - $start" | bc 2>/dev/null || echo "?")
	if [ -z "$why" ]; then
		pass=$((pass + 1)); r="ok (${secs}s)"
	else
		fail=$((fail + 1)); r="FAIL:$why"
		head -c 2000 "$TMP/err" | sed 's/^/    stderr: /'
	fi
	printf '%-28s %7d %8d %8d %5d %s\n' "$s" "$files" "$objs" "$nsrc" "$rc" "$r"
	total_files=$((total_files + files))
	total_objs=$((total_objs + objs))
done
echo "total: $total_files files, $total_objs JSON objects"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
