#!/usr/bin/env bash
# External tasks through bpmnd's REST API with the real, unmodified
# camunda-external-task-client-js (pinned in tests/clients): a worker that
# completes tasks with typed variables after extending its lock, throws a
# BPMN error caught by a boundary event, and reports failures until the
# retries run out and an incident opens. Also long polling (an answer as
# soon as a task is created, [] at the timeout), unlock, and the error
# answers for a wrong worker and an unknown task.
set -u
. "$(dirname "$0")/lib.sh"
clients="$src/tests/clients"
if [ ! -d "$clients/node_modules/camunda-external-task-client-js" ]; then
  (cd "$clients" && npm ci --no-audit --no-fund >/dev/null 2>&1) || { echo "npm ci failed in $clients"; exit 1; }
fi
fresh_schema
start_bpmnd --worker-threads 1

out=$(curl -s -F deployment-name=shop -F "ext.bpmn=@$data/ext.bpmn;filename=ext.bpmn" "$base/deployment/create")
check "deployed both processes" '[ "$(echo "$out" | jq ".deployedProcessDefinitions | length")" = 2 ]'

start() { # key business-key vars-json
  curl -s -H 'Content-Type: application/json' -d "{\"businessKey\":\"$2\",\"variables\":$3}" \
    "$base/process-definition/key/$1/start" | jq -r .id
}
ms() { date +%s%3N; }

# long polling: a parked fetchAndLock answers as soon as a task exists
t0=$(ms)
curl -s -D /tmp/lp-headers.$$ -H 'Content-Type: application/json' \
  -d '{"workerId":"poller","maxTasks":1,"asyncResponseTimeout":8000,"topics":[{"topicName":"charge","lockDuration":60000}]}' \
  "$base/external-task/fetchAndLock" > /tmp/lp.$$ &
lp=$!
sleep 0.5
a=$(start shop A '{"orderId":{"value":"A","type":"String"},"sku":{"value":"book","type":"String"}}')
wait $lp
took=$(( $(ms) - t0 ))
check "the parked fetchAndLock got the new task" '[ "$(jq -r ".[0].processInstanceId" /tmp/lp.$$)" = "$a" ]'
check "it answered long before its timeout ($took ms)" '[ $took -lt 4000 ]'
check "fetchAndLock answers exactly application/json" 'grep -qi "^content-type: application/json.$" /tmp/lp-headers.$$'
check "locked task carries typed variables" '[ "$(jq -r ".[0].variables.orderId.type" /tmp/lp.$$)" = String ]'
check "retries are null before the first failure" '[ "$(jq -r ".[0].retries" /tmp/lp.$$)" = null ]'
check "businessKey and topic are filled" '[ "$(jq -r ".[0].businessKey + \"/\" + .[0].topicName" /tmp/lp.$$)" = A/charge ]'
task=$(jq -r '.[0].id' /tmp/lp.$$)
r=$(http -H 'Content-Type: application/json' -d '{"workerId":"someone-else"}' "$base/external-task/$task/complete")
check "complete by another worker: 400 naming both workers" '[ "${r%% *}" = 400 ] && echo "$r" | grep -q "locked by worker .poller."'
r=$(http -X POST "$base/external-task/$task/unlock")
check "unlock without a body: 204" '[ "$r" = "204 " ]'
r=$(http -H 'Content-Type: application/json' -d '{"workerId":"x"}' "$base/external-task/no-such-task/complete")
check "complete of an unknown task: 404 with type and message" '[ "${r%% *}" = 404 ] && echo "${r#* }" | jq -e ".type and .message" >/dev/null'

# nothing for a topic: [] at the timeout
t0=$(ms)
r=$(curl -s -H 'Content-Type: application/json' \
  -d '{"workerId":"poller","maxTasks":1,"asyncResponseTimeout":1500,"topics":[{"topicName":"nothing","lockDuration":1000}]}' \
  "$base/external-task/fetchAndLock")
took=$(( $(ms) - t0 ))
check "an empty long poll answers [] at its timeout ($took ms)" '[ "$r" = "[]" ] && [ $took -ge 1400 ] && [ $took -lt 5000 ]'
r=$(http -H 'Content-Type: application/json' -d '{"workerId":"w","maxTasks":1,"asyncResponseTimeout":9999999,"topics":[]}' "$base/external-task/fetchAndLock")
check "a timeout above 30 minutes: 400" '[ "${r%% *}" = 400 ]'

b=$(start shop B '{"orderId":{"value":"B","type":"String"},"sku":{"value":"none","type":"String"}}')
f=$(start flaky F '{}')

