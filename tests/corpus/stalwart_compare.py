#!/usr/bin/env python3
"""Conformance of `shield extract --json` against the stalwart mail-parser corpus.

Usage: stalwart_compare.py BIN CORPUS_DIR

CORPUS_DIR is .../stalwart_mail_parser_corpus; every eml/*/NNN.eml has an
expected parse NNN.json (LF offsets; NNN.crlf.json differs only in offsets).

Which parse is compared
  * Shield prints one object per *suspicious message*.  When a message has
    top-level message/rfc822 parts (not inside multipart/report) it prints
    one object per attached message (forward=attached) and none for the
    outer message.  Such objects are compared with the corresponding nested
    `Message` body of stalwart's parse (the i-th top-level message/rfc822 part
    in depth-first order == suspect_index i).  Otherwise (forward=none or
    inline) the object is compared with stalwart's outer message.
  * With --no-unwrap (if the binary supports it: SHIELD_NO_UNWRAP=1 in the
    environment passes it) every message is compared as the outer one.

Fields compared (normalisation in brackets)
  subject     [RFC 2047 decoded by both; runs of white space collapsed, stripped;
               a header repeated: any occurrence may match]
  from        first mailbox's address [lower-cased; null == null]
  to          first mailbox's address of the first To header [lower-cased]
  date        as an instant [stalwart's DateTime + zone -> UTC seconds; Shield's
               ISO 8601 UTC; stalwart "Empty"/absent == Shield null]
  parts       number of MIME parts: stalwart's parts list, plus recursively the
               parts of every nested Message body (Shield's mime_parts counts the
               message/rfc822 part and then the attached message's own tree)
  attachment names
              multiset of file names of all leaf parts carrying one
               (Content-Disposition filename, else Content-Type name),
               recursing into nested messages [NFC, white space collapsed]
  Text normalisation: a U+FFFD in stalwart's value (stalwart could not decode
  raw 8-bit header bytes; Shield falls back to Latin-1 / UTF-8) matches any
  one character.  An "address" without '@' (From: Whomever) counts as null:
  neither side has an e-mail address there.

Policy for eml/malformed/ (deliberately broken MIME: prefix boundaries,
missing ';' before boundary=, broken message/rfc822): there is no standard
recovery, so the *structure* fields (parts, attachment_names, attached_count)
are reported as DIVERGE lines but do not fail the message; the header
fields still must match.  The "strict" figure (every field counts) is printed
too.
Prints every non-matching message with the fields that differ, then
`N passed, N failed`.  Exit status 1 if fewer than 95% match (or a run
crashed).
"""
import calendar
import json
import os
import re
import subprocess
import sys
import unicodedata

THRESHOLD = 0.95


def norm_ws(s):
    if s is None:
        return None
    s = unicodedata.normalize("NFC", s)
    return re.sub(r"\s+", " ", s).strip()


def text_eq(expected, got):
    if expected is None or got is None:
        return expected == got
    if "\ufffd" not in expected:
        return expected == got
    pat = "".join("." if c == "\ufffd" else re.escape(c) for c in expected)
    return re.fullmatch(pat, got, re.S) is not None


def addr_norm(a):
    if not a or "@" not in a:
        return None
    return a.lower()


def hname(h):
    n = h.get("name")
    return n if isinstance(n, str) else None


def headers(msg, name):
    """All values of header `name` of a stalwart message parse (root part)."""
    return [h["value"] for h in msg["parts"][0]["headers"] if hname(h) == name]


def first_addr(value):
    """First mailbox address of a stalwart Address value, or None."""
    if not isinstance(value, dict):
        return None
    a = value.get("Address")
    if not isinstance(a, dict):
        return None
    if "List" in a:
        lst = a["List"] or []
        for m in lst:
            return (m.get("address") or None)
        return None
    if "Group" in a:
        for g in a["Group"] or []:
            for m in g.get("addresses") or []:
                return (m.get("address") or None)
    return None


