#!/usr/bin/env bash
# The job executor: an async continuation runs in a worker, a failing job is
# retried after its retry cycle's interval and becomes an incident when the
# retries are used up, `bpmnctl retry` gives them back, and four worker
# threads share many jobs without running one twice.
set -u
. "$(dirname "$0")/lib.sh"

fresh_schema
$c clock --offset PT0S >/dev/null
$c deploy "$data/async.bpmn" >/dev/null
$c deploy "$data/order.bpmn" >/dev/null
id=$($c start async)
check "asyncBefore leaves a job instead of running the script" '[ "$(sql "select kind from job where instance_id = '"'"'$id'"'"'")" = async ]'
out=$($c worker --once 2>&1)
check "the first run fails and will be retried" 'grep -q "will retry" <<<"$out"'
check "one retry left, due 10 s later" '[ "$(sql "select retries from job where instance_id = '"'"'$id'"'"'")" = 1 ]'
out=$($c worker --once 2>&1)
check "not due yet: nothing runs" 'grep -q "^0 job(s) run, 0 failed" <<<"$out"'
$c clock --offset PT11S >/dev/null
out=$($c worker --once 2>&1)
check "the second failure opens an incident" 'grep -q "no retries left: incident" <<<"$out"'
check "the incident is listed with the job" '[ "$(sql "select count(*) from incident where type = '"'"'failedJob'"'"' and resolved_at is null")" = 1 ]'
check "the instance is marked" '[ "$($c instances --state incident --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")" = 1 ]'
inc=$(sql "select id from incident where resolved_at is null")
$c clock --offset P1500D >/dev/null
$c retry "$inc" >/dev/null
check "retry resolves the incident" '[ "$(sql "select count(*) from incident where resolved_at is null")" = 0 ]'
out=$($c worker --once 2>&1)
check "the retried job runs" 'grep -q "^1 job(s) run, 0 failed" <<<"$out"'
check "and the instance completes" '[ "$(sql "select state from process_instance where id = '"'"'$id'"'"'")" = completed ]'
check "the failures are in the history" '[ "$(sql "select count(*) from history where instance_id = '"'"'$id'"'"' and kind = '"'"'job-failed'"'"'")" = 2 ]'

# many jobs, four threads: each runs exactly once
for i in $(seq 1 40); do $c start async >/dev/null; done
out=$($c worker --once --threads 4 2>&1)
check "four threads run 40 jobs" 'grep -q "^40 job(s) run, 0 failed" <<<"$out"'
check "every instance ran its script once" '[ "$(sql "select count(*) from history where kind = '"'"'leave'"'"' and element_id = '"'"'Later'"'"'")" = 41 ] && [ "$(sql "select count(*) from process_instance where state = '"'"'completed'"'"'")" = 41 ]'

# timer start events: armed at deploy, each occurrence starts an instance
$c clock --offset PT0S >/dev/null
$c deploy "$data/daily.bpmn" >/dev/null
check "a timer start event is armed at deploy" '[ "$(sql "select count(*) from start_timer")" = 1 ]'
$c worker --once >/dev/null 2>&1
check "not before it is due" '[ "$(sql "select count(*) from process_instance where definition_key = '"'"'daily'"'"'")" = 0 ]'
$c clock --offset PT61M >/dev/null
$c worker --once >/dev/null 2>&1
check "the first occurrence starts an instance" '[ "$(sql "select count(*) from process_instance where definition_key = '"'"'daily'"'"'")" = 1 ]'
$c clock --offset PT121M >/dev/null
$c worker --once >/dev/null 2>&1
$c clock --offset PT300M >/dev/null
$c worker --once >/dev/null 2>&1
check "R2: two occurrences, then the timer is retired" '[ "$(sql "select count(*) from process_instance where definition_key = '"'"'daily'"'"'")" = 2 ] && [ "$(sql "select count(*) from start_timer")" = 0 ]'

