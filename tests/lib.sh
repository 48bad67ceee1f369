# tests/lib.sh - sourced by the shell tests: pieces several of them share.
# POSIX sh; defines functions only (and nothing runs when sourced).

# free_port - a port on 127.0.0.1 nobody listens on right now
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_banner PORT TEXT - wait (at most 10 s) until the server on PORT
# greets with "220 ...TEXT": proves that the server is the one the test
# started, not another that took the port meanwhile
wait_banner() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, want = int(sys.argv[1]), sys.argv[2]
end = time.time() + 10
while time.time() < end:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            g = s.recv(512).decode("ascii", "replace")
            s.sendall(b"QUIT\r\n")
            if g.startswith("220") and want in g:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
}

# lure_reports DIR - three made-up reports of one lure (a1.eml .. a3.eml,
# one minute apart, each with its own sender and link id): together they
# cross the default alert threshold of 3 reports within 10 minutes
lure_reports() {
	for i in 1 2 3; do
		cat >"$1/a$i.eml" <<M
From: "Belfius" <noreply$i@belfius-veilig.example>
To: user$i@example.be
Subject: Uw kaart vervalt vandaag $i
Date: Tue, 2 Jan 2024 09:0$i:00 +0100
Message-ID: <a$i@belfius-veilig.example>

Beste klant, uw kaart vervalt. Bevestig uw gegevens via
https://belfius-veilig.example/kaart?id=$i binnen 24 uur.
M
	done
}

# http_receiver DIR STATUS... - start an HTTP server on 127.0.0.1
# (python3 stdlib) that appends each POST body as one line to DIR/posts and
# answers the i-th POST with the i-th STATUS (the last one repeats). Prints
# its PID (the caller kills it); its port is in DIR/port once it listens,
# empty when it did not start within 5 s.
http_receiver() {
	dir=$1
	shift
	/usr/bin/python3 - "$dir" "$@" >/dev/null 2>&1 <<'PY' &
import http.server, sys
d, codes, n = sys.argv[1], [int(c) for c in sys.argv[2:]], [0]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(d + "/posts", "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(codes[min(n[0], len(codes) - 1)])
        n[0] += 1
        self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(d + "/port.tmp", "w").write(str(s.server_address[1]))
import os; os.rename(d + "/port.tmp", d + "/port")
s.serve_forever()
PY
	echo $!
	i=0
	while [ ! -s "$dir/port" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