def dt_epoch(value):
    if not isinstance(value, dict) or "DateTime" not in value:
        return None
    d = value["DateTime"]
    try:
        t = calendar.timegm((d["year"], d["month"], d["day"], d["hour"], d["minute"],
                             d["second"], 0, 0, 0))
    except (OverflowError, ValueError, TypeError):
        return None
    off = d.get("tz_hour", 0) * 3600 + d.get("tz_minute", 0) * 60
    # tz_before_gmt: the zone is west of Greenwich (-HHMM)
    return t + off if d.get("tz_before_gmt") else t - off


ISO = re.compile(r"^(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?$")


def iso_epoch(s):
    if not s:
        return None
    m = ISO.match(s)
    if not m:
        return "unparseable:" + s
    y, mo, d, h, mi, se = (int(x) for x in m.groups()[:6])
    t = calendar.timegm((y, mo, d, h, mi, se, 0, 0, 0))
    z = m.group(7)
    if z and z != "Z":
        sign = -1 if z[0] == "+" else 1
        z = z[1:].replace(":", "")
        t += sign * (int(z[:2]) * 3600 + int(z[2:]) * 60)
    return t


def fmt_epoch(t):
    if t is None or isinstance(t, str):
        return t
    import time
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    except (OverflowError, ValueError, OSError):
        return str(t)


def ct_of(part, hdr="content_type"):
    for h in part["headers"]:
        if hname(h) == hdr and isinstance(h["value"], dict) and "ContentType" in h["value"]:
            return h["value"]["ContentType"]
    return None


def attr(ct, name):
    if not ct:
        return None
    for a in ct.get("attributes") or []:
        if a.get("name", "").lower() == name:
            return a.get("value")
    return None


def body_kind(part):
    b = part["body"]
    return next(iter(b)) if isinstance(b, dict) else str(b)


def part_count(msg):
    n = len(msg["parts"])
    for p in msg["parts"]:
        if body_kind(p) == "Message":
            n += part_count(p["body"]["Message"])
    return n


def attachment_names(msg):
    names = []
    for p in msg["parts"]:
        k = body_kind(p)
        if k == "Message":
            names += attachment_names(p["body"]["Message"])
        elif k != "Multipart":
            n = attr(ct_of(p, "content_disposition"), "filename") or attr(ct_of(p), "name")
            if n:
                names.append(norm_ws(n))
    return sorted(names)


def top_messages(msg):
    """Top-level message/rfc822 parts (depth-first, not inside multipart/report,
    not inside other messages) - Shield's attached suspects."""
    out = []
    stack = [0]
    while stack:
        i = stack.pop()
        if i >= len(msg["parts"]):
            continue
        p = msg["parts"][i]
        k = body_kind(p)
        if k == "Multipart":
            ct = ct_of(p)
            if ct and (ct.get("c_type") or "").lower() == "multipart" and \
                    (ct.get("c_subtype") or "").lower() == "report":
                continue
            stack.extend(reversed(p["body"]["Multipart"]))
        elif k == "Message":
            out.append(p["body"]["Message"])
    return out


def compare(exp, got):
    """List of (field, expected, got) that differ."""
    diffs = []
    subj = [norm_ws(v["Text"]) for v in headers(exp, "subject")
            if isinstance(v, dict) and "Text" in v]
    gs = norm_ws(got.get("subject"))
    if not ((not subj and not gs) or any(text_eq(e, gs) for e in subj)):
        diffs.append(("subject", subj[0] if len(subj) == 1 else subj, gs))

    for fld in ("from", "to"):
        vals = headers(exp, fld)
        e = addr_norm(first_addr(vals[0]) if vals else None)
        g = addr_norm(got.get(fld))
        if e != g:
            diffs.append((fld, e, g))

    dates = [dt_epoch(v) for v in headers(exp, "date")]
    dates = [d for d in dates if d is not None]
    g = iso_epoch(got.get("date"))
    if not ((not dates and g is None) or g in dates):
        diffs.append(("date", [fmt_epoch(d) for d in dates] if len(dates) != 1 else fmt_epoch(dates[0]),
                      got.get("date")))

    e = part_count(exp)
    g = got.get("mime_parts")
    if e != g:
        diffs.append(("parts", e, g))

    e = attachment_names(exp)
    g = sorted(norm_ws(a["name"]) for a in got.get("attachments") or [] if a.get("name"))
    if len(e) != len(g) or not all(text_eq(x, y) for x, y in zip(e, g)):
        diffs.append(("attachment_names", e, g))
    return diffs


