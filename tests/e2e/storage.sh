#!/usr/bin/env bash
# What a waiting instance keeps in PostgreSQL (W5: at most 2 KB each): the
# state document without the members its row has as columns, task rows that
# repeat nothing, one history row for an element entered and left in one
# step, time-ordered ids; and all of it read back so the instance carries on.
set -u
. "$(dirname "$0")/lib.sh"

fresh_schema
inbox="$src/tests/bench/models/user-inbox.bpmn"
$c deploy "$inbox" >/dev/null
id=$($c start user-inbox --vars '{"user": "ann"}' --business-key B-7)
id2=$($c start user-inbox --vars '{"user": "bob"}')

doc=$(sql "select state_json::text from process_instance where id = '$id'")
check "the state document does not repeat the row's columns" '[ "$(sql "select string_agg(k, '"'"','"'"' order by k) from process_instance, json_object_keys(state_json) k where id = '"'"'$id'"'"'")" = "elements,nextId,waits" ] && ! grep -q "$id" <<<"$doc"'
check "nor default members of the wait" '! grep -Eq "null|\\[\\]|\"priority\"" <<<"$doc"'
check "a root instance is its own root" '[ "$(sql "select coalesce(root_instance_id, id) = id from process_instance where id = '"'"'$id'"'"'")" = t ]'
row=$(sql "select assignee || ' ' || priority || ' ' || coalesce(data::text, '-') || ' ' || coalesce(candidate_groups::text, '-') from user_task where instance_id = '$id'")
check "a task row keeps its properties in columns only" '[ "$row" = "ann 50 - -" ]'
trace() { sql "select string_agg(kind || ':' || coalesce(element_id, '-'), ',' order by seq) from history where instance_id = '$1'"; }
check "an element entered and left in one step is one history row" '[ "$(trace "$id")" = "instance-start:-,variable:-,leave:Start,enter:First,task-create:First" ]'
check "a variable created has no old value in its history" '[ "$(sql "select detail::text from history where instance_id = '"'"'$id'"'"' and kind = '"'"'variable'"'"'")" = "{\"new\": \"ann\", \"name\": \"user\"}" ]'
check "ids are time-ordered UUIDs (version 7)" '[ "$(sql "select count(*) from process_instance where id ~ '"'"'^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'"'"'")" = 2 ] && [ "$(sql "select count(*) from user_task where id like '"'"'%-7%'"'"'")" = 2 ] && [ "$id" \< "$id2" ]'

# read back: the instance carries on from what was stored
t=$(sql "select id from user_task where instance_id = '$id'")
$c task complete "$t" --user ann >/dev/null
check "the instance continues from its stored state" '[ "$(trace "$id")" = "instance-start:-,variable:-,leave:Start,enter:First,task-create:First,leave:First,enter:Second,task-create:Second" ]'
check "with its business key and variables" '[ "$(sql "select business_key from process_instance where id = '"'"'$id'"'"'")" = B-7 ] && [ "$(sql "select assignee from user_task where instance_id = '"'"'$id'"'"'")" = ann ]'
t=$(sql "select id from user_task where instance_id = '$id'")
$c task complete "$t" --user ann >/dev/null
check "and ends" '[ "$(trace "$id")" = "instance-start:-,variable:-,leave:Start,enter:First,task-create:First,leave:First,enter:Second,task-create:Second,leave:Second,leave:End,instance-end:-" ] && [ "$(sql "select state from process_instance where id = '"'"'$id'"'"'")" = completed ]'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
