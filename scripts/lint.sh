#!/bin/sh
# lint.sh - what the compiler does not check: banned functions (Git's
# banned.h list) and clang-format conformance of src/.
cd "$(dirname "$0")/.." || exit 1
rc=0
if grep -nE '\b(strcpy|strcat|strncpy|sprintf|vsprintf|gets|atoi|strtok)\s*\(' src/*/*.c src/*/*.h; then
	echo "lint: banned function used (see HACKING.md)" >&2
	rc=1
fi
if command -v clang-format >/dev/null 2>&1; then
	n=0
	for f in src/*/*.c src/*/*.h; do
		clang-format --dry-run "$f" 2>&1 | grep -q warning && n=$((n + 1)) && echo "lint: $f is not clang-formatted"
	done
	[ "$n" -eq 0 ] || rc=1
fi
exit $rc
