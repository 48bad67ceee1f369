#!/bin/sh
# Speed and memory benchmark of Shield on the phishing_pot dev corpus.
# Usage: bench/run.sh [BIN]     (BIN defaults to build/shield)
# Env:   RUNS=3 (runs per tool, median reported)  MBOX_MB=1024 (size of the
#        mbox for the memory run; 0 skips it)  CPU=0 (core to pin to)
# extract and ingest are timed pinned to one core (--jobs defaults to 1
# there) and on all CPUs (the default --jobs); the others on one core.
# Reports only; it does not fail on the targets (extract <= 3x cat,
# ingest <= 5x cat, peak RSS of ingest on a ~1 GB mbox <= 100 MB).
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="$ROOT/../shared/data"
BIN="${1:-build/shield}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
SET="$DATA/phishing_pot-dev.tar.zst"
CORPUS="$ROOT/build/corpus/phishing_pot-dev"
WORK="$ROOT/build/bench"
RUNS="${RUNS:-3}"
MBOX_MB="${MBOX_MB:-1024}"
if [ ! -f "$SET" ]; then
	echo "SKIP: $SET absent"
	exit 0
fi
[ -x "$BIN" ] || { echo "error: $BIN is not an executable (make)" >&2; exit 1; }
if [ ! -d "$CORPUS/email" ]; then
	mkdir -p "$CORPUS" && tar -I zstd -xf "$SET" -C "$CORPUS" || exit 1
fi
DIR="$CORPUS/email"
mkdir -p "$WORK"
rm -rf "$WORK"/run && mkdir -p "$WORK/run"
trap 'rm -rf "$WORK/run" "$WORK/bench.mbox" "$WORK/mbox.db"*' EXIT INT TERM

PIN=""
command -v taskset >/dev/null 2>&1 && PIN="taskset -c ${CPU:-0}"
if ! command -v hyperfine >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends hyperfine >/dev/null 2>&1 || true
fi

nfiles=$(find "$DIR" -type f | wc -l)
bytes=$(find "$DIR" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
# file list sorted; rspamd aborts on an empty file, so it gets the non-empty ones
find "$DIR" -type f | sort >"$WORK/run/files"
find "$DIR" -type f -size +0 | sort >"$WORK/run/files.nonempty"
echo "corpus: $nfiles files, $((bytes / 1048576)) MiB ($DIR)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); pinned: ${PIN:-no}"
echo "runs per tool: $RUNS (median)"
# page cache
cat $(cat "$WORK/run/files") >/dev/null 2>&1 || xargs cat <"$WORK/run/files" >/dev/null

CAT="xargs -a $WORK/run/files cat"
EXTRACT="$BIN extract --json $DIR"
INGEST="$BIN ingest --quiet --db $WORK/run/bench.db $DIR"
RSPAMD="xargs -a $WORK/run/files.nonempty -n 2000 rspamadm mime urls"
PYBASE="python3 $ROOT/bench/baseline_extract.py $DIR"

# extract and ingest run twice: pinned to one core like every other tool
# (so --jobs defaults to 1), and "-all" unpinned with the default --jobs (all
# CPUs), the way an operator runs them
names="cat extract ingest extract-all ingest-all rspamd python-baseline"
cmd_of() {
	case $1 in
	cat) echo "$CAT" ;;
	extract | extract-all) echo "$EXTRACT" ;;
	ingest | ingest-all) echo "$INGEST" ;;
	rspamd) echo "$RSPAMD" ;;
	python-baseline) echo "$PYBASE" ;;
	esac
}
prep_of() {
	case $1 in
	ingest*) echo "rm -f $WORK/run/bench.db $WORK/run/bench.db-wal $WORK/run/bench.db-shm $WORK/run/bench.db-raw" ;;
	*) echo "true" ;;
	esac
}

pin_of() {
	case $1 in
	*-all) echo "" ;;
	*) echo "$PIN" ;;
	esac
}

