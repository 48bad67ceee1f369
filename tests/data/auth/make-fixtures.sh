#!/bin/sh
# make-fixtures.sh - regenerate the DKIM and S/MIME fixtures of tests/unit/test_auth.c.
# Keys were made once with opendkim-genkey and openssl (see README); this
# script re-signs the messages with dkimpy and openssl cms. Run from this
# directory. Needs python3-dkim and openssl.
set -eu
cd "$(dirname "$0")"

# keys.txt: the offline key file (libopendkim DKIM_QUERY_FILE format)
keyline() { # file name -> "name v=DKIM1; k=rsa; p=..."
	printf '%s v=DKIM1; k=rsa; %s\n' "$2" "$(tr -d '\n\t"() ' <"$1" | grep -o 'p=[A-Za-z0-9+/=]*')"
}
{
	keyline bank-sel1.txt sel1._domainkey.bank.example
	keyline mailer-m1.txt m1._domainkey.mailer.example
} >keys.txt

sign() { # in out selector domain key
	/usr/bin/python3 - "$@" <<'PY'
import sys, dkim
src, out, sel, dom, key = sys.argv[1:6]
msg = open(src, 'rb').read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
sig = dkim.sign(msg, sel.encode(), dom.encode(), open(key, 'rb').read(),
                canonicalize=(b'relaxed', b'relaxed'),
                include_headers=[b'from', b'to', b'subject', b'date', b'message-id'])
# stored with LF line ends: the verifier converts LF to CRLF as mail does
open(out, 'wb').write((sig + msg).replace(b'\r\n', b'\n'))
PY
}

msg() { # from subject body -> stdout
	printf 'From: %s\nTo: citizen@example.net\nSubject: %s\nDate: Mon, 03 Mar 2025 10:00:00 +0100\nMessage-ID: <%s@fixture.example>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' \
		"$1" "$2" "$(echo "$2" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9\n' '-')" "$3"
}

msg 'Bank <info@bank.example>' 'Your statement' 'Your monthly statement is ready in the app.' >unsigned.eml
sign unsigned.eml pass-aligned.eml sel1 bank.example bank-sel1.private
sed 's/monthly statement/yearly statement/' pass-aligned.eml >fail-body.eml
sign unsigned.eml misaligned.eml m1 mailer.example mailer-m1.private
msg 'Bank News <news@mail.bank.example>' 'News' 'Our news letter.' >sub.tmp
sign sub.tmp pass-subdomain.eml sel1 bank.example bank-sel1.private
rm -f sub.tmp
# a signature without b=: a permanent error, whatever the key
awk 'BEGIN{inb=0} /^DKIM-Signature:/{h=1} h&&/ b=/{sub(/ b=.*/, " z=x"); inb=1; print; next} inb&&/^[ \t]/{next} {inb=0; if(!/^[ \t]/ && !/^DKIM-Signature:/) h=0; print}' misaligned.eml >permerror.eml

# S/MIME: a self-made CA and a signer for info@bank.example
if [ ! -f ca.pem ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
		-subj '/CN=Shield Test CA' -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout signer.key -out signer.csr \
		-subj '/CN=Bank Info' 2>/dev/null
	printf 'subjectAltName=email:info@bank.example\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\nbasicConstraints=CA:FALSE\n' >signer.ext
	openssl x509 -req -in signer.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-out signer.pem -days 3650 -extfile signer.ext 2>/dev/null
	rm -f signer.csr signer.ext ca.srl
fi
printf 'Content-Type: text/plain; charset=utf-8\n\nYour statement is ready. Signed with S/MIME.\n' >content.tmp
openssl cms -sign -in content.tmp -signer signer.pem -inkey signer.key \
	-from 'Bank <info@bank.example>' -to citizen@example.net -subject 'Signed statement' \
	-out smime.tmp
{ printf 'Date: Mon, 03 Mar 2025 10:00:00 +0100\nMessage-ID: <smime@fixture.example>\n'; tr -d '\r' <smime.tmp; } >smime-signed.eml
sed 's/Signed with S\/MIME\./Signed with S\/MIME!/' smime-signed.eml >smime-tampered.eml
openssl cms -sign -nodetach -in content.tmp -signer signer.pem -inkey signer.key \
	-from 'Bank <info@bank.example>' -to citizen@example.net -subject 'Opaque statement' \
	-out smime.tmp
{ printf 'Date: Mon, 03 Mar 2025 10:00:00 +0100\nMessage-ID: <opaque@fixture.example>\n'; tr -d '\r' <smime.tmp; } >smime-opaque.eml
rm -f content.tmp smime.tmp
