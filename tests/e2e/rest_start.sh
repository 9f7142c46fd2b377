#!/usr/bin/env bash
# Starts over REST by key and by id: bpmnd keeps the latest definition of a
# key per connection and checks it inside the start's own transaction, so a
# version deployed, suspended or activated by another process takes effect
# at once, on every HTTP thread; refusals change nothing.
set -u
. "$(dirname "$0")/lib.sh"
fresh_schema
start_bpmnd --http-threads 3 --worker-threads 0
work=$(mktemp -d)
cp "$data/quick.bpmn" "$work/quick.bpmn"
$c deploy "$work/quick.bpmn" >/dev/null
latest() { sql "select id from process_definition where key = 'quick' order by version desc limit 1"; }
n() { sql "select count(*) from process_instance"; }
start_key() { http -X POST -H 'Content-Type: application/json' -d '{}' "$base/process-definition/key/quick/start"; }
# every HTTP thread caches version 1
defs=$(for _ in $(seq 12); do start_key | cut -d' ' -f2- | jq -r .definitionId; done | sort -u)
v1=$(latest)
check "by key: version 1" '[ "$defs" = "$v1" ]'

# another process deploys version 2
sed 's/<bpmn:process id="quick"/<bpmn:process name="v2" id="quick"/' "$data/quick.bpmn" > "$work/quick.bpmn"
$c deploy "$work/quick.bpmn" >/dev/null
v2=$(latest)
defs=$(for _ in $(seq 12); do start_key | cut -d' ' -f2- | jq -r .definitionId; done | sort -u)
check "a version deployed by another process is started at once, by every thread" '[ "$v2" != "$v1" ] && [ "$defs" = "$v2" ]'

# another process suspends it
sql "update process_definition set suspended = true where id = '$v2'" >/dev/null
before=$(n)
outs=$(for _ in $(seq 6); do start_key | cut -c1-3; done | sort -u)
r=$(start_key)
check "suspended: 500 as Camunda says it, on every thread" '[ "$outs" = 500 ] && echo "${r#* }" | jq -e ".type == \"ProcessEngineException\" and (.message | test(\"is suspended\"))" >/dev/null'
r=$(http -X POST -H 'Content-Type: application/json' -d '{}' "$base/process-definition/$v2/start")
check "by id too" '[ "${r%% *}" = 500 ] && echo "${r#* }" | grep -q "is suspended"'
check "and nothing was started" '[ "$(n)" = "$before" ]'
sql "update process_definition set suspended = false where id = '$v2'" >/dev/null
defs=$(for _ in $(seq 6); do start_key | cut -d' ' -f2- | jq -r .definitionId; done | sort -u)
check "active again: started" '[ "$defs" = "$v2" ] && [ "$(n)" = $((before + 6)) ]'

# the latest version deleted by another process: the one before it is the latest again
sql "delete from process_instance where definition_id = '$v2'; delete from process_definition where id = '$v2'" >/dev/null
defs=$(for _ in $(seq 6); do start_key | cut -d' ' -f2- | jq -r .definitionId; done | sort -u)
check "the latest version deleted: version 1 again" '[ "$defs" = "$v1" ]'
r=$(http -X POST -H 'Content-Type: application/json' -d '{}' "$base/process-definition/$v2/start")
check "the deleted one by id: 404" '[ "${r%% *}" = 404 ] && echo "${r#* }" | grep -q "No matching definition with id"'
r=$(http -X POST -H 'Content-Type: application/json' -d '{}' "$base/process-definition/key/nothing/start")
check "an unknown key: 404 as Camunda says it" '[ "${r%% *}" = 404 ] && echo "${r#* }" | jq -e ".message == \"No matching process definition with key: nothing and no tenant-id\"" >/dev/null'
rm -rf "$work" /tmp/http-body.$$
echo "rest_start: $pass passed, $fail failed"
[ $fail -eq 0 ]
