#!/bin/sh
# refresh-psl.sh - fetch the current Public Suffix List into data/ (an
# operator step: Shield itself never fetches anything). Checks the file
# parses before replacing the bundled copy.
set -eu
cd "$(dirname "$0")/.."
URL=${PSL_URL:-https://publicsuffix.org/list/public_suffix_list.dat}
tmp=$(mktemp data/.psl.XXXXXX)
trap 'rm -f "$tmp"' EXIT
curl -fsS --max-time 60 -o "$tmp" "$URL"
grep -q '===BEGIN ICANN DOMAINS===' "$tmp" || { echo "refresh-psl: $URL is not a PSL" >&2; exit 1; }
build/shield psl --psl "$tmp" www.example.co.uk | grep -q example.co.uk || { echo "refresh-psl: list does not load" >&2; exit 1; }
mv "$tmp" data/public_suffix_list.dat
trap - EXIT
echo "refresh-psl: data/public_suffix_list.dat updated ($(wc -l < data/public_suffix_list.dat) lines)"
