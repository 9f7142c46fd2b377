#!/usr/bin/env bash
# The outbox and the RabbitMQ bridge (issue 8's figures): outbox rows
# published per second by the relay with publisher confirms (persistent
# messages, rows marked sent), at two batch sizes; and messages per second
# consumed by the transport (acknowledged one by one after the handler). Runs
# its own PostgreSQL and RabbitMQ (tools/with-postgres, tools/with-rabbitmq).
# Prints figures; asserts nothing.
# Usage: tests/bench/bench_outbox.sh [BUILD_DIR (default build-rel)] [ROWS (20000)]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build-rel}" && pwd) rows=${2:-20000}
if [ -z "${BPMND_TEST_DATABASE_URL:-}" ]; then exec "$root/tools/with-postgres" "$0" "$build" "$rows"; fi
if [ -z "${BPMND_TEST_AMQP_URL:-}" ]; then exec "$root/tools/with-rabbitmq" "$0" "$build" "$rows"; fi
export BPMND_DATABASE_URL=$BPMND_TEST_DATABASE_URL
c="$build/adapters/cli/bpmnctl" T="$build/tests/bridge_tool" U=$BPMND_TEST_AMQP_URL
sql() { psql -X -qAt -v ON_ERROR_STOP=1 "$BPMND_DATABASE_URL" -c "$1"; }
now() { date +%s.%N; }
"$c" db migrate >/dev/null
echo "rows: $rows; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

for batch in 100 500; do
  q="bench-outbox-$batch"
  "$T" "$U" declare "$q"
  # rows as committed steps leave them (pgstore.c, BPM_FX_PUBLISH)
  sql "truncate outbox"
  sql "insert into outbox (instance_id, channel, payload) select 'i-' || n, 'rabbitmq',
       jsonb_build_object('messageId', 'i-' || n || '-4', 'instanceId', 'i-' || n, 'element', 'Announce',
       'exchange', '', 'routingKey', '$q', 'body', jsonb_build_object('orderId', n, 'amount', 12.5),
       'properties', jsonb_build_object('headers', jsonb_build_object('kind', 'order')))
       from generate_series(1, $rows) n"
  sql "checkpoint" >/dev/null
  t0=$(now)
  "$c" relay --url "$U" --once --batch $batch >/dev/null
  t1=$(now)
  sent=$(sql "select count(*) from outbox where sent_at is not null")
  printf 'outbox relay, batch %s: %s rows published with confirms and marked sent in %.2f s: %.0f rows/s\n' \
    "$batch" "$sent" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$sent / ($t1 - $t0)" | bc -l)"
  # what the relay sent is in the queue: the transport consumes it
  out=$("$T" "$U" transport "$q" ok --count "$sent" --prefetch 100 --quiet 2>&1 >/dev/null)
  n=$(sed -n 's/^acked=\([0-9]*\).*/\1/p' <<<"$out") s=$(sed -n 's/.* in \([0-9.]*\) s$/\1/p' <<<"$out")
  printf 'transport, prefetch 100: %s messages consumed and acknowledged in %s s: %.0f messages/s\n' \
    "$n" "$s" "$(echo "$n / $s" | bc -l)"
done
q=bench-transport-1
"$T" "$U" declare "$q"
"$T" "$U" publish "$q" "$rows" 2>/dev/null
out=$("$T" "$U" transport "$q" ok --count "$rows" --prefetch 1 --quiet 2>&1 >/dev/null)
n=$(sed -n 's/^acked=\([0-9]*\).*/\1/p' <<<"$out") s=$(sed -n 's/.* in \([0-9.]*\) s$/\1/p' <<<"$out")
printf 'transport, prefetch 1: %s messages consumed and acknowledged in %s s: %.0f messages/s\n' "$n" "$s" \
  "$(echo "$n / $s" | bc -l)"
