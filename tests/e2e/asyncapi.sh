#!/usr/bin/env bash
# docs/asyncapi.yaml against what the code really does (asyncapi_check.py):
# the document is AsyncAPI 3.0 in structure (every $ref resolves, every
# operation names an existing channel and messages of it, every example fits
# its schemas; a broken copy is caught); every example of a receive
# operation is sent to a running bpmnd (webhooks signed, the queue message
# published to a consumed queue) and must be accepted with its effect; what
# bpmnd really sends on every send channel (an outbox message and a dead
# letter read from RabbitMQ, CloudEvents in both modes and a Slack body
# caught by receiver.py) validates against the document's schemas, and the
# header names it sends are the ones the document lists.
set -u
. "$(dirname "$0")/lib.sh"
[ -n "${BPMND_TEST_AMQP_URL:-}" ] || { echo "needs BPMND_TEST_AMQP_URL: run under tools/with-rabbitmq"; exit 77; }
command -v jq >/dev/null || { echo "needs jq"; exit 77; }
python3 -c 'import yaml' 2>/dev/null || { echo "needs python3-yaml"; exit 77; }
T="$build/tests/bridge_tool" U="$BPMND_TEST_AMQP_URL"
doc="$src/docs/asyncapi.yaml"
chk() { python3 "$src/tests/e2e/asyncapi_check.py" "$@"; }
q="asyncapi-in-$$" qo="asyncapi-out-$$"
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
work=$(mktemp -d /tmp/bpmnd-asyncapi.XXXXXX)
record="$work/requests.jsonl"
: >"$record"

# 1. structure
out=$(chk structure "$doc"); rc=$?
check "AsyncAPI 3.0 structure: refs resolve, operations name their channel's messages, examples fit ($out)" '[ $rc = 0 ]'
sed 's|#/components/messages/SlackMessage|#/components/messages/NoSuchMessage|' "$doc" >"$work/broken.yaml"
check "a reference to nowhere is caught" '! chk structure "$work/broken.yaml" >"$work/out" && grep -q "does not resolve" "$work/out"'
sed 's|#/channels/slackWebhook/messages/slackMessage|#/channels/outbox/messages/outboxMessage|' "$doc" >"$work/broken.yaml"
check "an operation naming another channel's message is caught" '! chk structure "$work/broken.yaml" >"$work/out" && grep -q "is not a message of channel slackWebhook" "$work/out"'
sed 's|^asyncapi: 3.0.0|asyncapi: 2.6.0|' "$doc" >"$work/broken.yaml"
check "another version is caught" '! chk structure "$work/broken.yaml" >/dev/null'

# the system: bpmnd with webhooks, a consumer and the relay; a receiver for the connectors
python3 "$src/tests/e2e/receiver.py" --port-file "$work/port" --record "$record" &
receiver=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
rbase="http://127.0.0.1:$(cat "$work/port")"
fresh_schema
for f in webhooks/webhooks.bpmn publish.bpmn events-c7.bpmn; do $c deploy "$data/$f" >/dev/null; done
export WEBHOOK_SECRET="asyncapi-secret-$$"
cat >"$work/bpmnd.conf" <<CONF
worker_threads = 0
webhook.github.kind = github
webhook.github.secret = WEBHOOK_SECRET
webhook.github.mapping = $data/webhooks/github.lua
webhook.events.kind = cloudevents
webhook.signup.kind = json
webhook.signup.process = ci-build
amqp.consume.orders.queue = $q
amqp.consume.orders.mapping = $data/consume/orders.lua
CONF
bpmnd_log="$work/bpmnd.log"
BPMND_AMQP_URL="$U" start_bpmnd --config "$work/bpmnd.conf"
trap 'kill $bpmnd_pid $receiver 2>/dev/null; wait $bpmnd_pid $receiver 2>/dev/null; rm -rf "$work"' EXIT
root=${base%/engine-rest}

