/* Incidents and jobs, as operators and monitoring tools use them: the open
 * incidents with their annotations, the engine's own jobs (async
 * continuations, timers, connector calls; external tasks have their own
 * resource) with retries set back and runs requested. Every change is
 * written to the history as a user operation, in the same statement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "restdate.h"

/* ---- incidents ---------------------------------------------------------------------- */

#define INCIDENT_DTO \
    "json_build_object('id', n.id, 'processDefinitionId', n.definition_id, 'processInstanceId', n.instance_id, " \
    "'executionId', n.instance_id, 'incidentTimestamp', bpm_rest_date(n.created_at), 'incidentType', n.type, " \
    "'activityId', n.element_id, 'failedActivityId', n.element_id, 'causeIncidentId', n.id, " \
    "'rootCauseIncidentId', n.id, 'configuration', n.configuration, 'incidentMessage', n.message, " \
    "'tenantId', i.tenant_id, 'jobDefinitionId', null, 'annotation', n.annotation)"

#define INCIDENT_FROM \
    "incident n join process_instance i on i.id = n.instance_id cross join lateral (select " \
    BPM_API_INCIDENT_STATE("i.state") " as state) s"

/* Our incidents have no cause chain: each is its own cause and root cause.
 * There are no job definitions, so jobDefinitionIdIn matches nothing (its
 * value is never null: "$ is null" is false). */
static const bpm_api_filter incident_filters[] = {
    {"incidentId", BPM_F_TEXT, "n.id = $", NULL},
    {"incidentType", BPM_F_TEXT, "n.type = $", NULL},
    {"incidentMessage", BPM_F_TEXT, "n.message = $", NULL},
    {"incidentMessageLike", BPM_F_LIKE, "n.message like $", NULL},
    {"processDefinitionId", BPM_F_TEXT, "n.definition_id = $", NULL},
    {"processDefinitionKeyIn", BPM_F_LIST, "i.definition_key = any(string_to_array($, ','))", NULL},
    {"processInstanceId", BPM_F_TEXT, "n.instance_id = $", NULL},
    {"executionId", BPM_F_TEXT, "n.instance_id = $", NULL},
    {"incidentTimestampBefore", BPM_F_DATE, "n.created_at < $::timestamptz", NULL},
    {"incidentTimestampAfter", BPM_F_DATE, "n.created_at > $::timestamptz", NULL},
    {"activityId", BPM_F_TEXT, "n.element_id = $", NULL},
    {"failedActivityId", BPM_F_TEXT, "n.element_id = $", NULL},
    {"causeIncidentId", BPM_F_TEXT, "n.id = $", NULL},
    {"rootCauseIncidentId", BPM_F_TEXT, "n.id = $", NULL},
    {"configuration", BPM_F_TEXT, "n.configuration = $", NULL},
    {"tenantIdIn", BPM_F_LIST, "i.tenant_id = any(string_to_array($, ','))", NULL},
    {"withoutTenantId", BPM_F_BOOL, "i.tenant_id is null", NULL},
    {"jobDefinitionIdIn", BPM_F_LIST, "$::text is null", NULL},
    {NULL, 0, NULL, NULL},
};
static const bpm_api_sort incident_sorts[] = {
    {"incidentId", "n.id"},
    {"incidentMessage", "n.message"},
    {"incidentTimestamp", "n.created_at"},
    {"incidentType", "n.type"},
    {"executionId", "n.instance_id"},
    {"activityId", "n.element_id"},
    {"processInstanceId", "n.instance_id"},
    {"processDefinitionId", "n.definition_id"},
    {"causeIncidentId", "n.id"},
    {"rootCauseIncidentId", "n.id"},
    {"configuration", "n.configuration"},
    {"tenantId", "i.tenant_id"},
    {NULL, NULL},
};
static const bpm_api_list incident_list = {INCIDENT_DTO,   INCIDENT_FROM,  "s.state = 'open'",
                                           incident_filters, incident_sorts, "n.created_at, n.id"};

BPM_API_HANDLER(bpm_api_ops_incidents)
{
    bpm_api_list_run(req, r, &incident_list, false);
}

BPM_API_HANDLER(bpm_api_ops_incidents_count)
{
    bpm_api_list_run(req, r, &incident_list, true);
}

