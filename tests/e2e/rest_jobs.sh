#!/usr/bin/env bash
# The REST job operations against a running bpmnd with its job executor:
# PUT /job/{id}/suspended and /job/suspended (a suspended timer that is due
# is not run, by the executor nor by bpmnctl timers, until it is
# activated), PUT /job/{id}/duedate (a timer moved into the future is
# deferred past its own due time; null fires it now), DELETE /job/{id} (the
# job goes, the instance stays; a job the executor holds is refused), and
# DELETE /history/variable-instance/{id}; each writes its user operation.
# Requests with unknown ids or bad bodies answer 404 or 400 and change
# nothing in the database.
set -u
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null || { echo "needs jq and curl"; exit 77; }

fresh_schema
$c clock --offset PT0S >/dev/null
tmp=$(mktemp -d)
bpmnd_log="$tmp/bpmnd.log"
start_bpmnd --worker-threads 1
trap 'kill $bpmnd_pid 2>/dev/null; wait $bpmnd_pid 2>/dev/null; rm -rf "$tmp"' EXIT
B=$base

# call METHOD PATH [JSON]: the body lands in $tmp/body, "status content-type" in $res
call() {
  local data=()
  [ $# -ge 3 ] && data=(-H 'Content-Type: application/json' --data "$3")
  res=$(curl -s -o "$tmp/body" -w '%{http_code} %{content_type}' -X "$1" "${data[@]}" "$B$2")
}
jqb() { jq -r "$@" "$tmp/body"; }
ok() { call GET "$1"; [ "$res" = "200 application/json" ]; }
count() { call GET "$1"; [ "$res" = "200 application/json" ] && jqb .count; }
no_content() { call "$@"; [ "${res%% *}" = 204 ] && [ ! -s "$tmp/body" ]; }
# status CODE METHOD PATH [JSON]: that status with Camunda's error body {type, message}
status() {
  local want=$1
  shift
  call "$@"
  [ "${res%% *}" = "$want" ] && [ "${res#* }" = application/json ] &&
    jq -e '(.type | type) == "string" and (.message | length) > 0 and has("code")' "$tmp/body" >/dev/null
}
wait_for() { for _ in $(seq 1 100); do eval "$1" && return 0; sleep 0.1; done; return 1; }
start() { local body=${2:-'{}'}; curl -s -H 'Content-Type: application/json' -d "$body" "$B/process-definition/key/$1/start" | jq -r .id; }
job_of() { ok "/job?processInstanceId=$1" && jqb '.[0].id'; }
tasks() { count "/task/count?processInstanceId=$1"; }
ops() { count "/history/user-operation/count?entityType=Job&jobId=$1&operationType=$2"; }

curl -s -F deployment-name=jobops -F "jobops.bpmn=@$data/jobops.bpmn;filename=jobops.bpmn" "$B/deployment/create" >/dev/null

# ---- suspension: a due timer waits while suspended -----------------------------------
a=$(start jobhour '{"variables": {"x": {"value": 7, "type": "Integer"}}}')
ja=$(job_of "$a")
check "an instance waits on its timer job" '[ -n "$ja" ] && [ "$ja" != null ] && ok "/job/$ja" && [ "$(jqb .suspended)" = false ]'
check "PUT /job/{id}/suspended true: 204" 'no_content PUT "/job/$ja/suspended" "{\"suspended\": true}"'
check "the job reports suspended" 'ok "/job/$ja" && [ "$(jqb .suspended)" = true ] && [ "$(count "/job/count?suspended=true")" = 1 ] && [ "$(count "/job/count?active=true&processInstanceId=$a")" = 0 ]'
check "PUT /job/{id}/duedate null: 204" 'no_content PUT "/job/$ja/duedate" "{\"duedate\": null}"'
check "the job is due now" 'ok "/job/$ja" && [ "$(jqb .dueDate)" \< "$(date -u -d "+1 min" +%Y-%m-%dT%H:%M:%S)" ]'
sleep 2
check "the executor leaves the suspended due job alone" 'ok "/job/$ja" && [ "$(tasks "$a")" = 0 ]'
check "bpmnctl timers does not fire it either" '[ "$($c timers)" = "0 timer(s) fired" ] && [ "$(tasks "$a")" = 0 ]'
check "PUT /job/{id}/suspended false: 204" 'no_content PUT "/job/$ja/suspended" "{\"suspended\": false}"'
check "activated, the timer fires" 'wait_for "[ \"\$(tasks $a)\" = 1 ]" && status 404 GET "/job/$ja"'
check "suspension and activation are user operations" '[ "$(ops "$ja" SuspendJob)" = 1 ] && [ "$(ops "$ja" ActivateJob)" = 1 ] && ok "/history/user-operation?jobId=$ja&operationType=SuspendJob" && [ "$(jqb ".[0] | .property + \" \" + .newValue + \" \" + .category + \" \" + .processInstanceId")" = "suspensionState suspended Operator $a" ]'

# ---- PUT /job/suspended by instance, definition, key --------------------------------------
b=$(start jobhour)
jb=$(job_of "$b")
check "PUT /job/suspended by processInstanceId" 'no_content PUT /job/suspended "{\"processInstanceId\": \"$b\", \"suspended\": true}" && ok "/job/$jb" && [ "$(jqb .suspended)" = true ]'
check "by processDefinitionKey" 'no_content PUT /job/suspended "{\"processDefinitionKey\": \"jobhour\", \"suspended\": false}" && ok "/job/$jb" && [ "$(jqb .suspended)" = false ]'
def=$(jqb .processDefinitionId)
check "by processDefinitionId" 'no_content PUT /job/suspended "{\"processDefinitionId\": \"$def\", \"suspended\": true}" && ok "/job/$jb" && [ "$(jqb .suspended)" = true ]'
check "by a key with a tenant no definition has: nothing changes" 'no_content PUT /job/suspended "{\"processDefinitionKey\": \"jobhour\", \"processDefinitionTenantId\": \"t1\", \"suspended\": false}" && ok "/job/$jb" && [ "$(jqb .suspended)" = true ]'
check "by jobDefinitionId: there are none, 204" 'no_content PUT /job/suspended "{\"jobDefinitionId\": \"x\", \"suspended\": false}" && ok "/job/$jb" && [ "$(jqb .suspended)" = true ]'
check "by jobId" 'no_content PUT /job/suspended "{\"jobId\": \"$jb\", \"suspended\": false}" && ok "/job/$jb" && [ "$(jqb .suspended)" = false ]'
check "one operation row per job changed" '[ "$(ops "$jb" SuspendJob)" = 2 ] && [ "$(ops "$jb" ActivateJob)" = 2 ]'

# ---- due dates: a timer deferred past its own due time, then fired ------------------------
s=$(start jobsoon)
js=$(job_of "$s")
check "PUT /job/{id}/duedate into the future: 204" 'no_content PUT "/job/$js/duedate" "{\"duedate\": \"2100-01-01T00:00:00.000+0000\", \"cascade\": false}"'
check "the job shows the new due date" 'ok "/job/$js" && [ "$(jqb .dueDate)" = 2100-01-01T00:00:00.000+0000 ] && [ "$(count "/job/count?executable=true&processInstanceId=$s")" = 0 ]'
sleep 4 # the diagram's PT3S has passed
check "the deferred timer has not fired" 'ok "/job/$js" && [ "$(tasks "$s")" = 0 ]'
check "duedate null fires it now" 'no_content PUT "/job/$js/duedate" "{\"duedate\": null}" && wait_for "[ \"\$(tasks $s)\" = 1 ]"'
check "SetDueDate is logged in epoch milliseconds" 'ok "/history/user-operation?jobId=$js&operationType=SetDueDate&sortBy=timestamp&sortOrder=asc" && [ "$(jqb length)" = 2 ] && [ "$(jqb ".[0].property + \" \" + .[0].newValue")" = "duedate 4102444800000" ] && [ "$(jqb ".[1].orgValue")" = 4102444800000 ]'
c2=$(start jobhour)
j2=$(job_of "$c2")
check "a due date with an offset, absent cascade" 'no_content PUT "/job/$j2/duedate" "{\"duedate\": \"2099-06-01T12:00:00.000+02:00\"}" && ok "/job/$j2" && [ "$(jqb .dueDate)" = 2099-06-01T10:00:00.000+0000 ]'

# ---- 404 and 400 change nothing --------------------------------------------------------------
snapshot() { sql "select md5(coalesce(string_agg(j::text, '|' order by j.id), '')) from job j"; sql "select count(*), max(seq) from history"; }
before=$(snapshot)
check "suspend nothing: 404" 'status 404 PUT /job/nope/suspended "{\"suspended\": true}" && [ "$(jqb .message)" = "No job found with id '"'"'nope'"'"'" ]'
check "suspended missing or not a boolean: 400 naming it" 'status 400 PUT "/job/$j2/suspended" "{}" && jqb .message | grep -q suspended && status 400 PUT "/job/$j2/suspended" "{\"suspended\": \"yes\"}"'
check "a malformed body: 400" 'status 400 PUT "/job/$j2/suspended" "{\"suspended\": tru"'
check "PUT /job/suspended naming nothing or two things: 400" 'status 400 PUT /job/suspended "{\"suspended\": true}" && status 400 PUT /job/suspended "{\"jobId\": \"$j2\", \"processInstanceId\": \"$c2\", \"suspended\": true}" && status 400 PUT /job/suspended "{\"processInstanceId\": 5, \"suspended\": true}" && status 400 PUT /job/suspended "{\"processInstanceId\": \"$c2\"}"'
check "due date of nothing: 404" 'status 404 PUT /job/nope/duedate "{\"duedate\": null}"'
check "a bad due date: 400 naming it" 'status 400 PUT "/job/$j2/duedate" "{\"duedate\": \"tomorrow\"}" && jqb .message | grep -q "^duedate" && status 400 PUT "/job/$j2/duedate" "{\"duedate\": 5}" && status 400 PUT "/job/$j2/duedate" "{\"cascade\": \"no\"}"'
check "delete nothing: 404" 'status 404 DELETE /job/nope'
check "delete a historic variable that is not there: 404" 'status 404 DELETE "/history/variable-instance/$a:0:nope"'
check "the database is unchanged" '[ "$(snapshot)" = "$before" ]'

# ---- DELETE /job/{id} -------------------------------------------------------------------------
check "DELETE /job/{id}: 204" 'no_content DELETE "/job/$j2"'
check "the job is gone, its instance stays" 'status 404 GET "/job/$j2" && [ "$(count "/job/count?processInstanceId=$c2")" = 0 ] && ok "/process-instance/$c2" && [ "$(sql "select count(*) from job where id = '"'"'$j2'"'"'")" = 0 ]'
check "deleting it again: 404" 'status 404 DELETE "/job/$j2"'
check "the deletion is logged" 'ok "/history/user-operation?jobId=$j2&operationType=Delete" && [ "$(jqb length)" = 1 ] && [ "$(jqb ".[0] | .entityType + \" \" + (.property | tostring) + \" \" + .processInstanceId")" = "Job null $c2" ]'
d=$(start jobhour)
jd=$(job_of "$d")
sql "update job set lock_owner = 'other-worker', lock_expires_at = now() + interval '1 hour' where id = '$jd'" >/dev/null
before=$(snapshot)
check "a job the executor holds is not deleted: 500" 'status 500 DELETE "/job/$jd" && [ "$(jqb .message)" = "Cannot delete job when the job is being executed. Try again later." ] && [ "$(snapshot)" = "$before" ]'
sql "update job set lock_owner = null, lock_expires_at = null where id = '$jd'" >/dev/null

# ---- DELETE /history/variable-instance/{id} ---------------------------------------------------
ok "/history/variable-instance?processInstanceId=$a&variableName=x"
vid=$(jqb '.[0].id')
check "the historic variable is there" '[ -n "$vid" ] && [ "$vid" != null ] && [ "$(jqb ".[0].value")" = 7 ]'
check "DELETE /history/variable-instance/{id}: 204" 'no_content DELETE "/history/variable-instance/$vid"'
check "its history is gone, the running variable stays" 'status 404 GET "/history/variable-instance/$vid" && [ "$(count "/history/variable-instance/count?processInstanceId=$a&includeDeleted=true")" = 0 ] && ok "/process-instance/$a/variables/x" && [ "$(jqb .value)" = 7 ]'
check "DeleteHistory of a Variable is logged" 'ok "/history/user-operation?processInstanceId=$a&operationType=DeleteHistory" && [ "$(jqb ".[0] | .entityType + \" \" + .property + \" \" + .newValue")" = "Variable name x" ]'
check "deleting it again: 404" 'status 404 DELETE "/history/variable-instance/$vid"'

# ---- the route table is the OpenAPI document ------------------------------------------------
check "openapi.json lists the new operations" 'ok /openapi.json && jq -e ".paths[\"/job/{id}\"].delete and .paths[\"/job/{id}/suspended\"].put and .paths[\"/job/suspended\"].put and .paths[\"/job/{id}/duedate\"].put and .paths[\"/history/variable-instance/{id}\"].delete" "$tmp/body" >/dev/null'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
