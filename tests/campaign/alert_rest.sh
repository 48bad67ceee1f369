#!/bin/sh
# alert_rest.sh BIN - a webhook that keeps failing is rested, not retried
# for every alert: a local receiver on 127.0.0.1 (http_receiver in
# tests/lib.sh, stopped by PID) answers every POST with 503. Four campaigns
# cross the alert threshold in one ingest; the first alert uses every attempt, the
# others skip the resting webhook and say so, and every report is stored.
# The count of POSTs is the check (a dead receiver used to take all
# attempts for each alert: 4 x 4 here, hours for a large backlog).
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${1:-build/shield}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
T=$(mktemp -d /tmp/shield-alert-rest.XXXXXX)
RPID=""
cleanup() { [ -n "$RPID" ] && kill "$RPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }

python3 "$ROOT/bench/campaign_gen.py" "$T/gen" --campaigns 4 --noise 0 --seed 5 >/dev/null || exit 1
rm -f "$T/gen/truth.tsv"
. "$ROOT/tests/lib.sh"
RPID=$(http_receiver "$T" 503)
PORT=$(cat "$T/port" 2>/dev/null)
[ -n "$PORT" ] || { echo "receiver did not start"; echo "0 passed, 1 failed"; exit 1; }

"$BIN" ingest --json --db "$T/db" --webhook "http://127.0.0.1:$PORT/hook" "$T/gen" >"$T/sum" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && grep -q '"messages_stored":39' "$T/sum" && ok "every report stored while the webhook fails" ||
	{ ko "every report stored while the webhook fails (exit $rc)"; cat "$T/sum" "$T/err"; }
grep -q '"alerts":4' "$T/sum" && ok "four alerts raised" || { ko "four alerts raised"; cat "$T/sum"; }
posts=$(wc -l <"$T/posts" 2>/dev/null | tr -d " ")
[ "$posts" = 4 ] && ok "one alert's attempts, then the webhook rests (4 POSTs)" ||
	ko "one alert's attempts, then the webhook rests (POSTs: $posts, want 4)"
grep -q "cannot deliver the alert of campaign [0-9]* to the webhook: HTTP 503 (after 4 attempts) (alerts of the next 60 s skip it)" "$T/err" &&
	ok "the failure names the rest" || { ko "the failure names the rest"; cat "$T/err"; }
skipped=$(grep -c "not sending the alert of campaign [0-9]* to the webhook: it failed" "$T/err")
[ "$skipped" = 3 ] && ok "each skipped alert is named (3)" || { ko "each skipped alert is named ($skipped, want 3)"; cat "$T/err"; }
logged=$(grep -c "shield: alert: campaign" "$T/err")
[ "$logged" = 4 ] && ok "every alert's log line is written (4)" || ko "every alert's log line is written ($logged)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
