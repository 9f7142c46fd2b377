/* The history resources (/history/...): process instances, activity
 * instances, tasks, variables, the user operation log and incidents, each
 * built by SQL from process_instance, incident and the audit trail through
 * the views of adapters/pg/sql/005_history_views.sql. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "restvars.h"

/* Filters Camunda has and these queries ignore, because nothing is recorded
 * to answer them: executedJobAfter/Before (successful job runs are not
 * logged), variableNamesIgnoreCase, variableValuesIgnoreCase, deserializeValues
 * (values are always returned serialised, as restvars.h describes),
 * taskVariables (task-local variables are not indexed by task).
 * Filters on what we never have (case instances, job definitions, batches,
 * deployments in the operation log, parent tasks, element names) match
 * nothing, as the field they compare is always null. Several state filters
 * together (active and completed) must all hold, where Camunda ORs them. */

/* A filter whose value can never match: "$ is null" is false for a given
 * value, and it still uses the parameter as the list code requires. */
#define NEVER "$::text is null"

#define DURATION_MS(a, b) "(extract(epoch from " b " - " a ") * 1000)::bigint"

/* ---- process instances ------------------------------------------------------------ */

#define PI_DTO \
    "json_build_object('id', i.id, 'businessKey', i.business_key, 'processDefinitionId', i.definition_id, " \
    "'processDefinitionKey', i.definition_key, 'processDefinitionName', i.definition_name, " \
    "'processDefinitionVersion', i.definition_version, 'startTime', bpm_rest_date(i.started_at), " \
    "'endTime', bpm_rest_date(i.ended_at), 'removalTime', bpm_rest_date(i.removal_at), 'durationInMillis', " \
    DURATION_MS("i.started_at", "i.ended_at") ", 'startUserId', i.start_user, 'startActivityId', " \
    "i.start_activity_id, 'deleteReason', null, 'rootProcessInstanceId', i.root_instance_id, " \
    "'superProcessInstanceId', i.parent_instance_id, 'superCaseInstanceId', null, 'caseInstanceId', null, " \
    "'tenantId', i.tenant_id, 'state', i.state, 'restartedProcessInstanceId', null)"

/* element instances of i still open (entered, neither left nor cancelled) */
#define OPEN_ACTIVITY_IN \
    "exists (select 1 from history e where e.instance_id = i.id and e.kind = 'enter' and e.element_id = " \
    "any(string_to_array($, ',')) and not exists (select 1 from history x where x.instance_id = e.instance_id " \
    "and x.scope_id = e.scope_id and x.kind in ('leave', 'cancel') and x.seq > e.seq))"

