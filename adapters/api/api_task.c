/* The task inbox: task queries with Camunda's candidate logic, claim,
 * unclaim, assignee, delegate, resolve, complete (also submit-form), BPMN
 * errors from a task, task variables, forms and identity links. With
 * authentication on, a user sees the tasks assigned to them or offered to
 * them or their groups, and only the assignee or an admin completes one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "restdate.h"
#include "restvars.h"
#include "tasks.h"

#define TASK_DTO \
    "json_build_object('id', t.id, 'name', t.name, 'assignee', t.assignee, 'created', bpm_rest_date(t.created_at), " \
    "'due', bpm_rest_date(t.due_at), 'followUp', bpm_rest_date(t.follow_up_at), 'lastUpdated', " \
    "bpm_rest_date(t.updated_at), 'delegationState', t.delegation_state, 'description', t.description, " \
    "'executionId', t.instance_id, 'owner', t.owner, 'parentTaskId', null, 'priority', t.priority, " \
    "'processDefinitionId', t.definition_id, 'processInstanceId', t.instance_id, 'taskDefinitionKey', " \
    "t.element_id, 'caseExecutionId', null, 'caseInstanceId', null, 'caseDefinitionId', null, 'suspended', " \
    "t.suspended, 'formKey', t.form_key, 'camundaFormRef', null, 'tenantId', null, 'taskState', 'Created')"

/* candidates of a user: named, or through one of the user's groups */
#define CANDIDATE_USER \
    "($ = any(t.candidate_users) or t.candidate_groups && array(select m.group_id from app_membership m " \
    "where m.user_id = $))"

