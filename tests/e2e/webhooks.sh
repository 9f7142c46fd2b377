#!/usr/bin/env bash
# Inbound webhooks on bpmnd (docs/events.md): a signed GitHub push starts a
# process once however often it is delivered; bad or missing signatures,
# malformed bodies and unrouted events are refused and change nothing;
# CloudEvents in binary and structured mode start and correlate, deduplicated
# by id and source; an endpoint declared by a deployed process; the
# configuration's errors name file and line; metrics count the outcomes.
set -u
. "$(dirname "$0")/lib.sh"
fresh_schema
d="$build/adapters/server/bpmnd"
wh="$data/webhooks"
export WEBHOOK_SECRET='It'"'"'s a Secret to Everybody'
BPMND_PASSWORD="pw-ops:x" $c user add ops >/dev/null
$c group add admin --member ops >/dev/null

conf=$(mktemp)
# a bad kind, then a mapping with a syntax error: bpmnd refuses to start, naming file and line
printf 'worker_threads = 0\nwebhook.github.kind = gitlab\n' > "$conf"
out=$("$d" --config "$conf" --listen 127.0.0.1:1 2>&1); rc=$?
check "a bad webhook kind names file and line" '[ $rc -ne 0 ] && echo "$out" | grep -q "$conf:2: webhook.github.kind must be github, cloudevents or json"'
bad=$(mktemp --suffix=.lua)
printf 'local x = 1\nreturn {start = }\n' > "$bad"
printf 'worker_threads = 0\nwebhook.github.kind = github\nwebhook.github.mapping = %s\n' "$bad" > "$conf"
out=$("$d" --config "$conf" --listen 127.0.0.1:1 2>&1); rc=$?
check "a mapping that does not compile names the file and its Lua line" '[ $rc -ne 0 ] && echo "$out" | grep -q "$bad" && echo "$out" | grep -q "line 2"'
printf 'worker_threads = 0\nwebhook.github.kind = github\nwebhook.github.mapping = %s\n' "$(basename "$bad")" > "$conf"
out=$(cd / && "$d" --config "$conf" --listen 127.0.0.1:1 2>&1); rc=$?
check "a relative mapping path is read from the configuration file's directory" '[ $rc -ne 0 ] && echo "$out" | grep -q "$bad" && echo "$out" | grep -q "line 2"'
printf 'webhook.github.colour = red\n' > "$conf"
out=$("$d" --config "$conf" 2>&1); rc=$?
check "an unknown field is named with its file:line" '[ $rc = 2 ] && echo "$out" | grep -q "$conf:1: unknown field \"colour\" of webhook \"github\""'
printf 'webhook.github.kind = github\nwebhook.github.secret = NO_SUCH_VARIABLE_SET\nwebhook.github.process = ci-build\n' > "$conf"
out=$("$d" --config "$conf" --listen 127.0.0.1:1 2>&1); rc=$?
check "a secret variable that is not set is named" '[ $rc -ne 0 ] && echo "$out" | grep -q "NO_SUCH_VARIABLE_SET, which is not set"'

cat > "$conf" <<EOF
worker_threads = 0
# GitHub: signed, mapped by Lua
webhook.github.kind = github
webhook.github.secret = WEBHOOK_SECRET
webhook.github.mapping = $wh/github.lua
# CloudEvents: no secret (so the REST authentication), the default mapping
webhook.events.kind = cloudevents
EOF
bpmnd_log=$(mktemp)
start_bpmnd --config "$conf" --auth on
root=${base%/engine-rest}
check "the secret's value is never logged" '! grep -q "Secret to Everybody" "$bpmnd_log"'
curl -s -u ops:pw-ops:x -F "w.bpmn=@$wh/webhooks.bpmn;filename=webhooks.bpmn" "$base/deployment/create" >/dev/null

