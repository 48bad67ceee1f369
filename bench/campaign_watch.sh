#!/bin/sh
# campaign_watch.sh [BUILD] [SIZES] [BATCH] [ROUNDS] - the cost of one more
# batch of reports at each store size, with and without clustering, when
# Shield runs resident (`shield ingest --watch MAILDIR`, caches warm) instead
# of as one cold `shield ingest` per batch.
#
# campaign_flat.sh found 5,000-report batches not flat (1.42x more per report
# at 200k than at 1k with clustering, +51% for clustering at 200k) and traced
# it to per-run cold starts: campaigns, keys and their pages are read again
# by every run, and a 5,000-report run spreads that over few reports. A
# resident process pays it once. So here, as in campaign_flat.sh (whose
# stores cstores.sh builds for both: one per size of SIZES, default "1000
# 10000 50000 100000 200000", without clustering, SHIELD_CAMPAIGN_DISABLE=1,
# and with it), two batches of BATCH reports (default 5000) are held back
# after the stores' reports, in generator file order: a warm-up batch and
# the measured batch. For every round of ROUNDS (default 3), size, mode and
# build of BUILD (several build directories are measured side by side, as
# in campaign_flat.sh; the stores are built by the first):
#   - resident: a fresh copy of the store, an empty Maildir, and the watcher
#     started on them with --json; the warm-up batch is delivered (linked
#     into tmp/, renamed into new/) and waited for in cur/ (its cycles warm
#     the caches), then the measured batch likewise; then SIGTERM, which
#     must end the watcher with status 0 and its final summary. The cost is
#     the sum of the "seconds" (and "cpu_seconds") of the cycles printed
#     after the warm-up's, per report of the measured batch: the processing
#     and commits, not the time spent waiting for files. Their "reports"
#     must add up to the batch, and cur/ must hold every delivered file.
#     The watcher wakes at the first file renamed into new/, so a batch
#     is usually a small first cycle and then cycles of up to 2,000 (each a
#     commit); the range of cycles per measured batch is printed.
#   - cold, in the same round for comparison: a fresh copy, the warm-up
#     batch ingested by one `shield ingest --quiet`, then the measured batch
#     by another, timed as campaign_flat.sh times it (the whole process:
#     start, the run, its final commit).
# Every size is measured in every round, so the machine's drift spreads
# over all of them. Prints per build, size and mode the resident fastest
# round (the least disturbed) and median, its CPU time, reports/s, the cold
# fastest round, and the resident on/off and vs-the-smallest-size ratios.
# The question: is the resident cost per report flat from 1k to 200k, and
# does clustering add at most 30%? Needs ~12 GB of /tmp at the default
# sizes; shield runs pinned to CPU $CPU (default 1) when taskset exists.
# WAIT_LIMIT (seconds, default 60 + BATCH/50) bounds the wait for a batch.
# ORDER=date delivers the reports in Date order instead of the generator's
# shuffled file order (see cstores.sh: a real feed's working set).
BUILD=${1:-build}
SIZES=${2:-"1000 10000 50000 100000 200000"}
BATCH=${3:-5000}
ROUNDS=${4:-3}
CPU=${CPU:-1}
LIMIT=${WAIT_LIMIT:-$((60 + BATCH / 50))}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/cstores.sh"
cstores_bins campaign_watch
for b in $BINS; do
	"$b" ingest --help 2>&1 | grep -q -- --watch ||
		{ echo "campaign_watch: $b has no ingest --watch" >&2; exit 1; }