static const bpm_api_filter pi_filters[] = {
    {"processInstanceId", BPM_F_TEXT, "i.id = $", NULL},
    {"processInstanceIds", BPM_F_LIST, "i.id = any(string_to_array($, ','))", NULL},
    {"processInstanceIdNotIn", BPM_F_LIST, "not (i.id = any(string_to_array($, ',')))", NULL},
    {"processDefinitionId", BPM_F_TEXT, "i.definition_id = $", NULL},
    {"processDefinitionKey", BPM_F_TEXT, "i.definition_key = $", NULL},
    {"processDefinitionKeyIn", BPM_F_LIST, "i.definition_key = any(string_to_array($, ','))", NULL},
    {"processDefinitionKeyNotIn", BPM_F_LIST, "not (i.definition_key = any(string_to_array($, ',')))", NULL},
    {"processDefinitionName", BPM_F_TEXT, "i.definition_name = $", NULL},
    {"processDefinitionNameLike", BPM_F_LIKE, "i.definition_name like $", NULL},
    {"processInstanceBusinessKey", BPM_F_TEXT, "i.business_key = $", NULL},
    {"processInstanceBusinessKeyIn", BPM_F_LIST, "i.business_key = any(string_to_array($, ','))", NULL},
    {"processInstanceBusinessKeyLike", BPM_F_LIKE, "i.business_key like $", NULL},
    {"rootProcessInstances", BPM_F_BOOL, "i.parent_instance_id is null", NULL},
    {"rootProcessInstanceId", BPM_F_TEXT, "i.root_instance_id = $", NULL},
    {"finished", BPM_F_BOOL, "i.ended_at is not null", NULL},
    {"unfinished", BPM_F_BOOL, "i.ended_at is null", NULL},
    {"withIncidents", BPM_F_BOOL, "exists (select 1 from incident x where x.instance_id = i.id)", NULL},
    {"withRootIncidents", BPM_F_BOOL, "exists (select 1 from incident x where x.instance_id = i.id)", NULL},
    {"incidentIdIn", BPM_F_LIST,
     "exists (select 1 from incident x where x.instance_id = i.id and x.id = any(string_to_array($, ',')))", NULL},
    {"incidentType", BPM_F_TEXT, "exists (select 1 from incident x where x.instance_id = i.id and x.type = $)", NULL},
    {"incidentStatus", BPM_F_TEXT,
     "exists (select 1 from incident x where x.instance_id = i.id and case $ when 'open' then x.resolved_at is null"
     " when 'resolved' then x.resolved_at is not null else false end)",
     NULL},
    {"incidentMessage", BPM_F_TEXT, "exists (select 1 from incident x where x.instance_id = i.id and x.message = $)",
     NULL},
    {"incidentMessageLike", BPM_F_LIKE,
     "exists (select 1 from incident x where x.instance_id = i.id and x.message like $)", NULL},
    {"startedBefore", BPM_F_DATE, "i.started_at <= $::timestamptz", NULL},
    {"startedAfter", BPM_F_DATE, "i.started_at >= $::timestamptz", NULL},
    {"finishedBefore", BPM_F_DATE, "i.ended_at <= $::timestamptz", NULL},
    {"finishedAfter", BPM_F_DATE, "i.ended_at >= $::timestamptz", NULL},
    {"executedActivityAfter", BPM_F_DATE,
     "exists (select 1 from history h where h.instance_id = i.id and h.kind in ('enter', 'leave', 'cancel')"
     " and h.element_id is not null and h.at >= $::timestamptz)",
     NULL},
    {"executedActivityBefore", BPM_F_DATE,
     "exists (select 1 from history h where h.instance_id = i.id and h.kind in ('enter', 'leave', 'cancel')"
     " and h.element_id is not null and h.at <= $::timestamptz)",
     NULL},
    {"startedBy", BPM_F_TEXT, "i.start_user = $", NULL},
    {"superProcessInstanceId", BPM_F_TEXT, "i.parent_instance_id = $", NULL},
    {"subProcessInstanceId", BPM_F_TEXT, "i.id = (select x.parent_instance_id from process_instance x where x.id = $)",
     NULL},
    {"superCaseInstanceId", BPM_F_TEXT, NEVER, NULL},
    {"subCaseInstanceId", BPM_F_TEXT, NEVER, NULL},
    {"caseInstanceId", BPM_F_TEXT, NEVER, NULL},
    {"tenantIdIn", BPM_F_LIST, "i.tenant_id = any(string_to_array($, ','))", NULL},
    {"withoutTenantId", BPM_F_BOOL, "i.tenant_id is null", NULL},
    /* we keep no separate record of async or incident activities: an open
     * element instance is both */
    {"activityIdIn", BPM_F_LIST, OPEN_ACTIVITY_IN, NULL},
    {"activeActivityIdIn", BPM_F_LIST, OPEN_ACTIVITY_IN, NULL},
    {"executedActivityIdIn", BPM_F_LIST,
     "exists (select 1 from history x where x.instance_id = i.id and x.kind in ('leave', 'cancel')"
     " and x.element_id = any(string_to_array($, ',')))",
     NULL},
    {"active", BPM_F_BOOL, "i.state = 'ACTIVE'", NULL},
    {"suspended", BPM_F_BOOL, "i.state = 'SUSPENDED'", NULL},
    {"completed", BPM_F_BOOL, "i.state = 'COMPLETED'", NULL},
    {"externallyTerminated", BPM_F_BOOL, "i.state = 'EXTERNALLY_TERMINATED'", NULL},
    {"internallyTerminated", BPM_F_BOOL, "i.state = 'INTERNALLY_TERMINATED'", NULL},
    {"variables", BPM_F_VARS, "i.id", NULL},
    {NULL, 0, NULL, NULL},
};
static const bpm_api_sort pi_sorts[] = {
    {"instanceId", "i.id"},
    {"definitionId", "i.definition_id"},
    {"definitionKey", "i.definition_key"},
    {"definitionName", "i.definition_name"},
    {"definitionVersion", "i.definition_version"},
    {"businessKey", "i.business_key"},
    {"startTime", "i.started_at"},
    {"endTime", "i.ended_at"},
    {"duration", "(i.ended_at - i.started_at)"},
    {"tenantId", "i.tenant_id"},
    {NULL, NULL},
};
static const bpm_api_list pi_list = {PI_DTO, "history_process_instance i", NULL, pi_filters, pi_sorts,
                                     "i.started_at, i.id"};

BPM_API_HANDLER(bpm_api_history_instances)
{
    bpm_api_list_run(req, r, &pi_list, false);
}

BPM_API_HANDLER(bpm_api_history_instances_count)
{
    bpm_api_list_run(req, r, &pi_list, true);
}

BPM_API_HANDLER(bpm_api_history_instance)
{
    const char *p[1] = {req->params[0]};
    char msg[300];
    snprintf(msg, sizeof msg, "Historic process instance with id %s does not exist", req->params[0]);
    bpm_api_sql_json(req, r, "select " PI_DTO " from history_process_instance i where i.id = $1", 1, p, msg);
}

/* Removes an ended instance with everything recorded about it; the
 * operation itself stays in the log (a history row outlives the instance). */
BPM_API_HANDLER(bpm_api_history_instance_delete)
{
    char buf[16];
    const char *fail = bpm_api_list_param(req->query, "failIfNotExists", buf, sizeof buf);
    const char *p[2] = {req->params[0], req->user};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg,
                     "with t as (select id, state, definition_key, business_key from process_instance where id = $1),"
                     " g as (delete from process_instance where id = $1 and state <> 'active' returning id),"
                     " hd as (delete from history where instance_id in (select id from g)),"
                     " h as (insert into history (instance_id, definition_key, business_key, kind, user_id, detail)"
                     " select id, definition_key, business_key, 'operation', $2, jsonb_build_object('operation',"
                     " 'DeleteHistory', 'entityType', 'ProcessInstance') from t where exists (select 1 from g))"
                     " select (select state from t)",
                     2, p, NULL, NULL, &res, "delete the historic process instance", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    bool missing = PQgetisnull(res, 0, 0), running = !missing && strcmp(PQgetvalue(res, 0, 0), "active") == 0;
    PQclear(res);
    /* Camunda answers 404 for both (its engine error becomes a not-found) */
    if (running)
        bpm_api_error(r, 404, "InvalidRequestException", -1,
                      "Historic process instance with id %s cannot be deleted: the process instance is still running",
                      req->params[0]);
    else if (missing && !(fail && strcmp(fail, "false") == 0))
        bpm_api_error(r, 404, "InvalidRequestException", -1, "Historic process instance with id %s does not exist",
                      req->params[0]);
    else
        bpm_api_no_content(r);
}

