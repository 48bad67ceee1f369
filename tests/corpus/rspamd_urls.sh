#!/bin/sh
# Cross-check Shield's http(s) URL extraction against rspamd 3.4
# (`rspamadm mime urls`) on the phishing_pot corpus.
# Usage: tests/corpus/rspamd_urls.sh [BIN]   (BIN defaults to build/shield)
#   default: a fixed random sample (SAMPLE=300 messages, SEED=20250101)
#   FULL=1:  every message (about 15 min the first time on 2 cores; rspamd's
#            output is cached in build/corpus/rspamd-cache/ by file sha256)
# Target: Shield finds >= 98% (MIN=98) of the http(s) URLs rspamd finds.
# Normalisation and miss categories: tests/corpus/rspamd_compare.py.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/../shared/data"
BIN="${1:-build/shield}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
SET="$DATA/phishing_pot-dev.tar.zst"
OUT="$ROOT/build/corpus"
DIR="$OUT/phishing_pot-dev"
if [ ! -f "$SET" ]; then
	echo "SKIP: $SET absent"
	echo "0 passed, 0 failed"
	exit 0
fi
if ! command -v rspamadm >/dev/null 2>&1; then
	echo "rspamadm missing: installing Debian's rspamd" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rspamd >/dev/null 2>&1
fi
if ! command -v rspamadm >/dev/null 2>&1; then
	echo "SKIP: rspamadm absent (apt-get install rspamd failed)"
	echo "0 passed, 0 failed"
	exit 0
fi
if [ ! -x "$BIN" ]; then
	echo "error: $BIN is not an executable (build it with make)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
if [ ! -d "$DIR/email" ]; then
	mkdir -p "$DIR" && tar -I zstd -xf "$SET" -C "$DIR" || {
		echo "error: cannot unpack $SET" >&2; echo "0 passed, 1 failed"; exit 1; }
fi
exec python3 "$ROOT/tests/corpus/rspamd_compare.py" "$BIN" "$DIR/email" "$OUT/rspamd-cache" \
	--sample "${SAMPLE:-300}" --seed "${SEED:-20250101}" --min "${MIN:-98}"
