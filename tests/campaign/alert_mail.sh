#!/bin/sh
# alert_mail.sh BIN - a campaign alert e-mailed (--alert-mail) through a real
# SMTP server: Postfix's smtp-sink on 127.0.0.1 (started and stopped by PID;
# 'skip' without it), one file per message. Checks the envelope, the
# headers (Subject with campaign and size, Auto-Submitted, a Message-ID)
# and the JSON body; then a sink that refuses the recipient (550): the
# ingest still stores everything and names the failed delivery.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${1:-build/shield}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
SINK=/usr/sbin/smtp-sink
PY=/usr/bin/python3
T=$(mktemp -d /tmp/shield-alertmail.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
. "$ROOT/tests/lib.sh"
if [ ! -x "$SINK" ] || [ ! -x "$PY" ]; then
	echo "skip: $SINK or $PY missing (apt-get install postfix python3)"
	echo "$pass passed, $fail failed"
	exit 0
fi
# three reports of one lure: they cross the default 3 within 10 minutes
mkdir "$T/in"
lure_reports "$T/in"
# start_sink DIR NAME OPTION... - smtp-sink on a free port, one file per
# message below DIR; sets port. The banner names this sink, so the test
# never talks to some other server that took the port meanwhile.
start_sink() {
	dir=$1 name=$2
	shift 2
	mkdir -p "$dir"
	port=$(free_port)
	if [ "$(id -u)" = 0 ]; then
		chown nobody "$dir"
		"$SINK" "$@" -h "$name" -u nobody -R "$dir" -d "%M." "127.0.0.1:$port" 8 >>"$T/sink.log" 2>&1 &
	else
		"$SINK" "$@" -h "$name" -d "$dir/%M." "127.0.0.1:$port" 8 >>"$T/sink.log" 2>&1 &
	fi
	PIDS="$PIDS $!"
	wait_banner "$port" "$name"
}
if ! start_sink "$T/good" "alert-sink-$$.test"; then
	ko "smtp-sink answers on 127.0.0.1"
	echo "$pass passed, $fail failed"
	exit 1
fi
SHIELD_SMTP_URL="smtp://127.0.0.1:$port" SHIELD_NOTIFY_FROM=shield@cert.example \
	"$BIN" ingest --json --db "$T/db" --alert-mail soc@cert.example "$T/in" >"$T/sum" 2>"$T/err"
[ $? -eq 0 ] && ok "ingest with --alert-mail" || { ko "ingest with --alert-mail"; cat "$T/err"; }
i=0; while [ "$(find "$T/good" -type f | wc -l)" -lt 1 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
$PY - "$T/good" <<'PY' && ok "alert e-mail: envelope, headers and JSON body" || ko "alert e-mail: envelope, headers and JSON body"
import email, json, os, sys
d = sys.argv[1]
files = [os.path.join(d, f) for f in os.listdir(d)]
assert len(files) == 1, files
m = email.message_from_binary_file(open(files[0], "rb"))
assert m["X-Mail-Args"] == "<shield@cert.example>", m["X-Mail-Args"]
assert m["X-Rcpt-Args"] == "<soc@cert.example>", m["X-Rcpt-Args"]
assert m["Auto-Submitted"] == "auto-generated", m["Auto-Submitted"]
assert m["Message-ID"] and m["Message-ID"].endswith("@cert.example>"), m["Message-ID"]
assert m["Subject"].startswith("[shield] campaign 1: 3 reports"), m["Subject"]
a = json.loads(m.get_payload())
assert a["type"] == "shield.campaign.alert" and a["campaign_id"] == 1 and a["size"] == 3, a
assert any(i["value"].startswith("noreply") for i in a["indicators"]), a["indicators"]
PY
grep -q "shield: alert: campaign 1 reached 3 reports" "$T/err" && ok "alert log line" || ko "alert log line"
# a relay that refuses the recipient: everything is stored, the failure named
if start_sink "$T/hard" "hard-sink-$$.test" -f RCPT; then
	rm -f "$T/db" "$T/db-raw" "$T/db-wal" "$T/db-shm"
	SHIELD_SMTP_URL="smtp://127.0.0.1:$port" SHIELD_NOTIFY_FROM=shield@cert.example \
		"$BIN" ingest --json --db "$T/db" --alert-mail soc@cert.example "$T/in" >"$T/sum2" 2>"$T/err2"
	[ $? -eq 0 ] && grep -q '"messages_stored":3' "$T/sum2" && ok "refused alert e-mail: reports stored" || ko "refused alert e-mail: reports stored"
	grep -q "cannot e-mail the alert of campaign 1 to 'soc@cert.example': 5[0-9][0-9]" "$T/err2" && ok "refused alert e-mail named with the server's answer" || { ko "refused alert e-mail named with the server's answer"; cat "$T/err2"; }
else
	ko "second smtp-sink answers on 127.0.0.1"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
