#!/usr/bin/env bash
# Fraud review end to end (examples/fraud-review/run.sh) on the test
# database and the harness's RabbitMQ (a vhost of its own): the recorded
# transactions published by card-switch.mjs (amqplib) to the queue
# card.transactions and consumed by bpmnd (bpmnd.conf, mapping.lua); bpmnd
# hung (SIGSTOP) with 4 messages delivered and unacknowledged, killed, the
# rest published while it was down, restarted; an analyst's decisions
# through the REST task API, the clock moved past the escalation timer.
# Then what it left behind: exactly one fraud case per rule hit (card-3333:
# two countries, card-2222: velocity) and none for the innocent cards; the
# velocity hit needed transactions from before and after the kill (the
# window survived in PostgreSQL, in the same monitor instance); every
# transaction counted exactly once, the ones in flight at the kill
# redelivered, the one published twice with one message id dropped by the
# consumer; the escalation task appeared after the 4 hours and was
# withdrawn by the decision; the card service saw freeze then close,
# freeze then unfreeze.
set -u
. "$(dirname "$0")/lib.sh"
[ -n "${BPMND_TEST_AMQP_URL:-}" ] && [ -n "${BPMND_TEST_RABBITMQCTL:-}" ] || { echo "needs BPMND_TEST_AMQP_URL: run under tools/with-rabbitmq"; exit 77; }
example="$src/examples/fraud-review"
if [ ! -d "$example/node_modules/amqplib" ]; then
  (cd "$example" && npm ci --no-audit --no-fund >/dev/null 2>&1) || { echo "npm ci failed in $example"; exit 1; }
fi
fresh_schema
work=$(mktemp -d /tmp/bpmnd-fraud.XXXXXX)
vhost="fraud-review-$$"
"$BPMND_TEST_RABBITMQCTL" add_vhost "$vhost" >/dev/null
"$BPMND_TEST_RABBITMQCTL" set_permissions -p "$vhost" guest ".*" ".*" ".*" >/dev/null
amqp_url="${BPMND_TEST_AMQP_URL%/}/$vhost"
trap 'rm -rf "$work"; "$BPMND_TEST_RABBITMQCTL" delete_vhost "$vhost" >/dev/null 2>&1' EXIT

t0=$(date +%s)
BPMND_AMQP_URL="$amqp_url" BPMND="$build/adapters/server/bpmnd" BPMNCTL="$c" FRAUD_WORK="$work" FRAUD_PORT=$((20000 + RANDOM % 12000)) \
  bash "$example/run.sh" >"$work/out" 2>&1
rc=$?
took=$(( $(date +%s) - t0 ))
check "run.sh succeeds (in ${took}s)" '[ $rc = 0 ] || { cat "$work/out"; false; }'
check "it takes well under a minute" '[ $took -lt 40 ]'
q() { sql "$1"; }
monitor() { q "select id from process_instance where definition_key = 'card-monitor' and business_key = '$1'"; }
mvar() { q "select value::text from variable where instance_id = '$(monitor "$1")' and name = '$2' order by scope_id limit 1"; }
json() { python3 -c "import json,sys; v=json.loads(sys.argv[1]); assert $2, v" "$1"; }
cards() { python3 -c "import json,sys; print(' '.join(r['action'] for r in map(json.loads, open(sys.argv[1])) if r['card'] == sys.argv[2]))" "$work/cards.jsonl" "$1"; }

# ---- cases: one per hit, none for innocent traffic ----------------------------------
check "two fraud cases, for card-2222 and card-3333, business key = card" '[ "$(q "select string_agg(business_key, '"' '"' order by business_key) from process_instance where definition_key = '"'"'fraud-case'"'"'")" = "card-2222 card-3333" ]'
check "one monitor per card (five cards, five monitors)" '[ "$(q "select count(*) || '"' '"' || count(distinct business_key) from process_instance where definition_key = '"'"'card-monitor'"'"'")" = "5 5" ]'
for card in card-2222 card-3333; do
  check "$card: one hit, one case" '[ "$(mvar $card hits)" = 1 ] && [ "$(mvar $card cases)" = 1 ]'
