#!/bin/sh
# campaign_bench.sh [BUILD] [SIZES] - reports/s of `shield ingest` with and
# without campaign clustering (SHIELD_CAMPAIGN_DISABLE=1) on generated
# campaigns scaled with mutated copies (bench/campaign_gen.py --copies),
# and arrival-to-visible: the wall time of ingesting one more report into
# the clustered store of that size (process start, parsing, clustering,
# commit; an upper bound, since a running ingest has no start-up).
# Default sizes: 1000 10000 50000 200000 (the last needs ~2 GB of /tmp).
#
# The machine is shared, so each size runs off/on interleaved $RUNS times
# (default 3) into fresh stores, pinned to CPU $CPU (default 1) when
# taskset exists, and prints the medians: wall-clock rates, the overhead
# in wall time and in user CPU time (less sensitive to other load).
# CORPUS=DIR measures DIR (e.g. the phishing_pot e-mails) instead of
# generated sets; SIZES is then ignored.
BUILD=${1:-build}
SIZES=${2:-"1000 10000 50000 200000"}
RUNS=${RUNS:-3}
CPU=${CPU:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "$BUILD" in /*) BIN="$BUILD/shield" ;; *) BIN="$ROOT/$BUILD/shield" ;; esac
T=$(mktemp -d /tmp/shield-cbench.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
PIN=""
command -v taskset >/dev/null 2>&1 && PIN="taskset -c $CPU"
now() { date +%s.%N; }
# run MODE DIR - ingest DIR into a fresh store; prints "wall user"
run() {
	rm -f "$T/$1.db" "$T/$1.db-wal" "$T/$1.db-shm"
	s=$(now)
	if [ "$1" = off ]; then
		( SHIELD_CAMPAIGN_DISABLE=1 $PIN "$BIN" ingest --quiet --db "$T/off.db" "$2" 2>/dev/null; times ) >"$T/times" || return 1
	else
		( $PIN "$BIN" ingest --quiet --db "$T/on.db" "$2" 2>/dev/null; times ) >"$T/times" || return 1
	fi
	e=$(now)
	# the second line of `times` is the children's user and system time
	u=$(sed -n 2p "$T/times" | awk '{ s = $1; m = s; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", s); sub(/s$/, "", s); print m * 60 + s }')
	echo "$(echo "$e - $s" | bc) $u"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%8s %10s %10s %9s %9s %12s %14s\n' reports "off rep/s" "on rep/s" "wall +%" "user +%" "on ms/report" "one more (ms)"
measure() { # DIR COUNT
	: >"$T/offw"; : >"$T/onw"; : >"$T/offu"; : >"$T/onu"
	i=0
	while [ $i -lt "$RUNS" ]; do
		r=$(run off "$1") || { echo "ingest (off) failed"; exit 1; }
		echo "$r" | cut -d' ' -f1 >>"$T/offw"; echo "$r" | cut -d' ' -f2 >>"$T/offu"
		r=$(run on "$1") || { echo "ingest (on) failed"; exit 1; }
		echo "$r" | cut -d' ' -f1 >>"$T/onw"; echo "$r" | cut -d' ' -f2 >>"$T/onu"
		i=$((i + 1))
	done
	off=$(median <"$T/offw"); on=$(median <"$T/onw")
	offu=$(median <"$T/offu"); onu=$(median <"$T/onu")
	lat=0
	if [ -f "$T/one.eml" ]; then
		printf 'X-Bench-Mutation: one-more\n' | cat - "$T/one.eml" >"$T/one2.eml"
		s=$(now); $PIN "$BIN" ingest --quiet --db "$T/on.db" "$T/one2.eml" 2>/dev/null; e=$(now)
		lat=$(echo "($e - $s) * 1000" | bc)
	fi
	printf '%8d %10.0f %10.0f %8.1f%% %8.1f%% %12.3f %14.0f\n' "$2" "$(echo "$2 / $off" | bc -l)" \
		"$(echo "$2 / $on" | bc -l)" "$(echo "($on - $off) * 100 / $off" | bc -l)" \
		"$(echo "($onu - $offu) * 100 / $offu" | bc -l)" "$(echo "$on * 1000 / $2" | bc -l)" "$lat"
}
if [ -n "${CORPUS:-}" ]; then
	m=$(find "$CORPUS" -type f | wc -l)
	f=$(find "$CORPUS" -type f | head -1)
	[ -n "$f" ] && cp "$f" "$T/one.eml"
	measure "$CORPUS" "$m"
	exit 0
fi
for n in $SIZES; do
	rm -rf "$T/g" "$T/one.eml"
	python3 "$ROOT/bench/campaign_gen.py" "$T/g" --campaigns $((n / 20 + 10)) --copies "$n" >/dev/null
	rm -f "$T/g/truth.tsv"
	one=$(ls "$T/g" | head -1)
	cp "$T/g/$one" "$T/one.eml"
	measure "$T/g" "$(ls "$T/g" | wc -l)"
done