BPM_API_HANDLER(bpm_api_ops_incident)
{
    const char *p[1] = {req->params[0]};
    char msg[300];
    snprintf(msg, sizeof msg, "No matching incident with id %s", req->params[0]);
    bpm_api_sql_json(req, r, "select " INCIDENT_DTO " from " INCIDENT_FROM " where n.id = $1 and s.state = 'open'", 1,
                     p, msg);
}

/* Sets (annotation non-NULL) or clears the annotation of an open incident,
 * with its user operation. */
static void annotate(const bpm_api_req *req, bpm_api_resp *r, const char *annotation, bool set)
{
    const char *p[4] = {req->params[0], annotation, req->user, set ? "SetAnnotation" : "ClearAnnotation"};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg,
                     "with n as (update incident n set annotation = $2 from process_instance i"
                     " where i.id = n.instance_id and n.id = $1 and " BPM_API_INCIDENT_STATE("i.state") " = 'open'"
                     " returning n.instance_id, n.element_id, i.definition_key, i.business_key),"
                     " h as (insert into history (instance_id, definition_key, business_key, kind, element_id, user_id,"
                     " detail) select instance_id, definition_key, business_key, 'operation', element_id, $3,"
                     " jsonb_build_object('operation', $4::text, 'entityType', 'Incident', 'incident', $1::text,"
                     " 'property', 'annotation', 'newValue', $2::text) from n)"
                     " select count(*) from n",
                     4, p, NULL, NULL, &res, "annotate the incident", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    bool found = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
    PQclear(res);
    if (found)
        bpm_api_no_content(r);
    else
        bpm_api_error(r, 404, "NotFoundException", -1, "Cannot find an incident with id '%s'", req->params[0]);
}

BPM_API_HANDLER(bpm_api_ops_incident_annotate)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *a = json_object_get(body, "annotation");
    if (a && !json_is_string(a) && !json_is_null(a))
        bpm_api_error(r, 400, "InvalidRequestException", -1, "annotation must be a string");
    else
        annotate(req, r, json_string_value(a), true);
    json_decref(body);
}

BPM_API_HANDLER(bpm_api_ops_incident_clear_annotation)
{
    annotate(req, r, NULL, false);
}

/* ---- jobs --------------------------------------------------------------------------- */

/* The jobs the engine runs itself; external tasks and Camunda 8 jobs are
 * served by /external-task, called processes are no jobs in Camunda. */
#define JOB_KINDS "j.kind in ('async', 'timer', 'connector')"

/* A job that never failed has Camunda's default 3 retries; the retry cycle
 * (failedJobRetryTimeCycle) takes over at the first failure, as there. */
#define JOB_RETRIES "coalesce(j.retries, 3)"

#define JOB_DTO \
    "json_build_object('id', j.id, 'jobDefinitionId', null, 'processInstanceId', j.instance_id, " \
    "'executionId', j.instance_id, 'processDefinitionId', j.definition_id, 'processDefinitionKey', " \
    "i.definition_key, 'dueDate', bpm_rest_date(j.due_at), 'exceptionMessage', j.error_message, " \
    "'retries', " JOB_RETRIES ", 'suspended', j.suspended or i.suspended, 'priority', j.priority, " \
    "'tenantId', i.tenant_id, 'createTime', bpm_rest_date(j.created_at), 'failedActivityId', " \
    "case when j.error_message is not null then j.element_id end, 'batchId', null)"

#define JOB_FROM "job j join process_instance i on i.id = j.instance_id"