done
for card in card-1111 card-4444 card-5555; do
  check "$card: innocent: no hit, no case, no call to the card service" '[ -z "$(mvar $card hits)" ] && [ -z "$(mvar $card cases)" ] && [ -z "$(cards $card)" ] && [ "$(mvar $card caseOpen)" != true ]'
done
check "card-4444 saw all its transactions (four, three of them large within ten minutes)" '[ "$(mvar card-4444 transactionCount)" = 4 ]'
# every transaction once: the window ids of each card = its transactions in events.jsonl, each once
wids() { mvar "$1" window | python3 -c "import json,sys; v=json.loads(sys.stdin.read()); v=json.loads(v) if isinstance(v,str) else v; print(\" \".join(sorted(e[\"id\"] for e in v)))"; }
expect_ids() { jq -r "select(.body.cardId == \"$1\") | .id" "$example/events.jsonl" | sort -u | paste -sd" "; }
check "card-4444's window: its transactions from before and after the kill, each once" '[ "$(wids card-4444)" = "$(expect_ids card-4444)" ] && [ "$(wids card-4444)" = "tx-0002 tx-0006 tx-0011 tx-0014" ]'
counts_match() { local card; for card in card-1111 card-3333 card-4444 card-5555; do [ "$(mvar $card transactionCount)" = "$(expect_ids $card | wc -w)" ] || return 1; done; }
check "every card's transaction count is its number of transactions (nothing lost, nothing twice)" counts_match

# ---- the restart ------------------------------------------------------------------
check "bpmnd was killed and started again in the middle of the stream" '[ "$(grep -c "\"event\":\"started\"" "$work/bpmnd.log")" = 2 ] && grep -q "bpmnd killed (SIGKILL)" "$work/out"'
check "the 4 messages sent to the hung bpmnd were in flight (none ready in the queue) and came back after the kill (7 ready)" 'grep -q "unacknowledged (in flight); ready in the queue: 0$" "$work/out" && grep -q "waiting in the queue while bpmnd is down: 7 " "$work/out"'
check "before the kill the consumer took 9; after the restart 7: 6 consumed (the 4 redelivered among them) and tx-0005 again (one message id) dropped as a duplicate" '[ "$(sed -n "s/^before the kill: //p" "$work/metrics.txt" | grep -o "bpmnd_amqp_consumed_total [0-9]*\|bpmnd_amqp_duplicates_total [0-9]*\|bpmnd_amqp_failed_total [0-9]*" | paste -sd" ")" = "bpmnd_amqp_consumed_total 9 bpmnd_amqp_duplicates_total 0 bpmnd_amqp_failed_total 0" ] && [ "$(sed -n "s/^after the restart: //p" "$work/metrics.txt" | grep -o "bpmnd_amqp_consumed_total [0-9]*\|bpmnd_amqp_duplicates_total [0-9]*\|bpmnd_amqp_failed_total [0-9]*" | paste -sd" ")" = "bpmnd_amqp_consumed_total 6 bpmnd_amqp_duplicates_total 1 bpmnd_amqp_failed_total 0" ]'
check "one de-duplication key per message id: 15 (16 published, one twice)" '[ "$(q "select count(*) from inbound_event where source = '"'"'amqp/card.transactions'"'"'")" = 15 ]'
check "card-2222's hit used transactions sent before the restart (tx-0004, tx-0005) and after (tx-0010, tx-0012)" 'json "$(mvar card-2222 caseEvidence)" "v[\"transactions\"] == [\"tx-0004\", \"tx-0005\", \"tx-0010\", \"tx-0012\"] and v[\"rule\"] == \"4 transactions above 500 within PT10M\""'
check "card-2222 kept one monitor across the restart, which ended with the card closed" '[ "$(q "select count(*) || '"' '"' || min(state) from process_instance where definition_key = '"'"'card-monitor'"'"' and business_key = '"'"'card-2222'"'"'")" = "1 completed" ] && [ "$(q "select count(*) from history where instance_id = '"'"'$(monitor card-2222)'"'"' and kind = '"'"'leave'"'"' and element_id = '"'"'EndEvent_CardClosed'"'"'")" = 1 ]'
check "card-2222 counted tx-0005 once: the repeat never reached the monitor" '[ -z "$(mvar card-2222 duplicatesDropped)" ] && [ "$(mvar card-2222 transactionCount)" = 4 ]'
check "card-3333's hit: two countries within an hour" 'json "$(mvar card-3333 caseEvidence)" "v[\"transactions\"] == [\"tx-0007\", \"tx-0009\"] and v[\"rule\"] == \"transactions from DE and US within PT1H\""'