sign() { printf 'sha256=%s' "$(openssl dgst -sha256 -hmac "$WEBHOOK_SECRET" -hex < "$1" | sed 's/^.*= //')"; }
# gh EVENT DELIVERY FILE [extra curl arguments]: a signed GitHub delivery
gh() {
  local ev=$1 id=$2 f=$3; shift 3
  http -X POST -H 'Content-Type: application/json' -H "User-Agent: GitHub-Hookshot/abc" -H "X-GitHub-Event: $ev" \
    -H "X-GitHub-Delivery: $id" -H "X-Hub-Signature-256: $(sign "$f")" --data-binary @"$f" "$@" "$root/webhooks/github"
}
n_of() { sql "select count(*) from process_instance where definition_key = '$1'"; }
var_of() { sql "select value::text from variable where instance_id = '$1' and name = '$2'"; }
count() { sql "select (select count(*) from process_instance) || '/' || (select count(*) from inbound_event) || '/' || (select count(*) from variable)"; }

tampered=$(mktemp)
r=$(gh push 72d3162e-cc78-11e3-81ab-4c9367dc0958 "$wh/push.json")
id=$(echo "${r#* }" | jq -r .instanceId)
got=$(sql "select definition_key || ' ' || business_key from process_instance where id = '$id'")
check "a signed push starts ci-build: 202 with the instance" '[ "${r%% *}" = 202 ] && [ "$got" = "ci-build 0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c" ]'
got=$(sql "select string_agg(name || '=' || value::text, ',' order by name) from variable where instance_id = '$id'")
check "the mapping's variables (branch, pusher, commit count and messages)" '[ "$got" = "branch=\"main\",commitCount=2,messages=[\"Fix the greeting\", \"Add a contributing guide\"],pusher=\"Codertocat\",repository=\"Codertocat/Hello-World\"" ]'
got=$(sql "select instance_id from inbound_event where source = 'webhook/github' and event_id = '72d3162e-cc78-11e3-81ab-4c9367dc0958'")
check "the delivery is recorded with its instance" '[ "$got" = "$id" ]'
before=$(count)
r=$(gh push 72d3162e-cc78-11e3-81ab-4c9367dc0958 "$wh/push.json")
check "the same delivery again: 200 duplicate, the first instance" '[ "${r%% *}" = 200 ] && [ "$(echo "${r#* }" | jq -r ".duplicate, .instanceId" | tr "\n" " ")" = "true $id " ]'
check "one ci-build instance only" '[ "$(n_of ci-build)" = 1 ] && [ "$(count)" = "$before" ]'
# the same delivery twice at once: one start, one duplicate
gh push d-race "$wh/push.json" > /tmp/race1.$$ & racer=$!; gh push d-race "$wh/push.json" > /tmp/race2.$$; wait $racer
check "the same delivery twice at once: one 202, one 200 duplicate of it" '[ "$(cut -c1-3 /tmp/race1.$$ /tmp/race2.$$ | sort | tr "\n" " ")" = "200 202 " ] && [ "$(n_of ci-build)" = 2 ]'
rm -f /tmp/race1.$$ /tmp/race2.$$
# another process deploys a new version: the next push starts it (bpmnd's cached one is checked in the start's transaction)
sed 's/id="ci-build" name="/id="ci-build" name="v2 /' "$wh/webhooks.bpmn" > "$tampered.bpmn"
$c deploy "$tampered.bpmn" >/dev/null
v2=$(sql "select id from process_definition where key = 'ci-build' order by version desc limit 1")
r=$(gh push d-v2 "$wh/push.json")
check "a version deployed by another process is the one started" '[ "${r%% *}" = 202 ] && [ "$(sql "select definition_id from process_instance where id = '\''$(echo "${r#* }" | jq -r .instanceId)'\''")" = "$v2" ]'
sql "update process_definition set suspended = true where id = '$v2'" >/dev/null
before=$(count)
r=$(gh push d-suspended "$wh/push.json")
check "suspended by another process: refused, nothing recorded" '[ "${r%% *}" -ge 400 ] && echo "${r#* }" | grep -q suspended && [ "$(count)" = "$before" ]'
sql "update process_definition set suspended = false where id = '$v2'" >/dev/null
r=$(gh push d-suspended "$wh/push.json")
check "active again: the refused delivery, retried, starts it" '[ "${r%% *}" = 202 ]'
rm -f "$tampered.bpmn"
before=$(count)

