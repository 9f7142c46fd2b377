#!/usr/bin/env bash
# Reads the bpmn-js-token-simulation diagrams (SHARED_DIR/corpus/token-simulation)
# with `bpmnctl validate --json`:
#  - every diagram is read (read=true) into a model, with its processes (a
#    collaboration of black-box pools has none), without a crash or a
#    sanitizer report;
#  - the error diagnostics, as (file, element id) pairs, equal the reviewed
#    list in tests/corpus/token-simulation.expected (FILE<TAB>ELEMENT_ID<TAB>reason):
#    a new error or a vanished one fails, so a false error on a valid diagram
#    cannot slip in, nor can a check that stops firing.
# Usage: bash token_simulation.sh BUILD_DIR SOURCE_DIR SHARED_DIR
set -u -o pipefail

BUILD_DIR=${1:?usage: token_simulation.sh BUILD_DIR SOURCE_DIR SHARED_DIR}
SOURCE_DIR=${2:?usage: token_simulation.sh BUILD_DIR SOURCE_DIR SHARED_DIR}
SHARED_DIR=${3:?usage: token_simulation.sh BUILD_DIR SOURCE_DIR SHARED_DIR}
BUILD_DIR=$(cd "$BUILD_DIR" 2>/dev/null && pwd) || { echo "token_simulation: no build dir $1" >&2; exit 1; }
BPMNCTL=$BUILD_DIR/adapters/cli/bpmnctl
CORPUS=$SHARED_DIR/corpus/token-simulation
EXPECTED=$SOURCE_DIR/tests/corpus/token-simulation.expected

die() { echo "token_simulation: $*" >&2; exit 1; }
[ -x "$BPMNCTL" ] || die "no bpmnctl at $BPMNCTL (build first)"
[ -d "$CORPUS" ] || die "no corpus at $CORPUS"
[ -f "$EXPECTED" ] || die "no expectation file $EXPECTED"
command -v jq >/dev/null || die "jq is missing: run tools/install-deps"

# Sanitizers exit with 1 by default, like bpmnctl when a file has errors.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=87:print_stacktrace=1"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}exitcode=88"

tmp=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

mapfile -d '' files < <(find "$CORPUS" -maxdepth 1 -type f -name '*.bpmn' -print0 | LC_ALL=C sort -z)
[ ${#files[@]} -gt 0 ] || die "no .bpmn files in $CORPUS"

declare -A failed_files=()
fail() { # file (basename), message
    failed_files[$1]=1
    echo "FAIL: $2"
}

(cd "$CORPUS" && "$BPMNCTL" validate --json "${files[@]##*/}") >"$tmp/out.json" 2>"$tmp/err.txt"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
    sed -n '1,30p' "$tmp/err.txt"
    die "bpmnctl exited with status $rc (a crash or sanitizer abort)"
fi
if grep -qE 'Sanitizer|runtime error:' "$tmp/err.txt"; then
    sed -n '1,30p' "$tmp/err.txt"
    die "sanitizer report on stderr"
fi
jq -e --argjson n ${#files[@]} '(.files | length) == $n' "$tmp/out.json" >/dev/null 2>&1 ||
    die "output is not the JSON report for ${#files[@]} files"

# Every diagram is read and builds a model with a process.
while IFS=$'\t' read -r file read n_proc why; do
    if [ "$read" != true ]; then
        fail "$file" "$file: not read: $why"
    elif [ "$n_proc" -eq 0 ] && grep -qE '<([A-Za-z0-9_.-]+:)?process[[:space:]/>]' "$CORPUS/$file"; then
        fail "$file" "$file: the diagram has a process but the model has none"
    fi
done < <(jq -r '.files[] | [.file, (.read | tostring), (.processes | length),
                 ([.diagnostics[] | select(.severity == "error") | .message][0] // "")] | @tsv' "$tmp/out.json")

# Error diagnostics against the reviewed expectation, as multisets of
# "file<TAB>element" (the element is "-" when the error names none).
jq -r '.files[] | .file as $f | .diagnostics[] | select(.severity == "error")
       | [$f, (.element // "-"), (.line | tostring), .message] | @tsv' "$tmp/out.json" >"$tmp/actual.tsv"
cut -f1,2 "$tmp/actual.tsv" | LC_ALL=C sort >"$tmp/actual.keys"

bad_lines=$(grep -vE '^(#|$)' "$EXPECTED" | awk -F'\t' 'NF != 3 || $1 == "" || $2 == "" || $3 == ""')
[ -z "$bad_lines" ] || die "malformed lines in $EXPECTED (want FILE<TAB>ELEMENT_ID<TAB>reason):
$bad_lines"
grep -vE '^(#|$)' "$EXPECTED" | cut -f1,2 | LC_ALL=C sort >"$tmp/expected.keys"

# Lines only in actual: unexpected errors; only in expected: missing errors.
while IFS=$'\t' read -r file element; do
    msg=$(awk -F'\t' -v f="$file" -v e="$element" '$1 == f && $2 == e { print "line " $3 ": " $4 }' "$tmp/actual.tsv" | head -n 3 | paste -sd ';')
    fail "$file" "$file: unexpected error at [$element]: $msg"
done < <(LC_ALL=C comm -23 "$tmp/actual.keys" "$tmp/expected.keys")
while IFS=$'\t' read -r file element; do
    reason=$(awk -F'\t' -v f="$file" -v e="$element" '$1 == f && $2 == e { print $3; exit }' "$EXPECTED")
    fail "$file" "$file: expected error at [$element] is not reported ($reason)"
done < <(LC_ALL=C comm -13 "$tmp/actual.keys" "$tmp/expected.keys")

n_files=${#files[@]}
n_err_files=$(cut -f1 "$tmp/actual.keys" | sort -u | wc -l)
echo "$n_files diagrams read; $(wc -l <"$tmp/actual.keys") errors in $n_err_files diagrams, $(wc -l <"$tmp/expected.keys") expected"
n_failed=${#failed_files[@]}
echo "$((n_files - n_failed)) passed, $n_failed failed"
[ "$n_failed" -eq 0 ]
