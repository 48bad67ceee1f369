#!/bin/sh
# watch.sh BIN - the resident ingest (`shield ingest --watch MAILDIR`): a
# backlog in new/ is stored at start, later deliveries (tmp/ then new/, as
# a mail server delivers) are stored within seconds and moved to cur/
# (NAME:2,S) only once committed; a campaign merged by another process
# meanwhile is seen by the watcher (its caches are re-read, so the next
# report of the merged lure joins the campaign it was merged into); an
# alert is raised once its lure crosses 3 reports; a re-delivered message
# is a duplicate and still leaves new/, and so is one another process
# stored while the watcher ran (its key filters see the other writer's
# keys); a folder in new/ is named once and
# left alone; SIGTERM ends it cleanly with the summary and exit status 0;
# stopped in the middle of a backlog, what is in cur/ is exactly what is
# stored and the next run takes the rest.
# Wrong use is refused with a message that names the problem. Made-up
# messages only.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${1:-build/shield}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
T=$(mktemp -d /tmp/shield-watch.XXXXXX)
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
. "$ROOT/tests/lib.sh"

M="$T/M"
mkdir -p "$M/tmp" "$M/new" "$M/cur" "$T/in"
lure_reports "$T/in" # a1..a3: one lure (Belfius)
for i in 1 2 3; do
	cat >"$T/in/b$i.eml" <<E
From: "PostNL" <track$i@postnl-pakket.example>
To: other$i@example.be
Subject: Uw pakket wacht op betaling van de invoerkosten
Date: Tue, 2 Jan 2024 11:0$i:00 +0100
Message-ID: <b$i@postnl-pakket.example>

Uw pakket kon niet worden bezorgd. Betaal 1,99 EUR invoerkosten via
https://postnl-pakket.example/betaal/$i$i$i zodat wij het morgen bezorgen.
Zonder betaling gaat het pakket terug naar de afzender.
E
done

