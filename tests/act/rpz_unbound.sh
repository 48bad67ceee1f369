#!/bin/sh
# rpz_unbound.sh SHIELD - the RPZ that `shield blocklist` writes is accepted by
# named-checkzone and, loaded into a real unbound on 127.0.0.1, answers
# NXDOMAIN for a listed domain and its subdomains while an allowlisted name
# below it (rpz-passthru) and an unlisted domain still resolve. The SOA
# serial increases when the content changes and stays when it does not.
# Needs unbound, dig and named-checkzone (Debian unbound, bind9-dnsutils,
# bind9-utils); prints SKIP without them.
SHIELD=${1:-build/shield}
case $SHIELD in /*) ;; *) SHIELD=$(pwd)/$SHIELD ;; esac
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
for tool in unbound unbound-checkconf dig named-checkzone; do
	if ! command -v $tool >/dev/null 2>&1 && [ ! -x /usr/sbin/$tool ]; then
		echo "SKIP: $tool not installed"
		echo "0 passed, 0 failed"
		exit 0
	fi
done
PATH=$PATH:/usr/sbin
T=$(mktemp -d)
UPID=
cleanup() {
	[ -n "$UPID" ] && kill "$UPID" 2>/dev/null && wait "$UPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

mkdir -p "$T/mail" "$T/wl/testgood" "$T/u"
for i in 1 2; do
	cat >"$T/mail/p$i.eml" <<EOM
From: "Phish Bank Security" <security@phish-bank.example>
To: victim$i@example.net
Subject: Your account is suspended $i
Message-ID: <p$i@phish-bank.example>
Date: Mon, 01 Jan 2024 10:0$i:00 +0000
Content-Type: text/plain

Dear customer, your account has been suspended. Verify your identity now:
http://login.phish-bank.example/verify/$i
Also see http://clean.example/page
EOM
done
printf '{"name":"test good","type":"hostname","list":["clean.example"]}\n' >"$T/wl/testgood/list.json"
DB=$T/t.db
"$SHIELD" ingest --db "$DB" --quiet "$T/mail" >/dev/null 2>&1
"$SHIELD" allow --db "$DB" ok.phish-bank.example --reason "test: the bank's real login host" >/dev/null
BL="$SHIELD blocklist --db $DB --warninglists $T/wl --domain-min-reports 1 --verdict phishing,malware,scam,spam,unknown,legitimate"
if $BL --format rpz -o "$T/u/rpz.cert.test.zone" 2>"$T/bl.err"; then ok "blocklist --format rpz"; else bad "blocklist --format rpz: $(cat "$T/bl.err")"; fi
grep -q '^phish-bank.example CNAME \.$' "$T/u/rpz.cert.test.zone" && grep -q '^\*\.phish-bank.example CNAME \.$' "$T/u/rpz.cert.test.zone" &&
	ok "apex and wildcard entries" || bad "apex and wildcard entries"
grep -q '^ok.phish-bank.example CNAME rpz-passthru\.$' "$T/u/rpz.cert.test.zone" && ok "passthru for the allowlisted name" || bad "passthru"
grep -q 'clean.example CNAME' "$T/u/rpz.cert.test.zone" && bad "known-good domain listed" || ok "known-good domain not listed"
if named-checkzone rpz.cert.test "$T/u/rpz.cert.test.zone" >"$T/ncz.out" 2>&1; then ok "named-checkzone accepts the zone"; else bad "named-checkzone: $(cat "$T/ncz.out")"; fi
serial() { awk '/IN SOA/ {print $6; exit}' "$1"; }
s1=$(serial "$T/u/rpz.cert.test.zone")
$BL --format rpz -o "$T/u/again.zone" 2>/dev/null
s2=$(serial "$T/u/again.zone")
[ "$s1" = "$s2" ] && ok "serial unchanged without change ($s1)" || bad "serial changed without change ($s1 -> $s2)"
"$SHIELD" allow --db "$DB" other.phish-bank.example --reason "test: second exception" >/dev/null
$BL --format rpz -o "$T/u/changed.zone" 2>/dev/null
s3=$(serial "$T/u/changed.zone")
[ "$s3" -gt "$s1" ] 2>/dev/null && ok "serial increases on change ($s1 -> $s3)" || bad "serial did not increase ($s1 -> $s3)"
ls "$T/u" | grep -q tmp && bad "temporary file left behind" || ok "no temporary file left (atomic write)"

# the offline "Internet" the resolver iterates to
cat >"$T/u/phish-bank.example.zone" <<EOM
\$TTL 300
@ IN SOA localhost. hostmaster.phish-bank.example. 1 3600 600 86400 300
@ IN NS localhost.
@ IN A 203.0.113.7
login IN A 203.0.113.8
ok IN A 203.0.113.9
EOM
cat >"$T/u/clean.example.zone" <<EOM
\$TTL 300
@ IN SOA localhost. hostmaster.clean.example. 1 3600 600 86400 300
@ IN NS localhost.
@ IN A 203.0.113.5
EOM
PORT=$((20000 + $$ % 20000))
cat >"$T/u/unbound.conf" <<EOM
server:
    interface: 127.0.0.1
    port: $PORT
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$T/u"
    pidfile: "$T/u/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    access-control: 127.0.0.0/8 allow
    module-config: "respip validator iterator"
    do-not-query-localhost: no
auth-zone:
    name: "phish-bank.example."
    zonefile: "$T/u/phish-bank.example.zone"
    for-downstream: no
    for-upstream: yes
auth-zone:
    name: "clean.example."
    zonefile: "$T/u/clean.example.zone"
    for-downstream: no
    for-upstream: yes
rpz:
    name: "rpz.cert.test."
    zonefile: "$T/u/rpz.cert.test.zone"
    rpz-log: yes
    rpz-log-name: "shield-rpz"
remote-control:
    control-enable: no
EOM
if ! unbound-checkconf "$T/u/unbound.conf" >"$T/ucc.out" 2>&1; then
	bad "unbound-checkconf: $(cat "$T/ucc.out")"
else
	unbound -d -c "$T/u/unbound.conf" >"$T/u/unbound.log" 2>&1 &
	UPID=$!
	up=0
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		dig @127.0.0.1 -p $PORT +time=1 +tries=1 clean.example A >/dev/null 2>&1 && up=1 && break
		sleep 0.25
	done
	[ $up = 1 ] && ok "unbound up on 127.0.0.1:$PORT" || bad "unbound did not start: $(tail -5 "$T/u/unbound.log")"
	rcode() { dig @127.0.0.1 -p $PORT +time=2 +tries=1 "$1" A | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
	for n in phish-bank.example login.phish-bank.example deep.login.phish-bank.example; do
		r=$(rcode $n)
		[ "$r" = NXDOMAIN ] && ok "$n -> NXDOMAIN" || bad "$n -> $r (want NXDOMAIN)"
	done
	for n in ok.phish-bank.example clean.example; do
		r=$(rcode $n)
		a=$(dig @127.0.0.1 -p $PORT +short $n A | head -1)
		[ "$r" = NOERROR ] && [ -n "$a" ] && ok "$n -> NOERROR $a" || bad "$n -> $r (want NOERROR)"
	done
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
