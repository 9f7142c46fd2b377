#!/usr/bin/env bash
# The offboarding demo end to end (examples/offboarding/run.sh, the script
# tools/demo runs), on the test database, with the clock moved: then what it
# left behind. The instance completed; each system's revocation reached the
# systems exactly once, with an Idempotency-Key; payroll was settled by the
# external-task worker; the user tasks were completed by the right people;
# the audit trail (bpmnctl audit --json) says who approved, who collected the
# equipment, when the timers fired and how the instance ended.
set -u
. "$(dirname "$0")/lib.sh"
example="$src/examples/offboarding"
if [ ! -d "$example/node_modules/camunda-external-task-client-js" ]; then
  (cd "$example" && npm ci --no-audit --no-fund >/dev/null 2>&1) || { echo "npm ci failed in $example"; exit 1; }
fi
fresh_schema
work=$(mktemp -d /tmp/bpmnd-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

t0=$(date +%s)
BPMND="$build/adapters/server/bpmnd" BPMNCTL="$c" OFFBOARDING_WORK="$work" OFFBOARDING_PORT=$((20000 + RANDOM % 12000)) \
  bash "$example/run.sh" >"$work/out" 2>&1
rc=$?
took=$(( $(date +%s) - t0 ))
check "run.sh succeeds (in ${took}s)" '[ $rc = 0 ] || { cat "$work/out"; false; }'
check "it takes well under a minute" '[ $took -lt 40 ]'
id=$(cat "$work/instance" 2>/dev/null)
q() { sql "$1"; }
var() { q "select value::text from variable where instance_id = '$id' and name = '$1' order by scope_id limit 1"; }
hist() { q "select coalesce(user_id, '-') from history where instance_id = '$id' and kind = '$1' and element_id = '$2' order by seq"; }
requests() { grep -F "\"path\": \"$1\"" "$work/systems.jsonl" 2>/dev/null; }

# ---- the final state -------------------------------------------------------------
check "the instance completed" '[ "$(q "select state from process_instance where id = '"'"'$id'"'"'")" = completed ]'
check "nothing is left: no task, job, subscription or incident" '[ "$(q "select (select count(*) from user_task where instance_id = '"'"'$id'"'"') + (select count(*) from job where instance_id = '"'"'$id'"'"') + (select count(*) from subscription where instance_id = '"'"'$id'"'"') + (select count(*) from incident where instance_id = '"'"'$id'"'"')")" = 0 ]'
for s in idp github slack; do
  check "$s: revoked exactly once, with an Idempotency-Key" '[ "$(requests "/systems/$s/revoke" | wc -l)" = 1 ] && requests "/systems/$s/revoke" | python3 -c "import json,sys,uuid; r=json.loads(sys.stdin.read()); uuid.UUID(r[\"key\"]); assert r[\"status\"] == 200 and not r[\"repeat\"] and json.loads(r[\"body\"])[\"employeeId\"] == \"e-1042\""'
done
check "the three revocations carried three different keys (one job each)" '[ "$(grep -F /revoke "$work/systems.jsonl" | python3 -c "import json,sys; print(len({json.loads(l)[\"key\"] for l in sys.stdin}))")" = 3 ]'
check "no account was enabled again" '! grep -qF /enable "$work/systems.jsonl"'
check "the process recorded the three revocations" 'python3 -c "import json,sys; assert sorted(json.loads(sys.argv[1])) == [\"github\", \"idp\", \"slack\"]" "$(var revokedSystems)"'
check "one reminder went to IT" '[ "$(requests /notifications | wc -l)" = 1 ] && [ "$(var reminderCount)" = 1 ]'
check "the summary reached HR once, after the last day" '[ "$(requests /offboarding/e-1042/completed | wc -l)" = 1 ] && requests /offboarding/e-1042/completed | python3 -c "import json,sys; b=json.loads(json.loads(sys.stdin.read())[\"body\"]); assert b[\"systemsRevoked\"] == 3 and b[\"payroll\"].startswith(\"PAY-e-1042-\") and b[\"equipmentReminders\"] == 1, b"'
check "payroll was settled by the worker" '[ "$(var payrollSettledBy)" = "\"payroll-worker\"" ] && grep -q "final pay of e-1042 settled" "$work/out"'
check "the external task was completed as the payroll account" '[ "$(hist leave Task_SettlePayroll)" = payroll ]'
check "the manager approved the hand-over himself" '[ "$(hist leave Task_ApproveHandover)" = bob ] && [ "$(var approved)" = true ]'
check "IT claimed and collected the equipment" '[ "$(hist task-claim Task_CollectEquipment)" = carol ] && [ "$(hist leave Task_CollectEquipment)" = carol ]'
check "nobody completed a task for someone else (no admin, no anonymous completion)" '[ "$(q "select count(*) from history where instance_id = '"'"'$id'"'"' and kind = '"'"'leave'"'"' and element_type = '"'"'userTask'"'"' and coalesce(user_id, '"'"''"'"') not in ('"'"'bob'"'"', '"'"'carol'"'"')")" = 0 ]'
check "the deployment came through the REST API as admin" '[ "$(q "select count(*) from deployment where name = '"'"'offboarding'"'"'")" = 1 ]'

# ---- the audit trail ------------------------------------------------------------
$c audit --business-key e-1042 --json >"$work/audit.json"
audit() { python3 - "$work/audit.json" "$@"; }
check "the audit trail starts with the message start and ends with the end" 'audit <<<"
import json,sys
rows=json.load(open(sys.argv[1]))
assert rows[0][\"kind\"] == \"instance-start\" and rows[-1][\"kind\"] == \"instance-end\" and rows[-1][\"detail\"][\"state\"] == \"completed\"
assert [r for r in rows if r[\"element_id\"] == \"StartEvent_Departure\"][0][\"detail\"][\"event\"] == \"message\"
"'
check "audit: bob approved, with the decision" 'audit <<<"
import json,sys
rows=json.load(open(sys.argv[1]))
leave=[r for r in rows if r[\"kind\"] == \"leave\" and r[\"element_id\"] == \"Task_ApproveHandover\"]
assert len(leave) == 1 and leave[0][\"user_id\"] == \"bob\"
assert any(r[\"kind\"] == \"variable\" and r[\"user_id\"] == \"bob\" and r[\"detail\"] == {\"name\": \"approved\", \"new\": True} for r in rows)
"'
check "audit: carol claimed and collected the equipment, after the reminder" 'audit <<<"
import json,sys
rows=json.load(open(sys.argv[1]))
claim=[r for r in rows if r[\"kind\"] == \"task-claim\" and r[\"element_id\"] == \"Task_CollectEquipment\"][0]
done=[r for r in rows if r[\"kind\"] == \"leave\" and r[\"element_id\"] == \"Task_CollectEquipment\"][0]
remind=[r for r in rows if r[\"kind\"] == \"leave\" and r[\"element_id\"] == \"Task_SendReminder\"][0]
assert claim[\"user_id\"] == \"carol\" and done[\"user_id\"] == \"carol\"
assert remind[\"at\"] <= claim[\"at\"] <= done[\"at\"], (remind[\"at\"], claim[\"at\"], done[\"at\"])
"'
check "audit: the timers fired at their times (reminder two days in, the last day at midnight)" 'audit <<<"
import json,sys,datetime
rows=json.load(open(sys.argv[1]))
at=lambda r: datetime.datetime.fromisoformat(r[\"at\"].replace(\"Z\", \"+00:00\"))
start=at(rows[0])
remind=[r for r in rows if r[\"kind\"] == \"leave\" and r[\"element_id\"] == \"BoundaryEvent_EquipmentReminder\"]
assert len(remind) == 1 and remind[0][\"detail\"][\"event\"] == \"timer\" and abs(at(remind[0]) - start - datetime.timedelta(days=2)) < datetime.timedelta(seconds=5)
last=[r for r in rows if r[\"kind\"] == \"leave\" and r[\"element_id\"] == \"TimerEvent_LastDayReached\"]
day=(start + datetime.timedelta(days=5)).date()
assert len(last) == 1 and last[0][\"at\"] == day.isoformat() + \"T00:00:00.000Z\", last
assert not [r for r in rows if r[\"element_id\"] in (\"BoundaryEvent_EscalateEquipment\", \"Task_EscalateToItLead\") and r[\"kind\"] == \"leave\"]
"'
check "audit: the end event published the summary, then the instance ended" 'audit <<<"
import json,sys
rows=json.load(open(sys.argv[1]))
kinds=[(r[\"kind\"], r[\"element_id\"]) for r in rows if r[\"kind\"] in (\"leave\", \"instance-end\")][-3:]
assert kinds == [(\"leave\", \"Task_BuildSummary\"), (\"leave\", \"EndEvent_OffboardingCompleted\"), (\"instance-end\", None)], kinds
"'
check "the narrative printed the audit trail" 'grep -q "instance-end" "$work/out" && grep -q "Task_ApproveHandover  *bob" "$work/out"'
check "run.sh stopped what it started (bpmnd, the systems, the worker)" '[ "$(wc -l <"$work/pids")" = 3 ] && ! ps -o pid= -p "$(paste -sd, "$work/pids")" >/dev/null'
check "the engine clock is back to the wall clock" '[ "$(q "select offset_ms from clock")" = 0 ]'

echo "demo: $pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "--- run.sh"; cat "$work/out"; echo "--- bpmnd"; cat "$work/bpmnd.log"; }
[ $fail -eq 0 ]