median_of_time() { # NAME CMD PREP -> seconds (median of RUNS, /usr/bin/time)
	i=0
	PIN_N=$(pin_of "$1")
	: >"$WORK/run/t.$1"
	while [ $i -lt "$RUNS" ]; do
		sh -c "$3" >/dev/null 2>&1
		/usr/bin/time -f %e -o "$WORK/run/t1" $PIN_N sh -c "$2" >/dev/null 2>&1
		cat "$WORK/run/t1" >>"$WORK/run/t.$1"
		i=$((i + 1))
	done
	sort -n "$WORK/run/t.$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

for n in $names; do
	cmd=$(cmd_of $n)
	if [ "$n" = rspamd ] && ! command -v rspamadm >/dev/null 2>&1; then
		echo "-1" >"$WORK/run/sec.$n"
		continue
	fi
	if command -v hyperfine >/dev/null 2>&1; then
		$(pin_of "$n") hyperfine --runs "$RUNS" --style none --prepare "$(prep_of $n)" \
			--export-json "$WORK/run/h.$n.json" --command-name "$n" "$cmd" >/dev/null 2>&1 ||
			{ echo "hyperfine failed on $n" >&2; }
		python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["median"])' \
			"$WORK/run/h.$n.json" >"$WORK/run/sec.$n" 2>/dev/null || echo "-1" >"$WORK/run/sec.$n"
	else
		median_of_time "$n" "$cmd" "$(prep_of $n)" >"$WORK/run/sec.$n"
	fi
done
dbsize=$(cat "$WORK/run/bench.db" "$WORK/run/bench.db-raw" 2>/dev/null | wc -c)

catsec=$(cat "$WORK/run/sec.cat")
echo
printf '%-34s %9s %9s %10s\n' tool seconds "x cat" "msgs/s"
for n in $names; do
	s=$(cat "$WORK/run/sec.$n")
	case $n in
	cat) label="(a) cat" ;;
	extract) label="(b) shield extract --json" ;;
	ingest) label="(c) shield ingest (fresh SQLite)" ;;
	extract-all) label="(b2) extract, all CPUs" ;;
	ingest-all) label="(c2) ingest, all CPUs" ;;
	rspamd) label="(d) rspamadm mime urls (2000/call)" ;;
	python-baseline) label="(e) python stdlib baseline" ;;
	esac
	if [ "$s" = "-1" ]; then
		printf '%-34s %9s\n' "$label" "n/a"
	else
		awk -v l="$label" -v s="$s" -v c="$catsec" -v n="$nfiles" \
			'BEGIN {printf "%-34s %9.2f %9.1f %10.0f\n", l, s, (c > 0 ? s / c : 0), (s > 0 ? n / s : 0)}'
	fi
done
echo "store size after ingest (database + raw pack): $((dbsize / 1048576)) MiB"
echo "targets: extract <= 3x cat, ingest <= 5x cat"

# (f) peak RSS of ingest on a ~1 GB mbox
if [ "$MBOX_MB" -gt 0 ]; then
	echo
	echo "building a ${MBOX_MB} MiB mbox in $WORK (deleted afterwards)..."
	python3 - "$WORK/run/files" "$WORK/bench.mbox" "$MBOX_MB" <<'PY'
import re, sys
files = [l.rstrip("\n") for l in open(sys.argv[1])]
out, limit = open(sys.argv[2], "wb"), int(sys.argv[3]) << 20
esc = re.compile(rb"^(>*From )", re.M)
size = n = copy = 0
while size < limit:
    copy += 1
    for f in files:
        data = open(f, "rb").read()
        if not data:
            continue
        data = data.replace(b"\r\n", b"\n")
        # a header makes each copy distinct bytes (no duplicate detection)
        rec = b"From bench@example.invalid Thu Jan  1 00:00:00 2025\nX-Bench-Copy: %d\n" % copy
        rec += esc.sub(rb">\1", data)
        if not rec.endswith(b"\n"):
            rec += b"\n"
        rec += b"\n"
        out.write(rec)
        size += len(rec)
        n += 1
        if size >= limit:
            break
out.close()
print("mbox: %d messages, %d MiB" % (n, size >> 20))
open(sys.argv[2] + ".count", "w").write(str(n))
PY
	sync
	cat "$WORK/bench.mbox" >/dev/null
	msgs=$(cat "$WORK/bench.mbox.count")
	for how in one-core all-CPUs; do
		pin=$PIN
		[ "$how" = all-CPUs ] && pin=""
		rm -f "$WORK/mbox.db"*
		/usr/bin/time -f '%e %M' -o "$WORK/run/rss" $pin "$BIN" ingest --quiet --db "$WORK/mbox.db" "$WORK/bench.mbox" >/dev/null 2>"$WORK/run/mbox.err"
		rc=$?
		read -r secs kb <"$WORK/run/rss"
		echo "ingest of the mbox ($how): exit $rc, $secs s, $msgs messages, $(awk -v n="$msgs" -v s="$secs" 'BEGIN {printf "%.0f", (s > 0 ? n / s : 0)}') msgs/s, peak RSS $((kb / 1024)) MiB (target <= 100 MB)"
		[ "$rc" -eq 0 ] || head -5 "$WORK/run/mbox.err"
	done
	rm -f "$WORK/bench.mbox" "$WORK/bench.mbox.count" "$WORK/mbox.db"*
fi
