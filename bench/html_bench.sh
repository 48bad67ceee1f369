#!/bin/sh
# html_bench.sh - build and run bench/html_bench.c (our HTML tokenizer vs
# gumbo) over a directory of .eml files. Kept out of the main build: it
# needs libgumbo-dev, which Shield itself does not.
# Usage: bench/html_bench.sh [EML_DIR] [BUILD]   (default /tmp/pp/email, build)
# The corpus: mkdir -p /tmp/pp && tar -I zstd -xf \
#   /work/shared/data/phishing_pot-dev.tar.zst -C /tmp/pp
set -eu
dir=${1:-/tmp/pp/email}
build=${2:-build}
[ -f "$build/libshield.a" ] || make "$build/libshield.a"
pkg-config --exists gumbo || { echo "need libgumbo-dev (apt-get install libgumbo-dev)" >&2; exit 1; }
out="$build/bench/html_bench"
mkdir -p "$(dirname "$out")"
gcc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Isrc \
	$(pkg-config --cflags gumbo gmime-3.0) -o "$out" bench/html_bench.c "$build/libshield.a" \
	$(pkg-config --libs gumbo gmime-3.0 libpsl libidn2)
# Warm the page cache so the first timing is not disk-bound.
cat "$dir"/*.eml > /dev/null
"$out" "$dir"/*.eml
