#!/usr/bin/env bash
# RabbitMQ consumers (docs/events.md "RabbitMQ consumers") against the real
# PostgreSQL and RabbitMQ: messages start instances and correlate to waiting
# ones with variables, mapped by Lua; the same message id twice has one
# effect; a consumer killed after the commit and before the ack gets the
# message again and drops it as a duplicate; malformed, refused and
# unmatched messages reach the dead-letter queue (at once, or after
# max_failures) with the reason, the database unchanged; a lost database
# connection requeues without counting a failure; bpmnd runs the consumers
# and counts them in /metrics; configuration errors name file:line.
set -u
. "$(dirname "$0")/lib.sh"
[ -n "${BPMND_TEST_AMQP_URL:-}" ] || { echo "needs BPMND_TEST_AMQP_URL: run under tools/with-rabbitmq"; exit 77; }
T="$build/tests/bridge_tool"
U="$BPMND_TEST_AMQP_URL"
d="$build/adapters/server/bpmnd"
q="orders-$$"
map="$data/consume/orders.lua"
fresh_schema
$c deploy "$data/webhooks/webhooks.bpmn" >/dev/null
n_of() { sql "select count(*) from process_instance where definition_key = '$1'"; }
var_of() { sql "select value::text from variable where instance_id = '$1' and name = '$2'"; }
state() { sql "select (select count(*) from process_instance) || '/' || (select count(*) from inbound_event) || '/' || (select count(*) from variable) || '/' || (select count(*) from user_task)"; }
send() { $T "$U" send "$q" "$@" 2>/dev/null; }
consume() { $c consume orders --config "$conf" "$@" 2>>/tmp/consume-err.$$; }
conf=$(mktemp)

# 1. configuration errors name the file and line
printf 'amqp.url = %s\namqp.consume.orders.mapping = %s\n' "$U" "$map" > "$conf"
out=$("$d" --config "$conf" --listen 127.0.0.1:1 2>&1); rc=$?
check "a consumer without a queue is named with its file:line" '[ $rc = 2 ] && grep -q "$conf:2: consumer \"orders\" needs a queue (amqp.consume.orders.queue)" <<<"$out"'
printf 'amqp.url = %s\namqp.consume.orders.queue = q\namqp.consume.orders.mapping = %s\namqp.consume.orders.max_failures = lots\n' "$U" "$map" > "$conf"
out=$("$d" --config "$conf" --listen 127.0.0.1:1 2>&1); rc=$?
check "a bad max_failures names file:line" '[ $rc = 2 ] && grep -q "$conf:4: amqp.consume.orders.max_failures must be a number from 1 to 1000" <<<"$out"'
printf 'amqp.consume.orders.queue = q\namqp.consume.orders.process = ci-build\n' > "$conf"
out=$(env -u BPMND_AMQP_URL "$d" --config "$conf" --listen 127.0.0.1:1 2>&1); rc=$?
check "a consumer without amqp.url is refused" '[ $rc = 2 ] && grep -q "$conf:1: consumer \"orders\" needs a broker: set amqp.url" <<<"$out"'
bad=$(mktemp --suffix=.lua)
printf 'local x = 1\nreturn {start = }\n' > "$bad"
printf 'amqp.url = %s\namqp.consume.orders.queue = q\namqp.consume.orders.mapping = %s\n' "$U" "$bad" > "$conf"
out=$("$d" --config "$conf" --listen 127.0.0.1:1 2>&1); rc=$?
check "a mapping that does not compile names file:line, the mapping and its Lua line" '[ $rc = 2 ] && grep -q "$conf:3: " <<<"$out" && grep -q "$bad" <<<"$out" && grep -q "line 2" <<<"$out"'
out=$($c consume orders --config "$conf" 2>&1); rc=$?
check "bpmnctl consume says the same" '[ $rc = 2 ] && grep -q "$conf:3: " <<<"$out" && grep -q "line 2" <<<"$out"'
printf 'amqp.consume.orders.colour = red\n' > "$conf"
out=$("$d" --config "$conf" 2>&1); rc=$?
check "an unknown field is named" '[ $rc = 2 ] && grep -q "$conf:1: unknown field \"colour\" of amqp.consume \"orders\"" <<<"$out"'
check "the broker URL (with its password) is never printed" '! grep -q "guest:guest" <<<"$out"'

cat > "$conf" <<CONF
amqp.url = $U
# orders: mapped by Lua
amqp.consume.orders.queue = $q
amqp.consume.orders.mapping = $map
amqp.consume.orders.max_failures = 3
CONF

