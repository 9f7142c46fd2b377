#!/usr/bin/env bash
# Several worker processes on one database: each job runs exactly once, the
# work is shared between the processes, and jobs of the same instance never
# overwrite each other's variables (four parallel async branches each add one
# to a counter; a lost update would leave it below four).
set -u
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

fresh_schema
$c clock --offset PT0S >/dev/null
$c deploy "$data/fanout.bpmn" >/dev/null
N=100
for i in $(seq 1 $N); do $c start fanout >/dev/null; done
check "$N instances wait with four jobs each" '[ "$(sql "select count(*) from job where kind = '"'"'async'"'"'")" = $((4 * N)) ]'

pids=()
for k in 1 2 3; do
  $c worker --threads 2 >"$tmp/w$k.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 1 600); do
  [ "$(sql "select count(*) from job where kind = 'async'")" = 0 ] && break
  sleep 0.05
done
kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null

check "every job has run" '[ "$(sql "select count(*) from job")" = 0 ]'
check "every instance completed" '[ "$(sql "select count(*) from process_instance where state = '"'"'completed'"'"'")" = $N ]'
check "no branch ran twice" '[ "$(sql "select count(*) from (select instance_id, element_id from history where kind = '"'"'leave'"'"' and element_id in ('"'"'A'"'"','"'"'B'"'"','"'"'C'"'"','"'"'D'"'"') group by 1, 2 having count(*) <> 1) x")" = 0 ]'
check "every branch ran once per instance" '[ "$(sql "select count(*) from history where kind = '"'"'leave'"'"' and element_id in ('"'"'A'"'"','"'"'B'"'"','"'"'C'"'"','"'"'D'"'"')")" = $((4 * N)) ]'
check "no update was lost: every counter is 4" '[ "$(sql "select count(*) from variable where name = '"'"'count'"'"' and value = '"'"'4'"'"'::jsonb")" = $N ]'
# each worker says on exit how many jobs it ran: "N job(s) run, M failed"
ran() { sed -n 's/^\([0-9]*\) job(s) run.*/\1/p' "$tmp"/w*.log; }
check "the workers ran $((4 * N)) jobs between them" '[ "$(ran | awk '"'"'{ s += $1 } END { print s }'"'"')" = $((4 * N)) ]'
check "more than one process did work" '[ "$(ran | grep -vc "^0$")" -ge 2 ]'
check "no worker reported an error" '! grep -q "^bpmnctl worker:" "$tmp"/w*.log'
[ $fail -eq 0 ] || { cat "$tmp"/w*.log | head -20; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
