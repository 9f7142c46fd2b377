/* Process instances (queries, delete, suspend, the activity-instance tree,
 * variables, modification), executions as far as clients need them, and
 * messages and signals. The runtime API shows running instances; ended ones
 * are under /history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "restvars.h"
#include "timer.h"

static const bpm_api_filter instance_filters[] = {
    {"processInstanceIds", BPM_F_LIST, "i.id = any(string_to_array($, ','))", NULL},
    {"businessKey", BPM_F_TEXT, "i.business_key = $", NULL},
    {"businessKeyLike", BPM_F_LIKE, "i.business_key like $", NULL},
    {"processDefinitionId", BPM_F_TEXT, "i.definition_id = $", NULL},
    {"processDefinitionKey", BPM_F_TEXT, "i.definition_key = $", NULL},
    {"processDefinitionKeyIn", BPM_F_LIST, "i.definition_key = any(string_to_array($, ','))", NULL},
    {"processDefinitionKeyNotIn", BPM_F_LIST, "i.definition_key <> all(string_to_array($, ','))", NULL},
    {"deploymentId", BPM_F_TEXT, "exists (select 1 from process_definition p where p.id = i.definition_id and p.deployment_id = $)", NULL},
    {"superProcessInstance", BPM_F_TEXT, "i.parent_instance_id = $", NULL},
    {"subProcessInstance", BPM_F_TEXT, "i.id = (select c.parent_instance_id from process_instance c where c.id = $)", NULL},
    {"active", BPM_F_BOOL, "not i.suspended", NULL},
    {"suspended", BPM_F_BOOL, "i.suspended", NULL},
    {"withIncident", BPM_F_BOOL, "i.incident", NULL},
    {"incidentId", BPM_F_TEXT, "exists (select 1 from incident n where n.instance_id = i.id and n.id = $ and n.resolved_at is null)", NULL},
    {"incidentType", BPM_F_TEXT, "exists (select 1 from incident n where n.instance_id = i.id and n.type = $ and n.resolved_at is null)", NULL},
    {"incidentMessage", BPM_F_TEXT, "exists (select 1 from incident n where n.instance_id = i.id and n.message = $ and n.resolved_at is null)", NULL},
    {"incidentMessageLike", BPM_F_LIKE, "exists (select 1 from incident n where n.instance_id = i.id and n.message like $ and n.resolved_at is null)", NULL},
    {"tenantIdIn", BPM_F_LIST, "i.tenant_id = any(string_to_array($, ','))", NULL},
    {"withoutTenantId", BPM_F_BOOL, "i.tenant_id is null", NULL},
    {"activityIdIn", BPM_F_LIST,
     "exists (select 1 from json_array_elements(i.state_json::json -> 'elements') e where e->>'node' ="
     " any(string_to_array($, ',')) and e->>'state' in ('active', 'waiting', 'joining'))",
     NULL},
    {"rootProcessInstances", BPM_F_BOOL, "i.parent_instance_id is null", NULL},
    {"leafProcessInstances", BPM_F_BOOL, "not exists (select 1 from process_instance c where c.parent_instance_id = i.id and c.state = 'active')", NULL},
    {"variables", BPM_F_VARS, "i.id", NULL},
    {NULL, 0, NULL, NULL},
};
static const bpm_api_sort instance_sorts[] = {{"instanceId", "i.id"},
                                              {"definitionKey", "i.definition_key"},
                                              {"definitionId", "i.definition_id"},
                                              {"tenantId", "i.tenant_id"},
                                              {"businessKey", "i.business_key"},
                                              {NULL, NULL}};
static const bpm_api_list instances = {BPM_API_INSTANCE_DTO, "process_instance i", "i.state = 'active'",
                                       instance_filters, instance_sorts, "i.started_at, i.id"};

BPM_API_HANDLER(bpm_api_instance_list)
{
    bpm_api_list_run(req, r, &instances, false);
}

BPM_API_HANDLER(bpm_api_instance_count)
{
    bpm_api_list_run(req, r, &instances, true);
}

BPM_API_HANDLER(bpm_api_instance_get)
{
    const char *p[1] = {req->params[0]};
    char msg[300];
    snprintf(msg, sizeof msg, "Process instance with id %s does not exist", req->params[0]);
    bpm_api_sql_json(req, r, "select " BPM_API_INSTANCE_DTO " from process_instance i where i.id = $1 and i.state = 'active'",
                     1, p, msg);
}

/* Runs an operator command on an instance; 404 when it is not running. */
static void operate(const bpm_api_req *req, bpm_api_resp *r, bpm_cmd *cmd, bool missing_ok)
{
    bpm_err err = {0};
    bpm_rc rc = bpm_runtime_run(&req->s->rt, req->params[0], cmd, req->user, req->now_ms, &err);
    if (rc == BPM_OK)
        bpm_api_no_content(r);
    else if (rc == BPM_NOT_FOUND || (rc == BPM_CONFLICT && strstr(err.msg, "has ended")))
        missing_ok ? bpm_api_no_content(r)
                   : bpm_api_error(r, 404, "InvalidRequestException", -1, "Process instance with id %s does not exist",
                                   req->params[0]);
    else if (rc == BPM_BAD_REQUEST)
        bpm_api_error(r, 400, "InvalidRequestException", -1, "%s", err.msg);
    else
        bpm_api_error(r, 500, "ProcessEngineException", 0, "%s", err.msg);
}

