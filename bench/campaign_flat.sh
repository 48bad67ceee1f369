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
# $CPU (default 1) when taskset exists.
BUILD=${1:-build}
SIZES=${2:-"1000 10000 50000 100000 200000"}
BATCH=${3:-5000}
ROUNDS=${4:-3}
CPU=${CPU:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BINS=""
for b in $BUILD; do
	case "$b" in /*) bin="$b/shield" ;; *) bin="$ROOT/$b/shield" ;; esac
	[ -x "$bin" ] || { echo "campaign_flat: no shield at $bin (run make first)" >&2; exit 1; }
	BINS="$BINS $bin"
done
BIN=${BINS# }
BIN=${BIN%% *}
T=$(mktemp -d /tmp/shield-cflat.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
progress() { [ -t 2 ] && printf "\r$@" >&2; }
PIN=""
command -v taskset >/dev/null 2>&1 && PIN="taskset -c $CPU"
MAX=0
for s in $SIZES; do [ "$s" -gt "$MAX" ] && MAX=$s; done
TOTAL=$((MAX + BATCH))
echo "generating $TOTAL reports ($MAX for the stores, $BATCH for the batch)..."
python3 "$ROOT/bench/campaign_gen.py" "$T/g" --campaigns $((TOTAL / 20 + 10)) --copies "$TOTAL" \
	>/dev/null || exit 1
rm -f "$T/g/truth.tsv"
# the generator shuffles its messages over all campaigns, so in file order
# the held-back batch continues campaigns the stores already hold (more of
# them the larger the store) and starts some new ones
python3 - "$T" "$MAX" "$SIZES" <<'PY' || exit 1
import os, sys
d, mx, sizes = sys.argv[1], int(sys.argv[2]), sorted(int(s) for s in sys.argv[3].split())
names = sorted(os.listdir(d + "/g"))
os.mkdir(d + "/batch")
for n in names[mx:]:
    os.link("%s/g/%s" % (d, n), "%s/batch/%s" % (d, n))
lo = 0
for s in sizes:
    os.mkdir("%s/to%d" % (d, s))
    for n in names[lo:s]:
        os.link("%s/g/%s" % (d, n), "%s/to%d/%s" % (d, s, n))
    lo = s
PY
run() { # run MODE DB DIR [BIN] - ingest DIR into DB; "wall user sys" in $T/time
	b=${4:-$BIN}
	if [ "$1" = off ]; then
		SHIELD_CAMPAIGN_DISABLE=1 /usr/bin/time -f "%e %U %S" -o "$T/time" $PIN "$b" ingest \
			--json --db "$2" "$3" >"$T/out" 2>/dev/null
	else
		/usr/bin/time -f "%e %U %S" -o "$T/time" $PIN "$b" ingest --json --db "$2" "$3" \
			>"$T/out" 2>/dev/null
	fi || { echo "ingest ($1, $3, $b) failed" >&2; exit 1; }
}
for mode in off on; do
	mkdir "$T/$mode"
	for s in $(echo $SIZES | tr ' ' '\n' | sort -n); do
		progress 'building the %s stores: %s reports   ' "$mode" "$s"
		run $mode "$T/$mode/s.db" "$T/to$s"
		mkdir "$T/snap_${mode}_$s"
		cp "$T/$mode/s.db" "$T/$mode/s.db-raw" "$T/snap_${mode}_$s/"
	done
	rm -rf "$T/$mode"
done
progress '\n'
r=1
while [ $r -le "$ROUNDS" ]; do
	for s in $SIZES; do
		for mode in off on; do
			for b in $BINS; do
				progress 'round %d/%d: %s reports, %s    ' "$r" "$ROUNDS" "$s" "$mode"
				rm -rf "$T/w"
				mkdir "$T/w"
				cp "$T/snap_${mode}_$s/s.db" "$T/snap_${mode}_$s/s.db-raw" "$T/w/"
				sync
				run $mode "$T/w/s.db" "$T/batch" "$b"
				n=$(grep -o '"reports_read":[0-9]*' "$T/out" | cut -d: -f2)
				echo "$b $s $mode $r $n $(tail -1 "$T/time")" >>"$T/rows"
			done
		done
	done
	r=$((r + 1))
done
progress '\n'
echo "$BATCH reports into a store of each size, $ROUNDS rounds, every size in every round"
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