/* ---- activity instances ----------------------------------------------------------- */

/* The user task and the called instance of an element instance a. */
#define AI_FROM \
    "history_activity_instance a left join lateral (select t.id, t.assignee from history_task t where " \
    "a.element_type = 'userTask' and t.instance_id = a.instance_id and t.scope_id = a.scope_id limit 1) t on true " \
    "left join lateral (select c.id from history k join process_instance c on c.parent_instance_id = k.instance_id " \
    "and c.parent_wait = (k.detail->>'wait')::int where a.element_type = 'callActivity' and k.instance_id = " \
    "a.instance_id and k.kind = 'call' and k.scope_id = a.scope_id limit 1) c on true"

#define AI_DTO \
    "json_build_object('id', a.id, 'parentActivityInstanceId', a.parent_id, 'activityId', a.activity_id, " \
    "'activityName', null, 'activityType', a.activity_type, 'processDefinitionKey', a.definition_key, " \
    "'processDefinitionId', a.definition_id, 'processInstanceId', a.instance_id, 'executionId', a.instance_id, " \
    "'taskId', t.id, 'calledProcessInstanceId', c.id, 'calledCaseInstanceId', null, 'assignee', t.assignee, " \
    "'startTime', bpm_rest_date(a.start_at), 'endTime', bpm_rest_date(a.end_at), 'durationInMillis', " \
    DURATION_MS("a.start_at", "a.end_at") ", 'canceled', coalesce(a.end_kind = 'cancel', false), " \
    "'completeScope', coalesce(a.end_kind = 'leave' and a.element_type = 'endEvent', false), 'tenantId', " \
    "a.tenant_id, 'removalTime', bpm_rest_date(a.removal_at), 'rootProcessInstanceId', a.root_instance_id)"

/* Ids are activity:instance:element instance; the instance part lets the
 * lookup use the history's index. */
#define AI_BY_ID "(a.instance_id = split_part($, ':', 2) and a.id = $)"

static const bpm_api_filter ai_filters[] = {
    {"activityInstanceId", BPM_F_TEXT, AI_BY_ID, NULL},
    {"processInstanceId", BPM_F_TEXT, "a.instance_id = $", NULL},
    {"processDefinitionId", BPM_F_TEXT, "a.definition_id = $", NULL},
    {"executionId", BPM_F_TEXT, "a.instance_id = $", NULL},
    {"activityId", BPM_F_TEXT, "a.activity_id = $", NULL},
    {"activityName", BPM_F_TEXT, NEVER, NULL},
    {"activityNameLike", BPM_F_LIKE, NEVER, NULL},
    {"activityType", BPM_F_TEXT, "a.activity_type = $", NULL},
    {"taskAssignee", BPM_F_TEXT, "t.assignee = $", NULL},
    {"finished", BPM_F_BOOL, "a.end_at is not null", NULL},
    {"unfinished", BPM_F_BOOL, "a.end_at is null", NULL},
    {"canceled", BPM_F_BOOL, "a.end_kind = 'cancel'", NULL},
    {"completeScope", BPM_F_BOOL, "(a.end_kind = 'leave' and a.element_type = 'endEvent')", NULL},
    {"startedBefore", BPM_F_DATE, "a.start_at <= $::timestamptz", NULL},
    {"startedAfter", BPM_F_DATE, "a.start_at >= $::timestamptz", NULL},
    {"finishedBefore", BPM_F_DATE, "a.end_at <= $::timestamptz", NULL},
    {"finishedAfter", BPM_F_DATE, "a.end_at >= $::timestamptz", NULL},
    {"tenantIdIn", BPM_F_LIST, "a.tenant_id = any(string_to_array($, ','))", NULL},
    {"withoutTenantId", BPM_F_BOOL, "a.tenant_id is null", NULL},
    {NULL, 0, NULL, NULL},
};
static const bpm_api_sort ai_sorts[] = {
    {"activityInstanceId", "a.id"},
    {"instanceId", "a.instance_id"},
    {"executionId", "a.instance_id"},
    {"activityId", "a.activity_id"},
    {"activityName", "null::text"},
    {"activityType", "a.activity_type"},
    {"startTime", "a.start_at"},
    {"endTime", "a.end_at"},
    {"duration", "(a.end_at - a.start_at)"},
    {"definitionId", "a.definition_id"},
    {"occurrence", "a.seq"},
    {"tenantId", "a.tenant_id"},
    {NULL, NULL},
};
static const bpm_api_list ai_list = {AI_DTO, AI_FROM, NULL, ai_filters, ai_sorts, "a.start_at, a.seq"};

BPM_API_HANDLER(bpm_api_history_activities)
{
    bpm_api_list_run(req, r, &ai_list, false);
}

