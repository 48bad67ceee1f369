#!/bin/sh
# watch_preload.sh BIN - a resident ingest (`ingest --watch`) on a store
# that already holds campaigns reads the whole campaign key index into its
# key cache (docs/campaigns.md) and then places every report exactly as a
# plain `shield ingest` of the same messages into a copy of the same store
# does: the same campaign for every report. It asks the store for fewer
# campaign keys than the plain run (`campaign_keys` in the --json summary).
# The messages are the seeded generator set (bench/campaign_gen.py, made-up
# campaigns): the even-numbered campaigns and half the noise are stored
# first; the rest, compared, continues those campaigns and starts the odd
# ones, whose later reports find the keys the run itself added.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${1:-build/shield}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
T=$(mktemp -d /tmp/shield-wpre.XXXXXX)
WPID=""
cleanup() {
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
[ -n "${KEEP:-}" ] && trap - EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if eval "$2"; then ok "$1"; else ko "$1"; fi; }

python3 "$ROOT/bench/campaign_gen.py" "$T/gen" --campaigns 30 --seed 7 >/dev/null
mv "$T/gen/truth.tsv" "$T/truth.tsv"
mkdir "$T/a" "$T/b" "$T/M" "$T/M/tmp" "$T/M/new" "$T/M/cur"
n=$(ls "$T/gen" | wc -l)
# a: even campaigns, and noise with an even file number, but a campaign's
# last report goes to b (b continues it); b: all the rest
awk -F '\t' 'NR > 1 {
	split($2, c, "-"); split($1, m, /[-.]/)
	first = (c[1] == "gen") ? (c[2] % 2 == 0) : (m[2] % 2 == 0)
	if (first && c[1] == "gen") last[$2] = $1
	if (first) a[$1] = $2
	else print "b", $1
} END { for (f in a) print (last[a[f]] == f ? "b" : "a"), f }' "$T/truth.tsv" |
	while read -r to f; do ln "$T/gen/$f" "$T/$to/$f"; done
half=$(ls "$T/a" | wc -l)
nb=$(ls "$T/b" | wc -l)
nnew=$(awk -F '\t' 'NR > 1 && $2 ~ /^gen-/ { split($2, c, "-"); if (c[2] % 2) n[$2]++ }
	END { for (k in n) if (n[k] > 1) m++; print m + 0 }' "$T/truth.tsv")
check "$half + $nb = $n messages; b starts $nnew campaigns of two or more reports" \
	'[ $((half + nb)) -eq "$n" ] && [ "$nnew" -ge 5 ]'
"$BIN" ingest --quiet --db "$T/plain.db" "$T/a" 2>/dev/null
cp "$T/plain.db" "$T/watch.db"
cp "$T/plain.db-raw" "$T/watch.db-raw"
c0=$(sqlite3 "$T/plain.db" "SELECT count(*) FROM campaign")
check "$half generated reports stored first, in $c0 campaigns" '[ "$c0" -gt 5 ]'

"$BIN" ingest --json --db "$T/plain.db" "$T/b" >"$T/plain.json" 2>/dev/null
# the same half as a backlog in new/ (the watcher takes it in name order,
# as the plain run takes a directory)
for f in "$T"/b/*; do ln "$f" "$T/M/new/${f##*/}"; done
"$BIN" ingest --watch "$T/M" --db "$T/watch.db" --json >"$T/watch.json" 2>"$T/watch.err" &
WPID=$!
i=0
while [ "$(ls "$T/M/cur" | wc -l)" -lt "$nb" ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "$WPID"
wait "$WPID"
rc=$?
WPID=""
check "the watcher stored the $nb reports and stopped with status 0 (got $rc)" \
	'[ $rc -eq 0 ] && [ "$(ls "$T/M/cur" | wc -l)" -eq "$nb" ]'
keys() { # keys FILE - "store_lookups preloaded" of the last line's campaign_keys
	tail -1 "$1" | python3 -c '
import json, sys
k = json.loads(sys.stdin.read()).get("campaign_keys", {})
print(k.get("store_lookups", -1), str(k.get("preloaded", "absent")).lower())'
}
set -- $(keys "$T/watch.json") $(keys "$T/plain.json")
wl=${1:-x} wp=${2:-x} pl=${3:-x} pp=${4:-x}
check "the watcher preloaded the key index (preloaded: $wp)" '[ "$wp" = true ]'
check "the plain run did not (preloaded: $pp)" '[ "$pp" = false ]'
check "the watcher asked the store for fewer keys ($wl) than the plain run ($pl)" \
	'[ "$wl" -ge 0 ] && [ "$pl" -gt "$wl" ]'
q="SELECT r.message_sha, r.campaign_id FROM report r ORDER BY r.id"
sqlite3 "$T/plain.db" "$q" >"$T/plain.rows"
sqlite3 "$T/watch.db" "$q" >"$T/watch.rows"
np=$(wc -l <"$T/plain.rows")
nd=$(diff "$T/plain.rows" "$T/watch.rows" | grep -c '^>')
check "every one of the $np reports is in the same campaign either way ($nd differ)" \
	'[ "$np" -eq "$n" ] && [ "$nd" -eq 0 ] && ! grep -q "|$" "$T/watch.rows"'
c1=$(sqlite3 "$T/plain.db" "SELECT count(*) FROM campaign")
c2=$(sqlite3 "$T/watch.db" "SELECT count(*) FROM campaign")
check "the same campaigns: $c1 and $c2, more than the $c0 before" '[ "$c1" -eq "$c2" ] && [ "$c1" -ge "$c0" ]'
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