# ---- the card service ----------------------------------------------------------------
check "card-2222: frozen, then closed (fraud)" '[ "$(cards card-2222)" = "freeze close" ]'
check "card-3333: frozen, then unfrozen (legitimate)" '[ "$(cards card-3333)" = "freeze unfreeze" ]'
check "every call answered 200, once, with an Idempotency-Key" 'python3 -c "
import json,sys,uuid
rows=[json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 4 and all(r[\"status\"] == 200 and not r[\"repeat\"] for r in rows), rows
assert len({uuid.UUID(r[\"key\"]) for r in rows}) == 4
" "$work/cards.jsonl"'

# ---- the decisions and the escalation ---------------------------------------------
case_of() { q "select id from process_instance where definition_key = 'fraud-case' and business_key = '$1'"; }
hist() { q "select count(*) from history where instance_id = '$(case_of "$1")' and kind = '$2' and element_id = '$3'"; }
check "both cases completed; no task, job or incident left" '[ "$(q "select count(*) from process_instance where definition_key = '"'"'fraud-case'"'"' and state = '"'"'completed'"'"'")" = 2 ] && [ "$(q "select (select count(*) from user_task) + (select count(*) from incident)")" = 0 ] && [ "$(q "select count(*) from job j join process_instance i on i.id = j.instance_id where i.definition_key = '"'"'fraud-case'"'"'")" = 0 ]'
check "decisions reached the monitors: card-2222 fraud, card-3333 legitimate (monitoring resumed)" '[ "$(mvar card-2222 decision)" = "\"fraud\"" ] && [ "$(mvar card-3333 decision)" = "\"legitimate\"" ] && [ "$(mvar card-3333 caseOpen)" = false ] && [ "$(q "select state from process_instance where id = '"'"'$(monitor card-3333)'"'"'")" = active ]'
check "card-3333's case escalated: the timer fired and the supervisors got their task" '[ "$(hist card-3333 leave BoundaryEvent_ReviewOverdue)" = 1 ] && [ "$(hist card-3333 task-create Task_ChaseReview)" = 1 ]'
check "the escalation came 4 hours (engine time) after the review task was created" '[ "$(q "select extract(epoch from (select at from history where instance_id = '"'"'$(case_of card-3333)'"'"' and kind = '"'"'leave'"'"' and element_id = '"'"'BoundaryEvent_ReviewOverdue'"'"') - (select at from history where instance_id = '"'"'$(case_of card-3333)'"'"' and kind = '"'"'task-create'"'"' and element_id = '"'"'Task_ReviewCase'"'"'))::int / 60")" = 240 ]'
check "the supervisors' task was withdrawn by the decision, not completed" '[ "$(hist card-3333 leave Task_ChaseReview)" = 0 ] && [ "$(hist card-3333 leave EndEvent_Decided)" = 1 ]'
check "card-2222's case, decided in time, never escalated" '[ "$(hist card-2222 task-create Task_ChaseReview)" = 0 ]'
start_bpmnd --auth off
check "dana claimed and completed both reviews (GET /history/task)" '[ "$(curl -s "$base/history/task?taskDefinitionKey=Task_ReviewCase" | jq -r "[.[] | .assignee + \":\" + (.deleteReason // \"\")] | sort | join(\" \")")" = "dana:completed dana:completed" ]'
check "the engine clock is back to the wall clock" '[ "$(q "select offset_ms from clock")" = 0 ]'
check "run.sh stopped what it started (the card service, bpmnd twice)" '[ "$(wc -l <"$work/pids")" = 3 ] && ! ps -o pid= -p "$(paste -sd, "$work/pids")" >/dev/null'

echo "fraud_review: $pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "--- run.sh"; cat "$work/out"; echo "--- bpmnd"; cat "$work/bpmnd.log"; }
[ $fail -eq 0 ]
