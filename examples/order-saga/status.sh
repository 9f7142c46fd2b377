#!/usr/bin/env bash
# The state of an order, by its id, at any moment, from bpmnd's REST API:
#   status.sh ORDER_ID [BASE_URL]      (default http://localhost:8080/engine-rest)
# prints e.g. "ORDER-1: charging payment", "ORDER-3: charging payment (attempt
# failed: payment gateway timeout; 2 retries left)", "ORDER-1: completed
# (tracking TRK-ORDER-1)", "ORDER-2: cancelled (payment declined: card
# declined by the issuer; reservation RES-ORDER-2 released)".
#
# How: the running instance with that business key
# (GET /process-instance?businessKey=ID&processDefinitionKey=order-saga), the
# activities it is in (GET /process-instance/{id}/activity-instances), the
# external task's retries and last error (GET /external-task?processInstanceId=);
# for an ended order, the history (GET /history/process-instance,
# /history/activity-instance?activityId=EndEvent_OrderCancelled,
# /history/variable-instance).
set -euo pipefail
order=${1:?usage: status.sh ORDER_ID [BASE_URL]}
base=${2:-${BPMND_URL:-http://localhost:8080/engine-rest}}
get() { curl -sf "$base$1"; }
var() { # an instance's variable, from the history (works for running and ended instances)
  get "/history/variable-instance?processInstanceId=$1&variableName=$2" | jq -r '.[0].value // empty'
}
inst=$(get "/process-instance?businessKey=$order&processDefinitionKey=order-saga" | jq -r '.[0].id // empty')
# the instance may end between two calls: then the history answers
if [ -n "$inst" ] && tree=$(get "/process-instance/$inst/activity-instances" 2>/dev/null); then
  leaves=$(jq -r '[.. | objects | select(has("activityId") and (.childActivityInstances | length) == 0) | .activityId] | join(" ")' <<<"$tree")
  case " $leaves " in
  *" Task_ReleaseInventory "*) state="cancelling: releasing the reservation ($(var "$inst" cancelReason))" ;;
  *" Task_ReserveInventory "*) state="reserving inventory" ;;
  *" Task_ChargePayment "*) state="charging payment" ;;
  *" Task_ArrangeShipping "*) state="arranging shipping" ;;
  *) state="in progress ($leaves)" ;;
  esac
  failure=$(get "/external-task?processInstanceId=$inst" |
    jq -r '[.[] | select(.errorMessage != null)][0] // empty | "attempt failed: \(.errorMessage); \(.retries) \(if .retries == 1 then "retry" else "retries" end) left"') || true
  [ -n "$failure" ] && state="$state ($failure)"
  echo "$order: $state"
  exit 0
fi
h=$(get "/history/process-instance?processInstanceBusinessKey=$order&processDefinitionKey=order-saga&sortBy=startTime&sortOrder=desc" | jq -c '.[0] // empty')
[ -n "$h" ] || { echo "$order: unknown"; exit 1; }
inst=$(jq -r .id <<<"$h")
case $(jq -r .state <<<"$h") in
COMPLETED)
  if [ "$(get "/history/activity-instance/count?processInstanceId=$inst&activityId=EndEvent_OrderCancelled" | jq .count)" -gt 0 ]; then
    echo "$order: cancelled (payment declined: $(var "$inst" cancelReason); reservation $(var "$inst" releasedReservation) released)"
  else
    echo "$order: completed (tracking $(var "$inst" trackingNumber))"
  fi ;;
*) echo "$order: $(jq -r .state <<<"$h" | tr 'A-Z_' 'a-z ')" ;;
esac