static const bpm_api_filter task_filters[] = {
    {"processInstanceId", BPM_F_TEXT, "t.instance_id = $", NULL},
    {"processInstanceIdIn", BPM_F_LIST, "t.instance_id = any(string_to_array($, ','))", NULL},
    {"processInstanceBusinessKey", BPM_F_TEXT, "i.business_key = $", NULL},
    {"processInstanceBusinessKeyIn", BPM_F_LIST, "i.business_key = any(string_to_array($, ','))", NULL},
    {"processInstanceBusinessKeyLike", BPM_F_LIKE, "i.business_key like $", NULL},
    {"processDefinitionId", BPM_F_TEXT, "t.definition_id = $", NULL},
    {"processDefinitionKey", BPM_F_TEXT, "i.definition_key = $", NULL},
    {"processDefinitionKeyIn", BPM_F_LIST, "i.definition_key = any(string_to_array($, ','))", NULL},
    {"executionId", BPM_F_TEXT, "t.instance_id = $", NULL},
    {"taskId", BPM_F_TEXT, "t.id = $", NULL},
    {"taskIdIn", BPM_F_LIST, "t.id = any(string_to_array($, ','))", NULL},
    {"taskDefinitionKey", BPM_F_TEXT, "t.element_id = $", NULL},
    {"taskDefinitionKeyIn", BPM_F_LIST, "t.element_id = any(string_to_array($, ','))", NULL},
    {"taskDefinitionKeyLike", BPM_F_LIKE, "t.element_id like $", NULL},
    {"name", BPM_F_TEXT, "t.name = $", NULL},
    {"nameLike", BPM_F_LIKE, "t.name like $", NULL},
    {"description", BPM_F_TEXT, "t.description = $", NULL},
    {"descriptionLike", BPM_F_LIKE, "t.description like $", NULL},
    {"assignee", BPM_F_TEXT, "t.assignee = $", NULL},
    {"assigneeLike", BPM_F_LIKE, "t.assignee like $", NULL},
    {"assigneeIn", BPM_F_LIST, "t.assignee = any(string_to_array($, ','))", NULL},
    {"assigneeNotIn", BPM_F_LIST, "(t.assignee is null or t.assignee <> all(string_to_array($, ',')))", NULL},
    {"owner", BPM_F_TEXT, "t.owner = $", NULL},
    {"assigned", BPM_F_BOOL, "t.assignee is not null", NULL},
    {"unassigned", BPM_F_BOOL, "t.assignee is null", NULL},
    {"candidateGroup", BPM_F_TEXT, "$ = any(t.candidate_groups)", NULL},
    {"candidateGroups", BPM_F_LIST, "t.candidate_groups && string_to_array($, ',')", NULL},
    {"withCandidateGroups", BPM_F_BOOL, "coalesce(cardinality(t.candidate_groups), 0) > 0", NULL},
    {"withoutCandidateGroups", BPM_F_BOOL, "coalesce(cardinality(t.candidate_groups), 0) = 0", NULL},
    {"withCandidateUsers", BPM_F_BOOL, "coalesce(cardinality(t.candidate_users), 0) > 0", NULL},
    {"withoutCandidateUsers", BPM_F_BOOL, "coalesce(cardinality(t.candidate_users), 0) = 0", NULL},
    {"priority", BPM_F_INT, "t.priority = $::int", NULL},
    {"minPriority", BPM_F_INT, "t.priority >= $::int", NULL},
    {"maxPriority", BPM_F_INT, "t.priority <= $::int", NULL},
    {"dueBefore", BPM_F_DATE, "t.due_at < $::timestamptz", NULL},
    {"dueAfter", BPM_F_DATE, "t.due_at > $::timestamptz", NULL},
    {"dueDate", BPM_F_DATE, "t.due_at = $::timestamptz", NULL},
    {"withoutDueDate", BPM_F_BOOL, "t.due_at is null", NULL},
    {"followUpBefore", BPM_F_DATE, "t.follow_up_at < $::timestamptz", NULL},
    {"followUpAfter", BPM_F_DATE, "t.follow_up_at > $::timestamptz", NULL},
    {"followUpBeforeOrNotExistent", BPM_F_DATE, "(t.follow_up_at is null or t.follow_up_at < $::timestamptz)", NULL},
    {"createdBefore", BPM_F_DATE, "t.created_at < $::timestamptz", NULL},
    {"createdAfter", BPM_F_DATE, "t.created_at > $::timestamptz", NULL},
    {"createdOn", BPM_F_DATE, "t.created_at = $::timestamptz", NULL},
    {"updatedAfter", BPM_F_DATE, "t.updated_at > $::timestamptz", NULL},
    {"delegationState", BPM_F_TEXT, "t.delegation_state = $", NULL},
    {"active", BPM_F_BOOL, "not (t.suspended or i.suspended)", NULL},
    {"suspended", BPM_F_BOOL, "(t.suspended or i.suspended)", NULL},
    {"withoutTenantId", BPM_F_BOOL, "i.tenant_id is null", NULL},
    {"tenantIdIn", BPM_F_LIST, "i.tenant_id = any(string_to_array($, ','))", NULL},
    {"processVariables", BPM_F_VARS, "t.instance_id", NULL},
    {"taskVariables", BPM_F_VARS, "t.instance_id", NULL},
    {NULL, 0, NULL, NULL},
};

static const bpm_api_sort task_sorts[] = {
    {"instanceId", "t.instance_id"},   {"executionId", "t.instance_id"}, {"dueDate", "t.due_at"},
    {"followUpDate", "t.follow_up_at"}, {"assignee", "t.assignee"},       {"created", "t.created_at"},
    {"lastUpdated", "t.updated_at"},   {"description", "t.description"}, {"id", "t.id"},
    {"name", "t.name"},                {"nameCaseInsensitive", "lower(t.name)"},
    {"priority", "t.priority"},        {NULL, NULL}};

static const bpm_api_list tasks = {TASK_DTO, "user_task t join process_instance i on i.id = t.instance_id", NULL,
                                   task_filters, task_sorts, "t.created_at, t.id"};

