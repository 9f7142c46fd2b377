#!/usr/bin/env bash
# One employee's offboarding, end to end, through bpmnd's REST API as the
# people and systems involved would drive it. tools/demo runs it on the
# embedded PostgreSQL; tests/e2e/demo.sh and tests/e2e/withdrawal.sh run it
# on the test database and then check what it left behind.
#
#   examples/offboarding/run.sh [--withdraw]
#
# Starts bpmnd (authentication on), the stand-in for the IT and HR systems
# (systems.py) and, when payroll is reached, the payroll worker
# (payroll-worker.mjs); creates the users; deploys offboarding.bpmn as Camunda
# Modeler does; announces a departure; lets the worker settle payroll; has
# the manager approve the hand-over; moves the engine clock two days (a
# reminder goes out) and lets IT collect the equipment; moves it to the last
# day and waits for the end; prints the audit trail. With --withdraw, HR
# withdraws the departure after the revocations instead, and the
# compensation re-enables the accounts. Everything it started is stopped
# when it exits; the engine clock is set back to the wall clock.
#
# Environment: BPMND and BPMNCTL (the binaries; default build/demo/...),
# BPMND_DATABASE_URL or BPMND_DATA_DIR (the database, as for bpmnctl),
# OFFBOARDING_WORK (a directory for logs and records; default a new
# temporary one), OFFBOARDING_PORT (bpmnd's port; default 8080 when free).
# Leaves in OFFBOARDING_WORK: instance (the instance id), systems.jsonl (every
# request the systems got), pids (what it started), bpmnd.log, worker.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
withdraw=0
[ "${1:-}" = "--withdraw" ] && withdraw=1
bpmnd=${BPMND:-$root/build/demo/adapters/server/bpmnd}
ctl=${BPMNCTL:-$root/build/demo/adapters/cli/bpmnctl}
work=${OFFBOARDING_WORK:-$(mktemp -d /tmp/offboarding.XXXXXX)}
mkdir -p "$work"
rm -f "$work/systems.jsonl" "$work/systems.port" "$work/instance" "$work/pids"
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

