#!/bin/sh
# notify_reports.sh - citizens' reports reach network owners: ingest a
# reported phish, 'shield feed --reports' turns its origin IP and the IP
# host of its link into incidents (once: a re-run reads nothing again),
# '--resolve' adds the blocklist's hosts (an IP-hosted URL here; names that
# do not resolve are counted), and 'shield notify send' attaches an ARF
# report (RFC 5965) per reported mail, the recipient's address redacted and
# the reporter never named. Everything offline (the fixture's host names
# are under .example).
# Usage: tests/notify/notify_reports.sh [BUILD|BINARY]   (prints "N passed, N failed")
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-$repo/build}
case $build in /*) ;; *) build=$repo/$build ;; esac
[ -f "$build" ] && build=$(dirname "$build")
S=$build/shield
F=$repo/tests/data/notify
PY=/usr/bin/python3
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if eval "$2"; then ok "$1"; else ko "$1"; fi; }
T=$(mktemp -d /tmp/shield-notify-reports.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
export SHIELD_TEMPLATES=$repo/data/templates
DB=$T/r.db
printf '45.155.205.0/24\t64500\n' >"$T/table.dat"

"$S" ingest --quiet --db "$DB" "$F/reported-phish.eml" >/dev/null 2>&1
v=$("$S" reports --db "$DB" --json | $PY -c 'import json,sys; j=json.loads(sys.stdin.readline()); print(j["verdict"], j["origin_ip"])')
check "the fixture is judged phishing from 45.155.205.10 ($v)" '[ "$v" = "phishing 45.155.205.10" ]'

"$S" feed --db "$DB" --asn-table "$T/table.dat" --resolve >"$T/usage.out" 2>&1
check "--resolve without --reports is a usage error" '[ $? = 2 ] && grep -q "goes with --reports" "$T/usage.out"'

"$S" feed --db "$DB" --asn-table "$T/table.dat" --reports --json >"$T/f1.jsonl" 2>"$T/f1.err"
rc=$?
check "feed --reports loads reports:1-1 with 2 events" '[ $rc = 0 ] && grep -q "\"file\":\"reports:1-1\".*\"events\":2" "$T/f1.jsonl"'
"$S" notify --db "$DB" plan --json >"$T/p1.jsonl"
check "plan: AS64500, 2 events, 2 IPs" 'grep -q "\"asn\":64500,\"events\":2,\"distinct_ips\":2" "$T/p1.jsonl"'
t=$($PY - "$DB" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(" ".join(sorted(r[0] for r in db.execute("SELECT path FROM feed_file"))))
EOF
)
check "recorded as reports:1-1 ($t)" '[ "$t" = "reports:1-1" ]'
"$S" feed --db "$DB" --asn-table "$T/table.dat" --reports >"$T/f2.out" 2>&1
rc=$?
check "a re-run reads no report twice" '[ $rc = 0 ] && grep -q "no report stored since the last run" "$T/f2.out" && grep -q "0 events" "$T/f2.out"'

# a second report, and the blocklist (one URL on an IP, one under .example)
sed 's/a81f3c2d9f@/second-a81f3c2d9f@/; s/45\.155\.205\.10/45.155.205.11/' "$F/reported-phish.eml" >"$T/second.eml"
"$S" ingest --quiet --db "$DB" "$T/second.eml" >/dev/null 2>&1
"$S" blocklist --db "$DB" >/dev/null 2>&1
"$S" feed --db "$DB" --asn-table "$T/table.dat" --reports --resolve --json >"$T/f3.jsonl" 2>"$T/f3.err"
rc=$?
check "only the new report is read (reports:2-2, 1 origin event: its link's IP merges)" '[ $rc = 0 ] && grep -q "\"file\":\"reports:2-2\".*\"events\":2" "$T/f3.jsonl"'
check "--resolve: the IP-hosted listing gives a phishing-site event" 'grep -q "\"file\":\"blocklist:[0-9]*-[0-9]*\".*\"events\":1" "$T/f3.jsonl"'
check "--resolve: a name that does not resolve is counted, not dropped silently" 'grep -q "host names gave no public address" "$T/f3.err"'
"$S" notify --db "$DB" plan --json >"$T/p2.jsonl"
r=$($PY - "$T/p2.jsonl" <<'EOF'
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])]
print(len(p), p[0]["asn"], p[0]["events"], p[0]["distinct_ips"], p[0]["incidents"])
EOF
)
# incidents: phishing-origin x2 IPs, phishing-url (one IP, two events), phishing-site
check "plan after both: 1 batch, AS64500, 5 events, 3 IPs, 4 incidents ($r)" '[ "$r" = "1 64500 5 3 4" ]'

# ARF: one per reported mail behind the origin incidents
"$S" notify --db "$DB" contacts set AS64500 abuse@as64500.example --language fr >/dev/null
mkdir -p "$T/out"
"$S" notify --db "$DB" send --from cert@cert.test --org CERT-Test --dry-run "$T/out" >"$T/send.out" 2>&1
check "send --dry-run writes the batch" '[ $(ls "$T/out" | wc -l) = 1 ]'
r=$($PY - "$T"/out/*.eml <<'EOF'
import email, sys
from email import policy
raw = open(sys.argv[1], 'rb').read()
m = email.message_from_bytes(raw, policy=policy.default)
arfs = [p for p in m.walk() if p.get_content_type() == 'message/rfc822']
out = []
out.append('arfs=%d' % len(arfs))
ok = True
ips = set()
for a in arfs:
    inner = a.get_payload()[0]
    if inner.get_content_type() != 'multipart/report' or inner.get_param('report-type') != 'feedback-report':
        ok = False
    parts = inner.get_payload()
    if [p.get_content_type() for p in parts] != ['text/plain', 'message/feedback-report', 'text/rfc822-headers']:
        ok = False
        continue
    fr = parts[1].get_payload()[0]  # the fields, parsed as a header block
    for f in ('Feedback-Type', 'User-Agent', 'Version'):
        if not fr[f]:
            ok = False
    if fr['Feedback-Type'] != 'fraud' or fr['Version'] != '1':
        ok = False
    ips.add(fr['Source-IP'])
    if 'http://45.155.205.99/itsme/nl/verify?c=7f3a' not in fr.get_all('Reported-URI', []):
        ok = False
    hdrs = parts[2].get_payload()
    if 'To: redacted@redacted.invalid' not in hdrs or 'Received: from vps-4411.hosting.example' not in hdrs:
        ok = False
    if not inner['Auto-Submitted'] == 'auto-generated' or 'SHIELD-' not in inner['Subject']:
        ok = False
out.append('ips=' + ','.join(sorted(ips)))
# the citizens who reported the mails, and their addresses, appear nowhere
out.append('reporter=%s' % (b'jan.peeters' in raw))
out.append('ok=%s' % ok)
print(' '.join(out))
EOF
)
check "two ARF reports (RFC 5965 parts and fields), one per origin IP, reporter never named ($r)" '[ "$r" = "arfs=2 ips=45.155.205.10,45.155.205.11 reporter=False ok=True" ]'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
