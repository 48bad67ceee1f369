#!/usr/bin/env python3
"""Cross-check Shield's URL extraction against rspamd (`rspamadm mime urls`).

Usage: rspamd_compare.py BIN EMAIL_DIR CACHE_DIR [--sample N] [--seed S]
                         [--jobs J] [--min PCT] [--examples K]
  --sample 0 (or FULL=1 in the environment) compares every file.

rspamd's output per file is cached in CACHE_DIR/<sha256 of the file>.urls
(`rspamadm mime urls FILE`, one file per call: with several files per call
rspamd interleaves the output of different files; an empty file aborts it,
so empty files are not given to it and count as "no URLs").

Only http and https URLs are compared.  Both sides are normalised the same
way before comparison:
  * scheme and host lower-cased; a trailing dot on the host dropped; a
    non-ASCII host converted to its IDNA (xn--) form;
  * user-info kept as is (it matters for phishing: http://bank@evil/);
  * the default port (:80 for http, :443 for https) dropped;
  * trailing quote/'>' characters dropped (rspamd sometimes keeps a '"');
  * path and query percent-decoded (rspamd prints them decoded, Shield as
    written), '+' and white space inside them removed (rspamd prints '+' as
    ' '), '\\' read as '/' (as browsers do), runs of '/' in
    the path collapsed to one; a trailing '/' dropped
    ("http://a.b/" == "http://a.b"); an empty query ('?' alone) dropped;
  * the fragment dropped.
Comparison is per message: the set of normalised rspamd URLs of the file
against the set of Shield's URLs over every object Shield printed for that
file.  Coverage = sum over files of |rspamd & shield| / sum of |rspamd|.

Each URL rspamd finds and Shield misses is put in one category (first match):
  forward-scope   Shield took the message as a forward (inline/attached) and
                  reports only the forwarded part's URLs
  embedded        the URL sits inside another URL Shield reports (a
                  redirector's parameter: google.com/url?q=..., rspamd
                  extracts the inner URL too)
  same-host       Shield has a URL with the same host but a different
                  path/query (truncation, entity or encoding difference)
  header          the host occurs only in the message's header section
  html-attr:NAME  found in an HTML tag's attribute NAME that Shield did not
                  read (alt, title, data-*, content, ...)
  html-href/src   inside an href/src attribute that Shield did read
  html-hidden     inside an HTML comment or a raw-text element (<style>,
                  <script>, <noframes>, ... : raw text in HTML5, not a link a
                  browser would show)
  html-text       in HTML text (between tags), with or without scheme
  text            in a text/plain part
  schemeless      the host occurs in a body, but never after "://"
  not-located     the URL's host does not occur in the decoded message
                  (rspamd built it: redirector parameters, obfuscation...)
The reverse direction (Shield finds, rspamd does not) is counted and
sampled the same way, by Shield's found_in.
"""
import concurrent.futures
import email
import email.policy
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import urllib.parse


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def rspamd_urls(path, cache_dir):
    """rspamd's URL lines for one file (cached)."""
    digest = sha256_file(path)
    cache = os.path.join(cache_dir, digest + ".urls")
    if os.path.exists(cache):
        with open(cache, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    if os.path.getsize(path) == 0:
        out = ""
    else:
        p = subprocess.run(["rspamadm", "mime", "urls", path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        out = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0:
            out = "#rspamd exit %d: %s\n" % (p.returncode,
                                             p.stderr.decode("utf-8", "replace").strip()) + out
    lines = [l for l in out.splitlines() if not l.startswith("File: ")]
    tmp = cache + ".tmp%d" % os.getpid()
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + ("\n" if lines else ""))
    os.replace(tmp, cache)
    return lines


WS = re.compile(r"\s+")


def norm(url):
    """Normalised key of an http(s) URL, or None."""
    url = url.strip().rstrip("\"'>").replace("\\", "/")
    m = re.match(r"(?i)(https?)://", url)
    if not m:
        return None
    try:
        sp = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    scheme = sp.scheme.lower()
    netloc = sp.netloc
    userinfo = ""
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        userinfo = urllib.parse.unquote(userinfo) + "@"
    host, port = netloc, ""
    if host.startswith("["):
        end = host.find("]")
        if end > 0:
            host, port = host[:end + 1], host[end + 1:].lstrip(":")
    elif ":" in host:
        host, port = host.rsplit(":", 1)
    host = urllib.parse.unquote(host).lower().rstrip(".")
    if any(ord(c) > 127 for c in host):
        try:
            host = host.encode("idna").decode("ascii")
        except (UnicodeError, ValueError):
            pass
    if port in ("", "80" if scheme == "http" else "443"):
        port = ""
    path = WS.sub("", urllib.parse.unquote(sp.path).replace("+", " "))
    path = re.sub("/{2,}", "/", path).rstrip("/")
    query = WS.sub("", urllib.parse.unquote(sp.query).replace("+", " "))
    key = "%s://%s%s%s%s" % (scheme, userinfo, host, ":" + port if port else "", path)
    if query:
        key += "?" + query
    return key


def host_of(key):
    rest = key.split("://", 1)[1]
    hp = re.split(r"[/?]", rest, 1)[0]
    return hp.rsplit("@", 1)[-1]


def path_of(key):
    rest = key.split("://", 1)[1]
    i = min([x for x in (rest.find("/"), rest.find("?")) if x >= 0] or [len(rest)])
    return rest[i:]


def message_texts(path):
    """(raw header text, [(kind, decoded text)]) of a message."""
    with open(path, "rb") as f:
        raw = f.read()
    i = raw.find(b"\n\n")
    j = raw.find(b"\r\n\r\n")
    cut = min(x for x in (i, j, len(raw)) if x >= 0)
    head = raw[:cut].decode("utf-8", "replace")
    texts = []
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        for part in msg.walk():
            if part.is_multipart():
                continue
            ct = part.get_content_type()
            try:
                payload = part.get_payload(decode=True) or b""
            except Exception:  # noqa: BLE001 - malformed parts are data here
                payload = b""
            cs = part.get_content_charset() or "utf-8"
            try:
                t = payload.decode(cs, "replace")
            except LookupError:
                t = payload.decode("utf-8", "replace")
            texts.append(("html" if ct == "text/html" else "text" if ct.startswith("text/") else ct, t))
    except Exception:  # noqa: BLE001
        pass
    body = raw[cut:].decode("utf-8", "replace")
    texts.append(("raw-body", body))
    return head, texts


ATTR_BEFORE = re.compile(r"""([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*["']?[^"'<>]*$""")


def hidden(tl, p):
    """Is offset p inside an HTML comment or a <style> element?"""
    c = tl.rfind("<!--", 0, p)
    if c >= 0 and tl.find("-->", c + 4, p) < 0:
        return True
    for el in ("style", "script", "noframes", "noembed", "xmp", "iframe", "noscript"):
        st = tl.rfind("<" + el, 0, p)
        if st >= 0 and tl.find("</" + el, st, p) < 0:
            return True
    return False


def locate(key, url_raw, path, cache):
    """Category of an rspamd URL Shield missed."""
    if path not in cache:
        cache.clear()
        cache[path] = message_texts(path)
    head, texts = cache[path]
    host = host_of(key)
    h = host.lower()
    in_body = False
    for kind, t in texts:
        tl = t.lower()
        pos = tl.find(h)
        if pos < 0:
            continue
        in_body = True
        if kind == "raw-body":
            continue
        # look at every occurrence, the first one with a scheme wins
        best = None
        for m in re.finditer(re.escape(h), tl):
            p = m.start()
            seg = re.split(r"[\s\"'<>()]", tl[max(0, p - 300):p])[-1]
            with_scheme = "://" in seg or seg.endswith("//")
            if kind == "html" and hidden(tl, p):
                cat = "html-hidden (comment/<style>/<noframes>...)"
            elif kind == "html":
                lt, gt = tl.rfind("<", 0, p), tl.rfind(">", 0, p)
                if lt > gt:
                    a = ATTR_BEFORE.search(tl[lt:p])
                    name = a.group(1) if a else "?"
                    if name in ("href", "src"):
                        cat = "html-href/src"
                    else:
                        cat = "html-attr:" + name
                else:
                    cat = "html-text" + ("" if with_scheme else " (schemeless)")
            else:
                cat = "text" + ("" if with_scheme else " (schemeless)")
            if best is None:
                best = cat
            if with_scheme:
                return cat
        if best:
            return best
    if h in head.lower():
        return "header"
    if in_body:
        return "encoded-body (raw only)"
    return "not-located"


def main():
    args = sys.argv[1:]
    binary, email_dir, cache_dir = args[0], args[1], args[2]
    opts = {"--sample": "300", "--seed": "20250101", "--jobs": str(os.cpu_count() or 2),
            "--min": "98", "--examples": "30"}
    i = 3
    while i < len(args):
        opts[args[i]] = args[i + 1]
        i += 2
    sample = int(opts["--sample"])
    if os.environ.get("FULL") == "1":
        sample = 0
    os.makedirs(cache_dir, exist_ok=True)
    files = []
    for root, _d, fs in os.walk(email_dir):
        for f in fs:
            files.append(os.path.join(root, f))
    files.sort()
    if sample and sample < len(files):
        files = sorted(random.Random(int(opts["--seed"])).sample(files, sample))
    print("files: %d (%s)" % (len(files), "sample, seed %s" % opts["--seed"] if sample else "full corpus"))

    # rspamd (cached)
    rsp = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=int(opts["--jobs"])) as ex:
        for f, lines in zip(files, ex.map(lambda f: rspamd_urls(f, cache_dir), files)):
            rsp[f] = lines
    errors = [f for f, l in rsp.items() if l and l[0].startswith("#rspamd exit")]

    # Shield
    shield = {f: {} for f in files}
    forward = {f: "none" for f in files}
    bad = 0
    for k in range(0, len(files), 400):
        chunk = files[k:k + 400]
        p = subprocess.run([binary, "extract", "--json"] + chunk, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if p.returncode not in (0, 1):
            print("shield exited with %d on chunk %d" % (p.returncode, k // 400))
            bad += 1
        for line in p.stdout.decode("utf-8", "replace").splitlines():
            try:
                o = json.loads(line)
            except ValueError:
                bad += 1
                continue
            src = o.get("source")
            if src not in shield:
                continue
            if o.get("forward") != "none":
                forward[src] = o.get("forward")
            for u in o.get("urls") or []:
                key = norm(u.get("url") or "")
                if key:
                    shield[src].setdefault(key, (u.get("url"), u.get("found_in")))

    total_r = total_s = both = 0
    miss, extra = [], []
    cats, rcats = {}, {}
    loc_cache = {}
    for f in files:
        r = {}
        for line in rsp[f]:
            key = norm(line)
            if key:
                r.setdefault(key, line.strip())
        s = shield[f]
        total_r += len(r)
        total_s += len(s)
        both += len(set(r) & set(s))
        shosts = {host_of(k) for k in s}
        for key in sorted(set(r) - set(s)):
            if forward[f] != "none":
                cat = "forward-scope (%s)" % forward[f]
            elif any(host_of(key) in urllib.parse.unquote(k.split("?", 1)[-1]).lower()
                     for k in s if "?" in k):
                cat = "embedded (in a redirector URL's query)"
            elif host_of(key) in shosts:
                cat = "same-host (other path/query)"
            else:
                cat = locate(key, r[key], f, loc_cache)
            cats[cat] = cats.get(cat, 0) + 1
            miss.append((cat, f, r[key]))
        rhosts = {host_of(k) for k in r}
        for key in sorted(set(s) - set(r)):
            fi = s[key][1] or "?"
            c = fi + (" (rspamd has host)" if host_of(key) in rhosts else "")
            rcats[c] = rcats.get(c, 0) + 1
            extra.append((c, f, s[key][0]))

    nex = int(opts["--examples"])
    print()
    print("rspamd finds, Shield misses: %d URLs; by category:" % len(miss))
    for c, n in sorted(cats.items(), key=lambda kv: -kv[1]):
        print("  %6d  %s" % (n, c))
    print("examples (up to %d, spread over categories):" % nex)
    for c, f, u in spread(miss, nex):
        print("  [%s] %s  %s" % (c, os.path.basename(f), u[:160]))
    print()
    print("Shield finds, rspamd misses: %d URLs; by Shield's found_in:" % len(extra))
    for c, n in sorted(rcats.items(), key=lambda kv: -kv[1]):
        print("  %6d  %s" % (n, c))
    print("examples (up to %d):" % nex)
    for c, f, u in spread(extra, nex):
        print("  [%s] %s  %s" % (c, os.path.basename(f), u[:160]))
    print()
    if errors:
        print("rspamd failed on %d files (counted as no URLs): %s" %
              (len(errors), ", ".join(os.path.basename(x) for x in errors[:10])))
    pct = 100.0 * both / total_r if total_r else 100.0
    print("messages: %d; rspamd http(s) URLs: %d; Shield http(s) URLs: %d; common: %d"
          % (len(files), total_r, total_s, both))
    print("coverage: Shield finds %.2f%% of the http(s) URLs rspamd finds (target >= %s%%)"
          % (pct, opts["--min"]))
    ok = pct >= float(opts["--min"]) and bad == 0
    print("%d passed, %d failed" % (1 if ok else 0, 0 if ok else 1))
    return 0 if ok else 1


def spread(items, n):
    """Up to n items, round-robin over categories."""
    by = {}
    for it in items:
        by.setdefault(it[0], []).append(it)
    out = []
    while len(out) < n and any(by.values()):
        for c in sorted(by, key=lambda c: -len(by[c])):
            if by[c] and len(out) < n:
                out.append(by[c].pop(0))
    return out


if __name__ == "__main__":
    sys.exit(main())
