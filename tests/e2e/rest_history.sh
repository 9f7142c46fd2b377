#!/usr/bin/env bash
# The REST incident, job and history resources against a running bpmnd:
# a diagram deployed as Camunda Modeler does, instances driven through REST
# and bpmnctl (claims, completions, a timer run on request, a failing async
# job that becomes an incident, retries, cancellation), then every endpoint
# checked with jq: status, exact Content-Type, every DTO field present (nulls
# included), filters, sortBy validation, counts and 404 bodies.
set -u
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null || { echo "needs jq and curl"; exit 77; }

fresh_schema
$c clock --offset PT0S >/dev/null
tmp=$(mktemp -d)
bpmnd_log="$tmp/bpmnd.log"
start_bpmnd --worker-threads 1
trap 'kill $bpmnd_pid 2>/dev/null; wait $bpmnd_pid 2>/dev/null; $c clock --offset PT0S >/dev/null 2>&1; rm -rf "$tmp"' EXIT
B=$base

# call METHOD PATH [JSON]: the body lands in $tmp/body, "status content-type" in $res
call() {
  local data=()
  [ $# -ge 3 ] && data=(-H 'Content-Type: application/json' --data "$3")
  res=$(curl -s -o "$tmp/body" -w '%{http_code} %{content_type}' -X "$1" "${data[@]}" "$B$2")
}
body() { cat "$tmp/body"; }
jqb() { jq -r "$@" "$tmp/body"; }
# ok PATH: GET answered 200 with exactly application/json
ok() { call GET "$1"; [ "$res" = "200 application/json" ]; }
# count PATH: the number a count endpoint answers
count() { call GET "$1"; [ "$res" = "200 application/json" ] && jqb .count; }
# not_found METHOD PATH: 404 with Camunda's error body
not_found() { call "$@"; [ "${res%% *}" = 404 ] && jq -e '(.type | type) == "string" and (.message | length) > 0' "$tmp/body" >/dev/null; }
bad_request() { call "$@"; [ "${res%% *}" = 400 ] && jq -e '.type and .message' "$tmp/body" >/dev/null; }
# wait_for CONDITION: up to 10 s for the job executor
wait_for() { for _ in $(seq 1 100); do eval "$1" && return 0; sleep 0.1; done; return 1; }
# has_keys KEYS...: the body (an object, or the first element of an array) has exactly these fields
has_keys() {
  local want
  want=$(printf '%s\n' "$@" | jq -R . | jq -sc 'sort')
  [ "$(jq -c 'if type == "array" then .[0] else . end | keys' "$tmp/body")" = "$want" ]
}

curl -s -F deployment-name=history -F "history.bpmn=@$data/history.bpmn;filename=history.bpmn" "$B/deployment/create" >/dev/null
start() { curl -s -H 'Content-Type: application/json' -d "$2" "$B/process-definition/key/$1/start" | jq -r .id; }
a=$(start hist '{"variables": {"a": {"value": 21, "type": "Integer"}}, "businessKey": "BK1"}')
check "an instance started" '[ -n "$a" ] && [ "$a" != null ]'

# ---- jobs: the boundary timer of Review ------------------------------------------
check "GET /job lists the timer" 'ok "/job?processInstanceId=$a" && [ "$(jqb length)" = 1 ]'
check "JobDto has every field" 'has_keys id jobDefinitionId processInstanceId executionId processDefinitionId processDefinitionKey dueDate exceptionMessage retries suspended priority tenantId createTime failedActivityId batchId'
check "nulls are serialized, retries default to 3" 'jq -e ".[0] | .tenantId == null and .exceptionMessage == null and .retries == 3 and .suspended == false and .processDefinitionKey == \"hist\"" "$tmp/body" >/dev/null'
check "dates in Camunda format" 'jq -e ".[0].dueDate | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\\\.[0-9]{3}\\\\+0000$\")" "$tmp/body" >/dev/null'
timer=$(jqb '.[0].id')
check "GET /job/{id}" 'ok "/job/$timer" && [ "$(jqb .id)" = "$timer" ]'
check "GET /job/{id} of nothing: 404" 'not_found GET /job/nope'
check "GET /job/count" '[ "$(count "/job/count?timers=true")" = 1 ] && [ "$(count "/job/count?messages=true")" = 0 ]'
check "dueDates filter" '[ "$(count "/job/count?dueDates=gt_2020-01-01T00:00:00.000%2B0000,lt_2100-01-01T00:00:00.000%2B0000")" = 1 ] && [ "$(count "/job/count?dueDates=lt_2020-01-01T00:00:00.000+0000")" = 0 ]'
check "a bad dueDates operator: 400" 'bad_request GET "/job?dueDates=eq_2020-01-01T00:00:00.000%2B0000"'
check "POST /job with a body and sorting" 'call POST /job "{\"timers\": true, \"processInstanceIds\": [\"$a\"], \"sorting\": [{\"sortBy\": \"jobDueDate\", \"sortOrder\": \"desc\"}]}" && [ "$res" = "200 application/json" ] && [ "$(jqb length)" = 1 ]'
check "POST /job with dueDates objects" 'call POST /job/count "{\"dueDates\": [{\"operator\": \"gt\", \"value\": \"2020-01-01T00:00:00.000+0000\"}]}" && [ "$(jqb .count)" = 1 ]'
check "unknown job sortBy: 400" 'bad_request GET "/job?sortBy=nope&sortOrder=asc"'
check "sortBy without sortOrder: 400" 'bad_request GET "/job?sortBy=jobId"'
check "paging" 'ok "/job?maxResults=0" && [ "$(jqb length)" = 0 ]'
call POST "/job/$timer/execute"
check "POST /job/{id}/execute: 204, no body" '[ "${res%% *}" = 204 ] && [ ! -s "$tmp/body" ]'
check "the executor runs the timer" 'wait_for "[ \"\$(count \"/job/count?processInstanceId=$a\")\" = 0 ]"'
check "execute on nothing: 404" 'not_found POST /job/nope/execute'

# ---- tasks: claim, assign, complete Review -----------------------------------------
review=$($c tasks --instance "$a" --json | jq -r '.[] | select(.element_id == "Review") | .id')
$c task claim "$review" --user alice >/dev/null
$c task assign "$review" --user bob >/dev/null
$c task complete "$review" --user bob >/dev/null
check "GET /history/task" 'ok "/history/task?taskId=$review" && [ "$(jqb length)" = 1 ]'
check "HistoricTaskDto has every field" 'has_keys id processDefinitionKey processDefinitionId processInstanceId executionId caseDefinitionKey caseDefinitionId caseInstanceId caseExecutionId activityInstanceId name description deleteReason owner assignee startTime endTime duration taskDefinitionKey priority due parentTaskId followUp tenantId removalTime rootProcessInstanceId taskState'
check "a completed task: name, assignee, priority, reason, state, duration" 'jq -e ".[0] | .name == \"Review it\" and .assignee == \"bob\" and .priority == 70 and .deleteReason == \"completed\" and .taskState == \"Completed\" and (.duration | type) == \"number\" and .taskDefinitionKey == \"Review\" and .description == null" "$tmp/body" >/dev/null'
check "task filters" '[ "$(count "/history/task/count?processInstanceId=$a&finished=true")" = 1 ] && [ "$(count "/history/task/count?processInstanceId=$a&unfinished=true")" = 2 ] && [ "$(count "/history/task/count?taskAssignee=bob")" = 1 ] && [ "$(count "/history/task/count?taskInvolvedUser=alice")" = 1 ] && [ "$(count "/history/task/count?taskHadCandidateGroup=clerks")" = 1 ] && [ "$(count "/history/task/count?taskNameLike=Rev%25")" = 1 ]'
check "task sortBy and POST" 'ok "/history/task?processInstanceId=$a&sortBy=taskName&sortOrder=desc" && [ "$(jqb ".[0].name")" = "Sign" ] && call POST /history/task/count "{\"taskDefinitionKeyIn\": [\"Sign\", \"Review\"], \"processInstanceId\": \"$a\"}" && [ "$(jqb .count)" = 3 ]'
check "unknown task sortBy: 400" 'bad_request GET "/history/task?sortBy=nope&sortOrder=asc"'

# ---- the user operation log ----------------------------------------------------------
check "GET /history/user-operation" 'ok "/history/user-operation?taskId=$review&sortBy=timestamp&sortOrder=asc" && [ "$(jqb length)" = 3 ]'
check "UserOperationLogEntryDto has every field" 'has_keys id deploymentId processDefinitionId processDefinitionKey processInstanceId executionId caseDefinitionId caseInstanceId caseExecutionId taskId jobId jobDefinitionId batchId userId timestamp operationId externalTaskId operationType entityType property orgValue newValue removalTime rootProcessInstanceId category annotation'
check "claim, then assignment with the previous assignee" 'jq -e ".[0] | .operationType == \"Claim\" and .entityType == \"Task\" and .category == \"TaskWorker\" and .property == \"assignee\" and .orgValue == null and .newValue == \"alice\" and .userId == \"alice\"" "$tmp/body" >/dev/null && jq -e ".[1] | .operationType == \"Assign\" and .orgValue == \"alice\" and .newValue == \"bob\"" "$tmp/body" >/dev/null'
check "the completion comes from the leave row of the task" 'jq -e ".[2] | .operationType == \"Complete\" and .property == \"delete\" and .newValue == \"true\" and .userId == \"bob\" and .taskId == \"$review\"" "$tmp/body" >/dev/null'
check "the timer run on request is logged" '[ "$(count "/history/user-operation/count?operationType=Execute&entityType=Job&jobId=$timer")" = 1 ]'
check "user operation filters" '[ "$(count "/history/user-operation/count?userId=bob")" = 2 ] && [ "$(count "/history/user-operation/count?categoryIn=TaskWorker,Admin")" = 3 ] && [ "$(count "/history/user-operation/count?afterTimestamp=2100-01-01T00:00:00.000%2B0000")" = 0 ]'
check "user operations sort by timestamp only: 400" 'bad_request GET "/history/user-operation?sortBy=userId&sortOrder=asc"'

# ---- activity instances ----------------------------------------------------------------
check "GET /history/activity-instance" 'ok "/history/activity-instance?processInstanceId=$a&sortBy=occurrence&sortOrder=asc" && [ "$(jqb length)" -ge 8 ]'
check "HistoricActivityInstanceDto has every field" 'has_keys id parentActivityInstanceId activityId activityName activityType processDefinitionKey processDefinitionId processInstanceId executionId taskId calledProcessInstanceId calledCaseInstanceId assignee startTime endTime durationInMillis canceled completeScope tenantId removalTime rootProcessInstanceId'
check "Camunda activity types, in order" '[ "$(jqb "[.[].activityType] | .[:4] | join(\",\")")" = "startEvent,userTask,boundaryTimer,noneEndEvent" ]'
check "the user task links its task and assignee" 'jq -e "[.[] | select(.activityId == \"Review\")][0] | .taskId == \"$review\" and .assignee == \"bob\" and .endTime != null and .canceled == false" "$tmp/body" >/dev/null'
check "the reminder end event completed its scope" 'jq -e "[.[] | select(.activityId == \"Reminded\")][0].completeScope == true" "$tmp/body" >/dev/null'
check "a multi-instance body holds its iterations" 'mib=$(jqb "[.[] | select(.activityId == \"Sign#multiInstanceBody\")][0].id") && [ "$(jqb "[.[] | select(.activityId == \"Sign\" and .parentActivityInstanceId == \"$mib\")] | length")" = 2 ] && [ "$(jqb "[.[] | select(.activityType == \"multiInstanceBody\")] | length")" = 1 ]'
ai=$(jqb '[.[] | select(.activityId == "Review")][0].id')
check "GET /history/activity-instance/{id}" 'ok "/history/activity-instance/$ai" && [ "$(jqb .activityId)" = Review ]'
check "GET /history/activity-instance/{id} of nothing: 404" 'not_found GET "/history/activity-instance/Review:nope:3"'
check "activity filters" '[ "$(count "/history/activity-instance/count?processInstanceId=$a&activityType=userTask&unfinished=true")" = 2 ] && [ "$(count "/history/activity-instance/count?activityInstanceId=$ai")" = 1 ] && [ "$(count "/history/activity-instance/count?taskAssignee=bob")" = 1 ] && [ "$(count "/history/activity-instance/count?activityName=x")" = 0 ]'
check "unknown activity sortBy: 400" 'bad_request GET "/history/activity-instance?sortBy=nope&sortOrder=asc"'

# finish A: one signature through the REST task API, one with bpmnctl, then the called instance's task
sign=$($c tasks --instance "$a" --json | jq -r '.[0].id')
call POST "/task/$sign/claim" '{"userId": "carol"}'
call POST "/task/$sign/complete" '{}'
check "the REST task API: claim and complete" '[ "${res%% *}" = 204 ] && ok "/history/task?taskId=$sign" && [ "$(jqb ".[0].assignee + \" \" + .[0].taskState")" = "carol Completed" ] && ok "/history/user-operation?taskId=$sign" && [ "$(jqb "[.[] | .operationType + \":\" + .userId + \":\" + .newValue] | join(\",\")")" = "Claim:carol:carol,Complete:carol:true" ]'
for t in $($c tasks --instance "$a" --json | jq -r '.[].id'); do $c task complete "$t" >/dev/null; done
child=$(sql "select id from process_instance where parent_instance_id = '$a'")
for t in $($c tasks --instance "$child" --json | jq -r '.[].id'); do $c task complete "$t" >/dev/null; done

# ---- historic process instances ---------------------------------------------------------
check "GET /history/process-instance/{id}" 'ok "/history/process-instance/$a"'
check "HistoricProcessInstanceDto has every field" 'has_keys id businessKey processDefinitionId processDefinitionKey processDefinitionName processDefinitionVersion startTime endTime removalTime durationInMillis startUserId startActivityId deleteReason rootProcessInstanceId superProcessInstanceId superCaseInstanceId caseInstanceId tenantId state restartedProcessInstanceId'
check "a completed instance" 'jq -e ".state == \"COMPLETED\" and .businessKey == \"BK1\" and .processDefinitionName == \"History demo\" and .processDefinitionVersion == 1 and .startActivityId == \"Start\" and (.durationInMillis | type) == \"number\" and .endTime != null and .removalTime != null and .tenantId == null" "$tmp/body" >/dev/null'
check "the called instance" 'ok "/history/process-instance?superProcessInstanceId=$a" && [ "$(jqb ".[0].id")" = "$child" ] && [ "$(jqb ".[0].rootProcessInstanceId")" = "$a" ] && ok "/history/activity-instance?processInstanceId=$a&activityId=Call" && [ "$(jqb ".[0].calledProcessInstanceId")" = "$child" ]'
b=$(start hist '{"variables": {"a": {"value": 1, "type": "Integer"}}}')
s=$(start hist '{"variables": {"a": {"value": 2, "type": "Integer"}}, "businessKey": "BK3"}')
$c cancel "$b" --user ops >/dev/null
$c suspend "$s" --user ops >/dev/null
check "states: completed, externally terminated, suspended" '[ "$(count "/history/process-instance/count?completed=true&processDefinitionKey=hist")" = 1 ] && [ "$(count "/history/process-instance/count?externallyTerminated=true")" = 1 ] && [ "$(count "/history/process-instance/count?suspended=true")" = 1 ] && ok "/history/process-instance/$b" && [ "$(jqb .state)" = EXTERNALLY_TERMINATED ]'
check "a cancelled instance deleted its task" 'ok "/history/task?processInstanceId=$b" && [ "$(jqb ".[0].deleteReason")" = deleted ] && [ "$(jqb ".[0].taskState")" = Deleted ] && [ "$(count "/history/activity-instance/count?processInstanceId=$b&canceled=true")" = 1 ]'
check "operator actions in the log" '[ "$(count "/history/user-operation/count?processInstanceId=$b&operationType=Delete&entityType=ProcessInstance&userId=ops")" = 1 ] && ok "/history/user-operation?processInstanceId=$s" && [ "$(jqb ".[0].operationType + \" \" + .[0].newValue + \" \" + .[0].category")" = "Suspend suspended Operator" ]'
check "process instance filters" '[ "$(count "/history/process-instance/count?finished=true")" = 3 ] && [ "$(count "/history/process-instance/count?unfinished=true")" = 1 ] && [ "$(count "/history/process-instance/count?processInstanceBusinessKeyLike=BK%25")" = 2 ] && [ "$(count "/history/process-instance/count?rootProcessInstances=true")" = 3 ] && [ "$(count "/history/process-instance/count?activeActivityIdIn=Review")" = 1 ] && [ "$(count "/history/process-instance/count?executedActivityIdIn=Sign")" = 1 ] && [ "$(count "/history/process-instance/count?variables=a_eq_21")" = 1 ] && [ "$(count "/history/process-instance/count?startedAfter=2100-01-01T00:00:00.000%2B0000")" = 0 ]'
check "process instance sortBy and POST" 'ok "/history/process-instance?processDefinitionKey=hist&sortBy=businessKey&sortOrder=asc" && [ "$(jqb "[.[].businessKey] | map(. // \"-\") | join(\",\")")" = "BK1,BK3,-" ] && call POST /history/process-instance "{\"processInstanceIds\": [\"$a\", \"$b\"], \"sorting\": [{\"sortBy\": \"startTime\", \"sortOrder\": \"desc\"}]}" && [ "$(jqb ".[0].id")" = "$b" ]'
check "unknown process instance sortBy: 400" 'bad_request GET "/history/process-instance?sortBy=nope&sortOrder=asc"'
check "a bad boolean: 400" 'bad_request GET "/history/process-instance?finished=maybe"'
check "GET /history/process-instance/{id} of nothing: 404" 'not_found GET /history/process-instance/nope'

# ---- historic variables --------------------------------------------------------------------
check "GET /history/variable-instance" 'ok "/history/variable-instance?processInstanceId=$a&sortBy=variableName&sortOrder=asc" && [ "$(jqb "[.[].name] | index(\"total\") != null")" = true ]'
check "HistoricVariableInstanceDto has every field" 'has_keys id name type value valueInfo processDefinitionKey processDefinitionId processInstanceId executionId activityInstanceId caseDefinitionKey caseDefinitionId caseInstanceId caseExecutionId taskId errorMessage tenantId state createTime removalTime rootProcessInstanceId'
check "typed values: Integer, String, Json as a string" 'jq -e "(map({(.name): .}) | add) as \$v | \$v.a.type == \"Integer\" and \$v.a.value == 21 and \$v.total.value == 42 and \$v.note.type == \"String\" and \$v.doc.type == \"Json\" and (\$v.doc.value | fromjson | .lines) == 2 and \$v.a.valueInfo == {} and \$v.a.activityInstanceId == \"$a\" and \$v.a.state == \"CREATED\"" "$tmp/body" >/dev/null'
check "loop variables belong to their element instance" 'jq -e "[.[] | select(.name == \"nrOfInstances\")][0].activityInstanceId | startswith(\"Sign#multiInstanceBody:\")" "$tmp/body" >/dev/null'
vid=$(jqb '.[] | select(.name == "total") | .id')
check "GET /history/variable-instance/{id}" 'ok "/history/variable-instance/$vid" && [ "$(jqb .value)" = 42 ] && [ "$(jqb .type)" = Integer ]'
check "GET /history/variable-instance/{id} of nothing: 404" 'not_found GET "/history/variable-instance/$a:1:nope"'
check "variable filters" '[ "$(count "/history/variable-instance/count?variableName=total&variableValue=42")" = 1 ] && [ "$(count "/history/variable-instance/count?processInstanceId=$a&variableTypeIn=json")" = 1 ] && [ "$(count "/history/variable-instance/count?variableNameIn=a,note&processInstanceIdIn=$a,$b")" = 3 ] && call POST /history/variable-instance/count "{\"variableNameLike\": \"nrOf%\", \"processInstanceId\": \"$a\"}" && [ "$(jqb .count)" = 3 ]'
check "unknown variable sortBy: 400" 'bad_request GET "/history/variable-instance?sortBy=nope&sortOrder=asc"'

# ---- an async job that fails: incident, annotation, retries -------------------------------
f=$(start flaky '{}')
check "the failing job becomes an incident" 'wait_for "[ \"\$(count \"/incident/count?processInstanceId=$f\")\" = 1 ]"'
check "GET /incident" 'ok "/incident?processInstanceId=$f" && [ "$(jqb length)" = 1 ]'
check "IncidentDto has every field" 'has_keys id processDefinitionId processInstanceId executionId incidentTimestamp incidentType activityId failedActivityId causeIncidentId rootCauseIncidentId configuration incidentMessage tenantId jobDefinitionId annotation'
check "a failedJob incident at the script" 'jq -e ".[0] | .incidentType == \"failedJob\" and .activityId == \"Boom\" and .annotation == null and .jobDefinitionId == null and (.incidentMessage | test(\"not before 2030\")) and .causeIncidentId == .id" "$tmp/body" >/dev/null'
inc=$(jqb '.[0].id')
job=$(jqb '.[0].configuration')
check "incident filters" '[ "$(count "/incident/count?incidentType=failedJob")" = 1 ] && [ "$(count "/incident/count?incidentType=failedExternalTask")" = 0 ] && [ "$(count "/incident/count?activityId=Boom&incidentMessageLike=%25before%25")" = 1 ] && [ "$(count "/incident/count?jobDefinitionIdIn=x")" = 0 ] && ok "/incident?sortBy=incidentTimestamp&sortOrder=desc"'
check "unknown incident sortBy: 400" 'bad_request GET "/incident?sortBy=nope&sortOrder=asc"'
check "GET /incident/{id}" 'ok "/incident/$inc" && [ "$(jqb .configuration)" = "$job" ]'
check "GET /incident/{id} of nothing: 404" 'not_found GET /incident/nope'
call PUT "/incident/$inc/annotation" '{"annotation": "looking into it"}'
check "PUT annotation: 204, and the incident shows it" '[ "${res%% *}" = 204 ] && ok "/incident/$inc" && [ "$(jqb .annotation)" = "looking into it" ]'
call DELETE "/incident/$inc/annotation"
check "DELETE annotation: 204, and it is gone" '[ "${res%% *}" = 204 ] && ok "/incident/$inc" && jq -e ".annotation == null" "$tmp/body" >/dev/null'
check "annotation of nothing: 404" 'not_found PUT /incident/nope/annotation "{\"annotation\": \"x\"}"'
check "annotations are user operations" '[ "$(count "/history/user-operation/count?entityType=Incident")" = 2 ]'
check "the failed job" 'ok "/job/$job" && jq -e ".retries == 0 and .failedActivityId == \"Boom\" and (.exceptionMessage | test(\"not before 2030\"))" "$tmp/body" >/dev/null && [ "$(count "/job/count?noRetriesLeft=true")" = 1 ] && [ "$(count "/job/count?withException=true&executable=true")" = 0 ]'
check "GET /job/{id}/stacktrace: the failure as text" 'call GET "/job/$job/stacktrace" && [ "$res" = "200 text/plain" ] && grep -q "not before 2030" "$tmp/body" && call GET "/job/$timer/stacktrace" && [ "${res%% *}" = 404 ]'
check "GET /history/incident" 'ok "/history/incident?open=true" && [ "$(jqb length)" = 1 ]'
check "HistoricIncidentDto has every field" 'has_keys id processDefinitionKey processDefinitionId processInstanceId executionId rootProcessInstanceId createTime endTime removalTime incidentType activityId failedActivityId causeIncidentId rootCauseIncidentId configuration historyConfiguration incidentMessage tenantId jobDefinitionId open deleted resolved annotation'
check "bad retries: 400" 'bad_request PUT "/job/$job/retries" "{\"retries\": -1}" && bad_request PUT "/job/$job/retries" "{}"'
check "retries of nothing: 404" 'not_found PUT /job/nope/retries "{\"retries\": 1}"'
$c clock --offset P1500D >/dev/null # the script fails before 2030
sleep 1 # bpmnd reads the clock offset at most twice a second
call PUT "/job/$job/retries" '{"retries": 1}'
check "PUT /job/{id}/retries: 204" '[ "${res%% *}" = 204 ] && [ ! -s "$tmp/body" ]'
check "the incident is resolved and the job runs" 'wait_for "[ \"\$(count \"/history/process-instance/count?processInstanceId=$f&completed=true\")\" = 1 ]" && [ "$(count "/incident/count")" = 0 ]'
check "the historic incident is resolved" 'ok "/history/incident?processInstanceId=$f&resolved=true" && jq -e ".[0] | .open == false and .resolved == true and .deleted == false and .endTime != null" "$tmp/body" >/dev/null'
check "historic incident filters and sorting" '[ "$(count "/history/incident/count?open=true")" = 0 ] && [ "$(count "/history/incident/count?incidentType=failedJob&processDefinitionKey=flaky")" = 1 ] && ok "/history/incident?sortBy=incidentState&sortOrder=asc" && bad_request GET "/history/incident?sortBy=nope&sortOrder=asc"'
check "setting retries is logged with old and new value" 'ok "/history/user-operation?operationType=SetJobRetries&jobId=$job" && [ "$(jqb ".[0].orgValue + \" \" + .[0].newValue + \" \" + .[0].entityType")" = "0 1 Job" ]'
$c clock --offset PT0S >/dev/null
sleep 1 # bpmnd reads the clock offset at most twice a second: let it see the reset

# ---- deleting history ------------------------------------------------------------------------
check "a running instance's history cannot be deleted: 404" 'not_found DELETE "/history/process-instance/$s"'
call DELETE "/history/process-instance/$b"
check "DELETE /history/process-instance/{id}: 204" '[ "${res%% *}" = 204 ] && not_found GET "/history/process-instance/$b" && [ "$(count "/history/activity-instance/count?processInstanceId=$b")" = 0 ]'
check "the deletion itself stays in the log" '[ "$(count "/history/user-operation/count?processInstanceId=$b&operationType=DeleteHistory")" = 1 ]'
check "deleting nothing: 404, or 204 with failIfNotExists=false" 'not_found DELETE /history/process-instance/nope && call DELETE "/history/process-instance/nope?failIfNotExists=false" && [ "${res%% *}" = 204 ]'

# ---- retries set by hand on a job that never failed -------------------------------------
r=$(start hist '{"variables": {"a": {"value": 3, "type": "Integer"}}}')
ok "/job?processInstanceId=$r"
rj=$(jqb '.[0].id')
due=$(jqb '.[0].dueDate')
call PUT "/job/$rj/retries" '{"retries": 0}'
check "retries 0 open a failedJob incident" '[ "${res%% *}" = 204 ] && [ "$(count "/incident/count?processInstanceId=$r&incidentType=failedJob&configuration=$rj")" = 1 ] && ok "/job/$rj" && [ "$(jqb .retries)" = 0 ] && [ "$(jqb .dueDate)" = "$due" ]'
call PUT "/job/$rj/retries" '{"retries": 2, "dueDate": "2100-01-01T00:00:00.000+0000"}'
check "retries back resolve it; dueDate moves the job" '[ "${res%% *}" = 204 ] && [ "$(count "/incident/count?processInstanceId=$r")" = 0 ] && ok "/job/$rj" && [ "$(jqb ".retries, .dueDate" | tr "\n" " ")" = "2 2100-01-01T00:00:00.000+0000 " ] && [ "$(count "/history/incident/count?processInstanceId=$r&resolved=true")" = 1 ]'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
