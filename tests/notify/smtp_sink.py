#!/usr/bin/python3
"""smtp_sink.py - a real SMTP server on 127.0.0.1 for the notify tests
(Debian python3-aiosmtpd). Every accepted message is written to
OUTDIR/NNNN.eml with X-MailFrom / X-RcptTo lines first.
Recipients starting with "tempfail" get 451 on their first two attempts,
"reject" gets 550 always. Runs until killed (the test stops it by PID).
Usage: /usr/bin/python3 smtp_sink.py PORT OUTDIR
"""
import os
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out):
        self.out = out
        self.n = 0
        self.tries = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith('reject'):
            return '550 5.1.1 mailbox unavailable'
        if address.startswith('tempfail'):
            k = self.tries.get(address, 0)
            self.tries[address] = k + 1
            if k < 2:
                return '451 4.3.0 try again later'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        path = os.path.join(self.out, '%04d.eml' % self.n)
        with open(path + '.tmp', 'wb') as f:
            f.write(b'X-MailFrom: ' + envelope.mail_from.encode() + b'\r\n')
            f.write(b'X-RcptTo: ' + ','.join(envelope.rcpt_tos).encode() + b'\r\n')
            f.write(envelope.original_content)
        os.rename(path + '.tmp', path)
        return '250 2.0.0 Message accepted'


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    c = Controller(Sink(out), hostname='127.0.0.1', port=port)
    c.start()
    with open(os.path.join(out, '..', 'sink.ready'), 'w') as f:
        f.write('ok\n')
    try:
        while True:
            time.sleep(3600)
    finally:
        c.stop()


if __name__ == '__main__':
    main()