BPM_API_HANDLER(bpm_api_instance_delete)
{
    char v[16];
    const char *fail = bpm_api_list_param(req->query, "failIfNotExists", v, sizeof v);
    bpm_cmd cmd = {.kind = BPM_CMD_CANCEL, .operation = "Delete"};
    operate(req, r, &cmd, fail && strcmp(fail, "false") == 0);
}

BPM_API_HANDLER(bpm_api_instance_suspended)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *s = json_object_get(body, "suspended");
    if (!json_is_boolean(s)) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "suspended must be true or false");
    } else {
        bpm_cmd cmd = {.kind = json_is_true(s) ? BPM_CMD_SUSPEND : BPM_CMD_RESUME,
                       .operation = json_is_true(s) ? "Suspend" : "Activate"};
        operate(req, r, &cmd, false);
    }
    json_decref(body);
}

/* ---- the activity-instance tree ------------------------------------------------------ */

static json_t *activity(const json_t *e, const bpm_process *p, const char *instance, const char *definition,
                        const char *parent, const json_t *incidents)
{
    const char *node = json_string_value(json_object_get(e, "node"));
    const char *kind = json_string_value(json_object_get(e, "kind"));
    const bpm_node *n = node ? bpm_model_find_node(p, node) : NULL;
    const char *type = kind && strcmp(kind, "mi-body") == 0 ? "multiInstanceBody" : n ? bpm_model_kind_name(n->kind) : "unknown";
    /* the same id as the activity's history (activity:instance:element
     * instance): unique across instances */
    char id[400];
    snprintf(id, sizeof id, "%s%s:%s:%lld", node ? node : "", kind && strcmp(kind, "mi-body") == 0 ? "#multiInstanceBody" : "",
             instance, (long long)json_integer_value(json_object_get(e, "id")));
    json_t *ids = json_array(), *incs = json_array();
    size_t i;
    json_t *x;
    json_array_foreach((json_t *)incidents, i, x)
    {
        const char *el = json_string_value(json_object_get(x, "activityId"));
        if (el && node && strcmp(el, node) == 0) {
            json_array_append(ids, json_object_get(x, "id"));
            json_array_append(incs, x);
        }
    }
    const char *name = n && n->name ? n->name : NULL;
    char activity_id[300];
    snprintf(activity_id, sizeof activity_id, "%s%s", node ? node : "",
             kind && strcmp(kind, "mi-body") == 0 ? "#multiInstanceBody" : "");
    return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s, s:s, s:[], s:[], s:[s], s:o, s:o}", "id", id,
                     "parentActivityInstanceId", parent, "activityId", activity_id, "activityType", type,
                     "activityName", name, "name", name, "processInstanceId", instance, "processDefinitionId",
                     definition, "childActivityInstances", "childTransitionInstances", "executionIds", instance,
                     "incidentIds", ids, "incidents", incs);
}

