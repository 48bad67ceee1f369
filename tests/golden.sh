#!/bin/sh
# golden.sh BIN - for each tests/data/<case>.eml with a
# tests/data/<case>.expected.json, run `shield extract --json` and diff the
# pretty-printed output against the expected file (unified diff on
# mismatch). UPDATE_GOLDEN=1 rewrites the expected files instead: review
# the diff with git before committing them.
BIN=${1:-build/shield}
cd "$(dirname "$0")/.." || exit 1
pass=0
fail=0
pretty() {
	python3 -c 'import json,sys
for line in sys.stdin:
    line=line.strip()
    if line: print(json.dumps(json.loads(line), indent=1, ensure_ascii=False, sort_keys=False))'
}
for eml in tests/data/*.eml; do
	exp=${eml%.eml}.expected.json
	if [ -n "${UPDATE_GOLDEN:-}" ]; then
		"$BIN" extract --json "$eml" | pretty >"$exp"
		continue
	fi
	[ -f "$exp" ] || continue
	got=$("$BIN" extract --json "$eml" | pretty)
	if printf '%s\n' "$got" | diff -u "$exp" - >/tmp/golden.$$ 2>&1; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $eml"
		head -n 60 /tmp/golden.$$
	fi
done
rm -f /tmp/golden.$$
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
