#!/usr/bin/env bash
# The order saga end to end, event-driven over RabbitMQ: bpmnd, the three
# workers, the Order Service publishing OrderPlaced events.
#
#   examples/order-saga/run.sh
#
# Starts bpmnd (authentication off: loopback only) with bpmnd.conf, whose
# consumer takes the queue orders and maps each event with mapping.lua,
# deploys order-saga.bpmn as Camunda Modeler does, starts the inventory,
# payment and shipping workers (one Node process each,
# camunda-external-task-client-js), and has the Order Service
# (order-service.mjs, amqplib) publish three orders:
#   ORDER-1  completes: reserved, charged, shipped;
#   ORDER-2  the card is declined: the payment worker throws PAYMENT_DECLINED,
#            the reservation is released by its compensation handler, the
#            order ends cancelled;
#   ORDER-3  the payment gateway times out twice: the worker reports
#            failures with retries left and a retry timeout, bpmnd offers
#            the task again, the third attempt succeeds and the order completes.
# Then ORDER-1's event is published a second time with the same message id
# (a publisher retrying after a lost confirm): the consumer drops it, one
# saga; and two broken OrderPlaced events (a body that is not JSON, an order
# without an id) end in orders.dlq with their reasons, printed at the end.
# The saga's end events publish OrderCompleted / OrderCancelled to the queue
# order-events through bpmnd's outbox (order-events.mjs prints them).
# While the orders run it prints each one's state as it changes (status.sh,
# from the REST API). Everything it started is stopped when it exits.
#
# The broker: BPMND_AMQP_URL (amqp://USER:PASSWORD@HOST:PORT/VHOST); without
# it run.sh runs itself under tools/with-rabbitmq, a private RabbitMQ node
# (Debian's rabbitmq-server) stopped at the end.
# Environment: BPMND and BPMNCTL (the binaries; default build/demo/...),
# BPMND_DATABASE_URL or BPMND_DATA_DIR (the database, as for bpmnctl),
# ORDER_SAGA_WORK (a directory for logs and records; default a new temporary
# one), ORDER_SAGA_PORT (bpmnd's port; default 8080 when free), WORK_DELAY_MS
# (each worker's pause before acting; default 400). Leaves in ORDER_SAGA_WORK:
# record.jsonl (every worker action), published.jsonl (every event
# published), dead-letters.jsonl (orders.dlq as read at the end),
# order-events.jsonl (the saga's outcome events), states.txt
# (every state seen), metrics.txt (the consumer's counts), pids, bpmnd.log,
# *-worker.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ -z "${BPMND_AMQP_URL:-}" ]; then
  if [ -n "${ORDER_SAGA_PRIVATE_BROKER:-}" ]; then
    [ -n "${BPMND_TEST_AMQP_URL:-}" ] || { echo "run.sh: no RabbitMQ: install rabbitmq-server or set BPMND_AMQP_URL" >&2; exit 1; }
    export BPMND_AMQP_URL=$BPMND_TEST_AMQP_URL
  else
    echo "BPMND_AMQP_URL is not set: starting a private RabbitMQ node (tools/with-rabbitmq)"
    ORDER_SAGA_PRIVATE_BROKER=1 exec "$root/tools/with-rabbitmq" "$0" "$@"
  fi
fi
bpmnd=${BPMND:-$root/build/demo/adapters/server/bpmnd}
ctl=${BPMNCTL:-$root/build/demo/adapters/cli/bpmnctl}
work=${ORDER_SAGA_WORK:-$(mktemp -d /tmp/order-saga.XXXXXX)}
mkdir -p "$work"
rm -f "$work"/{record.jsonl,published.jsonl,dead-letters.jsonl,order-events.jsonl,states.txt,metrics.txt,pids}
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

say() { printf '%s\n' "$*"; }
step() { printf '\n%s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }
pids=()
started() { pids+=("$1"); echo "$1" >>"$work/pids"; }
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -d "$here/node_modules/camunda-external-task-client-js" ] && [ -d "$here/node_modules/amqplib" ] || (cd "$here" && npm ci --no-audit --no-fund >/dev/null) ||
  die "npm ci failed in $here"
"$ctl" db migrate >/dev/null

