#!/bin/sh
# make-sample.sh - rebuild data/sample/reports.mbox from the project's own
# test messages (mboxrd quoting of body "From " lines).
set -eu
cd "$(dirname "$0")/.."
mkdir -p data/sample
out=data/sample/reports.mbox
: >"$out"
for f in tests/data/*.eml; do
	printf 'From reports@shield.example Mon Jan  1 00:00:00 2024\n' >>"$out"
	sed -E 's/^(>*From )/>\1/' "$f" >>"$out"
	printf '\n' >>"$out"
done
echo "wrote $out ($(grep -c '^From ' "$out") messages)"
