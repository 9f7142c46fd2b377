/* External tasks, as camunda-external-task-client-js uses them: fetch and
 * lock by topic (with long polling), complete, failure with retries and an
 * incident at zero, BPMN errors, lock, extendLock, unlock; and the operator
 * queries. Camunda 8 job-worker tasks (zeebe:taskDefinition) are served the
 * same way, their job type as the topic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "restdate.h"
#include "restvars.h"

#define EXT_KINDS "j.kind in ('external', 'job')"

#define EXT_DTO \
    "json_build_object('activityId', j.element_id, 'activityInstanceId', j.element_id || ':' || " \
    "j.wait_id, 'errorMessage', j.error_message, 'executionId', j.instance_id, 'id', j.id, " \
    "'lockExpirationTime', bpm_rest_date(j.lock_expires_at), 'createTime', " \
    "bpm_rest_date(j.created_at), 'processDefinitionId', j.definition_id, 'processDefinitionKey', " \
    "i.definition_key, 'processDefinitionVersionTag', null, 'processInstanceId', j.instance_id, " \
    "'retries', j.retries, 'suspended', j.suspended or i.suspended, 'workerId', j.lock_owner, " \
    "'topicName', j.topic, 'tenantId', i.tenant_id, 'priority', j.priority, 'businessKey', " \
    "i.business_key)"

static void ms_text(int64_t ms, char *out, size_t n)
{
    snprintf(out, n, "%lld", (long long)ms);
}

/* Locks up to max tasks of one topic for worker; appends their DTOs to out. */
static bool lock_topic(const bpm_api_req *req, bpm_api_resp *r, const char *worker, const json_t *topic, long max,
                       bool use_priority, bool desc, json_t *out)
{
    const char *name = json_string_value(json_object_get(topic, "topicName"));
    json_t *ld = json_object_get(topic, "lockDuration");
    if (!name) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "every topic needs a topicName");
        return false;
    }
    if (!json_is_integer(ld) || json_integer_value(ld) <= 0) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "topic '%s' needs a positive lockDuration (ms)", name);
        return false;
    }
    char now[24], lock[24], lim[24];
    ms_text(req->now_ms, now, sizeof now);
    ms_text(req->now_ms + json_integer_value(ld), lock, sizeof lock);
    snprintf(lim, sizeof lim, "%ld", max);
    /* definition filters: one id or key, or lists of them */
    char *ids = NULL, *keys = NULL;
    json_t *v;
    json_t *one = NULL;
    if ((v = json_object_get(topic, "processDefinitionIdIn")) && json_is_array(v))
        ids = json_dumps(v, JSON_COMPACT);
    else if ((v = json_object_get(topic, "processDefinitionId")) && json_is_string(v)) {
        one = json_pack("[O]", v);
        ids = json_dumps(one, JSON_COMPACT);
        json_decref(one);
    }
    if ((v = json_object_get(topic, "processDefinitionKeyIn")) && json_is_array(v))
        keys = json_dumps(v, JSON_COMPACT);
    else if ((v = json_object_get(topic, "processDefinitionKey")) && json_is_string(v)) {
        one = json_pack("[O]", v);
        keys = json_dumps(one, JSON_COMPACT);
        json_decref(one);
    }
    char *pvars = NULL;
    if ((v = json_object_get(topic, "processVariables")) && json_is_object(v) && json_object_size(v))
        pvars = json_dumps(v, JSON_COMPACT);
    const char *p[9] = {name, now, lock, lim, worker, json_string_value(json_object_get(topic, "businessKey")), ids,
                        keys, pvars};
    PGresult *res = NULL;
    bpm_err err = {0};
    char sql[3000];
    snprintf(sql, sizeof sql,
             "with cand as (select j.id from job j join process_instance i on i.id = j.instance_id"
             " where " EXT_KINDS " and j.topic = $1 and not j.suspended and not i.suspended"
             " and (j.lock_expires_at is null or j.lock_expires_at < to_timestamp($2::bigint / 1000.0))"
             " and (j.retries is null or j.retries > 0)"
             " and ($6::text is null or i.business_key = $6)"
             " and ($7::jsonb is null or $7::jsonb ? j.definition_id)"
             " and ($8::jsonb is null or $8::jsonb ? i.definition_key)"
             " and ($9::jsonb is null or not exists (select 1 from jsonb_each($9::jsonb) pv where not exists"
             " (select 1 from variable x where x.instance_id = j.instance_id and x.scope_id = 1 and x.name = pv.key"
             " and x.value = pv.value)))"
             " order by %s j.created_at %s, j.id"
             " limit $4::int for update of j skip locked)"
             " update job j set lock_owner = $5, lock_expires_at = to_timestamp($3::bigint / 1000.0)"
             " from cand, process_instance i where j.id = cand.id and i.id = j.instance_id"
             " returning " EXT_DTO "::text, j.instance_id, j.wait_id, j.error_details",
             /* the order is spelled out (not a CASE) so the topic index serves it */
             use_priority ? "j.priority desc," : "", desc ? "desc" : "asc");
    bpm_rc rc = bpm_pg_query(req->s->pg, sql, 9, p, NULL, NULL, &res, "lock external tasks", &err);
    free(ids);
    free(keys);
    free(pvars);
    if (rc) {
        bpm_api_fail(r, &err);
        return false;
    }
    json_t *only = json_object_get(topic, "variables");
    if (only && !json_is_array(only))
        only = NULL;
    /* the variables of every locked task in one more round trip */
    json_t *waits = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(waits, json_pack("{s:s, s:I}", "i", PQgetvalue(res, i, 1), "w",
                                               (json_int_t)strtol(PQgetvalue(res, i, 2), NULL, 10)));
    json_t *all = PQntuples(res) ? bpm_api_waits_vars(req, waits, only, r) : NULL;
    json_decref(waits);
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *dto = json_loads(PQgetvalue(res, i, 0), 0, NULL);
        if (!dto)
            continue;
        json_t *vars = json_array_get(all, (size_t)i);
        json_object_set_new(dto, "variables", vars ? json_incref(vars) : json_object());
        json_object_set_new(dto, "errorDetails",
                            PQgetisnull(res, i, 3) ? json_null() : json_string(PQgetvalue(res, i, 3)));
        json_object_set_new(dto, "extensionProperties", json_object());
        json_array_append_new(out, dto);
    }
    json_decref(all);
    PQclear(res);
    return true;
}

