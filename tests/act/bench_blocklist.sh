#!/bin/sh
# bench_blocklist.sh SHIELD [N] - a benchmark, not a timed assertion: fill a
# store with N synthetic URL indicators through the store API
# (build/tests/test_act --bench-db), refresh the listings once, then time
# regenerating every format (rpz, domains, urls, hosts, csv, json) with
# --no-refresh, and a refresh with nothing new. Target: < 1 s for 100,000.
SHIELD=${1:-build/shield}
N=${2:-100000}
BUILD=$(dirname "$SHIELD")
if [ ! -x "$BUILD/tests/test_act" ]; then
	echo "SKIP: $BUILD/tests/test_act not built (make $BUILD/tests/test_act)"
	echo "0 passed, 0 failed"
	exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
mkdir -p "$T/out" "$T/wl/t"
printf '{"name":"bench","type":"hostname","list":["popular.example"]}\n' >"$T/wl/t/list.json"
now() { date +%s.%N; }
t0=$(now)
"$BUILD/tests/test_act" --bench-db "$T/b.db" "$N" || { echo "1 passed, 1 failed"; exit 1; }
t1=$(now)
"$SHIELD" blocklist --db "$T/b.db" --warninglists "$T/wl" --format all -o "$T/out" 2>"$T/first.err"
t2=$(now)
"$SHIELD" blocklist --db "$T/b.db" --no-refresh --format all -o "$T/out" 2>/dev/null
t3=$(now)
"$SHIELD" blocklist --db "$T/b.db" --warninglists "$T/wl" --format all -o "$T/out" 2>/dev/null
t4=$(now)
cat "$T/first.err"
entries=$(($(grep -vc '^#' "$T/out/urls.txt") + $(grep -vc '^#' "$T/out/domains.txt")))
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$t4" -v n="$N" -v m="$entries" 'BEGIN {
	printf "bench: %d indicators stored in %.2f s\n", n, b - a
	printf "bench: first refresh + all 6 formats: %.3f s (%d entries)\n", c - b, m
	printf "bench: regenerate all 6 formats (--no-refresh): %.3f s\n", d - c
	printf "bench: refresh with nothing new + all 6 formats: %.3f s\n", e - d
}'
[ "$entries" -gt 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