# 2. starts and correlations with variables; the queue is declared by the consumer
send '{"orderId": "o-1", "total": 42.5}' --id p-1 --type order.placed --header x-tenant=acme
check "the queue did not exist: the publisher's message went nowhere" '[ "$(n_of shipment)" = 0 ]'
out=$(consume --idle 800)
send '{"orderId": "o-1", "total": 42.5}' --id p-1 --type order.placed --header x-tenant=acme
send '{"orderId": "o-1", "amount": 42.5}' --id pay-1 --type order.paid
send '{"ref": "refs/heads/main"}' --type build
send '{}' --id hb-1 --type heartbeat
out=$(consume --idle 1500)
o1=$(sql "select id from process_instance where definition_key = 'shipment' and business_key = 'o-1'")
check "order.placed started a shipment (message start) with the mapped variables" '[ -n "$o1" ] && [ "$(var_of "$o1" total)" = 42.5 ] && [ "$(var_of "$o1" tenant)" = "\"acme\"" ] && [ "$(var_of "$o1" via)" = "\"$q\"" ] && [ "$(var_of "$o1" messageId)" = "\"p-1\"" ]'
check "order.paid correlated to it by orderId (receive task done, user task open, variable set)" '[ "$(var_of "$o1" paidAmount)" = 42.5 ] && [ "$(sql "select count(*) from user_task where instance_id = '\''$o1'\''")" = 1 ]'
check "a message without a message id started ci-build" '[ "$(n_of ci-build)" = 1 ] && [ "$(sql "select business_key from process_instance where definition_key = '\''ci-build'\''")" = refs/heads/main ]'
check "the counts: 4 consumed (one ignored), nothing failed" '[ "$out" = "consumed=4 duplicates=0 failed=0 dead_lettered=0 requeued=0" ]'
check "de-duplication keys are (amqp/QUEUE, message id)" '[ "$(sql "select count(*) from inbound_event where source = '\''amqp/$q'\'' and event_id in ('\''p-1'\'', '\''pay-1'\'')")" = 2 ]'

# 3. the same message id again: one effect
before=$(state)
send '{"orderId": "o-1", "total": 99}' --id p-1 --type order.placed
out=$(consume --idle 800)
check "the same message id twice: acknowledged as a duplicate, nothing changed" '[ "$out" = "consumed=0 duplicates=1 failed=0 dead_lettered=0 requeued=0" ] && [ "$(state)" = "$before" ] && [ "$(n_of shipment)" = 1 ]'

# 4. killed after the commit and before the ack: redelivered, processed once
send '{"orderId": "o-2", "total": 7}' --id p-2 --type order.placed
(BPMND_CONSUME_TEST_KILL_AFTER_COMMIT=1 exec $c consume orders --config "$conf" --idle 3000 >/dev/null 2>&1)
st=$?
check "the consumer died by SIGKILL after its commit" '[ $st = 137 ] && [ "$(n_of shipment)" = 2 ]'
out=$(consume --idle 800)
check "the message came again and was dropped as a duplicate: one shipment for o-2" '[ "$out" = "consumed=0 duplicates=1 failed=0 dead_lettered=0 requeued=0" ] && [ "$(sql "select count(*) from process_instance where business_key = '\''o-2'\''")" = 1 ]'
check "the queue is empty now" '[ -z "$($T "$U" consume "$q" --idle 500 2>/dev/null)" ]'