static void children(json_t *parent_dto, long parent_id, const json_t *elements, const bpm_process *p,
                     const char *instance, const char *definition, const json_t *incidents, int depth)
{
    size_t i;
    json_t *e;
    const char *pid = json_string_value(json_object_get(parent_dto, "id"));
    json_array_foreach((json_t *)elements, i, e)
    {
        const char *state = json_string_value(json_object_get(e, "state"));
        if (json_integer_value(json_object_get(e, "parent")) != parent_id || (state && strcmp(state, "done") == 0))
            continue;
        json_t *dto = activity(e, p, instance, definition, pid, incidents);
        if (depth < 64)
            children(dto, (long)json_integer_value(json_object_get(e, "id")), elements, p, instance, definition,
                     incidents, depth + 1);
        json_array_append_new(json_object_get(parent_dto, "childActivityInstances"), dto);
    }
}

BPM_API_HANDLER(bpm_api_instance_activities)
{
    const char *p[1] = {req->params[0]};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg,
                     "select i.definition_id, i.state_json::text, (select coalesce(json_agg(json_build_object('id', n.id,"
                     " 'activityId', n.element_id)), '[]') from incident n where n.instance_id = i.id and n.resolved_at"
                     " is null)::text from process_instance i where i.id = $1 and i.state = 'active'",
                     1, p, NULL, NULL, &res, "read the instance", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        bpm_api_error(r, 404, "InvalidRequestException", -1, "Process instance with id %s does not exist", req->params[0]);
        return;
    }
    char def[256];
    snprintf(def, sizeof def, "%s", PQgetvalue(res, 0, 0));
    json_t *state = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
    json_t *incidents = json_loads(PQgetvalue(res, 0, 2), 0, NULL);
    PQclear(res);
    const bpm_model *m = NULL;
    const bpm_process *proc = NULL;
    if (!state || req->s->rt.store.ops->model(req->s->rt.store.self, def, &m, &proc, &err)) {
        json_decref(state);
        json_decref(incidents);
        if (!err.msg[0])
            bpm_err_set(&err, BPM_INTERNAL, "the state of instance %s cannot be read", req->params[0]);
        bpm_api_fail(r, &err);
        return;
    }
    json_t *elements = json_object_get(state, "elements");
    json_t *root = json_pack("{s:s, s:n, s:s, s:s, s:s?, s:s?, s:s, s:s, s:[], s:[], s:[s], s:n, s:n}", "id",
                             req->params[0], "parentActivityInstanceId", "activityId", def, "activityType",
                             "processDefinition", "activityName", proc->name, "name", proc->name, "processInstanceId",
                             req->params[0], "processDefinitionId", def, "childActivityInstances",
                             "childTransitionInstances", "executionIds", req->params[0], "incidentIds", "incidents");
    /* the process element instance is the root; its children hang below */
    size_t i;
    json_t *e;
    json_array_foreach(elements, i, e)
    {
        const char *kind = json_string_value(json_object_get(e, "kind"));
        if (kind && strcmp(kind, "process") == 0) {
            children(root, (long)json_integer_value(json_object_get(e, "id")), elements, proc, req->params[0], def,
                     incidents, 0);
            break;
        }
    }
    json_decref(state);
    json_decref(incidents);
    bpm_api_json(r, 200, root);
}

