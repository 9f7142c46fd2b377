#!/usr/bin/env bash
# The embedded default: with no BPMND_DATABASE_URL, bpmnctl creates a private
# PostgreSQL cluster in the data directory, four commands starting at once do
# not race, `db stop` stops it, and the next command reuses it.
set -u
build=$1 src=$2
latest=$(ls "$src"/adapters/pg/sql/[0-9]*.sql | wc -l)
ctl="$build/adapters/cli/bpmnctl"
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1"; fi; }
dir=$(mktemp -d /tmp/bpmnd-embedded.XXXXXX)
chmod 755 "$dir" # as root, the cluster runs as postgres, which must reach it
trap 'BPMND_DATA_DIR="$dir/data" "$ctl" db stop >/dev/null 2>&1; rm -rf "$dir"' EXIT
unset BPMND_DATABASE_URL
export BPMND_DATA_DIR="$dir/data"

for i in 1 2 3 4; do "$ctl" db status >"$dir/out$i" 2>&1 & done
wait
check "four concurrent starters all succeed" '[ $(cat "$dir"/out? | grep -c "schema version: $latest") -eq 4 ]'
check "exactly one created the cluster" '[ $(cat "$dir"/out? | grep -c "created and started") -eq 1 ]'
check "the cluster belongs to an unprivileged user" '[ "$(stat -c %U "$dir/data/pg")" != root ]'
check "no TCP port: the server listens on a socket only" 'grep -q "listen_addresses" "$dir/data/pg/postmaster.opts"'
out=$("$ctl" db stop); check "db stop stops it" 'grep -q stopped <<<"$out"'
out=$("$ctl" db status 2>&1); check "the next command starts it again, without initdb" 'grep -q "started the embedded" <<<"$out" && ! grep -q created <<<"$out"'
out=$(cd "$dir" && BPMND_DATA_DIR=data "$ctl" db status 2>&1)
check "a relative BPMND_DATA_DIR names the same cluster" 'grep -q "schema version: $latest" <<<"$out" && grep -q "database: $dir/data$" <<<"$out"'
out=$(BPMND_DATABASE_URL="host=/nonexistent port=1 user=nobody" "$ctl" db status 2>&1); rc=$?
check "a bad BPMND_DATABASE_URL is a clear error" '[ $rc -ne 0 ] && grep -q "could not connect to PostgreSQL" <<<"$out"'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