BPM_API_HANDLER(bpm_api_history_activities_count)
{
    bpm_api_list_run(req, r, &ai_list, true);
}

BPM_API_HANDLER(bpm_api_history_activity)
{
    const char *p[1] = {req->params[0]};
    char msg[300];
    snprintf(msg, sizeof msg, "Historic activity instance with id %s does not exist", req->params[0]);
    bpm_api_sql_json(req, r,
                     "select " AI_DTO " from " AI_FROM " where a.instance_id = split_part($1, ':', 2) and a.id = $1", 1,
                     p, msg);
}

/* ---- tasks -------------------------------------------------------------------------- */

#define TASK_DTO \
    "json_build_object('id', t.id, 'processDefinitionKey', t.definition_key, 'processDefinitionId', " \
    "t.definition_id, 'processInstanceId', t.instance_id, 'executionId', t.instance_id, 'caseDefinitionKey', null, " \
    "'caseDefinitionId', null, 'caseInstanceId', null, 'caseExecutionId', null, 'activityInstanceId', " \
    "t.activity_instance_id, 'name', t.name, 'description', t.description, 'deleteReason', t.delete_reason, " \
    "'owner', t.owner, 'assignee', t.assignee, 'startTime', bpm_rest_date(t.start_at), 'endTime', " \
    "bpm_rest_date(t.end_at), 'duration', " DURATION_MS("t.start_at", "t.end_at") ", 'taskDefinitionKey', " \
    "t.element_id, 'priority', t.priority, 'due', bpm_rest_date(t.due_at), 'parentTaskId', null, 'followUp', " \
    "bpm_rest_date(t.follow_up_at), 'tenantId', t.tenant_id, 'removalTime', bpm_rest_date(t.removal_at), " \
    "'rootProcessInstanceId', t.root_instance_id, 'taskState', t.task_state)"

/* Candidates are known from the task's creation (and while it is open);
 * later changes to them are not recorded. */
static const bpm_api_filter task_filters[] = {
    {"taskId", BPM_F_TEXT, "t.id = $", NULL},
    {"taskParentTaskId", BPM_F_TEXT, NEVER, NULL},
    {"processInstanceId", BPM_F_TEXT, "t.instance_id = $", NULL},
    {"rootProcessInstanceId", BPM_F_TEXT, "t.root_instance_id = $", NULL},
    {"processInstanceBusinessKey", BPM_F_TEXT, "t.business_key = $", NULL},
    {"processInstanceBusinessKeyIn", BPM_F_LIST, "t.business_key = any(string_to_array($, ','))", NULL},
    {"processInstanceBusinessKeyLike", BPM_F_LIKE, "t.business_key like $", NULL},
    {"executionId", BPM_F_TEXT, "t.instance_id = $", NULL},
    {"processDefinitionId", BPM_F_TEXT, "t.definition_id = $", NULL},
    {"processDefinitionKey", BPM_F_TEXT, "t.definition_key = $", NULL},
    {"processDefinitionName", BPM_F_TEXT, "t.definition_name = $", NULL},
    {"activityInstanceIdIn", BPM_F_LIST, "t.activity_instance_id = any(string_to_array($, ','))", NULL},
    {"taskName", BPM_F_TEXT, "t.name = $", NULL},
    {"taskNameLike", BPM_F_LIKE, "t.name like $", NULL},
    {"taskDescription", BPM_F_TEXT, "t.description = $", NULL},
    {"taskDescriptionLike", BPM_F_LIKE, "t.description like $", NULL},
    {"taskDefinitionKey", BPM_F_TEXT, "t.element_id = $", NULL},
    {"taskDefinitionKeyIn", BPM_F_LIST, "t.element_id = any(string_to_array($, ','))", NULL},
    {"taskDeleteReason", BPM_F_TEXT, "t.delete_reason = $", NULL},
    {"taskDeleteReasonLike", BPM_F_LIKE, "t.delete_reason like $", NULL},
    {"taskAssignee", BPM_F_TEXT, "t.assignee = $", NULL},
    {"taskAssigneeLike", BPM_F_LIKE, "t.assignee like $", NULL},
    {"taskOwner", BPM_F_TEXT, "t.owner = $", NULL},
    {"taskOwnerLike", BPM_F_LIKE, "t.owner like $", NULL},
    {"taskPriority", BPM_F_INT, "t.priority = $::int", NULL},
    {"assigned", BPM_F_BOOL, "t.assignee is not null", NULL},
    {"unassigned", BPM_F_BOOL, "t.assignee is null", NULL},
    {"finished", BPM_F_BOOL, "t.task_state <> 'Created'", NULL},
    {"unfinished", BPM_F_BOOL, "t.task_state = 'Created'", NULL},
    {"processFinished", BPM_F_BOOL, "t.instance_state <> 'active'", NULL},
    {"processUnfinished", BPM_F_BOOL, "t.instance_state = 'active'", NULL},
    {"taskDueDate", BPM_F_DATE, "t.due_at = $::timestamptz", NULL},
    {"taskDueDateBefore", BPM_F_DATE, "t.due_at < $::timestamptz", NULL},
    {"taskDueDateAfter", BPM_F_DATE, "t.due_at > $::timestamptz", NULL},
    {"withoutTaskDueDate", BPM_F_BOOL, "t.due_at is null", NULL},
    {"taskFollowUpDate", BPM_F_DATE, "t.follow_up_at = $::timestamptz", NULL},
    {"taskFollowUpDateBefore", BPM_F_DATE, "t.follow_up_at < $::timestamptz", NULL},
    {"taskFollowUpDateAfter", BPM_F_DATE, "t.follow_up_at > $::timestamptz", NULL},
    {"startedBefore", BPM_F_DATE, "t.start_at <= $::timestamptz", NULL},
    {"startedAfter", BPM_F_DATE, "t.start_at >= $::timestamptz", NULL},
    {"finishedBefore", BPM_F_DATE, "t.end_at <= $::timestamptz", NULL},
    {"finishedAfter", BPM_F_DATE, "t.end_at >= $::timestamptz", NULL},
    {"tenantIdIn", BPM_F_LIST, "t.tenant_id = any(string_to_array($, ','))", NULL},
    {"withoutTenantId", BPM_F_BOOL, "t.tenant_id is null", NULL},
    {"processVariables", BPM_F_VARS, "t.instance_id", NULL},
    {"taskInvolvedUser", BPM_F_TEXT,
     "(t.assignee = $ or t.owner = $ or $ = any(t.candidate_users) or exists (select 1 from history h where"
     " h.instance_id = t.instance_id and h.kind in ('task-claim', 'task-assign', 'task-delegate')"
     " and h.detail->>'task' = t.id and $ in (h.user_id, h.detail->>'user')))",
     NULL},
    {"taskInvolvedGroup", BPM_F_TEXT, "$ = any(t.candidate_groups)", NULL},
    {"taskHadCandidateUser", BPM_F_TEXT, "$ = any(t.candidate_users)", NULL},
    {"taskHadCandidateGroup", BPM_F_TEXT, "$ = any(t.candidate_groups)", NULL},
    {"withCandidateGroups", BPM_F_BOOL, "cardinality(t.candidate_groups) > 0", NULL},
    {"withoutCandidateGroups", BPM_F_BOOL, "coalesce(cardinality(t.candidate_groups), 0) = 0", NULL},
    {NULL, 0, NULL, NULL},
};
static const bpm_api_sort task_sorts[] = {
    {"taskId", "t.id"},
    {"activityInstanceId", "t.activity_instance_id"},
    {"processDefinitionId", "t.definition_id"},
    {"processInstanceId", "t.instance_id"},
    {"executionId", "t.instance_id"},
    {"duration", "(t.end_at - t.start_at)"},
    {"endTime", "t.end_at"},
    {"startTime", "t.start_at"},
    {"taskName", "t.name"},
    {"taskDescription", "t.description"},
    {"assignee", "t.assignee"},
    {"owner", "t.owner"},
    {"dueDate", "t.due_at"},
    {"followUpDate", "t.follow_up_at"},
    {"deleteReason", "t.delete_reason"},
    {"taskDefinitionKey", "t.element_id"},
    {"priority", "t.priority"},
    {"caseDefinitionId", "null::text"},
    {"caseInstanceId", "null::text"},
    {"caseExecutionId", "null::text"},
    {"tenantId", "t.tenant_id"},
    {NULL, NULL},
};
static const bpm_api_list task_list = {TASK_DTO, "history_task t", NULL, task_filters, task_sorts, "t.start_at, t.id"};