BPM_API_HANDLER(bpm_api_ext_fetch_and_lock)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    const char *worker = json_string_value(json_object_get(body, "workerId"));
    json_t *topics = json_object_get(body, "topics");
    json_t *mt = json_object_get(body, "maxTasks");
    json_t *art = json_object_get(body, "asyncResponseTimeout");
    bool desc = false;
    json_t *sorting = json_object_get(body, "sorting");
    size_t i;
    json_t *s;
    json_array_foreach(sorting, i, s)
    {
        const char *by = json_string_value(json_object_get(s, "sortBy"));
        const char *order = json_string_value(json_object_get(s, "sortOrder"));
        if (!by || strcmp(by, "createTime") != 0) {
            bpm_api_error(r, 400, "InvalidRequestException", -1, "Cannot set query sortBy parameter to value %s",
                          by ? by : "null");
            json_decref(body);
            return;
        }
        desc = order && strcmp(order, "desc") == 0;
    }
    if (!worker) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "workerId is required");
    } else if (mt && !json_is_integer(mt)) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "maxTasks must be an integer");
    } else if (art && !json_is_null(art) && (!json_is_integer(art) || json_integer_value(art) < 0 ||
                                            json_integer_value(art) > 1800000)) {
        bpm_api_error(r, 400, "InvalidRequestException", -1,
                      "The asynchronous response timeout cannot be set to a value greater than 1800000 milliseconds");
    } else if (topics && !json_is_array(topics)) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "topics must be an array");
    } else {
        long left = mt ? (long)json_integer_value(mt) : 0;
        bool prio = json_is_true(json_object_get(body, "usePriority"));
        json_t *out = json_array();
        json_t *t;
        bool ok = true;
        json_array_foreach(topics, i, t)
        {
            if (left <= 0 || !ok)
                break;
            ok = lock_topic(req, r, worker, t, left, prio, desc, out);
            left = (mt ? (long)json_integer_value(mt) : 0) - (long)json_array_size(out);
        }
        if (ok) {
            /* nothing yet and a timeout given: wait for work (long polling);
             * the first call decides the deadline, later calls keep it */
            int64_t timeout = art && json_is_integer(art) ? json_integer_value(art) : 0;
            if (json_array_size(out) == 0 && timeout > 0 && mt && json_integer_value(mt) > 0 && !req->last_chance) {
                json_decref(out);
                r->park_until_ms = req->now_ms + timeout;
            } else {
                bpm_api_json(r, 200, out);
            }
        } else {
            json_decref(out);
        }
    }
    json_decref(body);
}

