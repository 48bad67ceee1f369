#!/usr/bin/python3
"""toplists.py WARNINGLISTS_DIR DOMAINS_FILE - how many domain-level
entries fall on a top-domain list: the entry itself, a parent of it, or a
listed name below it (which the wildcard entry would block). Prints each
hit and "HITS N" last."""
import json, os, sys

TOP = ("tranco", "cisco_top", "majestic", "alexa", "cloudflare-top", "moz-top")
wl, dom_file = sys.argv[1], sys.argv[2]
d = os.path.join(wl, "lists") if os.path.isdir(os.path.join(wl, "lists")) else wl
names, below = {}, {}
for n in sorted(os.listdir(d)):
    if not n.startswith(TOP):
        continue
    try:
        j = json.load(open(os.path.join(d, n, "list.json")))
    except (OSError, ValueError):
        continue
    for e in j.get("list", []):
        e = e.strip().lower().lstrip("*.").rstrip(".")
        if "." not in e:
            continue
        names.setdefault(e, n)
        p = e.split(".")
        for i in range(1, len(p) - 1):
            below.setdefault(".".join(p[i:]), (n, e))
hits = 0
for line in open(dom_file):
    v = line.strip().lower()
    if not v or v.startswith("#"):
        continue
    p = v.split(".")
    why = None
    for i in range(len(p) - 1):
        if ".".join(p[i:]) in names:
            why = "%s: %s" % (names[".".join(p[i:])], ".".join(p[i:]))
            break
    if not why and v in below:
        why = "%s: %s lies below" % below[v]
    if why:
        hits += 1
        print("top-list hit: %s (%s)" % (v, why))
print("lists: %d names" % len(names))
print("HITS %d" % hits)