/* The JSON array text of the caller's groups (for a jsonb parameter). */
static char *groups_json(const bpm_api_req *req)
{
    json_t *a = json_array();
    for (int i = 0; req->groups && req->groups[i]; i++)
        json_array_append_new(a, json_string(req->groups[i]));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

#define VISIBLE_TO \
    "t.assignee = $ or $ = any(t.candidate_users) or t.candidate_groups && " \
    "array(select jsonb_array_elements_text($::jsonb))"

static const char *param(const bpm_api_req *req, const json_t *body, const char *name, char *buf, size_t n)
{
    if (body) {
        json_t *v = json_object_get(body, name);
        if (json_is_string(v)) {
            snprintf(buf, n, "%s", json_string_value(v));
            return buf;
        }
        if (json_is_boolean(v)) {
            snprintf(buf, n, "%s", json_is_true(v) ? "true" : "false");
            return buf;
        }
        return NULL;
    }
    return bpm_api_list_param(req->query, name, buf, n);
}

static void task_query(const bpm_api_req *req, bpm_api_resp *r, bool count)
{
    json_t *body = NULL;
    if (strcmp(req->method, "POST") == 0 && !(body = bpm_api_body(req, r)))
        return;
    /* Camunda: candidate queries return only unassigned tasks unless
     * includeAssignedTasks; candidateUser also matches the user's groups;
     * involvedUser is assignee, owner or candidate */
    char cu[256], cg[256], cgs[1024], inc[16], inv[256];
    const char *cand_user = param(req, body, "candidateUser", cu, sizeof cu);
    bool candidate = cand_user || param(req, body, "candidateGroup", cg, sizeof cg) ||
                     param(req, body, "candidateGroups", cgs, sizeof cgs);
    const char *include = param(req, body, "includeAssignedTasks", inc, sizeof inc);
    const char *involved = param(req, body, "involvedUser", inv, sizeof inv);
    json_decref(body);
    char extra[1024] = "true";
    const char *ps[8];
    int n = 0;
    size_t len = strlen(extra);
    if (candidate && !(include && strcmp(include, "true") == 0))
        len += (size_t)snprintf(extra + len, sizeof extra - len, " and t.assignee is null");
    if (cand_user) {
        len += (size_t)snprintf(extra + len, sizeof extra - len, " and " CANDIDATE_USER);
        ps[n++] = cand_user;
        ps[n++] = cand_user;
    }
    if (involved) {
        len += (size_t)snprintf(extra + len, sizeof extra - len,
                                " and (t.assignee = $ or t.owner = $ or " CANDIDATE_USER ")");
        for (int k = 0; k < 4; k++)
            ps[n++] = involved;
    }
    char *groups = NULL;
    if (req->user && !req->admin) {
        groups = groups_json(req);
        len += (size_t)snprintf(extra + len, sizeof extra - len, " and (" VISIBLE_TO ")");
        ps[n++] = req->user;
        ps[n++] = req->user;
        ps[n++] = groups;
    }
    bpm_api_list_run_where(req, r, &tasks, count, extra, n, ps);
    free(groups);
}

BPM_API_HANDLER(bpm_api_task_list)
{
    task_query(req, r, false);
}

BPM_API_HANDLER(bpm_api_task_count)
{
    task_query(req, r, true);
}

/* ---- one task --------------------------------------------------------------------- */

typedef struct task_row {
    bpm_task_row row;
    bool visible; /* to the caller */
} task_row;

/* Loads the task; false after writing the error Camunda gives for a missing
 * task (status and type differ per operation) into r. */
static bool load(const bpm_api_req *req, bpm_api_resp *r, task_row *t, int missing_status, const char *missing_type,
                 const char *missing_fmt)
{
    char *groups = groups_json(req);
    const char *p[3] = {req->params[0], req->user, groups};
    PGresult *res = NULL;
    bpm_err err = {0};
    bpm_rc rc = bpm_pg_query(req->s->pg,
                             "select t.instance_id, t.wait_id, t.assignee, t.owner, $2::text is null or t.assignee = $2"
                             " or t.owner = $2 or $2 = any(t.candidate_users) or t.candidate_groups &&"
                             " array(select jsonb_array_elements_text($3::jsonb)), t.id, t.definition_id, t.element_id"
                             " from user_task t where t.id = $1",
                             3, p, NULL, NULL, &res, "find the task", &err);
    free(groups);
    if (rc) {
        bpm_api_fail(r, &err);
        return false;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        bpm_api_error(r, missing_status, missing_type, missing_status >= 500 ? 0 : -1, missing_fmt, req->params[0]);
        return false;
    }
    bpm_task_row *w = &t->row;
    memset(w, 0, sizeof *w);
    snprintf(w->instance_id, sizeof w->instance_id, "%s", PQgetvalue(res, 0, 0));
    w->wait = (uint32_t)strtoul(PQgetvalue(res, 0, 1), NULL, 10);
    w->has_assignee = !PQgetisnull(res, 0, 2);
    w->has_owner = !PQgetisnull(res, 0, 3);
    snprintf(w->assignee, sizeof w->assignee, "%s", PQgetvalue(res, 0, 2));
    snprintf(w->owner, sizeof w->owner, "%s", PQgetvalue(res, 0, 3));
    snprintf(w->id, sizeof w->id, "%s", PQgetvalue(res, 0, 5));
    snprintf(w->definition_id, sizeof w->definition_id, "%s", PQgetvalue(res, 0, 6));
    snprintf(w->element_id, sizeof w->element_id, "%s", PQgetvalue(res, 0, 7));
    t->visible = req->admin || strcmp(PQgetvalue(res, 0, 4), "t") == 0;
    PQclear(res);
    if (!t->visible) {
        bpm_api_error(r, 403, "AuthorizationException", -1,
                      "The user with id '%s' does not have 'READ' permission on resource '%s' of type 'Task'.",
                      req->user ? req->user : "", req->params[0]);
        return false;
    }
    return true;
}

BPM_API_HANDLER(bpm_api_task_get)
{
    task_row t;
    if (!load(req, r, &t, 404, "InvalidRequestException", "No matching task with id %s"))
        return;
    const char *p[1] = {req->params[0]};
    bpm_api_sql_json(req, r, "select " TASK_DTO " from user_task t where t.id = $1", 1, p, "the task vanished");
}

/* Assignment changes with their history row, in one statement. kind names
 * the history row; sql is the update's SET list over $1 task, $2 user. */
static bool change(const bpm_api_req *req, bpm_api_resp *r, const char *kind, const char *set, const char *user,
                   const char *previous)
{
    char at[24]; /* engine time, as the steps' history rows have it */
    snprintf(at, sizeof at, "%lld", (long long)req->now_ms);
    const char *p[6] = {req->params[0], user, kind, req->user, previous, at};
    char sql[1024];
    snprintf(sql, sizeof sql,
             "with t as (update user_task set %s, updated_at = now() where id = $1 returning instance_id, element_id),"
             " h as (insert into history (at, instance_id, kind, element_id, element_type, user_id, detail)"
             " select to_timestamp($6::bigint / 1000.0), instance_id, $3, element_id, 'userTask', coalesce($4, $2),"
             " jsonb_build_object('task', $1::text, 'user', $2::text, 'previous', $5::text) from t)"
             " select count(*) from t",
             set);
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg, sql, 6, p, NULL, NULL, &res, "change the task", &err)) {
        bpm_api_fail(r, &err);
        return false;
    }
    PQclear(res);
    bpm_api_no_content(r);
    return true;
}

