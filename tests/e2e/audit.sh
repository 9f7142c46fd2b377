#!/usr/bin/env bash
# bpmnctl audit and the auditors' SQL views: filters (business key, user,
# kind, element, time range, definition), table, JSON and CSV output, and
# audit_task_decision naming who decided what.
set -u
. "$(dirname "$0")/lib.sh"
fresh_schema
$c deploy "$data/inbox.bpmn" >/dev/null
id=$($c start refund --business-key R-7 --vars '{"amount": 120}' --user carol)
other=$($c start refund --business-key R-8)
task=$($c tasks --instance "$id" --json | jq -r '.[0].id')
$c task claim "$task" --user alice >/dev/null
$c task complete "$task" --user alice --vars '{"approved": true, "note": "ok, refund \"approved\""}' >/dev/null

out=$($c audit --business-key R-7 --json)
check "JSON: every event of R-7 and none of R-8" '[ "$(echo "$out" | jq "map(select(.business_key != \"R-7\")) | length")" = 0 ] && [ "$(echo "$out" | jq length)" -ge 6 ]'
check "in one global order" '[ "$(echo "$out" | jq "[.[].seq] == ([.[].seq] | sort)")" = true ]'
check "the start, by carol" '[ "$(echo "$out" | jq -r "map(select(.kind == \"instance-start\"))[0].user_id")" = carol ]'
check "--user alice: her claim and her completion" '[ "$($c audit --user alice --json | jq -r "map(.kind + \":\" + (.element_id // \"\")) | sort | join(\",\")")" = "enter:Pay,leave:Approve,task-claim:Approve,task-create:Pay,variable:,variable:" ]'
check "--kind and --element" '[ "$($c audit --kind task-claim,leave --element Approve --json | jq length)" = 2 ]'
check "--definition" '[ "$($c audit --definition refund --kind instance-start --json | jq length)" = 2 ]'
check "--from in the future finds nothing" '[ "$($c audit --from 2999-01-01T00:00:00Z --json)" = "[]" ]'
check "--to in the past finds nothing" '[ "$($c audit --to 2000-01-01T00:00:00Z --json)" = "[]" ]'
csv=$($c audit --business-key R-7 --csv)
check "CSV: a header and one line per event" '[ "$(echo "$csv" | head -1)" = "seq,at,instance_id,definition_key,business_key,kind,element_id,element_type,user_id,detail" ] && [ $(echo "$csv" | wc -l) = $(( $(echo "$out" | jq length) + 1 )) ]'
echo "$csv" > /tmp/audit-csv.$$
check "CSV quotes fields with commas and quotes" 'grep -qF "\"\"ok, refund \\\"\"approved" /tmp/audit-csv.$$'
rm -f /tmp/audit-csv.$$
check "the table has a header" '$c audit --instance "$id" | head -1 | grep -q "^at "'
check "view audit_task_decision: alice approved R-7" '[ "$(sql "select completed_by || '"'"':'"'"' || (decision->>'"'"'approved'"'"') from audit_task_decision where business_key = '"'"'R-7'"'"'")" = alice:true ]'
check "a bad option: usage, exit 2" '$c audit --bogus >/dev/null 2>&1; [ $? = 2 ]'
echo "audit: $pass passed, $fail failed"
[ $fail -eq 0 ]