# deliver NAME FILE - as a mail server does: write into tmp/, rename into new/
deliver() {
	cp "$2" "$M/tmp/$1" && mv "$M/tmp/$1" "$M/new/$1"
}
# wait_cur N - until cur/ holds N messages (at most 30 s)
wait_cur() {
	i=0
	while [ "$(ls "$M/cur" | wc -l)" -lt "$1" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(ls "$M/cur" | wc -l)" -eq "$1" ]
}
# campaign_of SUBJECT-WORD - campaign id of the stored report whose subject
# holds the word (via shield reports --json)
campaign_of() {
	"$BIN" reports --db "$T/db" --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
w = sys.argv[1]
for l in sys.stdin:
    l = l.strip()
    if not l:
        continue
    o = json.loads(l)
    rows = o if isinstance(o, list) else [o]
    for r in rows:
        if w in (r.get("subject") or ""):
            print(r.get("campaign_id"))
' "$1" | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# --- wrong use: a clear error, nothing started
"$BIN" ingest --watch "$T/nope" --db "$T/db" >"$T/o" 2>"$T/e"
rc=$?
check "not a Maildir: refused (exit $rc), the path named" \
	'[ $rc -ne 0 ] && grep -q "not a Maildir" "$T/e" && grep -q "$T/nope" "$T/e"'
"$BIN" ingest --watch "$M" --db "$T/db" "$T/in/a1.eml" >"$T/o" 2>"$T/e"
rc=$?
check "--watch with a PATH: refused (exit $rc)" '[ $rc -ne 0 ] && grep -q "takes no other PATH" "$T/e"'
"$BIN" ingest --watch "$M" --replay --db "$T/db" >"$T/o" 2>"$T/e"
rc=$?
check "--watch with --replay: refused (exit $rc)" '[ $rc -ne 0 ] && grep -q "replay" "$T/e"'
"$BIN" extract --watch "$M" >"$T/o" 2>"$T/e"
rc=$?
check "extract --watch: refused (exit $rc)" '[ $rc -ne 0 ] && grep -q "option of .shield ingest." "$T/e"'
check "nothing was stored by the refused runs" '[ ! -e "$T/db" ] && [ -z "$(ls "$M/cur")" ]'
"$BIN" ingest --help | grep -q -- "--watch MAILDIR"
check "ingest --help describes --watch" '[ $? -eq 0 ]'

# --- a backlog, then deliveries while it runs
deliver 1700000001.a1.host "$T/in/a1.eml"
"$BIN" ingest --watch "$M" --db "$T/db" --json >"$T/out" 2>"$T/err" &
WPID=$!
check "the backlog in new/ is stored and moved to cur/" 'wait_cur 1'
check "cur/ names carry the seen flag" '[ -e "$M/cur/1700000001.a1.host:2,S" ] && [ -z "$(ls "$M/new")" ]'
deliver 1700000002.a2.host "$T/in/a2.eml"
check "a delivery while running is stored and moved" 'wait_cur 2'
deliver 1700000003.b1.host "$T/in/b1.eml"
wait_cur 3
ca=$(campaign_of Belfius)
[ -z "$ca" ] && ca=$(campaign_of kaart)
cb=$(campaign_of pakket)
check "two lures, two campaigns ($ca, $cb)" \
	'[ -n "$ca" ] && [ -n "$cb" ] && [ "$ca" != "$cb" ] && [ "${ca#* }" = "$ca" ]'

# --- another process merges the campaigns while the watcher runs
"$BIN" campaign --db "$T/db" merge "$ca" "$cb" >"$T/merge" 2>&1
check "another process merged $cb into $ca" '[ $? -eq 0 ] && grep -q "merged campaign" "$T/merge"'
deliver 1700000004.b2.host "$T/in/b2.eml"
wait_cur 4
got=$("$BIN" reports --db "$T/db" --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
for l in sys.stdin:
    l = l.strip()
    if l:
        o = json.loads(l)
        for r in (o if isinstance(o, list) else [o]):
            if "b2@postnl" in (r.get("message_id") or "") or r.get("source", "").endswith("b2.host"):
                print(r.get("campaign_id"))
')
check "the next report of the merged lure joins campaign $ca (got '$got'): the watcher saw the merge" \
	'[ "$got" = "$ca" ]'

# --- an alert at the third report of a lure
deliver 1700000005.a3.host "$T/in/a3.eml"
wait_cur 5
check "the third Belfius report raised an alert (cycle lines)" \
	'/usr/bin/python3 -c "import json,sys; print(sum(json.loads(l).get(\"alerts\",0) for l in open(sys.argv[1]) if \"cycle\" in l))" "$T/out" | grep -qv "^0$"'

# --- a duplicate delivery and a folder in new/
mkdir "$M/new/1700000006.folder"
deliver 1700000007.a1again.host "$T/in/a1.eml"
check "a re-delivered message is a duplicate and leaves new/" 'wait_cur 6'
touch "$M/new/1700000008.poke" # another scan: the folder must not be named again
wait_cur 7
check "a folder in new/ is left there" '[ -d "$M/new/1700000006.folder" ]'
n=$(grep -c "not a regular file" "$T/err")
check "... and named once on stderr ($n times)" '[ "$n" -eq 1 ]'

# --- another process stores a message; delivered to the watcher after, it
# is a duplicate: the watcher's key filters, read at its first look-up, do
# not hold it, and must be dropped because another connection added keys
"$BIN" ingest --db "$T/db" --quiet "$T/in/b3.eml" >"$T/other" 2>&1
check "another process stored b3.eml while the watcher ran" '[ $? -eq 0 ]'
deliver 1700000009.b3.host "$T/in/b3.eml"
check "... and its delivery to the watcher leaves new/" 'wait_cur 8'

# --- SIGTERM: a clean stop with the summary
kill -TERM "$WPID"
wait "$WPID"
rc=$?
WPID=""
check "SIGTERM: exit status 0 (got $rc)" '[ $rc -eq 0 ]'
/usr/bin/python3 - "$T/out" >"$T/sum" <<'PY'
import json, sys
cyc = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"cycle"')]
fin = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"db"')]
f = fin[-1] if fin else {}
print(len(cyc), sum(c["reports"] for c in cyc), sum(c["duplicates"] for c in cyc),
      f.get("reports_read"), f.get("duplicates"), f.get("watch", {}).get("stopped_by"),
      f.get("watch", {}).get("cycles"), f.get("store", {}).get("submissions"))
PY
read ncyc creports cdups freports fdups stopped fcycles subs <"$T/sum"
echo "   cycles=$ncyc reports=$creports dups=$cdups | summary: read=$freports dups=$fdups stopped_by=$stopped cycles=$fcycles submissions=$subs"
check "the summary names the signal and counts every cycle" '[ "$stopped" = TERM ] && [ "$fcycles" = "$ncyc" ]'
check "8 messages read (7 deliveries and an empty file), 2 duplicates (a1 again, b3), in the cycles and the summary" \
	'[ "$creports" = 8 ] && [ "$freports" = 8 ] && [ "$cdups" = 2 ] && [ "$fdups" = 2 ]'
check "the store holds 7 submissions, b3 once (the empty file is one: nothing is dropped)" '[ "$subs" = 7 ]'

# --- stop before anything arrives: exit 0, nothing stored twice
"$BIN" ingest --watch "$M" --db "$T/db" >"$T/out2" 2>"$T/err2" &
WPID=$!
# signals are taken once it says what it watches (before, SIGTERM kills)
i=0
while ! grep -q "watching" "$T/out2" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "$WPID"
wait "$WPID"
rc=$?
WPID=""
check "an idle watcher stops on SIGTERM with status 0 (got $rc)" \
	'[ $rc -eq 0 ] && grep -q "stopped by SIGTERM after 0 cycles" "$T/out2"'
check "the text mode says what it watches" 'grep -q "watching $M" "$T/out2"'

# --- a stop in the middle of a backlog: what is in cur/ is stored, what
# is not stored is still in new/, and the next run takes the rest
M2="$T/M2"
mkdir -p "$M2/tmp" "$M2/new" "$M2/cur"
/usr/bin/python3 - "$M2" <<'PY'
import os, sys
m = sys.argv[1]
for i in range(4500):
    n = "17000%05d.bulk%d.host" % (i, i)
    with open("%s/tmp/%s" % (m, n), "w") as f:
        f.write("From: s%d@bulk%d.example\nTo: r@example.org\nSubject: notice %d\n"
                "Date: Tue, 2 Jan 2024 10:00:00 +0100\nMessage-ID: <bulk%d@example>\n\n"
                "Text %d with https://bulk%d.example/p/%d\n" % (i, i % 50, i, i, i, i % 50, i))
    os.rename("%s/tmp/%s" % (m, n), "%s/new/%s" % (m, n))
PY
# wait_ready FILE - until the watcher's text output says it watches (its
# stop signals are taken from then on; before, SIGTERM kills it)
wait_ready() {
	i=0
	while ! grep -q "watching" "$1" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
"$BIN" ingest --watch "$M2" --db "$T/db2" >"$T/out3" 2>"$T/err3" &
WPID=$!
wait_ready "$T/out3"
kill -TERM "$WPID"
wait "$WPID"
rc=$?
WPID=""
stored() {
	/usr/bin/python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from submission").fetchone()[0])' "$T/db2"
}
ncur=$(ls "$M2/cur" | wc -l)
nnew=$(ls "$M2/new" | wc -l)
nst=$(stored)
echo "   stopped at once: cur=$ncur new=$nnew stored=$nst"
# a cycle takes at most 2,000: the signal comes during the first or the
# second (the poll above reacts within 0.1 s), the third is not started
check "stopped in a backlog (exit $rc): cur/ holds exactly the stored messages, new/ the rest" \
	'[ $rc -eq 0 ] && [ "$ncur" -eq "$nst" ] && [ $((ncur + nnew)) -eq 4500 ] && [ "$nnew" -gt 0 ]'
"$BIN" ingest --watch "$M2" --db "$T/db2" >"$T/out4" 2>"$T/err4" &
WPID=$!
wait_ready "$T/out4"
i=0
while [ "$(ls "$M2/cur" | wc -l)" -lt 4500 ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "$WPID"
wait "$WPID"
WPID=""
check "the next run stores the rest: 4500 in cur/, 4500 stored, new/ empty" \
	'[ "$(ls "$M2/cur" | wc -l)" -eq 4500 ] && [ "$(stored)" -eq 4500 ] && [ -z "$(ls "$M2/new")" ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