say() { printf '%s\n' "$*"; }
step() { printf '\n%s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

pids=()
started() { pids+=("$1"); echo "$1" >>"$work/pids"; }
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  "$ctl" clock --offset PT0S >/dev/null 2>&1 || true
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the people and their credentials ----------------------------------------
password=offboarding-demo
"$ctl" db migrate >/dev/null
"$ctl" clock --offset PT0S >/dev/null
add_user() { BPMND_PASSWORD=$password "$ctl" user add "$1" --first "$2" --last "$3" >/dev/null; }
add_user admin Ada Admin       # deploys, like a developer from Camunda Modeler
add_user hr HR System          # the HR system: announces and withdraws departures
add_user bob Bob Manager       # the departing employee's manager
add_user carol Carol IT        # IT: collects the equipment
add_user payroll Payroll Worker
"$ctl" group add admin --name Administrators --member admin >/dev/null
"$ctl" group add managers --name Managers --member bob >/dev/null
"$ctl" group add it --name IT --member carol >/dev/null

# ---- the systems and bpmnd ------------------------------------------------------
python3 "$here/systems.py" --port-file "$work/systems.port" --record "$work/systems.jsonl" &
started $!
for _ in $(seq 100); do [ -s "$work/systems.port" ] && break; sleep 0.05; done
[ -s "$work/systems.port" ] || die "the systems stand-in did not start"
systems="http://127.0.0.1:$(cat "$work/systems.port")"

port=${OFFBOARDING_PORT:-8080}
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
"$bpmnd" --listen "127.0.0.1:$port" --auth on --worker-threads 2 2>"$work/bpmnd.log" &
started $!
base="http://127.0.0.1:$port/engine-rest"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/ready" >/dev/null || { cat "$work/bpmnd.log" >&2; die "bpmnd did not start"; }

# api USER METHOD PATH [JSON]: the response body; fails on an HTTP error
api() {
  local user=$1 method=$2 path=$3 body=${4:-}
  local args=(-s -u "$user:$password" -X "$method" -o "$work/response" -w '%{http_code}')
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' -d "$body")
  local code
  code=$(curl "${args[@]}" "$base$path") || die "$method $path: no answer from bpmnd"
  [ "${code:0:1}" = 2 ] || die "$method $path as $user: HTTP $code $(cat "$work/response")"
  cat "$work/response"
}
# until SECONDS WHAT COMMAND...: polls COMMAND until it succeeds
until_ok() {
  local limit=$1 what=$2
  shift 2
  local end=$((SECONDS + limit))
  until "$@"; do
    [ $SECONDS -lt $end ] || die "gave up after ${limit}s waiting for $what (logs in $work)"
    sleep 0.1
  done
}
var() { # the instance's variable NAME as JSON (from the history, so also after the end), empty when unset
  curl -s -u "admin:$password" "$base/history/variable-instance?processInstanceId=$instance&variableName=$1" |
    jq -c '.[0] // empty | if .type == "Json" and (.value | type) == "string" then (.value | fromjson) else .value end' \
      2>/dev/null || true
}
# move_clock DURATION: engine time = wall clock + DURATION. bpmnd's request
# threads read the offset at most twice a second, so give them that long.
move_clock() { "$ctl" clock --offset "$1" >/dev/null; sleep 0.6; }
ended() { [ "$(api admin GET "/history/process-instance/$instance" | jq -r .state)" = COMPLETED ]; }

employee=e-1042
name="Ada Lovelace"
last_day=$(date -u -d "+5 days" +%F)
say "Offboarding $name ($employee), manager bob, last day $last_day, systems idp, github and slack."
say "bpmnd serves Camunda 7's REST API on $base (authentication on: each"
say "person and system uses its own account); the IT and HR systems listen on $systems."

step "1. Deploy offboarding.bpmn as Camunda Modeler does (POST /deployment/create, as admin)"
dep=$(curl -s -u "admin:$password" -F deployment-name=offboarding -F deployment-source="Camunda Modeler" \
  -F deploy-changed-only=true -F "offboarding.bpmn=@$here/offboarding.bpmn;filename=offboarding.bpmn" "$base/deployment/create")
jq -e .id <<<"$dep" >/dev/null 2>&1 || die "the deployment failed: $dep"
definition=$(api admin GET "/process-definition/key/offboarding" | jq -r '.id + " (version " + (.version | tostring) + ")"')
say "   deployment $(jq -r .id <<<"$dep"), process definition $definition"

step "2. HR announces the departure (POST /message EmployeeDeparture, business key $employee, as hr)"
message=$(jq -nc --arg emp "$employee" --arg name "$name" --arg day "$last_day" --arg url "$systems" '{
  messageName: "EmployeeDeparture", businessKey: $emp,
  processVariables: {
    employeeId: {value: $emp, type: "String"}, employeeName: {value: $name, type: "String"},
    manager: {value: "bob", type: "String"}, lastDay: {value: $day, type: "String"},
    systems: {value: (["idp", "github", "slack"] | tojson), type: "Json"},
    itApiUrl: {value: $url, type: "String"}, hrApiUrl: {value: $url, type: "String"}}}')
say "   an instance starts and revokes the access in each system at once (HTTP connector, one job per system):"
api hr POST /message "$message" >/dev/null
instance=$(api admin GET "/process-instance?businessKey=$employee" | jq -r '.[0].id')
[ -n "$instance" ] && [ "$instance" != null ] || die "no instance started for $employee"
echo "$instance" >"$work/instance"
until_ok 20 "the three revocations" eval '[ "$(var revokedSystems | jq length 2>/dev/null)" = 3 ]'
say "   instance $instance"

if [ $withdraw = 1 ]; then
  step "3. bob approves the knowledge hand-over (as bob)"
  task=$(api bob GET "/task?processInstanceId=$instance&assignee=bob" | jq -r '.[0].id')
  api bob POST "/task/$task/complete" '{"variables": {"approved": {"value": true}, "notes": {"value": "wiki updated"}}}' >/dev/null
  step "4. Before the last day, HR withdraws the departure (POST /message DepartureWithdrawn, as hr)"
  say "   the event subprocess stops the offboarding and compensates: every completed revocation is undone:"
  api hr POST /message "{\"messageName\": \"DepartureWithdrawn\", \"businessKey\": \"$employee\"}" >/dev/null
  until_ok 20 "the end of the instance" ended
  say "   instance completed: revoked now: $(var revokedSystems), re-enabled: $(var reenabledSystems)"
  exit 0
fi

step "3. The payroll worker (camunda-external-task-client-js, as payroll) settles the final pay"
(cd "$here" && PAYROLL_USER=payroll PAYROLL_PASSWORD=$password exec node payroll-worker.mjs "$base") 2>"$work/worker.log" &
started $!
until_ok 30 "the payroll worker" eval '[ -n "$(var payrollReference)" ]'

step "4. bob, the manager, approves the knowledge hand-over from his task list (as bob)"
task=$(api bob GET "/task?processInstanceId=$instance&assignee=bob" | jq -r '.[0] | .id + " " + .name + " (due " + .due + ")"')
say "   bob's task: ${task#* }"
api bob POST "/task/${task%% *}/complete" \
  '{"variables": {"approved": {"value": true}, "notes": {"value": "runbooks and on-call handed to the team"}}}' >/dev/null
say "   approved; the Lua condition on \"Approved?\" lets the hand-over branch join"

step "5. Two days pass (bpmnctl clock --offset P2DT1M); the equipment is still out: a reminder goes to IT"
move_clock P2DT1M
until_ok 20 "the reminder" eval '[ "$(var reminderCount)" = 1 ]'

step "6. carol from IT claims \"Collect equipment\" in the it group's queue and completes it (as carol)"
task=$(api carol GET "/task?processInstanceId=$instance&candidateGroup=it" | jq -r '.[0].id')
api carol POST "/task/$task/claim" '{"userId": "carol"}' >/dev/null
api carol POST "/task/$task/complete" '{"variables": {"equipmentNotes": {"value": "laptop, badge and phone returned"}}}' >/dev/null
say "   collected; all four branches have joined, the instance waits for the last day"

step "7. The last day comes (bpmnctl clock --offset P5D): the timer fires, the summary goes to HR"
move_clock P5D
until_ok 20 "the end of the instance" ended
say "   instance completed"

step "8. The audit trail (bpmnctl audit --business-key $employee --kind instance-start,task-create,task-claim,leave,instance-end)"
"$ctl" audit --business-key "$employee" --kind instance-start,task-create,task-claim,leave,instance-end |
  sed 's/^/   /'
