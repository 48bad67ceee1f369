#!/bin/sh
# notify_e2e.sh - feed -> contacts -> plan -> send through a real SMTP
# server (aiosmtpd on 127.0.0.1, started here, stopped by PID), with
# temporary and permanent failures, simulated crashes, XARF validation
# against the shared xarf_spec schemas, and the unreachable report.
# Usage: tests/notify/notify_e2e.sh [BUILD|BINARY]   (prints "N passed, N failed")
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-$repo/build}
case $build in /*) ;; *) build=$repo/$build ;; esac
# tests/run.sh passes the binary; a build directory works too
[ -f "$build" ] && build=$(dirname "$build")
S=$build/shield
F=$repo/tests/data/notify
data=$here/../../../shared/data
PY=/usr/bin/python3
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if eval "$2"; then ok "$1"; else ko "$1"; fi; }
T=$(mktemp -d /tmp/shield-notify-e2e.XXXXXX)
sink_pid=
cleanup() {
	[ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
DB=$T/n.db
export SHIELD_TEMPLATES=$repo/data/templates

# 1. feeds: three formats, malformed lines reported with file:line
"$S" feed --db "$DB" --asn-table "$F/prefixes.dat" "$F/2024-06-01-scan_smb-test.csv" \
	"$F/drones.jsonl" "$F/blocklist.txt" >"$T/feed.out" 2>"$T/feed.err"
rc=$?
check "feed exits 1 when some lines are bad" '[ $rc = 1 ]'
check "bad CSV line named by file:line" 'grep -q "2024-06-01-scan_smb-test.csv:7: not an IP address" "$T/feed.err"'
check "bad JSON line named by file:line" 'grep -q "drones.jsonl:3: bad time" "$T/feed.err"'
check "12 events loaded" 'grep -q "12 events, 3 bad lines, 11 new incidents" "$T/feed.out"'
"$S" feed --db "$DB" --asn-table "$F/prefixes.dat" "$F/blocklist.txt" >"$T/feed2.out" 2>&1
check "same file again is a duplicate" 'grep -q "^duplicate" "$T/feed2.out"'

# 2. contacts: CSV, RIPE dump, an override that survives re-import
"$S" notify --db "$DB" contacts import "$F/contacts.csv" >/dev/null 2>"$T/imp.err"
check "contact CSV bad row reported" 'grep -q "contacts.csv:6: not a plain e-mail address" "$T/imp.err"'
"$S" notify --db "$DB" contacts import-ripe "$F/ripe.db.snippet" >/dev/null 2>&1
"$S" notify --db "$DB" contacts set AS64500 override@as64500.example --language de >/dev/null
"$S" notify --db "$DB" contacts import "$F/contacts.csv" >/dev/null 2>&1
"$S" notify --db "$DB" contacts list --json >"$T/contacts.jsonl"
check "override survives re-import" 'grep -q "\"override@as64500.example\".*\"operator\"" "$T/contacts.jsonl"'
check "RIPE abuse-c via org resolved" 'grep -q "abuse@ripe-org.example" "$T/contacts.jsonl"'

# 3. plan: every AS with events, contact null where unknown
"$S" notify --db "$DB" plan --json >"$T/plan.jsonl"
r=$($PY - "$T/plan.jsonl" <<'EOF'
import json, sys
p = {j['asn']: j for j in map(json.loads, open(sys.argv[1]))}
ok = (set(p) == {0, 64500, 64501, 64502, 64503, 64504}
      and p[0]['contact'] is None
      and p[64500]['contact'] == 'override@as64500.example' and p[64500]['events'] == 5
      and p[64500]['distinct_ips'] == 2 and p[64500]['language'] == 'de'
      and p[64502]['contact'] == 'noc@prefix.example'
      and p[64503]['contact'] == 'abuse@ripe-org.example'
      and all(k in j for j in p.values() for k in ('asn', 'events', 'distinct_ips', 'contact', 'language')))
print('yes' if ok else 'no %r' % p)
EOF
)
check "plan --json batches ($r)" '[ "$r" = yes ]'

# failure cases: AS64502's prefix contact tempfails twice, AS64504 rejects
"$S" notify --db "$DB" contacts set 198.51.100.128/25 tempfail@prefix.example --language de >/dev/null
"$S" notify --db "$DB" contacts set AS64504 reject@v6.example >/dev/null

if ! $PY -c 'import aiosmtpd' 2>/dev/null; then
	echo "  python3-aiosmtpd missing: delivery tests skipped"
	echo "$pass passed, $fail failed"
	[ $fail -eq 0 ]
	exit
fi
port=$((20000 + $$ % 20000))
mkdir -p "$T/sink/mail"
$PY "$here/smtp_sink.py" "$port" "$T/sink/mail" >"$T/sink.log" 2>&1 &
sink_pid=$!
i=0
while [ ! -f "$T/sink/sink.ready" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "SMTP sink started on 127.0.0.1:$port" '[ -f "$T/sink/sink.ready" ]'
printf '64500,ExampleNet64500\n64501,ExampleNet64501\n' >"$T/asnames.txt"
SEND="$S notify --db $DB send --smtp smtp://127.0.0.1:$port --from cert@cert.test --org CERT-Test --backoff 0 --names $T/asnames.txt"

# 4. crash right after the batches were frozen: nothing lost, nothing sent
SHIELD_NOTIFY_CRASH=frozen $SEND --xarf >/dev/null 2>&1
check "simulated crash after freezing exits 70" '[ $? = 70 ]'
check "nothing delivered yet" '[ $(ls "$T/sink/mail" | wc -l) = 0 ]'

# 5. the real run: 4xx retried, 5xx recorded, XARF attached
$SEND --xarf --json >"$T/send.jsonl" 2>"$T/send.err"
rc=$?
check "send exits 1 because of the permanent failure" '[ $rc = 1 ]'
check "tempfail retried and then sent" 'grep -q "\"state\":\"sent\".*tempfail@prefix.example" "$T/send.jsonl" && grep -q "retrying" "$T/send.err"'
check "550 recorded as failed" 'grep -q "\"state\":\"failed\".*reject@v6.example" "$T/send.jsonl"'
n=$(ls "$T/sink/mail" | wc -l)
check "4 messages arrived ($n)" '[ "$n" = 4 ]'
check "{{as_name}} filled from --names" 'grep -q "AS64500 (ExampleNet64500)" "$T"/sink/mail/*'
r=$($PY - "$T/sink/mail" "$data/xarf_spec" <<'EOF'
import email, email.header, json, os, sys
from email import policy
d, spec = sys.argv[1], sys.argv[2]
msgs = [email.message_from_binary_file(open(os.path.join(d, f), 'rb'), policy=policy.default)
        for f in sorted(os.listdir(d))]
problems, xarfs = [], []
for m in msgs:
    raw_subject = m.get('Subject', '')
    if m['Auto-Submitted'] != 'auto-generated': problems.append('auto-submitted')
    if not m['Message-ID'] or 'SHIELD-' not in m['Message-ID']: problems.append('message-id')
    if 'SHIELD-' not in str(m['Subject']): problems.append('ticket in subject')
    parts = list(m.iter_attachments())
    csvs = [p for p in parts if p.get_content_type() == 'text/csv']
    if len(csvs) != 1: problems.append('csv')
    rows = csvs[0].get_content().strip().splitlines() if csvs else []
    if len(rows) < 2 or not rows[0].startswith('ticket,type,ip,asn'): problems.append('csv rows')
    xarfs += [json.loads(p.get_content() if isinstance(p.get_content(), str) else p.get_content().decode())
              for p in parts if p.get_content_type() == 'application/json']
    body = m.get_body(('plain',)).get_content()
    if m['To'].startswith('tempfail') and 'Sehr geehrtes' not in body: problems.append('german text')
# non-ASCII subjects must be RFC 2047 encoded on the wire
for f in os.listdir(d):
    raw = open(os.path.join(d, f), 'rb').read()
    hdr = raw.split(b'\r\n\r\n', 1)[0]
    if any(b > 127 for b in hdr): problems.append('8-bit header in ' + f)
ok_x = 0
try:
    if not os.path.isdir(spec):
        raise ImportError('shared xarf_spec absent: validation is reported as skipped')
    import jsonschema
    base = os.path.join(spec, 'schemas', 'v4')
    store = {}
    for root, _, files in os.walk(base):
        for fn in files:
            if fn.endswith('.json'):
                s = json.load(open(os.path.join(root, fn)))
                store[s['$id']] = s
    master = store['https://xarf.org/schemas/v4/xarf-v4-master.json']
    Val = jsonschema.validators.validator_for(master)
    for x in xarfs:
        res = jsonschema.RefResolver.from_schema(master, store=store)
        Val(master, resolver=res).validate(x)
        t = 'https://xarf.org/schemas/v4/types/%s-%s.json' % (x['category'], x['type'].replace('_', '-'))
        if t in store:
            Val(store[t], resolver=jsonschema.RefResolver.from_schema(store[t], store=store)).validate(x)
        ok_x += 1
except ImportError:
    ok_x = -1
except Exception as e:
    problems.append('xarf invalid: %s' % str(e).splitlines()[0])
print('ok' if not problems else problems, len(xarfs), ok_x)
EOF
)
set -- $r
wf=$1 nx=$2 vx=$3
check "messages well formed ($r)" '[ "$wf" = ok ]'
if [ -d "$data/xarf_spec" ]; then
	check "XARF attachments valid against xarf-v4-master + type schemas ($vx of $nx)" '[ "$vx" = "$nx" ] && [ "$nx" -gt 0 ]'
else
	echo "  shared xarf_spec absent: XARF validation skipped"
fi

# 6. a second run sends nothing again
$SEND >"$T/send2.out" 2>&1
check "re-run sends nothing twice" '[ $(ls "$T/sink/mail" | wc -l) = 4 ] && grep -q "0 batches frozen, 0 sent" "$T/send2.out"'

# 7. unreachable: the unrouted AS and the bounced address
"$S" notify --db "$DB" unreachable >"$T/unr.out"
check "unreachable lists no-contact and bounced" 'grep -q "no-contact" "$T/unr.out" && grep -q "reject@v6.example" "$T/unr.out"'

# 8. crash after the first accepted batch: the rest go on the next run,
#    none twice (short interval so new incidents are due at once)
"$S" notify --db "$DB" contacts set AS64500 override@as64500.example --interval 1 >/dev/null
"$S" notify --db "$DB" contacts set AS64501 second@as64501.example --interval 1 >/dev/null
printf '192.0.2.50\n198.51.100.50\n' >"$T/more.txt"
"$S" feed --db "$DB" --asn-table "$F/prefixes.dat" --type scan_ssh "$T/more.txt" >/dev/null
sleep 1
SHIELD_NOTIFY_CRASH=sent1 $SEND >/dev/null 2>&1
check "simulated crash after one accepted batch exits 70" '[ $? = 70 ]'
check "one of two new batches delivered" '[ $(ls "$T/sink/mail" | wc -l) = 5 ]'
$SEND >/dev/null 2>&1
check "the other delivered by the next run" '[ $(ls "$T/sink/mail" | wc -l) = 6 ]'
dups=$(cat "$T"/sink/mail/*.eml | grep -i '^Message-ID:' | sort | uniq -d | wc -l)
check "no Message-ID delivered twice" '[ "$dups" = 0 ]'

kill "$sink_pid" 2>/dev/null
wait "$sink_pid" 2>/dev/null
sink_pid=
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