/* jobDefinitionId matches nothing (there are no job definitions). */
static const bpm_api_filter job_filters[] = {
    {"jobId", BPM_F_TEXT, "j.id = $", NULL},
    {"jobIds", BPM_F_LIST, "j.id = any(string_to_array($, ','))", NULL},
    {"jobDefinitionId", BPM_F_TEXT, "$::text is null", NULL},
    {"processInstanceId", BPM_F_TEXT, "j.instance_id = $", NULL},
    {"processInstanceIds", BPM_F_LIST, "j.instance_id = any(string_to_array($, ','))", NULL},
    {"executionId", BPM_F_TEXT, "j.instance_id = $", NULL},
    {"processDefinitionId", BPM_F_TEXT, "j.definition_id = $", NULL},
    {"processDefinitionKey", BPM_F_TEXT, "i.definition_key = $", NULL},
    {"activityId", BPM_F_TEXT, "j.element_id = $", NULL},
    {"withRetriesLeft", BPM_F_BOOL, JOB_RETRIES " > 0", NULL},
    {"noRetriesLeft", BPM_F_BOOL, "j.retries = 0", NULL},
    {"executable", BPM_F_BOOL, "(" JOB_RETRIES " > 0 and j.due_at <= " BPM_API_ENGINE_NOW ")", NULL},
    {"timers", BPM_F_BOOL, "j.kind = 'timer'", NULL},
    {"messages", BPM_F_BOOL, "j.kind in ('async', 'connector')", NULL},
    {"dueDates", BPM_F_DATES, "j.due_at", NULL},
    {"createTimes", BPM_F_DATES, "j.created_at", NULL},
    {"withException", BPM_F_BOOL, "j.error_message is not null", NULL},
    {"exceptionMessage", BPM_F_TEXT, "j.error_message = $", NULL},
    {"failedActivityId", BPM_F_TEXT, "(j.element_id = $ and j.error_message is not null)", NULL},
    {"active", BPM_F_BOOL, "not (j.suspended or i.suspended)", NULL},
    {"suspended", BPM_F_BOOL, "(j.suspended or i.suspended)", NULL},
    {"priorityLowerThanOrEquals", BPM_F_INT, "j.priority <= $::bigint", NULL},
    {"priorityHigherThanOrEquals", BPM_F_INT, "j.priority >= $::bigint", NULL},
    {"tenantIdIn", BPM_F_LIST, "i.tenant_id = any(string_to_array($, ','))", NULL},
    {"withoutTenantId", BPM_F_BOOL, "i.tenant_id is null", NULL},
    {"acquired", BPM_F_BOOL, "(j.lock_owner is not null and j.lock_expires_at > " BPM_API_ENGINE_NOW ")", NULL},
    {NULL, 0, NULL, NULL},
};
static const bpm_api_sort job_sorts[] = {
    {"jobId", "j.id"},
    {"executionId", "j.instance_id"},
    {"processInstanceId", "j.instance_id"},
    {"processDefinitionId", "j.definition_id"},
    {"processDefinitionKey", "i.definition_key"},
    {"jobPriority", "j.priority"},
    {"jobRetries", JOB_RETRIES},
    {"jobDueDate", "j.due_at"},
    {"tenantId", "i.tenant_id"},
    {NULL, NULL},
};
static const bpm_api_list job_list = {JOB_DTO, JOB_FROM, JOB_KINDS, job_filters, job_sorts, "j.created_at, j.id"};

BPM_API_HANDLER(bpm_api_ops_jobs)
{
    bpm_api_list_run(req, r, &job_list, false);
}

BPM_API_HANDLER(bpm_api_ops_jobs_count)
{
    bpm_api_list_run(req, r, &job_list, true);
}

BPM_API_HANDLER(bpm_api_ops_job)
{
    const char *p[1] = {req->params[0]};
    char msg[300];
    snprintf(msg, sizeof msg, "Job with id %s does not exist", req->params[0]);
    bpm_api_sql_json(req, r, "select " JOB_DTO " from " JOB_FROM " where j.id = $1 and " JOB_KINDS, 1, p, msg);
}

/* The failure of a job as text: what the executor recorded of the last
 * failure (the script's traceback is in the message); 204 when it never
 * failed. */
BPM_API_HANDLER(bpm_api_ops_job_stacktrace)
{
    const char *p[1] = {req->params[0]};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg,
                     "select coalesce(j.error_details, j.error_message) from job j where j.id = $1 and " JOB_KINDS,
                     1, p, NULL, NULL, &res, "read the job failure", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    if (PQntuples(res) == 0)
        bpm_api_error(r, 404, "InvalidRequestException", -1, "Job with id %s does not exist", req->params[0]);
    else if (PQgetisnull(res, 0, 0))
        bpm_api_no_content(r);
    else {
        bpm_api_text(r, 200, PQgetvalue(res, 0, 0));
        r->content_type = "text/plain";
    }
    PQclear(res);
}

