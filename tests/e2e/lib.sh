# Sourced by the e2e scripts that use the test database (tools/with-postgres
# sets BPMND_TEST_DATABASE_URL): arguments, helpers, a fresh migrated schema.
build=$1 src=$2
[ -n "${BPMND_TEST_DATABASE_URL:-}" ] || { echo "needs BPMND_TEST_DATABASE_URL: run under tools/with-postgres"; exit 77; }
export BPMND_DATABASE_URL="$BPMND_TEST_DATABASE_URL"
c="$build/adapters/cli/bpmnctl"
data="$src/tests/e2e/data"
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1"; fi; }
sql() { psql -qAt "$BPMND_DATABASE_URL" -c "$1"; }
fresh_schema() {
  psql -q "$BPMND_DATABASE_URL" -c "drop schema public cascade; create schema public" >/dev/null 2>&1
  $c db migrate >/dev/null
}
# Starts bpmnd on a free loopback port (extra arguments are passed on) and
# sets $base to its /engine-rest URL; it is stopped when the script exits.
# Ports come from below the kernel's ephemeral range (32768 and up), where
# an outgoing connection could hold the port we try to listen on.
start_bpmnd() {
  local port
  : "${bpmnd_log:=/tmp/bpmnd-e2e.$$.log}"
  port=$((20000 + RANDOM % 12000))
  while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
  "$build/adapters/server/bpmnd" --listen 127.0.0.1:$port "$@" 2>>"$bpmnd_log" &
  bpmnd_pid=$!
  trap 'kill $bpmnd_pid 2>/dev/null; wait $bpmnd_pid 2>/dev/null' EXIT
  base="http://127.0.0.1:$port/engine-rest"
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return 0; sleep 0.1; done
  echo "bpmnd did not start:"; cat "$bpmnd_log"; exit 1
}
# curl returning "STATUS BODY"; extra arguments are passed on.
http() { curl -s -o /tmp/http-body.$$ -w '%{http_code}' "$@"; echo " $(cat /tmp/http-body.$$)"; }
