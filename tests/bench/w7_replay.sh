#!/usr/bin/env bash
# W7 efficiency: message correlations/s by name and business key to parked
# instances (bench_durable w7), beside a pgbench replay of exactly the SQL
# bpmnd sends for one correlation, at the same number of connections.
# The replay needs instances of its own to correlate to: they are parked by a
# replay of bpmnd's own start transaction of the model (ids and business keys
# 0..N-1), then each client correlates its share of them once, as
# bench_durable w7 does (N = 1,000 x SECONDS_PER_RUN, both sides).
# Usage: tests/bench/w7_replay.sh [BUILD_DIR]
#   env: SECONDS_PER_RUN (default 10), REPEATS (default 3), CLIENTS (default "1 4 16")
# Rounds and medians as in w2_replay.sh.
source "$(dirname "$0")/lib.sh" "$@"
model=$root/tests/bench/models/wait-message.bpmn
dur=${SECONDS_PER_RUN:-10}
count=$((dur * 1000))
repeats=${REPEATS:-3}

"$bench" trace "$model" --message Paid --out "$tmp/trace" --count 3
# client c takes n = c, c + C, c + 2C, ...: every parked instance once
seq=('\set n :client_id + :k * :nc' '\set k :k + 1')
park=$(python3 "$root/tests/bench/replay.py" "$tmp/trace" --kind start --script "$tmp/park.sql" \
  --defs "$tmp/park.defs" --prelude "${seq[0]}" --prelude "${seq[1]}")
corr=$(python3 "$root/tests/bench/replay.py" "$tmp/trace" --kind correlate --script "$tmp/corr.sql" \
  --defs "$tmp/corr.defs" --prelude "${seq[0]}" --prelude "${seq[1]}")
mapfile -d '' park_defs <"$tmp/park.defs"
mapfile -d '' corr_defs <"$tmp/corr.defs"
echo "W7 wait-message.bpmn as sent: $park; $corr"

for c in $clients; do
  rates=() tpss=() effs=()
  for r in $(seq 1 "$repeats"); do
    reset_bpmnd
    ours=$("$bench" w7 "$model" --threads "$c" --seconds "$dur")
    rate=$(echo "$ours" | field correlations/s)
    reset_bpmnd
    per=$((count / c))
    pgb "$c" -t "$per" -D k=0 -D nc="$c" -f "$tmp/park.sql" "${park_defs[@]}" "$BPMND_DATABASE_URL" >/dev/null
    parked=$(sql "select count(*) from subscription")
    tps=$(pgb "$c" -t "$per" -D k=0 -D nc="$c" -f "$tmp/corr.sql" "${corr_defs[@]}" "$BPMND_DATABASE_URL")
    left=$(sql "select count(*) from subscription")
    rates+=("$rate") tpss+=("$tps") effs+=("$(ratio "$rate" "$tps")")
    echo "$ours" | sed 's/^/    /'
    printf '    round %d: replay %.0f tps (%s parked, %s left), efficiency %s\n' "$r" "$tps" "$parked" "$left" "${effs[-1]}"
  done
  printf 'W7 efficiency   %-24s conns %2d  bpmnd %8.0f correlations/s   replay %8.0f tps   efficiency %s  (medians of %d rounds)\n' \
    wait-message.bpmn "$c" "$(median "${rates[@]}")" "$(median "${tpss[@]}")" "$(median "${effs[@]}")" "$repeats"
done