static void wake_executor(const bpm_api_req *req)
{
    bpm_pg_query(req->s->pg, "select pg_notify('bpmnd_jobs', 'retry')", 0, NULL, NULL, NULL, NULL, "notify", NULL);
}

/* The answer to a job operation whose statement counted the jobs it changed
 * (res, consumed): 404 for none, else 204 with the executor woken. */
static void job_changed(const bpm_api_req *req, bpm_api_resp *r, PGresult *res)
{
    bool found = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
    PQclear(res);
    if (!found) {
        bpm_api_error(r, 404, "InvalidRequestException", -1, "No job found with id '%s'", req->params[0]);
        return;
    }
    wake_executor(req);
    bpm_api_no_content(r);
}

/* Camunda's SetJobRetriesCmd: retries back above zero resolve the job's
 * failedJob incident, and a job that had failed out falls due now (its last
 * backoff may lie ahead) so the executor picks it up; dueDate, when given,
 * sets the due time of any job. Retries set to zero on a job that had some
 * open that incident, as a last failure would. */
BPM_API_HANDLER(bpm_api_ops_job_retries)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *rv = json_object_get(body, "retries");
    json_t *dv = json_object_get(body, "dueDate");
    int64_t due_ms = req->now_ms;
    bpm_err err = {0};
    bool ok = false;
    if (!json_is_integer(rv) || json_integer_value(rv) < 0 || json_integer_value(rv) > 0x7fffffff) {
        char *given = rv ? json_dumps(rv, JSON_ENCODE_ANY) : NULL;
        bpm_api_error(r, 400, "InvalidRequestException", -1,
                      "The number of job retries must be a non-negative Integer, but '%s' has been provided.",
                      given ? given : "null");
        free(given);
    } else if (dv && !json_is_null(dv) && !json_is_string(dv))
        bpm_api_error(r, 400, "InvalidRequestException", -1, "dueDate must be a date string");
    else if (json_is_string(dv) && bpm_restdate_parse(json_string_value(dv), &due_ms, &err))
        bpm_api_error(r, 400, "InvalidRequestException", -1, "%s", err.msg);
    else
        ok = true;
    char retries[24], due[24];
    snprintf(retries, sizeof retries, "%lld", ok ? (long long)json_integer_value(rv) : 0LL);
    snprintf(due, sizeof due, "%lld", (long long)due_ms);
    bool given_due = json_is_string(dv);
    json_decref(body);
    if (!ok)
        return;
    const char *p[5] = {req->params[0], retries, due, given_due ? "t" : "f", req->user};
    PGresult *res = NULL;
    if (bpm_pg_query(
            req->s->pg,
            "with old as (select j.id, " JOB_RETRIES " as retries, j.instance_id, j.definition_id, j.element_id,"
            " j.error_message, i.definition_key, i.business_key from " JOB_FROM " where j.id = $1 and " JOB_KINDS
            " for update of j),"
            " j as (update job j set retries = $2::int, due_at = case when $4::bool then"
            " to_timestamp($3::bigint / 1000.0) when $2::int > 0 and o.retries = 0 and o.error_message is not null"
            " then least(j.due_at, to_timestamp($3::bigint / 1000.0)) else j.due_at end from old o where j.id = o.id"
            " returning j.instance_id),"
            " n as (update incident set resolved_at = now() where configuration = $1 and type = 'failedJob'"
            " and resolved_at is null and $2::int > 0 and exists (select 1 from old) returning id, instance_id,"
            " element_id),"
            " hn as (insert into history (instance_id, kind, element_id, user_id, detail) select instance_id,"
            " 'incident-resolved', element_id, $5, jsonb_build_object('incident', id) from n),"
            " c as (insert into incident (id, instance_id, definition_id, element_id, type, configuration, message)"
            " select $1 || '-incident', instance_id, definition_id, element_id, 'failedJob', $1, error_message from old"
            " where $2::int = 0 and retries > 0 on conflict (id) do update set resolved_at = null,"
            " message = excluded.message, created_at = now() returning id, instance_id, element_id, message),"
            " hc as (insert into history (instance_id, kind, element_id, user_id, detail) select instance_id,"
            " 'incident', element_id, $5, jsonb_build_object('incident', id, 'type', 'failedJob', 'message', message)"
            " from c),"
            " f as (update process_instance p set incident = (select count(*) from c) > 0 or exists (select 1 from"
            " incident x where x.instance_id = p.id and x.resolved_at is null and x.id not in (select id from n))"
            " where p.id in (select instance_id from n union select instance_id from c)),"
            " h as (insert into history (instance_id, definition_key, business_key, kind, element_id, user_id, detail)"
            " select instance_id, definition_key, business_key, 'operation', element_id, $5,"
            " jsonb_build_object('operation', 'SetJobRetries', 'entityType', 'Job', 'job', $1::text, 'property',"
            " 'retries', 'orgValue', retries::text, 'newValue', $2::text) from old)"
            " select count(*) from j",
            5, p, NULL, NULL, &res, "set the job retries", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    job_changed(req, r, res);
}

/* Camunda runs the job in the request; here the job executor runs it: the
 * job falls due now (a job without retries gets one and its incident is
 * resolved, so a failure opens it again) and the executor is woken. */
BPM_API_HANDLER(bpm_api_ops_job_execute)
{
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)req->now_ms);
    const char *p[3] = {req->params[0], now, req->user};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(
            req->s->pg,
            "with old as (select j.id, " JOB_RETRIES " as retries, j.instance_id, j.element_id, i.definition_key,"
            " i.business_key from " JOB_FROM " where j.id = $1 and " JOB_KINDS " for update of j),"
            " j as (update job j set due_at = to_timestamp($2::bigint / 1000.0), retries = case when o.retries = 0"
            " then 1 else j.retries end from old o where j.id = o.id returning j.instance_id),"
            " n as (update incident set resolved_at = now() where configuration = $1 and type = 'failedJob'"
            " and resolved_at is null and exists (select 1 from old) returning id, instance_id, element_id),"
            " hn as (insert into history (instance_id, kind, element_id, user_id, detail) select instance_id,"
            " 'incident-resolved', element_id, $3, jsonb_build_object('incident', id) from n),"
            " f as (update process_instance p set incident = exists (select 1 from incident x where x.instance_id ="
            " p.id and x.resolved_at is null and x.id not in (select id from n)) where p.id in (select instance_id"
            " from n)),"
            " h as (insert into history (instance_id, definition_key, business_key, kind, element_id, user_id, detail)"
            " select instance_id, definition_key, business_key, 'operation', element_id, $3,"
            " jsonb_build_object('operation', 'Execute', 'entityType', 'Job', 'job', $1::text) from old)"
            " select count(*) from j",
            3, p, NULL, NULL, &res, "run the job", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    job_changed(req, r, res);
}

