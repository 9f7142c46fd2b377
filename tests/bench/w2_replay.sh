#!/usr/bin/env bash
# W2 efficiency: bpmnd's durable straight-through instances/s beside a pgbench
# replay of exactly the SQL bpmnd sends per instance, at the same number of
# connections, back to back in one throwaway cluster.
#   1. bench_durable trace: a few instances on one connection under libpq's
#      protocol trace; tests/bench/replay.py turns the last one into a pgbench
#      script (same statements, parameters, pipeline grouping, round trips)
#   2. for each client count, REPEATS rounds of: bench_durable w2, then
#      pgbench on the script, each from an emptied runtime + history
#      (checkpointed)
# Prints efficiency = our instances/s / replay tps beside both figures: the
# median of the rounds' ratios (the machine's load drifts between rounds).
# Usage: tests/bench/w2_replay.sh [BUILD_DIR] [MODEL]
#   env: SECONDS_PER_RUN (default 10), REPEATS (default 3), CLIENTS (default "1 4 16")
source "$(dirname "$0")/lib.sh" "$@"
model=${2:-$root/tests/bench/models/five-scripts.bpmn}
dur=${SECONDS_PER_RUN:-10}
repeats=${REPEATS:-3}
name=$(basename "$model")

"$bench" trace "$model" --out "$tmp/trace" --count 3
shape=$(python3 "$root/tests/bench/replay.py" "$tmp/trace" --kind start --script "$tmp/replay.sql" \
  --defs "$tmp/replay.defs" --prelude '\set n random(1, 9000000000000000000)')
mapfile -d '' defs <"$tmp/replay.defs"
echo "W2 $name per instance as sent: $shape"
echo "W2 replay script: $(grep -c ';$' "$tmp/replay.sql") statements (NULL parameters inlined as NULL)"

for c in $clients; do
  rates=() tpss=() effs=()
  for r in $(seq 1 "$repeats"); do
    reset_bpmnd
    ours=$("$bench" w2 "$model" --connections "$c" --seconds "$dur")
    rate=$(echo "$ours" | field instances/s)
    reset_bpmnd
    tps=$(pgb "$c" -T "$dur" -f "$tmp/replay.sql" "${defs[@]}" "$BPMND_DATABASE_URL")
    rates+=("$rate") tpss+=("$tps") effs+=("$(ratio "$rate" "$tps")")
    echo "    $ours"
    printf '    round %d: replay %.0f tps, efficiency %s\n' "$r" "$tps" "${effs[-1]}"
  done
  printf 'W2 efficiency   %-24s conns %2d  bpmnd %8.0f instances/s   replay %8.0f tps   efficiency %s  (medians of %d rounds)\n' \
    "$name" "$c" "$(median "${rates[@]}")" "$(median "${tpss[@]}")" "$(median "${effs[@]}")" "$repeats"
done
