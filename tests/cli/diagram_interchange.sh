#!/usr/bin/env bash
# The example diagrams open in Camunda Modeler and bpmn.io: every element
# drawn, no dangling reference (tools/check-di), and bpmnctl validate finds
# no error and no warning in them.
set -u
build=$1 src=$2
ctl="$build/adapters/cli/bpmnctl"
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1"; fi; }
for f in "$src"/examples/*/*.bpmn; do
  name=${f#"$src"/}
  out=$(python3 "$src/tools/check-di" "$f" 2>&1)
  check "$name: diagram interchange complete" '[ -z "$out" ] || { echo "$out"; false; }'
  out=$("$ctl" validate --json "$f")
  check "$name: validates without errors or warnings" 'python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"errors\"] == 0 and d[\"warnings\"] == 0, d" <<<"$out"'
done
# the checker itself: a flow without an edge and a shape naming nothing
bad=$(mktemp /tmp/bpmnd-di.XXXXXX.bpmn)
sed -e '/<bpmndi:BPMNEdge id="Flow_1k7w2xq_di"/,/<\/bpmndi:BPMNEdge>/d' \
    -e 's/bpmnElement="Task_SettlePayroll"/bpmnElement="Task_Nowhere"/' "$src/examples/offboarding/offboarding.bpmn" >"$bad"
out=$(python3 "$src/tools/check-di" "$bad"); rc=$?
check "check-di reports a missing edge, a missing shape and a dangling bpmnElement" '[ $rc = 1 ] && grep -q "sequence flow Flow_1k7w2xq has no BPMNEdge" <<<"$out" && grep -q "flow node Task_SettlePayroll has no BPMNShape" <<<"$out" && grep -q "names no element (Task_Nowhere)" <<<"$out"'
rm -f "$bad"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