/* ---- suspension, due dates, deletion --------------------------------------------- */

/* Which jobs a suspension request names, as Camunda's UpdateJobSuspensionState
 * builder takes them: $1 is the id or key. There are no job definitions, so
 * jobDefinitionId names no job. */
static const struct {
    const char *field;
    const char *where;
} job_selectors[] = {
    {"jobId", "j.id = $1"},
    {"jobDefinitionId", "$1::text is null"},
    {"processInstanceId", "j.instance_id = $1"},
    {"processDefinitionId", "j.definition_id = $1"},
    {"processDefinitionKey", "i.definition_key = $1"},
};
#define N_JOB_SELECTORS (sizeof job_selectors / sizeof job_selectors[0])
#define JOB_BY_KEY 4

/* Suspends or activates the jobs job_selectors[which] names with value (of
 * a tenant's definition, or of one without a tenant, when given), one user
 * operation (SuspendJob or ActivateJob) per job in the same statement.
 * Returns the number of jobs, or -1 after writing an error into r. A job of a
 * suspended instance stays suspended until the instance is activated: its
 * own flag and the instance's are kept apart. */
static long set_jobs_suspended(const bpm_api_req *req, bpm_api_resp *r, size_t which, const char *value,
                               bool suspend, const char *tenant, bool without_tenant)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
             "with old as (select j.id, j.instance_id, j.element_id, i.definition_key, i.business_key from " JOB_FROM
             " where %s and ($3::text is null or i.tenant_id = $3) and (not $4::bool or i.tenant_id is null) and "
             JOB_KINDS " for update of j),"
             " j as (update job j set suspended = $2::bool from old o where j.id = o.id returning j.id),"
             " h as (insert into history (instance_id, definition_key, business_key, kind, element_id, user_id, detail)"
             " select instance_id, definition_key, business_key, 'operation', element_id, $5,"
             " jsonb_build_object('operation', case when $2::bool then 'SuspendJob' else 'ActivateJob' end,"
             " 'entityType', 'Job', 'job', id, 'property', 'suspensionState', 'newValue',"
             " case when $2::bool then 'suspended' else 'active' end) from old)"
             " select count(*) from j",
             job_selectors[which].where);
    const char *p[5] = {value, suspend ? "t" : "f", tenant, without_tenant ? "t" : "f", req->user};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg, sql, 5, p, NULL, NULL, &res, "change the suspension of jobs", &err)) {
        bpm_api_fail(r, &err);
        return -1;
    }
    long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (n > 0 && !suspend)
        wake_executor(req);
    return n;
}