/* Looks up the task; false after writing 404 (or a worker mismatch 400) into
 * r. worker NULL: no check. */
static bool find_task(const bpm_api_req *req, bpm_api_resp *r, const char *worker, const char *doing, char *instance,
                      uint32_t *wait, char *element)
{
    const char *p[1] = {req->params[0]};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg,
                     "select j.instance_id, j.wait_id, j.lock_owner, j.element_id from job j where j.id = $1 and " EXT_KINDS,
                     1, p, NULL, NULL, &res, "find the external task", &err)) {
        bpm_api_fail(r, &err);
        return false;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        bpm_api_error(r, 404, "RestException", -1, "External task with id %s does not exist", req->params[0]);
        return false;
    }
    if (worker && (PQgetisnull(res, 0, 2) || strcmp(PQgetvalue(res, 0, 2), worker) != 0)) {
        bpm_api_error(r, 400, "BadUserRequestException", -1,
                      "External Task %s cannot be %s by worker '%s'. It is locked by worker '%s'.", req->params[0],
                      doing, worker, PQgetisnull(res, 0, 2) ? "null" : PQgetvalue(res, 0, 2));
        PQclear(res);
        return false;
    }
    snprintf(instance, BPM_ID_SIZE, "%s", PQgetvalue(res, 0, 0));
    *wait = (uint32_t)strtoul(PQgetvalue(res, 0, 1), NULL, 10);
    if (element)
        snprintf(element, 256, "%s", PQgetvalue(res, 0, 3));
    PQclear(res);
    return true;
}

/* The step a worker's answer causes failed: Camunda answers 500. */
static void run_cmd(const bpm_api_req *req, bpm_api_resp *r, const char *instance, const bpm_cmd *cmd, const char *what)
{
    bpm_err err = {0};
    bpm_rc rc = bpm_runtime_run(&req->s->rt, instance, cmd, req->user, req->now_ms, &err);
    if (rc == BPM_OK)
        bpm_api_no_content(r);
    else if (rc == BPM_NOT_FOUND)
        bpm_api_error(r, 404, "RestException", -1, "External task with id %s does not exist: %s", req->params[0], err.msg);
    else if (rc == BPM_BAD_REQUEST)
        bpm_api_error(r, 400, "InvalidRequestException", -1, "%s", err.msg);
    else
        bpm_api_error(r, 500, "ProcessEngineException", 0, "Cannot %s external task %s: %s", what, req->params[0],
                      err.msg);
}

BPM_API_HANDLER(bpm_api_ext_complete)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *vars = NULL, *local = NULL;
    char instance[BPM_ID_SIZE];
    uint32_t wait = 0;
    const char *worker = json_string_value(json_object_get(body, "workerId"));
    if (bpm_api_vars(body, "variables", &vars, r) && bpm_api_vars(body, "localVariables", &local, r) &&
        find_task(req, r, worker ? worker : "", "completed", instance, &wait, NULL)) {
        bpm_cmd cmd = {.kind = BPM_CMD_COMPLETE, .wait = wait, .vars = vars, .local_vars = local};
        run_cmd(req, r, instance, &cmd, "complete");
    }
    json_decref(vars);
    json_decref(local);
    json_decref(body);
}

