#!/usr/bin/env bash
# The transactional outbox against the real PostgreSQL and RabbitMQ
# (tools/with-postgres, tools/with-rabbitmq): a committed step's message is
# published after the commit with confirms (body, message id, headers as the
# consumer sees them); a rolled-back step publishes nothing; a relay killed
# after the broker confirmed and before it marked the rows loses nothing and
# its successor resends with the same message ids; rows written while
# RabbitMQ is down wait and go out when it is back, also across a broker
# restart under a running relay; two relays share the rows, each sent once;
# bpmnd runs the relay with amqp.url.
set -u
. "$(dirname "$0")/lib.sh"
[ -n "${BPMND_TEST_AMQP_URL:-}" ] || { echo "needs BPMND_TEST_AMQP_URL: run under tools/with-rabbitmq"; exit 77; }
T="$build/tests/bridge_tool"
U="$BPMND_TEST_AMQP_URL"
q="outbox-$$"
unsent() { sql "select count(*) from outbox where sent_at is null"; }
ids_in_outbox() { sql "select payload->>'messageId' from outbox order by id"; }
start_n() { for i in $(seq 1 "$1"); do $c start publish --vars "{\"queue\": \"$q\", \"orderId\": $i}" >/dev/null || return 1; done; }

fresh_schema
$c deploy "$data/publish.bpmn" >/dev/null
$T "$U" declare "$q"

# 1. published after commit, with confirms
id1=$($c start publish --business-key o-1 --vars "{\"queue\": \"$q\", \"orderId\": 1}")
check "the step wrote one outbox row, unsent" '[ "$(unsent)" = 1 ]'
row=$(sql "select channel, payload->>'routingKey', payload->'body' from outbox")
check "the row holds the message" '[ "$row" = "rabbitmq|$q|{\"orderId\": 1}" ]'
$c relay --url "$U" --once >/dev/null 2>/tmp/relay.$$ || cat /tmp/relay.$$
check "the relay marked it sent" '[ "$(unsent)" = 0 ] && [ "$(sql "select attempts from outbox")" = 1 ]'
got=$($T "$U" consume "$q" --idle 1000 2>/dev/null)
mid=$(sql "select payload->>'messageId' from outbox")
check "the consumer got it: body" '[ "$(jq -r .body <<<"$got")" = "{\"orderId\":1}" ]'
check "the message id is the one fixed in the step" '[ "$(jq -r .id <<<"$got")" = "$mid" ] && [ "${mid#$id1-}" != "$mid" ]'
check "headers: the instance id and the diagram's own" '[ "$(jq -r ".headers[\"bpmnd-instance-id\"] + \" \" + .headers.kind" <<<"$got")" = "$id1 order" ]'
check "content type application/json" '[ "$(jq -r .contentType <<<"$got")" = application/json ]'

# 2. a rolled-back step publishes nothing
before=$(sql "select count(*) from outbox")
$c start publish --vars "{\"queue\": \"$q\", \"orderId\": 2, \"fail\": true}" >/dev/null 2>&1
check "the failing start was refused" '[ "$(sql "select count(*) from process_instance")" = 1 ]'
check "and wrote no outbox row" '[ "$(sql "select count(*) from outbox")" = "$before" ]'
$c relay --url "$U" --once >/dev/null 2>&1
check "nothing reached the queue" '[ -z "$($T "$U" consume "$q" --idle 800 2>/dev/null)" ]'

# 3. the relay killed between the broker's confirm and the commit that marks the rows
start_n 20
(BPMND_RELAY_TEST_KILL_AFTER_PUBLISH=1 exec $c relay --url "$U" --once >/dev/null 2>&1)
st=$?
check "the relay died by SIGKILL after publishing" '[ $st = 137 ]'
check "its rows are still unsent" '[ "$(unsent)" = 20 ]'
$c relay --url "$U" --once >/dev/null 2>&1
check "a new relay sent them" '[ "$(unsent)" = 0 ]'
got=$($T "$U" consume "$q" --idle 1000 2>/dev/null)
want=$(sql "select payload->>'messageId' from outbox where id > (select min(id) from outbox) order by 1")
check "nothing lost: every row's message id arrived" '[ "$(jq -r .id <<<"$got" | sort -u)" = "$(sort <<<"$want")" ]'
check "duplicates carry the same message id (each id twice, 40 messages)" '[ "$(jq -r .id <<<"$got" | wc -l)" = 40 ] && [ -z "$(jq -r .id <<<"$got" | sort | uniq -c | awk "\$1 != 2")" ]'
check "attempts count finished rounds: the killed one left no trace, the resend counts 1" '[ "$(sql "select count(*) from outbox where attempts = 1")" = 21 ]'