/* {"suspended": true|false}, required: Camunda would read a missing one as
 * false and activate. */
static bool suspended_of(const json_t *body, bool *out, bpm_api_resp *r)
{
    json_t *s = json_object_get(body, "suspended");
    if (!json_is_boolean(s)) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "suspended must be true or false");
        return false;
    }
    *out = json_is_true(s);
    return true;
}

/* Camunda answers 204 for an id that names no job; we answer 404, as for
 * every other job resource. */
BPM_API_HANDLER(bpm_api_ops_job_suspended)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    bool suspend;
    if (suspended_of(body, &suspend, r)) {
        long n = set_jobs_suspended(req, r, 0, req->params[0], suspend, NULL, false);
        if (n == 0)
            bpm_api_error(r, 404, "InvalidRequestException", -1, "No job found with id '%s'", req->params[0]);
        else if (n > 0)
            bpm_api_no_content(r);
    }
    json_decref(body);
}

/* PUT /job/suspended: exactly one of jobId, jobDefinitionId,
 * processInstanceId, processDefinitionId, processDefinitionKey (with
 * processDefinitionTenantId or processDefinitionWithoutTenantId); 204 even
 * when it names no job, as Camunda. */
BPM_API_HANDLER(bpm_api_ops_jobs_suspended)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    bool suspend;
    size_t which = N_JOB_SELECTORS, given = 0;
    const char *bad = NULL;
    for (size_t k = 0; k < N_JOB_SELECTORS; k++) {
        json_t *v = json_object_get(body, job_selectors[k].field);
        if (!v || json_is_null(v))
            continue;
        if (!json_is_string(v))
            bad = job_selectors[k].field;
        which = k;
        given++;
    }
    json_t *tenant = json_object_get(body, "processDefinitionTenantId");
    json_t *without = json_object_get(body, "processDefinitionWithoutTenantId");
    if (bad)
        bpm_api_error(r, 400, "InvalidRequestException", -1, "%s must be a string", bad);
    else if (given > 1)
        bpm_api_error(r, 400, "InvalidRequestException", -1,
                      "Only one of jobId, jobDefinitionId, processInstanceId, processDefinitionId or "
                      "processDefinitionKey should be set to update the suspension state.");
    else if (given == 0)
        bpm_api_error(r, 400, "InvalidRequestException", -1,
                      "Either jobId, jobDefinitionId, processInstanceId, processDefinitionId or "
                      "processDefinitionKey should be set to update the suspension state.");
    else if (tenant && !json_is_null(tenant) && !json_is_string(tenant))
        bpm_api_error(r, 400, "InvalidRequestException", -1, "processDefinitionTenantId must be a string");
    else if (without && !json_is_null(without) && !json_is_boolean(without))
        bpm_api_error(r, 400, "InvalidRequestException", -1, "processDefinitionWithoutTenantId must be true or false");
    else if (suspended_of(body, &suspend, r) &&
             set_jobs_suspended(req, r, which, json_string_value(json_object_get(body, job_selectors[which].field)),
                                suspend, which == JOB_BY_KEY ? json_string_value(tenant) : NULL,
                                which == JOB_BY_KEY && json_is_true(without)) >= 0)
        bpm_api_no_content(r);
    json_decref(body);
}

