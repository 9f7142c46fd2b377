#!/usr/bin/env bash
# The REST API under load (issue 6's figures): GET /task with 10,000 open
# tasks (requests/s and p99 with wrk), fetchAndLock + complete cycles/s with
# 4 workers, and bpmnd's resident memory idle and under that load. Prints
# figures; asserts nothing. Runs its own PostgreSQL (tools/with-postgres).
# Usage: tests/bench/bench_rest.sh [BUILD_DIR (default build-rel)] [TASKS (10000)]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build-rel}" && pwd) tasks=${2:-10000}
if [ -z "${BPMND_TEST_DATABASE_URL:-}" ]; then exec "$root/tools/with-postgres" "$0" "$build" "$tasks"; fi
export BPMND_DATABASE_URL=$BPMND_TEST_DATABASE_URL
"$build/adapters/cli/bpmnctl" db migrate >/dev/null
port=$((20000 + RANDOM % 12000))
"$build/adapters/server/bpmnd" --listen 127.0.0.1:$port --http-threads 4 --worker-threads 1 2>/tmp/bench-rest.log &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
base=http://127.0.0.1:$port/engine-rest
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/ {print $2 " kB"}' /proc/$pid/status; }
echo "bpmnd idle: RSS $(rss)"
curl -s -F "i.bpmn=@$root/tests/e2e/data/inbox.bpmn;filename=i.bpmn" -F "e.bpmn=@$root/tests/bench/models/one-external.bpmn;filename=e.bpmn" \
  -F deployment-name=bench "$base/deployment/create" >/dev/null
python3 "$root/tests/bench/rest_load.py" start "$base" refund "$tasks" 4
echo "open tasks: $(curl -s "$base/task/count" | jq .count)"
# statistics as autovacuum would have them a minute later (the planner picks
# the created_at index for candidate queries only when it knows the rows)
psql -qX "$BPMND_DATABASE_URL" -c "analyze"
for q in "task?maxResults=50" "task?candidateGroup=sales&maxResults=50&sortBy=created&sortOrder=desc" "task/count?candidateGroup=sales"; do
  wrk -t2 -c16 -d10s --latency "$base/$q" > /tmp/bench-wrk.$$
  printf 'GET /%s: %s requests/s, p50 %s, p99 %s, errors: %s\n' "$q" \
    "$(awk '/Requests\/sec/ {print $2}' /tmp/bench-wrk.$$)" "$(awk '$1 == "50%" {print $2}' /tmp/bench-wrk.$$)" \
    "$(awk '$1 == "99%" {print $2}' /tmp/bench-wrk.$$)" "$(grep -cE 'Non-2xx|Socket errors' /tmp/bench-wrk.$$ || true)"
done
echo "bpmnd after the task list load: RSS $(rss)"
python3 "$root/tests/bench/rest_load.py" start "$base" one-external 20000 4
python3 "$root/tests/bench/rest_load.py" work "$base" work 4 10 &
load=$!
sleep 5
echo "bpmnd under the fetchAndLock + complete load: RSS $(rss)"
wait $load
rm -f /tmp/bench-wrk.$$
