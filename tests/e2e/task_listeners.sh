#!/usr/bin/env bash
# Camunda 7 "assignment" task listeners on a task changing hands, through
# the REST API and bpmnctl against PostgreSQL: claim, setAssignee,
# delegate, resolve, unclaim, an assignee identity link, PUT /task and
# `bpmnctl task claim` run the listener, which sees the new assignee
# (task.assignee) and whose variables are written with the change and its
# history row; a listener that fails answers 500 naming the element and
# leaves the task, its variables, the instance and the history as they
# were, with no incident; a task without listeners changes hands without a
# step.
set -u
. "$(dirname "$0")/lib.sh"
fresh_schema
start_bpmnd --worker-threads 1
# POST JSON: prints the status; the body is in /tmp/http-body.$$
post() { curl -s -o /tmp/http-body.$$ -w '%{http_code}' -H 'Content-Type: application/json' -d "$2" "$base$1"; }
body() { jq -r "$1" /tmp/http-body.$$; }

$c deploy "$data/listen.bpmn" >/dev/null
id=$($c start listen --business-key L-1)
task=$(curl -s "$base/task?processInstanceId=$id" | jq -r '.[0].id')
check "the review task is open" '[ -n "$task" ] && [ "$task" != null ]'
seen() { sql "select value #>> '{}' from variable where instance_id = '$id' and name = 'seen'"; }
holder() { sql "select value::text from variable where instance_id = '$id' and name = 'holder'"; }
task_row() { sql "select concat_ws('/', coalesce(assignee, '-'), owner, delegation_state) from user_task where id = '$task'"; }
kinds() { sql "select string_agg(kind || coalesce(':' || (detail->>'name'), ''), ',' order by seq) from history
               where instance_id = '$id' and kind in ($1)"; }
check "created without an assignee: no assignment yet" '[ -z "$(seen)" ]'

check "claim: 204" '[ "$(post "/task/$task/claim" "{\"userId\":\"alice\"}")" = 204 ]'
check "the listener saw alice; its variables are stored" '[ "$(seen)" = "alice;" ] && [ "$(holder)" = "\"alice\"" ] && [ "$(task_row)" = alice ]'
check "the history: the claim, then the listener's variables" \
  '[ "$(kinds "'"'task-claim', 'variable'"'")" = "task-claim,variable:seen,variable:holder" ]'
at=$(sql "select count(distinct at) from history where instance_id = '$id' and kind in ('task-claim', 'variable')")
claimed=$(sql "select user_id || ' ' || (detail->>'task') from history where instance_id = '$id' and kind = 'task-claim'")
check "... at the same time, by alice, naming the task" '[ "$at" = 1 ] && [ "$claimed" = "alice $task" ]'
check "the holder claiming again changes nothing" '[ "$(post "/task/$task/claim" "{\"userId\":\"alice\"}")" = 204 ] && [ "$(seen)" = "alice;" ]'
code=$(post "/task/$task/claim" '{"userId":"bob"}')
check "someone else's claim: 500 TaskAlreadyClaimedException, no listener" \
  '[ "$code" = 500 ] && [ "$(body .type)" = TaskAlreadyClaimedException ] && [ "$(seen)" = "alice;" ] && [ "$(task_row)" = alice ]'

check "setAssignee: 204" '[ "$(post "/task/$task/assignee" "{\"userId\":\"bob\"}")" = 204 ]'
check "the listener saw bob" '[ "$(seen)" = "alice;bob;" ] && [ "$(task_row)" = bob ]'
previous=$(sql "select detail->>'previous' from history where instance_id = '$id' and kind = 'task-assign'")
check "the history keeps who held it before" '[ "$previous" = alice ]'

check "delegate: 204" '[ "$(post "/task/$task/delegate" "{\"userId\":\"carol\"}")" = 204 ]'
check "the listener saw carol; bob owns the pending delegation" '[ "$(seen)" = "alice;bob;carol;" ] && [ "$(task_row)" = carol/bob/PENDING ]'

# a listener that fails: nothing changes anywhere
instance() { sql "select version || ' ' || state_json::text from process_instance where id = '$id'"; }
rows() { sql "select count(*) from history where instance_id = '$id'"; }
before=$(instance) rows_before=$(rows)
code=$(post "/task/$task/assignee" '{"userId":"mallory"}')
check "a failing listener: 500 ProcessEngineException naming the element and the error" \
  '[ "$code" = 500 ] && [ "$(body .type)" = ProcessEngineException ] && body .message | grep -q "assignment listener at \"Review\" failed" && body .message | grep -q "mallory may not review"'
check "... the task is still carol's" '[ "$(task_row)" = carol/bob/PENDING ]'
check "... the variables are as they were" '[ "$(seen)" = "alice;bob;carol;" ] && [ "$(holder)" = "\"carol\"" ]'
check "... the instance is as it was" '[ "$(instance)" = "$before" ]'
check "... no history row, no incident" '[ "$(rows)" = "$rows_before" ] && [ "$(sql "select count(*) from incident")" = 0 ]'
out=$($c task assign "$task" --user mallory 2>&1); rc=$?
check "bpmnctl task assign: refused the same way" '[ $rc -ne 0 ] && grep -q "assignment listener at \"Review\" failed" <<<"$out" && [ "$(task_row)" = carol/bob/PENDING ] && [ "$(rows)" = "$rows_before" ]'

check "resolve with a variable: 204" '[ "$(post "/task/$task/resolve" "{\"variables\":{\"note\":{\"value\":\"done\",\"type\":\"String\"}}}")" = 204 ]'
note=$(sql "select value #>> '{}' from variable where instance_id = '$id' and name = 'note'")
check "back to the owner: the listener ran, the variable is stored" '[ "$(seen)" = "alice;bob;carol;bob;" ] && [ "$(task_row)" = bob/bob/RESOLVED ] && [ "$note" = done ]'

check "unclaim: 204" '[ "$(post "/task/$task/unclaim" "{}")" = 204 ]'
check "the listener ran for nobody" '[ "$(seen)" = "alice;bob;carol;bob;nobody;" ] && [ "$(holder)" = null ] && [ "$(task_row)" = -/bob/RESOLVED ]'

check "an assignee identity link: 204" '[ "$(post "/task/$task/identity-links" "{\"userId\":\"dave\",\"type\":\"assignee\"}")" = 204 ]'
check "the listener saw dave" '[ "$(seen)" = "alice;bob;carol;bob;nobody;dave;" ]'
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
  -d '{"name":"Review it","assignee":"erin","owner":"bob"}' "$base/task/$task")