static const char *user_id(const bpm_api_req *req, bpm_api_resp *r, json_t **body, bool required)
{
    *body = bpm_api_body(req, r);
    if (!*body)
        return NULL;
    json_t *u = json_object_get(*body, "userId");
    if (u && !json_is_null(u) && !json_is_string(u)) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "userId must be a string or null");
        return NULL;
    }
    if (required && !json_is_string(u)) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "userId is required");
        return NULL;
    }
    return json_is_string(u) ? json_string_value(u) : "";
}

/* Only admins act for someone else. */
static bool may_act_for(const bpm_api_req *req, bpm_api_resp *r, const char *user)
{
    if (req->admin || !req->user || !user || !*user || strcmp(user, req->user) == 0)
        return true;
    bpm_api_error(r, 403, "AuthorizationException", -1,
                  "The user with id '%s' may not act for user '%s' on task '%s' (only admins may).", req->user, user,
                  req->params[0]);
    return false;
}

/* An assignee change (bpm_tasks_assign: the task's assignment listeners
 * run, and may refuse it); false after writing the error Camunda gives
 * into r: 500 TaskAlreadyClaimedException, 500 NullValueException for a
 * task gone meanwhile, 400 for bad variables, else 500
 * ProcessEngineException naming the listener's element and why. */
static bool assign(const bpm_api_req *req, bpm_api_resp *r, const task_row *t, bpm_task_change change,
                   const char *user, const json_t *vars)
{
    static const char *const verbs[] = {"claim", "unclaim", "set the assignee of", "delegate", "resolve"};
    bpm_err err = {0};
    bpm_rc rc =
        bpm_tasks_assign(req->s->store, &req->s->rt, &t->row, change, user, vars, req->user, req->now_ms, &err);
    if (rc == BPM_OK)
        return true;
    if (rc == BPM_CONFLICT && strstr(err.msg, "already claimed"))
        bpm_api_error(r, 500, "TaskAlreadyClaimedException", 0, "Task '%s' is already claimed by someone else.",
                      req->params[0]);
    else if (rc == BPM_NOT_FOUND)
        bpm_api_error(r, 500, "NullValueException", 0, "Cannot find task with id %s: task is null", req->params[0]);
    else if (rc == BPM_BAD_REQUEST)
        bpm_api_error(r, 400, "InvalidRequestException", -1, "%s", err.msg);
    else
        bpm_api_error(r, 500, "ProcessEngineException", 0, "Cannot %s task %s: %s", verbs[change], req->params[0],
                      err.msg);
    return false;
}