/* ---- variables ------------------------------------------------------------------------- */

static bool running(const bpm_api_req *req, bpm_api_resp *r)
{
    const char *p[1] = {req->params[0]};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg, "select 1 from process_instance where id = $1 and state = 'active'", 1, p, NULL, NULL,
                     &res, "find the instance", &err)) {
        bpm_api_fail(r, &err);
        return false;
    }
    bool found = PQntuples(res) == 1;
    PQclear(res);
    if (!found)
        bpm_api_error(r, 404, "InvalidRequestException", -1, "Process instance with id %s does not exist", req->params[0]);
    return found;
}

BPM_API_HANDLER(bpm_api_instance_variables)
{
    if (!running(req, r))
        return;
    json_t *vars = bpm_api_instance_vars(req, req->params[0], -1, NULL, r);
    if (vars)
        bpm_api_json(r, 200, vars);
}

BPM_API_HANDLER(bpm_api_instance_variable)
{
    if (!running(req, r))
        return;
    json_t *only = json_pack("[s]", req->params[1]);
    json_t *vars = bpm_api_instance_vars(req, req->params[0], -1, only, r);
    json_decref(only);
    if (!vars)
        return;
    json_t *v = json_object_get(vars, req->params[1]);
    if (v)
        bpm_api_json(r, 200, json_incref(v));
    else
        bpm_api_error(r, 404, "InvalidRequestException", -1, "process instance variable with name %s does not exist",
                      req->params[1]);
    json_decref(vars);
}

static void set_vars(const bpm_api_req *req, bpm_api_resp *r, json_t *vars, const json_t *deletions)
{
    bpm_cmd cmd = {.kind = BPM_CMD_SET_VARS, .vars = vars, .deletions = deletions};
    operate(req, r, &cmd, false);
}

BPM_API_HANDLER(bpm_api_instance_variable_put)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *wrapped = json_pack("{s:O}", req->params[1], body);
    json_t *vars = NULL, *transient = NULL;
    bpm_err err = {0};
    if (bpm_restvars_decode(wrapped, &vars, &transient, &err))
        bpm_api_error(r, 400, "InvalidRequestException", -1, "Cannot put process instance variable %s: %s",
                      req->params[1], err.msg);
    else
        set_vars(req, r, vars, NULL);
    json_decref(transient);
    json_decref(vars);
    json_decref(wrapped);
    json_decref(body);
}

BPM_API_HANDLER(bpm_api_instance_variable_delete)
{
    json_t *del = json_pack("[s]", req->params[1]);
    set_vars(req, r, NULL, del);
    json_decref(del);
}

BPM_API_HANDLER(bpm_api_instance_variables_patch)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *vars = NULL;
    json_t *del = json_object_get(body, "deletions");
    if (del && !json_is_null(del) && !json_is_array(del))
        bpm_api_error(r, 400, "InvalidRequestException", -1, "deletions must be an array of variable names");
    else if (bpm_api_vars(body, "modifications", &vars, r))
        set_vars(req, r, vars, json_is_array(del) ? del : NULL);
    json_decref(vars);
    json_decref(body);
}

/* ---- modification ---------------------------------------------------------------------- */