port=${ORDER_SAGA_PORT:-8080}
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
"$bpmnd" --config "$here/bpmnd.conf" --listen "127.0.0.1:$port" --auth off --worker-threads 2 2>"$work/bpmnd.log" &
started $!
base="http://127.0.0.1:$port/engine-rest"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/ready" >/dev/null || { cat "$work/bpmnd.log" >&2; die "bpmnd did not start"; }
# an earlier run's instances and their history would take this run's
# events (same business keys, same transaction ids): remove them first
for key in order-saga; do
  for id in $(curl -sf "$base/process-instance?processDefinitionKey=$key" | jq -r '.[].id'); do
    curl -sf -X DELETE "$base/process-instance/$id" >/dev/null || true
  done
  for id in $(curl -sf "$base/history/process-instance?processDefinitionKey=$key" | jq -r '.[].id'); do
    curl -sf -X DELETE "$base/history/process-instance/$id" >/dev/null || true
  done
done
node "$here/dead-letters.mjs" --purge orders.dlq
node "$here/order-events.mjs" --declare
say "bpmnd serves Camunda 7's REST API on $base and consumes the RabbitMQ queue orders (bpmnd.conf, mapping.lua)"

step "1. Deploy order-saga.bpmn as Camunda Modeler does (POST /deployment/create)"
dep=$(curl -s -F deployment-name=order-saga -F deployment-source="Camunda Modeler" -F deploy-changed-only=true \
  -F "order-saga.bpmn=@$here/order-saga.bpmn;filename=order-saga.bpmn" "$base/deployment/create")
jq -e .id <<<"$dep" >/dev/null 2>&1 || die "the deployment failed: $dep"
say "   deployment $(jq -r .id <<<"$dep")"

step "2. Start the workers: inventory, payment and shipping, one process each (camunda-external-task-client-js)"
for w in inventory payment shipping; do
  (cd "$here" && ORDER_RECORD="$work/record.jsonl" exec node "$w-worker.mjs" "$base") 2>"$work/$w-worker.log" &
  started $!
done

step "3. The Order Service publishes three OrderPlaced events to RabbitMQ (order-service.mjs: queue orders, persistent, a new message id each)"
(cd "$here" && PUBLISH_RECORD="$work/published.jsonl" node order-service.mjs orders.jsonl)

step "4. It publishes ORDER-1's event again, the same message id (as after a lost confirm): bpmnd's consumer drops it"
(cd "$here" && jq -c 'select(.body.orderId == "ORDER-1")' "$work/published.jsonl" | node order-service.mjs -)

step "5. Two broken OrderPlaced events: a body that is not JSON, an order without an id (poison.jsonl)"
(cd "$here" && PUBLISH_RECORD="$work/published.jsonl" node order-service.mjs poison.jsonl)

step "6. Each order's state as it moves (status.sh ORDER_ID: the REST API, by order id)"
orders=(ORDER-1 ORDER-2 ORDER-3)
declare -A last=()
end=$((SECONDS + 45))
while :; do
  done_all=1
  for o in "${orders[@]}"; do
    s=$("$here/status.sh" "$o" "$base" 2>/dev/null || echo "$o: unknown")
    if [ "$s" != "${last[$o]:-}" ]; then
      say "   $s"
      echo "$s" >>"$work/states.txt"
      last[$o]=$s
    fi
    case $s in *": completed"* | *": cancelled"*) ;; *) done_all=0 ;; esac
  done
  [ $done_all = 1 ] && break
  [ $SECONDS -lt $end ] || die "gave up waiting for the orders to finish (logs in $work)"
  sleep 0.2
done

step "7. Where they ended (bpmnctl instances --definition order-saga): one saga per order"
"$ctl" instances --definition order-saga | sed 's/^/   /'

step "8. The dead-letter queue orders.dlq: each broken event with bpmnd's reason (x-bpmnd-reason)"
DLQ_WAIT=2 DLQ_RECORD="$work/dead-letters.jsonl" node "$here/dead-letters.mjs" orders.dlq

step "9. The saga's own events, published by its end events through bpmnd's outbox (queue order-events)"
EVENTS_WAIT=3 EVENTS_RECORD="$work/order-events.jsonl" node "$here/order-events.mjs"

step "10. The consumer's counts (GET /metrics)"
curl -sf "http://127.0.0.1:$port/metrics" | grep '^bpmnd_amqp_.*consumer="orders"' | tee "$work/metrics.txt" | sed 's/^/   /'
say ""
say "Ask again any time: examples/order-saga/status.sh ORDER-2 $base"