BPM_API_HANDLER(bpm_api_history_tasks)
{
    bpm_api_list_run(req, r, &task_list, false);
}

BPM_API_HANDLER(bpm_api_history_tasks_count)
{
    bpm_api_list_run(req, r, &task_list, true);
}

/* ---- variables ---------------------------------------------------------------------- */

/* The element instance and the user task a variable is local to. */
#define VAR_FROM \
    "history_variable v left join lateral (select a.id from history_activity_instance a where a.instance_id = " \
    "v.instance_id and a.scope_id = v.scope_id limit 1) a on true left join lateral (select t.id from " \
    "history_task t where t.instance_id = v.instance_id and t.scope_id = v.scope_id limit 1) tk on true"

/* type, value and valueInfo are filled in by typed() from the raw value */
#define VAR_DTO \
    "json_build_object('id', v.id, 'name', v.name, 'type', null, 'value', v.value, 'valueInfo', null, " \
    "'processDefinitionKey', v.definition_key, 'processDefinitionId', v.definition_id, 'processInstanceId', " \
    "v.instance_id, 'executionId', v.instance_id, 'activityInstanceId', coalesce(a.id, v.instance_id), " \
    "'caseDefinitionKey', null, 'caseDefinitionId', null, 'caseInstanceId', null, 'caseExecutionId', null, " \
    "'taskId', tk.id, 'errorMessage', null, 'tenantId', v.tenant_id, 'state', v.state, 'createTime', " \
    "bpm_rest_date(v.created_at), 'removalTime', bpm_rest_date(v.removal_at), 'rootProcessInstanceId', " \
    "v.root_instance_id)"

/* Ids are instance:element instance:name. */
#define VAR_BY_ID "v.instance_id = split_part($1, ':', 1) and v.id = $1"

