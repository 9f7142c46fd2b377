#!/usr/bin/env bash
# The RabbitMQ consuming transport (adapters/amqp, bridge.h consume) against
# a real broker (tools/with-rabbitmq): a delivery is acknowledged only after
# the handler said ok; a handler that dies before the ack gets the message
# again, marked redelivered; a poison message is requeued and after N
# failures lands in the dead-letter queue with the reason attached (or at
# once when rejected), the good ones around it unaffected.
set -u
build=$1
[ -n "${BPMND_TEST_AMQP_URL:-}" ] || { echo "needs BPMND_TEST_AMQP_URL: run under tools/with-rabbitmq"; exit 77; }
T="$build/tests/bridge_tool"
U="$BPMND_TEST_AMQP_URL"
q="transport-$$"
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1"; fi; }

# amqps: TLS with the peer verified against the URL's cacertfile
if [ -n "${BPMND_TEST_AMQPS_URL:-}" ]; then
  S="$BPMND_TEST_AMQPS_URL"
  $T "$S" declare "$q.tls" 2>/dev/null
  $T "$S" publish "$q.tls" 3 2>/dev/null
  out=$($T "$S" transport "$q.tls" ok --count 3 2>&1 >/dev/null)
  check "amqps: published and consumed over TLS, the broker verified" 'grep -q "acked=3 retried=0 dead=0" <<<"$out"'
  other=$(mktemp -d)
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$other/ca.key" -out "$other/ca.pem" -days 1 -subj /CN=other-ca 2>/dev/null
  out=$($T "${S%%\?*}?cacertfile=$other/ca.pem" declare "$q.tls" 2>&1); rc=$?
  check "amqps: a broker the CA did not sign is refused" '[ $rc -ne 0 ] && grep -q "could not connect to RabbitMQ at localhost:[0-9]* (TLS)" <<<"$out"'
  out=$($T "${S%%\?*}?cacertfile=$other/nothing.pem" declare "$q.tls" 2>&1); rc=$?
  check "amqps: an unreadable cacertfile is named" '[ $rc -ne 0 ] && grep -q "could not read the CA certificates $other/nothing.pem" <<<"$out"'
  out=$($T "${S%%\?*}?cacertfile=$other/ca.pem&verify=verify_none" declare "$q.tls" 2>&1); rc=$?
  check "amqps: verify=verify_none connects without verifying" '[ $rc = 0 ]'
  out=$($T "${S%%\?*}?cafile=x" declare "$q.tls" 2>&1); rc=$?
  check "an unknown query parameter is named" '[ $rc -ne 0 ] && grep -q "unknown or bad query parameter \"cafile\"" <<<"$out"'
  rm -rf "$other"
fi

# acknowledged after ok: the queue is empty afterwards
$T "$U" declare "$q.ok"
$T "$U" publish "$q.ok" 10 2>/dev/null
out=$($T "$U" transport "$q.ok" ok --count 10 2>&1 >/dev/null)
check "ten deliveries handled and acknowledged" 'grep -q "acked=10 retried=0 dead=0" <<<"$out"'
check "nothing is left in the queue" '[ -z "$($T "$U" consume "$q.ok" --idle 800 2>/dev/null)" ]'

# the handler's process dies before the ack: the broker delivers again
$T "$U" declare "$q.crash"
$T "$U" publish "$q.crash" 1 2>/dev/null
first=$($T "$U" transport "$q.crash" crash 2>/dev/null)
st=$?
check "the first handler died before acknowledging" '[ $st = 3 ] && [ "$(jq -r .redelivered <<<"$first")" = false ]'
again=$($T "$U" transport "$q.crash" ok --count 1 2>/dev/null)
check "the message came again, marked redelivered, same id and body" '[ "$(jq -r "[.id, .redelivered, .body] | @tsv" <<<"$again")" = "$(printf "m-1\ttrue\t{\"n\": 1}")" ]'
check "and was processed once: the queue is empty now" '[ -z "$($T "$U" consume "$q.crash" --idle 800 2>/dev/null)" ]'

# a poison message retried, then dead-lettered with the reason
$T "$U" declare "$q.poison"
$T "$U" publish "$q.poison" 3 poison 2>/dev/null
log=$($T "$U" transport "$q.poison" retry --max-failures 3 --idle 1500 2>&1)
check "two good messages acknowledged, the poison one tried 3 times and dead-lettered" 'grep -q "acked=2 retried=2 dead=1" <<<"$log"'
check "its retries came back as copies at the end of the queue, the failures counted on them" '[ "$(grep -c "\"verdict\":\"retry\"" <<<"$log")" = 3 ] && grep -q "\"redelivered\":false,\"failures\":2" <<<"$log"'
dl=$($T "$U" consume "$q.poison.dlq" --idle 800 2>/dev/null)
check "the dead-letter queue holds it with the reason, the failure count and the source" '[ "$(jq -r "[.id, .body, .headers[\"x-bpmnd-reason\"], .headers[\"x-bpmnd-failures\"], .headers[\"x-bpmnd-source\"]] | @tsv" <<<"$dl")" = "$(printf "m-1\tpoison\tcannot parse: poison (attempt 3)\t3\t$q.poison")" ]'
check "the original is gone from its queue" '[ -z "$($T "$U" consume "$q.poison" --idle 800 2>/dev/null)" ]'

# rejected: dead-lettered at once
$T "$U" declare "$q.reject"
$T "$U" publish "$q.reject" 2 poison 2>/dev/null
log=$($T "$U" transport "$q.reject" reject --idle 1000 2>&1)
check "a rejected message goes to the dead-letter queue at once" 'grep -q "acked=1 retried=0 dead=1" <<<"$log"'
check "with its reason" '[ "$($T "$U" consume "$q.reject.dlq" --idle 800 2>/dev/null | jq -r ".headers[\"x-bpmnd-reason\"]")" = "cannot parse: poison" ]'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
