#!/usr/bin/env bash
# Crash safety and restarts: a worker killed with SIGKILL in the middle of a
# load loses nothing (its locks expire and another worker takes the jobs
# over; no step runs twice; every instance's history is complete); workers
# carry on when PostgreSQL restarts under them; timers fire in due order under
# a moved clock, across a restart.
set -u
. "$(dirname "$0")/lib.sh"
as_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }

fresh_schema
$c clock --offset PT0S >/dev/null
$c deploy "$data/quick.bpmn" >/dev/null
N=150
for i in $(seq 1 $N); do $c start quick --vars "{\"nap\": \"PT$(( (i % 5) + 1 ))M\"}" >/dev/null; done
check "$N instances wait for their first job" '[ "$(sql "select count(*) from job where kind = '"'"'async'"'"'")" = $N ]'

# a worker killed in the middle (batches of 8 jobs per transaction, so the
# kill lands between them; a batch is all or nothing)
$c worker --threads 2 --batch 8 >/dev/null 2>&1 &
w=$!
for _ in $(seq 1 100); do
  [ "$(sql "select count(*) from history where kind = 'leave' and element_id = 'Work'")" -gt 20 ] && break
  sleep 0.05
done
kill -9 $w; wait $w 2>/dev/null
done_before=$(sql "select count(*) from history where kind = 'leave' and element_id = 'Work'")
check "the killed worker had done part of the work" '[ "$done_before" -gt 0 ] && [ "$done_before" -lt $N ]'

# PostgreSQL restarted while a worker runs: it reconnects and carries on
$c clock --offset PT6M >/dev/null   # the killed worker's locks (5 minutes) have expired
started=$(sql "select pg_postmaster_start_time()")
$c worker >/dev/null 2>&1 &
w=$!
sleep 0.3
as_pg "'$BPMND_TEST_PG_BIN/pg_ctl' -D '$BPMND_TEST_PG_DIR/data' -m fast -w restart -o \"-k '$BPMND_TEST_PG_DIR' -c listen_addresses='' -p $(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$BPMND_DATABASE_URL")\"" >/dev/null 2>&1
for _ in $(seq 1 200); do
  [ "$(sql "select count(*) from job where kind = 'async'" 2>/dev/null)" = 0 ] && break
  sleep 0.1
done
kill $w; wait $w 2>/dev/null
check "PostgreSQL did restart under the worker" '[ "$(sql "select pg_postmaster_start_time()")" != "$started" ]'
check "after the restart every async job has run" '[ "$(sql "select count(*) from job where kind = '"'"'async'"'"'")" = 0 ]'
check "no step ran twice" '[ "$(sql "select count(*) from (select instance_id from history where kind = '"'"'leave'"'"' and element_id in ('"'"'Work'"'"', '"'"'More'"'"') group by instance_id having count(*) <> 2) x")" = 0 ]'
check "every instance now waits at its timer" '[ "$(sql "select count(*) from job where kind = '"'"'timer'"'"'")" = $N ]'

# timers in due order, under a moved clock
$c clock --offset PT1H >/dev/null
$c worker --once >/dev/null 2>&1
check "every timer fired and every instance ended" '[ "$(sql "select count(*) from process_instance where state = '"'"'completed'"'"'")" = $N ]'
check "they fired in due order" '[ "$(sql "select count(*) from (select at, lag(at) over (order by seq) as prev from history where kind = '"'"'leave'"'"' and element_id = '"'"'Nap'"'"') x where prev > at")" = 0 ]'
check "each fired at its due time, not when it was noticed" '[ "$(sql "select count(distinct at) from history where kind = '"'"'leave'"'"' and element_id = '"'"'Nap'"'"'")" -ge 5 ]'
check "no history has a gap: start, both tasks, the timer and the end for each" '[ "$(sql "select count(*) from (select instance_id from history group by instance_id having count(*) filter (where kind = '"'"'instance-start'"'"') = 1 and count(*) filter (where kind = '"'"'instance-end'"'"') = 1 and count(*) filter (where kind = '"'"'leave'"'"') = 5) x")" = $N ]'
$c clock --offset PT0S >/dev/null
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
