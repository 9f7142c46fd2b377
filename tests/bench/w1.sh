#!/usr/bin/env bash
# W1: in-memory instances per second, bpmnd beside bpmn-engine 25 (Node.js) in
# the same run, on ../shared/bench/peer (the *-lua.bpmn twins for bpmnd), plus
# bpmnd-only models: 10 Lua script tasks + XOR, a 100-iteration parallel MI.
# Usage: tests/bench/w1.sh [BUILD_DIR]   (build with -DCMAKE_BUILD_TYPE=Release)
# The peer engine is installed with npm into PEER_DIR (default ~/.cache/bpmn-engine-peer).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-rel}
peer="$root/../shared/bench/peer"
bench="$build/tests/bench/bench_engine"
export PEER_DIR=${PEER_DIR:-$HOME/.cache/bpmn-engine-peer}
if [ ! -d "$PEER_DIR/node_modules/bpmn-engine" ]; then
  mkdir -p "$PEER_DIR" && (cd "$PEER_DIR" && npm init -y >/dev/null && npm install --silent bpmn-engine@25 >/dev/null) ||
    echo "w1: could not install bpmn-engine; peer figures skipped" >&2
fi
peer_rate() { # FILE -> instances/s of bpmn-engine
  [ -d "$PEER_DIR/node_modules/bpmn-engine" ] || { echo 0; return; }
  node --expose-gc "$peer/bench.mjs" --bpmn "$1" --n 2000 --json 2>/dev/null |
    python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["instancesPerSec"])'
}
ours_rate() { "$bench" run "$1" --n 20000 | sed -n 's/.*median *\([0-9]*\) instances.*/\1/p'; }
for pair in "straight-xor-js.bpmn straight-xor-lua.bpmn" "straight-xor-expr.bpmn straight-xor-lua.bpmn" "parallel10.bpmn parallel10-lua.bpmn"; do
  set -- $pair
  p=$(peer_rate "$peer/$1"); o=$(ours_rate "$peer/$2")
  ratio=$(python3 -c "print(f'{$o/$p:.0f}x' if $p else 'n/a')")
  printf 'W1 %-24s bpmnd %9s inst/s (%s)   bpmn-engine %8s inst/s (%s)   ratio %s\n' "$2" "$o" "$2" "$p" "$1" "$ratio"
done
"$bench" run "$root/tests/bench/models/lua10-xor.bpmn" --n 20000
"$bench" run "$root/tests/bench/models/mi100-parallel.bpmn" --n 500
"$bench" wait "$peer/user-wait-lua.bpmn" --n 10000
