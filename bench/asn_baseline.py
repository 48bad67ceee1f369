#!/usr/bin/env python3
"""asn_baseline.py - the Python baseline for bench/asn_bench.sh.

Does what `shield feed` + `shield notify plan` do, the plain way: load the
same ip-location-db CSVs into sorted start lists (csv module), read the
feed with the csv module, find each IP's AS with bisect, and count events
and distinct IPs per AS. It keeps nothing (no store, no incidents), so it
does strictly less work than Shield. Prints a summary and the per-AS
totals' checksum so the two runs can be compared.

Usage: asn_baseline.py ASN_V4_CSV ASN_V6_CSV FEED_CSV
Also: asn_baseline.py --gen ASN_V4_CSV ASN_V6_CSV OUT N POOL  (make the feed)
"""
import bisect
import csv
import ipaddress
import random
import socket
import struct
import sys
import time


def load(v4path, v6path):
    t4, t6 = [], []
    for path, table, v6 in ((v4path, t4, False), (v6path, t6, True)):
        with open(path, newline='') as f:
            for row in csv.reader(f):
                a = int(ipaddress.ip_address(row[0]))
                b = int(ipaddress.ip_address(row[1]))
                table.append((a, b, int(row[2])))
    t4.sort()
    t6.sort()
    return t4, t6


def gen(v4path, v6path, out, n, pool):
    t4, t6 = load(v4path, v6path)
    rnd = random.Random(42)
    ips = []
    for i in range(pool):
        if i % 50 == 0:  # 2% IPv6
            a, b, _ = t6[rnd.randrange(len(t6))]
            ips.append(str(ipaddress.IPv6Address(rnd.randint(a, min(b, a + 2**64)))))
        else:
            a, b, _ = t4[rnd.randrange(len(t4))]
            ips.append(str(ipaddress.IPv4Address(rnd.randint(a, b))))
    tags = ['smb', 'telnet', 'rdp', 'ssh']
    base = 1717200000
    with open(out, 'w', newline='') as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL)
        w.writerow(['timestamp', 'ip', 'port', 'hostname', 'tag', 'asn', 'geo', 'region', 'city'])
        for i in range(n):
            ip = ips[rnd.randrange(pool)]
            t = base + rnd.randrange(86400)
            w.writerow([time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(t)), ip,
                        rnd.choice((445, 23, 3389, 22)), '', rnd.choice(tags), '', 'BE', 'Region', 'City'])


def main():
    if sys.argv[1] == '--gen':
        gen(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
        return
    t0 = time.time()
    t4, t6 = load(sys.argv[1], sys.argv[2])
    s4 = [r[0] for r in t4]
    s6 = [r[0] for r in t6]
    t1 = time.time()
    events, ips = {}, {}
    inet_aton = socket.inet_aton
    unpack = struct.Struct('!I').unpack
    with open(sys.argv[3], newline='') as f:
        rd = csv.reader(f)
        hdr = next(rd)
        col = hdr.index('ip')
        for row in rd:
            ip = row[col]
            try:
                if ':' in ip:
                    v = int(ipaddress.IPv6Address(ip))
                    i = bisect.bisect_right(s6, v) - 1
                    r = t6[i] if i >= 0 and t6[i][1] >= v else None
                else:
                    v = unpack(inet_aton(ip))[0]
                    i = bisect.bisect_right(s4, v) - 1
                    r = t4[i] if i >= 0 and t4[i][1] >= v else None
            except (ValueError, OSError):
                continue
            asn = r[2] if r else 0
            events[asn] = events.get(asn, 0) + 1
            s = ips.get(asn)
            if s is None:
                s = ips[asn] = set()
            s.add(ip)
    t2 = time.time()
    total = sum(events.values())
    distinct = sum(len(s) for s in ips.values())
    print('python: table %.2f s, feed+count %.2f s, total %.2f s; %d ASes, %d events, %d distinct (AS,IP)'
          % (t1 - t0, t2 - t1, t2 - t0, len(events), total, distinct))


if __name__ == '__main__':
    main()
