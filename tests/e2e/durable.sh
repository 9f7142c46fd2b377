#!/usr/bin/env bash
# The durable runtime through bpmnctl against a real PostgreSQL
# (BPMND_TEST_DATABASE_URL from tools/with-postgres): deploy with duplicate
# filtering and versions, start, the inbox, claims, completion, history with
# the acting user, messages by business key and message start, signals,
# timers under a moved clock, incidents that leave the instance as it was,
# cancel and suspend, and commands racing on one instance.
set -u
. "$(dirname "$0")/lib.sh"
first_task() { $c tasks --json "$@" | python3 -c 'import json,sys; t=json.load(sys.stdin); print(t[0]["id"] if t else "")'; }

fresh_schema

# deployments
out=$($c deploy "$data/broken.bpmn" 2>&1); rc=$?
check "a broken diagram is refused with file, line and element" '[ $rc -ne 0 ] && grep -q "broken.bpmn:5: error: \[f\]" <<<"$out"'
check "a refused deployment stores nothing" '[ "$(sql "select count(*) from deployment")" = 0 ]'
d1=$($c deploy "$data/order.bpmn" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
out=$($c deploy "$data/order.bpmn" --json)
check "an unchanged diagram is not deployed again" 'grep -q "\"duplicate\": true" <<<"$out" && grep -q "$d1" <<<"$out"'
defs=$(sql "select string_agg(key || version, ',' order by key) from process_definition")
check "each executable process is a definition" '[ "$defs" = "hello1,order1" ]'
sed 's/name="Order"/name="Order v2"/' "$data/order.bpmn" > "${TMPDIR:-/tmp}/order.bpmn"
$c deploy "${TMPDIR:-/tmp}/order.bpmn" >/dev/null
check "a changed diagram gets version 2" '[ "$(sql "select max(version) from process_definition where key = '"'"'order'"'"'")" = 2 ]'

# start, inbox, claim, complete
id=$($c start order --business-key B-1 --vars '{"amount": 30}' --user carol)
check "start prints the instance id" '[ -n "$id" ] && [ "$(sql "select business_key from process_instance where id = '"'"'$id'"'"'")" = B-1 ]'
task=$(first_task --group reviewers)
check "the review task is offered to its group" '[ -n "$task" ]'
check "nobody else sees it by group" '[ -z "$(first_task --group warehouse)" ]'
$c task claim "$task" --user alice >/dev/null
out=$($c task claim "$task" --user bob 2>&1); rc=$?
check "a conflicting claim is refused" '[ $rc -ne 0 ] && grep -q "already claimed by alice" <<<"$out"'
$c task assign "$task" --user bob >/dev/null
check "assign hands a claimed task to someone else" '[ "$(sql "select assignee from user_task where id = '"'"'$task'"'"'")" = bob ]'
check "the history keeps the assignment and who held it before" '[ "$(sql "select detail->>'"'"'previous'"'"' from history where kind = '"'"'task-assign'"'"' and user_id = '"'"'bob'"'"'")" = alice ]'
$c task assign "$task" --user alice >/dev/null
out=$($c task assign no-such-task --user bob 2>&1); rc=$?
check "assigning an unknown task is a clear error" '[ $rc -ne 0 ] && grep -q "no open task" <<<"$out"'

# an incident leaves the instance as it was
before=$(sql "select state_json::text from process_instance where id = '$id'")
out=$($c task complete "$task" --vars '{"boom": true}' --user alice 2>&1); rc=$?
check "a failing script is an incident naming the element" '[ $rc -ne 0 ] && grep -q "incident at \"Check\"" <<<"$out"'
check "the instance is exactly as it was" '[ "$(sql "select state_json::text from process_instance where id = '"'"'$id'"'"'")" = "$before" ]'
check "the task is still open" '[ "$(sql "select count(*) from user_task where id = '"'"'$task'"'"'")" = 1 ]'
check "the variable of the failed command is not stored" '[ "$(sql "select count(*) from variable where instance_id = '"'"'$id'"'"' and name = '"'"'boom'"'"'")" = 0 ]'
check "the incident is listed" '$c incidents | grep -q Check'

$c task complete "$task" --vars '{"boom": false, "approved": true}' --user alice >/dev/null
check "completing it resolves the incident" '[ "$(sql "select count(*) from incident where resolved_at is null")" = 0 ]'
branches=$(sql "select string_agg(element_id, ',' order by element_id) from user_task where instance_id = '$id'")
check "the parallel branches are waiting" '[ "$branches" = "PackA,PackB" ]'
out=$($c task complete "$task" 2>&1); rc=$?
check "completing the same task twice is a clear error" '[ $rc -ne 0 ] && grep -q "no open task" <<<"$out"'
check "the history names who completed it" '[ "$(sql "select count(*) from history where instance_id = '"'"'$id'"'"' and kind = '"'"'leave'"'"' and element_id = '"'"'Review'"'"' and user_id = '"'"'alice'"'"'")" = 1 ]'
check "the variables are rows" '[ "$(sql "select value from variable where instance_id = '"'"'$id'"'"' and name = '"'"'approved'"'"'")" = true ]'

# both branches of the join completed at the same moment: it fires once
ta=$(sql "select id from user_task where instance_id = '$id' and element_id = 'PackA'")
tb=$(sql "select id from user_task where instance_id = '$id' and element_id = 'PackB'")
$c task complete "$ta" >/dev/null 2>&1 & $c task complete "$tb" >/dev/null 2>&1 & wait
check "the join fired exactly once" '[ "$(sql "select value from variable where instance_id = '"'"'$id'"'"' and name = '"'"'joined'"'"'")" = 1 ]'
check "the instance waits for the payment" '[ "$(sql "select count(*) from subscription where instance_id = '"'"'$id'"'"' and name = '"'"'Paid'"'"'")" = 1 ]'

# messages
out=$($c correlate Paid --business-key nobody 2>&1); rc=$?
check "a message nobody waits for is refused" '[ $rc -ne 0 ] && grep -q "cannot correlate" <<<"$out"'
$c correlate Paid --business-key B-1 --vars '{"paidAt": "today"}' >/dev/null
check "the message reached the instance by business key" '[ "$(sql "select count(*) from job where instance_id = '"'"'$id'"'"' and kind = '"'"'timer'"'"'")" = 1 ]'
$c correlate Hello >/dev/null
check "a message start event starts an instance" '[ "$(sql "select count(*) from process_instance where definition_key = '"'"'hello'"'"'")" = 1 ]'
$c signal StopAll >/dev/null
check "a signal reaches the waiting instance" '[ "$(sql "select state from process_instance where definition_key = '"'"'hello'"'"'")" = completed ]'

# timers under a moved clock
out=$($c timers)
check "the timer is not due yet" 'grep -q "^0 timer" <<<"$out"'
$c clock --offset PT2H >/dev/null
out=$($c timers)
check "after moving the clock it fires" 'grep -q "^1 timer" <<<"$out"'
check "and the instance ends" '[ "$(sql "select state from process_instance where id = '"'"'$id'"'"'")" = completed ]'
check "nothing of it waits any more" '[ "$(sql "select (select count(*) from user_task where instance_id = '"'"'$id'"'"') + (select count(*) from job where instance_id = '"'"'$id'"'"') + (select count(*) from subscription where instance_id = '"'"'$id'"'"')")" = 0 ]'
$c clock --offset PT0S >/dev/null

# suspend, resume, cancel
id2=$($c start order)
t2=$(first_task --instance "$id2")
$c suspend "$id2" >/dev/null
out=$($c task complete "$t2" 2>&1); rc=$?
check "a suspended instance refuses commands" '[ $rc -ne 0 ] && grep -q suspended <<<"$out"'
$c resume "$id2" >/dev/null
$c cancel "$id2" >/dev/null
check "cancel terminates it and removes its waits" '[ "$(sql "select state from process_instance where id = '"'"'$id2'"'"'")" = terminated ] && [ "$(sql "select count(*) from user_task where instance_id = '"'"'$id2'"'"'")" = 0 ]'

# the same task completed twice at the same moment: one success, one error
id3=$($c start order)
t3=$(first_task --instance "$id3")
$c task complete "$t3" >"${TMPDIR:-/tmp}/race1" 2>&1 & $c task complete "$t3" >"${TMPDIR:-/tmp}/race2" 2>&1 & wait
check "one completion wins, the other gets a clear error" '[ "$(cat "${TMPDIR:-/tmp}"/race? | grep -c "^task .* completed$")" = 1 ] && [ "$(cat "${TMPDIR:-/tmp}"/race? | grep -Ec "no open task|already completed")" = 1 ]'
check "the review ran once" '[ "$(sql "select count(*) from history where instance_id = '"'"'$id3'"'"' and kind = '"'"'leave'"'"' and element_id = '"'"'Review'"'"'")" = 1 ]'
rm -f "${TMPDIR:-/tmp}/race1" "${TMPDIR:-/tmp}/race2" "${TMPDIR:-/tmp}/order.bpmn"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