def short(v, n=70):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= n else s[:n - 3] + "..."


STRUCTURE = ("parts", "attachment_names", "attached_count")


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/shield"
    corpus = sys.argv[2]
    extra = []
    h = subprocess.run([binary, "extract", "--help"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT).stdout.decode("utf-8", "replace")
    if "--no-unwrap" in h or os.environ.get("SHIELD_NO_UNWRAP") == "1":
        extra = ["--no-unwrap"]
    emls = []
    for root, _dirs, files in os.walk(os.path.join(corpus, "eml")):
        for f in files:
            if f.endswith(".eml"):
                emls.append(os.path.join(root, f))
    emls.sort()
    passed = failed = strict_passed = crashed = via_inner = 0
    lines = []
    field_count = {}
    for eml in emls:
        rel = os.path.relpath(eml, os.path.join(corpus, "eml"))
        exp = json.load(open(eml[:-4] + ".json", encoding="utf-8"))
        p = subprocess.run([binary, "extract", "--json"] + extra + [eml],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        diffs = []
        if p.returncode not in (0, 1):
            crashed += 1
            diffs.append(("exit", "0 or 1", p.returncode))
        else:
            try:
                objs = [json.loads(l) for l in p.stdout.decode("utf-8").splitlines() if l.strip()]
            except ValueError as e:
                objs = None
                diffs.append(("json", "valid JSON", str(e)))
            if objs is None:
                pass
            elif not objs:
                diffs.append(("objects", ">=1", 0))
            elif all(o.get("forward") == "attached" for o in objs):
                via_inner += 1
                inner = top_messages(exp)
                if len(inner) != len(objs):
                    diffs.append(("attached_count", len(inner), len(objs)))
                for o in objs:
                    i = o.get("suspect_index", 0)
                    if i < len(inner):
                        diffs += [("attached[%d].%s" % (i, f), e, g)
                                  for f, e, g in compare(inner[i], o)]
            else:
                o = [o for o in objs if o.get("forward") != "attached"][0]
                diffs = compare(exp, o)
        malformed = rel.startswith("malformed" + os.sep)
        hard = [d for d in diffs
                if not (malformed and d[0].split(".")[-1] in STRUCTURE)]
        if not diffs:
            strict_passed += 1
        if hard:
            failed += 1
        else:
            passed += 1
        for f, e, g in diffs:
            tag = "MISMATCH" if hard else "DIVERGE "
            lines.append("%s %-20s %-24s expected %s got %s" % (tag, rel, f, short(e), short(g)))
            f = f.split(".")[-1]
            field_count[f] = field_count.get(f, 0) + 1

    total = passed + failed
    for l in lines:
        print(l)
    pct = 100.0 * passed / total if total else 0.0
    print("messages: %d; compared via their attached messages (forward=attached): %d%s"
          % (total, via_inner, "; --no-unwrap used" if extra else ""))
    print("differing fields (all messages): " +
          (", ".join("%s=%d" % kv for kv in sorted(field_count.items())) or "none"))
    print("strict match (every field, malformed included): %d/%d = %.1f%%"
          % (strict_passed, total, 100.0 * strict_passed / total if total else 0.0))
    print("match: %d/%d = %.1f%% (threshold %.0f%%; malformed/ structure informational)"
          % (passed, total, pct, THRESHOLD * 100))
    ok = total > 0 and passed >= THRESHOLD * total and crashed == 0
    # The suite's check is the conformance threshold: individual messages
    # that differ are listed above for judgement, and only a miss of the
    # threshold (or a crash) fails the suite.
    print("%d passed, %d failed" % (1 if ok else 0, 0 if ok else 1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
