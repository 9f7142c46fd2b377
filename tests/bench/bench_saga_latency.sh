#!/usr/bin/env bash
# Issue 8's figure "end-to-end latency from a published OrderPlaced to the
# first worker receiving its task", on examples/order-saga as it runs: the
# Order Service (order-service.mjs, amqplib) publishes N orders to the queue
# orders, one every INTERVAL_MS; bpmnd's consumer (the example's bpmnd.conf
# and mapping.lua) starts a saga for each; the inventory worker
# (camunda-external-task-client-js, long polling: asyncResponseTimeout 10 s,
# POLL_INTERVAL_MS between fetches, default 0) receives "Reserve inventory".
# The publisher records each order's publish time (just before
# basic.publish), the worker the time its handler got the task, both from
# the same machine's clock (performance.timeOrigin + performance.now()).
# The payment and shipping workers run too (WORK_DELAY_MS 0), so the engine
# carries the whole saga. Runs its own PostgreSQL and RabbitMQ
# (tools/with-postgres, tools/with-rabbitmq). Prints figures; asserts nothing.
# Usage: tests/bench/bench_saga_latency.sh [BUILD_DIR (default build-rel)] [N (300)]
# Environment: INTERVAL_MS (between two orders, default 20), POLL_INTERVAL_MS (0).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build-rel}" && pwd) n=${2:-300}
if [ -z "${BPMND_TEST_DATABASE_URL:-}" ]; then exec "$root/tools/with-postgres" "$0" "$build" "$n"; fi
if [ -z "${BPMND_TEST_AMQP_URL:-}" ]; then exec "$root/tools/with-rabbitmq" "$0" "$build" "$n"; fi
export BPMND_DATABASE_URL=$BPMND_TEST_DATABASE_URL BPMND_AMQP_URL=$BPMND_TEST_AMQP_URL
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
ex="$root/examples/order-saga"
c="$build/adapters/cli/bpmnctl"
interval=${INTERVAL_MS:-20}
work=$(mktemp -d /tmp/bench-saga.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
[ -d "$ex/node_modules/amqplib" ] && [ -d "$ex/node_modules/camunda-external-task-client-js" ] ||
  (cd "$ex" && npm ci --no-audit --no-fund >/dev/null)
"$c" db migrate >/dev/null
port=$((20000 + RANDOM % 12000))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
"$build/adapters/server/bpmnd" --config "$ex/bpmnd.conf" --listen "127.0.0.1:$port" --auth off 2>"$work/bpmnd.log" &
pids+=($!)
base="http://127.0.0.1:$port/engine-rest"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done
"$c" deploy "$ex/order-saga.bpmn" >/dev/null
for w in inventory payment shipping; do
  (cd "$ex" && ORDER_RECORD="$work/record.jsonl" WORK_DELAY_MS=0 POLL_INTERVAL_MS=${POLL_INTERVAL_MS:-0} \
     exec node "$w-worker.mjs" "$base") >/dev/null 2>"$work/$w.log" &
  pids+=($!)
done
sleep 1 # the workers' first long polls are waiting
python3 -c "
import json
for i in range(1, $n + 1):
    print(json.dumps({'type': 'OrderPlaced', 'body': {'orderId': f'BENCH-{i}', 'customerId': 'c-1',
          'items': [{'sku': 'BOOK-42', 'quantity': 1}], 'total': 10, 'currency': 'EUR', 'card': 'tok_visa',
          'address': '1 Main St'}}))" >"$work/orders.jsonl"
echo "orders: $n, one every $interval ms; workers' poll interval ${POLL_INTERVAL_MS:-0} ms; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
(cd "$ex" && QUIET=1 PUBLISH_INTERVAL_MS=$interval PUBLISH_RECORD="$work/published.jsonl" node order-service.mjs "$work/orders.jsonl")
for _ in $(seq 600); do
  [ "$(grep -c '"action":"reserve"' "$work/record.jsonl" 2>/dev/null || echo 0)" -ge "$n" ] && break
  sleep 0.1
done
python3 - "$work/published.jsonl" "$work/record.jsonl" <<'PY'
import json, sys
pub = {e["body"]["orderId"]: e["publishedAt"] for e in map(json.loads, open(sys.argv[1]))}
got = {r["orderId"]: r["receivedAt"] for r in map(json.loads, open(sys.argv[2])) if r.get("action") == "reserve"}
lat = sorted(got[o] - pub[o] for o in pub if o in got)
if not lat:
    sys.exit("no order reached the inventory worker")
q = lambda p: lat[min(len(lat) - 1, int(round(p * (len(lat) - 1))))]
print(f"published OrderPlaced -> inventory worker has its task: {len(lat)} of {len(pub)} orders;"
      f" median {q(0.5):.1f} ms, p90 {q(0.9):.1f} ms, p99 {q(0.99):.1f} ms, min {lat[0]:.1f} ms, max {lat[-1]:.1f} ms")
PY
