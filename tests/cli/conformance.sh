#!/usr/bin/env bash
# Runs every tests/conformance/NAME.CASE.scenario against NAME.bpmn with
# bpmnctl test, and the e2e diagrams' and the examples' scenarios likewise. With
# BPMND_SCENARIO_DATABASE set (a conninfo) they run through PostgreSQL.
set -u
build=$1 src=$2
ctl="$build/adapters/cli/bpmnctl"
pass=0 fail=0
for dir in "$src/tests/conformance" "$src/tests/e2e/data" "$src/examples"/*; do
  [ -d "$dir" ] || continue
  for diagram in "$dir"/*.bpmn; do
    [ -e "$diagram" ] || continue
    name=$(basename "$diagram" .bpmn)
    scenarios=("$dir/$name".*.scenario)
    [ -e "${scenarios[0]}" ] || continue
    db=()
    [ -n "${BPMND_SCENARIO_DATABASE:-}" ] && db=(--database "$BPMND_SCENARIO_DATABASE")
    out=$("$ctl" test "${db[@]}" "$diagram" "${scenarios[@]}" 2>&1)
    p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' <<<"$out" | tail -1)
    f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' <<<"$out" | tail -1)
    if [ -z "$p" ]; then
      echo "ERROR running $diagram:"; echo "$out"; fail=$((fail+1)); continue
    fi
    pass=$((pass+p)); fail=$((fail+f))
    [ "$f" = 0 ] || grep -v '^PASS' <<<"$out"
  done
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
