#!/bin/sh
# asn_oracle.sh - check `shield asn` against independent oracles:
#   1. pyasn's 1,000 IPs with Team Cymru answers (ipasn_20140513.dat.gz),
#      and pyasn itself on the same table (must agree exactly);
#   2. bgpdump on MRT RIB dumps (v4 TABLE_DUMP_V2, v6, legacy TABLE_DUMP);
#   3. mmdblookup on a GeoLite2-ASN-layout mmdb written here with
#      MaxMind::DB::Writer (skipped when the Perl module is missing);
#   4. a Python bisect over ip-location-db's CSV for 5,000 addresses.
# Usage: tests/notify/asn_oracle.sh [BUILD|BINARY]   (prints "N passed, N failed")
# Needs /usr/bin/python3 (Debian's, for pyasn), bgpdump, mmdblookup.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-$repo/build}
case $build in /*) ;; *) build=$repo/$build ;; esac
# tests/run.sh passes the binary; a build directory works too
[ -f "$build" ] && build=$(dirname "$build")
shield=$build/shield
data=$here/../../../shared/data
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
if [ ! -d "$data/pyasn_data" ]; then
	echo "asn_oracle: $data absent; skipping (shared test data not present)"
	echo "0 passed, 0 failed"
	exit 0
fi
T=$(mktemp -d /tmp/shield-asn-oracle.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
P=$data/pyasn_data
PY=/usr/bin/python3

# 1. Team Cymru truth and pyasn
grep -v '^#' "$P/cymru_truth_20140513.tsv" | cut -f1 >"$T/ips.txt"
"$shield" asn --asn-table "$P/ipasn_20140513.dat.gz" --json - <"$T/ips.txt" >"$T/cymru.jsonl" 2>"$T/err"
res=$($PY - "$P/cymru_truth_20140513.tsv" "$T/cymru.jsonl" "$P/ipasn_20140513.dat.gz" "$T" <<'EOF'
import json, sys, gzip
truth = {}
for l in open(sys.argv[1]):
    if l.startswith('#'):
        continue
    ip, a = l.split()
    truth[ip] = None if a == 'None' else int(a)
got = {}
for l in open(sys.argv[2]):
    j = json.loads(l)
    got[j['ip']] = (j['asn'], j['prefix'])
agree = sum(1 for ip, a in truth.items() if got.get(ip, (0,))[0] == a)
try:
    import pyasn
    dat = sys.argv[4] + '/ipasn.dat'
    with gzip.open(sys.argv[3], 'rb') as f, open(dat, 'wb') as o:
        o.write(f.read())
    db = pyasn.pyasn(dat)
    same = sum(1 for ip in truth if tuple(db.lookup(ip)) == got.get(ip))
    pa = sum(1 for ip, a in truth.items() if db.lookup(ip)[0] == a)
except ImportError:
    same, pa = -1, -1
print(agree, len(truth), same, pa)
EOF
)
set -- $res
echo "  cymru: shield agrees with Team Cymru on $1/$2; pyasn agrees on $4/$2; shield == pyasn (AS and prefix) on $3/$2"
[ "${1:-0}" -ge 970 ] && ok "cymru truth >= 97%" || ko "cymru truth >= 97% (got ${1:-?})"
if [ "${3:--1}" -ge 0 ]; then
	[ "$3" = "$2" ] && ok "identical to pyasn on 1000 IPs" || ko "identical to pyasn ($3/$2)"
else
	echo "  (python3-pyasn missing: pyasn comparison skipped)"
fi

# 2. MRT vs bgpdump: longest-prefix match computed in Python from
#    bgpdump's first entry per prefix, origin as pyasn chooses it
for rib in rib.20140523.0600_firstMB.bz2 rib6.20151101.0600_firstMB.bz2 rib.20080501.0644_firstMB.bz2 bview.20140112.1600_3samples.bz2; do
	[ -f "$P/$rib" ] || continue
	if ! command -v bgpdump >/dev/null; then
		echo "  (bgpdump missing: MRT comparison skipped)"
		break
	fi
	# Both tools read the same decompressed bytes: the "firstMB" samples are
	# truncated bzip2, and libarchive drops the last complete block of a
	# truncated stream where bzcat keeps it (complete dumps are unaffected).
	bzcat "$P/$rib" >"$T/rib.mrt" 2>/dev/null
	bgpdump -m "$T/rib.mrt" 2>/dev/null >"$T/bgp.txt"
	if [ ! -s "$T/bgp.txt" ]; then
		echo "  $rib: bgpdump reads no route from it; skipped"
		continue
	fi
	$PY - "$T/bgp.txt" "$T/sample.txt" <<'EOF'
import sys, ipaddress, random
def bogus(a):
    return a == 0 or a == 23456 or 64496 <= a <= 131071 or a >= 4200000000
def origin(path):
    segs = []
    for tok in path.split():
        if tok.startswith('{'):
            segs.append(('set', [int(x) for x in tok.strip('{}').split(',') if x]))
        else:
            if segs and segs[-1][0] == 'seq':
                segs[-1][1].append(int(tok))
            else:
                segs.append(('seq', [int(tok)]))
    for kind, ases in reversed(segs):
        good = [a for a in ases if not bogus(a)]
        if good:
            return good[-1] if kind == 'seq' else min(good)
    return None
first = {}
for l in open(sys.argv[1]):
    f = l.split('|')
    if len(f) < 7 or f[5] in first:
        continue
    first[f[5]] = origin(f[6])
nets = {}
for p, a in first.items():
    n = ipaddress.ip_network(p, strict=False)
    if n.prefixlen == 0 or a is None:
        continue
    nets[(n.version, int(n.network_address), n.prefixlen)] = (a, str(n))
random.seed(7)
keys = sorted(nets)
out = open(sys.argv[2], 'w')
for v, addr, plen in random.sample(keys, min(3000, len(keys))):
    bits = 32 if v == 4 else 128
    ip = addr + random.randrange(1 << (bits - plen))
    # LPM among all prefixes
    best = None
    for l in range(bits, 0, -1):
        k = (v, ip >> (bits - l) << (bits - l), l)
        if k in nets:
            best = nets[k]
            break
    a = ipaddress.ip_address(ip) if v == 6 else ipaddress.IPv4Address(ip)
    out.write('%s %s %s\n' % (a, best[0], best[1]))
EOF
	cut -d' ' -f1 "$T/sample.txt" >"$T/sips.txt"
	"$shield" asn --asn-table "$T/rib.mrt" --json - <"$T/sips.txt" 2>"$T/err" >"$T/mrt.jsonl"
	r=$($PY - "$T/sample.txt" "$T/mrt.jsonl" <<'EOF'
import sys, json
want = [l.split() for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
same = sum(1 for w, g in zip(want, got) if str(g['asn']) == w[1] and g['prefix'] == w[2])
bad = [(w, g['asn'], g['prefix']) for w, g in zip(want, got) if not (str(g['asn']) == w[1] and g['prefix'] == w[2])]
print(same, len(want), bad[:3])
EOF
)
	echo "  $rib: shield == bgpdump-derived LPM on $r"
	set -- $r
	[ "$1" = "$2" ] && [ "$2" -gt 0 ] && ok "MRT $rib vs bgpdump" || ko "MRT $rib vs bgpdump"
done

# 3. mmdb written with MaxMind::DB::Writer, checked with mmdblookup
if perl -MMaxMind::DB::Writer::Tree -e1 2>/dev/null && command -v mmdblookup >/dev/null; then
	perl - "$T/asn.test.mmdb" <<'EOF'
use strict; use warnings;
use MaxMind::DB::Writer::Tree;
my %types = (autonomous_system_number => 'uint32', autonomous_system_organization => 'utf8_string');
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version => 6, record_size => 24, database_type => 'GeoLite2-ASN',
    languages => ['en'], description => { en => 'shield test' },
    map_key_type_callback => sub { $types{ $_[0] } },
    remove_reserved_networks => 0, alias_ipv6_to_ipv4 => 1);
$tree->insert_network('198.51.100.0/24', { autonomous_system_number => 5432, autonomous_system_organization => 'Proximus NV' });
$tree->insert_network('198.51.100.128/25', { autonomous_system_number => 64500, autonomous_system_organization => 'More specific' });
$tree->insert_network('192.0.2.0/24', { autonomous_system_number => 6848, autonomous_system_organization => 'Telenet BV' });
$tree->insert_network('2001:db8::/32', { autonomous_system_number => 196615, autonomous_system_organization => 'Example v6' });
open my $fh, '>:raw', $ARGV[0] or die; $tree->write_tree($fh); close $fh;
EOF
	good=0
	total=0
	for ip in 198.51.100.7 198.51.100.200 192.0.2.1 2001:db8::1 203.0.113.1; do
		want=$(mmdblookup --file "$T/asn.test.mmdb" --ip "$ip" autonomous_system_number 2>/dev/null | awk '/uint32/ {print $1}')
		got=$("$shield" asn --asn-table "$T/asn.test.mmdb" --json "$ip" | $PY -c 'import json,sys; a=json.load(sys.stdin)["asn"]; print("" if a is None else a)')
		total=$((total + 1))
		[ "$want" = "$got" ] && good=$((good + 1)) || echo "  mmdb $ip: mmdblookup '$want' shield '$got'"
	done
	echo "  mmdb: shield == mmdblookup on $good/$total"
	[ $good = $total ] && ok "mmdb vs mmdblookup" || ko "mmdb vs mmdblookup"
	name=$("$shield" asn --asn-table "$T/asn.test.mmdb" 192.0.2.9 | tail -1)
	case $name in *"Telenet BV"*"") ok "mmdb holder name" ;; *) ko "mmdb holder name ($name)" ;; esac
else
	echo "  (libmaxmind-db-writer-perl or mmdb-bin missing: mmdb check skipped)"
fi

# 4. ip-location-db CSV vs a Python bisect over the same CSV
if [ -f "$data/ip_location_db_asn.tar.zst" ] && command -v zstd >/dev/null; then
	tar -I zstd -xf "$data/ip_location_db_asn.tar.zst" -C "$T"
	D=$T/ip_location_db_asn
	"$shield" asn --asn-table "$D/asn-ipv4.csv" --asn-table "$D/asn-ipv6.csv" --compile "$T/full.asnt" 2>"$T/compile.txt"
	sed 's/^/  /' "$T/compile.txt"
	$PY - "$D/asn-ipv4.csv" "$T/loc.txt" <<'EOF'
import csv, sys, bisect, random, ipaddress
rows = [(int(ipaddress.IPv4Address(r[0])), int(ipaddress.IPv4Address(r[1])), int(r[2])) for r in csv.reader(open(sys.argv[1]))]
rows.sort()
starts = [r[0] for r in rows]
random.seed(3)
with open(sys.argv[2], 'w') as out:
    for _ in range(5000):
        r = rows[random.randrange(len(rows))]
        ip = random.randint(r[0], r[1])
        i = bisect.bisect_right(starts, ip) - 1
        # the one known overlap: prefer the smallest covering range
        cands = [x for x in rows[max(0, i - 3):i + 1] if x[0] <= ip <= x[1]]
        best = min(cands, key=lambda x: x[1] - x[0])
        out.write('%s %d\n' % (ipaddress.IPv4Address(ip), best[2]))
EOF
	cut -d' ' -f1 "$T/loc.txt" | "$shield" asn --asn-table "$T/full.asnt" --json - >"$T/loc.jsonl"
	r=$($PY - "$T/loc.txt" "$T/loc.jsonl" <<'EOF'
import sys, json
want = [l.split() for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
print(sum(1 for w, g in zip(want, got) if str(g['asn']) == w[1]), len(want))
EOF
)
	echo "  ip-location-db: shield == Python bisect on $r"
	set -- $r
	[ "$1" = "$2" ] && ok "ip-location-db CSV vs bisect" || ko "ip-location-db CSV vs bisect"
	v6=$("$shield" asn --asn-table "$T/full.asnt" 2001:4860:4860::8888 | tail -1)
	case $v6 in *15169*) ok "IPv6 lookup in full table" ;; *) ko "IPv6 lookup in full table ($v6)" ;; esac
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