/* variableValue compares the value's text, as the runtime queries do. */
static const bpm_api_filter var_filters[] = {
    {"variableName", BPM_F_TEXT, "v.name = $", NULL},
    {"variableNameLike", BPM_F_LIKE, "v.name like $", NULL},
    {"variableNameIn", BPM_F_LIST, "v.name = any(string_to_array($, ','))", NULL},
    {"variableValue", BPM_F_TEXT, "(v.value #>> '{}') = $", NULL},
    {"variableTypeIn", BPM_F_LIST, "lower(bpm_rest_type(v.value)) = any(string_to_array(lower($), ','))",
     NULL},
    {"processInstanceId", BPM_F_TEXT, "v.instance_id = $", NULL},
    {"processInstanceIdIn", BPM_F_LIST, "v.instance_id = any(string_to_array($, ','))", NULL},
    {"processDefinitionId", BPM_F_TEXT, "v.definition_id = $", NULL},
    {"processDefinitionKey", BPM_F_TEXT, "v.definition_key = $", NULL},
    {"executionIdIn", BPM_F_LIST, "v.instance_id = any(string_to_array($, ','))", NULL},
    {"taskIdIn", BPM_F_LIST, "tk.id = any(string_to_array($, ','))", NULL},
    {"activityInstanceIdIn", BPM_F_LIST, "coalesce(a.id, v.instance_id) = any(string_to_array($, ','))",
     NULL},
    {"caseInstanceId", BPM_F_TEXT, NEVER, NULL},
    {"tenantIdIn", BPM_F_LIST, "v.tenant_id = any(string_to_array($, ','))", NULL},
    {"withoutTenantId", BPM_F_BOOL, "v.tenant_id is null", NULL},
    {NULL, 0, NULL, NULL},
};
static const bpm_api_sort var_sorts[] = {
    {"instanceId", "v.instance_id"}, {"variableName", "v.name"}, {"tenantId", "v.tenant_id"}, {NULL, NULL}};
/* Deleted variables only when includeDeleted is true (Camunda's default
 * hides them): two lists, as the list code applies a filter only when given. */
static const bpm_api_list var_list = {VAR_DTO,   VAR_FROM, "v.state = 'CREATED'", var_filters,
                                      var_sorts, "v.created_at, v.id"};
static const bpm_api_list var_list_all = {VAR_DTO, VAR_FROM, NULL, var_filters, var_sorts, "v.created_at, v.id"};

/* Replaces the raw value of a variable DTO by its typed form. */
static void typed(json_t *dto)
{
    json_t *t = bpm_restvars_encode_one(json_object_get(dto, "value"));
    json_object_set(dto, "type", json_object_get(t, "type"));
    json_object_set(dto, "value", json_object_get(t, "value"));
    json_object_set(dto, "valueInfo", json_object_get(t, "valueInfo"));
    json_decref(t);
}

/* After a 200 with a DTO or an array of them: types every value. */
static void type_response(bpm_api_resp *r)
{
    if (r->status != 200 || !r->body)
        return;
    json_t *j = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, NULL);
    if (!j)
        return;
    if (json_is_array(j)) {
        size_t i;
        json_t *dto;
        json_array_foreach(j, i, dto) typed(dto);
    } else {
        typed(j);
    }
    bpm_api_json(r, 200, j);
}

static bool include_deleted(const bpm_api_req *req)
{
    if (strcmp(req->method, "POST") == 0) {
        json_t *body = json_loadb(req->body, req->body_len, 0, NULL);
        bool yes = json_is_true(json_object_get(body, "includeDeleted"));
        json_decref(body);
        return yes;
    }
    char buf[16];
    const char *v = bpm_api_list_param(req->query, "includeDeleted", buf, sizeof buf);
    return v && strcmp(v, "true") == 0;
}

BPM_API_HANDLER(bpm_api_history_variables)
{
    bpm_api_list_run(req, r, include_deleted(req) ? &var_list_all : &var_list, false);
    type_response(r);
}

BPM_API_HANDLER(bpm_api_history_variables_count)
{
    bpm_api_list_run(req, r, include_deleted(req) ? &var_list_all : &var_list, true);
}

BPM_API_HANDLER(bpm_api_history_variable)
{
    const char *p[1] = {req->params[0]};
    char msg[300];
    snprintf(msg, sizeof msg, "Historic variable instance with Id '%s' does not exist.", req->params[0]);
    bpm_api_sql_json(req, r, "select " VAR_DTO " from " VAR_FROM " where " VAR_BY_ID, 1, p, msg);
    type_response(r);
}

/* Camunda's DeleteHistoricVariableInstanceCmd: the variable's history (every
 * value it had) goes, the running variable stays; the deletion is a user
 * operation (DeleteHistory of a Variable, its name as the new value) written
 * in the same statement. */
BPM_API_HANDLER(bpm_api_history_variable_delete)
{
    const char *p[2] = {req->params[0], req->user};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg,
                     "with v as (select v.instance_id, v.scope_id, v.name, i.definition_key, i.business_key from"
                     " history_variable v join process_instance i on i.id = v.instance_id where " VAR_BY_ID "),"
                     " d as (delete from history h using v where h.instance_id = v.instance_id and h.kind = 'variable'"
                     " and h.scope_id = v.scope_id and h.detail->>'name' = v.name),"
                     " o as (insert into history (instance_id, definition_key, business_key, kind, scope_id, user_id,"
                     " detail) select instance_id, definition_key, business_key, 'operation', scope_id, $2,"
                     " jsonb_build_object('operation', 'DeleteHistory', 'entityType', 'Variable', 'property', 'name',"
                     " 'newValue', name) from v)"
                     " select count(*) from v",
                     2, p, NULL, NULL, &res, "delete the historic variable", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    bool found = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
    PQclear(res);
    if (found)
        bpm_api_no_content(r);
    else
        bpm_api_error(r, 404, "InvalidRequestException", -1, "No historic variable instance found with id: %s",
                      req->params[0]);
}

