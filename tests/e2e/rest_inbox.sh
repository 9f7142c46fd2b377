#!/usr/bin/env bash
# The task inbox over HTTP with authentication on: Basic and Bearer, 401
# without credentials, deploy reserved to admins, a task listed by candidate
# group and hidden from a user outside it, claim and a conflicting claim
# (Camunda's 500 TaskAlreadyClaimedException), completion only by the
# assignee, with typed variables; the next task appears, and the history says
# who did what.
set -u
. "$(dirname "$0")/lib.sh"
fresh_schema
for u in alice bob carol root; do BPMND_PASSWORD="pw-$u:x" $c user add $u >/dev/null; done
$c group add sales --member alice --member bob >/dev/null
$c group add hr --member carol >/dev/null
$c group add admin --member root >/dev/null
token=$($c token create bob --name e2e)
start_bpmnd --auth on --worker-threads 1
as() { local u=$1; shift; curl -s -u "$u:pw-$u:x" "$@"; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

curl -s -D /tmp/h.$$ -o /tmp/b.$$ "$base/task"
check "no credentials: 401 with a Basic challenge and no body" 'head -1 /tmp/h.$$ | grep -q " 401" && grep -qi "^www-authenticate: basic realm=\"default\"" /tmp/h.$$ && [ ! -s /tmp/b.$$ ]'
check "a wrong password: 401" '[ "$(code -u alice:wrong "$base/task")" = 401 ]'
check "GET /engine needs no credentials" '[ "$(curl -s "$base/engine")" = "[{\"name\":\"default\"}]" ]'
check "deploy by a non-admin: 403" '[ "$(code -u alice:pw-alice:x -F "inbox.bpmn=@$data/inbox.bpmn;filename=inbox.bpmn" "$base/deployment/create")" = 403 ]'
out=$(as root -F deployment-name=refunds -F "inbox.bpmn=@$data/inbox.bpmn;filename=inbox.bpmn" "$base/deployment/create")
check "deploy by an admin" '[ "$(echo "$out" | jq -r ".deployedProcessDefinitions | keys | length")" = 1 ]'
id=$(as alice -H 'Content-Type: application/json' -d '{"businessKey":"R-1","variables":{"amount":{"value":120,"type":"Integer"}}}' \
  "$base/process-definition/key/refund/start" | jq -r .id)
check "alice started a refund" '[ -n "$id" ] && [ "$id" != null ]'

tasks=$(as alice "$base/task?candidateGroup=sales")
task=$(echo "$tasks" | jq -r '.[0].id')
check "the task is offered to sales" '[ "$(echo "$tasks" | jq length)" = 1 ] && [ "$(echo "$tasks" | jq -r ".[0].taskDefinitionKey")" = Approve ]'
check "the task DTO carries every field, nulls included" '[ "$(echo "$tasks" | jq -r ".[0] | has(\"due\") and has(\"tenantId\") and .priority == 70 and .formKey == \"embedded:app:approve.html\" and .assignee == null")" = true ]'
check "dates in Camunda format" 'echo "$tasks" | jq -r ".[0].created" | grep -Eq "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\+0000$"'
check "candidateUser finds it through alice's groups" '[ "$(as alice "$base/task?candidateUser=alice" | jq length)" = 1 ]'
check "count by candidate group" '[ "$(as alice "$base/task/count?candidateGroup=sales" | jq .count)" = 1 ]'
check "carol (hr) does not see it" '[ "$(as carol "$base/task" | jq length)" = 0 ]'
check "carol cannot read it: 403" '[ "$(code -u carol:pw-carol:x "$base/task/$task")" = 403 ]'
check "bob sees it with a Bearer token" '[ "$(curl -s -H "Authorization: Bearer $token" "$base/task" | jq length)" = 1 ]'
check "an unknown token: 401" '[ "$(code -H "Authorization: Bearer bpmnd_nope" "$base/task")" = 401 ]'
check "sorting by an unknown key: 400" '[ "$(code -u alice:pw-alice:x "$base/task?sortBy=color&sortOrder=asc")" = 400 ]'

check "alice claims it" '[ "$(code -u alice:pw-alice:x -H "Content-Type: application/json" -d "{\"userId\":\"alice\"}" "$base/task/$task/claim")" = 204 ]'
r=$(curl -s -w ' %{http_code}' -u bob:pw-bob:x -H 'Content-Type: application/json' -d '{"userId":"bob"}' "$base/task/$task/claim")
check "bob's claim conflicts: 500 TaskAlreadyClaimedException" '[ "${r##* }" = 500 ] && [ "$(echo "${r% *}" | jq -r .type)" = TaskAlreadyClaimedException ]'
check "claimed tasks leave the group's candidate list" '[ "$(as bob "$base/task?candidateGroup=sales" | jq length)" = 0 ]'
check "... unless includeAssignedTasks" '[ "$(as bob "$base/task?candidateGroup=sales&includeAssignedTasks=true" | jq length)" = 1 ]'
check "bob cannot complete alice's task: 403" '[ "$(code -u bob:pw-bob:x -H "Content-Type: application/json" -d "{}" "$base/task/$task/complete")" = 403 ]'
check "bob cannot claim for someone else: 403" '[ "$(code -u bob:pw-bob:x -H "Content-Type: application/json" -d "{\"userId\":\"carol\"}" "$base/task/$task/claim")" = 403 ]'
r=$(curl -s -w ' %{http_code}' -u alice:pw-alice:x -H 'Content-Type: application/json' -d '{"variables":{"approved":{"value":"yes","type":"Integer"}}}' "$base/task/$task/complete")
check "a variable of the wrong type: 400 naming it, task still open" '[ "${r##* }" = 400 ] && echo "$r" | grep -q approved && [ "$(sql "select count(*) from user_task where id = '"'"'$task'"'"'")" = 1 ]'
check "alice completes it with variables" '[ "$(code -u alice:pw-alice:x -H "Content-Type: application/json" -d "{\"variables\":{\"approved\":{\"value\":true,\"type\":\"Boolean\"},\"note\":{\"value\":\"ok\",\"type\":\"String\"}}}" "$base/task/$task/complete")" = 204 ]'
next=$(as alice "$base/task?processInstanceId=$id")
check "the next task appears" '[ "$(echo "$next" | jq -r ".[0].taskDefinitionKey")" = Pay ]'
vars=$(as alice "$base/process-instance/$id/variables")
check "the variables are typed on the way out" '[ "$(echo "$vars" | jq -r ".approved.type + \"/\" + (.approved.value|tostring) + \"/\" + .amount.type")" = "Boolean/true/Integer" ]'
check "the history: alice claimed" '[ "$(sql "select user_id from history where instance_id = '"'"'$id'"'"' and kind = '"'"'task-claim'"'"'")" = alice ]'
check "the history: alice completed" '[ "$(sql "select user_id from history where instance_id = '"'"'$id'"'"' and kind = '"'"'leave'"'"' and element_id = '"'"'Approve'"'"'")" = alice ]'
check "the history: alice started it" '[ "$(sql "select start_user from process_instance where id = '"'"'$id'"'"'")" = alice ]'
task2=$(echo "$next" | jq -r '.[0].id')
check "unknown task: Camunda's 500 NullValueException on claim" '[ "$(as alice -H "Content-Type: application/json" -d "{\"userId\":\"alice\"}" "$base/task/nope/claim" | jq -r .type)" = NullValueException ]'
check "malformed JSON: 400 naming the position" '[ "$(code -u alice:pw-alice:x -H "Content-Type: application/json" -d "{oops" "$base/task/$task2/claim")" = 400 ]'
check "an admin completes any task" '[ "$(code -u root:pw-root:x -H "Content-Type: application/json" -d "{}" "$base/task/$task2/complete")" = 204 ]'
check "the instance ended" '[ "$(sql "select state from process_instance where id = '"'"'$id'"'"'")" = completed ]'
rm -f /tmp/h.$$ /tmp/b.$$ /tmp/http-body.$$
echo "rest_inbox: $pass passed, $fail failed"
[ $fail -eq 0 ]
