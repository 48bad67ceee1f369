#!/bin/sh
# asn_bench.sh - speed of IP -> AS and of feed + plan, against Python.
# Reported, not a timed test. Usage: bench/asn_bench.sh [BUILD] [EVENTS] [RUNS]
#   1. load time of the full ip-location-db table (IPv4 + IPv6 CSV), and
#      of the compiled table made from it by `shield asn --compile`
#   2. lookups/s on one core (bench/asn_lookup_bench.c)
#   3. a 1,000,000-event Shadowserver-style feed built from the same table
#      (250,000 distinct IPs, 2% IPv6, 4 tags, one day), then
#      `shield feed` + `shield notify plan --json` against
#      bench/asn_baseline.py (csv module, bisect, per-AS counting), with
#      wall time and peak RSS (/usr/bin/time); with RUNS > 1 the three are
#      run RUNS times, interleaved (fresh store each time), and the medians
#      and the median speed-up are printed as well.
# Needs ../shared/data/ip_location_db_asn.tar.zst, zstd, python3, cc.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${1:-$repo/build}
case $build in /*) ;; *) build=$repo/$build ;; esac
events=${2:-1000000}
runs=${3:-1}
shield=$build/shield
data=$repo/../shared/data
if [ ! -f "$data/ip_location_db_asn.tar.zst" ]; then
	echo "asn_bench: $data/ip_location_db_asn.tar.zst absent; skipping"
	exit 0
fi
T=$(mktemp -d /tmp/shield-asn-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
tar -I zstd -xf "$data/ip_location_db_asn.tar.zst" -C "$T"
D=$T/ip_location_db_asn
PY=$(command -v python3)

echo "== table load (full IPv4 + IPv6: $(wc -l <"$D/asn-ipv4.csv") + $(wc -l <"$D/asn-ipv6.csv") ranges)"
"$shield" asn --asn-table "$D/asn-ipv4.csv" --asn-table "$D/asn-ipv6.csv" --compile "$T/full.asnt" 2>&1 | sed 's/^/  CSV:      /'
"$shield" asn --asn-table "$T/full.asnt" --stats | sed 's/^/  compiled: /'

echo "== lookups (one core)"
cc -std=c11 -D_GNU_SOURCE -O2 -I"$repo/src" "$here/asn_lookup_bench.c" "$build/libshield.a" \
	$(pkg-config --libs libarchive libmaxminddb) -o "$T/lookup_bench"
"$T/lookup_bench" "$T/full.asnt" 20000000 | sed 's/^/  /'

echo "== feed of $events events"
"$PY" "$here/asn_baseline.py" --gen "$D/asn-ipv4.csv" "$D/asn-ipv6.csv" "$T/feed.csv" "$events" 250000
ls -l "$T/feed.csv" | awk '{printf "  feed file: %.1f MB\n", $5 / 1e6}'
one_run() {
	rm -f "$T/b.db" "$T/b.db-wal" "$T/b.db-shm"
	/usr/bin/time -f "%e %M" -o "$T/t_feed" "$shield" feed --db "$T/b.db" --asn-table "$T/full.asnt" "$T/feed.csv" | tail -1 | sed 's/^/  /'
	/usr/bin/time -f "%e %M" -o "$T/t_plan" "$shield" notify --db "$T/b.db" plan --json >"$T/plan.jsonl"
	/usr/bin/time -f "%e %M" -o "$T/t_py" "$PY" "$here/asn_baseline.py" "$D/asn-ipv4.csv" "$D/asn-ipv6.csv" "$T/feed.csv" | sed 's/^/  /'
	read -r fe fr <"$T/t_feed"
	read -r pe pr <"$T/t_plan"
	read -r ye yr <"$T/t_py"
	echo "$fe $fr $pe $pr $ye $yr" >>"$T/runs"
	awk -v fe="$fe" -v fr="$fr" -v pe="$pe" -v pr="$pr" -v ye="$ye" -v yr="$yr" -v n="$events" 'BEGIN {
	s = fe + pe
	printf "  shield feed:        %6.2f s  %8.0f events/s  peak RSS %5.0f MB\n", fe, n / fe, fr / 1024
	printf "  shield notify plan: %6.2f s                     peak RSS %5.0f MB\n", pe, pr / 1024
	printf "  python baseline:    %6.2f s  %8.0f events/s  peak RSS %5.0f MB\n", ye, n / ye, yr / 1024
	printf "  speed-up (feed + plan vs python): %.1fx (target 20x); peak RSS < 200 MB: %s\n", ye / s, (fr < 204800 && pr < 204800) ? "yes" : "NO"
}'
}
: >"$T/runs"
i=1
while [ "$i" -le "$runs" ]; do
	[ "$runs" -gt 1 ] && echo "  -- run $i of $runs"
	one_run
	i=$((i + 1))
done
if [ "$runs" -gt 1 ]; then
	# medians of each column and of the per-run speed-ups
	sort -n -k1 "$T/runs" | awk '{ print $1 }' >"$T/c1"
	awk '{ print $3 }' "$T/runs" | sort -n >"$T/c3"
	awk '{ print $5 }' "$T/runs" | sort -n >"$T/c5"
	awk '{ print $5 / ($1 + $3) }' "$T/runs" | sort -n >"$T/cs"
	awk '{ if ($2 > m) m = $2; if ($4 > m) m = $4 } END { print m }' "$T/runs" >"$T/cr"
	med() { awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }' "$1"; }
	printf '  median of %s runs: feed %s s, plan %s s, python %s s, speed-up %.1fx; max peak RSS %.0f MB\n' \
		"$runs" "$(med "$T/c1")" "$(med "$T/c3")" "$(med "$T/c5")" "$(med "$T/cs")" "$(awk '{ print $1 / 1024 }' "$T/cr")"
fi
# the per-AS totals must agree with the baseline
"$PY" - "$T/plan.jsonl" <<'EOF'
import json, sys
asns, ev = set(), 0
for l in open(sys.argv[1]):
    j = json.loads(l)
    asns.add(j['asn'])
    ev += j['events']
print('  plan: %d ASes, %d events (compare with the python line above)' % (len(asns), ev))
EOF
