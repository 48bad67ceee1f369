#!/bin/sh
# campaign_bench.sh [BUILD] [SIZES] - reports/s of `shield ingest` with and
# without campaign clustering (SHIELD_CAMPAIGN_DISABLE=1) on generated
# campaigns scaled with mutated copies (bench/campaign_gen.py --copies),
# both in the same run, and arrival-to-visible: the wall time of ingesting
# one more report into the clustered store of that size (process start,
# parsing, clustering, commit; an upper bound, since a running ingest has
# no start-up). Default sizes: 1000 10000 50000 200000 (the last needs
# ~2 GB of /tmp).
BUILD=${1:-build}
SIZES=${2:-"1000 10000 50000 200000"}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/$BUILD/shield"
T=$(mktemp -d /tmp/shield-cbench.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
now() { date +%s.%N; }
printf '%8s %10s %10s %9s %12s %14s\n' reports "off rep/s" "on rep/s" overhead "on ms/report" "one more (ms)"
for n in $SIZES; do
	rm -rf "$T/g" "$T"/*.db*
	python3 "$ROOT/bench/campaign_gen.py" "$T/g" --campaigns $((n / 20 + 10)) --copies "$n" >/dev/null
	rm -f "$T/g/truth.tsv"
	one=$(ls "$T/g" | head -1)
	cp "$T/g/$one" "$T/one.eml"
	m=$(ls "$T/g" | wc -l)
	s=$(now); SHIELD_CAMPAIGN_DISABLE=1 "$BIN" ingest --quiet --db "$T/off.db" "$T/g" 2>/dev/null || { echo "ingest (off) failed at $n"; exit 1; }; e=$(now)
	off=$(echo "$e - $s" | bc)
	s=$(now); "$BIN" ingest --quiet --db "$T/on.db" "$T/g" 2>/dev/null || { echo "ingest (on) failed at $n"; exit 1; }; e=$(now)
	on=$(echo "$e - $s" | bc)
	printf 'X-Bench-Mutation: one-more\n' | cat - "$T/one.eml" >"$T/one2.eml"
	s=$(now); "$BIN" ingest --quiet --db "$T/on.db" "$T/one2.eml" 2>/dev/null; e=$(now)
	lat=$(echo "($e - $s) * 1000" | bc)
	printf '%8d %10.0f %10.0f %8.1f%% %12.3f %14.0f\n' "$m" "$(echo "$m / $off" | bc -l)" "$(echo "$m / $on" | bc -l)" \
		"$(echo "($on - $off) * 100 / $off" | bc -l)" "$(echo "$on * 1000 / $m" | bc -l)" "$lat"
done