# two relays at once share the rows (FOR UPDATE SKIP LOCKED): each sent once
start_n 60
$c relay --url "$U" --once --batch 7 >/dev/null 2>&1 &
r1=$!
$c relay --url "$U" --once --batch 7 >/dev/null 2>&1
wait $r1
check "two relays sent every row" '[ "$(unsent)" = 0 ]'
got=$($T "$U" consume "$q" --idle 1000 2>/dev/null)
check "each exactly once (no crash, no duplicate)" '[ "$(jq -r .id <<<"$got" | wc -l)" = 60 ] && [ "$(jq -r .id <<<"$got" | sort -u | wc -l)" = 60 ]'

# 4. RabbitMQ down: rows wait; a relay started meanwhile sends them when it is back
"$BPMND_TEST_RABBITMQCTL" stop_app >/dev/null 2>&1
start_n 5
$c relay --url "$U" >/tmp/relay-bg.$$ 2>&1 &
relay=$!
sleep 2
check "while RabbitMQ is down the rows wait" '[ "$(unsent)" = 5 ]'
"$BPMND_TEST_RABBITMQCTL" start_app >/dev/null 2>&1
for _ in $(seq 1 150); do [ "$(unsent)" = 0 ] && break; sleep 0.2; done
check "when it is back they go out" '[ "$(unsent)" = 0 ]'
# a broker restart under the running relay
"$BPMND_TEST_RABBITMQCTL" stop_app >/dev/null 2>&1
"$BPMND_TEST_RABBITMQCTL" start_app >/dev/null 2>&1
start_n 3
for _ in $(seq 1 150); do [ "$(unsent)" = 0 ] && break; sleep 0.2; done
check "after a broker restart the running relay reconnects and sends" '[ "$(unsent)" = 0 ]'
kill $relay; wait $relay 2>/dev/null
got=$($T "$U" consume "$q" --idle 1000 2>/dev/null)
want=$(sql "select payload->>'messageId' from outbox order by id desc limit 8")
check "the 8 messages arrived (durable queue, persistent messages)" '[ "$(jq -r .id <<<"$got" | sort -u)" = "$(sort <<<"$want")" ]'

# 5. bpmnd runs the relay when amqp.url is set, with metrics
BPMND_AMQP_URL="$U" start_bpmnd --worker-threads 1
$c start publish --vars "{\"queue\": \"$q\", \"orderId\": 99}" >/dev/null
for _ in $(seq 1 100); do [ "$(unsent)" = 0 ] && break; sleep 0.1; done
check "bpmnd's relay sent the new row" '[ "$(unsent)" = 0 ]'
metrics=$(curl -s "${base%/engine-rest}/metrics")
check "/metrics counts it" 'grep -q "^bpmnd_outbox_published_total 1$" <<<"$metrics" && grep -q "^bpmnd_outbox_broker_up 1$" <<<"$metrics"'
check "the consumer got it" '[ "$($T "$U" consume "$q" --idle 800 2>/dev/null | jq -r .body)" = "{\"orderId\":99}" ]'

# the relay over amqps (TLS, the broker verified against the URL's CA)
if [ -n "${BPMND_TEST_AMQPS_URL:-}" ]; then
  kill $bpmnd_pid 2>/dev/null; wait $bpmnd_pid 2>/dev/null
  $c start publish --vars "{\"queue\": \"$q\", \"orderId\": 101}" >/dev/null
  $c relay --url "$BPMND_TEST_AMQPS_URL" --once >/dev/null 2>/tmp/relay.$$ || cat /tmp/relay.$$
  check "bpmnctl relay over amqps sent the row" '[ "$(unsent)" = 0 ]'
  check "and it arrived" '[ "$($T "$U" consume "$q" --idle 800 2>/dev/null | jq -r .body)" = "{\"orderId\":101}" ]'
fi

# retention: sent rows go after 7 days, unsent rows never (this one names an
# exchange that does not exist, so the running relay cannot send it)
sql "insert into outbox (channel, payload) values ('rabbitmq', '{\"exchange\": \"no-such-exchange\", \"routingKey\": \"x\", \"body\": {}}')" >/dev/null
sql "update outbox set created_at = now() - interval '30 days'" >/dev/null
sql "update outbox set sent_at = now() - interval '8 days' where id in (select id from outbox where sent_at is not null order by id limit 10)" >/dev/null
total=$(sql "select count(*) from outbox")
$c history cleanup >/dev/null
check "the cleanup removed the 10 rows sent 8 days ago" '[ "$(sql "select count(*) from outbox")" = $((total - 10)) ]'
check "and kept the unsent one, however old" '[ "$(unsent)" = 1 ]'
rm -f /tmp/relay.$$ /tmp/relay-bg.$$
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