# a message sent before anything waits for it is kept for its time to live
$c clock --offset PT0S >/dev/null
id4=$($c start order --business-key B-9)
out=$($c correlate Paid --business-key B-9 --ttl PT1H)
check "an early message is buffered" 'grep -q buffered <<<"$out" && [ "$(sql "select count(*) from message_buffer")" = 1 ]'
for el in Review PackA PackB; do
  t=$($c tasks --instance "$id4" --json | python3 -c "import json,sys; print([x['id'] for x in json.load(sys.stdin) if x['element_id'] == '$el'][0])")
  $c task complete "$t" >/dev/null
done
check "it is delivered when the subscription opens" '[ "$(sql "select count(*) from message_buffer")" = 0 ] && [ "$(sql "select count(*) from job where instance_id = '"'"'$id4'"'"' and kind = '"'"'timer'"'"'")" = 1 ]'

# history levels and retention
hid=$(BPMND_HISTORY=none $c start order)
check "history level none writes no audit rows" '[ "$(sql "select count(*) from history where instance_id = '"'"'$hid'"'"'")" = 0 ]'
aid=$(BPMND_HISTORY=activity $c start order --vars '{"x": 1}')
check "history level activity keeps elements but not variables" '[ "$(sql "select count(*) from history where instance_id = '"'"'$aid'"'"' and kind = '"'"'variable'"'"'")" = 0 ] && [ "$(sql "select count(*) from history where instance_id = '"'"'$aid'"'"' and kind = '"'"'enter'"'"'")" -gt 0 ]'
sql "update process_definition set history_ttl = '1' where key = 'async'" >/dev/null
ended=$(sql "select count(*) from process_instance where definition_key = 'async' and state = 'completed'")
$c clock --offset P1502D >/dev/null
out=$($c history cleanup)
check "retention removes ended instances past historyTimeToLive, with their history" 'grep -q "^$ended ended" <<<"$out" && [ "$(sql "select count(*) from process_instance where definition_key = '"'"'async'"'"'")" = 0 ] && [ "$(sql "select count(*) from history h where not exists (select 1 from process_instance i where i.id = h.instance_id)")" = 0 ]'
check "active instances and other definitions are kept" '[ "$(sql "select count(*) from process_instance where definition_key = '"'"'order'"'"'")" -ge 3 ]'
$c cancel "$hid" --user ops >/dev/null
check "operator actions are in the history with the operator" '[ "$(sql "select count(*) from history where instance_id = '"'"'$hid'"'"' and kind = '"'"'operation'"'"' and user_id = '"'"'ops'"'"'")" = 1 ]'
# a running worker sleeps until its next job is due (at most 30 s); moving
# the clock wakes it, so a timer made due by `bpmnctl clock` fires at once
$c clock --offset PT0S >/dev/null
$c deploy "$data/quick.bpmn" >/dev/null
$c worker >/tmp/worker-clock.$$.log 2>&1 &
wpid=$!
qid=$($c start quick --vars '{"nap": "P1D"}')
for _ in $(seq 100); do
  [ "$(sql "select count(*) from job where instance_id = '$qid' and kind = 'timer'")" = 1 ] && break
  sleep 0.1
done
sleep 1.5 # the worker is idle now, its next job a day away
t0=$(date +%s%N)
$c clock --offset P1DT1M >/dev/null
for _ in $(seq 50); do
  [ "$(sql "select state from process_instance where id = '$qid'")" = completed ] && break
  sleep 0.1
done
took=$(( ($(date +%s%N) - t0) / 1000000 ))
check "a moved clock wakes an idle worker: the timer fired within ${took} ms" '[ "$(sql "select state from process_instance where id = '"'"'$qid'"'"'")" = completed ] && [ $took -lt 4000 ]'
kill $wpid 2>/dev/null; wait $wpid 2>/dev/null
rm -f /tmp/worker-clock.$$.log
$c clock --offset PT0S >/dev/null
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