BPM_API_HANDLER(bpm_api_ext_bpmn_error)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *vars = NULL;
    char instance[BPM_ID_SIZE];
    uint32_t wait = 0;
    const char *worker = json_string_value(json_object_get(body, "workerId"));
    const char *code = json_string_value(json_object_get(body, "errorCode"));
    if (!code)
        bpm_api_error(r, 400, "InvalidRequestException", -1, "errorCode is required");
    else if (bpm_api_vars(body, "variables", &vars, r) &&
             find_task(req, r, worker ? worker : "", "reported a BPMN error", instance, &wait, NULL)) {
        bpm_cmd cmd = {.kind = BPM_CMD_ERROR,
                       .wait = wait,
                       .vars = vars,
                       .code = code,
                       .message = json_string_value(json_object_get(body, "errorMessage"))};
        run_cmd(req, r, instance, &cmd, "throw a BPMN error from");
    }
    json_decref(vars);
    json_decref(body);
}

BPM_API_HANDLER(bpm_api_ext_failure)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    const char *worker = json_string_value(json_object_get(body, "workerId"));
    char instance[BPM_ID_SIZE], element[256];
    uint32_t wait = 0;
    if (!find_task(req, r, worker ? worker : "", "failed", instance, &wait, element)) {
        json_decref(body);
        return;
    }
    /* a missing retries is 0 (a Java int): an incident */
    json_t *rv = json_object_get(body, "retries");
    long retries = json_is_integer(rv) ? (long)json_integer_value(rv) : 0;
    if (retries < 0)
        retries = 0;
    json_t *tv = json_object_get(body, "retryTimeout");
    int64_t timeout = json_is_integer(tv) ? json_integer_value(tv) : 0;
    char rbuf[24], until[24];
    snprintf(rbuf, sizeof rbuf, "%ld", retries);
    ms_text(req->now_ms + (timeout > 0 ? timeout : 0), until, sizeof until);
    const char *msg = json_string_value(json_object_get(body, "errorMessage"));
    const char *details = json_string_value(json_object_get(body, "errorDetails"));
    char incident_id[80];
    snprintf(incident_id, sizeof incident_id, "%s-incident", req->params[0]);
    const char *p[8] = {req->params[0], rbuf, until, msg, details, incident_id, req->user, element};
    PGresult *res = NULL;
    bpm_err err = {0};
    /* one statement: the failure, its history, and at zero retries the
     * incident (resolved again when retries are set back) */
    if (bpm_pg_query(req->s->pg,
                     "with j as (update job set retries = $2::int, error_message = $4, error_details = $5,"
                     " lock_expires_at = to_timestamp($3::bigint / 1000.0) where id = $1 returning instance_id,"
                     " definition_id),"
                     " h as (insert into history (instance_id, kind, element_id, user_id, detail) select instance_id,"
                     " 'job-failed', $8, $7, jsonb_build_object('message', $4::text, 'retries', $2::int, 'job', $1::text)"
                     " from j),"
                     " n as (insert into incident (id, instance_id, definition_id, element_id, type, configuration, message)"
                     " select $6, instance_id, definition_id, $8, 'failedExternalTask', $1, $4 from j where $2::int = 0"
                     " on conflict (id) do update set resolved_at = null, message = excluded.message, created_at = now()"
                     " returning instance_id),"
                     " hi as (insert into history (instance_id, kind, element_id, detail) select instance_id,"
                     " 'incident', $8, jsonb_build_object('incident', $6::text, 'type', 'failedExternalTask',"
                     " 'message', $4::text) from n)"
                     " update process_instance set incident = true where id in (select instance_id from n)",
                     8, p, NULL, NULL, &res, "record the failure", &err))
        bpm_api_fail(r, &err);
    else
        bpm_api_no_content(r);
    PQclear(res);
    if (timeout > 0 && retries > 0)
        bpm_pg_query(req->s->pg, "select pg_notify('bpmnd_jobs', 'external')", 0, NULL, NULL, NULL, NULL, "notify", NULL);
    json_decref(body);
}

