# bench/cstores.sh - sourced (". bench/cstores.sh") by campaign_flat.sh and
# campaign_watch.sh: the generated stores both measure against, built the
# same way for both.
#
# The caller sets ROOT (the checkout), T (its scratch directory), SIZES,
# BATCH, and PIN (taskset prefix or empty). This file defines:
#   progress FMT ARGS   - a progress line on stderr when stderr is a tty
#   cstores_bins NAME   - BUILD's directories -> BINS (their shields), BIN
#                         (the first, which builds the stores); NAME is the
#                         caller's, for the error message
#   run MODE DB DIR [BIN] - ingest DIR into DB (MODE off: clustering
#                         disabled); "wall user sys" in $T/time, stdout in
#                         $T/out; INGEST_OUT (default --json) is the output
#                         option; exits on failure
#   cstores_generate HELD... - generate MAX + (number of HELD) * BATCH
#                         reports with campaign_gen.py, MAX = the largest of
#                         SIZES; in generator file order the first MAX go to
#                         $T/to<size> (the reports between the next smaller
#                         size and this one), then BATCH to $T/<HELD 1>, BATCH
#                         to $T/<HELD 2>, ..., the last HELD taking all that
#                         is left (the generator may write a few more)
#                         ORDER=date: arrival in Date order instead (see
#                         below), the files renamed so that name order is it
#   cstores_copy MODE SIZE - a fresh copy of that store in $T/w (s.db,
#                         s.db-raw), synced, so no run inherits another's
#                         writes or their pending write-back
#   cstores_build       - $T/snap_<mode>_<size>/{s.db,s.db-raw} for mode off
#                         (SHIELD_CAMPAIGN_DISABLE=1) and on: one store per
#                         mode grown size after size, a copy kept at each
progress() { [ -t 2 ] && printf "\r$@" >&2; }

cstores_bins() {
	BINS=""
	for b in $BUILD; do
		case "$b" in /*) bin="$b/shield" ;; *) bin="$ROOT/$b/shield" ;; esac
		[ -x "$bin" ] || { echo "$1: no shield at $bin (run make first)" >&2; exit 1; }
		BINS="$BINS $bin"
	done
	BIN=${BINS# }
	BIN=${BIN%% *}
}

run() { # run MODE DB DIR [BIN] - ingest DIR into DB; "wall user sys" in $T/time
	b=${4:-$BIN}
	if [ "$1" = off ]; then
		SHIELD_CAMPAIGN_DISABLE=1 /usr/bin/time -f "%e %U %S" -o "$T/time" $PIN "$b" ingest \
			${INGEST_OUT:---json} --db "$2" "$3" >"$T/out" 2>/dev/null
	else
		/usr/bin/time -f "%e %U %S" -o "$T/time" $PIN "$b" ingest ${INGEST_OUT:---json} \
			--db "$2" "$3" >"$T/out" 2>/dev/null
	fi || { echo "ingest ($1, $3, $b) failed" >&2; exit 1; }
}

cstores_generate() {
	MAX=0
	for s in $SIZES; do [ "$s" -gt "$MAX" ] && MAX=$s; done
	TOTAL=$((MAX + $# * BATCH))
	msg="$MAX for the stores"
	for h in "$@"; do msg="$msg, $BATCH for the $h"; done
	echo "generating $TOTAL reports ($msg)..."
	python3 "$ROOT/bench/campaign_gen.py" "$T/g" --campaigns $((TOTAL / 20 + 10)) \
		--copies "$TOTAL" >/dev/null || exit 1
	rm -f "$T/g/truth.tsv"
	# the generator shuffles its messages over all campaigns, so in file order
	# the held-back batches continue campaigns the stores already hold (more of
	# them the larger the store) and start some new ones: every campaign is
	# active over the whole history, the worst case for the engine's campaign
	# cache (at 200k, 10,000 campaigns, and a batch touches ~4,000). Reports
	# really arrive in time order, and a campaign is a burst of hours
	# (campaign_gen.py: "each campaign runs a burst of a few hours"), so
	# ORDER=date delivers them by their Date header: the same messages, the
	# working set of a real feed (the campaigns active at the time).
	python3 - "$T" "$MAX" "$SIZES" "$BATCH" "${ORDER:-file}" "$@" <<'PY' || exit 1
import email.utils, os, sys
d, mx, sizes = sys.argv[1], int(sys.argv[2]), sorted(int(s) for s in sys.argv[3].split())
batch, order, held = int(sys.argv[4]), sys.argv[5], sys.argv[6:]
names = sorted(os.listdir(d + "/g"))
link = {n: n for n in names}
if order == "date":
    def date(n):
        with open("%s/g/%s" % (d, n), "rb") as f:
            for line in f:
                if line.lower().startswith(b"date:"):
                    return email.utils.parsedate_to_datetime(line[5:].decode().strip()).timestamp()
                if not line.strip():
                    break
        return 0
    names.sort(key=lambda n: (date(n), n))
    link = {n: "d%07d-%s" % (i, n) for i, n in enumerate(names)}
elif order != "file":
    sys.exit("cstores: ORDER is 'file' or 'date', not %r" % order)
lo = mx
for i, h in enumerate(held):
    hi = len(names) if i == len(held) - 1 else lo + batch
    if len(names) < lo + batch:
        sys.exit("cstores: the generator wrote %d reports, %d wanted" % (len(names), mx + len(held) * batch))
    os.mkdir("%s/%s" % (d, h))
    for n in names[lo:hi]:
        os.link("%s/g/%s" % (d, n), "%s/%s/%s" % (d, h, link[n]))
    lo = hi
lo = 0
for s in sizes:
    os.mkdir("%s/to%d" % (d, s))
    for n in names[lo:s]:
        os.link("%s/g/%s" % (d, n), "%s/to%d/%s" % (d, s, link[n]))
    lo = s
PY
}

cstores_copy() {
	rm -rf "$T/w"
	mkdir "$T/w"
	cp "$T/snap_${1}_$2/s.db" "$T/snap_${1}_$2/s.db-raw" "$T/w/"
	sync
}

cstores_build() {
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
}
