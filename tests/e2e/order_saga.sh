#!/usr/bin/env bash
# The order saga end to end (examples/order-saga/run.sh) on the test
# database and the harness's RabbitMQ (a vhost of its own): three orders
# published by order-service.mjs (amqplib) to the queue orders, consumed by
# bpmnd (bpmnd.conf, mapping.lua); three workers on
# camunda-external-task-client-js. Then what it left behind: ORDER-1
# completed (reserved, charged once, shipped); ORDER-2 cancelled (declined,
# the reservation released by the compensation handler, nothing shipped);
# ORDER-3 retried (two failures with retries left, each in the history,
# then charged and completed, no incident). ORDER-1's event published twice
# with one message id started one saga; the two poison events are in
# orders.dlq with x-bpmnd-reason (malformed, mapping_refused), nothing
# started for them. The end events published OrderCompleted/OrderCancelled
# through the outbox, one per order, read from the queue order-events. status.sh answers for every order, also after the end;
# the states run.sh watched were in order.
set -u
. "$(dirname "$0")/lib.sh"
[ -n "${BPMND_TEST_AMQP_URL:-}" ] && [ -n "${BPMND_TEST_RABBITMQCTL:-}" ] || { echo "needs BPMND_TEST_AMQP_URL: run under tools/with-rabbitmq"; exit 77; }
example="$src/examples/order-saga"
if [ ! -d "$example/node_modules/camunda-external-task-client-js" ] || [ ! -d "$example/node_modules/amqplib" ]; then
  (cd "$example" && npm ci --no-audit --no-fund >/dev/null 2>&1) || { echo "npm ci failed in $example"; exit 1; }
fi
fresh_schema
work=$(mktemp -d /tmp/bpmnd-order-saga.XXXXXX)
# a vhost of our own on the harness's broker: the queues orders and
# orders.dlq are this test's, whatever else runs beside it
vhost="order-saga-$$"
"$BPMND_TEST_RABBITMQCTL" add_vhost "$vhost" >/dev/null
"$BPMND_TEST_RABBITMQCTL" set_permissions -p "$vhost" guest ".*" ".*" ".*" >/dev/null
amqp_url="${BPMND_TEST_AMQP_URL%/}/$vhost"
trap 'rm -rf "$work"; "$BPMND_TEST_RABBITMQCTL" delete_vhost "$vhost" >/dev/null 2>&1' EXIT

t0=$(date +%s)
BPMND_AMQP_URL="$amqp_url" BPMND="$build/adapters/server/bpmnd" BPMNCTL="$c" ORDER_SAGA_WORK="$work" ORDER_SAGA_PORT=$((20000 + RANDOM % 12000)) \
  WORK_DELAY_MS=200 bash "$example/run.sh" >"$work/out" 2>&1
rc=$?
took=$(( $(date +%s) - t0 ))
check "run.sh succeeds (in ${took}s)" '[ $rc = 0 ] || { cat "$work/out"; false; }'
check "it takes well under a minute" '[ $took -lt 40 ]'
q() { sql "$1"; }
inst() { q "select id from process_instance where definition_key = 'order-saga' and business_key = '$1'"; }
var() { q "select value::text from variable where instance_id = '$(inst "$1")' and name = '$2' order by scope_id limit 1"; }
passed() { q "select count(*) from history where instance_id = '$(inst "$1")' and kind = 'leave' and element_id = '$2'"; }
acts() { # the worker actions recorded for ORDER ($1), in order, space separated
  python3 -c "import json,sys; print(' '.join(r['worker'] + ':' + r['action'] for r in map(json.loads, open(sys.argv[1])) if r['orderId'] == sys.argv[2]))" "$work/record.jsonl" "$1"
}

check "three orders, one instance each, business key = order id" '[ "$(q "select string_agg(business_key, '"' '"' order by business_key) from process_instance where definition_key = '"'"'order-saga'"'"'")" = "ORDER-1 ORDER-2 ORDER-3" ]'
check "all three ended; nothing left open (task, job, incident)" '[ "$(q "select count(*) from process_instance where definition_key = '"'"'order-saga'"'"' and state <> '"'"'completed'"'"'")" = 0 ] && [ "$(q "select (select count(*) from job) + (select count(*) from incident) + (select count(*) from user_task)")" = 0 ]'

# ORDER-1: the happy path
check "ORDER-1: reserved, charged once, shipped, in that order" '[ "$(acts ORDER-1)" = "inventory:reserve payment:charge shipping:ship" ]'
check "ORDER-1: ended at Order completed with the workers' results" '[ "$(passed ORDER-1 EndEvent_OrderCompleted)" = 1 ] && [ "$(var ORDER-1 trackingNumber)" = "\"TRK-ORDER-1\"" ] && [ "$(var ORDER-1 paymentId)" = "\"PAY-ORDER-1\"" ]'

