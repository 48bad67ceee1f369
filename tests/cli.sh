#!/bin/sh
# cli.sh BIN - the command line as a user meets it: help texts, exit
# statuses, clear errors naming the bad input, duplicates, mbox/Maildir
# intake, the store queries. Each check prints ok/FAIL.
BIN=${1:-build/shield}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
T=$(mktemp -d /tmp/shield-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { # check NAME CMD...: the command must succeed
	n=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$n"; else no "$n"; fi
}

# help: top level and every subcommand, complete and on stdout
"$BIN" --help >"$T/help" 2>&1 && grep -q '^usage: shield' "$T/help" && ok "shield --help" || no "shield --help"
for c in $(sed -n 's/^  \([a-z-]*\) .*/\1/p' "$T/help"); do
	if "$BIN" "$c" --help >"$T/h" 2>&1 && grep -q "usage: shield $c" "$T/h"; then ok "$c --help"; else no "$c --help"; fi
done
"$BIN" nosuchcmd >/dev/null 2>"$T/err"; [ $? -eq 2 ] && grep -q "unknown command 'nosuchcmd'" "$T/err" && ok "unknown command: exit 2" || no "unknown command: exit 2"
"$BIN" --version | grep -q '^shield ' && ok "--version" || no "--version"

# fixtures made here
cat >"$T/a.eml" <<'M'
From: "Belfius" <noreply@belfius-veilig.example>
To: jan@example.be
Subject: Uw kaart vervalt
Date: Tue, 2 Jan 2024 09:00:00 +0100
Message-ID: <a1@belfius-veilig.example>

Bevestig via hxxps://belfius-veilig[.]example/kaart of www.belfius-login.example/x
M
cat >"$T/b.eml" <<'M'
From: Piet <piet@example.be>
To: suspicious@shield.example
Subject: Fwd: Uw kaart vervalt
Date: Tue, 2 Jan 2024 10:00:00 +0100

Is dit echt?

---------- Forwarded message ---------
From: Belfius <noreply@belfius-veilig.example>
Date: Tue, 2 Jan 2024 at 09:00
Subject: Uw kaart vervalt
To: <piet@example.be>

Bevestig via https://belfius-veilig.example/kaart
M
mkdir -p "$T/md/cur" "$T/md/new" "$T/md/tmp"
{ echo "X-Trap: maildir"; cat "$T/a.eml"; } >"$T/md/cur/1.host:2,S"
printf 'From x Mon Jan  1 00:00:00 2024\n' >"$T/box.mbox"
cat "$T/a.eml" >>"$T/box.mbox"
printf '\nFrom y Mon Jan  1 00:00:00 2024\n' >>"$T/box.mbox"
cat "$T/b.eml" >>"$T/box.mbox"

# extract: stateless JSON Lines with the promised fields
"$BIN" extract --json "$T/a.eml" >"$T/x.json" && python3 - "$T/x.json" <<'P' && ok "extract --json fields" || no "extract --json fields"
import json, sys
o = json.loads(open(sys.argv[1]).readline())
need = ["source", "forward", "reporter", "from", "reply_to", "subject", "date", "message_id", "urls",
        "domains", "ips", "emails", "attachments", "received", "origin_ip", "auth", "findings"]
missing = [k for k in need if k not in o]
assert not missing, missing
assert {"spf", "dkim", "dmarc", "dkim_signatures", "smime"} <= set(o["auth"])
urls = [u["url"] for u in o["urls"]]
assert "https://belfius-veilig.example/kaart" in urls, urls
assert all({"url", "host", "registrable_domain", "found_in", "text"} <= set(u) for u in o["urls"])
assert o["date"] == "2024-01-02T08:00:00Z", o["date"]
P
"$BIN" extract --json "$T/b.eml" | python3 -c 'import json,sys; o=json.loads(sys.stdin.readline()); assert o["forward"]=="inline" and o["reporter"]=="piet@example.be" and o["from"]=="noreply@belfius-veilig.example", o' && ok "extract: inline forward" || no "extract: inline forward"
"$BIN" extract --json "$T/box.mbox" | python3 -c 'import json,sys; l=[json.loads(x) for x in sys.stdin]; assert [o["source_index"] for o in l]==[0,1], l' && ok "extract: mbox source_index" || no "extract: mbox source_index"
"$BIN" extract --json - <"$T/a.eml" | grep -q '"source":"-"' && ok "extract: stdin" || no "extract: stdin"
"$BIN" extract "$T/a.eml" | grep -q 'url  https://belfius-veilig.example/kaart' && ok "extract: text output" || no "extract: text output"

# a wrong path: named on stderr, the rest processed, exit 1
"$BIN" extract --json "$T/missing.eml" "$T/a.eml" >"$T/o" 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "missing.eml" "$T/err" && [ "$(wc -l <"$T/o")" -eq 1 ] && ok "wrong path: named, rest processed, exit 1" || no "wrong path: named, rest processed, exit 1"
"$BIN" extract >/dev/null 2>&1; [ $? -eq 2 ] && ok "extract without paths: exit 2" || no "extract without paths: exit 2"

# ingest, duplicates, queries
DB="$T/s.db"
"$BIN" ingest --db "$DB" --json "$T/a.eml" "$T/b.eml" "$T/md" >"$T/i1" && grep -q '"messages_stored":3' "$T/i1" && ok "ingest eml + Maildir" || { no "ingest eml + Maildir"; cat "$T/i1"; }
"$BIN" ingest --db "$DB" --json "$T/a.eml" >"$T/i2" && grep -q '"duplicates":1' "$T/i2" && grep -q '"submissions":3' "$T/i2" && ok "ingest twice: duplicate, nothing new" || { no "ingest twice: duplicate"; cat "$T/i2"; }
SHIELD_DB="$DB" "$BIN" reports --json >"$T/r" && [ "$(wc -l <"$T/r")" -eq 3 ] && python3 -c 'import json,sys; [json.loads(l)["id"] for l in open(sys.argv[1])]' "$T/r" && ok "reports --json via \$SHIELD_DB" || no "reports --json via \$SHIELD_DB"
"$BIN" reports --db "$DB" | grep -q "^3 reports$" && ok "reports table" || no "reports table"
"$BIN" show --db "$DB" 1 | grep -q '^urls (' && ok "show 1" || no "show 1"
"$BIN" show --db "$DB" --raw 1 | cmp -s - "$T/a.eml" && ok "show --raw gives the bytes verbatim" || no "show --raw gives the bytes verbatim"
"$BIN" show --db "$DB" 999 >/dev/null 2>"$T/err"; [ $? -eq 3 ] && grep -q "no report 999" "$T/err" && ok "show missing id: clear error" || no "show missing id: clear error"
"$BIN" show --db "$DB" abc >/dev/null 2>&1; [ $? -eq 2 ] && ok "show bad id: usage" || no "show bad id: usage"
"$BIN" indicators --db "$DB" --type url --json | grep -q '"value":"https://belfius-veilig.example/kaart"' && ok "indicators --type url" || no "indicators --type url"
"$BIN" indicators --db "$DB" --type domain | grep -q 'belfius-veilig.example' && ok "indicators table" || no "indicators table"
"$BIN" indicators --db "$DB" --type bogus >/dev/null 2>&1; [ $? -eq 2 ] && ok "indicators bad type: exit 2" || no "indicators bad type: exit 2"
# the mbox holds a.eml and b.eml byte for byte: both are duplicates
"$BIN" ingest --db "$DB" --json "$T/box.mbox" >"$T/i3" && grep -q '"duplicates":2' "$T/i3" && ok "ingest mbox: same bytes are duplicates" || { no "ingest mbox: same bytes are duplicates"; cat "$T/i3"; }

# threads: the output and the store do not depend on --jobs (input order kept)
FIX=$(cd "$(dirname "$0")" && pwd)/data
"$BIN" extract --json --jobs 1 "$FIX" >"$T/j1" 2>/dev/null
"$BIN" extract --json --jobs 3 "$FIX" >"$T/j3" 2>/dev/null
[ -s "$T/j1" ] && cmp -s "$T/j1" "$T/j3" && ok "extract --jobs 3 = --jobs 1, same order" || no "extract --jobs 3 = --jobs 1"
"$BIN" ingest --db "$T/j1.db" --jobs 1 --quiet "$FIX" 2>/dev/null
"$BIN" ingest --db "$T/j3.db" --jobs 3 --quiet "$FIX" 2>/dev/null
q() { "$BIN" reports --db "$1" --json | python3 -c 'import json,sys
for l in sys.stdin:
    j = json.loads(l); print(j["id"], j["source"], j.get("campaign_id"), j.get("verdict"))'; }
q "$T/j1.db" >"$T/q1" && q "$T/j3.db" >"$T/q3" && [ -s "$T/q1" ] && cmp -s "$T/q1" "$T/q3" && ok "ingest --jobs 3 = --jobs 1: same ids, campaigns, verdicts" || no "ingest --jobs 3 = --jobs 1"
"$BIN" ingest --db "$T/j3.db" --jobs 3 --json "$FIX" >"$T/j3b" 2>/dev/null && python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(not (j["duplicates"] == j["reports_read"] > 0 and j["messages_stored"] == 0))' "$T/j3b" && ok "ingest --jobs 3 again: all duplicates" || { no "ingest --jobs 3 again: all duplicates"; cat "$T/j3b"; }
# --replay (Date order, campaign clock from each message): same summary and campaigns for any --jobs
"$BIN" ingest --replay --jobs 1 --quiet --db "$T/r1.db" "$FIX" >"$T/rp1" 2>/dev/null
"$BIN" ingest --replay --jobs 3 --quiet --db "$T/r3.db" "$FIX" >"$T/rp3" 2>/dev/null
grep -q "^campaign  reports  first report" "$T/rp1" && cmp -s "$T/rp1" "$T/rp3" && q "$T/r1.db" >"$T/rq1" && q "$T/r3.db" >"$T/rq3" && cmp -s "$T/rq1" "$T/rq3" && ok "ingest --replay: same for --jobs 1 and 3" || no "ingest --replay: same for --jobs 1 and 3"
"$BIN" extract --jobs 0 "$T/a.eml" >/dev/null 2>"$T/err"; [ $? -eq 2 ] && grep -q "jobs.*'0'" "$T/err" && ok "--jobs 0: usage error naming it" || no "--jobs 0: usage error"

# a store that cannot be opened: clear error, exit 3, nothing else touched
echo "not a database" >"$T/bad.db"
"$BIN" reports --db "$T/bad.db" >/dev/null 2>"$T/err"; [ $? -eq 3 ] && grep -q "bad.db" "$T/err" && ok "broken store: named, exit 3" || no "broken store: named, exit 3"
"$BIN" ingest --db /nonexistent/dir/s.db "$T/a.eml" >/dev/null 2>"$T/err"; [ $? -eq 3 ] && grep -q "/nonexistent/dir/s.db" "$T/err" && ok "unwritable store path: named" || no "unwritable store path: named"
"$BIN" psl www.example.co.uk | grep -q 'example.co.uk' && ok "psl" || no "psl"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