node "$clients/worker.mjs" "$base" > /tmp/worker.$$.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null; kill $bpmnd_pid 2>/dev/null; wait $bpmnd_pid 2>/dev/null' EXIT
for _ in $(seq 150); do
  done_a=$(sql "select state from process_instance where id = '$a'")
  at_b=$(sql "select count(*) from user_task where instance_id = '$b' and element_id = 'Backorder'")
  inc=$(sql "select count(*) from incident where instance_id = '$f' and resolved_at is null")
  [ "$done_a" = completed ] && [ "$at_b" = 1 ] && [ "$inc" = 1 ] && break
  sleep 0.2
done
kill $worker 2>/dev/null; wait $worker 2>/dev/null
check "order A was charged and shipped: completed" '[ "$(sql "select state from process_instance where id = '"'"'$a'"'"'")" = completed ]'
check "typed variables from the worker arrived (integer)" '[ "$(sql "select value from variable where instance_id = '"'"'$a'"'"' and name = '"'"'amount'"'"'")" = 42 ]'
check "a Json variable arrived as a document" '[ "$(sql "select value->>'"'"'id'"'"' from variable where instance_id = '"'"'$a'"'"' and name = '"'"'receipt'"'"'")" = R-A ]'
check "order B: the BPMN error was caught, backorder task open" '[ "$(sql "select count(*) from user_task where instance_id = '"'"'$b'"'"' and element_id = '"'"'Backorder'"'"'")" = 1 ]'
check "the BPMN error carried variables" '[ "$(sql "select value #>> '"'"'{}'"'"' from variable where instance_id = '"'"'$b'"'"' and name = '"'"'reason'"'"'")" = "out of stock" ]'
check "flaky: an incident after the retries ran out" '[ "$(sql "select type || '"'"':'"'"' || message from incident where instance_id = '"'"'$f'"'"'")" = "failedExternalTask:service unavailable" ]'
check "flaky: three failures in the history" '[ "$(sql "select count(*) from history where instance_id = '"'"'$f'"'"' and kind = '"'"'job-failed'"'"'")" = 3 ]'
check "flaky: no retries left, so fetchAndLock skips it" '[ "$(curl -s -H "Content-Type: application/json" -d "{\"workerId\":\"w\",\"maxTasks\":5,\"topics\":[{\"topicName\":\"flaky\",\"lockDuration\":1000}]}" "$base/external-task/fetchAndLock")" = "[]" ]'
ft=$(sql "select id from job where instance_id = '$f'")
check "errorDetails as text" '[ "$(curl -s "$base/external-task/$ft/errorDetails")" = "HTTP 503 from upstream" ]'
r=$(http -X PUT -H 'Content-Type: application/json' -d '{"retries":1}' "$base/external-task/$ft/retries")
check "retries set back: 204 and the incident resolved" '[ "$r" = "204 " ] && [ "$(sql "select count(*) from incident where instance_id = '"'"'$f'"'"' and resolved_at is null")" = 0 ]'
check "the worker log shows each path" 'grep -q "charged A" /tmp/worker.$$.log && grep -q "backordered B" /tmp/worker.$$.log'
r=$(http "$base/external-task?topicName=flaky")
check "GET /external-task lists by topic" '[ "${r%% *}" = 200 ] && [ "$(echo "${r#* }" | jq length)" = 1 ]'

# a File variable: metadata in the typed value, the bytes where the client downloads them
fid=$(start flaky FILE '{"doc":{"value":"aGVsbG8gd29ybGQ=","type":"File","valueInfo":{"filename":"hello.txt","mimetype":"text/plain","encoding":"utf-8"}}}')
v=$(curl -s "$base/process-instance/$fid/variables/doc")
check "a File variable comes back with its metadata and no value" '[ "$(echo "$v" | jq -r ".type + \"/\" + (.value|tostring) + \"/\" + .valueInfo.filename + \"/\" + .valueInfo.mimeType")" = "File/null/hello.txt/text/plain" ]'
curl -s -D /tmp/fh.$$ -o /tmp/fb.$$ "$base/execution/$fid/localVariables/doc/data"
check "its bytes download with their type and file name" '[ "$(cat /tmp/fb.$$)" = "hello world" ] && grep -qi "^content-type: text/plain; charset=utf-8" /tmp/fh.$$ && grep -qi "filename=\"hello.txt\"" /tmp/fh.$$'
check "a variable that is not binary: 400" '[ "$(curl -s -o /dev/null -w "%{http_code}" "$base/execution/$a/localVariables/orderId/data")" = 400 ]'
rm -f /tmp/fh.$$ /tmp/fb.$$
rm -f /tmp/lp.$$ /tmp/lp-headers.$$ /tmp/worker.$$.log /tmp/http-body.$$
echo "rest_external: $pass passed, $fail failed"
[ $fail -eq 0 ]