/* lock / extendLock: a new expiry for the worker's lock. */
static void relock(const bpm_api_req *req, bpm_api_resp *r, bool extend)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    const char *worker = json_string_value(json_object_get(body, "workerId"));
    json_t *d = json_object_get(body, extend ? "newDuration" : "lockDuration");
    if (!worker || !json_is_integer(d) || json_integer_value(d) <= 0) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "%s needs workerId and a positive %s", extend ? "extendLock" : "lock",
                      extend ? "newDuration" : "lockDuration");
        json_decref(body);
        return;
    }
    char now[24], until[24];
    ms_text(req->now_ms, now, sizeof now);
    ms_text(req->now_ms + json_integer_value(d), until, sizeof until);
    const char *p[5] = {req->params[0], worker, now, until, extend ? "t" : "f"};
    PGresult *res = NULL;
    bpm_err err = {0};
    /* extend: only the live lock of this worker; lock: a free or expired one,
     * or the worker's own */
    if (bpm_pg_query(req->s->pg,
                     "with t as (select id, lock_owner, lock_expires_at from job j where id = $1 and " EXT_KINDS "),"
                     " u as (update job set lock_owner = $2, lock_expires_at = to_timestamp($4::bigint / 1000.0)"
                     " where id = $1 and exists (select 1 from t where case when $5::bool then t.lock_owner = $2 and"
                     " t.lock_expires_at >= to_timestamp($3::bigint / 1000.0) else t.lock_owner is null or"
                     " t.lock_owner = $2 or t.lock_expires_at < to_timestamp($3::bigint / 1000.0) end) returning id)"
                     " select (select count(*) from t), (select count(*) from u), (select lock_owner from t)",
                     5, p, NULL, NULL, &res, "lock the external task", &err)) {
        bpm_api_fail(r, &err);
        json_decref(body);
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
        bpm_api_error(r, 404, "RestException", -1, "External task with id %s does not exist", req->params[0]);
    else if (strcmp(PQgetvalue(res, 0, 1), "0") == 0)
        bpm_api_error(r, 400, "BadUserRequestException", -1,
                      extend ? "Cannot extend a lock that expired or is held by another worker: External Task %s is "
                               "locked by worker '%s'."
                             : "External Task %s is already locked by worker '%s'.",
                      req->params[0], PQgetisnull(res, 0, 2) ? "null" : PQgetvalue(res, 0, 2));
    else
        bpm_api_no_content(r);
    PQclear(res);
    json_decref(body);
}

BPM_API_HANDLER(bpm_api_ext_lock)
{
    relock(req, r, false);
}

BPM_API_HANDLER(bpm_api_ext_extend_lock)
{
    relock(req, r, true);
}

BPM_API_HANDLER(bpm_api_ext_unlock)
{
    const char *p[1] = {req->params[0]};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg,
                     "update job j set lock_owner = null, lock_expires_at = null where id = $1 and " EXT_KINDS, 1, p, NULL,
                     NULL, &res, "unlock the external task", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    bool found = strcmp(PQcmdTuples(res), "0") != 0;
    PQclear(res);
    if (!found) {
        bpm_api_error(r, 404, "RestException", -1, "External task with id %s does not exist", req->params[0]);
        return;
    }
    bpm_pg_query(req->s->pg, "select pg_notify('bpmnd_jobs', 'external')", 0, NULL, NULL, NULL, NULL, "notify", NULL);
    bpm_api_no_content(r);
}