# 2. receive: every webhook example is accepted
out=$(chk webhooks "$doc" "$root" "$WEBHOOK_SECRET" githubWebhook=github cloudeventsWebhook=events jsonWebhook=signup); rc=$?
check "every webhook example (GitHub signed, CloudEvents binary and structured, JSON) is accepted with 202" '[ $rc = 0 ] && [ "$(grep -c " 202 " <<<"$out")" = 4 ]' || echo "$out"
after=$(chk examples "$doc" receiveGithubPush | jq -r .payload.after)
check "the GitHub push started ci-build (business key: after)" '[ "$(sql "select count(*) from process_instance where definition_key = '\''ci-build'\'' and business_key = '\''$after'\''")" = 1 ]'
o=$(sql "select id from process_instance where definition_key = 'shipment' and business_key is null or definition_key = 'shipment' and id in (select instance_id from variable where name = 'orderId' and value::text = '\"o-asyncapi-1\"')" | head -1)
check "the binary CloudEvent started a shipment, the structured one correlated to it" '[ -n "$o" ] && [ "$(sql "select value::text from variable where instance_id = '\''$o'\'' and name = '\''paidAmount'\''")" = 42.5 ]'
check "the JSON example started ci-build with its body" '[ "$(sql "select count(*) from variable where name = '\''email'\'' and value::text = '\''\"ada@example.com\"'\''")" = 1 ]'

# 3. receive: the queue example published to the consumed queue
for _ in $(seq 50); do grep -q "bpmnd_amqp_consumer_up{consumer=\"orders\",queue=\"$q\"} 1" <<<"$(curl -s "$root/metrics")" && break; sleep 0.1; done
chk examples "$doc" receiveQueueMessage >"$work/q.jsonl"
while read -r ex; do
  args=()
  while IFS='=' read -r k v; do [ -n "$k" ] && args+=(--header "$k=$v"); done < <(jq -r '.headers | to_entries[] | "\(.key)=\(.value)"' <<<"$ex")
  $T "$U" send "$q" "$(jq -c .payload <<<"$ex")" --id "$(jq -r .amqp.messageId <<<"$ex")" --type "$(jq -r .amqp.type <<<"$ex")" \
    --content-type "$(jq -r .amqp.contentType <<<"$ex")" "${args[@]}" 2>/dev/null
done <"$work/q.jsonl"
bk=$(jq -r .payload.orderId "$work/q.jsonl")
for _ in $(seq 50); do [ "$(sql "select count(*) from process_instance where business_key = '$bk'")" = 1 ] && break; sleep 0.1; done
check "the queue example was consumed into a start (message start event)" '[ "$(sql "select count(*) from process_instance where business_key = '\''$bk'\''")" = 1 ]'

# 4. send: an outbox message as RabbitMQ delivers it
$T "$U" declare "$qo"
$c start publish --vars "{\"queue\": \"$qo\", \"orderId\": 7}" >/dev/null
for _ in $(seq 50); do [ "$(sql "select count(*) from outbox where sent_at is null")" = 0 ] && break; sleep 0.1; done
$T "$U" consume "$qo" --idle 800 2>/dev/null |
  jq -c '{headers, payload: (.body | fromjson), amqp: ({messageId: .id, contentType} + .properties)}' >"$work/outbox.jsonl"
out=$(chk validate "$doc" OutboxMessage "$work/outbox.jsonl" --namespace bpmnd- --namespace x-bpmnd-); rc=$?
check "the outbox message fits OutboxMessage (headers, payload, AMQP properties) ($out)" '[ $rc = 0 ]'

# 5. send: a dead letter of the consumer
$T "$U" send "$q" '{"x' --id dl-asyncapi-1 --type order.placed 2>/dev/null
for _ in $(seq 50); do grep -q "bpmnd_amqp_dead_lettered_total{consumer=\"orders\",queue=\"$q\"} 1" <<<"$(curl -s "$root/metrics")" && break; sleep 0.1; done
$T "$U" consume "$q.dlq" --idle 800 2>/dev/null |
  jq -c '{headers, payload: .body, amqp: ({messageId: .id, contentType} + .properties)}' >"$work/dlq.jsonl"
out=$(chk validate "$doc" DeadLetter "$work/dlq.jsonl" --namespace x-bpmnd- --namespace bpmnd-); rc=$?
check "the dead letter fits DeadLetter, its x-bpmnd-* headers listed ($out)" '[ $rc = 0 ]'

# 6. send: CloudEvents (binary and structured) and a Slack message caught by the receiver
$c start events-c7 --vars "{\"base\": \"$rbase\", \"employeeId\": \"e-1\", \"channel\": \"#ops\", \"throwPath\": \"/events\"}" >/dev/null
BPMND_SECRET_SLACK_WEBHOOK_URL="$rbase/services/T0/B0/asyncapi" $c worker --once >"$work/worker.log" 2>&1
out=$(chk record "$doc" "$record" --extra ce-tenant); rc=$?
check "the Slack body and the CloudEvents fit their messages; the ce-* headers sent are the listed ones ($out)" '[ $rc = 0 ]'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
