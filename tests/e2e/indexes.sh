#!/usr/bin/env bash
# Every hot query uses an index: with 20,000 instances and their rows in
# place, EXPLAIN of each query the engine runs per command must not scan a
# whole runtime table.
set -u
build=$1
[ -n "${BPMND_TEST_DATABASE_URL:-}" ] || { echo "needs BPMND_TEST_DATABASE_URL: run under tools/with-postgres"; exit 77; }
export BPMND_DATABASE_URL="$BPMND_TEST_DATABASE_URL"
c="$build/adapters/cli/bpmnctl"
pass=0 fail=0
sql() { psql -qAt "$BPMND_DATABASE_URL" -c "$1"; }
psql -q "$BPMND_DATABASE_URL" -c "drop schema public cascade; create schema public" >/dev/null 2>&1
$c db migrate >/dev/null
psql -q "$BPMND_DATABASE_URL" >/dev/null <<'SQL'
insert into deployment (id, name) values ('d', 'd');
insert into resource (deployment_id, name, bytes, checksum) values ('d', 'x.bpmn', '', '');
insert into process_definition (id, key, version, deployment_id, resource_name) values ('p:1:d', 'p', 1, 'd', 'x.bpmn');
insert into start_trigger select 'p:1:d', 'message', 'm' || g, 'S' || g from generate_series(1, 5000) g;
insert into process_instance (id, definition_id, definition_key, business_key, state, state_json)
  select 'i' || g, 'p:1:d', 'p', 'bk' || g, case when g % 3 = 0 then 'completed' else 'active' end, '{}'
  from generate_series(1, 20000) g;
insert into user_task (id, instance_id, wait_id, element_id, definition_id, assignee, candidate_groups)
  select 't' || g, 'i' || g, 1, 'T', 'p:1:d', case when g % 10 = 0 then 'u' || (g % 100) end, array['g' || (g % 50)]
  from generate_series(1, 20000) g;
insert into job (id, instance_id, wait_id, kind, element_id, definition_id, topic, due_at)
  select 'j' || g, 'i' || g, 2, case when g % 4 = 0 then 'external' else 'timer' end, 'J', 'p:1:d', 'topic' || (g % 20),
         now() + (g || ' seconds')::interval from generate_series(1, 20000) g;
insert into subscription (instance_id, wait_id, kind, name, correlation_key, element_id, business_key)
  select 'i' || g, 3, 'message', 'msg' || (g % 100), 'k' || g, 'M', 'bk' || g from generate_series(1, 20000) g;
insert into variable (instance_id, scope_id, name, value) select 'i' || g, 1, 'v' || (g % 5), to_jsonb(g) from generate_series(1, 20000) g;
insert into history (instance_id, kind, element_id) select 'i' || (g % 20000), 'enter', 'E' from generate_series(1, 60000) g;
analyze;
SQL
check_plan() { # name, query
  plan=$(psql -qAt "$BPMND_DATABASE_URL" -c "explain $2")
  if grep -Eq "Seq Scan on (process_instance|user_task|job|subscription|variable|history|start_trigger)" <<<"$plan"; then
    fail=$((fail+1)); echo "FAIL: $1 scans a whole table:"; echo "$plan"
  else pass=$((pass+1)); fi
}
check_plan "lock an instance" "select definition_id, state_json from process_instance where id = 'i77' for update"
check_plan "instances by business key" "select id from process_instance where business_key = 'bk77'"
check_plan "an inbox by assignee" "select id from user_task where assignee = 'u7'"
check_plan "an inbox by candidate group" "select id from user_task where candidate_groups @> array['g7']::text[]"
check_plan "the waits of one instance (close a wait)" "delete from user_task where instance_id = 'i7' and wait_id = 1"
check_plan "a job's row by wait" "delete from job where instance_id = 'i7' and wait_id = 2"
check_plan "message subscriptions by name and key" "select instance_id from subscription where kind = 'message' and name = 'msg7' and correlation_key = 'k7'"
check_plan "message subscriptions by name and business key" "select s.instance_id from subscription s join process_instance i on i.id = s.instance_id where s.kind = 'message' and s.name = 'msg7' and s.business_key = 'bk107' and i.state = 'active' and not i.suspended order by s.created_at limit 1"
check_plan "due jobs" "select id from job where kind in ('async', 'timer') and due_at <= now() + interval '10 seconds' order by due_at limit 8"
check_plan "due timers for one lookup" "select j.instance_id from job j where j.kind = 'timer' and j.due_at <= now() + interval '5 seconds' order by j.due_at limit 1"
check_plan "external tasks by topic" "select id from job where kind in ('external', 'job') and topic = 'topic3' order by priority desc, created_at limit 10"
check_plan "the variables of one instance" "select name, value from variable where instance_id = 'i7'"
check_plan "the history of one instance" "select * from history where instance_id = 'i7' order by seq"
check_plan "start triggers by message" "select definition_id from start_trigger where kind = 'message' and name = 'm7'"
check_plan "REST: the activity history of one instance" "select * from history_activity_instance a where a.instance_id = 'i7'"
check_plan "REST: the task history of one instance" "select * from history_task t where t.instance_id = 'i7'"
check_plan "REST: the variable history of one instance" "select * from history_variable v where v.instance_id = 'i7'"
check_plan "REST: the user operation log" "select * from history_user_operation o order by o.seq limit 20"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
