#!/usr/bin/env python3
"""Baseline for bench/run.sh: what a short Python stdlib script does.

Usage: baseline_extract.py DIR_OR_FILE...
For every file (directories walked recursively): parse with the stdlib
`email` package (policy.default), decode every text/plain and text/html part,
find URLs with a regex in text and with html.parser in <a href>, <img src>,
<form action>, <area href>, <link href>, and print one JSON line per message
(source, from, subject, date, urls, attachments: name/size/sha256).
"""
import email
import email.policy
import hashlib
import html.parser
import json
import os
import re
import sys

URL_RE = re.compile(r"""(?i)\bhttps?://[^\s<>"'()\[\]{}]+""")
LINK_ATTRS = {"a": "href", "area": "href", "link": "href", "img": "src", "form": "action",
              "iframe": "src", "script": "src"}


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        want = LINK_ATTRS.get(tag)
        if want:
            for k, v in attrs:
                if k == want and v:
                    self.urls.append(v.strip())

    def handle_data(self, data):
        self.text.append(data)


def one(path):
    with open(path, "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    urls, atts = [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ct = part.get_content_type()
        fn = part.get_filename()
        try:
            if ct in ("text/plain", "text/html") and not fn:
                t = part.get_content()
                if not isinstance(t, str):
                    t = t.decode("utf-8", "replace")
                if ct == "text/html":
                    p = Links()
                    try:
                        p.feed(t)
                        p.close()
                    except Exception:  # noqa: BLE001 - broken HTML is data
                        pass
                    urls += p.urls
                    urls += URL_RE.findall(" ".join(p.text))
                else:
                    urls += URL_RE.findall(t)
            else:
                data = part.get_payload(decode=True) or b""
                atts.append({"name": fn, "type": ct, "size": len(data),
                             "sha256": hashlib.sha256(data).hexdigest()})
        except Exception:  # noqa: BLE001
            continue
    seen = set()
    uniq = [u for u in urls if not (u in seen or seen.add(u))]

    def h(name):
        try:
            v = msg.get(name)
            return str(v) if v is not None else None
        except Exception:  # noqa: BLE001
            return None
    return {"source": path, "from": h("from"), "subject": h("subject"), "date": h("date"),
            "message_sha256": hashlib.sha256(raw).hexdigest(), "urls": uniq,
            "attachments": atts}


def main():
    out = sys.stdout
    n = 0
    for arg in sys.argv[1:]:
        paths = []
        if os.path.isdir(arg):
            for root, _d, fs in os.walk(arg):
                paths += [os.path.join(root, f) for f in fs]
            paths.sort()
        else:
            paths = [arg]
        for p in paths:
            try:
                rec = one(p)
            except Exception as e:  # noqa: BLE001
                rec = {"source": p, "error": str(e)}
            out.write(json.dumps(rec) + "\n")
            n += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