r=$(http -X POST -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: d-bad' \
  -H 'X-Hub-Signature-256: sha256=0000000000000000000000000000000000000000000000000000000000000000' \
  --data-binary @"$wh/push.json" "$root/webhooks/github")
check "a bad signature: 401, nothing changed" '[ "${r%% *}" = 401 ] && echo "${r#* }" | jq -e ".error == \"unauthorized\"" >/dev/null && [ "$(count)" = "$before" ]'
r=$(http -X POST -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: d-none' \
  --data-binary @"$wh/push.json" "$root/webhooks/github")
check "a missing signature: 401, nothing changed" '[ "${r%% *}" = 401 ] && echo "${r#* }" | grep -q "header is missing" && [ "$(count)" = "$before" ]'
sed 's/Fix the greeting/Break the greeting/' "$wh/push.json" > "$tampered"
r=$(http -X POST -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: d-tampered' \
  -H "X-Hub-Signature-256: $(sign "$wh/push.json")" --data-binary @"$tampered" "$root/webhooks/github")
check "a body changed after signing: 401" '[ "${r%% *}" = 401 ] && [ "$(count)" = "$before" ]'
printf '{"ref": "refs/heads/main", "commits": [' > "$tampered"
r=$(gh push d-malformed "$tampered")
check "malformed JSON (signed): 400 naming the problem, nothing changed" '[ "${r%% *}" = 400 ] && echo "${r#* }" | jq -e ".error == \"bad_request\" and (.message | test(\"not valid JSON\"))" >/dev/null && [ "$(count)" = "$before" ]'
printf '{"action": "opened", "issue": {"number": 1}}' > "$tampered"
r=$(gh issues d-issue "$tampered")
check "an event type the mapping does not route: 422 not_routed" '[ "${r%% *}" = 422 ] && echo "${r#* }" | jq -e ".error == \"not_routed\" and (.message | test(\"issues\"))" >/dev/null && [ "$(count)" = "$before" ]'
printf '{"action": "created", "starred_at": "2019-05-15T15:20:40Z"}' > "$tampered"
r=$(gh star d-star "$tampered")
check "an event the mapping ignores: 200 ignored with its reason" '[ "${r%% *}" = 200 ] && echo "${r#* }" | jq -e ".ignored == true and .reason == \"stars are not tracked\"" >/dev/null && [ "$(count)" = "$before" ]'
printf '{"zen": "Keep it logically awesome.", "hook_id": 30}' > "$tampered"
r=$(gh ping d-ping "$tampered")
check "ping: 200" '[ "${r%% *}" = 200 ] && echo "${r#* }" | jq -e ".ping == true" >/dev/null && [ "$(count)" = "$before" ]'
printf '{"action": "published"}' > "$tampered"
r=$(gh release d-release "$tampered")
check "a failing mapping: 422 naming the mapping file and its Lua line" '[ "${r%% *}" = 422 ] && echo "${r#* }" | jq -e ".error == \"mapping_failed\" and (.message | test(\"github.lua\")) and (.message | test(\"line 27\"))" >/dev/null && [ "$(count)" = "$before" ]'
r=$(http -X POST -H 'Content-Type: application/x-www-form-urlencoded' -H 'X-GitHub-Event: push' \
  -H "X-Hub-Signature-256: $(sign "$wh/push.json")" --data-binary @"$wh/push.json" "$root/webhooks/github")
check "form-encoded GitHub delivery: 415 saying what to configure" '[ "${r%% *}" = 415 ] && [ "$(count)" = "$before" ]'
check "an unknown endpoint: 404" '[ "$(curl -s -o /dev/null -w "%{http_code}" -X POST -d "{}" "$root/webhooks/nowhere")" = 404 ]'
check "GET on an endpoint: 405" '[ "$(curl -s -o /dev/null -w "%{http_code}" "$root/webhooks/github")" = 405 ]'

# CloudEvents: the endpoint has no secret, so the REST authentication applies (auth is on)
ce() { http -X POST -u ops:pw-ops:x "$@" "$root/webhooks/events"; }
r=$(http -X POST -H 'ce-specversion: 1.0' -H 'ce-id: x' -H 'ce-source: /shop' -H 'ce-type: order.placed' -d '{}' "$root/webhooks/events")
check "an endpoint without a secret needs the REST authentication: 401" '[ "${r%% *}" = 401 ] && [ "$(count)" = "$before" ]'
r=$(ce -H 'Content-Type: application/cloudevents+json; charset=utf-8' \
  -d '{"specversion": "1.0", "id": "evt-1", "source": "/shop", "type": "order.placed", "time": "2026-11-27T10:00:00Z", "datacontenttype": "application/json", "data": {"orderId": "o-1", "total": 42.5}}')
o1=$(echo "${r#* }" | jq -r .instanceId)
check "structured mode: order.placed starts a shipment (message start event)" '[ "${r%% *}" = 202 ] && [ "$(sql "select definition_key from process_instance where id = '\''$o1'\''")" = shipment ] && [ "$(var_of "$o1" total)" = 42.5 ]'
r=$(ce -H 'Content-Type: application/cloudevents+json' \
  -d '{"specversion": "1.0", "id": "evt-1", "source": "/shop", "type": "order.placed", "data": {"orderId": "o-1"}}')
check "the same id and source again: duplicate" '[ "${r%% *}" = 200 ] && echo "${r#* }" | jq -e ".duplicate == true and .instanceId == \"$o1\"" >/dev/null && [ "$(n_of shipment)" = 1 ]'
r=$(ce -H 'Content-Type: application/cloudevents+json' \
  -d '{"specversion": "1.0", "id": "evt-1", "source": "/other-shop", "type": "order.placed", "data": {"orderId": "o-2"}}')
check "the same id from another source is another event" '[ "${r%% *}" = 202 ] && [ "$(n_of shipment)" = 2 ]'
r=$(ce -H 'ce-specversion: 1.0' -H 'ce-id: pay-1' -H 'ce-source: /payments' -H 'ce-type: order.paid' -H 'ce-subject: o-1' \
  -H 'ce-paymentmethod: card' -H 'Content-Type: application/json' -d '{"paidAmount": 42.5}')
check "binary mode: order.paid with subject o-1 correlates to the waiting shipment" '[ "${r%% *}" = 202 ] && echo "${r#* }" | jq -e ".action == \"correlate\" and .correlations == 1 and .instanceId == \"$o1\"" >/dev/null && [ "$(sql "select count(*) from user_task where instance_id = '\''$o1'\''")" = 1 ] && [ "$(var_of "$o1" paidAmount)" = 42.5 ]'
before=$(count)
r=$(ce -H 'ce-specversion: 1.0' -H 'ce-id: pay-2' -H 'ce-source: /payments' -H 'ce-type: order.paid' -H 'ce-subject: o-404' \
  -H 'Content-Type: application/json' -d '{}')
check "no subscription matches: 422 no_match, nothing recorded" '[ "${r%% *}" = 422 ] && echo "${r#* }" | jq -e ".error == \"no_match\"" >/dev/null && [ "$(count)" = "$before" ]'
r=$(ce -H 'ce-specversion: 1.0' -H 'ce-id: pay-3' -H 'ce-source: /payments' -H 'ce-subject: o-2' -H 'Content-Type: application/json' -d '{}')
check "a missing required attribute: 400 naming it" '[ "${r%% *}" = 400 ] && echo "${r#* }" | grep -q "\\\\\"type\\\\\" (header ce-type)" && [ "$(count)" = "$before" ]'
r=$(ce -H 'ce-specversion: 0.3' -H 'ce-id: pay-4' -H 'ce-source: /payments' -H 'ce-type: order.paid' -d '{}')
check "specversion 0.3: 400 naming specversion" '[ "${r%% *}" = 400 ] && echo "${r#* }" | grep -q specversion && [ "$(count)" = "$before" ]'
r=$(ce -H 'Content-Type: application/cloudevents-batch+json' -d '[]')
check "batch mode: 415 with a clear message" '[ "${r%% *}" = 415 ] && echo "${r#* }" | grep -q "batch mode" && [ "$(count)" = "$before" ]'
r=$(ce -H 'Content-Type: application/cloudevents+json' -d '{"specversion": "1.0", "id": "x", ')
check "structured mode, malformed JSON: 400" '[ "${r%% *}" = 400 ] && [ "$(count)" = "$before" ]'
r=$(ce -H 'ce-specversion: 1.0' -H 'ce-id: pay-5' -H 'ce-source: /payments' -H 'ce-type: order.paid' -H 'ce-subject: o-2' \
  -H 'Content-Type: application/json' -d '{"paid": tru')
check "binary mode, malformed data: 400" '[ "${r%% *}" = 400 ] && [ "$(count)" = "$before" ]'

# an endpoint declared by a deployed process (camunda:properties), mapped by inline Lua
curl -s -u ops:pw-ops:x -F "s.bpmn=@$wh/signup.bpmn;filename=signup.bpmn" "$base/deployment/create" >/dev/null
r=$(http -X POST -u ops:pw-ops:x -H 'Content-Type: application/json' -H 'Idempotency-Key: signup-1' \
  -d '{"email": "ada@example.com", "plan": "pro"}' "$root/webhooks/signup")
s1=$(echo "${r#* }" | jq -r .instanceId)
got=$(sql "select definition_key || ' ' || business_key from process_instance where id = '$s1'")
check "a deployed process's endpoint starts it" '[ "${r%% *}" = 202 ] && [ "$got" = "signup ada@example.com" ] && [ "$(var_of "$s1" plan)" = "\"pro\"" ]'
r=$(http -X POST -u ops:pw-ops:x -H 'Content-Type: application/json' -H 'Idempotency-Key: signup-1' \
  -d '{"email": "ada@example.com", "plan": "pro"}' "$root/webhooks/signup")
check "its Idempotency-Key de-duplicates" '[ "${r%% *}" = 200 ] && echo "${r#* }" | jq -e ".duplicate == true" >/dev/null && [ "$(n_of signup)" = 1 ]'
r=$(http -X POST -u ops:pw-ops:x -H 'Content-Type: application/json' -d '{"name": "no email"}' "$root/webhooks/signup")
check "its mapping returning nothing: 422" '[ "${r%% *}" = 422 ] && [ "$(n_of signup)" = 1 ]'

m=$(curl -s -u ops:pw-ops:x "$root/metrics")
check "metrics count accepted, duplicate and refused webhooks" 'echo "$m" | grep -q "^bpmnd_webhook_events_total{outcome=\"accepted\"} 8$" && echo "$m" | grep -q "^bpmnd_webhook_events_total{outcome=\"duplicate\"} 4$" && echo "$m" | grep -Eq "^bpmnd_webhook_events_total\{outcome=\"refused\"\} [1-9][0-9]*$"'
check "the cleanup keeps recent de-duplication keys" '$c history cleanup >/dev/null && [ "$(sql "select count(*) from inbound_event")" -ge 4 ]'
sql "update inbound_event set received_at = now() - interval '8 days'"
check "and removes those past the retention (7 days)" '$c history cleanup >/dev/null && [ "$(sql "select count(*) from inbound_event")" = 0 ]'
rm -f "$conf" "$bad" "$tampered" "$bpmnd_log" /tmp/http-body.$$
echo "webhooks: $pass passed, $fail failed"
[ $fail -eq 0 ]