# ORDER-2: declined, compensated
check "ORDER-2: reserved, declined, then the reservation released; never shipped" '[ "$(acts ORDER-2)" = "inventory:reserve payment:declined inventory:release" ]'
check "ORDER-2: the error boundary caught PAYMENT_DECLINED and the compensation handler ran once" '[ "$(passed ORDER-2 BoundaryEvent_PaymentDeclined)" = 1 ] && [ "$(passed ORDER-2 Task_ReleaseInventory)" = 1 ] && [ "$(passed ORDER-2 Task_ArrangeShipping)" = 0 ]'
check "ORDER-2: ended at Order cancelled, with the reason and the released reservation" '[ "$(passed ORDER-2 EndEvent_OrderCancelled)" = 1 ] && [ "$(passed ORDER-2 EndEvent_OrderCompleted)" = 0 ] && [ "$(var ORDER-2 cancelReason)" = "\"card declined by the issuer\"" ] && [ "$(var ORDER-2 releasedReservation)" = "\"RES-ORDER-2\"" ]'

# ORDER-3: transient failures retried
check "ORDER-3: two failures with retries left, then charged on the third attempt, then shipped" '[ "$(acts ORDER-3)" = "inventory:reserve payment:failure payment:failure payment:charge shipping:ship" ]'
check "ORDER-3: the failures are in the history with their retries (2, 1), no incident" '[ "$(q "select string_agg(detail->>'"'"'retries'"'"', '"' '"' order by seq) from history where instance_id = '"'"'$(inst ORDER-3)'"'"' and kind = '"'"'job-failed'"'"'")" = "2 1" ] && [ "$(q "select count(*) from history where instance_id = '"'"'$(inst ORDER-3)'"'"' and kind = '"'"'incident'"'"'")" = 0 ]'
check "ORDER-3: the retries waited for the retry timeout (attempts at least 1 s apart)" 'python3 -c "
import json,sys,datetime
t=[datetime.datetime.fromisoformat(r[\"at\"].replace(\"Z\",\"+00:00\")) for r in map(json.loads, open(sys.argv[1])) if r[\"orderId\"] == \"ORDER-3\" and r[\"worker\"] == \"payment\"]
assert len(t) == 3 and all((b - a).total_seconds() >= 0.9 for a, b in zip(t, t[1:])), t
" "$work/record.jsonl"'
check "ORDER-3: completed" '[ "$(passed ORDER-3 EndEvent_OrderCompleted)" = 1 ] && [ "$(var ORDER-3 paymentId)" = "\"PAY-ORDER-3\"" ]'

# the state, by order id, as run.sh watched it and after the end
watched() { # the states run.sh saw for ORDER ($1) follow the saga's order and end as $2 says
  python3 - "$work/states.txt" "$1" "$2" <<'PY'
import re, sys
rank = [("reserving inventory", 0), ("charging payment", 1), ("cancelling", 2), ("arranging shipping", 2),
        ("cancelled", 3), ("completed", 3)]
seen = [l.split(": ", 1)[1].strip() for l in open(sys.argv[1]) if l.startswith(sys.argv[2] + ": ")]
ranks = [next(r for k, r in rank if s.startswith(k)) for s in seen]
assert ranks == sorted(ranks), seen
assert re.fullmatch(sys.argv[3], seen[-1]), seen
PY
}
check "the watched states of ORDER-1 follow the saga and end completed" 'watched ORDER-1 "completed \(tracking TRK-ORDER-1\)"'
check "the watched states of ORDER-2 follow the saga and end cancelled" 'watched ORDER-2 "cancelled \(payment declined: card declined by the issuer; reservation RES-ORDER-2 released\)"'
check "the watched states of ORDER-3 follow the saga and end completed" 'watched ORDER-3 "completed \(tracking TRK-ORDER-3\)"'
check "the failed attempts of ORDER-3 were visible through status.sh (retries left)" 'grep -Eq "^ORDER-3: charging payment \(attempt failed: payment gateway timeout; [12] retr(y|ies) left\)$" "$work/states.txt"'
stays_known() { # after the first state other than unknown, no unknown
  local o
  for o in ORDER-1 ORDER-2 ORDER-3; do
    grep "^$o: " "$work/states.txt" | sed -n '/: unknown/!,$p' | grep -q ": unknown" && return 1
  done
  return 0
}
check "once known, no order was unknown again (before, its OrderPlaced was still in the queue)" stays_known

# RabbitMQ: published, de-duplicated, dead-lettered
ids() { jq -r "select(.body.orderId == \"$1\") | .id" "$work/published.jsonl" | sort -u | paste -sd' '; }
check "the Order Service published each order once with a message id of its own" '[ "$(jq -r .body.orderId "$work/published.jsonl" | grep -c ORDER-)" = 3 ] && [ "$(jq -r .id "$work/published.jsonl" | sort -u | wc -l)" = 5 ]'
check "ORDER-1's event, published twice with one message id, started one saga" '[ "$(q "select count(*) from process_instance where business_key = '"'"'ORDER-1'"'"'")" = 1 ] && [ "$(q "select count(*) from inbound_event where source = '"'"'amqp/orders'"'"' and event_id = '"'"'$(ids ORDER-1)'"'"'")" = 1 ] && grep -q "the same event again" "$work/out"'
check "the consumer counted 3 consumed, 1 duplicate, 2 dead-lettered (/metrics)" 'grep -q "^bpmnd_amqp_consumed_total{consumer=\"orders\",queue=\"orders\"} 3$" "$work/metrics.txt" && grep -q "^bpmnd_amqp_duplicates_total{consumer=\"orders\",queue=\"orders\"} 1$" "$work/metrics.txt" && grep -q "^bpmnd_amqp_dead_lettered_total{consumer=\"orders\",queue=\"orders\"} 2$" "$work/metrics.txt"'
check "run.sh showed two dead letters, each with its reason" '[ "$(wc -l <"$work/dead-letters.jsonl")" = 2 ] && grep -q "malformed: the body is not valid JSON" "$work/out" && grep -q "an OrderPlaced without an orderId" "$work/out"'
dl=$("$build/tests/bridge_tool" "$amqp_url" consume orders.dlq --idle 800 2>/dev/null)
check "orders.dlq still holds both, x-bpmnd-reason malformed and mapping_refused, from the queue orders" '[ "$(jq -r "[.headers[\"x-bpmnd-reason\"] | split(\":\")[0]] | .[0]" <<<"$dl" | sort | paste -sd" ")" = "malformed mapping_refused" ] && [ "$(jq -r ".headers[\"x-bpmnd-source\"]" <<<"$dl" | sort -u)" = orders ]'
check "the broken body is kept as it was sent" 'jq -r .body <<<"$dl" | grep -qF "{\"orderId\": \"ORDER-4\", \"customerId\": \"c-9\", \"items\": [{\"sku\": \"BOOK-42\""'
outcome() { jq -r "select(.body.orderId == \"$1\") | [.type, .body.status, (.body.trackingNumber // .body.releasedReservation), .headers[\"bpmnd-instance-id\"]] | join(\" \")" "$work/order-events.jsonl"; }
check "the saga's end events published one outcome per order through the outbox (queue order-events), from their instances" '[ "$(wc -l <"$work/order-events.jsonl")" = 3 ] && [ "$(outcome ORDER-1)" = "OrderCompleted completed TRK-ORDER-1 $(inst ORDER-1)" ] && [ "$(outcome ORDER-2)" = "OrderCancelled cancelled RES-ORDER-2 $(inst ORDER-2)" ] && [ "$(outcome ORDER-3)" = "OrderCompleted completed TRK-ORDER-3 $(inst ORDER-3)" ] && [ "$(jq -r .messageId "$work/order-events.jsonl" | sort -u | wc -l)" = 3 ]'
check "the outbox rows are marked sent" '[ "$(q "select count(*) from outbox where sent_at is not null")" = 3 ] && [ "$(q "select count(*) from outbox")" = 3 ]'
check "nothing started for the poison events" '[ "$(q "select count(*) from process_instance where definition_key = '"'"'order-saga'"'"'")" = 3 ]'

# status.sh after the end, through a bpmnd of our own
start_bpmnd --auth off
check "status.sh ORDER-1 after the end" '[ "$(bash "$example/status.sh" ORDER-1 "$base")" = "ORDER-1: completed (tracking TRK-ORDER-1)" ]'
check "status.sh ORDER-2 after the end" '[ "$(bash "$example/status.sh" ORDER-2 "$base")" = "ORDER-2: cancelled (payment declined: card declined by the issuer; reservation RES-ORDER-2 released)" ]'
check "status.sh of an unknown order" '[ "$(bash "$example/status.sh" ORDER-9 "$base")" = "ORDER-9: unknown" ]'
check "run.sh stopped what it started (bpmnd, three workers)" '[ "$(wc -l <"$work/pids")" = 4 ] && ! ps -o pid= -p "$(paste -sd, "$work/pids")" >/dev/null'

echo "order_saga: $pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "--- run.sh"; cat "$work/out"; echo "--- bpmnd"; cat "$work/bpmnd.log"; }
[ $fail -eq 0 ]