BPM_API_HANDLER(bpm_api_task_claim)
{
    json_t *body = NULL;
    const char *user = user_id(req, r, &body, false);
    task_row t;
    if (user && may_act_for(req, r, user) &&
        load(req, r, &t, 500, "NullValueException", "Cannot find task with id %s: task is null") &&
        assign(req, r, &t, *user ? BPM_TASK_CLAIM : BPM_TASK_UNCLAIM, *user ? user : NULL, NULL)) /* null: unclaim */
        bpm_api_no_content(r);
    json_decref(body);
}

BPM_API_HANDLER(bpm_api_task_unclaim)
{
    task_row t;
    if (!load(req, r, &t, 500, "NullValueException", "Cannot find task with id %s: task is null"))
        return;
    if (req->user && !req->admin && t.row.has_assignee && strcmp(t.row.assignee, req->user) != 0) {
        bpm_api_error(r, 403, "AuthorizationException", -1, "The task '%s' is assigned to '%s'; only they or an admin may unclaim it.",
                      req->params[0], t.row.assignee);
        return;
    }
    if (assign(req, r, &t, BPM_TASK_UNCLAIM, NULL, NULL))
        bpm_api_no_content(r);
}

BPM_API_HANDLER(bpm_api_task_assignee)
{
    json_t *body = NULL;
    const char *user = user_id(req, r, &body, false);
    task_row t;
    if (user && may_act_for(req, r, user) &&
        load(req, r, &t, 500, "NullValueException", "Cannot find task with id %s: task is null") &&
        assign(req, r, &t, BPM_TASK_ASSIGN, *user ? user : NULL, NULL))
        bpm_api_no_content(r);
    json_decref(body);
}

BPM_API_HANDLER(bpm_api_task_delegate)
{
    json_t *body = NULL;
    const char *user = user_id(req, r, &body, true);
    task_row t;
    if (user && load(req, r, &t, 500, "NullValueException", "Cannot find task with id %s: task is null") &&
        assign(req, r, &t, BPM_TASK_DELEGATE, user, NULL))
        bpm_api_no_content(r);
    json_decref(body);
}

/* Sets variables where the task sees them (a step of its own). */
static bool set_vars(const bpm_api_req *req, bpm_api_resp *r, const task_row *t, json_t *vars, json_t *local,
                     const json_t *deletions)
{
    bpm_cmd cmd = {.kind = BPM_CMD_SET_VARS, .wait = t->row.wait, .vars = vars, .local_vars = local, .deletions = deletions};
    bpm_err err = {0};
    bpm_rc rc = bpm_runtime_run(&req->s->rt, t->row.instance_id, &cmd, req->user, req->now_ms, &err);
    if (rc == BPM_OK)
        return true;
    if (rc == BPM_BAD_REQUEST)
        bpm_api_error(r, 400, "InvalidRequestException", -1, "%s", err.msg);
    else
        bpm_api_error(r, 500, "ProcessEngineException", 0, "Cannot set variables of task %s: %s", req->params[0],
                      err.msg);
    return false;
}

BPM_API_HANDLER(bpm_api_task_resolve)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *vars = NULL;
    task_row t;
    /* the variables and the resolution in one transaction */
    if (bpm_api_vars(body, "variables", &vars, r) &&
        load(req, r, &t, 500, "NullValueException", "Cannot find task with id %s: task is null") &&
        assign(req, r, &t, BPM_TASK_RESOLVE, NULL, vars))
        bpm_api_no_content(r);
    json_decref(vars);
    json_decref(body);
}

