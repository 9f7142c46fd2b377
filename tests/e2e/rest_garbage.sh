#!/usr/bin/env bash
# Malformed input on every route (tests/e2e/rest_garbage.py): each answer
# well formed, the connection never broken, the database unchanged where a
# request was refused, and a clean exit afterwards (under the sanitizers, no
# memory error or leak).
set -u
. "$(dirname "$0")/lib.sh"
fresh_schema
start_bpmnd --worker-threads 0
curl -s -F "order.bpmn=@$data/order.bpmn;filename=order.bpmn" "$base/deployment/create" >/dev/null
id=$(curl -s -H 'Content-Type: application/json' -d '{"businessKey":"G"}' "$base/process-definition/key/order/start" | jq -r .id)
before=$(sql "select state_json::text from process_instance where id = '$id'")
out=$(python3 "$src/tests/e2e/rest_garbage.py" "$base" 2>&1); rc=$?
echo "$out" | tail -3
check "every malformed request got a well-formed answer" '[ $rc = 0 ]'
check "the instance is as it was" '[ "$(sql "select state_json::text from process_instance where id = '"'"'$id'"'"'")" = "$before" ]'
check "still serving" '[ "$(curl -s "${base%/engine-rest}/health")" = "{\"status\":\"UP\"}" ]'
kill -TERM $bpmnd_pid; wait $bpmnd_pid; rc=$?
trap - EXIT
check "a clean exit" '[ $rc = 0 ]'
[ $rc = 0 ] || tail -30 "$bpmnd_log"
echo "rest_garbage: $pass passed, $fail failed"
[ $fail -eq 0 ]
