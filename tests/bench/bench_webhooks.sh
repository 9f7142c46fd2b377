#!/usr/bin/env bash
# Webhook events per second accepted and turned into instances (issue 8's
# figure): wrk posts a recorded GitHub push (tests/e2e/data/webhooks) signed
# with the endpoint's secret, each request with its own X-GitHub-Delivery, to
# bpmnd's /webhooks/github, whose Lua mapping starts ci-build (an instance
# waiting at a user task). Prints the accepted requests/s, the instances
# made per second (counted in the database) and the latency; asserts only
# that every accepted request made exactly one instance. Runs its own
# PostgreSQL (tools/with-postgres).
# Usage: tests/bench/bench_webhooks.sh [BUILD_DIR (default build-rel)] [SECONDS (20)] [CONNECTIONS (16)]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build-rel}" && pwd) secs=${2:-20} conns=${3:-16}
if [ -z "${BPMND_TEST_DATABASE_URL:-}" ]; then exec "$root/tools/with-postgres" "$0" "$build" "$secs" "$conns"; fi
export BPMND_DATABASE_URL=$BPMND_TEST_DATABASE_URL
wh="$root/tests/e2e/data/webhooks"
tmp=$(mktemp -d /tmp/bpmnd-bench-wh.XXXXXX)
"$build/adapters/cli/bpmnctl" db migrate >/dev/null
"$build/adapters/cli/bpmnctl" deploy "$wh/webhooks.bpmn" >/dev/null
export BENCH_SECRET=bench-secret
cat > "$tmp/bpmnd.conf" <<CONF
worker_threads = 1
webhook.github.kind = github
webhook.github.secret = BENCH_SECRET
webhook.github.mapping = $wh/github.lua
CONF
port=$((20000 + RANDOM % 12000))
"$build/adapters/server/bpmnd" --config "$tmp/bpmnd.conf" --listen 127.0.0.1:$port --http-threads 4 2>"$tmp/bpmnd.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
sig="sha256=$(openssl dgst -sha256 -hmac "$BENCH_SECRET" -hex < "$wh/push.json" | sed 's/^.*= //')"
# one Lua state per wrk thread: a thread number makes the delivery ids unique
cat > "$tmp/push.lua" <<LUA
local threads, n = 0, 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args)
  local f = io.open("$wh/push.json", "rb"); wrk.body = f:read("*a"); f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-GitHub-Event"] = "push"
  wrk.headers["X-Hub-Signature-256"] = "$sig"
end
function request()
  n = n + 1
  wrk.headers["X-GitHub-Delivery"] = string.format("bench-%d-%d", tid, n)
  return wrk.format()
end
LUA
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: warm-up' \
  -H "X-Hub-Signature-256: $sig" --data-binary @"$wh/push.json" "http://127.0.0.1:$port/webhooks/github"
before=$(psql -qAtX "$BPMND_DATABASE_URL" -c "select count(*) from process_instance")
t0=$(date +%s.%N)
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$tmp/push.lua" "http://127.0.0.1:$port/webhooks/github" > "$tmp/wrk.out"
t1=$(date +%s.%N)
sleep 1 # requests wrk gave up on at the end may still commit
read -r after events < <(psql -qAtX -F ' ' "$BPMND_DATABASE_URL" -c "select (select count(*) from process_instance),
  (select count(*) from inbound_event where event_id like 'bench-%')")
total=$(awk '/requests in/ {print $1}' "$tmp/wrk.out")
non2xx=$(awk '/Non-2xx/ {print $5}' "$tmp/wrk.out")
made=$((after - before))
printf 'webhooks (GitHub push, %s B signed body, %s connections, %s s): %s requests/s, %s instances/s (%s instances, %s events recorded, %s non-2xx), p50 %s, p99 %s\n' \
  "$(stat -c %s "$wh/push.json")" "$conns" "$secs" "$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")" \
  "$(python3 -c "print(f'{$made / ($t1 - $t0):.0f}')")" "$made" "$events" "${non2xx:-0}" \
  "$(awk '$1 == "50%" {print $2}' "$tmp/wrk.out")" "$(awk '$1 == "99%" {print $2}' "$tmp/wrk.out")"
[ "$made" = "$events" ] || { echo "bench_webhooks: $made instances for $events recorded events" >&2; exit 1; }
[ "${non2xx:-0}" = 0 ] || { cat "$tmp/wrk.out"; exit 1; }
echo "($total requests)"
