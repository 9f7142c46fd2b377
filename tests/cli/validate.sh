#!/usr/bin/env bash
# bpmnctl validate: gcc-style lines, exit status, --json shape, summaries.
set -u
build=$1 src=$2
ctl="$build/adapters/cli/bpmnctl"
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1"; fi; }

out=$("$ctl" validate "$src/tests/data/clean.bpmn"); rc=$?
check "clean file exits 0" '[ $rc -eq 0 ]'
check "clean file summary" 'grep -q "process \"hello\" (Hello): executable, 3 nodes (1 startEvent, 1 endEvent, 1 scriptTask), 2 flows" <<<"$out"'

out=$("$ctl" validate "$src/tests/data/broken.bpmn"); rc=$?
check "broken file exits 1" '[ $rc -eq 1 ]'
check "gcc-style dangling ref" 'grep -qE "broken.bpmn:7: error: \[Flow_2\] targetRef \"Missing\" is not a flow node of process \"broken\"" <<<"$out"'
check "java class named with hint" 'grep -qE "broken.bpmn:6: error: \[Charge\] .*camunda:class.*external task" <<<"$out"'
check "link throw without catch" 'grep -qE "broken.bpmn:8: error: \[GoTo\] link throw event \"nowhere\" has no link catch" <<<"$out"'
check "totals line" 'grep -qE "^3 error\(s\), [0-9]+ warning\(s\) in 1 file\(s\)$" <<<"$out"'

out=$("$ctl" validate --json "$src/tests/data/broken.bpmn" "$src/tests/data/clean.bpmn"); rc=$?
check "json exits 1 when any file has errors" '[ $rc -eq 1 ]'
check "json parses" 'python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"errors\"]==3 and len(d[\"files\"])==2" <<<"$out"'
check "json diagnostics carry file, line, element" 'python3 -c "
import json,sys
d=json.load(sys.stdin)
diag=[x for x in d[\"files\"][0][\"diagnostics\"] if x[\"element\"]==\"Flow_2\"][0]
assert diag[\"severity\"]==\"error\" and diag[\"line\"]==7 and diag[\"file\"].endswith(\"broken.bpmn\")
p=d[\"files\"][1][\"processes\"][0]
assert p[\"id\"]==\"hello\" and p[\"executable\"] and p[\"nodes\"]==3 and p[\"kinds\"][\"scriptTask\"]==1
" <<<"$out"'

"$ctl" validate /nonexistent.bpmn >/dev/null 2>&1; rc=$?
check "missing file exits 1" '[ $rc -eq 1 ]'
"$ctl" validate >/dev/null 2>&1; rc=$?
check "no file is a usage error (2)" '[ $rc -eq 2 ]'
"$ctl" frobnicate >/dev/null 2>&1; rc=$?
check "unknown command is a usage error (2)" '[ $rc -eq 2 ]'
printf 'not xml' > "${TMPDIR:-/tmp}/bpmnctl-notxml.bpmn"
out=$("$ctl" validate "${TMPDIR:-/tmp}/bpmnctl-notxml.bpmn"); rc=$?
check "not XML: exit 1 with line" '[ $rc -eq 1 ] && grep -qE "notxml.bpmn:1: error: XML is not well-formed" <<<"$out"'
rm -f "${TMPDIR:-/tmp}/bpmnctl-notxml.bpmn"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
