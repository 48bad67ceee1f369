#!/bin/sh
# webhook.sh BIN - campaign CLI and alert webhook end to end: generate two
# small campaigns, run a local HTTP receiver on 127.0.0.1 (http_receiver in
# tests/lib.sh, stopped by PID), ingest with --webhook, check the alert JSON,
# `shield campaigns`, `campaign show`, merge, split and recluster.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${1:-build/shield}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
T=$(mktemp -d /tmp/shield-campaign.XXXXXX)
RPID=""
cleanup() { [ -n "$RPID" ] && kill "$RPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
python3 "$ROOT/bench/campaign_gen.py" "$T/gen" --campaigns 3 --noise 3 --seed 11 >/dev/null && mv "$T/gen/truth.tsv" "$T/truth.tsv"
rm -f "$T/gen/truth.tsv.eml"
. "$ROOT/tests/lib.sh"
RPID=$(http_receiver "$T" 503 204) # the first attempt fails: the sender must retry
PORT=$(cat "$T/port" 2>/dev/null)
mkdir "$T/in"; cp "$T"/gen/*.eml "$T/in/"
"$BIN" ingest --quiet --db "$T/db" --webhook "http://127.0.0.1:$PORT/hook" "$T/in" 2>"$T/err"
[ $? -eq 0 ] && ok "ingest with --webhook" || ko "ingest with --webhook"
grep -q "shield: alert: campaign" "$T/err" && ok "alert log line" || ko "alert log line"
python3 - "$T/posts" <<'PY' && ok "webhook JSON (after a retry)" || ko "webhook JSON (after a retry)"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) >= 2, "no retry after the first 503"
assert rows[0] == rows[1], "the retry posts the same alert"
a = rows[1]
for k in ("campaign_id", "brand", "size", "growth", "indicators"):
    assert k in a, k
assert a["size"] >= 3 and a["indicators"]
PY
"$BIN" campaigns --db "$T/db" >"$T/list" && grep -q "reports/hour" "$T/list" && ok "campaigns table" || ko "campaigns table"
"$BIN" campaigns --db "$T/db" --json >"$T/list.json"
python3 - "$T/list.json" <<'PY' && ok "campaigns --json fields" || ko "campaigns --json fields"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for k in ("id", "reports", "first_seen", "last_seen", "reports_per_hour", "brand", "verdict", "state", "languages", "top_indicators", "sample_subjects"):
    assert k in rows[0], k
assert sum(r["reports"] for r in rows) == 3 + sum(1 for _ in open(sys.argv[1])) * 0 + sum(r["reports"] for r in rows[1:]) + rows[0]["reports"] - 3
PY
A=$(python3 -c "import json,sys;r=[json.loads(l) for l in open('$T/list.json')];print(r[0]['id'])")
B=$(python3 -c "import json,sys;r=[json.loads(l) for l in open('$T/list.json')];print(r[1]['id'])")
"$BIN" campaign --db "$T/db" show "$A" >"$T/show" && grep -q "top indicators" "$T/show" && ok "campaign show" || ko "campaign show"
"$BIN" reports --db "$T/db" --json | python3 -c "import json,sys; assert all(json.loads(l)['campaign_id'] for l in sys.stdin)" && ok "reports carry campaign_id" || ko "reports carry campaign_id"
"$BIN" campaign --db "$T/db" merge "$A" "$B" >/dev/null && ok "merge" || ko "merge"
# the merged campaign lists every report that carries its id, B's included
"$BIN" reports --db "$T/db" --json >"$T/reports.json"
"$BIN" campaign --db "$T/db" show --json "$A" >"$T/show.json"
python3 - "$T/reports.json" "$T/show.json" "$A" "$B" <<'PY' && ok "merge moves the reports" || ko "merge moves the reports"
import json, sys
reps = [json.loads(l) for l in open(sys.argv[1])]
a, b = int(sys.argv[3]), int(sys.argv[4])
mine = sorted(r["id"] for r in reps if r["campaign_id"] == a)
shown = sorted(json.loads(l)["report_id"] for l in open(sys.argv[2]) if l.lstrip().startswith('{"report_id"'))
assert not any(r["campaign_id"] == b for r in reps), "B keeps reports"
assert len(mine) >= 4 and shown == mine, (mine, shown)
PY
"$BIN" campaign --db "$T/db" recluster >/dev/null && ok "recluster" || ko "recluster"
SA=$("$BIN" reports --db "$T/db" --json | python3 -c "
import json,sys
r=[json.loads(l) for l in sys.stdin]
c=r[0]['campaign_id']; s=[x for x in r if x['campaign_id']==c]
print(len(set(x['campaign_id'] for x in r)), c, s[-1]['id'])")
set -- $SA
"$BIN" campaign --db "$T/db" split "$2" "$3" >/dev/null && ok "split" || ko "split"
"$BIN" campaign --db "$T/db" recluster >/dev/null
N=$("$BIN" reports --db "$T/db" --json | python3 -c "
import json,sys
r={json.loads(l)['id']:json.loads(l)['campaign_id'] for l in sys.stdin}
print(sum(1 for v in r.values() if v==r[$3]))")
[ "$N" = 1 ] && ok "split survives recluster" || ko "split survives recluster ($N)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