/* Camunda's SetJobDuedateCmd: "duedate" null (or absent) makes the job due
 * now. cascade is accepted and ignored: a timer cycle's next occurrence is
 * computed from its start, so a moved occurrence never shifts the later
 * ones (Camunda's cascade=false). */
BPM_API_HANDLER(bpm_api_ops_job_duedate)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *dv = json_object_get(body, "duedate");
    json_t *cv = json_object_get(body, "cascade");
    int64_t due_ms = req->now_ms;
    bpm_err err = {0};
    bool ok = false;
    if (dv && !json_is_null(dv) && !json_is_string(dv))
        bpm_api_error(r, 400, "InvalidRequestException", -1, "duedate must be a date string or null");
    else if (json_is_string(dv) && bpm_restdate_parse(json_string_value(dv), &due_ms, &err))
        bpm_api_error(r, 400, "InvalidRequestException", -1, "duedate: %s", err.msg);
    else if (cv && !json_is_null(cv) && !json_is_boolean(cv))
        bpm_api_error(r, 400, "InvalidRequestException", -1, "cascade must be true or false");
    else
        ok = true;
    json_decref(body);
    if (!ok)
        return;
    char due[24];
    snprintf(due, sizeof due, "%lld", (long long)due_ms);
    const char *p[3] = {req->params[0], due, req->user};
    PGresult *res = NULL;
    /* the operation log keeps dates as epoch milliseconds, as Camunda's */
    if (bpm_pg_query(
            req->s->pg,
            "with old as (select j.id, j.due_at, j.instance_id, j.element_id, i.definition_key, i.business_key from "
            JOB_FROM " where j.id = $1 and " JOB_KINDS " for update of j),"
            " j as (update job j set due_at = to_timestamp($2::bigint / 1000.0) from old o where j.id = o.id"
            " returning j.id),"
            " h as (insert into history (instance_id, definition_key, business_key, kind, element_id, user_id, detail)"
            " select instance_id, definition_key, business_key, 'operation', element_id, $3,"
            " jsonb_build_object('operation', 'SetDueDate', 'entityType', 'Job', 'job', $1::text, 'property',"
            " 'duedate', 'orgValue', (extract(epoch from due_at) * 1000)::bigint::text, 'newValue', $2::text)"
            " from old)"
            " select count(*) from j",
            3, p, NULL, NULL, &res, "set the job's due date", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    job_changed(req, r, res);
}

/* Camunda's DeleteJobCmd: a job the executor holds cannot be deleted (500).
 * Otherwise the job goes and its wait stays: the token waits until the
 * instance is modified or cancelled, as in Camunda; a timer never fires. An
 * open failedJob incident of the job is then deleted (its state says so). */
BPM_API_HANDLER(bpm_api_ops_job_delete)
{
    const char *p[2] = {req->params[0], req->user};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(
            req->s->pg,
            "with old as (select j.id, j.instance_id, j.element_id, i.definition_key, i.business_key,"
            " (j.lock_owner is not null and j.lock_expires_at >= " BPM_API_ENGINE_NOW ") as busy from " JOB_FROM
            " where j.id = $1 and " JOB_KINDS " for update of j),"
            " d as (delete from job j using old o where j.id = o.id and not o.busy returning j.instance_id),"
            " f as (update process_instance p set incident = exists (select 1 from incident x where x.instance_id ="
            " p.id and x.resolved_at is null and x.configuration is distinct from $1) where p.id in (select"
            " instance_id from d)),"
            " h as (insert into history (instance_id, definition_key, business_key, kind, element_id, user_id, detail)"
            " select instance_id, definition_key, business_key, 'operation', element_id, $2,"
            " jsonb_build_object('operation', 'Delete', 'entityType', 'Job', 'job', $1::text) from old"
            " where not busy)"
            " select busy from old",
            2, p, NULL, NULL, &res, "delete the job", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    bool found = PQntuples(res) > 0, busy = found && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!found)
        bpm_api_error(r, 404, "InvalidRequestException", -1, "No job found with id '%s'", req->params[0]);
    else if (busy)
        bpm_api_error(r, 500, "RestException", -1,
                      "Cannot delete job when the job is being executed. Try again later.");
    else
        bpm_api_no_content(r);
}