/* The content of a File or Bytes variable, as GET .../variables/{name}/data
 * serves it. */
BPM_API_HANDLER(bpm_api_history_variable_data)
{
    const char *p[1] = {req->params[0]};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg, "select v.value::text from history_variable v where " VAR_BY_ID, 1, p, NULL, NULL,
                     &res, "read the historic variable", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        bpm_api_error(r, 404, "InvalidRequestException", -1, "Historic variable instance with Id '%s' does not exist.",
                      req->params[0]);
        return;
    }
    json_t *v = PQgetisnull(res, 0, 0) ? NULL : json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, NULL);
    PQclear(res);
    bpm_restvars_binary bin;
    unsigned char *data = NULL;
    size_t len = 0;
    if (!v || !bpm_restvars_binary_get(v, &bin)) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "Value of variable with id %s is not a binary value.",
                      req->params[0]);
    } else if (bpm_restvars_base64_decode(bin.base64, &data, &len, &err)) {
        bpm_api_fail(r, &err);
    } else {
        free(r->body);
        r->status = 200;
        r->body = (char *)data;
        r->body_len = len;
        if (bin.is_file && bin.mime_type) {
            if (bin.encoding)
                snprintf(r->ctype_buf, sizeof r->ctype_buf, "%s; charset=%s", bin.mime_type, bin.encoding);
            else
                snprintf(r->ctype_buf, sizeof r->ctype_buf, "%s", bin.mime_type);
            r->content_type = r->ctype_buf;
        } else {
            r->content_type = "application/octet-stream";
        }
        if (bin.is_file && bin.filename)
            snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"%.200s\"", bin.filename);
    }
    json_decref(v);
}

/* ---- user operation log ------------------------------------------------------------- */

#define OP_DTO \
    "json_build_object('id', o.id, 'deploymentId', null, 'processDefinitionId', o.definition_id, " \
    "'processDefinitionKey', o.definition_key, 'processInstanceId', o.instance_id, 'executionId', o.instance_id, " \
    "'caseDefinitionId', null, 'caseInstanceId', null, 'caseExecutionId', null, 'taskId', o.task_id, 'jobId', " \
    "o.job_id, 'jobDefinitionId', null, 'batchId', null, 'userId', o.user_id, 'timestamp', bpm_rest_date(o.at), " \
    "'operationId', o.id, 'externalTaskId', o.external_task_id, 'operationType', o.operation_type, 'entityType', " \
    "o.entity_type, 'property', o.property, 'orgValue', o.org_value, 'newValue', o.new_value, 'removalTime', " \
    "bpm_rest_date(o.removal_at), 'rootProcessInstanceId', o.root_instance_id, 'category', o.category, " \
    "'annotation', null)"

static const bpm_api_filter op_filters[] = {
    {"deploymentId", BPM_F_TEXT, NEVER, NULL},
    {"processDefinitionId", BPM_F_TEXT, "o.definition_id = $", NULL},
    {"processDefinitionKey", BPM_F_TEXT, "o.definition_key = $", NULL},
    {"processInstanceId", BPM_F_TEXT, "o.instance_id = $", NULL},
    {"executionId", BPM_F_TEXT, "o.instance_id = $", NULL},
    {"caseDefinitionId", BPM_F_TEXT, NEVER, NULL},
    {"caseInstanceId", BPM_F_TEXT, NEVER, NULL},
    {"caseExecutionId", BPM_F_TEXT, NEVER, NULL},
    {"taskId", BPM_F_TEXT, "o.task_id = $", NULL},
    {"externalTaskId", BPM_F_TEXT, "o.external_task_id = $", NULL},
    {"batchId", BPM_F_TEXT, NEVER, NULL},
    {"jobId", BPM_F_TEXT, "o.job_id = $", NULL},
    {"jobDefinitionId", BPM_F_TEXT, NEVER, NULL},
    {"userId", BPM_F_TEXT, "o.user_id = $", NULL},
    {"operationId", BPM_F_TEXT, "o.id = $", NULL},
    {"operationType", BPM_F_TEXT, "o.operation_type = $", NULL},
    {"entityType", BPM_F_TEXT, "o.entity_type = $", NULL},
    {"entityTypeIn", BPM_F_LIST, "o.entity_type = any(string_to_array($, ','))", NULL},
    {"category", BPM_F_TEXT, "o.category = $", NULL},
    {"categoryIn", BPM_F_LIST, "o.category = any(string_to_array($, ','))", NULL},
    {"property", BPM_F_TEXT, "o.property = $", NULL},
    {"afterTimestamp", BPM_F_DATE, "o.at > $::timestamptz", NULL},
    {"beforeTimestamp", BPM_F_DATE, "o.at < $::timestamptz", NULL},
    {NULL, 0, NULL, NULL},
};
static const bpm_api_sort op_sorts[] = {{"timestamp", "o.at"}, {NULL, NULL}};
static const bpm_api_list op_list = {OP_DTO, "history_user_operation o", NULL, op_filters, op_sorts, "o.seq"};

BPM_API_HANDLER(bpm_api_history_operations)
{
    bpm_api_list_run(req, r, &op_list, false);
}

