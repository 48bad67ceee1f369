#!/bin/sh
# campaign_growth.sh [BUILD] [N] [CHUNKS] - does the cost per report stay
# flat as the store grows? Generates N reports (default 200000) of
# campaigns scaled with mutated copies (bench/campaign_gen.py, as
# campaign_bench.sh does), splits them in CHUNKS equal parts (default 4) in
# file order, and ingests the parts one after the other into two stores,
# one without clustering (SHIELD_CAMPAIGN_DISABLE=1) and one with it,
# alternating (part 1 off, part 1 on, part 2 off, ...). For each part it
# prints ms/report off and on, the clustering's own cost (on - off) per
# report, user and system CPU, and, with clustering, the alerts, the
# commits they caused and the longest time from a report being read to the
# delivery of its alert (`alert_delay_max`). A part's time includes its
# process start and final commit. Needs ~1 GB of /tmp per 100,000 reports; the parts run pinned to
# CPU $CPU (default 1) when taskset exists. Off and on never run side by
# side: two ingests at once share the disk and made each other's later
# parts up to 1.5x slower on this machine; alternating the parts keeps the
# machine's drift (1.2x to 2x between runs an hour apart) out of on - off.
BUILD=${1:-build}
N=${2:-200000}
PARTS=${3:-4}
CPU=${CPU:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "$BUILD" in /*) BIN="$BUILD/shield" ;; *) BIN="$ROOT/$BUILD/shield" ;; esac
T=$(mktemp -d /tmp/shield-cgrowth.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
PIN=""
command -v taskset >/dev/null 2>&1 && PIN="taskset -c $CPU"
echo "generating $N reports..."
python3 "$ROOT/bench/campaign_gen.py" "$T/g" --campaigns $((N / 20 + 10)) --copies "$N" >/dev/null || exit 1
rm -f "$T/g/truth.tsv"
# parts as directories of hard links, in file order
python3 - "$T" "$PARTS" <<'PY' || exit 1
import os, sys
d, p = sys.argv[1], int(sys.argv[2])
names = sorted(os.listdir(d + "/g"))
for k in range(p):
    os.mkdir("%s/p%d" % (d, k + 1))
for i, n in enumerate(names):
    os.link("%s/g/%s" % (d, n), "%s/p%d/%s" % (d, i * p // len(names) + 1, n))
PY
field() { grep -o "\"$1\":[0-9.]*" "$2" | head -1 | cut -d: -f2; }
# ingest MODE PART - one part into the MODE store; "wall user sys" and the JSON summary in $T/out
ingest() {
	if [ "$1" = off ]; then
		SHIELD_CAMPAIGN_DISABLE=1 /usr/bin/time -f "%e %U %S" -o "$T/time" $PIN "$BIN" ingest --json \
			--db "$T/$1.db" "$T/p$2" >"$T/out" 2>/dev/null
	else
		/usr/bin/time -f "%e %U %S" -o "$T/time" $PIN "$BIN" ingest --json --db "$T/$1.db" \
			"$T/p$2" >"$T/out" 2>/dev/null
	fi || { echo "ingest ($1, part $2) failed"; exit 1; }
}
# part by part, each part first into the store without clustering, then
# into the one with it: the two halves of a row run minutes apart at most
i=1
while [ $i -le "$PARTS" ]; do
	for mode in off on; do
		ingest $mode $i
		n=$(field reports_read "$T/out")
		echo "$mode $i $n $(tail -1 "$T/time") $(field alerts "$T/out") $(field alert_commits "$T/out") $(field alert_delay_max "$T/out")" >>"$T/rows"
	done
	i=$((i + 1))
done
printf '%5s %9s %8s %8s %8s %9s %9s %7s %8s %10s\n' part "reports" "off ms" "on ms" "on-off" "off u+s" "on u+s" alerts "a.commit" "alert max"
i=1
from=0
while [ $i -le "$PARTS" ]; do
	set -- $(grep "^off $i " "$T/rows")
	n=$3; offw=$4; offc=$(echo "$5 + $6" | bc)
	set -- $(grep "^on $i " "$T/rows")
	onw=$4; onc=$(echo "$5 + $6" | bc); al=$7; ac=$8; am=$9
	printf '%5d %9s %8.3f %8.3f %8.3f %9.1f %9.1f %7d %8d %9.3fs\n' "$i" "$from-$((from + n))" \
		"$(echo "$offw * 1000 / $n" | bc -l)" "$(echo "$onw * 1000 / $n" | bc -l)" \
		"$(echo "($onw - $offw) * 1000 / $n" | bc -l)" "$offc" "$onc" "$al" "$ac" "$am"
	from=$((from + n))
	i=$((i + 1))
done
echo "store with clustering: $(du -sh "$T/on.db" | cut -f1) (+ $(du -sh "$T/on.db-raw" | cut -f1) raw pack)"