BPM_API_HANDLER(bpm_api_task_complete)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *vars = NULL;
    task_row t;
    if (!bpm_api_vars(body, "variables", &vars, r) ||
        !load(req, r, &t, 500, "NullValueException", "Cannot find task with id %s: task is null"))
        goto out;
    if (req->user && !req->admin && !(t.row.has_assignee && strcmp(t.row.assignee, req->user) == 0)) {
        bpm_api_error(r, 403, "AuthorizationException", -1,
                      "The user with id '%s' cannot complete task '%s': only its assignee (%s) or an admin may; claim "
                      "it first.",
                      req->user, req->params[0], t.row.has_assignee ? t.row.assignee : "nobody");
        goto out;
    }
    bpm_cmd cmd = {.kind = BPM_CMD_COMPLETE, .wait = t.row.wait, .vars = vars};
    bpm_err err = {0};
    bpm_rc rc = bpm_runtime_run(&req->s->rt, t.row.instance_id, &cmd, req->user ? req->user : (t.row.has_assignee ? t.row.assignee : NULL),
                                req->now_ms, &err);
    if (rc == BPM_BAD_REQUEST) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "%s", err.msg);
        goto out;
    }
    if (rc) {
        bpm_api_error(r, 500, "ProcessEngineException", 0, "Cannot complete task %s: %s", req->params[0], err.msg);
        goto out;
    }
    if (json_is_true(json_object_get(body, "withVariablesInReturn"))) {
        json_t *tv = bpm_api_instance_vars(req, t.row.instance_id, -1, NULL, r);
        if (tv)
            bpm_api_json(r, 200, tv);
    } else {
        bpm_api_no_content(r);
    }
out:
    json_decref(vars);
    json_decref(body);
}

BPM_API_HANDLER(bpm_api_task_bpmn_error)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *vars = NULL;
    task_row t;
    const char *code = json_string_value(json_object_get(body, "errorCode"));
    if (!code)
        bpm_api_error(r, 400, "InvalidRequestException", -1, "errorCode is required");
    else if (bpm_api_vars(body, "variables", &vars, r) &&
             load(req, r, &t, 404, "InvalidRequestException", "Cannot find task with id %s: task is null")) {
        bpm_cmd cmd = {.kind = BPM_CMD_ERROR,
                       .wait = t.row.wait,
                       .vars = vars,
                       .code = code,
                       .message = json_string_value(json_object_get(body, "errorMessage"))};
        bpm_err err = {0};
        if (bpm_runtime_run(&req->s->rt, t.row.instance_id, &cmd, req->user, req->now_ms, &err))
            bpm_api_error(r, 500, "ProcessEngineException", 0, "Cannot throw a BPMN error from task %s: %s",
                          req->params[0], err.msg);
        else
            bpm_api_no_content(r);
    }
    json_decref(vars);
    json_decref(body);
}

BPM_API_HANDLER(bpm_api_task_form)
{
    task_row t;
    if (!load(req, r, &t, 404, "InvalidRequestException", "Cannot get form for task %s: task does not exist"))
        return;
    const char *p[1] = {req->params[0]};
    bpm_api_sql_json(req, r,
                     "select json_build_object('key', t.form_key, 'camundaFormRef', null, 'contextPath', null)"
                     " from user_task t where t.id = $1",
                     1, p, "the task vanished");
}

/* ---- variables ----------------------------------------------------------------------- */

static json_t *names_param(const bpm_api_req *req)
{
    char buf[2048];
    const char *v = bpm_api_list_param(req->query, "variableNames", buf, sizeof buf);
    if (!v)
        return NULL;
    json_t *a = json_array();
    for (char *s = buf, *next; s && *s; s = next) {
        next = strchr(s, ',');
        if (next)
            *next++ = '\0';
        json_array_append_new(a, json_string(s));
    }
    return a;
}

