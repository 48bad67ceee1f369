#!/bin/sh
# fuzz.sh FUZZ_BUILD SECONDS - run every libFuzzer target for SECONDS,
# seeded from tests/data, with a 64 KiB input cap. Crashes are written to
# FUZZ_BUILD/crashes/ (commit minimised ones to tests/fuzz-regressions/).
# Prints "N passed, N failed" (a target passes if it found no crash).
FB=${1:-build-fuzz}
SECS=${2:-60}
cd "$(dirname "$0")/.." || exit 1
pass=0
fail=0
mkdir -p "$FB/crashes"
for f in "$FB"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	n=$(basename "$f")
	corpus="$FB/corpus/$n"
	mkdir -p "$corpus"
	cp tests/data/*.eml "$corpus/" 2>/dev/null || true
	[ -d tests/fuzz-regressions ] && cp tests/fuzz-regressions/* "$corpus/" 2>/dev/null
	if "$f" -max_total_time="$SECS" -max_len=65536 -timeout=10 -rss_limit_mb=2560 \
		-artifact_prefix="$FB/crashes/$n-" -print_final_stats=1 "$corpus" >"$FB/$n.log" 2>&1; then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$FB/$n.log" | grep -o '[0-9]*$')
		echo "ok   $n ($execs executions in ${SECS}s)"
		pass=$((pass + 1))
	else
		echo "FAIL $n"
		tail -n 30 "$FB/$n.log"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
