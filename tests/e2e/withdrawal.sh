#!/usr/bin/env bash
# A departure withdrawn before the last day (examples/offboarding/run.sh
# --withdraw, on the test database): the accounts were revoked, the manager
# had approved; then HR sends DepartureWithdrawn. The interrupting event
# subprocess cancels the open work and throws compensation, so "Re-enable
# access" calls each system once, and HR is told. The instance ends with no
# revocation standing: every account enabled again at the systems, none left
# in revokedSystems, and no summary of a completed offboarding sent.
set -u
. "$(dirname "$0")/lib.sh"
example="$src/examples/offboarding"
fresh_schema
work=$(mktemp -d /tmp/bpmnd-withdrawal.XXXXXX)
trap 'rm -rf "$work"' EXIT

BPMND="$build/adapters/server/bpmnd" BPMNCTL="$c" OFFBOARDING_WORK="$work" OFFBOARDING_PORT=$((20000 + RANDOM % 12000)) \
  bash "$example/run.sh" --withdraw >"$work/out" 2>&1
rc=$?
check "run.sh --withdraw succeeds" '[ $rc = 0 ] || { cat "$work/out"; false; }'
id=$(cat "$work/instance" 2>/dev/null)
q() { sql "$1"; }
var() { q "select value::text from variable where instance_id = '$id' and name = '$1' order by scope_id limit 1"; }
requests() { grep -F "\"path\": \"$1\"" "$work/systems.jsonl" 2>/dev/null; }
# the systems' own view of each account (the last call that changed it)
account() { python3 -c "
import json,sys
state=None
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r['path'].startswith('/systems/' + sys.argv[2] + '/') and r['status'] == 200 and not r['repeat']:
        state=r['path'].rsplit('/', 1)[1]
print(state)" "$work/systems.jsonl" "$1"; }

check "the instance completed (through the event subprocess)" '[ "$(q "select state from process_instance where id = '"'"'$id'"'"'")" = completed ]'
for s in idp github slack; do
  check "$s: revoked once, then re-enabled once, each with its own Idempotency-Key" '[ "$(requests "/systems/$s/revoke" | wc -l)" = 1 ] && [ "$(requests "/systems/$s/enable" | wc -l)" = 1 ] && [ "$(requests "/systems/$s/revoke" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"key\"])")" != "$(requests "/systems/$s/enable" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"key\"])")" ]'
  check "$s: the account is enabled at the end" '[ "$(account $s)" = enable ]'
done
check "every re-enable came after every revocation" 'python3 -c "
import json,sys
paths=[json.loads(l)[\"path\"] for l in open(sys.argv[1])]
rev=[i for i,p in enumerate(paths) if p.endswith(\"/revoke\")]
ena=[i for i,p in enumerate(paths) if p.endswith(\"/enable\")]
assert len(rev) == 3 and len(ena) == 3 and max(rev) < min(ena)" "$work/systems.jsonl"'
check "no revocation stands in the process: revokedSystems is empty" '[ "$(var revokedSystems)" = "[]" ]'
check "reenabledSystems names all three" 'python3 -c "import json,sys; assert sorted(json.loads(sys.argv[1])) == [\"github\", \"idp\", \"slack\"]" "$(var reenabledSystems)"'
check "HR was told of the withdrawal, and no completion summary was sent" '[ "$(requests /offboarding/e-1042/withdrawn | wc -l)" = 1 ] && [ "$(requests /offboarding/e-1042/completed | wc -l)" = 0 ]'
check "the open work was cancelled: no task, job or subscription left" '[ "$(q "select (select count(*) from user_task where instance_id = '"'"'$id'"'"') + (select count(*) from job where instance_id = '"'"'$id'"'"') + (select count(*) from subscription where instance_id = '"'"'$id'"'"')")" = 0 ]'

$c audit --instance "$id" --json >"$work/audit.json"
check "audit: the withdrawal started the event subprocess, which compensated and ended" 'python3 - "$work/audit.json" <<<"
import json,sys
rows=json.load(open(sys.argv[1]))
ev=[(r[\"kind\"], r[\"element_id\"]) for r in rows if r[\"kind\"] in (\"leave\", \"cancel\", \"instance-end\")]
start=ev.index((\"leave\", \"StartEvent_Withdrawn\"))
after=ev[start:]
assert after.count((\"leave\", \"Task_ReenableAccess\")) == 3, after
assert after[-4:] == [(\"leave\", \"Event_ReenableAccess\"), (\"leave\", \"EndEvent_WithdrawalConfirmed\"), (\"leave\", \"SubProcess_Withdrawal\"), (\"instance-end\", None)], after[-5:]
cancelled={e for k,e in ev if k == \"cancel\"}
assert {\"Task_SettlePayroll\", \"Task_CollectEquipment\"} <= cancelled, cancelled
assert (\"leave\", \"TimerEvent_LastDayReached\") not in ev and (\"leave\", \"EndEvent_OffboardingCompleted\") not in ev
assert [r for r in rows if r[\"element_id\"] == \"StartEvent_Withdrawn\"][0][\"detail\"][\"event\"] == \"message\"
"'
check "run.sh stopped what it started" '! ps -o pid= -p "$(paste -sd, "$work/pids")" >/dev/null'

echo "withdrawal: $pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "--- run.sh"; cat "$work/out"; echo "--- bpmnd"; cat "$work/bpmnd.log"; }
[ $fail -eq 0 ]
