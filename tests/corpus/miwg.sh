#!/usr/bin/env bash
# Reads the BPMN MIWG corpus (SHARED_DIR/corpus/miwg, 36 tools) with
# `bpmnctl validate --json`:
#  - every .bpmn file must be read without a crash: bpmnctl exits 0 or 1 and
#    prints nothing from a sanitizer (a signal, an ASan/UBSan abort or a leak
#    report fails the test);
#  - for the files in Reference/ and "bpmn.io (Camunda Modeler) 18.6.1/" the
#    flow node and sequence flow counts (summed over the processes of a file,
#    nested subprocess contents included) must equal an independent count made
#    with xmllint --xpath.
# Files that are not well-formed XML are skipped with a note when xmllint
# rejects them too; they still must not crash bpmnctl.
# Usage: bash miwg.sh BUILD_DIR SOURCE_DIR SHARED_DIR
set -u -o pipefail

BUILD_DIR=${1:?usage: miwg.sh BUILD_DIR SOURCE_DIR SHARED_DIR}
SHARED_DIR=${3:?usage: miwg.sh BUILD_DIR SOURCE_DIR SHARED_DIR}
BUILD_DIR=$(cd "$BUILD_DIR" 2>/dev/null && pwd) || { echo "miwg: no build dir $1" >&2; exit 1; }
BPMNCTL=$BUILD_DIR/adapters/cli/bpmnctl
CORPUS=$SHARED_DIR/corpus/miwg
COUNTED_DIRS=("Reference" "bpmn.io (Camunda Modeler) 18.6.1")
BATCH=64

die() { echo "miwg: $*" >&2; exit 1; }
[ -x "$BPMNCTL" ] || die "no bpmnctl at $BPMNCTL (build first)"
[ -d "$CORPUS" ] || die "no corpus at $CORPUS"
for tool in jq xmllint; do
    command -v "$tool" >/dev/null || die "$tool is missing: run tools/install-deps"
done

# Sanitizers exit with 1 by default, which bpmnctl also uses for "the files
# have errors": give them exit codes of their own (these settings come last so
# they win over anything inherited).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=87:print_stacktrace=1"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}exitcode=88"

tmp=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

mapfile -d '' files < <(find "$CORPUS" -type f -name '*.bpmn' -print0 | LC_ALL=C sort -z)
[ ${#files[@]} -gt 0 ] || die "no .bpmn files under $CORPUS"

declare -A failed_files=()  # file -> 1
summary=$tmp/summary.tsv    # file, read, nodes, flows, first error message
: >"$summary"

fail() { # file, message
    failed_files[$1]=1
    echo "FAIL: $2"
}

# Runs bpmnctl on a list of files; appends one summary row per file. A batch
# that crashes is re-run file by file to name the culprit.
run_batch() {
    local out=$tmp/out.json err=$tmp/err.txt rc
    "$BPMNCTL" validate --json "$@" >"$out" 2>"$err"
    rc=$?
    local problem=""
    if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
        problem="exit status $rc"
        [ $rc -gt 128 ] && problem="$problem (signal $((rc - 128)))"
    elif grep -qE 'Sanitizer|runtime error:' "$err"; then
        problem="sanitizer report on stderr"
    elif ! jq -e --argjson n $# '(.files | length) == $n' "$out" >/dev/null 2>&1; then
        problem="output is not the JSON report for $# file(s)"
    fi
    if [ -z "$problem" ]; then
        jq -r '.files[] | [.file, (.read | tostring),
                ([.processes[].nodes] | add // 0), ([.processes[].flows] | add // 0),
                ([.diagnostics[] | select(.severity == "error") | .message][0] // "" | gsub("\\s+"; " "))] | @tsv' \
            "$out" >>"$summary"
        return
    fi
    if [ $# -gt 1 ]; then
        local f
        for f in "$@"; do run_batch "$f"; done
        return
    fi
    fail "$1" "bpmnctl crashed or misbehaved on \"$1\": $problem"
    sed -n '1,20p' "$err" | sed 's/^/    /'
}

for ((i = 0; i < ${#files[@]}; i += BATCH)); do
    run_batch "${files[@]:i:BATCH}"
done

in_counted_dir() {
    local d
    for d in "${COUNTED_DIRS[@]}"; do
        [[ $1 == "$CORPUS/$d/"* ]] && return 0
    done
    return 1
}

# The independent count: elements in the BPMN model namespace that have a
# process element (same namespace) as an ancestor.
NS=http://www.omg.org/spec/BPMN/20100524/MODEL
node_names="startEvent endEvent intermediateCatchEvent intermediateThrowEvent boundaryEvent
  task serviceTask scriptTask userTask manualTask sendTask receiveTask businessRuleTask
  callActivity subProcess transaction adHocSubProcess
  exclusiveGateway inclusiveGateway parallelGateway eventBasedGateway complexGateway"
node_test=""
for n in $node_names; do node_test="$node_test${node_test:+ or }local-name()='$n'"; done
in_process="ancestor::*[namespace-uri()='$NS' and local-name()='process']"
XPATH="concat(count(//*[namespace-uri()='$NS' and ($node_test) and $in_process]), ' ',
  count(//*[namespace-uri()='$NS' and local-name()='sequenceFlow' and $in_process]))"

compared=0
skipped=0
declare -A seen=()
while IFS=$'\t' read -r file read nodes flows why; do
    seen[$file]=1
    if [ "$read" != true ]; then
        if xmllint --noout "$file" >/dev/null 2>&1; then
            if in_counted_dir "$file"; then
                fail "$file" "\"$file\": bpmnctl refused it but xmllint reads it: $why"
            else
                echo "note: \"$file\": bpmnctl refused it but xmllint reads it: $why"
            fi
        else
            echo "skip: \"$file\" is not well-formed XML (xmllint agrees): $why"
        fi
        in_counted_dir "$file" && skipped=$((skipped + 1))
        continue
    fi
    in_counted_dir "$file" || continue
    if ! expected=$(xmllint --xpath "$XPATH" "$file" 2>/dev/null); then
        fail "$file" "\"$file\": bpmnctl read it but xmllint could not count it"
        continue
    fi
    read -r want_nodes want_flows <<<"$expected"
    compared=$((compared + 1))
    if [ "$nodes" != "$want_nodes" ] || [ "$flows" != "$want_flows" ]; then
        fail "$file" "\"$file\": bpmnctl counts $nodes nodes and $flows flows, xmllint counts $want_nodes nodes and $want_flows flows"
    fi
done <"$summary"

for f in "${files[@]}"; do
    [ -n "${seen[$f]:-}" ] || [ -n "${failed_files[$f]:-}" ] || fail "$f" "\"$f\" is missing from the bpmnctl report"
done

n_failed=${#failed_files[@]}
echo "${#files[@]} files read; counts compared for $compared files of Reference/ and bpmn.io/, $skipped skipped (not well-formed XML)"
echo "$((${#files[@]} - n_failed)) passed, $n_failed failed"
[ "$n_failed" -eq 0 ]
