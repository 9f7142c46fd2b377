#!/usr/bin/env bash
# A bounded load on loopback with wrk against the task list and
# fetchAndLock: no errors and no failed requests; then a graceful stop that
# must exit 0 (in the sanitizer build, a leak or a memory error fails it).
# It prints the rates it saw; it asserts none (tests/bench measures speed).
set -u
. "$(dirname "$0")/lib.sh"
command -v wrk >/dev/null || { echo "wrk is missing (tools/install-deps installs it)"; exit 1; }
fresh_schema
start_bpmnd --worker-threads 1 --http-threads 4
curl -s -F "inbox.bpmn=@$data/inbox.bpmn;filename=inbox.bpmn" -F "ext.bpmn=@$data/ext.bpmn;filename=ext.bpmn" \
  -F deployment-name=load "$base/deployment/create" >/dev/null
for i in $(seq 60); do
  curl -s -H 'Content-Type: application/json' -d "{\"businessKey\":\"L-$i\"}" "$base/process-definition/key/refund/start" >/dev/null
  curl -s -H 'Content-Type: application/json' -d "{\"businessKey\":\"S-$i\",\"variables\":{\"orderId\":{\"value\":\"$i\"}}}" \
    "$base/process-definition/key/shop/start" >/dev/null
done
check "60 tasks in the inbox" '[ "$(curl -s "$base/task/count?candidateGroup=sales" | jq .count)" = 60 ]'

run_wrk() { # name args...
  local name=$1; shift
  wrk -t2 -c8 -d"${BPM_LOAD_SECONDS:-4}"s "$@" > /tmp/wrk.$$ 2>&1
  echo "$name: $(grep -E "Requests/sec" /tmp/wrk.$$ | awk '{print $2}') requests/s, $(grep -E "Latency" /tmp/wrk.$$ | awk '{print "latency avg " $2 " max " $4}')"
  check "$name: requests were made" 'grep -Eq "[1-9][0-9]* requests in" /tmp/wrk.$$'
  check "$name: no socket errors" '! grep -q "Socket errors" /tmp/wrk.$$'
  check "$name: no non-2xx answers" '! grep -q "Non-2xx" /tmp/wrk.$$'
}
run_wrk "GET /task" "$base/task?candidateGroup=sales&maxResults=20&sortBy=created&sortOrder=desc"
cat > /tmp/fetch.$$.lua <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"workerId":"load","maxTasks":2,"usePriority":true,"topics":[{"topicName":"charge","lockDuration":200}]}'
LUA
run_wrk "POST /external-task/fetchAndLock" -s /tmp/fetch.$$.lua "$base/external-task/fetchAndLock"
check "the server still answers" '[ "$(curl -s "${base%/engine-rest}/health")" = "{\"status\":\"UP\"}" ]'
curl -s "${base%/engine-rest}/metrics" > /tmp/metrics.$$
check "metrics count the requests by route" 'grep -q "bpmnd_http_requests_total{method=\"GET\",route=\"/task\",status=\"2xx\"}" /tmp/metrics.$$'
kill -TERM $bpmnd_pid
wait $bpmnd_pid; rc=$?
trap - EXIT
check "a graceful stop exits 0 (no leak, no memory error)" '[ $rc = 0 ]'
[ $rc = 0 ] || tail -40 "$bpmnd_log"
rm -f /tmp/wrk.$$ /tmp/fetch.$$.lua /tmp/metrics.$$ /tmp/http-body.$$
echo "rest_load: $pass passed, $fail failed"
[ $fail -eq 0 ]