# 5. poison messages: dead-lettered with the reason, the database unchanged
before=$(state)
send '{"orderId": "o-3", ' --id bad-1 --type order.placed
send '{"orderId": "o-3"}' --id ref-1 --type order.refused
send '{"orderId": "o-3"}' --id what-1 --type order.unknown
send '{"orderId": "o-404", "amount": 1}' --id pay-404 --type order.paid
out=$(consume --idle 1500)
check "four failed, all dead-lettered; the unmatched one after 3 attempts" '[ "$out" = "consumed=0 duplicates=0 failed=6 dead_lettered=4 requeued=0" ]'
check "the database is unchanged" '[ "$(state)" = "$before" ]'
dl=$($T "$U" consume "$q.dlq" --idle 800 2>/dev/null)
reason() { jq -r "select(.id == \"$1\") | .headers[\"x-bpmnd-reason\"] + \" | \" + (.headers[\"x-bpmnd-failures\"] | tostring)" <<<"$dl"; }
check "malformed JSON: at once, the reason says why" '[[ "$(reason bad-1)" == "malformed: the body is not valid JSON: "*" | 1" ]]'
check "a mapping refusing it (bpmn.error): at once" '[[ "$(reason ref-1)" == "mapping_refused: "*"refused orders are not taken | 1" ]]'
check "a type the mapping does not route: at once" '[[ "$(reason what-1)" == "not_routed: "*"order.unknown"*" | 1" ]]'
check "nothing waiting for it: after max_failures (3) attempts" '[[ "$(reason pay-404)" == "no_match: "*" | 3" ]]'
check "the dead letters keep body, message id and the source queue" '[ "$(jq -r "select(.id == \"pay-404\") | .body + \" \" + .headers[\"x-bpmnd-source\"]" <<<"$dl")" = "{\"orderId\": \"o-404\", \"amount\": 1} $q" ]'
check "errors name the consumer, the queue and the message id" 'grep -q "consumer \"orders\" (queue \"$q\"): message pay-404 goes to the dead-letter queue (attempt 3 of 3): no_match" /tmp/consume-err.$$'

# 5b. the count of failures survives the consumer: three processes, one attempt each
send '{"orderId": "o-405", "amount": 1}' --id pay-405 --type order.paid
out1=$(consume --count 1 --idle 3000); out2=$(consume --count 1 --idle 3000); out3=$(consume --count 1 --idle 3000)
check "a new consumer process goes on counting: the third attempt dead-letters" '[ "$out1 | $out3" = "consumed=0 duplicates=0 failed=1 dead_lettered=0 requeued=0 | consumed=0 duplicates=0 failed=1 dead_lettered=1 requeued=0" ]'
dl=$($T "$U" consume "$q.dlq" --idle 800 2>/dev/null)
check "with the count, the reason, and the message's properties (its type)" '[[ "$(reason pay-405)" == "no_match: "*" | 3" ]] && [ "$(jq -r "select(.id == \"pay-405\") | .properties.type" <<<"$dl")" = "order.paid" ]'
check "the queue is empty" '[ -z "$($T "$U" consume "$q" --idle 500 2>/dev/null)" ]'

# 6. the database connection lost under a running consumer: requeued, not a failure
$c consume orders --config "$conf" --idle 4000 >/tmp/consume-out.$$ 2>>/tmp/consume-err.$$ &
cpid=$!
send '{"orderId": "o-5", "total": 5}' --id p-5 --type order.placed
for _ in $(seq 1 50); do [ "$(n_of shipment)" = 3 ] && break; sleep 0.1; done
sql "select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'" >/dev/null
send '{"orderId": "o-6", "total": 6}' --id p-6 --type order.placed
wait $cpid
check "the message was requeued once, then processed after the reconnect; no failure counted" '[ "$(cat /tmp/consume-out.$$)" = "consumed=2 duplicates=0 failed=0 dead_lettered=0 requeued=1" ] && [ "$(n_of shipment)" = 4 ]'

# 7. bpmnd runs the consumers (amqp.url and the sections), with metrics
printf 'worker_threads = 0\namqp.consume.orders.queue = %s\namqp.consume.orders.mapping = %s\n' "$q" "$map" > "$conf"
bpmnd_log=$(mktemp)
BPMND_AMQP_URL="$U" start_bpmnd --config "$conf"
send '{"orderId": "o-7", "total": 7}' --id p-7 --type order.placed
send '{"orderId": "o-7", "total": 7}' --id p-7 --type order.placed
for _ in $(seq 1 50); do [ "$(n_of shipment)" = 5 ] && break; sleep 0.1; done
sleep 0.5
metrics=$(curl -s "${base%/engine-rest}/metrics")
check "bpmnd's consumer started the shipment once" '[ "$(n_of shipment)" = 5 ]'
check "/metrics counts consumed and duplicates" 'grep -q "^bpmnd_amqp_consumed_total{consumer=\"orders\",queue=\"$q\"} 1$" <<<"$metrics" && grep -q "^bpmnd_amqp_duplicates_total{consumer=\"orders\",queue=\"$q\"} 1$" <<<"$metrics" && grep -q "^bpmnd_amqp_consumer_up{consumer=\"orders\",queue=\"$q\"} 1$" <<<"$metrics"'
check "the broker URL is never logged" '! grep -q "guest:guest" "$bpmnd_log" /tmp/consume-err.$$'
rm -f "$conf" "$bad" /tmp/consume-err.$$ /tmp/consume-out.$$
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
