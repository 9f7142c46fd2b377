#!/usr/bin/env bash
# Fraud review end to end: card transactions stream in, windowed rules in
# Lua find two suspicious cards, each gets one fraud case; bpmnd is killed
# and restarted in the middle of the stream, and a hit that needs
# transactions from before and after the restart is still found.
#
#   examples/fraud-review/run.sh
#
# 1. starts the card service stand-in (card-service.py) and bpmnd
#    (authentication off: loopback only; BPMND_SECRET_CARD_SERVICE_URL
#    points the diagram's connectors at the stand-in) with bpmnd.conf, whose
#    consumer takes the RabbitMQ queue card.transactions and maps each event
#    with mapping.lua; deploys fraud-review.bpmn (card-monitor, fraud-case);
# 2. the card switch (card-switch.mjs, amqplib) streams the first part of
#    events.jsonl into the queue: card-3333 is used in Germany and in the
#    USA within 40 minutes: a case, the card is frozen;
# 3. bpmnd hangs (SIGSTOP) while the switch streams the next 4 events:
#    RabbitMQ delivers them to it and they stay unacknowledged (in flight);
#    bpmnd is killed (SIGKILL); the switch streams the rest while bpmnd is
#    down (they wait in the queue); bpmnd starts again: the 4 in flight come
#    again (redelivered) and are taken with the rest, each once; the
#    windows are process variables in PostgreSQL, nothing is lost;
# 4. card-2222's fourth large transaction within ten minutes (two of them
#    from before the kill): a second case; tx-0005 published a second time
#    (the same message id) is dropped by the consumer;
# 5. dana (fraud-analysts) decides card-2222's case through the REST task
#    API: fraud, the card is closed;
# 6. nobody reviewed card-3333's case: the engine clock moves 4 hours
#    (bpmnctl clock --offset): the timer gives the fraud-supervisors a
#    "Chase overdue review" task; then dana clears the card: unfrozen.
# Everything it started is stopped when it exits; the clock is set back.
#
# The broker: BPMND_AMQP_URL (amqp://USER:PASSWORD@HOST:PORT/VHOST); without
# it run.sh runs itself under tools/with-rabbitmq, a private RabbitMQ node
# stopped at the end.
# Environment: BPMND and BPMNCTL (the binaries; default build/demo/...),
# BPMND_DATABASE_URL or BPMND_DATA_DIR (the database, as for bpmnctl),
# FRAUD_WORK (a directory for logs and records; default a new temporary one),
# FRAUD_PORT (bpmnd's port; default 8080 when free), RESTART_AFTER (events
# consumed before bpmnd hangs; default 9), IN_FLIGHT (events published to the
# hung bpmnd; default 4). Leaves in FRAUD_WORK: cards.jsonl
# (every call the card service got), metrics.txt (the consumer's counts
# before the kill and at the end), pids, bpmnd.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ -z "${BPMND_AMQP_URL:-}" ]; then
  if [ -n "${FRAUD_PRIVATE_BROKER:-}" ]; then
    [ -n "${BPMND_TEST_AMQP_URL:-}" ] || { echo "run.sh: no RabbitMQ: install rabbitmq-server or set BPMND_AMQP_URL" >&2; exit 1; }
    export BPMND_AMQP_URL=$BPMND_TEST_AMQP_URL
  else
    echo "BPMND_AMQP_URL is not set: starting a private RabbitMQ node (tools/with-rabbitmq)"
    FRAUD_PRIVATE_BROKER=1 exec "$root/tools/with-rabbitmq" "$0" "$@"
  fi
fi
bpmnd=${BPMND:-$root/build/demo/adapters/server/bpmnd}
ctl=${BPMNCTL:-$root/build/demo/adapters/cli/bpmnctl}
work=${FRAUD_WORK:-$(mktemp -d /tmp/fraud-review.XXXXXX)}
restart_after=${RESTART_AFTER:-9}
in_flight=${IN_FLIGHT:-4}
# a replay of the recording is a new stream: its message ids carry this tag
export STREAM_TAG="replay-$(date +%s%N)/"
mkdir -p "$work"
rm -f "$work/cards.jsonl" "$work/cards.port" "$work/pids" "$work/metrics.txt"
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
  "$ctl" clock --offset PT0S >/dev/null 2>&1 || true
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
until_ok() { # until_ok SECONDS WHAT COMMAND...: polls COMMAND until it succeeds
  local limit=$1 what=$2
  shift 2
  local end=$((SECONDS + limit))
  until "$@"; do
    [ $SECONDS -lt $end ] || die "gave up after ${limit}s waiting for $what (logs in $work)"
    sleep 0.1
  done
}

[ -d "$here/node_modules/amqplib" ] || (cd "$here" && npm ci --no-audit --no-fund >/dev/null) || die "npm ci failed in $here"
"$ctl" db migrate >/dev/null
"$ctl" clock --offset PT0S >/dev/null