BPM_API_HANDLER(bpm_api_instance_modification)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *ins = json_object_get(body, "instructions");
    size_t n = json_array_size(ins);
    bpm_modification *mods = bpm_xcalloc(n ? n : 1, sizeof *mods);
    json_t **vars = bpm_xcalloc(n ? n : 1, sizeof *vars);
    bool ok = json_is_array(ins) && n > 0;
    if (!ok)
        bpm_api_error(r, 400, "InvalidRequestException", -1, "instructions must be a non-empty array");
    for (size_t i = 0; ok && i < n; i++) {
        json_t *in = json_array_get(ins, i);
        const char *type = json_string_value(json_object_get(in, "type"));
        const char *el = json_string_value(json_object_get(in, "activityId"));
        if (!type || !el) {
            bpm_api_error(r, 400, "InvalidRequestException", -1,
                          "instruction %zu needs a type and an activityId (activity instance ids and transitions are not"
                          " supported)",
                          i);
            ok = false;
            break;
        }
        if (strcmp(type, "cancel") == 0)
            mods[i].kind = BPM_CMD_MODIFY_CANCEL;
        else if (strcmp(type, "startBeforeActivity") == 0)
            mods[i].kind = BPM_CMD_MODIFY_START_BEFORE;
        else if (strcmp(type, "startAfterActivity") == 0)
            mods[i].kind = BPM_CMD_MODIFY_START_AFTER;
        else {
            bpm_api_error(r, 400, "InvalidRequestException", -1, "instruction %zu: unknown type '%s'", i, type);
            ok = false;
            break;
        }
        mods[i].element = el;
        if (!bpm_api_vars(in, "variables", &vars[i], r)) {
            ok = false;
            break;
        }
        mods[i].vars = json_object_size(vars[i]) ? vars[i] : NULL;
    }
    if (ok) {
        bpm_err err = {0};
        bpm_rc rc = bpm_runtime_modify(&req->s->rt, req->params[0], mods, n, req->user, req->now_ms, &err);
        if (rc == BPM_OK)
            bpm_api_no_content(r);
        else if (rc == BPM_NOT_FOUND && strstr(err.msg, "instance"))
            bpm_api_error(r, 404, "InvalidRequestException", -1, "%s", err.msg);
        else if (rc == BPM_NOT_FOUND || rc == BPM_BAD_REQUEST)
            bpm_api_error(r, 400, "InvalidRequestException", -1, "%s", err.msg);
        else
            bpm_api_error(r, 500, "ProcessEngineException", 0, "%s", err.msg);
    }
    for (size_t i = 0; i < n; i++)
        json_decref(vars[i]);
    free(vars);
    free(mods);
    json_decref(body);
}

/* ---- executions: one per instance, as the external-task client expects ---------------- */

static const bpm_api_filter execution_filters[] = {
    {"processInstanceId", BPM_F_TEXT, "i.id = $", NULL},
    {"businessKey", BPM_F_TEXT, "i.business_key = $", NULL},
    {"processDefinitionId", BPM_F_TEXT, "i.definition_id = $", NULL},
    {"processDefinitionKey", BPM_F_TEXT, "i.definition_key = $", NULL},
    {"activityId", BPM_F_TEXT,
     "exists (select 1 from json_array_elements(i.state_json::json -> 'elements') e where e->>'node' = $ and"
     " e->>'state' in ('active', 'waiting'))",
     NULL},
    {"messageEventSubscriptionName", BPM_F_TEXT,
     "exists (select 1 from subscription s where s.instance_id = i.id and s.kind = 'message' and s.name = $)", NULL},
    {"signalEventSubscriptionName", BPM_F_TEXT,
     "exists (select 1 from subscription s where s.instance_id = i.id and s.kind = 'signal' and s.name = $)", NULL},
    {"active", BPM_F_BOOL, "not i.suspended", NULL},
    {"suspended", BPM_F_BOOL, "i.suspended", NULL},
    {NULL, 0, NULL, NULL},
};
static const bpm_api_sort execution_sorts[] = {{"instanceId", "i.id"}, {"definitionKey", "i.definition_key"},
                                               {"definitionId", "i.definition_id"}, {NULL, NULL}};
static const bpm_api_list executions = {
    "json_build_object('id', i.id, 'processInstanceId', i.id, 'ended', false, 'tenantId', i.tenant_id)",
    "process_instance i", "i.state = 'active'", execution_filters, execution_sorts, "i.started_at, i.id"};

BPM_API_HANDLER(bpm_api_instance_executions)
{
    bpm_api_list_run(req, r, &executions, false);
}

