#!/usr/bin/env bash
# Process instances over HTTP: queries and counts with filters, the
# activity-instance tree, variables (get, put, delete, patch) through the
# step function, suspension, modification, messages (by business key, the
# exactly-one rule, message start), signals and deletion; operator actions
# land in the history with the operator.
set -u
. "$(dirname "$0")/lib.sh"
fresh_schema
start_bpmnd --worker-threads 1
j() { curl -s -H 'Content-Type: application/json' "$@"; }
code() { curl -s -o /tmp/http-body.$$ -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
curl -s -F "order.bpmn=@$data/order.bpmn;filename=order.bpmn" "$base/deployment/create" >/dev/null
a=$(j -d '{"businessKey":"A","variables":{"n":{"value":5,"type":"Long"},"tags":{"value":"[\"x\",\"y\"]","type":"Json"}}}' "$base/process-definition/key/order/start" | jq -r .id)
b=$(j -d '{"businessKey":"B","variables":{"n":{"value":7}}}' "$base/process-definition/key/order/start" | jq -r .id)

check "list by definition key" '[ "$(curl -s "$base/process-instance?processDefinitionKey=order" | jq length)" = 2 ]'
check "list by business key" '[ "$(curl -s "$base/process-instance?businessKey=B" | jq -r ".[0].id")" = "$b" ]'
check "filter by variable value" '[ "$(curl -s "$base/process-instance?variables=n_gt_6" | jq -r "map(.id) | join(\",\")")" = "$b" ]'
check "POST filter by variable value" '[ "$(j -d "{\"variables\":[{\"name\":\"n\",\"operator\":\"gt\",\"value\":6}]}" "$base/process-instance" | jq -r "map(.id) | join(\",\")")" = "$b" ]'
check "a malformed variable filter: 400" '[ "$(code "$base/process-instance?variables=n_bogus_1")" = 400 ] && [ "$(code -d "{\"variables\":[{\"name\":\"n\"}]}" "$base/process-instance")" = 400 ]'
check "a malformed query string: 400" '[ "$(code "$base/process-instance?businessKey=%ZZ")" = 400 ]'
check "POST query with a body" '[ "$(j -d "{\"businessKey\":\"A\"}" "$base/process-instance" | jq -r ".[0].id")" = "$a" ]'
check "count" '[ "$(curl -s "$base/process-instance/count?processDefinitionKey=order" | jq .count)" = 2 ]'
check "paging" '[ "$(curl -s "$base/process-instance?firstResult=1&maxResults=5&sortBy=businessKey&sortOrder=asc" | jq -r ".[0].businessKey")" = B ]'
check "a bad firstResult: 400" '[ "$(code "$base/process-instance?firstResult=-1")" = 400 ]'
check "sortBy without sortOrder: 400" '[ "$(code "$base/process-instance?sortBy=businessKey")" = 400 ]'
check "get one" '[ "$(curl -s "$base/process-instance/$a" | jq -r .businessKey)" = A ]'
check "get an unknown one: 404" '[ "$(code "$base/process-instance/nope")" = 404 ] && jq -e ".type and .message" /tmp/http-body.$$ >/dev/null'

stats=$(curl -s "$base/process-definition/statistics")
check "definition statistics: two running instances" '[ "$(echo "$stats" | jq -r ".[] | select(.definition.key == \"order\") | .instances")" = 2 ]'
def=$(curl -s "$base/process-definition/key/order" | jq -r .id)
check "activity statistics: both wait at Review" '[ "$(curl -s "$base/process-definition/$def/statistics" | jq -r ".[] | select(.id == \"Review\") | .instances")" = 2 ]'
tree=$(curl -s "$base/process-instance/$a/activity-instances")
check "activity tree: the root is the definition" '[ "$(echo "$tree" | jq -r ".activityType + \"/\" + .id")" = "processDefinition/$a" ]'
check "activity tree: waits at the user task" '[ "$(echo "$tree" | jq -r ".childActivityInstances[0].activityId + \"/\" + .childActivityInstances[0].activityType")" = "Review/userTask" ]'

vars=$(curl -s "$base/process-instance/$a/variables")
check "typed variables: Long comes back as a number, Json as text" '[ "$(echo "$vars" | jq -r ".n.value")" = 5 ] && [ "$(echo "$vars" | jq -r ".tags.type")" = Json ] && [ "$(echo "$vars" | jq -r ".tags.value | fromjson | length")" = 2 ]'
check "put a variable" '[ "$(code -X PUT -d "{\"value\":\"hi\",\"type\":\"String\"}" "$base/process-instance/$a/variables/greeting")" = 204 ]'
check "get it back" '[ "$(curl -s "$base/process-instance/$a/variables/greeting" | jq -r .value)" = hi ]'
check "its change is in the history" '[ "$(sql "select count(*) from history where instance_id = '"'"'$a'"'"' and kind = '"'"'variable'"'"' and detail::text like '"'"'%greeting%'"'"'")" -ge 1 ]'
check "patch: modify one, delete another" '[ "$(code -d "{\"modifications\":{\"n\":{\"value\":6,\"type\":\"Integer\"}},\"deletions\":[\"greeting\"]}" "$base/process-instance/$a/variables")" = 204 ]'
check "the deletion took" '[ "$(code "$base/process-instance/$a/variables/greeting")" = 404 ]'
check "delete one" '[ "$(code -X DELETE "$base/process-instance/$a/variables/tags")" = 204 ] && [ "$(curl -s "$base/process-instance/$a/variables" | jq -r "keys | join(\",\")")" = n ]'
before=$(sql "select state_json::text from process_instance where id = '$a'")
check "a bad variable type: 400, nothing changed" '[ "$(code -X PUT -d "{\"value\":\"x\",\"type\":\"Integer\"}" "$base/process-instance/$a/variables/n")" = 400 ] && [ "$(sql "select state_json::text from process_instance where id = '"'"'$a'"'"'")" = "$before" ]'

check "suspend" '[ "$(code -X PUT -d "{\"suspended\":true}" "$base/process-instance/$b/suspended")" = 204 ] && [ "$(curl -s "$base/process-instance/$b" | jq .suspended)" = true ]'
check "suspended instances are filtered" '[ "$(curl -s "$base/process-instance?suspended=true" | jq -r ".[0].id")" = "$b" ]'
check "activate" '[ "$(code -X PUT -d "{\"suspended\":false}" "$base/process-instance/$b/suspended")" = 204 ]'

# modification: move A's token from Review to the message wait
check "modification: cancel Review, start before WaitPaid" '[ "$(code -d "{\"instructions\":[{\"type\":\"cancel\",\"activityId\":\"Review\"},{\"type\":\"startBeforeActivity\",\"activityId\":\"WaitPaid\"}]}" "$base/process-instance/$a/modification")" = 204 ]'
check "the token moved" '[ "$(curl -s "$base/process-instance/$a/activity-instances" | jq -r ".childActivityInstances[0].activityId")" = WaitPaid ] && [ "$(sql "select count(*) from user_task where instance_id = '"'"'$a'"'"'")" = 0 ]'
check "modification of an unknown element: 400, nothing changed" '[ "$(code -d "{\"instructions\":[{\"type\":\"startBeforeActivity\",\"activityId\":\"Nope\"}]}" "$base/process-instance/$a/modification")" = 400 ]'

# messages
check "a message nobody waits for: 400" '[ "$(code -d "{\"messageName\":\"Paid\",\"businessKey\":\"nobody\"}" "$base/message")" = 400 ] && grep -q "Cannot correlate message" /tmp/http-body.$$'
check "no message name: 400" '[ "$(code -d "{}" "$base/message")" = 400 ]'
check "correlate by business key: 204" '[ "$(code -d "{\"messageName\":\"Paid\",\"businessKey\":\"A\",\"processVariables\":{\"paid\":{\"value\":true,\"type\":\"Boolean\"}}}" "$base/message")" = 204 ]'
check "A moved on to the timer" '[ "$(curl -s "$base/process-instance/$a/activity-instances" | jq -r ".childActivityInstances[0].activityId")" = Cool ]'
r=$(j -d '{"messageName":"Hello","resultEnabled":true}' "$base/message")
check "message start with resultEnabled: 200 and one result" '[ "$(echo "$r" | jq length)" = 1 ]'
h=$(sql "select id from process_instance where definition_key = 'hello'")
check "signal: 204 and the listener finished" '[ "$(code -d "{\"name\":\"StopAll\"}" "$base/signal")" = 204 ] && [ "$(sql "select state from process_instance where id = '"'"'$h'"'"'")" = completed ]'

check "delete B: 204" '[ "$(code -X DELETE "$base/process-instance/$b")" = 204 ]'
check "B is gone from the runtime API" '[ "$(code "$base/process-instance/$b")" = 404 ]'
check "deleting it again: 404, or 204 with failIfNotExists=false" '[ "$(code -X DELETE "$base/process-instance/$b")" = 404 ] && [ "$(code -X DELETE "$base/process-instance/$b?failIfNotExists=false")" = 204 ]'
check "the operator actions are in the history" '[ "$(sql "select count(*) from history where kind = '"'"'operation'"'"' and instance_id in ('"'"'$a'"'"', '"'"'$b'"'"')")" -ge 3 ]'
check "executions for the external-task client" '[ "$(curl -s "$base/execution?processInstanceId=$a" | jq -r ".[0].id")" = "$a" ]'
check "an unknown path: 404 with a body" '[ "$(code "$base/no/such/path")" = 404 ] && jq -e .message /tmp/http-body.$$ >/dev/null'
check "a known path, wrong method: 405" '[ "$(code -X DELETE "$base/version")" = 405 ]'
rm -f /tmp/http-body.$$
echo "rest_instances: $pass passed, $fail failed"
[ $fail -eq 0 ]