done
T=$(mktemp -d /tmp/shield-cwatch.XXXXXX)
WPID=""
cleanup() {
	if [ -n "$WPID" ]; then
		kill -TERM "$WPID" 2>/dev/null
		gone "$WPID" 30 || kill -KILL "$WPID" 2>/dev/null
		wait "$WPID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
PIN=""
command -v taskset >/dev/null 2>&1 && PIN="taskset -c $CPU"

gone() { # gone PID SECONDS - wait until PID has exited; 1 if it has not in time
	n=$(($2 * 10))
	while kill -0 "$1" 2>/dev/null; do
		[ $n -le 0 ] && return 1
		sleep 0.1
		n=$((n - 1))
	done
}
fail() { # fail MESSAGE - the error, the watcher's output and stderr; exit 1
	echo "campaign_watch: $1" >&2
	echo "--- watcher stdout (last 5 lines):" >&2
	tail -5 "$T/wout" >&2
	echo "--- watcher stderr:" >&2
	cat "$T/werr" >&2
	exit 1
}
count() { ls "$1" | wc -l | tr -d ' '; }
deliver() { # deliver SRC - Maildir delivery of SRC's files into $M: link into tmp/, rename into new/
	python3 - "$1" "$M" <<'PY' || fail "delivery of $1 failed"
import os, sys
src, m = sys.argv[1:]
names = sorted(os.listdir(src))
for n in names:
    os.link(os.path.join(src, n), os.path.join(m, "tmp", n))
for n in names:
    os.rename(os.path.join(m, "tmp", n), os.path.join(m, "new", n))
PY
}
wait_cur() { # wait_cur N WHAT - poll until $M/cur holds N files
	end=$(($(date +%s) + LIMIT))
	while :; do
		c=$(count "$M/cur")
		[ "$c" -eq "$1" ] && return 0
		[ "$c" -gt "$1" ] && fail "$2: cur/ holds $c files, $1 delivered"
		if ! kill -0 "$WPID" 2>/dev/null; then
			wait "$WPID"
			rc=$?
			WPID=""
			fail "$2: the watcher exited (status $rc) with $c of $1 files in cur/"
		fi
		[ "$(date +%s)" -ge "$end" ] &&
			fail "$2: after ${LIMIT}s cur/ holds $c of $1 files (new/ $(count "$M/new"), tmp/ $(count "$M/tmp"))"
		sleep 0.1
	done
}
cycles() { # cycles FROM [CHECK] - "reports seconds cpu_seconds cycles failures" summed over the
	# cycle lines of the watcher's output after line FROM; with CHECK, also the final summary's checks
	python3 - "$T/wout" "$1" "${2:-}" "$NW" "$NB" <<'PY'
import json, sys
path, skip, check, nw, nb = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
lines = open(path).read().split("\n")
if lines[-1] == "" or not check:
    lines.pop()  # the empty piece after the last newline, or a line still being written
objs = []
for i, l in enumerate(lines):
    try:
        objs.append(json.loads(l))
    except ValueError:
        sys.exit("line %d of the watcher's output is not JSON: %r" % (i + 1, l[:200]))
cyc = [o for o in objs[skip:] if "cycle" in o]
rep = sum(o.get("reports", 0) for o in cyc)
sec = sum(o.get("seconds", 0) for o in cyc)
cpu = sum(o["cpu_seconds"] for o in cyc) if all("cpu_seconds" in o for o in cyc) else -1
fails = sum(o.get("failures", 0) for o in cyc)
if check:
    if not objs or "reports_read" not in objs[-1] or "cycle" in objs[-1]:
        sys.exit("no final summary (a line with \"reports_read\" and no \"cycle\") at the end")
    if any("cycle" not in o for o in objs[:-1]):
        sys.exit("a line without \"cycle\" before the final summary")
    if objs[-1]["reports_read"] != nw + nb:
        sys.exit("the final summary says reports_read %d, %d delivered" % (objs[-1]["reports_read"], nw + nb))
print(rep, sec, cpu, len(cyc), fails)
PY
}

cstores_generate warmup batch
cstores_build
NW=$(count "$T/warmup")
NB=$(count "$T/batch")
M="$T/m"
r=1
while [ $r -le "$ROUNDS" ]; do
	for s in $SIZES; do
		for mode in off on; do
			for b in $BINS; do
				what="round $r, $s reports, $mode, $b"
				progress 'round %d/%d: %s reports, %s, resident    ' "$r" "$ROUNDS" "$s" "$mode"
				rm -rf "$M" "$T/wout" "$T/werr"
				mkdir "$M" "$M/tmp" "$M/new" "$M/cur"
				cstores_copy $mode $s
				if [ "$mode" = off ]; then
					SHIELD_CAMPAIGN_DISABLE=1 $PIN "$b" ingest --watch "$M" --db "$T/w/s.db" \
						--json >"$T/wout" 2>"$T/werr" &
				else
					$PIN "$b" ingest --watch "$M" --db "$T/w/s.db" --json >"$T/wout" \
						2>"$T/werr" &
				fi
				WPID=$!
				deliver "$T/warmup"
				wait_cur "$NW" "$what, warm-up"
				# the cycle lines may follow the renames: wait for the warm-up's
				n=50
				while :; do
					out=$(cycles 0 2>"$T/cerr") || fail "$what: $(cat "$T/cerr")"
					set -- $out
					[ "$1" -eq "$NW" ] && break
					[ "$1" -gt "$NW" ] && fail "$what: the cycle lines count $1 reports, $NW delivered"
					[ $n -le 0 ] && fail "$what: cur/ holds the $NW warm-up files but the cycle lines printed so far count $1 reports"
					sleep 0.1
					n=$((n - 1))
				done
				L=$(wc -l <"$T/wout")
				sync
				deliver "$T/batch"
				wait_cur $((NW + NB)) "$what, measured batch"
				kill -TERM "$WPID"
				gone "$WPID" 60 || fail "$what: the watcher is still running 60s after SIGTERM"
				wait "$WPID"
				rc=$?
				WPID=""
				[ $rc -eq 0 ] || fail "$what: the watcher exited with status $rc after SIGTERM"
				out=$(cycles "$L" check 2>"$T/cerr") || fail "$what: $(cat "$T/cerr")"
				set -- $out
				[ "$1" -eq "$NB" ] ||
					fail "$what: the cycles after the warm-up count $1 reports, $NB delivered (a file not processed?)"
				[ "$5" -eq 0 ] || fail "$what: $5 failures in the measured cycles"
				python3 - "$M" "$T/warmup" "$T/batch" <<'PY' || fail "$what: Maildir not as expected"
import os, sys
m = sys.argv[1]
want = sorted(n + ":2,S" for d in sys.argv[2:] for n in os.listdir(d))
cur = sorted(os.listdir(m + "/cur"))
left = os.listdir(m + "/new") + os.listdir(m + "/tmp")
if cur != want or left:
    sys.exit("cur/ holds %d files, %d of them not a delivered NAME:2,S; new/ and tmp/ hold %d" %
             (len(cur), len(set(cur) - set(want)), len(left)))
PY
				res="$2 $3 $4"
				progress 'round %d/%d: %s reports, %s, cold        ' "$r" "$ROUNDS" "$s" "$mode"
				cstores_copy $mode $s
				INGEST_OUT=--quiet run $mode "$T/w/s.db" "$T/warmup" "$b"
				sync
				INGEST_OUT=--quiet run $mode "$T/w/s.db" "$T/batch" "$b"
				echo "$b $s $mode $r $NB $res $(tail -1 "$T/time")" >>"$T/rows"
			done
		done
	done
	r=$((r + 1))
done
progress '\n'
echo "$NB reports into a resident shield after a warm-up of $NW, $ROUNDS rounds, every size in every round (arrival order: ${ORDER:-file})"
echo "(ms per report: resident: sum of the cycles' seconds, fastest round, median, CPU of the fastest;"
echo " cold: one \`shield ingest\` of the same batch after one of the warm-up, wall, fastest round)"
python3 - "$T/rows" "$SIZES" $BINS <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
sizes = [int(s) for s in sys.argv[2].split()]
for b in sys.argv[3:]:
    by = {}
    for bb, s, mode, r, n, sec, cpu, ncyc, wall, user, sys_ in rows:
        if bb == b:
            by.setdefault((int(s), mode), []).append(
                (float(sec), float(cpu), int(ncyc), float(wall), int(n)))
    if len(sys.argv) > 4:
        print(b)
    print("%8s | %-27s %6s | %-27s %6s | %6s | %7s %7s" % ("store", "off: fast median  cpu   r/s",
          "cold", "on: fast median  cpu   r/s", "cold", "on/off", "off/1st", "on/1st"))
    first, ncycles = {}, []
    for s in sizes:
        cells, fast = [], {}
        for mode in ("off", "on"):
            v = by[(s, mode)]
            n = v[0][4]
            best = min(v)
            fast[mode] = best[0] / n * 1000
            first.setdefault(mode, fast[mode])
            med = statistics.median(x[0] for x in v) / n * 1000
            cpu = "%5.3f" % (best[1] / n * 1000) if best[1] >= 0 else "    -"
            cold = min(x[3] for x in v) / n * 1000
            ncycles += [x[2] for x in v]
            cells.append("%5.3f  %5.3f  %s %5.0f" % (fast[mode], med, cpu, n / best[0]))
            cells.append("%6.3f" % cold)
        print("%8d | %-27s %6s | %-27s %6s | %5.1f%% | %6.2fx %6.2fx" % (
            s, cells[0], cells[1], cells[2], cells[3], (fast["on"] / fast["off"] - 1) * 100,
            fast["off"] / first["off"], fast["on"] / first["on"]))
    print("(the measured batch took %d to %d cycles)" % (min(ncycles), max(ncycles)))
PY