/* ---- messages and signals -------------------------------------------------------------- */

BPM_API_HANDLER(bpm_api_message)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    const char *name = json_string_value(json_object_get(body, "messageName"));
    json_t *vars = NULL, *keys = NULL;
    bool all = json_is_true(json_object_get(body, "all"));
    bool result = json_is_true(json_object_get(body, "resultEnabled"));
    if (!name) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "No message name supplied");
        goto out;
    }
    if (json_is_true(json_object_get(body, "variablesInResultEnabled")) && !result) {
        bpm_api_error(r, 400, "InvalidRequestException", -1,
                      "variablesInResultEnabled requires resultEnabled to be true");
        goto out;
    }
    if (json_object_get(body, "tenantId") && json_is_true(json_object_get(body, "withoutTenantId"))) {
        bpm_api_error(r, 400, "InvalidRequestException", -1,
                      "Parameter 'tenantId' cannot be used together with parameter 'withoutTenantId'.");
        goto out;
    }
    if (!bpm_api_vars(body, "processVariables", &vars, r) || !bpm_api_vars(body, "correlationKeys", &keys, r))
        goto out;
    /* one correlation key: our subscriptions carry a single key value */
    const char *key = NULL;
    char keybuf[512];
    if (json_object_size(keys) == 1) {
        json_t *kv = json_object_iter_value(json_object_iter(keys));
        if (json_is_string(kv))
            key = json_string_value(kv);
        else if (json_is_integer(kv) || json_is_real(kv) || json_is_boolean(kv)) {
            char *t = json_dumps(kv, JSON_ENCODE_ANY);
            snprintf(keybuf, sizeof keybuf, "%s", t);
            free(t);
            key = keybuf;
        }
    } else if (json_object_size(keys) > 1) {
        bpm_api_error(r, 400, "InvalidRequestException", -1,
                      "Cannot correlate message '%s': only one correlation key is supported", name);
        goto out;
    }
    bpm_err err = {0};
    size_t n = 0;
    bpm_rc rc = bpm_runtime_correlate(&req->s->rt, name, key, json_string_value(json_object_get(body, "businessKey")),
                                      vars, all, 0, req->now_ms, &n, &err);
    if (rc == BPM_NOT_FOUND && all)
        rc = BPM_OK; /* all: zero matches is not an error */
    if (rc == BPM_NOT_FOUND)
        bpm_api_error(r, 400, "RestException", -1,
                      "Cannot correlate message '%s': No process definition or execution matches the parameters", name);
    else if (rc == BPM_CONFLICT)
        bpm_api_error(r, 400, "RestException", -1,
                      "Cannot correlate message '%s': ENGINE-13031 Cannot correlate a message with name '%s' to a single"
                      " execution. %s",
                      name, name, err.msg);
    else if (rc)
        bpm_api_error(r, 500, "ProcessEngineException", 0, "Cannot correlate message '%s': %s", name, err.msg);
    else if (result) {
        /* which targets is not reported by the runtime: one entry per delivery */
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:s, s:n, s:n}", "resultType", "Execution", "execution",
                                                 "processInstance"));
        bpm_api_json(r, 200, arr);
    } else
        bpm_api_no_content(r);
out:
    json_decref(vars);
    json_decref(keys);
    json_decref(body);
}

BPM_API_HANDLER(bpm_api_signal)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    const char *name = json_string_value(json_object_get(body, "name"));
    json_t *vars = NULL;
    if (!name)
        bpm_api_error(r, 400, "InvalidRequestException", -1, "No signal name given");
    else if (bpm_api_vars(body, "variables", &vars, r)) {
        bpm_err err = {0};
        if (bpm_runtime_signal(&req->s->rt, name, vars, req->now_ms, NULL, &err))
            bpm_api_fail(r, &err);
        else
            bpm_api_no_content(r);
    }
    json_decref(vars);
    json_decref(body);
}
