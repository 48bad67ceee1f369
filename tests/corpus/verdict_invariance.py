#!/usr/bin/env python3
"""verdict_invariance.py - make the header variants of the invariance check
(stdlib only).

Usage: verdict_invariance.py SRC_DIR OUT_DIR MODE N

Takes the first N files of SRC_DIR (sorted by SHA-256 of the name, a fixed
sample) and writes them unchanged to OUT_DIR/orig and changed to OUT_DIR/var:
  MODE add (ham): the honeypot's receiving-server headers are added
    (Delivered-To, Received, Authentication-Results, ARC-Seal,
    ARC-Message-Signature, ARC-Authentication-Results, Received-SPF,
    X-Spam-Status/X-Spam-Flag), To: becomes phishing@pot, Date: a 2024 date;
  MODE strip (phishing): those headers (and every X-*Spam*, X-MS-Exchange-*,
    X-Microsoft-Antispam*, X-Forefront-*, X-Received, Return-Path added by
    the receiver) are removed, To: becomes a citizen's address, Date: a 2002
    date.
The body and every other header stay byte for byte.
"""
import hashlib
import os
import re
import sys

ADD = (
    b"Delivered-To: phishing@pot\r\n"
    b"Received: from mx1.example.net (mx1.example.net [203.0.113.5]) by mx.pot (Postfix)"
    b" with ESMTPS id 4Q1x2y3z4; Mon, 15 Jan 2024 10:00:00 +0000 (UTC)\r\n"
    b"Authentication-Results: mx.pot; spf=softfail smtp.mailfrom=example.net;"
    b" dkim=none; dmarc=fail (p=none) header.from=example.net\r\n"
    b"ARC-Seal: i=1; a=rsa-sha256; d=pot; s=arc-2024; cv=none; b=AAAAAAAA\r\n"
    b"ARC-Message-Signature: i=1; a=rsa-sha256; d=pot; s=arc-2024;"
    b" h=from:to:subject:date; bh=AAAAAAAA; b=AAAAAAAA\r\n"
    b"ARC-Authentication-Results: i=1; mx.pot; spf=softfail; dkim=none; dmarc=fail\r\n"
    b"Received-SPF: SoftFail (mx.pot: domain of example.net discourages use of"
    b" 203.0.113.5 as permitted sender)\r\n"
    b"X-Spam-Status: Yes, score=9.9 required=5.0\r\n"
    b"X-Spam-Flag: YES\r\n"
)
STRIP = re.compile(
    rb"^(delivered-to|received|authentication-results|arc-[a-z-]+|received-spf|x-[a-z-]*spam[a-z-]*"
    rb"|x-ms-exchange-[a-z-]+|x-microsoft-antispam[a-z-]*|x-forefront-[a-z-]+|x-received"
    rb"|x-originalarrivaltime|x-incomingheadercount|x-incomingtopheadermarker"
    rb"|x-eopattributedmessage|x-eoptenantattributedmessage|x-ms-publictraffictype"
    rb"|x-ms-traffictypediagnostic|x-ms-office365-filtering-correlation-id"
    rb"|x-ms-oob-tlc-oobclassifiers|x-sid-pra|x-sid-result|x-ms-userlastlogontime"
    rb"|x-message-info|x-message-delivery|x-ms-has-attach|return-path):",
    re.I,
)


def split_msg(data):
    m = re.search(rb"\r?\n\r?\n", data)
    if not m:
        return data, b""
    return data[: m.start()], data[m.start():]


def fields(head):
    out = []
    for line in re.split(rb"(?<=\n)", head if head.endswith(b"\n") else head + b"\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and out:
            out[-1] += line
        else:
            out.append(line)
    return out


def change(data, mode):
    head, body = split_msg(data)
    eol = b"\r\n" if b"\r\n" in head[:2000] else b"\n"
    fs = fields(head)
    res = []
    for f in fs:
        low = f.lower()
        if mode == "strip" and STRIP.match(f):
            continue
        if low.startswith(b"to:"):
            f = (b"To: phishing@pot" if mode == "add" else b"To: citizen@example.be") + eol
        elif low.startswith(b"date:"):
            f = (b"Date: Mon, 15 Jan 2024 10:00:00 +0000" if mode == "add"
                 else b"Date: Tue, 3 Sep 2002 09:15:00 +0200") + eol
        res.append(f)
    if mode == "add":
        res = [ADD.replace(b"\r\n", eol)] + res
    out = b"".join(res)
    if out.endswith(b"\n"):
        out = out[:-len(eol)] if out.endswith(eol) else out[:-1]
    return out + body


def main():
    src, out, mode, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    names = sorted(
        (f for f in os.listdir(src) if os.path.isfile(os.path.join(src, f))),
        key=lambda f: hashlib.sha256(f.encode()).hexdigest(),
    )[:n]
    for d in ("orig", "var"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    for f in names:
        with open(os.path.join(src, f), "rb") as fh:
            data = fh.read()
        with open(os.path.join(out, "orig", f), "wb") as fh:
            fh.write(data)
        with open(os.path.join(out, "var", f), "wb") as fh:
            fh.write(change(data, mode))
    print(len(names))


if __name__ == "__main__":
    main()
