#!/usr/bin/env bash
# The order saga's entry point, and its only one: delivers Order Service
# events (one JSON object per line: {id, type, headers, body}) to bpmnd.
# Today the transport is bpmnd's REST API: each event becomes POST
# /engine-rest/message, mapped exactly as mapping.lua maps it for the
# RabbitMQ consumer (the jq below mirrors it; tests/e2e/order_saga.sh checks
# that both agree). When the consumer is configured, the Order Service
# publishes to the queue instead and this script is no longer needed.
#
#   send-event.sh BASE_URL [FILE]     (BASE_URL: http://HOST:PORT/engine-rest; FILE: default stdin)
#   send-event.sh --print [FILE]      prints the request bodies instead of sending them
#
# Prints one line per event; exits 1 when bpmnd refused one.
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
  if .type != "OrderPlaced" then error("event \(.id): type \(.type) is not routed") else . end
  | .body as $o
  | {messageName: "OrderPlaced", businessKey: $o.orderId,
     processVariables: ({orderId: $o.orderId, customerId: $o.customerId, items: $o.items, total: $o.total,
                         currency: ($o.currency // "EUR"), card: $o.card, address: $o.address}
                        | with_entries(select(.value != null)) | map_values(typed))}'
rc=0
while IFS= read -r line || [ -n "$line" ]; do
  [ -n "${line// /}" ] || continue
  id=$(jq -r .id <<<"$line")
  if ! req=$(jq -c "$map" <<<"$line" 2>&1); then
    echo "  [order-service] $id: not sent: $req"; rc=1; continue
  fi
  if [ "$base" = --print ]; then echo "$req"; continue; fi
  code=$(curl -s -o /tmp/send-event.$$ -w '%{http_code}' -H 'Content-Type: application/json' -d "$req" "$base/message") || code=000
  if [ "${code:0:1}" = 2 ]; then
    echo "  [order-service] $id: OrderPlaced $(jq -r .businessKey <<<"$req") delivered"
  else
    echo "  [order-service] $id: refused (HTTP $code $(cat /tmp/send-event.$$ 2>/dev/null))"; rc=1
  fi
done < <(cat "$input")
rm -f /tmp/send-event.$$
exit $rc