BPM_API_HANDLER(bpm_api_history_operations_count)
{
    bpm_api_list_run(req, r, &op_list, true);
}

/* ---- incidents ---------------------------------------------------------------------- */

/* historyConfiguration would name the failure's job log entry, which we do
 * not keep: null, and a filter on it matches nothing. */
#define HI_FROM \
    "incident n join history_process_instance i on i.id = n.instance_id cross join lateral (select " \
    BPM_API_INCIDENT_STATE("i.run_state") " as state) s cross join lateral (select case s.state when 'resolved' " \
    "then n.resolved_at when 'deleted' then i.ended_at end as end_at) e"

#define HI_DTO \
    "json_build_object('id', n.id, 'processDefinitionKey', i.definition_key, 'processDefinitionId', " \
    "n.definition_id, 'processInstanceId', n.instance_id, 'executionId', n.instance_id, 'rootProcessInstanceId', " \
    "i.root_instance_id, 'createTime', bpm_rest_date(n.created_at), 'endTime', bpm_rest_date(e.end_at), " \
    "'removalTime', bpm_rest_date(i.removal_at), 'incidentType', n.type, 'activityId', n.element_id, " \
    "'failedActivityId', n.element_id, 'causeIncidentId', n.id, 'rootCauseIncidentId', n.id, 'configuration', " \
    "n.configuration, 'historyConfiguration', null, 'incidentMessage', n.message, 'tenantId', i.tenant_id, " \
    "'jobDefinitionId', null, 'open', s.state = 'open', 'deleted', s.state = 'deleted', 'resolved', " \
    "s.state = 'resolved', 'annotation', n.annotation)"

static const bpm_api_filter hi_filters[] = {
    {"incidentId", BPM_F_TEXT, "n.id = $", NULL},
    {"incidentType", BPM_F_TEXT, "n.type = $", NULL},
    {"incidentMessage", BPM_F_TEXT, "n.message = $", NULL},
    {"incidentMessageLike", BPM_F_LIKE, "n.message like $", NULL},
    {"processDefinitionId", BPM_F_TEXT, "n.definition_id = $", NULL},
    {"processDefinitionKey", BPM_F_TEXT, "i.definition_key = $", NULL},
    {"processDefinitionKeyIn", BPM_F_LIST, "i.definition_key = any(string_to_array($, ','))", NULL},
    {"processInstanceId", BPM_F_TEXT, "n.instance_id = $", NULL},
    {"executionId", BPM_F_TEXT, "n.instance_id = $", NULL},
    {"createTimeBefore", BPM_F_DATE, "n.created_at < $::timestamptz", NULL},
    {"createTimeAfter", BPM_F_DATE, "n.created_at > $::timestamptz", NULL},
    {"endTimeBefore", BPM_F_DATE, "e.end_at < $::timestamptz", NULL},
    {"endTimeAfter", BPM_F_DATE, "e.end_at > $::timestamptz", NULL},
    {"activityId", BPM_F_TEXT, "n.element_id = $", NULL},
    {"failedActivityId", BPM_F_TEXT, "n.element_id = $", NULL},
    {"causeIncidentId", BPM_F_TEXT, "n.id = $", NULL},
    {"rootCauseIncidentId", BPM_F_TEXT, "n.id = $", NULL},
    {"configuration", BPM_F_TEXT, "n.configuration = $", NULL},
    {"historyConfiguration", BPM_F_TEXT, NEVER, NULL},
    {"open", BPM_F_BOOL, "s.state = 'open'", NULL},
    {"resolved", BPM_F_BOOL, "s.state = 'resolved'", NULL},
    {"deleted", BPM_F_BOOL, "s.state = 'deleted'", NULL},
    {"tenantIdIn", BPM_F_LIST, "i.tenant_id = any(string_to_array($, ','))", NULL},
    {"withoutTenantId", BPM_F_BOOL, "i.tenant_id is null", NULL},
    {"jobDefinitionIdIn", BPM_F_LIST, NEVER, NULL},
    {NULL, 0, NULL, NULL},
};
static const bpm_api_sort hi_sorts[] = {
    {"incidentId", "n.id"},
    {"incidentMessage", "n.message"},
    {"createTime", "n.created_at"},
    {"endTime", "e.end_at"},
    {"incidentType", "n.type"},
    {"executionId", "n.instance_id"},
    {"activityId", "n.element_id"},
    {"processInstanceId", "n.instance_id"},
    {"processDefinitionId", "n.definition_id"},
    {"processDefinitionKey", "i.definition_key"},
    {"causeIncidentId", "n.id"},
    {"rootCauseIncidentId", "n.id"},
    {"configuration", "n.configuration"},
    {"historyConfiguration", "null::text"},
    {"tenantId", "i.tenant_id"},
    /* Camunda's IncidentState codes: open 0, deleted 1, resolved 2 */
    {"incidentState", "case s.state when 'open' then 0 when 'deleted' then 1 else 2 end"},
    {NULL, NULL},
};
static const bpm_api_list hi_list = {HI_DTO, HI_FROM, NULL, hi_filters, hi_sorts, "n.created_at, n.id"};

BPM_API_HANDLER(bpm_api_history_incidents)
{
    bpm_api_list_run(req, r, &hi_list, false);
}

BPM_API_HANDLER(bpm_api_history_incidents_count)
{
    bpm_api_list_run(req, r, &hi_list, true);
}
