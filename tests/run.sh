#!/bin/sh
# run.sh BUILD - run every test suite and sum their "N passed, N failed"
# lines into one final line. Each suite is a program or script that prints
# that line last and exits non-zero on failure. Suites that need data from
# ../shared/data say SKIP when it is absent.
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
BIN="$BUILD/shield"
total_p=0
total_f=0
failed_suites=""
LOG="$BUILD/test-logs"
mkdir -p "$LOG"

run_suite() {
	name=$1
	shift
	printf '== %s\n' "$name"
	log="$LOG/$(echo "$name" | tr '/ ' '__').log"
	"$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*passed, }
		f=${f%% failed}
	else
		p=0
		f=1
		echo "   (suite printed no summary line)"
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "   (suite exited $rc)"
	fi
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	[ "$f" -ne 0 ] && failed_suites="$failed_suites $name"
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] && run_suite "unit/$(basename "$t")" "$t"
done
for t in build-asan/tests/test_*; do
	[ -x "$t" ] && [ "$BUILD" != build-asan ] && run_suite "asan-unit/$(basename "$t")" "$t"
done
run_suite golden tests/golden.sh "$BIN"
run_suite cli tests/cli.sh "$BIN"
# The corpus run is the leak and memory-error check: it uses the
# ASan+UBSan build when there is one (make check builds it).
ASAN_BIN=${ASAN_BIN:-build-asan/shield}
for s in tests/corpus/*.sh tests/notify/*.sh tests/campaign/*.sh tests/act/*.sh; do
	[ -f "$s" ] || continue
	b=$BIN
	[ "$s" = tests/corpus/corpus_run.sh ] && [ -x "$ASAN_BIN" ] && b=$ASAN_BIN
	run_suite "$s" sh "$s" "$b"
done
if [ -z "${SHIELD_SKIP_FUZZ:-}" ] && command -v clang >/dev/null 2>&1; then
	run_suite fuzz-smoke sh -c "make -s fuzz-smoke"
fi
if [ -n "$failed_suites" ]; then
	echo "failed suites:$failed_suites"
fi
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
