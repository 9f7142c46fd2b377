#!/usr/bin/env bash
# The order saga end to end: bpmnd, the three workers, three orders.
#
#   examples/order-saga/run.sh
#
# Starts bpmnd (authentication off: loopback only), deploys order-saga.bpmn
# as Camunda Modeler does, starts the inventory, payment and shipping
# workers (one Node process each, camunda-external-task-client-js), and has
# the Order Service place three orders through send-event.sh (today's
# transport: POST /message OrderPlaced; RabbitMQ later, mapping.lua):
#   ORDER-1  completes: reserved, charged, shipped;
#   ORDER-2  the card is declined: the payment worker throws PAYMENT_DECLINED,
#            the reservation is released by its compensation handler, the
#            order ends cancelled;
#   ORDER-3  the payment gateway times out twice: the worker reports
#            failures with retries left and a retry timeout, bpmnd offers
#            the task again, the third attempt succeeds and the order completes.
# While they run it prints each order's state as it changes (status.sh,
# from the REST API). Everything it started is stopped when it exits.
#
# Environment: BPMND and BPMNCTL (the binaries; default build/demo/...),
# BPMND_DATABASE_URL or BPMND_DATA_DIR (the database, as for bpmnctl),
# ORDER_SAGA_WORK (a directory for logs and records; default a new temporary
# one), ORDER_SAGA_PORT (bpmnd's port; default 8080 when free), WORK_DELAY_MS
# (each worker's pause before acting; default 400). Leaves in ORDER_SAGA_WORK:
# record.jsonl (every worker action), states.txt (every state seen), pids,
# bpmnd.log, *-worker.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bpmnd=${BPMND:-$root/build/demo/adapters/server/bpmnd}
ctl=${BPMNCTL:-$root/build/demo/adapters/cli/bpmnctl}
work=${ORDER_SAGA_WORK:-$(mktemp -d /tmp/order-saga.XXXXXX)}
mkdir -p "$work"
rm -f "$work/record.jsonl" "$work/states.txt" "$work/pids"
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

[ -d "$here/node_modules/camunda-external-task-client-js" ] || (cd "$here" && npm ci --no-audit --no-fund >/dev/null) ||
  die "npm ci failed in $here"
"$ctl" db migrate >/dev/null

port=${ORDER_SAGA_PORT:-8080}
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
"$bpmnd" --listen "127.0.0.1:$port" --auth off --worker-threads 2 2>"$work/bpmnd.log" &
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
say "bpmnd serves Camunda 7's REST API on $base"

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

step "3. The Order Service places three orders (send-event.sh: POST /message OrderPlaced, business key = order id)"
"$here/send-event.sh" "$base" "$here/orders.jsonl"

step "4. Each order's state as it moves (status.sh ORDER_ID: the REST API, by order id)"
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

step "5. Where they ended (bpmnctl instances --definition order-saga)"
"$ctl" instances --definition order-saga | sed 's/^/   /'
say ""
say "Ask again any time: examples/order-saga/status.sh ORDER-2 $base"
