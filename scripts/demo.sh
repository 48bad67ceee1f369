#!/bin/sh
# demo.sh BUILD - the README's first command: ingest the bundled sample
# mailbox into a fresh embedded store and show what was found.
set -eu
BUILD=${1:-build}
cd "$(dirname "$0")/.."
DB="$BUILD/demo.db"
rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-raw"
echo "== shield ingest --db $DB data/sample/reports.mbox"
"$BUILD/shield" ingest --db "$DB" data/sample/reports.mbox
echo
echo "== shield reports --db $DB"
"$BUILD/shield" reports --db "$DB"
echo
echo "== shield indicators --db $DB --type url"
"$BUILD/shield" indicators --db "$DB" --type url
echo
echo "== shield show --db $DB 1"
"$BUILD/shield" show --db "$DB" 1
echo
echo "The store is $DB; try: $BUILD/shield reports --db $DB --json"