static const bpm_api_filter ext_filters[] = {
    {"externalTaskId", BPM_F_TEXT, "j.id = $", NULL},
    {"externalTaskIdIn", BPM_F_LIST, "j.id = any(string_to_array($, ','))", NULL},
    {"topicName", BPM_F_TEXT, "j.topic = $", NULL},
    {"workerId", BPM_F_TEXT, "j.lock_owner = $", NULL},
    {"locked", BPM_F_BOOL, "j.lock_expires_at > now()", NULL},
    {"notLocked", BPM_F_BOOL, "(j.lock_expires_at is null or j.lock_expires_at <= now())", NULL},
    {"withRetriesLeft", BPM_F_BOOL, "(j.retries is null or j.retries > 0)", NULL},
    {"noRetriesLeft", BPM_F_BOOL, "j.retries = 0", NULL},
    {"lockExpirationAfter", BPM_F_DATE, "j.lock_expires_at > $::timestamptz", NULL},
    {"lockExpirationBefore", BPM_F_DATE, "j.lock_expires_at < $::timestamptz", NULL},
    {"activityId", BPM_F_TEXT, "j.element_id = $", NULL},
    {"activityIdIn", BPM_F_LIST, "j.element_id = any(string_to_array($, ','))", NULL},
    {"executionId", BPM_F_TEXT, "j.instance_id = $", NULL},
    {"processInstanceId", BPM_F_TEXT, "j.instance_id = $", NULL},
    {"processInstanceIdIn", BPM_F_LIST, "j.instance_id = any(string_to_array($, ','))", NULL},
    {"processDefinitionId", BPM_F_TEXT, "j.definition_id = $", NULL},
    {"processDefinitionKey", BPM_F_TEXT, "i.definition_key = $", NULL},
    {"processDefinitionKeyIn", BPM_F_LIST, "i.definition_key = any(string_to_array($, ','))", NULL},
    {"active", BPM_F_BOOL, "not (j.suspended or i.suspended)", NULL},
    {"suspended", BPM_F_BOOL, "(j.suspended or i.suspended)", NULL},
    {"priorityHigherThanOrEquals", BPM_F_INT, "j.priority >= $::bigint", NULL},
    {"priorityLowerThanOrEquals", BPM_F_INT, "j.priority <= $::bigint", NULL},
    {NULL, 0, NULL, NULL},
};
static const bpm_api_sort ext_sorts[] = {{"id", "j.id"},
                                         {"lockExpirationTime", "j.lock_expires_at"},
                                         {"processInstanceId", "j.instance_id"},
                                         {"processDefinitionId", "j.definition_id"},
                                         {"processDefinitionKey", "i.definition_key"},
                                         {"taskPriority", "j.priority"},
                                         {"tenantId", "i.tenant_id"},
                                         {NULL, NULL}};
static const bpm_api_list ext_list = {EXT_DTO, "job j join process_instance i on i.id = j.instance_id", EXT_KINDS,
                                      ext_filters, ext_sorts, "j.created_at, j.id"};

BPM_API_HANDLER(bpm_api_ext_list)
{
    bpm_api_list_run(req, r, &ext_list, false);
}

BPM_API_HANDLER(bpm_api_ext_count)
{
    bpm_api_list_run(req, r, &ext_list, true);
}

BPM_API_HANDLER(bpm_api_ext_get)
{
    const char *p[1] = {req->params[0]};
    char msg[300];
    snprintf(msg, sizeof msg, "External task with id %s does not exist", req->params[0]);
    bpm_api_sql_json(req, r,
                     "select " EXT_DTO " from job j join process_instance i on i.id = j.instance_id where j.id = $1 and " EXT_KINDS,
                     1, p, msg);
}

BPM_API_HANDLER(bpm_api_ext_error_details)
{
    const char *p[1] = {req->params[0]};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg, "select error_details from job j where id = $1 and " EXT_KINDS, 1, p, NULL, NULL, &res,
                     "read the error details", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    if (PQntuples(res) == 0)
        bpm_api_error(r, 404, "RestException", -1, "External task with id %s does not exist", req->params[0]);
    else if (PQgetisnull(res, 0, 0))
        bpm_api_no_content(r);
    else {
        bpm_api_text(r, 200, PQgetvalue(res, 0, 0));
        r->content_type = "text/plain";
    }
    PQclear(res);
}

