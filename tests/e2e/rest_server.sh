#!/usr/bin/env bash
# bpmnd as a server: configuration from a file, the environment and flags
# (bad values named with their source), /health, /ready, /metrics, the
# OpenAPI document matching the routes, structured JSON logs, authentication
# switched on by itself beyond loopback, and a graceful stop that answers a
# parked long poll.
set -u
. "$(dirname "$0")/lib.sh"
fresh_schema
d="$build/adapters/server/bpmnd"
conf=$(mktemp)
printf '# bpmnd configuration\nhttp_threads = 3   # a comment after a value\nworker_threads = 0\nlisten = "127.0.0.1:1" # after a quoted one\nmax_body = 99\n' > "$conf"
out=$("$d" --config "$conf" 2>&1); rc=$?
check "a bad value in the file names file and line" '[ $rc = 2 ] && echo "$out" | grep -q "$conf:5: max_body"'
out=$(BPMND_HTTP_THREADS=zero "$d" 2>&1); rc=$?
check "a bad environment value names the variable" '[ $rc = 2 ] && echo "$out" | grep -q "BPMND_HTTP_THREADS"'
out=$("$d" --listen nowhere 2>&1); rc=$?
check "a bad flag names the flag" '[ $rc = 2 ] && echo "$out" | grep -q "flag --listen"'
check "--help prints the usage" '"$d" --help | grep -q "^usage: bpmnd"'
bad=$(mktemp)
printf 'listen = "127.0.0.1:1\n' > "$bad"
out=$("$d" --config "$bad" 2>&1); rc=$?
check "an unclosed quote is named by file and line" '[ $rc = 2 ] && echo "$out" | grep -q "$bad:1: the quoted value has no closing"'
printf 'http_threads = 3\nlisten = "127.0.0.1:1" 2\n' > "$bad"
out=$("$d" --config "$bad" 2>&1); rc=$?
check "text after a quoted value is refused" '[ $rc = 2 ] && echo "$out" | grep -q "$bad:2: only a comment"'
{ printf 'http_threads = 3\n# '; head -c 3000 /dev/zero | tr '\0' x; printf '\n'; } > "$bad"
out=$("$d" --config "$bad" 2>&1); rc=$?
check "an overlong line is refused, not read as two" '[ $rc = 2 ] && echo "$out" | grep -q "$bad:2: line longer than"'
rm -f "$bad"
sed -i '/max_body/d' "$conf"

# flags override the file; the file's worker_threads=0 still applies
bpmnd_log=$(mktemp)
start_bpmnd --config "$conf"
root=${base%/engine-rest}
check "health" '[ "$(curl -s "$root/health")" = "{\"status\":\"UP\"}" ]'
check "ready (the database answers)" '[ "$(curl -s -o /dev/null -w "%{http_code}" "$root/ready")" = 200 ]'
check "the start is logged as one JSON object" 'head -1 "$bpmnd_log" | jq -e "select(.event == \"started\" and .http_threads == \"3\" and .worker_threads == \"0\")" >/dev/null'
curl -s -F "order.bpmn=@$data/order.bpmn;filename=order.bpmn" "$base/deployment/create" >/dev/null
for i in 1 2 3; do curl -s -H 'Content-Type: application/json' -d '{}' "$base/process-definition/key/order/start" >/dev/null; done
m=$(curl -s "$root/metrics")
check "metrics: instances started" 'echo "$m" | grep -q "^bpmnd_instances_started_total 3$"'
check "metrics: requests by route with a latency histogram" 'echo "$m" | grep -q "bpmnd_http_request_duration_seconds_count{method=\"POST\",route=\"/process-definition/key/{}/start\"} 3"'
oa=$(curl -s "$base/openapi.json")
routes=$(grep -c '^    {"[A-Z]*", "/' "$src/adapters/api/routes.c")
check "OpenAPI 3 document with one operation per route ($routes)" '[ "$(echo "$oa" | jq -r .openapi)" = 3.0.3 ] && [ "$(echo "$oa" | jq "[.paths[] | keys[]] | length")" = "$routes" ]'
check "OpenAPI names path parameters" '[ "$(echo "$oa" | jq -r ".paths[\"/task/{id}/variables/{varName}\"] | keys | join(\",\")")" = "delete,get,put" ]'
check "the named engine serves the same API" '[ "$(curl -s "$base/engine/default/version" | jq -r .version)" = 7.24.0 ]'
check "a body above the limit: 413" '[ "$(head -c 20000000 /dev/zero | curl -s -o /dev/null -w "%{http_code}" -H "Content-Type: application/json" --data-binary @- "$base/message")" = 413 ]'

# a graceful stop answers a parked long poll at once with []
curl -s -H 'Content-Type: application/json' -d '{"workerId":"w","maxTasks":1,"asyncResponseTimeout":60000,"topics":[{"topicName":"t","lockDuration":1000}]}' \
  "$base/external-task/fetchAndLock" > /tmp/parked.$$ &
poll=$!
for _ in $(seq 100); do curl -s "$root/metrics" | grep -q "^bpmnd_http_parked_requests 1$" && break; sleep 0.1; done
check "the poll is parked (metrics)" 'curl -s "$root/metrics" | grep -q "^bpmnd_http_parked_requests 1$"'
t0=$(date +%s)
kill -TERM $bpmnd_pid
wait $poll
wait $bpmnd_pid; rc=$?
trap - EXIT
check "the parked poll got [] on shutdown" '[ "$(cat /tmp/parked.$$)" = "[]" ]'
check "the stop was quick and clean" '[ $rc = 0 ] && [ $(( $(date +%s) - t0 )) -lt 10 ]'
check "the stop is logged" 'tail -1 "$bpmnd_log" | jq -e "select(.event == \"stopped\")" >/dev/null'

# beyond loopback, authentication switches on by itself
port=$((20000 + RANDOM % 12000))
"$d" --listen 0.0.0.0:$port --worker-threads 0 2>/dev/null &
any=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
check "listening on 0.0.0.0 requires credentials" '[ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$port/engine-rest/task")" = 401 ]'
kill -TERM $any; wait $any
rm -f "$conf" "$bpmnd_log" /tmp/parked.$$ /tmp/http-body.$$
echo "rest_server: $pass passed, $fail failed"
[ $fail -eq 0 ]
