#!/usr/bin/env bash
# RabbitMQ consumers into the engine (issue 8's figure "RabbitMQ messages per
# second consumed into correlations"): N messages published to a queue, then
# timed from the consumer's start until all are handled, each mapped by Lua
# and delivered in its own transaction with its de-duplication key before
# the ack: first N starts (order.placed, a message start event), which park
# N instances at a receive task, then N correlations (order.paid) to them.
# One consumer (bpmnctl consume, prefetch 64). Runs its own PostgreSQL and
# RabbitMQ (tools/with-postgres, tools/with-rabbitmq). Prints figures; asserts nothing.
# Usage: tests/bench/bench_consume.sh [BUILD_DIR (default build-rel)] [N (5000)]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build-rel}" && pwd) n=${2:-5000}
if [ -z "${BPMND_TEST_DATABASE_URL:-}" ]; then exec "$root/tools/with-postgres" "$0" "$build" "$n"; fi
if [ -z "${BPMND_TEST_AMQP_URL:-}" ]; then exec "$root/tools/with-rabbitmq" "$0" "$build" "$n"; fi
export BPMND_DATABASE_URL=$BPMND_TEST_DATABASE_URL
c="$build/adapters/cli/bpmnctl" T="$build/tests/bridge_tool" U=$BPMND_TEST_AMQP_URL
sql() { psql -X -qAt -v ON_ERROR_STOP=1 "$BPMND_DATABASE_URL" -c "$1"; }
now() { date +%s.%N; }
"$c" db migrate >/dev/null
"$c" deploy "$root/tests/e2e/data/webhooks/webhooks.bpmn" >/dev/null
q=bench-consume conf=$(mktemp)
printf 'amqp.consume.orders.queue = %s\namqp.consume.orders.mapping = %s\namqp.consume.orders.prefetch = 64\n' \
  "$q" "$root/tests/e2e/data/consume/orders.lua" >"$conf"
"$T" "$U" declare "$q"
echo "messages: $n; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
run() { # TYPE BODY ID WHAT CHECK_SQL
  "$T" "$U" send "$q" "$2" --id "$3" --type "$1" --count "$n" 2>/dev/null
  sql "checkpoint" >/dev/null
  local t0 t1 out
  t0=$(now)
  out=$("$c" consume orders --config "$conf" --url "$U" --count "$n" 2>/dev/null)
  t1=$(now)
  printf '%s: %s messages consumed in %.2f s: %.0f messages/s (%s; %s)\n' "$4" "$n" "$(echo "$t1 - $t0" | bc -l)" \
    "$(echo "$n / ($t1 - $t0)" | bc -l)" "$out" "$(sql "$5")"
}
run order.placed '{"orderId": "o-{n}", "total": 12.5}' 'p-{n}' "starts (message start event, parked at a receive task)" \
  "select count(*) || ' instances' from process_instance"
run order.paid '{"orderId": "o-{n}", "amount": 12.5}' 'pay-{n}' "correlations (to the parked receive tasks)" \
  "select count(*) || ' user tasks open' from user_task"
rm -f "$conf"
