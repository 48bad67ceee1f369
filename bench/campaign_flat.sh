#!/bin/sh
# campaign_flat.sh [BUILD] [SIZES] [BATCH] [ROUNDS] - the cost of one more
# batch of reports at each store size, with and without clustering.
# BUILD may name several build directories ("build /tmp/old"): each is
# measured in every round beside the others, an A/B test that the
# machine's drift cannot tilt; the stores are built by the first.
#
# campaign_growth.sh ingests one store part after part, so each part runs
# later than the one before, and this machine drifts by 1.2x to 2x within
# the hour: its last/first ratios mix the store's growth with the
# machine's. Here the store is built once to each size of SIZES (default
# "1000 10000 50000 100000 200000"; kept as a copy per size, one without
# clustering, SHIELD_CAMPAIGN_DISABLE=1, and one with it), and then the
# same BATCH reports (default 5000, generated with the rest and held back)
# are ingested into a fresh copy of every size, all sizes and both modes
# in each of ROUNDS rounds (default 3). Every size is measured in every
# round, so drift spreads over all of them instead of piling onto the
# largest. Prints, per size and mode, the fastest round (the least
# disturbed) and the median, as ms and reports/s, and the fastest relative
# to the smallest size. A batch's time includes its process start and final
# commit. Needs ~12 GB of /tmp at the default sizes; runs pinned to CPU
# $CPU (default 1) when taskset exists. The stores are built by cstores.sh,
# shared with campaign_watch.sh.
BUILD=${1:-build}
SIZES=${2:-"1000 10000 50000 100000 200000"}
BATCH=${3:-5000}
ROUNDS=${4:-3}
CPU=${CPU:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/cstores.sh"
cstores_bins campaign_flat
T=$(mktemp -d /tmp/shield-cflat.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
PIN=""
command -v taskset >/dev/null 2>&1 && PIN="taskset -c $CPU"
cstores_generate batch
cstores_build
r=1
while [ $r -le "$ROUNDS" ]; do
	for s in $SIZES; do
		for mode in off on; do
			for b in $BINS; do
				progress 'round %d/%d: %s reports, %s    ' "$r" "$ROUNDS" "$s" "$mode"
				cstores_copy $mode $s
				run $mode "$T/w/s.db" "$T/batch" "$b"
				n=$(grep -o '"reports_read":[0-9]*' "$T/out" | cut -d: -f2)
				echo "$b $s $mode $r $n $(tail -1 "$T/time")" >>"$T/rows"
			done
		done
	done
	r=$((r + 1))
done
progress '\n'
echo "$BATCH reports into a store of each size, $ROUNDS rounds, every size in every round (arrival order: ${ORDER:-file})"
echo "(ms per report: wall of the fastest round, median wall, CPU user+sys of the fastest)"
python3 - "$T/rows" "$SIZES" $BINS <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
sizes = [int(s) for s in sys.argv[2].split()]
for b in sys.argv[3:]:
    by = {}
    for bb, s, mode, r, n, wall, user, sys_ in rows:
        if bb == b:
            by.setdefault((int(s), mode), []).append((float(wall), float(user) + float(sys_), int(n)))
    if len(sys.argv) > 4:
        print(b)
    print("%8s | %-30s | %-30s | %6s | %7s %7s" % ("store", "off: fast median  cpu   r/s",
          "on: fast median  cpu   r/s", "on/off", "off/1st", "on/1st"))
    first = {}
    for s in sizes:
        cells, fast = [], {}
        for mode in ("off", "on"):
            v = by[(s, mode)]
            n = v[0][2]
            best = min(v)
            fast[mode] = best[0] / n * 1000
            first.setdefault(mode, fast[mode])
            med = statistics.median(x[0] for x in v) / n * 1000
            cells.append("%5.3f  %5.3f  %5.3f %5.0f" % (fast[mode], med, best[1] / n * 1000, n / best[0]))
        print("%8d | %-30s | %-30s | %5.1f%% | %6.2fx %6.2fx" % (
            s, cells[0], cells[1], (fast["on"] / fast["off"] - 1) * 100,
            fast["off"] / first["off"], fast["on"] / first["on"]))
PY