BPM_API_HANDLER(bpm_api_task_variables)
{
    task_row t;
    if (!load(req, r, &t, 500, "NullValueException", "task %s does not exist"))
        return;
    json_t *only = names_param(req);
    json_t *vars = bpm_api_instance_vars(req, t.row.instance_id, (long)t.row.wait, only, r);
    json_decref(only);
    if (vars)
        bpm_api_json(r, 200, vars);
}

BPM_API_HANDLER(bpm_api_task_variable)
{
    task_row t;
    if (!load(req, r, &t, 500, "NullValueException", "task %s does not exist"))
        return;
    json_t *only = json_pack("[s]", req->params[1]);
    json_t *vars = bpm_api_instance_vars(req, t.row.instance_id, (long)t.row.wait, only, r);
    json_decref(only);
    if (!vars)
        return;
    json_t *v = json_object_get(vars, req->params[1]);
    if (v)
        bpm_api_json(r, 200, json_incref(v));
    else
        bpm_api_error(r, 404, "InvalidRequestException", -1, "task variable with name %s does not exist",
                      req->params[1]);
    json_decref(vars);
}

BPM_API_HANDLER(bpm_api_task_variable_put)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    task_row t;
    json_t *wrapped = json_pack("{s:O}", req->params[1], body);
    json_t *vars = NULL, *transient = NULL;
    bpm_err err = {0};
    if (bpm_restvars_decode(wrapped, &vars, &transient, &err))
        bpm_api_error(r, 400, "InvalidRequestException", -1, "Cannot put task variable %s: %s", req->params[1], err.msg);
    else if (load(req, r, &t, 500, "NullValueException", "task %s does not exist") &&
             set_vars(req, r, &t, vars, NULL, NULL))
        bpm_api_no_content(r);
    json_decref(transient);
    json_decref(vars);
    json_decref(wrapped);
    json_decref(body);
}

BPM_API_HANDLER(bpm_api_task_variable_delete)
{
    task_row t;
    json_t *del = json_pack("[s]", req->params[1]);
    if (load(req, r, &t, 500, "NullValueException", "task %s does not exist") && set_vars(req, r, &t, NULL, NULL, del))
        bpm_api_no_content(r);
    json_decref(del);
}

BPM_API_HANDLER(bpm_api_task_variables_patch)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *vars = NULL;
    json_t *del = json_object_get(body, "deletions");
    task_row t;
    if (del && !json_is_null(del) && !json_is_array(del))
        bpm_api_error(r, 400, "InvalidRequestException", -1, "deletions must be an array of variable names");
    else if (bpm_api_vars(body, "modifications", &vars, r) &&
             load(req, r, &t, 500, "NullValueException", "task %s does not exist") &&
             set_vars(req, r, &t, vars, NULL, json_is_array(del) ? del : NULL))
        bpm_api_no_content(r);
    json_decref(vars);
    json_decref(body);
}

BPM_API_HANDLER(bpm_api_task_form_variables)
{
    bpm_api_task_variables(req, r);
}

/* ---- identity links ------------------------------------------------------------------ */

BPM_API_HANDLER(bpm_api_task_identity_links)
{
    task_row t;
    if (!load(req, r, &t, 404, "InvalidRequestException", "No matching task with id %s"))
        return;
    char type[32];
    const char *p[2] = {req->params[0], bpm_api_list_param(req->query, "type", type, sizeof type)};
    bpm_api_sql_json(req, r,
                     "select coalesce(json_agg(l), '[]') from (select x.* from user_task t, lateral ("
                     " select t.assignee as \"userId\", null::text as \"groupId\", 'assignee' as type where t.assignee"
                     " is not null union all select t.owner, null, 'owner' where t.owner is not null"
                     " union all select u, null, 'candidate' from unnest(t.candidate_users) u"
                     " union all select null, g, 'candidate' from unnest(t.candidate_groups) g) x"
                     " where t.id = $1 and ($2::text is null or x.type = $2)) l",
                     2, p, NULL);
}

