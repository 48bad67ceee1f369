#!/bin/sh
# Conformance of `shield extract --json` against the stalwart mail-parser
# corpus (107 messages with their expected parse).
# Usage: tests/corpus/stalwart.sh [BIN]    (BIN defaults to build/shield)
# The comparison and its normalisation rules: tests/corpus/stalwart_compare.py.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/../shared/data"
BIN="${1:-build/shield}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
CORPUS="$DATA/stalwart_mail_parser_corpus"
if [ ! -d "$CORPUS/eml" ]; then
	echo "SKIP: $CORPUS absent"
	echo "0 passed, 0 failed"
	exit 0
fi
if [ ! -x "$BIN" ]; then
	echo "error: $BIN is not an executable (build it with make)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
exec python3 "$ROOT/tests/corpus/stalwart_compare.py" "$BIN" "$CORPUS"
