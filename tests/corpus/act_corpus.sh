#!/bin/sh
# act_corpus.sh SHIELD - blocklists and sharing over the shared phishing
# corpus (../shared/data/phishing_pot-dev.tar.zst, unpacked into
# build/corpus/ once): ingest, publish every blocklist format, count
# URL-level and domain-level entries and the domain-level entries on any
# top-domain MISP warning list (target 0), check the RPZ with
# named-checkzone, and validate the MISP feed, a MISP event and the STIX
# bundle against the official schemas offline (tests/act/validate_share.py).
SHIELD=${1:-build/shield}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$ROOT/../shared/data
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
if [ ! -f "$DATA/phishing_pot-dev.tar.zst" ] || [ ! -d "$DATA/misp_warninglists" ]; then
	echo "SKIP: ../shared/data (phishing_pot-dev, misp_warninglists) not present"
	echo "0 passed, 0 failed"
	exit 0
fi
if [ ! -x /usr/bin/python3 ] || ! /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	echo "SKIP: /usr/bin/python3 with jsonschema (python3-jsonschema) not installed"
	echo "0 passed, 0 failed"
	exit 0
fi
# the same layout as the other corpus suites: build/corpus/phishing_pot-dev/email/
CORPUS=$ROOT/build/corpus/phishing_pot-dev/email
if [ ! -d "$CORPUS" ]; then
	mkdir -p "$ROOT/build/corpus/phishing_pot-dev" &&
		tar --zstd -xf "$DATA/phishing_pot-dev.tar.zst" -C "$ROOT/build/corpus/phishing_pot-dev" || {
		echo "SKIP: cannot unpack the corpus"
		echo "0 passed, 0 failed"
		exit 0
	}
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
DB=$T/c.db
"$SHIELD" ingest --db "$DB" --quiet "$CORPUS" >/dev/null 2>"$T/ingest.err" &&
	[ "$("$SHIELD" reports --db "$DB" --json | wc -l)" -gt 1000 ] &&
	ok "corpus ingested" || bad "corpus ingest: $(tail -3 "$T/ingest.err")"
mkdir -p "$T/out"
if "$SHIELD" blocklist --db "$DB" --format all -o "$T/out" --warninglists "$DATA/misp_warninglists" 2>"$T/bl.err"; then
	ok "blocklist --format all"
else
	bad "blocklist: $(cat "$T/bl.err")"
fi
cat "$T/bl.err"
dom=$(grep -vc '^#' "$T/out/domains.txt")
url=$(grep -vc '^#' "$T/out/urls.txt")
echo "corpus: $url URL-level entries, $dom domain-level entries"
/usr/bin/python3 "$ROOT/tests/act/toplists.py" "$DATA/misp_warninglists" "$T/out/domains.txt" >"$T/top.out"
hits=$(sed -n 's/^HITS //p' "$T/top.out")
grep '^top-list hit' "$T/top.out" | head -20
echo "corpus: $hits domain-level entries on a top-domain list"
[ "$hits" = 0 ] && ok "no domain-level entry on a top-domain list" || bad "$hits domain-level entries on top-domain lists"
if command -v named-checkzone >/dev/null 2>&1 || [ -x /usr/sbin/named-checkzone ]; then
	PATH=$PATH:/usr/sbin named-checkzone rpz.cert.test "$T/out/blocklist.rpz" >"$T/ncz" 2>&1 &&
		ok "named-checkzone accepts the corpus RPZ" || bad "named-checkzone: $(tail -3 "$T/ncz")"
else
	echo "SKIP: named-checkzone (bind9-utils) not installed"
fi
/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out/blocklist.json" && ok "blocklist.json parses" || bad "blocklist.json"
F=$DATA/stix_misp_formats
"$SHIELD" share --db "$DB" --format misp -o "$T/feed/" 2>/dev/null
"$SHIELD" share --db "$DB" --format stix -o "$T/bundle.json" 2>/dev/null
n=$(ls "$T/feed" | grep -c '\.json$')
echo "corpus: MISP feed with $((n - 1)) events"
/usr/bin/python3 "$ROOT/tests/act/validate_share.py" "$F" misp "$T"/feed/*.json >"$T/vm" 2>&1 &&
	ok "MISP feed: every event and the manifest validate ($(tail -1 "$T/vm"))" || { bad "MISP feed validation"; grep -A5 INVALID "$T/vm" | head -30; }
[ -s "$T/feed/hashes.csv" ] && ok "hashes.csv written" || bad "hashes.csv"
/usr/bin/python3 "$ROOT/tests/act/validate_share.py" "$F" stix "$T/bundle.json" >"$T/vs" 2>&1 &&
	ok "STIX bundle validates" || { bad "STIX bundle validation"; head -30 "$T/vs"; }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
