#!/bin/sh
# notify_postfix.sh - 'shield notify send' end to end through a real Postfix
# and Postfix's own smtp-sink (issue #6: "CI sends through a real local
# Postfix (or smtp-sink) and checks what arrived").
#  1. shield -> a private Postfix instance started here (its own config,
#     queue and data directories under a temp dir, smtpd on a free port of
#     127.0.0.1) -> relayhost [127.0.0.1]:PORT -> smtp-sink, one file per
#     transaction. A simulated crash after the first accepted batch, the
#     rest on the next run, then a re-run: every planned batch arrives once,
#     to its planned contact, with Auto-Submitted, a unique Message-ID, an
#     RFC 2047 Subject holding the ticket and a CSV attachment.
#  2. shield -> smtp-sink directly: 450 on RCPT and 421 on MAIL are retried
#     (in the run and, after the back-off or with --retry-now, by a later
#     run, which delivers them); 500 on RCPT is recorded as permanent (not retried, listed by
#     'shield notify unreachable', never sent again).
# Servers are stopped by PID (Postfix by 'postfix -c DIR stop') on exit.
# Without root, postfix or smtp-sink the parts that need them print 'skip:'.
# Usage: tests/notify/notify_postfix.sh [BUILD|BINARY]   (prints "N passed, N failed")
# check() evals its single-quoted expression; cleanup runs from a trap:
# shellcheck disable=SC2016,SC2034,SC2317
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-$repo/build}
case $build in /*) ;; *) build=$repo/$build ;; esac
# tests/run.sh passes the binary; a build directory works too
[ -f "$build" ] && build=$(dirname "$build")
S=$build/shield
F=$repo/tests/data/notify
PY=/usr/bin/python3
POSTFIX=/usr/sbin/postfix
POSTCONF=/usr/sbin/postconf
SINK=/usr/sbin/smtp-sink
FROM=cert@cert.test
pass=0
fail=0
last=0
ok() { pass=$((pass + 1)) last=0; echo "ok   $1"; }
ko() { fail=$((fail + 1)) last=1; echo "FAIL $1"; }
# why FILE... - after a failed check, show the start of what explains it
why() { [ $last = 0 ] || cat "$@" 2>/dev/null | head -n 8 | sed 's/^/   | /'; }
check() { if eval "$2"; then ok "$1"; else ko "$1"; fi; }
skip() { echo "skip: $1"; }
summary() {
	echo "$pass passed, $fail failed"
	[ $fail -eq 0 ]
	exit
}

T=$(mktemp -d /tmp/shield-notify-postfix.XXXXXX) || exit 1
# Postfix's unprivileged daemons must reach data_directory below $T
chmod 755 "$T"
PFC=$T/postfix/etc
PFQ=$T/postfix/spool
PFD=$T/postfix/data
PFLOG=$T/postfix/maillog
pf_started=
sink_pids=
is_root=
[ "$(id -u)" = 0 ] && is_root=1

# alive PID - the process exists and is not a zombie (PID 1 here may not
# reap daemons that Postfix's master left to it)
alive() {
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $st in '' | Z*) return 1 ;; esac
	return 0
}
pf_master() { [ -f "$PFQ/pid/master.pid" ] && tr -cd 0-9 <"$PFQ/pid/master.pid"; }
# processes whose working directory is the test queue (Postfix daemons)
pf_procs() {
	n=0
	for p in /proc/[0-9]*; do
		case $(readlink "$p/cwd" 2>/dev/null) in "$PFQ" | "$PFQ"/*) n=$((n + 1)) ;; esac
	done
	echo "$n"
}
pf_stop() {
	[ -f "$PFC/main.cf" ] || return 0
	mpid=$(pf_master)
	[ -n "$mpid" ] && alive "$mpid" && [ "$(ps -o comm= -p "$mpid")" = master ] || return 0
	"$POSTFIX" -c "$PFC" stop >/dev/null 2>&1
	i=0
	while [ -n "$mpid" ] && alive "$mpid" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -n "$mpid" ] && alive "$mpid" && kill "$mpid" 2>/dev/null
	pf_started=
}
stop_sink() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	rest=
	for p in $sink_pids; do [ "$p" = "$1" ] || rest="$rest $p"; done
	sink_pids=$rest
}
cleanup() {
	pf_stop
	for p in $sink_pids; do stop_sink "$p"; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ ! -x "$PY" ]; then
	skip "$PY missing: nothing can be checked"
	summary
fi
if [ ! -x "$S" ]; then
	ko "shield binary $S missing"
	summary
fi

# free_port, wait_banner
. "$repo/tests/lib.sh"
# start_sink DIR NAME OPTION... - smtp-sink on a free port writing one file
# per transaction below DIR; sets sink_port and sink_pid
start_sink() {
	dir=$1 name=$2
	shift 2
	mkdir -p "$dir"
	sink_port=$(free_port)
	if [ -n "$is_root" ]; then
		chown nobody "$dir"
		"$SINK" "$@" -h "$name" -u nobody -R "$dir" -d "%Y%m%d%H/%M." \
			"127.0.0.1:$sink_port" 64 >>"$T/sink.log" 2>&1 &
	else
		"$SINK" "$@" -h "$name" -d "$dir/%Y%m%d%H/%M." "127.0.0.1:$sink_port" 64 >>"$T/sink.log" 2>&1 &
	fi
	sink_pid=$!
	sink_pids="$sink_pids $sink_pid"
	wait_banner "$sink_port" "$name"
}
files() { find "$1" -type f 2>/dev/null | wc -l | tr -d ' '; }
# wait_relayed N SECONDS - poll until the sink holds N files and the
# Postfix log shows N deliveries to it (at most SECONDS)
wait_relayed() {
	i=0
	while [ $i -lt $(($2 * 5)) ]; do
		[ "$(files "$T/relay")" -ge "$1" ] && [ "$(relayed)" -ge "$1" ] && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
relayed() {
	n=$(grep -c "relay=127\.0\.0\.1\[127\.0\.0\.1\]:$relay_port, .*status=sent" "$PFLOG" 2>/dev/null)
	echo "${n:-0}"
}
submitted() {
	n=$(grep -c "smtpd\[[0-9]*\]: [0-9A-F]*: client=" "$PFLOG" 2>/dev/null)
	echo "${n:-0}"
}
# make_due DB - pretend the back-off of every batch waiting for a retry has
# expired (the next run would otherwise wait 15 minutes); prints how many
make_due() {
	$PY - "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("UPDATE batch SET next_attempt = 0 WHERE state = 'retry'").rowcount)
db.commit()
EOF
}
# states FILE.jsonl - "state error-class" per batch, sorted and counted
states() {
	$PY - "$1" <<'EOF'
import collections, json, sys
c = collections.Counter()
for line in open(sys.argv[1]):
    j = json.loads(line)
    c['%s:%s' % (j['state'], j.get('error', '')[:1] + 'xx' if j.get('error') else 'ok')] += 1
print(' '.join('%s=%d' % kv for kv in sorted(c.items())) or 'none')
EOF
}
# message_ids FILE.jsonl - the sorted Message-IDs of a --json send
message_ids() { $PY -c 'import json, sys; print(" ".join(sorted(json.loads(l)["message_id"] for l in open(sys.argv[1]))))' "$1"; }

# the analysis of what arrived: one line "NAME<TAB>ok|problem" per property
cat >"$T/arrived.py" <<'EOF'
import csv, email, io, json, os, re, sys
from email import policy
sink, plan_f, send_f, tdir, via, sender = sys.argv[1:7]
plan = [j for j in map(json.loads, open(plan_f)) if j['contact']]
sent = [j for j in map(json.loads, open(send_f)) if j['state'] == 'sent'] if send_f != '-' else []
by_rcpt = {j['contact']: j for j in plan}
subj_tpl = {}
for lang in ('nl', 'fr', 'de', 'en'):
    for line in open(os.path.join(tdir, 'notify-%s.txt' % lang), encoding='utf-8'):
        if line.startswith('Subject:'):
            subj_tpl[lang] = line[len('Subject:'):].strip()
            break
paths = sorted(os.path.join(r, f) for r, _, fs in os.walk(sink) for f in fs)
raws = [open(p, 'rb').read() for p in paths]
msgs = [email.message_from_bytes(r, policy=policy.default) for r in raws]
res = {}
def put(name, problems):
    res[name] = 'ok' if not problems else '; '.join(sorted(set(problems)))[:300]
put('count', [] if len(msgs) == len(plan) else ['%d arrived, %d planned' % (len(msgs), len(plan))])
rcpts, p = [], []
for m in msgs:
    a = m.get_all('X-Rcpt-Args') or []
    if len(a) != 1:
        p.append('%d envelope recipients' % len(a))
    rcpts += [re.match(r'<([^>]*)>', str(x)).group(1) for x in a]
if sorted(rcpts) != sorted(by_rcpt):
    p.append('envelope %s != planned %s' % (sorted(rcpts), sorted(by_rcpt)))
put('envelope', p)
put('sender', ['MAIL %s' % m['X-Mail-Args'] for m in msgs
               if not str(m['X-Mail-Args'] or '').startswith('<%s>' % sender)])
put('autosub', ['Auto-Submitted %r' % m['Auto-Submitted'] for m in msgs
                if m['Auto-Submitted'] != 'auto-generated'])
p, ids = [], []
for m in msgs:
    mid, tk = str(m['Message-ID'] or ''), str(m['X-Shield-Ticket'] or '')
    ids.append(mid)
    if not re.fullmatch(r'<[^<>@\s]+@[^<>@\s]+>', mid):
        p.append('Message-ID %r' % mid)
    elif not tk or not mid.startswith('<' + tk + '.'):
        p.append('Message-ID %s does not carry ticket %r' % (mid, tk))
if len(set(ids)) != len(ids):
    p.append('duplicate Message-IDs')
for j in sent:
    hit = [m for m in msgs if str(m['Message-ID']) == j['message_id']]
    if len(hit) != 1 or str(hit[0]['To']) != j['contact']:
        p.append('%s (%s) arrived %d times' % (j['message_id'], j['contact'], len(hit)))
put('msgid', p)
p, encoded = [], 0
for r, m in zip(raws, msgs):
    head = re.split(rb'\r?\n\r?\n', r, maxsplit=1)[0]
    if any(b > 127 for b in head):
        p.append('8-bit bytes in the header')
    rcpt = str(m['To'])
    j = by_rcpt.get(rcpt)
    if not j:
        p.append('unplanned To %s' % rcpt)
        continue
    tk = str(m['X-Shield-Ticket'] or '')
    want = subj_tpl[j['language']].replace('{{ticket}}', tk).replace('{{asn}}', str(j['asn']))
    subj = str(m['Subject'])
    if subj != want or not tk or tk not in subj:
        p.append('Subject %r != %r' % (subj, want))
    raw_subj = re.search(rb'(?im)^Subject:(.*(?:\r?\n[ \t].*)*)', head)
    if any(ord(c) > 127 for c in want):
        if not raw_subj or not re.search(rb'=\?utf-8\?[bq]\?', raw_subj.group(1), re.I):
            p.append('non-ASCII Subject not RFC 2047 encoded')
        else:
            encoded += 1
if not encoded:
    p.append('no non-ASCII Subject among the messages: nothing proved')
put('subject', p)
p = []
for m in msgs:
    j = by_rcpt.get(str(m['To']))
    tk = str(m['X-Shield-Ticket'] or '')
    csvs = [a for a in m.iter_attachments() if a.get_content_type() == 'text/csv']
    if len(csvs) != 1 or not j:
        p.append('%d CSV attachments' % len(csvs))
        continue
    if csvs[0].get_content_disposition() != 'attachment':
        p.append('CSV not an attachment')
    rows = list(csv.reader(io.StringIO(csvs[0].get_content())))
    if not rows or rows[0][:4] != ['ticket', 'type', 'ip', 'asn']:
        p.append('CSV header %r' % (rows[:1],))
        continue
    if len(rows) - 1 != j['incidents']:
        p.append('%d CSV rows for %d incidents' % (len(rows) - 1, j['incidents']))
    if any(r[0] != tk or r[3] != str(j['asn']) for r in rows[1:]):
        p.append('CSV rows of another ticket or AS')
put('csv', p)
p = []
for m in msgs:
    rec = ' '.join(str(x) for x in m.get_all('Received') or [])
    through = 'mx.cert.test (Postfix)' in rec
    if through != (via == 'postfix'):
        p.append('Received: %s' % rec[:120])
put('via', p)
for k, v in res.items():
    print('%s\t%s' % (k, v))
EOF
# arrived LABEL SINKDIR PLAN SENDJSON VIA - run the analysis, one check each
arrived() {
	label=$1
	$PY "$T/arrived.py" "$2" "$3" "$4" "$SHIELD_TEMPLATES" "$5" "$FROM" >"$T/arrived.out" 2>&1
	arc=$?
	check "$label: analysis of the arrived messages ran" '[ $arc = 0 ]'
	[ $arc = 0 ] || sed 's/^/   /' "$T/arrived.out"
	for k in count envelope sender autosub msgid subject csv via; do
		r=$(sed -n "s/^$k	//p" "$T/arrived.out")
		case $k in
		count) d="one message per planned batch" ;;
		envelope) d="envelope recipient (X-Rcpt-Args) = planned contact" ;;
		sender) d="envelope sender <$FROM>" ;;
		autosub) d="Auto-Submitted: auto-generated" ;;
		msgid) d="Message-ID present, unique, carries the ticket, = send --json" ;;
		subject) d="7-bit header, Subject = template with ticket, RFC 2047 where non-ASCII" ;;
		csv) d="one CSV attachment, a row per planned incident" ;;
		via) d="route (Received: by Postfix only when through Postfix)" ;;
		esac
		check "$label: $d (${r:-missing})" '[ "$r" = ok ]'
	done
}

# 1. a database from the notify fixtures: five batches with a contact in
#    nl, fr, de (2) and en, and one AS without a contact
DB=$T/n.db
export SHIELD_TEMPLATES="$repo"/data/templates
"$S" feed --db "$DB" --asn-table "$F/prefixes.dat" "$F/2024-06-01-scan_smb-test.csv" \
	"$F/drones.jsonl" "$F/blocklist.txt" >"$T/feed.out" 2>&1
"$S" notify --db "$DB" contacts import "$F/contacts.csv" >/dev/null 2>&1
"$S" notify --db "$DB" contacts import-ripe "$F/ripe.db.snippet" >/dev/null 2>&1
"$S" notify --db "$DB" plan --json >"$T/plan.jsonl" 2>"$T/plan.err"
N=$($PY -c 'import json, sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["contact"]))' "$T/plan.jsonl" 2>/dev/null)
langs=$($PY -c 'import json, sys; print(" ".join(sorted({json.loads(l)["language"] or "-" for l in open(sys.argv[1])})))' "$T/plan.jsonl" 2>/dev/null)
check "plan: ${N:-?} batches with a contact, languages ${langs:-?}" '[ "${N:-0}" -ge 4 ] && echo " $langs " | grep -q " fr " && echo " $langs " | grep -q " de "'
N=${N:-0}
# a store is two files: the database and its pack (DB-raw) beside it
for c in soft hard; do
	cp "$DB" "$T/$c.db"
	[ -f "$DB-raw" ] && cp "$DB-raw" "$T/$c.db-raw"
done

sys_conf() { cat /etc/postfix/main.cf /etc/postfix/master.cf 2>/dev/null | cksum; }
sys_running() { "$POSTFIX" status >/dev/null 2>&1 && echo running || echo stopped; }
sys_before=$(sys_conf)
sys_state=
[ -x "$POSTFIX" ] && sys_state=$(sys_running)

# 2. through Postfix
if [ ! -x "$POSTFIX" ] || [ ! -x "$POSTCONF" ]; then
	skip "postfix is not installed (scripts/install-deps.sh installs it): the Postfix chain is not tested"
elif [ ! -x "$SINK" ]; then
	skip "$SINK is not installed: the Postfix chain is not tested"
elif [ -z "$is_root" ]; then
	skip "not root: a private Postfix instance cannot be started; the Postfix chain is not tested"
else
	start_sink "$T/relay" "relay-sink-$$.test"
	relay_ok=$?
	relay_pid=$sink_pid
	relay_port=$sink_port
	check "smtp-sink (relay target) answers on 127.0.0.1:$relay_port" '[ $relay_ok = 0 ]'
	pf_port=$(free_port)
	mkdir -p "$PFC" "$PFQ" "$PFD"
	chown "$($POSTCONF -dh mail_owner)" "$PFD"
	# only the services this test needs, nothing chrooted
	cat >"$PFC/master.cf" <<EOF
127.0.0.1:$pf_port inet n - n - - smtpd
pickup     unix  n - n 60    1 pickup
cleanup    unix  n - n -     0 cleanup
qmgr       unix  n - n 300   1 qmgr
rewrite    unix  - - n -     - trivial-rewrite
bounce     unix  - - n -     0 bounce
defer      unix  - - n -     0 bounce
trace      unix  - - n -     0 bounce
verify     unix  - - n -     1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -     - proxymap
proxywrite unix  - - n -     1 proxymap
smtp       unix  - - n -     - smtp
relay      unix  - - n -     - smtp
showq      unix  n - n -     - showq
error      unix  - - n -     - error
retry      unix  - - n -     - error
discard    unix  - - n -     - discard
local      unix  - n n -     - local
anvil      unix  - - n -     1 anvil
scache     unix  - - n -     1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF
	: >"$PFC/main.cf"
	"$POSTCONF" -c "$PFC" -e "queue_directory = $PFQ" "data_directory = $PFD" \
		"compatibility_level = 3.6" "myhostname = mx.cert.test" "mydomain = cert.test" \
		"myorigin = cert.test" "mydestination =" "inet_interfaces = 127.0.0.1" \
		"inet_protocols = ipv4" "mynetworks = 127.0.0.0/8" \
		"smtpd_relay_restrictions = permit_mynetworks, reject" \
		"relayhost = [127.0.0.1]:$relay_port" "default_transport = smtp" \
		"relay_transport = smtp" "smtp_dns_support_level = disabled" \
		"alias_maps =" "alias_database =" "local_recipient_maps =" "biff = no" \
		"smtpd_banner = \$myhostname ESMTP shield-test-$$" \
		"syslog_name = postfix-shield-test" "maillog_file_prefixes = $T" \
		"maillog_file = $PFLOG" "queue_run_delay = 1s" "minimal_backoff_time = 1s" \
		"maximal_backoff_time = 2s" "smtpd_error_sleep_time = 0" \
		"smtp_connect_timeout = 5s" >"$T/postconf.out" 2>&1
	if "$POSTFIX" -c "$PFC" check >"$T/postfix-start.out" 2>&1 &&
		"$POSTFIX" -c "$PFC" start >>"$T/postfix-start.out" 2>&1; then
		pf_started=1
	fi
	pf_up=1
	[ -n "$pf_started" ] && wait_banner "$pf_port" "shield-test-$$" && pf_up=0
	check "private Postfix smtpd answers on 127.0.0.1:$pf_port (master $(pf_master))" '[ $pf_up = 0 ]'
	if [ $pf_up != 0 ]; then
		skip "Postfix did not start: the Postfix chain is not tested"
		sed 's/^/   /' "$T/postconf.out" "$T/postfix-start.out" "$PFLOG" 2>/dev/null | tail -n 15
	else
		SEND="$S notify --db $DB send --smtp smtp://127.0.0.1:$pf_port --from $FROM --org CERT-Test --backoff 0"
		# crash right after the server accepted the first batch
		SHIELD_NOTIFY_CRASH=sent1 $SEND >"$T/pf-send1.out" 2>&1
		rc=$?
		check "postfix: simulated crash after the first accepted batch exits 70" '[ $rc = 70 ]'
		why "$T/pf-send1.out"
		wait_relayed 1 15
		check "postfix: exactly one batch submitted and relayed ($(submitted) submitted, $(files "$T/relay") arrived)" '[ "$(submitted)" = 1 ] && [ "$(files "$T/relay")" = 1 ]'
		$SEND --json >"$T/pf-send2.jsonl" 2>"$T/pf-send2.err"
		rc=$?
		check "postfix: the next run sends the other $((N - 1)) and exits 0 (exit $rc, $(states "$T/pf-send2.jsonl"))" '[ $rc = 0 ] && [ "$(states "$T/pf-send2.jsonl")" = "sent:ok=$((N - 1))" ]'
		why "$T/pf-send2.err" "$T/pf-send2.jsonl"
		wait_relayed "$N" 30
		check "postfix: all $N relayed within 30 s ($(relayed) status=sent)" '[ "$(relayed)" = "$N" ]'
		why "$PFLOG"
		check "postfix: nothing bounced, deferred or needing SMTPUTF8 in the Postfix log" '! grep -Eq "status=(bounced|deferred)|SMTPUTF8" "$PFLOG"'
		[ $last = 0 ] || grep -E "status=(bounced|deferred)|SMTPUTF8" "$PFLOG" | head -n 5 | sed 's/^/   | /'
		arrived postfix "$T/relay" "$T/plan.jsonl" "$T/pf-send2.jsonl" postfix
		n_sub=$(submitted)
		$SEND >"$T/pf-send3.out" 2>&1
		rc=$?
		check "postfix: a re-run sends nothing (exit $rc)" '[ $rc = 0 ] && grep -q "^0 batches frozen, 0 sent, 0 to retry, 0 failed permanently$" "$T/pf-send3.out"'
		why "$T/pf-send3.out"
		check "postfix: nothing submitted twice ($(submitted) submissions, $(files "$T/relay") files)" '[ "$(submitted)" = "$n_sub" ] && [ "$n_sub" = "$N" ] && [ "$(files "$T/relay")" = "$N" ]'
		mpid=$(pf_master)
		pf_stop
		check "postfix: stopped, master ${mpid:-?} gone, no daemon left in the test queue" '[ -n "$mpid" ] && ! alive "$mpid" && [ "$(pf_procs)" = 0 ]'
	fi
	stop_sink "$relay_pid"
fi

# 3. smtp-sink directly: 4xx retried and delivered later, 5xx permanent
if [ ! -x "$SINK" ]; then
	skip "$SINK is not installed: the 4xx/5xx tests are not run"
else
	SOFT="$S notify --db $T/soft.db send --from $FROM --org CERT-Test --backoff 0 --max-tries 2 --json"
	start_sink "$T/soft1" "soft-sink-$$.test" -r RCPT
	up=$?
	check "smtp-sink -r RCPT (450) answers on 127.0.0.1:$sink_port" '[ $up = 0 ]'
	$SOFT --smtp "smtp://127.0.0.1:$sink_port" >"$T/soft1.jsonl" 2>"$T/soft1.err"
	rc=$?
	stop_sink "$sink_pid"
	check "450 on RCPT: exit 1, every batch left for retry ($(states "$T/soft1.jsonl"))" '[ $rc = 1 ] && [ "$(states "$T/soft1.jsonl")" = "retry:4xx=$N" ]'
	why "$T/soft1.err" "$T/soft1.jsonl"
	nr=$(grep -c "retrying in 0 s" "$T/soft1.err")
	check "450 on RCPT: retried once within the run (--max-tries 2: $nr retries)" '[ "$nr" = "$N" ]'
	check "450 on RCPT: nothing delivered" '[ "$(files "$T/soft1")" = 0 ]'
	"$S" notify --db "$T/soft.db" unreachable >"$T/soft-unr.out" 2>&1
	check "450 on RCPT: not listed as bounced by unreachable" '! grep -q "^bounced" "$T/soft-unr.out" && grep -q "no-contact" "$T/soft-unr.out"'
	start_sink "$T/soft2" "good-sink-$$.test"
	up=$?
	good_port=$sink_port good_pid=$sink_pid
	check "smtp-sink (accepting) answers on 127.0.0.1:$good_port" '[ $up = 0 ]'
	$SOFT --smtp "smtp://127.0.0.1:$good_port" >"$T/soft2.jsonl" 2>&1
	check "back-off: an immediate next run sends nothing yet" '[ ! -s "$T/soft2.jsonl" ] && [ "$(files "$T/soft2")" = 0 ]'
	d=$(make_due "$T/soft.db")
	check "store: $d batches waiting for a retry" '[ "$d" = "$N" ]'
	start_sink "$T/soft3" "421-sink-$$.test" -Q MAIL
	up=$?
	check "smtp-sink -Q MAIL (421, disconnect) answers on 127.0.0.1:$sink_port" '[ $up = 0 ]'
	$SOFT --smtp "smtp://127.0.0.1:$sink_port" >"$T/soft3.jsonl" 2>"$T/soft3.err"
	rc=$?
	stop_sink "$sink_pid"
	check "421 on MAIL: exit 1, every batch still waiting ($(states "$T/soft3.jsonl"))" '[ $rc = 1 ] && [ "$(states "$T/soft3.jsonl")" = "retry:4xx=$N" ] && grep -q "\"error\":\"421" "$T/soft3.jsonl"'
	why "$T/soft3.err" "$T/soft3.jsonl"
	check "421 on MAIL: nothing delivered" '[ "$(files "$T/soft3")" = 0 ]'
	# the operator fixed the relay: --retry-now skips the rest of the back-off
	$SOFT --retry-now --smtp "smtp://127.0.0.1:$good_port" >"$T/soft4.jsonl" 2>"$T/soft4.err"
	rc=$?
	check "--retry-now: the next run delivers all $N at once (exit $rc, $(states "$T/soft4.jsonl"))" '[ $rc = 0 ] && [ "$(states "$T/soft4.jsonl")" = "sent:ok=$N" ] && [ "$(files "$T/soft2")" = "$N" ]'
	why "$T/soft4.err" "$T/soft4.jsonl"
	check "the retried batches keep the Message-IDs frozen at the first attempt" '[ "$(message_ids "$T/soft1.jsonl")" = "$(message_ids "$T/soft4.jsonl")" ]'
	arrived direct "$T/soft2" "$T/plan.jsonl" "$T/soft4.jsonl" direct
	$SOFT --smtp "smtp://127.0.0.1:$good_port" >"$T/soft5.jsonl" 2>&1
	rc=$?
	check "a re-run after delivery sends nothing twice (exit $rc, $(files "$T/soft2") files)" '[ $rc = 0 ] && [ ! -s "$T/soft5.jsonl" ] && [ "$(files "$T/soft2")" = "$N" ]'

	HARD="$S notify --db $T/hard.db send --from $FROM --org CERT-Test --backoff 0 --max-tries 3 --json"
	start_sink "$T/hard1" "hard-sink-$$.test" -f RCPT
	up=$?
	check "smtp-sink -f RCPT (500) answers on 127.0.0.1:$sink_port" '[ $up = 0 ]'
	$HARD --smtp "smtp://127.0.0.1:$sink_port" >"$T/hard1.jsonl" 2>"$T/hard1.err"
	rc=$?
	stop_sink "$sink_pid"
	check "500 on RCPT: exit 1, every batch failed permanently ($(states "$T/hard1.jsonl"))" '[ $rc = 1 ] && [ "$(states "$T/hard1.jsonl")" = "failed:5xx=$N" ]'
	why "$T/hard1.err" "$T/hard1.jsonl"
	check "500 on RCPT: not retried within the run" '! grep -q retrying "$T/hard1.err"'
	check "500 on RCPT: nothing delivered" '[ "$(files "$T/hard1")" = 0 ]'
	"$S" notify --db "$T/hard.db" unreachable >"$T/hard-unr.out" 2>&1
	miss=$($PY - "$T/plan.jsonl" "$T/hard-unr.out" <<'EOF'
import json, sys
want = {j['contact'] for j in map(json.loads, open(sys.argv[1])) if j['contact']}
got = {l.split()[1] for l in open(sys.argv[2]) if l.startswith('bounced ') and ' 500 ' in l}
print(' '.join(sorted(want - got)) or 'none')
EOF
)
	check "unreachable lists every contact as bounced with the 500 (missing: $miss)" '[ "$miss" = none ]'
	why "$T/hard-unr.out"
	$HARD --smtp "smtp://127.0.0.1:$good_port" >"$T/hard2.jsonl" 2>&1
	n0=$(files "$T/soft2")
	check "a permanent failure is not sent again to an accepting server" '[ ! -s "$T/hard2.jsonl" ] && [ "$n0" = "$N" ]'
	stop_sink "$good_pid"
fi

if [ -n "$sys_state" ] && [ -f /etc/postfix/main.cf ]; then
	check "the system Postfix (/etc/postfix) untouched and still $sys_state" '[ "$(sys_conf)" = "$sys_before" ] && [ "$(sys_running)" = "$sys_state" ]'
fi
summary