python3 "$here/card-service.py" --port-file "$work/cards.port" --record "$work/cards.jsonl" &
started $!
for _ in $(seq 100); do [ -s "$work/cards.port" ] && break; sleep 0.05; done
[ -s "$work/cards.port" ] || die "the card service did not start"
cards="http://127.0.0.1:$(cat "$work/cards.port")"

port=${FRAUD_PORT:-8080}
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
base="http://127.0.0.1:$port/engine-rest"
bpmnd_pid=
start_bpmnd() {
  BPMND_SECRET_CARD_SERVICE_URL=$cards "$bpmnd" --config "$here/bpmnd.conf" --listen "127.0.0.1:$port" --auth off --worker-threads 2 \
    2>>"$work/bpmnd.log" &
  bpmnd_pid=$!
  started $bpmnd_pid
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && return 0; sleep 0.1; done
  cat "$work/bpmnd.log" >&2
  die "bpmnd did not start"
}
start_bpmnd
api() { curl -sf "$base$1"; }
taken() { # messages the running bpmnd's consumer has taken (consumed + duplicates)
  curl -sf "http://127.0.0.1:$port/metrics" | awk '/^bpmnd_amqp_(consumed|duplicates)_total\{consumer="transactions"/ {n += $2} END {print n + 0}'
}
counts() { curl -sf "http://127.0.0.1:$port/metrics" | grep '^bpmnd_amqp_[a-z_]*{consumer="transactions"' | sed 's/{[^}]*}//' | tr '\n' ' '; }
stream() { (cd "$here" && node card-switch.mjs -); }
ready() { # the messages ready in the queue (not delivered to a consumer), from the broker
  (cd "$here" && node --input-type=module -e '
    import amqp from "amqplib";
    const c = await amqp.connect(process.env.BPMND_AMQP_URL), ch = await c.createChannel();
    const q = await ch.checkQueue("card.transactions"); console.log(q.messageCount); await c.close();')
}
post() { curl -sf -H 'Content-Type: application/json' -d "$2" "$base$1"; }
card_state() { curl -sf "$cards/cards" | jq -r --arg c "$1" '.[$c] // "active"'; }
monitor() { api "/process-instance?businessKey=$1&processDefinitionKey=card-monitor" | jq -r '.[0].id // empty'; }
mvar() { # a monitor's variable (JSON), by card
  local id
  id=$(monitor "$1")
  [ -n "$id" ] && api "/process-instance/$id/variables/$2" | jq -c '.value | if type == "string" then (fromjson? // .) else . end'
}
review_task() { # the open review task of a card's case: "ID NAME"
  api "/task?processInstanceBusinessKey=$1&taskDefinitionKey=$2" | jq -r '.[0] // empty | .id + " " + .name'
}
# an earlier run's instances and their history would take this run's
# events (same business keys, same transaction ids): remove them first
for key in card-monitor fraud-case; do
  for id in $(curl -sf "$base/process-instance?processDefinitionKey=$key" | jq -r '.[].id'); do
    curl -sf -X DELETE "$base/process-instance/$id" >/dev/null || true
  done
  for id in $(curl -sf "$base/history/process-instance?processDefinitionKey=$key" | jq -r '.[].id'); do
    curl -sf -X DELETE "$base/history/process-instance/$id" >/dev/null || true
  done
done
say "bpmnd serves Camunda 7's REST API on $base; the card service listens on $cards."

step "1. Deploy fraud-review.bpmn (card-monitor and fraud-case) as Camunda Modeler does"
dep=$(curl -s -F deployment-name=fraud-review -F deployment-source="Camunda Modeler" -F deploy-changed-only=true \
  -F "fraud-review.bpmn=@$here/fraud-review.bpmn;filename=fraud-review.bpmn" "$base/deployment/create")
jq -e .id <<<"$dep" >/dev/null 2>&1 || die "the deployment failed: $dep"
say "   deployment $(jq -r .id <<<"$dep")"

n_events=$(wc -l <"$here/events.jsonl")
step "2. The card switch streams transactions into RabbitMQ (card-switch.mjs, queue card.transactions), events 1-$restart_after of $n_events"
head -n "$restart_after" "$here/events.jsonl" | stream
until_ok 20 "card-3333 frozen" eval '[ "$(card_state card-3333)" = frozen ]'
until_ok 20 "the first $restart_after events taken" eval '[ "$(taken)" = "$restart_after" ]'
say "   rule hit on card-3333: $(mvar card-3333 caseEvidence | jq -r .rule); a fraud case was opened and the card is $(card_state card-3333)"
say "   card-2222's window so far: $(mvar card-2222 window | jq -r '[.[] | "\(.id) \(.amount)"] | join(", ")')"
echo "before the kill: $(counts)" >>"$work/metrics.txt"
say "   the consumer so far: $(counts)"

step "3. bpmnd hangs (SIGSTOP) while events $((restart_after + 1))-$((restart_after + in_flight)) stream in, is killed (SIGKILL), and the rest stream in while it is down"
kill -STOP "$bpmnd_pid"
sed -n "$((restart_after + 1)),$((restart_after + in_flight))p" "$here/events.jsonl" | stream
say "   RabbitMQ delivered them to the hung bpmnd, unacknowledged (in flight); ready in the queue: $(ready)"
kill -KILL "$bpmnd_pid"
wait "$bpmnd_pid" 2>/dev/null || true
say "   bpmnd killed (SIGKILL)"
tail -n "+$((restart_after + in_flight + 1))" "$here/events.jsonl" | stream
say "   waiting in the queue while bpmnd is down: $(ready) (the $in_flight in flight came back, and the rest)"
start_bpmnd
say "   bpmnd is back; card-2222's window, read from PostgreSQL: $(mvar card-2222 window | jq -r '[.[] | "\(.id) \(.amount)"] | join(", ")')"

step "4. The restarted bpmnd takes the rest of the stream, the redelivered ones included, each once"
until_ok 20 "the remaining $((n_events - restart_after)) events taken" eval '[ "$(taken)" = "$((n_events - restart_after))" ]'
until_ok 20 "card-2222 frozen" eval '[ "$(card_state card-2222)" = frozen ]'
echo "after the restart: $(counts)" >>"$work/metrics.txt"
say "   the consumer since the restart: $(counts)(tx-0005 came twice with the same message id: dropped)"
say "   rule hit on card-2222: $(mvar card-2222 caseEvidence | jq -r '.rule + " (" + (.transactions | join(", ")) + ")"')"
dropped=$(mvar card-2222 duplicatesDropped || true)
say "   card-2222's monitor counted $(mvar card-2222 transactionCount) transactions; repeats that reached it: ${dropped:-none}"
for c in card-1111 card-4444 card-5555; do
  hits=$(mvar "$c" hits || true)
  say "   $c: $(mvar "$c" transactionCount) transactions, ${hits:-no} rule hits, card $(card_state "$c")"
done

step "5. dana (group fraud-analysts) reviews card-2222's case in the task inbox and decides: fraud"
until_ok 20 "card-2222's review task" eval '[ -n "$(review_task card-2222 Task_ReviewCase)" ]'
say "   the inbox of fraud-analysts (GET /task?candidateGroup=fraud-analysts):"
api "/task?candidateGroup=fraud-analysts&sortBy=created&sortOrder=asc" |
  jq -r '.[] | "\(.id) \(.processInstanceId) \(.name)"' | while read -r t pi name; do
    say "     $t  $name  (case of $(api "/process-instance/$pi" | jq -r .businessKey))"
  done
task=$(review_task card-2222 Task_ReviewCase)
post "/task/${task%% *}/claim" '{"userId": "dana"}' >/dev/null
post "/task/${task%% *}/complete" '{"variables": {"decision": {"value": "fraud"}, "reviewNotes": {"value": "customer did not make these purchases"}}}' >/dev/null
until_ok 20 "card-2222 closed" eval '[ "$(card_state card-2222)" = closed ]'
say "   card-2222 is $(card_state card-2222); its monitor ended (terminate end event): $( [ -z "$(monitor card-2222)" ] && echo yes || echo no)"

step "6. Nobody reviewed card-3333's case: 4 hours pass (bpmnctl clock --offset PT4H1M)"
"$ctl" clock --offset PT4H1M >/dev/null
sleep 0.6 # bpmnd's threads read the offset at most twice a second
until_ok 20 "the supervisor's task" eval '[ -n "$(review_task card-3333 Task_ChaseReview)" ]'
say "   the timer fired; fraud-supervisors got: $(review_task card-3333 Task_ChaseReview | cut -d' ' -f2-)"
say "   (the analyst's task stays open: the timer does not interrupt it)"
task=$(review_task card-3333 Task_ReviewCase)
post "/task/${task%% *}/claim" '{"userId": "dana"}' >/dev/null
post "/task/${task%% *}/complete" '{"variables": {"decision": {"value": "legitimate"}, "reviewNotes": {"value": "customer is travelling, confirmed by phone"}}}' >/dev/null
until_ok 20 "card-3333 unfrozen" eval '[ "$(card_state card-3333)" = active ]'
say "   dana cleared it: card-3333 is unfrozen; the supervisor's task was withdrawn: $( [ -z "$(review_task card-3333 Task_ChaseReview)" ] && echo yes || echo no)"

step "7. The cards as the card service saw them (freeze, unfreeze, close), and the cases"
jq -r '"   \(.card): \(.action)"' "$work/cards.jsonl"
api "/history/process-instance?processDefinitionKey=fraud-case" |
  jq -r '.[] | "   case of \(.businessKey): \(.state | ascii_downcase)"'
