#!/usr/bin/env bash
# W3 (async continuations) and W6 (timers due at once) beside pgbench
# jobcycle_cte from ../shared/bench/pg-limits: one job-executor cycle as one
# statement (SKIP LOCKED acquire + delete, token update, history row, next
# job), run on its own schema.sql in a separate database of the same
# throwaway cluster, at the same client counts, back to back with ours.
# Prints ours / jobcycle_cte for each client count.
# Usage: tests/bench/w3_w6.sh [BUILD_DIR]
#   env: SECONDS_PER_RUN (default 10: the pgbench runs, and W3 parks 2,000 x
#        that many instances), W6_COUNT (timers due at once, default 100000),
#        CLIENTS (default "1 4 16"), WORKLOADS (default "w3 w6")
source "$(dirname "$0")/lib.sh" "$@"
dur=${SECONDS_PER_RUN:-10}
w6_count=${W6_COUNT:-100000}
limits=${PG_LIMITS:-$root/../shared/bench/pg-limits}
[ -f "$limits/jobcycle_cte.sql" ] || { echo "no $limits/jobcycle_cte.sql" >&2; exit 1; }

sql "create database pglimits" >/dev/null
psql_q "$(url_db pglimits)" -f "$limits/schema.sql" >/dev/null
# as pg-limits/run.sh resets it for jobcycle: 100,000 due jobs
reset_jobcycle() {
  sql_db pglimits "TRUNCATE history, jobs, ins1 RESTART IDENTITY" >/dev/null
  sql_db pglimits "INSERT INTO jobs(instance_id, token_id, kind, due_at) SELECT g, g, 'service-task', now() - interval '1 hour' + g * interval '1 ms' FROM generate_series(1,100000) g" >/dev/null
  sql_db pglimits "VACUUM ANALYZE tokens, history, jobs, ins1" >/dev/null
  sql_db pglimits "CHECKPOINT" >/dev/null
}
cte() { reset_jobcycle; pgb "$1" -T "$dur" -f "$limits/jobcycle_cte.sql" "$(url_db pglimits)"; }

for w in ${WORKLOADS:-w3 w6}; do
  for c in $clients; do
    reset_bpmnd
    if [ "$w" = w3 ]; then
      ours=$("$bench" w3 "$root/tests/bench/models/async-one.bpmn" --threads "$c" --seconds "$dur")
      rate=$(echo "$ours" | field jobs/s)
      unit="jobs/s"
    else
      ours=$("$bench" w6 "$root/tests/bench/models/timer-date.bpmn" --count "$w6_count" --threads "$c" 2>/dev/null)
      rate=$(echo "$ours" | field fired/s)
      unit="fired/s"
    fi
    tps=$(cte "$c")
    printf '%s vs jobcycle_cte  threads %2d  bpmnd %8.0f %-8s  jobcycle_cte %8.0f tps   ratio %s\n' \
      "$(echo "$w" | tr a-z A-Z)" "$c" "$rate" "$unit" "$tps" "$(ratio "$rate" "$tps")"
    echo "    $ours"
  done
done
