#!/usr/bin/env python3
"""campaign_review.py - print the labelled phishing_pot sample group by group
for reading: per message its From, subject, the start of its visible text
and its clickable link domains (from `shield extract --json`).

Usage: campaign_review.py SHIELD LABELS.tsv EMAIL_DIR [LABEL_PREFIX]
Used to re-verify tests/data/campaign/labels.tsv by reading every message
(docs/campaigns.md, "Evaluation").
"""
import collections, email, email.policy, html, json, os, re, subprocess, sys

shield, labels, edir = sys.argv[1:4]
prefix = sys.argv[4] if len(sys.argv) > 4 else ""
groups = collections.OrderedDict()
for line in open(labels, encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    f, lab = line.rstrip("\n").split("\t")[:2]
    if lab.startswith(prefix):
        groups.setdefault(lab, []).append(f)


def visible(path):
    try:
        m = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    except Exception:
        return ""
    plain, htm = None, None
    for part in m.walk():
        ct = part.get_content_type()
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        try:
            c = part.get_content()
        except Exception:
            continue
        if not isinstance(c, str):
            continue
        if ct == "text/plain" and plain is None:
            plain = c
        elif ct == "text/html" and htm is None:
            htm = c
    t = plain if plain and plain.strip() else None
    if t is None and htm:
        h = re.sub(r"(?is)<(style|script|head)[^>]*>.*?</\1>", " ", htm)
        t = html.unescape(re.sub(r"(?s)<[^>]+>", " ", h))
    return re.sub(r"\s+", " ", t or "").strip()


for lab, files in groups.items():
    print("== %s (%d)" % (lab, len(files)))
    for f in files:
        p = os.path.join(edir, f)
        out = subprocess.run([shield, "extract", "--json", p], capture_output=True, text=True).stdout
        j = json.loads(out.splitlines()[0]) if out.strip() else {}
        doms = []
        for u in j.get("urls", []):
            if u.get("found_in") in ("html:href", "text", "html:text", "html:action"):
                d = u.get("registrable_domain") or u.get("host")
                if d and d not in doms:
                    doms.append(d)
        print("  %s | %s | %s" % (f, j.get("from"), (j.get("subject") or "")[:90]))
        print("      links: %s" % " ".join(doms[:6]))
        print("      text: %s" % visible(p)[:220])
