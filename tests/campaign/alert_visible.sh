#!/bin/sh
# alert_visible.sh BIN - a campaign that raises an alert is committed early
# (at most 500 ms after the previous commit), not at the end of its batch:
# the ingest counts such commits (--json "alert_commits"), and another
# connection polling the store during the ingest sees the alerted reports
# while far fewer than the batch (2,000) are stored. The alert is delivered
# after that commit: a webhook receiver (python3 stdlib, on 127.0.0.1,
# stopped by PID) that looks the campaign up when alerted finds it with all
# the reports the alert counts. Made-up messages only.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${1:-build/shield}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
T=$(mktemp -d /tmp/shield-alertvis.XXXXXX)
PPID_POLL=""
RPID=""
cleanup() {
	[ -n "$PPID_POLL" ] && kill "$PPID_POLL" 2>/dev/null
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
. "$ROOT/tests/lib.sh"
mkdir "$T/in"
# three reports of one lure first (they cross the default 3-in-10-minutes)
lure_reports "$T/in"
# then many unrelated reports: enough work after the alert (well over
# 500 ms on any machine) for the early commit to come before the end
python3 - "$T/in" <<'PY'
import sys
for i in range(1900):
    body = "\n".join("line %d of note %d with https://s%d-%d.example/x and words" % (k, i, i, k)
                     for k in range(40))
    open("%s/z%04d.eml" % (sys.argv[1], i), "w").write(
        "From: sender%d@host%d.example\nTo: someone@example.org\n"
        "Subject: note number %d about topic%d\nDate: Tue, 2 Jan 2024 10:00:00 +0100\n"
        "Message-ID: <z%d@host%d.example>\n\nUnrelated text %d\n%s\n"
        % (i, i, i, i * 7919 % 1000, i, i, i, body))
PY
"$BIN" ingest --quiet --db "$T/db" "$T/in/a1.eml" 2>/dev/null # creates the store
cat >"$T/poll.py" <<'PY'
import sqlite3, sys, time, os
db, out, stop, ready = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
seen = set()
errs = set()
def count():
    # a fresh connection and a statement run to its end: no snapshot is
    # kept between polls
    con = sqlite3.connect(db, timeout=5)
    try:
        return con.execute("SELECT count(*) FROM report").fetchall()[0][0]
    finally:
        con.close()
while not os.path.exists(stop):
    try:
        seen.add(count())
        if not os.path.exists(ready):
            open(ready, "w").close()
    except sqlite3.Error as e:
        errs.add(str(e))
    time.sleep(0.002)
seen.add(count())
open(out, "w").write(" ".join(str(x) for x in sorted(seen)))
if errs:
    sys.stderr.write("poll errors: %s\n" % errs)
PY
# the receiver checks, when alerted, that the campaign is already stored
cat >"$T/recv.py" <<'PY'
import http.server, json, sqlite3, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        a = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        con = sqlite3.connect(sys.argv[2], timeout=5)
        row = con.execute("SELECT reports FROM campaign WHERE id=?", (a["campaign_id"],)).fetchone()
        con.close()
        seen = "visible" if row and row[0] >= a["size"] else "missing"
        open(sys.argv[3], "a").write("%s %s %s\n" % (seen, a["campaign_id"], row))
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$T/recv.py" "$T/port" "$T/db" "$T/hooks" &
RPID=$!
i=0; while [ ! -s "$T/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
python3 "$T/poll.py" "$T/db" "$T/seen" "$T/stop" "$T/ready" &
PPID_POLL=$!
i=0; while [ ! -f "$T/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
"$BIN" ingest --jobs 1 --json --db "$T/db" --webhook "http://127.0.0.1:$(cat "$T/port")/hook" \
	"$T/in" >"$T/sum" 2>"$T/err"
rc=$?
touch "$T/stop"
wait "$PPID_POLL"
PPID_POLL=""
[ $rc -eq 0 ] && ok "ingest" || ko "ingest (exit $rc)"
grep -q "shield: alert: campaign" "$T/err" && ok "alert raised" || ko "alert raised"
python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["alert_commits"] < 1)' "$T/sum" && ok "an alert ended a batch early" || { ko "an alert ended a batch early"; cat "$T/sum"; }
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(not (s["alerts"] >= 1 and 0 < s["alert_delay_max"]))' "$T/sum" && ok "alerts and their delay counted" || { ko "alerts and their delay counted"; cat "$T/sum"; }
# every alert reached the webhook, and found its campaign stored
[ -s "$T/hooks" ] && ! grep -qv '^visible ' "$T/hooks" && ok "campaign stored when its alert arrives" || { ko "campaign stored when its alert arrives"; cat "$T/hooks" 2>/dev/null; }
# 1 report before the run; the alert fires at the third; a batch is 2,000
python3 - "$T/seen" <<'PY' && ok "alerted campaign visible during the ingest" || ko "alerted campaign visible during the ingest (counts seen: $(cat "$T/seen"))"
import sys
seen = [int(x) for x in open(sys.argv[1]).read().split()]
assert seen[-1] == 1903, seen
assert any(1 < n < 1903 for n in seen), seen
PY
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
