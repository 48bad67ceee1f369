#!/bin/sh
# auth_vectors.sh - Shield's DKIM verification (src/verdict/auth.c, through
# "test_auth --verify KEYS FILE...") against third-party vectors that carry
# their own key records:
#   ../shared/data/mail_auth_vectors/resources/dkim/*.txt  (records, a blank
#       line, then a message; every one must pass but 002, whose PKCS#1 key
#       libopendkim refuses; 005's signature expired in 2022 and passes as of
#       its signing time)
#   ../shared/data/dkim_spf_testsuites/dkimpy/data  (RFC 6376/8463 examples
#       and an Exim ed25519 message; keys from the suite's .txt/.dns files)
# and each of those with one body byte changed, which must fail.
# Keys files are made in a temporary directory, never in ../shared.
# Usage: tests/corpus/auth_vectors.sh [BIN]  (BIN: build/shield; the verifier
# is the test_auth binary next to it, BUILD/tests/test_auth).
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/../shared/data"
BIN="${1:-build/shield}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
VERIFY="$(dirname "$BIN")/tests/test_auth"
MAV="$DATA/mail_auth_vectors/resources/dkim"
DKP="$DATA/dkim_spf_testsuites/dkimpy/data"
if [ ! -d "$MAV" ] && [ ! -d "$DKP" ]; then
	echo "SKIP: $MAV and $DKP absent"
	echo "0 passed, 0 failed"
	exit 0
fi
if [ ! -x "$VERIFY" ]; then
	echo "error: $VERIFY is not an executable (make $(dirname "$BIN")/tests/test_auth)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
TMP=$(mktemp -d /tmp/shield-auth-vectors.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

# check KEYS FILE WANT - one message; WANT is pass or fail.
check() {
	got=$(cd "$ROOT" && "$VERIFY" --verify "$1" "$2" | sed -n 's/.* dkim=\([^ ]*\).*/\1/p')
	if [ "$got" = "$3" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $2: dkim=$got, want $3"
	fi
}

# tamper FILE OUT - change one byte of the body (the first letter 'e' after
# the header block becomes 'E').
tamper() {
	awk 'BEGIN{b=0; d=0} { if (b && !d && index($0, "e")) { sub(/e/, "E"); d=1 } print; if ($0 == "" || $0 == "\r") b=1 }' "$1" >"$2"
}

if [ -d "$MAV" ]; then
	for f in "$MAV"/*.txt; do
		n=$(basename "$f" .txt)
		awk '/^\r?$/{exit} {print}' "$f" >"$TMP/mav-$n.keys"
		awk 'f{print} /^\r?$/{f=1}' "$f" >"$TMP/mav-$n.eml"
		want=pass
		bad=fail
		case $n in
		002)
			# p= is a bare PKCS#1 RSAPublicKey (the wording of RFC 6376
			# 3.6.1, erratum 3017) instead of the SubjectPublicKeyInfo
			# every signer publishes; libopendkim refuses such a key
			want=permerror
			bad=permerror
			;;
		esac
		check "$TMP/mav-$n.keys" "$TMP/mav-$n.eml" $want
		tamper "$TMP/mav-$n.eml" "$TMP/mav-$n-tampered.eml"
		check "$TMP/mav-$n.keys" "$TMP/mav-$n-tampered.eml" $bad
	done
fi

if [ -d "$DKP" ]; then
	K="$TMP/dkimpy.keys"
	: >"$K"
	[ -f "$DKP/test.txt" ] && printf 'test._domainkey.football.example.com %s\n' \
		"$(tr -d '\r\n' <"$DKP/test.txt")" >>"$K"
	# RFC 8463 section A.2's Ed25519 key (brisbane), as dkimpy's tests use it
	printf 'brisbane._domainkey.football.example.com v=DKIM1; k=ed25519; p=%s\n' \
		11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo= >>"$K"
	[ -f "$DKP/eximtest.dns" ] && printf 'sed._domainkey.test.ex %s\n' \
		"$(tr -d '\r\n' <"$DKP/eximtest.dns")" >>"$K"
	for m in rfc6376.signed.msg rfc6376.signed.rsa.msg ed25519test2.msg; do
		[ -f "$DKP/$m" ] || continue
		check "$K" "$DKP/$m" pass
		tamper "$DKP/$m" "$TMP/$m.tampered"
		check "$K" "$TMP/$m.tampered" fail
	done
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