static void identity_link(const bpm_api_req *req, bpm_api_resp *r, bool add)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    const char *user = json_string_value(json_object_get(body, "userId"));
    const char *group = json_string_value(json_object_get(body, "groupId"));
    const char *type = json_string_value(json_object_get(body, "type"));
    task_row t;
    if ((!user) == (!group) || !type) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "an identity link needs a type and either userId or groupId");
    } else if (load(req, r, &t, 404, "InvalidRequestException", "No matching task with id %s")) {
        const char *set;
        if (strcmp(type, "assignee") == 0) {
            /* Camunda 7: the assignee link is setAssignee, listeners and all */
            if (assign(req, r, &t, BPM_TASK_ASSIGN, add ? (user ? user : group) : NULL, NULL))
                bpm_api_no_content(r);
            json_decref(body);
            return;
        }
        if (strcmp(type, "owner") == 0)
            set = add ? "owner = $2" : "owner = null";
        else if (strcmp(type, "candidate") == 0 && user)
            set = add ? "candidate_users = array(select distinct unnest(candidate_users || array[$2::text]))"
                      : "candidate_users = array_remove(candidate_users, $2::text)";
        else if (strcmp(type, "candidate") == 0)
            set = add ? "candidate_groups = array(select distinct unnest(candidate_groups || array[$2::text]))"
                      : "candidate_groups = array_remove(candidate_groups, $2::text)";
        else
            set = NULL;
        if (!set)
            bpm_api_error(r, 400, "InvalidRequestException", -1, "unknown identity link type '%s'", type);
        else
            change(req, r, add ? "task-link-add" : "task-link-delete", set, user ? user : group, NULL);
    }
    json_decref(body);
}

BPM_API_HANDLER(bpm_api_task_identity_link_add)
{
    identity_link(req, r, true);
}

BPM_API_HANDLER(bpm_api_task_identity_link_delete)
{
    identity_link(req, r, false);
}

BPM_API_HANDLER(bpm_api_task_update)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    task_row t;
    char due[BPM_RESTDATE_SIZE] = "", follow[BPM_RESTDATE_SIZE] = "";
    bool ok = true;
    const char *dates[2][2] = {{"due", due}, {"followUp", follow}};
    for (int i = 0; i < 2 && ok; i++) {
        json_t *v = json_object_get(body, dates[i][0]);
        if (!json_is_string(v))
            continue;
        int64_t ms;
        bpm_err err = {0};
        if (bpm_restdate_parse(json_string_value(v), &ms, &err)) {
            bpm_api_error(r, 400, "InvalidRequestException", -1, "%s: %s", dates[i][0], err.msg);
            ok = false;
        } else {
            bpm_restdate_format(ms, (char *)dates[i][1]);
        }
    }
    json_t *prio = json_object_get(body, "priority");
    char pbuf[24] = "";
    if (ok && prio && !json_is_null(prio)) {
        if (!json_is_integer(prio)) {
            bpm_api_error(r, 400, "InvalidRequestException", -1, "priority must be an integer");
            ok = false;
        } else {
            snprintf(pbuf, sizeof pbuf, "%lld", (long long)json_integer_value(prio));
        }
    }
    const char *assignee = json_string_value(json_object_get(body, "assignee"));
    ok = ok && load(req, r, &t, 404, "InvalidRequestException", "No matching task with id %s");
    /* a new assignee first, as setAssignee: its listeners may refuse it */
    if (ok && (t.row.has_assignee != (assignee != NULL) || (assignee && strcmp(assignee, t.row.assignee) != 0)))
        ok = assign(req, r, &t, BPM_TASK_ASSIGN, assignee, NULL);
    if (ok) {
        /* Camunda's PUT replaces the fields it carries */
        const char *p[8] = {req->params[0],
                            json_string_value(json_object_get(body, "name")),
                            json_string_value(json_object_get(body, "description")),
                            json_string_value(json_object_get(body, "assignee")),
                            json_string_value(json_object_get(body, "owner")),
                            due[0] ? due : NULL,
                            follow[0] ? follow : NULL,
                            pbuf[0] ? pbuf : NULL};
        PGresult *res = NULL;
        bpm_err err = {0};
        if (bpm_pg_query(req->s->pg,
                         "update user_task set name = $2, description = $3, assignee = $4, owner = $5,"
                         " due_at = $6::timestamptz, follow_up_at = $7::timestamptz, priority = coalesce($8::int, 50),"
                         " updated_at = now() where id = $1",
                         8, p, NULL, NULL, &res, "update the task", &err))
            bpm_api_fail(r, &err);
        else
            bpm_api_no_content(r);
        PQclear(res);
    }
    json_decref(body);
}
