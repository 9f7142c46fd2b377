#!/usr/bin/env bash
# W8: the persisted 10-branch fork/join, in one transaction per instance
# (bench_durable w2 on ../shared/bench/peer/parallel10-lua.bpmn) and with
# async branches (bench_durable w8 on models/parallel10-async.bpmn: the fork
# leaves 10 jobs of one instance due together for the executor threads).
# Reports instances/s and the lock waits of the measured phase, which must be
# 0, counted three ways:
#   - log_lock_waits with deadlock_timeout = 1 ms: the server logs every
#     heavyweight lock wait of 1 ms or more, with the relation (counted here
#     between the bench's own log markers, by the relation waited on)
#   - pg_locks sampled every 5 ms by the bench: row lock requests (tuple,
#     transactionid) not granted, and any other ungranted request
#   - pg_stat_database.deadlocks, and job runs that failed (a conflict would
#     make the runtime retry or the job fail)
# References in the same run, in a separate database: pgbench step_batch10
# (10 engine steps in one commit) for the one-transaction variant, and
# jobcycle_cte / 10 (10 job cycles per instance) for the async one.
# Usage: tests/bench/w8.sh [BUILD_DIR]
#   env: SECONDS_PER_RUN (default 10), W8_COUNT (instances parked for the async
#        variant, default 5000), CLIENTS (default "1 4 16")
source "$(dirname "$0")/lib.sh" "$@"
dur=${SECONDS_PER_RUN:-10}
count=${W8_COUNT:-5000}
limits=${PG_LIMITS:-$root/../shared/bench/pg-limits}
one_tx=$root/../shared/bench/peer/parallel10-lua.bpmn
async=$root/tests/bench/models/parallel10-async.bpmn
log=$BPMND_TEST_PG_DIR/log

sql "alter system set log_lock_waits = on" >/dev/null
sql "alter system set deadlock_timeout = '1ms'" >/dev/null
sql "select pg_reload_conf()" >/dev/null
sql "create database pglimits" >/dev/null
psql_q "$(url_db pglimits)" -f "$limits/schema.sql" >/dev/null
reset_limits() { # $1: due jobs to create (jobcycle), or 0
  sql_db pglimits "TRUNCATE history, jobs, ins1 RESTART IDENTITY" >/dev/null
  [ "$1" -gt 0 ] && sql_db pglimits "INSERT INTO jobs(instance_id, token_id, kind, due_at) SELECT g, g, 'service-task', now() - interval '1 hour' + g * interval '1 ms' FROM generate_series(1,$1) g" >/dev/null
  sql_db pglimits "VACUUM ANALYZE tokens, history, jobs, ins1" >/dev/null
  sql_db pglimits "CHECKPOINT" >/dev/null
}

# log_lock_waits reports in the log lines after $1 between the bench's markers:
# "N lock waits (relation n, ..., or the lock when no relation is named), M
# relation extension waits". Lock waits on rows (a tuple, or the transaction
# that holds it) are commands of one instance queueing for each other: N must
# be 0. Extension waits are concurrent INSERTs growing the same table
# (history), which any insert workload has, the pgbench references included.
waits_since() {
  tail -n +"$(($1 + 1))" "$log" | awk '
    pending && /still waiting for|LOG:|ERROR:/ { by[what]++; pending = 0 }  # no CONTEXT line came: name the lock
    /bench_durable: w[0-9]+ (start|executors start)/ { on = 1 }
    /bench_durable: w[0-9]+ (end|executors end)/ { on = 0 }
    on && /still waiting for .* on extension of relation/ { ext++; next }
    on && /still waiting for/ {
      n++; pending = 1
      what = $0; sub(/.*still waiting for /, "", what); sub(/ after [0-9.]+ ms.*/, "", what)
      gsub(/tuple \([0-9]+,[0-9]+\)/, "a tuple", what); gsub(/transaction [0-9]+/, "a transaction", what); next }
    pending && /CONTEXT:/ {
      r = match($0, /relation "[^"]*"/) ? substr($0, RSTART + 10, RLENGTH - 11) : what
      by[r]++; pending = 0 }
    END {
      if (pending) by[what]++
      s = ""; for (r in by) s = s (s ? ", " : "") r " " by[r]
      printf "%d lock waits%s, %d relation extension waits\n", n, s ? " (" s ")" : "", ext }' | sed -f "$tmp/relnames.sed"
}
# relation oids in lock reports by their names
sql "select format('s/relation %s of database [0-9]*/\"%s\"/g', oid, relname) from pg_class
     where relnamespace = 'public'::regnamespace" >"$tmp/relnames.sed"

for c in $clients; do
  reset_bpmnd
  mark=$(wc -l <"$log")
  ours=$("$bench" w2 "$one_tx" --connections "$c" --seconds "$dur" --sample-locks 1)
  waits=$(waits_since "$mark")
  rate=$(echo "$ours" | field instances/s)
  n=$(echo "$ours" | sed -n 's/.*(\([0-9]*\) in .*/\1/p')
  reset_limits 0
  ref=$(pgb "$c" -T "$dur" -f "$limits/step_batch10.sql" "$(url_db pglimits)")
  printf 'W8 one transaction %-21s conns %2d  bpmnd %8.0f instances/s   step_batch10 %8.0f tps   ratio %s   lock waits per instance %s; log_lock_waits >= 1 ms: %s\n' \
    "$(basename "$one_tx")" "$c" "$rate" "$ref" "$(ratio "$rate" "$ref")" "$(ratio "${waits%% *}" "$n")" "$waits"
  echo "    $ours"
done
for c in $clients; do
  reset_bpmnd
  mark=$(wc -l <"$log")
  ours=$("$bench" w8 "$async" --count "$count" --threads "$c" 2>/dev/null)
  waits=$(waits_since "$mark")
  rate=$(echo "$ours" | field instances/s)
  n=$(echo "$ours" | sed -n 's/.*(\([0-9]*\) of [0-9]* instances completed.*/\1/p')
  reset_limits 100000
  ref=$(pgb "$c" -T "$dur" -f "$limits/jobcycle_cte.sql" "$(url_db pglimits)")
  ref10=$(python3 -c "import sys; print(float(sys.argv[1] or 0) / 10)" "$ref")
  printf 'W8 async branches  %-21s threads %2d  bpmnd %8.0f instances/s   jobcycle_cte/10 %8.0f   ratio %s   lock waits per instance %s; log_lock_waits >= 1 ms: %s\n' \
    "$(basename "$async")" "$c" "$rate" "$ref10" "$(ratio "$rate" "$ref10")" "$(ratio "${waits%% *}" "$n")" "$waits"
  echo "    $ours"
done