name=$(sql "select name from user_task where id = '$task'")
check "PUT /task with a new assignee: the listener saw erin" '[ "$code" = 204 ] && [ "$(seen)" = "alice;bob;carol;bob;nobody;dave;erin;" ] && [ "$name" = "Review it" ]'

$c task unclaim "$task" >/dev/null
$c task claim "$task" --user frank >/dev/null
check "bpmnctl task unclaim and claim: the listener ran" '[ "$(seen)" = "alice;bob;carol;bob;nobody;dave;erin;nobody;frank;" ] && [ "$(task_row | cut -d/ -f1)" = frank ]'
out=$($c task claim "$task" --user gina 2>&1); rc=$?
check "bpmnctl: a conflicting claim is refused" '[ $rc -ne 0 ] && grep -q "already claimed by frank" <<<"$out"'

# a task without listeners: one statement, no step
check "complete the review" '[ "$(post "/task/$task/complete" "{}")" = 204 ]'
pay=$(curl -s "$base/task?processInstanceId=$id" | jq -r '.[0].id')
version=$(sql "select version from process_instance where id = '$id'")
check "a task without listeners is claimed" '[ "$(post "/task/$pay/claim" "{\"userId\":\"alice\"}")" = 204 ]'
pay_row=$(sql "select assignee from user_task where id = '$pay'")
pay_hist=$(sql "select count(*) from history where kind = 'task-claim' and detail->>'task' = '$pay'")
check "... with its history row, and the instance untouched" '[ "$pay_row" = alice ] && [ "$pay_hist" = 1 ] && [ "$(sql "select version from process_instance where id = '"'$id'"'")" = "$version" ]'
code=$(post "/task/$pay/claim" '{"userId":"bob"}')
check "... and someone else's claim of it is refused" '[ "$code" = 500 ] && [ "$(body .type)" = TaskAlreadyClaimedException ]'
check "the other task ran no listener" '[ "$(seen)" = "alice;bob;carol;bob;nobody;dave;erin;nobody;frank;" ]'
rm -f /tmp/http-body.$$
echo "task_listeners: $pass passed, $fail failed"
[ $fail -eq 0 ]
