#!/usr/bin/env bash
# The fraud review's entry point, and its only one: delivers card
# transaction events (one JSON object per line: {id, type, headers, body})
# to bpmnd, in order. Today the transport is bpmnd's REST API: each event
# becomes POST /engine-rest/message, mapped exactly as mapping.lua maps it
# for the RabbitMQ consumer (the jq below mirrors it; tests/e2e/fraud_review.sh
# checks that both agree). When the consumer is configured, the card switch
# publishes to the queue instead and this script is no longer needed.
#
#   send-event.sh BASE_URL [FILE]     (BASE_URL: http://HOST:PORT/engine-rest; FILE: default stdin)
#   send-event.sh --print [FILE]      prints the request bodies instead of sending them
#
# Events of one card must be delivered one after another (as one queue
# consumer does): the first starts the card's monitor, the next ones are
# correlated to it. Prints one line per event; exits 1 when bpmnd refused one.
set -euo pipefail
base=${1:?usage: send-event.sh BASE_URL|--print [FILE]}
input=${2:--}
# mapping.lua, in jq: the event to {messageName, businessKey, processVariables}
map='
  def typed: if type == "string" then {value: ., type: "String"}
    elif type == "boolean" then {value: ., type: "Boolean"}
    elif type == "number" then (if . == floor and (. | fabs) < 2147483648 then {value: ., type: "Integer"} else {value: ., type: "Double"} end)
    elif type == "null" then {value: null, type: "Null"}
    else {value: tojson, type: "Json"} end;
  if .type != "card.transaction" then error("event \(.id): type \(.type) is not routed") else . end
  | .id as $id | .body as $t
  | {messageName: "TransactionReceived", businessKey: $t.cardId,
     processVariables: ({cardId: $t.cardId,
                         transaction: ({id: ($id // $t.transactionId), cardId: $t.cardId, amount: $t.amount,
                                        currency: $t.currency, country: $t.country, merchant: $t.merchant, at: $t.at}
                                       | with_entries(select(.value != null)))}
                        | map_values(typed))}'
rc=0
while IFS= read -r line || [ -n "$line" ]; do
  [ -n "${line// /}" ] || continue
  id=$(jq -r .id <<<"$line")
  if ! req=$(jq -c "$map" <<<"$line" 2>&1); then
    echo "  [card-switch] $id: not sent: $req"; rc=1; continue
  fi
  if [ "$base" = --print ]; then echo "$req"; continue; fi
  code=$(curl -s -o /tmp/send-event.$$ -w '%{http_code}' -H 'Content-Type: application/json' -d "$req" "$base/message") || code=000
  if [ "${code:0:1}" = 2 ]; then
    echo "  [card-switch] $id: $(jq -r '.body | "\(.cardId) \(.amount) \(.currency) in \(.country) at \(.at[11:16])"' <<<"$line")"
  else
    echo "  [card-switch] $id: refused (HTTP $code $(cat /tmp/send-event.$$ 2>/dev/null))"; rc=1
  fi
done < <(cat "$input")
rm -f /tmp/send-event.$$
exit $rc
