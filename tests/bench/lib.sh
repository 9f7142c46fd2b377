# Sourced by the tests/bench/*.sh drivers: a throwaway PostgreSQL of their own
# (tools/with-postgres), the build, and helpers to reset the database and to
# run pgbench. Usage in a driver: source "$(dirname "$0")/lib.sh" "$@".
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-build-rel}
case $build in /*) ;; *) build="$root/$build" ;; esac
bench="$build/tests/bench/bench_durable"
[ -x "$bench" ] || { echo "no $bench: build with -DCMAKE_BUILD_TYPE=Release first" >&2; exit 1; }
if [ -z "${BPMND_BENCH_INSIDE:-}" ]; then
  # our own cluster: started here, removed when the driver ends
  BPMND_BENCH_INSIDE=1 exec "$root/tools/with-postgres" "$0" "$@"
fi
export BPMND_DATABASE_URL="$BPMND_TEST_DATABASE_URL"
pgbin=$BPMND_TEST_PG_BIN
tmp=$(mktemp -d /tmp/bpmnd-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
clients=${CLIENTS:-1 4 16}
"$build/adapters/cli/bpmnctl" db migrate >/dev/null

psql_q() { PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
sql() { "$pgbin/psql" -X -qAt -v ON_ERROR_STOP=1 "$BPMND_DATABASE_URL" -c "$1"; }
# conninfo of another database of the same cluster
url_db() { echo "${BPMND_DATABASE_URL/dbname=postgres/dbname=$1}"; }
sql_db() { "$pgbin/psql" -X -qAt -v ON_ERROR_STOP=1 "$(url_db "$1")" -c "$2"; }

# Empties bpmnd's runtime tables and history (definitions stay), then a
# checkpoint, so every run starts from the same state. No ANALYZE: statistics
# of empty tables make the generic plans of the prepared statements scan
# process_instance sequentially (the parent lookup of a new instance),
# which halves W2 as the table grows; after TRUNCATE the planner assumes a
# table of a few pages instead, as on a new database.
reset_bpmnd() {
  sql "truncate process_instance, variable, user_task, job, subscription, incident, history, message_buffer, outbox" >/dev/null
  sql "checkpoint" >/dev/null
}

# pgbench with the clients of a run (-j 2 from 2 clients, as pg-limits/run.sh);
# prints the tps, or 0 when pgbench failed (its output is then on stderr).
pgb() {
  local c=$1; shift
  local j=1
  [ "$c" -gt 1 ] && j=2
  local out
  out=$("$pgbin/pgbench" -n -M prepared -c "$c" -j "$j" "$@" 2>&1) || { echo "$out" >&2; echo 0; return; }
  local failed
  failed=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
  [ "${failed:-0}" = 0 ] || echo "pgbench: $failed failed transactions" >&2
  echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | tail -n 1
}

median() { python3 -c "import statistics, sys; v = [float(x) for x in sys.argv[1:] if x not in ('', 'n/a')]; print(f'{statistics.median(v):.2f}' if v else 'n/a')" "$@"; }
ratio() { python3 -c "import sys; a, b = float(sys.argv[1] or 0), float(sys.argv[2] or 0); print(f'{a / b:.2f}' if b else 'n/a')" "$1" "$2"; }
# a field of bench_durable's line: the number before WORD ("instances/s", "jobs/s", ...)
field() { sed -n "s|.* \([0-9.][0-9.]*\) $1.*|\1|p" | head -n 1; }