BPM_API_HANDLER(bpm_api_ext_retries)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *rv = json_object_get(body, "retries");
    if (!json_is_integer(rv) || json_integer_value(rv) < 0) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "retries must be a non-negative integer");
        json_decref(body);
        return;
    }
    char rbuf[24];
    snprintf(rbuf, sizeof rbuf, "%lld", (long long)json_integer_value(rv));
    json_decref(body);
    const char *p[3] = {req->params[0], rbuf, req->user};
    PGresult *res = NULL;
    bpm_err err = {0};
    /* retries above zero resolve the task's incident and make it fetchable */
    if (bpm_pg_query(req->s->pg,
                     "with j as (update job set retries = $2::int where id = $1 and kind in ('external', 'job')"
                     " returning instance_id, element_id),"
                     " n as (update incident set resolved_at = now() where configuration = $1 and resolved_at is null"
                     " and $2::int > 0 returning instance_id),"
                     " hn as (insert into history (instance_id, kind, element_id, detail) select instance_id,"
                     " 'incident-resolved', null, jsonb_build_object('job', $1::text) from n),"
                     " h as (insert into history (instance_id, kind, element_id, user_id, detail) select instance_id,"
                     " 'operation', element_id, $3, jsonb_build_object('operation', 'SetExternalTaskRetries', 'job', $1::text,"
                     " 'retries', $2::int) from j),"
                     " f as (update process_instance p set incident = exists (select 1 from incident x where"
                     " x.instance_id = p.id and x.resolved_at is null and x.configuration <> $1) where p.id in (select"
                     " instance_id from n))"
                     " select count(*) from j",
                     3, p, NULL, NULL, &res, "set the retries", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    bool found = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
    PQclear(res);
    if (!found) {
        bpm_api_error(r, 404, "RestException", -1, "External task with id %s does not exist", req->params[0]);
        return;
    }
    bpm_pg_query(req->s->pg, "select pg_notify('bpmnd_jobs', 'external')", 0, NULL, NULL, NULL, NULL, "notify", NULL);
    bpm_api_no_content(r);
}

BPM_API_HANDLER(bpm_api_ext_priority)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *pv = json_object_get(body, "priority");
    if (!json_is_integer(pv)) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "priority must be an integer");
        json_decref(body);
        return;
    }
    char pbuf[24];
    snprintf(pbuf, sizeof pbuf, "%lld", (long long)json_integer_value(pv));
    json_decref(body);
    const char *p[2] = {req->params[0], pbuf};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg, "update job set priority = $2::bigint where id = $1 and kind in ('external', 'job')", 2,
                     p, NULL, NULL, &res, "set the priority", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    bool found = strcmp(PQcmdTuples(res), "0") != 0;
    PQclear(res);
    if (found)
        bpm_api_no_content(r);
    else
        bpm_api_error(r, 404, "RestException", -1, "External task with id %s does not exist", req->params[0]);
}

BPM_API_HANDLER(bpm_api_ext_topic_names)
{
    bpm_api_sql_json(req, r,
                     "select coalesce(json_agg(distinct topic), '[]') from job j where " EXT_KINDS " and topic is not null",
                     0, NULL, NULL);
}

/* File variables for the external-task client, which names the process
 * instance as the execution. */
BPM_API_HANDLER(bpm_api_ext_file_data)
{
    const char *p[2] = {req->params[0], req->params[1]};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg,
                     "select value::text from variable where instance_id = $1 and name = $2 order by scope_id limit 1", 2,
                     p, NULL, NULL, &res, "read the variable", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        bpm_api_error(r, 404, "InvalidRequestException", -1, "execution variable with name %s does not exist",
                      req->params[1]);
        return;
    }
    json_t *v = json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, NULL);
    PQclear(res);
    bpm_restvars_binary bin;
    if (!v || !bpm_restvars_binary_get(v, &bin)) {
        json_decref(v);
        bpm_api_error(r, 400, "InvalidRequestException", -1, "Value of variable with id %s is not a binary value.",
                      req->params[1]);
        return;
    }
    unsigned char *data = NULL;
    size_t len = 0;
    if (bpm_restvars_base64_decode(bin.base64, &data, &len, &err)) {
        json_decref(v);
        bpm_api_fail(r, &err);
        return;
    }
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
    json_decref(v);
}
