#!/usr/bin/env bash
# Job rows as the diagram describes them: a Camunda 8 service task's job
# counts failures down from zeebe:taskDefinition retries (default 3); a
# Camunda 7 external task keeps retries NULL until its first failure.
set -u
. "$(dirname "$0")/lib.sh"

fresh_schema
$c deploy "$data/zeebe-jobs.bpmn" >/dev/null
$c deploy "$data/external.bpmn" >/dev/null
z=$($c start zeebe-jobs)
x=$($c start external)
job() { sql "select kind || ' ' || coalesce(topic, '-') || ' ' || coalesce(retries::text, 'null') from job where instance_id = '$1' and element_id = '$2'"; }
check "a zeebe job carries the diagram's retries" '[ "$(job "$z" Charge)" = "job charge 5" ]'
check "a zeebe job without retries gets 3" '[ "$(job "$z" Notify)" = "job notify 3" ]'
check "an external task has no retries before its first failure" '[ "$(job "$x" Fetch)" = "external fetch null" ]'

jz=$(sql "select id from job where instance_id = '$z' and element_id = 'Charge'")
sql "update job set retries = 0 where id = '$jz'" >/dev/null
$c retry "$jz" >/dev/null
check "a retried zeebe job gets the diagram's retries back" '[ "$(job "$z" Charge)" = "job charge 5" ]'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
