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
