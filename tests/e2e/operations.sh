#!/usr/bin/env bash
# Operator actions through bpmnctl: process instance modification (cancel at
# an element, start before or after one, all instructions in one
# transaction), refused modifications that leave the instance exactly as it
# was, and the audit trail of cancel, suspend, resume, modify and retry with
# the operator, written in the transaction of the action itself.
set -u
. "$(dirname "$0")/lib.sh"

fresh_schema
$c deploy "$data/order.bpmn" >/dev/null
id=$($c start order --business-key M-1)
# every row of the instance, in a fixed order
dump() {
  sql "select (select row_to_json(i)::text from process_instance i where id = '$1')
    || (select coalesce(json_agg(t order by t.wait_id)::text, '') from user_task t where instance_id = '$1')
    || (select coalesce(json_agg(j order by j.wait_id)::text, '') from job j where instance_id = '$1')
    || (select coalesce(json_agg(s order by s.wait_id)::text, '') from subscription s where instance_id = '$1')
    || (select coalesce(json_agg(v order by v.scope_id, v.name)::text, '') from variable v where instance_id = '$1')
    || (select coalesce(json_agg(n order by n.id)::text, '') from incident n where instance_id = '$1')
    || (select coalesce(json_agg(h order by h.seq)::text, '') from history h where instance_id = '$1')"
}
tasks() { sql "select coalesce(string_agg(element_id, ',' order by element_id), '-') from user_task where instance_id = '$1'"; }

# refused: nothing changes
before=$(dump "$id")
out=$($c modify "$id" --cancel Review --start-before NoSuchTask --user olga 2>&1); rc=$?
check "an unknown element is refused by name" '[ $rc -ne 0 ] && grep -q "element \"NoSuchTask\" is not in process \"order\"" <<<"$out"'
check "the instance is exactly as it was" '[ "$(dump "$id")" = "$before" ]'
out=$($c modify "$id" --user olga 2>&1); rc=$?
check "a modification needs an instruction" '[ $rc -eq 2 ] && grep -q "usage" <<<"$out"'
out=$($c modify no-such-instance --cancel Review 2>&1); rc=$?
check "an unknown instance is a clear error" '[ $rc -ne 0 ] && grep -q "process instance \"no-such-instance\" does not exist" <<<"$out"'

# move the token: cancel at the review, start before packing A
out=$($c modify "$id" --cancel Review --start-before PackA --user olga)
check "modify reports what it did" 'grep -q "modified (2 instructions)" <<<"$out"'
check "the token moved from Review to PackA" '[ "$(tasks "$id")" = PackA ]'
check "the instance is still active" '[ "$(sql "select state from process_instance where id = '"'"'$id'"'"'")" = active ]'
op=$(sql "select seq from history where instance_id = '$id' and kind = 'operation'")
check "the history has the operation with the operator and its instructions" '[ "$(sql "select user_id || '"'"' '"'"' || (detail->>'"'"'operation'"'"') || '"'"' '"'"' || (detail->'"'"'instructions'"'"')::text from history where seq = '"'"'$op'"'"'")" = "olga modify [{\"type\": \"cancel\", \"activityId\": \"Review\"}, {\"type\": \"startBeforeActivity\", \"activityId\": \"PackA\"}]" ]'
check "followed by the cancellation of Review and the entry into PackA" '[ "$(sql "select string_agg(kind || '"'"':'"'"' || element_id, '"'"','"'"' order by seq) from history where instance_id = '"'"'$id'"'"' and seq > $op")" = "cancel:Review,enter:PackA,task-create:PackA" ]'
check "written in the transaction of the modification" '[ "$(sql "select count(distinct h.xmin::text) from history h where h.instance_id = '"'"'$id'"'"' and h.seq >= $op")" = 1 ] && [ "$(sql "select (select xmin from process_instance where id = '"'"'$id'"'"')::text = (select xmin from history where seq = $op)::text")" = t ]'

# start after PackA: its token goes on to the join, which waits for PackB
$c modify "$id" --cancel PackA --start-after PackA >/dev/null
check "start-after sends a token along the outgoing flow" '[ "$(tasks "$id")" = - ] && [ "$(sql "select state from process_instance where id = '"'"'$id'"'"'")" = active ]'
$c modify "$id" --start-before PackB >/dev/null
t=$(sql "select id from user_task where instance_id = '$id' and element_id = 'PackB'")
$c task complete "$t" >/dev/null
check "the join fires with the moved token" '[ "$(sql "select count(*) from subscription where instance_id = '"'"'$id'"'"' and name = '"'"'Paid'"'"'")" = 1 ]'

# an instruction that cannot run refuses the whole modification: nothing of
# the instructions before it is kept, and no incident is left behind
before=$(dump "$id")
out=$($c modify "$id" --start-before Review --start-after Fork --user olga 2>&1); rc=$?
check "an instruction that cannot run fails the modification, naming the element" '[ $rc -ne 0 ] && grep -q "incident at \"Fork\"" <<<"$out"'
check "and the instance is exactly as it was" '[ "$(dump "$id")" = "$before" ]'

# cancelling the last token cancels the instance (Camunda 7)
id2=$($c start order)
$c modify "$id2" --cancel Review --user olga >/dev/null
check "a modification that leaves no token terminates the instance" '[ "$(sql "select state from process_instance where id = '"'"'$id2'"'"'")" = terminated ]'

# suspend, resume, cancel: the operation and its effect in one transaction
id3=$($c start order --business-key M-3)
for op in suspend resume cancel; do
  $c $op "$id3" --user pat >/dev/null
  row=$(sql "select user_id || ' ' || (detail->>'operation') || ' ' || business_key || ' ' || (xmin::text = (select xmin::text from process_instance where id = '$id3')) from history where instance_id = '$id3' and kind = 'operation' order by seq desc limit 1")
  check "$op is in the history with the operator, in the same transaction" '[ "$row" = "pat $op M-3 true" ]'
done
out=$($c suspend "$id3" --user pat 2>&1); rc=$?
check "a refused operation leaves no history" '[ $rc -ne 0 ] && [ "$(sql "select count(*) from history where instance_id = '"'"'$id3'"'"' and kind = '"'"'operation'"'"'")" = 3 ]'
id4=$($c start order)
$c modify "$id4" --cancel Review >/dev/null
check "without --user the login running bpmnctl is the operator" '[ "$(sql "select user_id from history where instance_id = '"'"'$id4'"'"' and kind = '"'"'operation'"'"'")" = "$(id -un)" ]'

# retry: an exhausted job given its retries back, by the operator
$c deploy "$data/async.bpmn" >/dev/null
aid=$($c start async)
jid=$(sql "select id from job where instance_id = '$aid' limit 1")
sql "update job set retries = 0 where id = '$jid'" >/dev/null
$c retry "$jid" --user pat >/dev/null
check "retry is in the history with the operator" '[ "$(sql "select user_id || '"'"' '"'"' || (detail->>'"'"'job'"'"') from history where instance_id = '"'"'$aid'"'"' and kind = '"'"'operation'"'"'")" = "pat $jid" ]'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
