/* Deployments and process definitions: what Camunda Modeler calls (connection
 * check, version, deployment create with duplicate filtering, start) and the
 * repository queries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "multipart.h"
#include "restvars.h"

BPM_API_HANDLER(bpm_api_repo_engine)
{
    (void)req;
    bpm_api_text(r, 200, "[{\"name\":\"default\"}]");
}

BPM_API_HANDLER(bpm_api_repo_version)
{
    (void)req;
    bpm_api_text(r, 200, "{\"version\":\"7.24.0\"}");
}

/* ---- deployments -------------------------------------------------------------------- */

#define DEPLOYMENT_DTO \
    "json_build_object('links', '[]'::json, 'id', d.id, 'name', d.name, 'source', d.source, " \
    "'deploymentTime', bpm_rest_date(d.deployed_at), 'tenantId', d.tenant_id)"

static const bpm_api_filter deployment_filters[] = {
    {"id", BPM_F_TEXT, "d.id = $", NULL},
    {"name", BPM_F_TEXT, "d.name = $", NULL},
    {"nameLike", BPM_F_LIKE, "d.name like $", NULL},
    {"source", BPM_F_TEXT, "d.source = $", NULL},
    {"withoutSource", BPM_F_BOOL, "d.source is null", NULL},
    {"tenantIdIn", BPM_F_LIST, "d.tenant_id = any(string_to_array($, ','))", NULL},
    {"withoutTenantId", BPM_F_BOOL, "d.tenant_id is null", NULL},
    {"after", BPM_F_DATE, "d.deployed_at > $::timestamptz", NULL},
    {"before", BPM_F_DATE, "d.deployed_at < $::timestamptz", NULL},
    {NULL, 0, NULL, NULL},
};
static const bpm_api_sort deployment_sorts[] = {
    {"id", "d.id"}, {"name", "d.name"}, {"deploymentTime", "d.deployed_at"}, {"tenantId", "d.tenant_id"}, {NULL, NULL}};
static const bpm_api_list deployments = {DEPLOYMENT_DTO, "deployment d", NULL, deployment_filters, deployment_sorts,
                                         "d.deployed_at, d.id"};

BPM_API_HANDLER(bpm_api_repo_deployments)
{
    bpm_api_list_run(req, r, &deployments, false);
}

BPM_API_HANDLER(bpm_api_repo_deployments_count)
{
    bpm_api_list_run(req, r, &deployments, true);
}

BPM_API_HANDLER(bpm_api_repo_deployment)
{
    const char *p[1] = {req->params[0]};
    char msg[300];
    snprintf(msg, sizeof msg, "Deployment with id '%s' does not exist", req->params[0]);
    bpm_api_sql_json(req, r, "select " DEPLOYMENT_DTO " from deployment d where d.id = $1", 1, p, msg);
}

BPM_API_HANDLER(bpm_api_repo_deployment_resources)
{
    const char *p[1] = {req->params[0]};
    char msg[300];
    snprintf(msg, sizeof msg, "Deployment resources for deployment id '%s' do not exist.", req->params[0]);
    bpm_api_sql_json(req, r,
                     "select json_agg(json_build_object('id', x.deployment_id || ':' || x.name, 'name', x.name,"
                     " 'deploymentId', x.deployment_id) order by x.name) from resource x where x.deployment_id = $1",
                     1, p, msg);
}

BPM_API_HANDLER(bpm_api_repo_deployment_resource_data)
{
    /* resource ids are deploymentId:name (names are unique per deployment) */
    const char *rid = req->params[1];
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s:", req->params[0]);
    const char *name = strncmp(rid, prefix, strlen(prefix)) == 0 ? rid + strlen(prefix) : rid;
    const char *p[2] = {req->params[0], name};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg, "select bytes, name from resource where deployment_id = $1 and name = $2", 2, p, NULL,
                     NULL, &res, "read the resource", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        bpm_api_error(r, 404, "InvalidRequestException", -1, "Deployment resource '%s' for deployment id '%s' does not exist.",
                      rid, req->params[0]);
        return;
    }
    size_t len = 0;
    unsigned char *bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 0), &len);
    r->status = 200;
    r->body = bpm_xmalloc(len + 1);
    memcpy(r->body, bytes, len);
    r->body_len = len;
    PQfreemem(bytes);
    const char *n = PQgetvalue(res, 0, 1);
    size_t nl = strlen(n);
    r->content_type = nl > 5 && (strcmp(n + nl - 5, ".bpmn") == 0 || strcmp(n + nl - 4, ".xml") == 0)
                          ? "application/xml"
                          : "application/octet-stream";
    snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"%.200s\"", n);
    PQclear(res);
}

BPM_API_HANDLER(bpm_api_repo_deployment_delete)
{
    char cascade[16];
    bool casc = bpm_api_list_param(req->query, "cascade", cascade, sizeof cascade) && strcmp(cascade, "true") == 0;
    const char *p[2] = {req->params[0], casc ? "t" : "f"};
    PGresult *res = NULL;
    bpm_err err = {0};
    /* without cascade, a deployment whose definitions still have instances stays */
    if (bpm_pg_query(req->s->pg,
                     "with blocked as (select 1 from process_instance i join process_definition p on p.id ="
                     " i.definition_id where p.deployment_id = $1 and not $2::bool limit 1),"
                     " gone_instances as (delete from process_instance i using process_definition p where"
                     " p.id = i.definition_id and p.deployment_id = $1 and $2::bool and not exists (select 1 from blocked)"
                     " returning i.id),"
                     " gone as (delete from deployment d where d.id = $1 and not exists (select 1 from blocked)"
                     " and (select count(*) from gone_instances) >= 0 returning d.id)"
                     " select (select count(*) from gone), (select count(*) from blocked),"
                     " (select count(*) from deployment where id = $1)",
                     2, p, NULL, NULL, &res, "delete the deployment", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    bool gone = strcmp(PQgetvalue(res, 0, 0), "1") == 0, blocked = strcmp(PQgetvalue(res, 0, 1), "0") != 0,
         exists = strcmp(PQgetvalue(res, 0, 2), "0") != 0;
    PQclear(res);
    if (gone)
        bpm_api_no_content(r);
    else if (!exists)
        bpm_api_error(r, 404, "InvalidRequestException", -1, "Deployment with id '%s' do not exist", req->params[0]);
    else if (blocked)
        bpm_api_error(r, 500, "ProcessEngineException", 0,
                      "Deletion of process definition without cascading failed: deployment '%s' still has process "
                      "instances (delete with cascade=true)",
                      req->params[0]);
    else
        bpm_api_error(r, 500, "ProcessEngineException", 0, "deployment '%s' could not be deleted", req->params[0]);
}

/* The parse-error body Camunda Modeler recognises, per resource. */
static void parse_error(bpm_api_resp *r, const bpm_err *err, const bpm_diags *d)
{
    json_t *details = json_object();
    for (size_t i = 0; i < d->n; i++) {
        const bpm_diag *g = &d->items[i];
        if (g->severity == BPM_SEV_NOTE)
            continue;
        const char *file = g->file ? g->file : "";
        json_t *res = json_object_get(details, file);
        if (!res) {
            res = json_pack("{s:[], s:[]}", "errors", "warnings");
            json_object_set_new(details, file, res);
        }
        json_t *item = json_pack("{s:s, s:i, s:i, s:s?, s:[]}", "message", g->message, "line", g->line, "column", 0,
                                 "mainBpmnElementId", g->element_id, "bpmnElementIds");
        if (g->element_id)
            json_array_append_new(json_object_get(item, "bpmnElementIds"), json_string(g->element_id));
        json_array_append_new(json_object_get(res, g->severity == BPM_SEV_ERROR ? "errors" : "warnings"), item);
    }
    /* the message lists the errors, as Camunda's does */
    char msg[2048];
    size_t n = (size_t)snprintf(msg, sizeof msg, "ENGINE-09005 Could not parse BPMN process. Errors:");
    for (size_t i = 0; i < d->n && n < sizeof msg - 1; i++)
        if (d->items[i].severity == BPM_SEV_ERROR)
            n += (size_t)snprintf(msg + n, sizeof msg - n, "\n* %s | resource %s | line %d | element %s",
                                  d->items[i].message, d->items[i].file ? d->items[i].file : "", d->items[i].line,
                                  d->items[i].element_id ? d->items[i].element_id : "");
    if (!d->n_errors)
        snprintf(msg, sizeof msg, "%s", err->msg);
    json_t *j = json_pack("{s:s, s:s, s:n, s:o}", "type", "ParseException", "message", msg, "code", "details", details);
    bpm_api_json(r, 400, j);
}

static bool utf8(const char *s)
{
    json_t *j = json_string(s);
    json_decref(j);
    return j != NULL;
}

static const char *part_text(const bpm_multipart_part *p, bpm_arena *a)
{
    char *s = bpm_arena_alloc(a, p->len + 1);
    memcpy(s, p->data, p->len);
    s[p->len] = '\0';
    return s;
}

BPM_API_HANDLER(bpm_api_repo_deploy)
{
    char boundary[BPM_MULTIPART_BOUNDARY_SIZE];
    bpm_err err = {0};
    if (!req->content_type || bpm_multipart_boundary(req->content_type, boundary, sizeof boundary, &err)) {
        bpm_api_error(r, 400, "InvalidRequestException", -1,
                      "a deployment is created with multipart/form-data: %s",
                      req->content_type ? err.msg : "the request has no Content-Type");
        return;
    }
    bpm_multipart mp = {0};
    if (bpm_multipart_parse(req->body, req->body_len, boundary, BPM_MULTIPART_MAX_PARTS, &mp, &err)) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "the multipart body is malformed: %s", err.msg);
        return;
    }
    const char *name = NULL, *source = NULL;
    bool dedup = false;
    bpm_resource res[BPM_MULTIPART_MAX_PARTS];
    size_t n = 0;
    for (size_t i = 0; i < mp.n_parts; i++) {
        const bpm_multipart_part *p = &mp.parts[i];
        if (strcmp(p->name, "deployment-name") == 0)
            name = part_text(p, mp.arena);
        else if (strcmp(p->name, "deployment-source") == 0)
            source = part_text(p, mp.arena);
        else if (strcmp(p->name, "enable-duplicate-filtering") == 0 || strcmp(p->name, "deploy-changed-only") == 0)
            dedup = dedup || strcmp(part_text(p, mp.arena), "true") == 0;
        else if (strcmp(p->name, "tenant-id") == 0 || strcmp(p->name, "deployment-activation-time") == 0)
            continue;
        else if (!p->filename || !utf8(p->filename)) {
            if (p->filename) {
                bpm_api_error(r, 400, "InvalidRequestException", -1,
                              "the file name of form parameter '%s' is not UTF-8", p->name);
                bpm_multipart_cleanup(&mp);
                return;
            }
            bpm_api_error(r, 400, "InvalidRequestException", -1,
                          "No file name found in the deployment resource described by form parameter '%s'.", p->name);
            bpm_multipart_cleanup(&mp);
            return;
        } else
            res[n++] = (bpm_resource){p->filename, p->data, p->len};
    }
    if (!n) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "No deployment resources contained in the form upload.");
        bpm_multipart_cleanup(&mp);
        return;
    }
    if (!name || !*name)
        name = res[0].name;
    bpm_diags d;
    bpm_diags_init(&d);
    bpm_deployed out = {0};
    bpm_rc rc = bpm_pgstore_deploy(req->s->store, name, source, res, n, dedup, req->now_ms, &out, &d, &err);
    bpm_multipart_cleanup(&mp);
    if (rc == BPM_INVALID || rc == BPM_PARSE) {
        parse_error(r, &err, &d);
        bpm_diags_cleanup(&d);
        return;
    }
    bpm_diags_cleanup(&d);
    if (rc) {
        bpm_api_fail(r, &err);
        return;
    }
    json_decref(out.definitions);
    char self[600];
    snprintf(self, sizeof self, "%s/deployment/%s", req->base_url, out.deployment_id);
    const char *p[3] = {out.deployment_id, self, out.duplicate ? "t" : "f"};
    bpm_api_sql_json(req, r,
                     "select json_build_object('links', json_build_array(json_build_object('method', 'GET', 'href', $2::text,"
                     " 'rel', 'self')), 'id', d.id, 'name', d.name, 'source', d.source, 'deploymentTime',"
                     " bpm_rest_date(d.deployed_at), 'tenantId', d.tenant_id, 'deployedProcessDefinitions',"
                     " case when not $3::bool then (select json_object_agg(p.id, " BPM_API_DEFINITION_DTO ")"
                     " from process_definition p where p.deployment_id = d.id) end,"
                     " 'deployedCaseDefinitions', null, 'deployedDecisionDefinitions', null,"
                     " 'deployedDecisionRequirementsDefinitions', null) from deployment d where d.id = $1",
                     3, p, "the deployment vanished");
}

/* ---- process definitions -------------------------------------------------------------- */

static const bpm_api_filter definition_filters[] = {
    {"processDefinitionId", BPM_F_TEXT, "p.id = $", NULL},
    {"processDefinitionIdIn", BPM_F_LIST, "p.id = any(string_to_array($, ','))", NULL},
    {"key", BPM_F_TEXT, "p.key = $", NULL},
    {"keysIn", BPM_F_LIST, "p.key = any(string_to_array($, ','))", NULL},
    {"keyLike", BPM_F_LIKE, "p.key like $", NULL},
    {"name", BPM_F_TEXT, "p.name = $", NULL},
    {"nameLike", BPM_F_LIKE, "p.name like $", NULL},
    {"deploymentId", BPM_F_TEXT, "p.deployment_id = $", NULL},
    {"category", BPM_F_TEXT, "p.category = $", NULL},
    {"categoryLike", BPM_F_LIKE, "p.category like $", NULL},
    {"version", BPM_F_INT, "p.version = $::int", NULL},
    {"latestVersion", BPM_F_BOOL,
     "p.version = (select max(q.version) from process_definition q where q.key = p.key and q.tenant_id is not distinct"
     " from p.tenant_id)",
     NULL},
    {"resourceName", BPM_F_TEXT, "p.resource_name = $", NULL},
    {"resourceNameLike", BPM_F_LIKE, "p.resource_name like $", NULL},
    {"active", BPM_F_BOOL, "not p.suspended", NULL},
    {"suspended", BPM_F_BOOL, "p.suspended", NULL},
    {"tenantIdIn", BPM_F_LIST, "p.tenant_id = any(string_to_array($, ','))", NULL},
    {"withoutTenantId", BPM_F_BOOL, "p.tenant_id is null", NULL},
    {"versionTag", BPM_F_TEXT, "p.version_tag = $", NULL},
    {"versionTagLike", BPM_F_LIKE, "p.version_tag like $", NULL},
    {"withoutVersionTag", BPM_F_BOOL, "p.version_tag is null", NULL},
    {"startableInTasklist", BPM_F_BOOL, "p.startable", NULL},
    {"notStartableInTasklist", BPM_F_BOOL, "not p.startable", NULL},
    {"deployedAfter", BPM_F_DATE, "p.created_at > $::timestamptz", NULL},
    {"deployedAt", BPM_F_DATE, "p.created_at = $::timestamptz", NULL},
    {NULL, 0, NULL, NULL},
};
static const bpm_api_sort definition_sorts[] = {
    {"category", "p.category"},       {"key", "p.key"},         {"id", "p.id"},
    {"name", "p.name"},               {"version", "p.version"}, {"deploymentId", "p.deployment_id"},
    {"deployTime", "p.created_at"},   {"tenantId", "p.tenant_id"}, {"versionTag", "p.version_tag"},
    {NULL, NULL}};
static const bpm_api_list definitions = {BPM_API_DEFINITION_DTO, "process_definition p", NULL, definition_filters,
                                         definition_sorts, "p.key, p.version"};

BPM_API_HANDLER(bpm_api_repo_definitions)
{
    bpm_api_list_run(req, r, &definitions, false);
}

BPM_API_HANDLER(bpm_api_repo_definitions_count)
{
    bpm_api_list_run(req, r, &definitions, true);
}

/* The definition id of a key's latest version without tenant; false after a
 * 404 into r. */
static bool latest_of(const bpm_api_req *req, const char *key, char out[256], bpm_api_resp *r)
{
    const char *p[1] = {key};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg,
                     "select id from process_definition where key = $1 and tenant_id is null order by version desc limit 1",
                     1, p, NULL, NULL, &res, "find the definition", &err)) {
        bpm_api_fail(r, &err);
        return false;
    }
    bool found = PQntuples(res) == 1;
    if (found)
        snprintf(out, 256, "%s", PQgetvalue(res, 0, 0));
    else
        bpm_api_error(r, 404, "InvalidRequestException", -1, "No matching process definition with key: %s and no tenant-id",
                      key);
    PQclear(res);
    return found;
}

static void definition_by_id(const bpm_api_req *req, bpm_api_resp *r, const char *id)
{
    const char *p[1] = {id};
    char msg[400];
    snprintf(msg, sizeof msg, "No matching definition with id %s", id);
    bpm_api_sql_json(req, r, "select " BPM_API_DEFINITION_DTO " from process_definition p where p.id = $1", 1, p, msg);
}

BPM_API_HANDLER(bpm_api_repo_definition)
{
    definition_by_id(req, r, req->params[0]);
}

BPM_API_HANDLER(bpm_api_repo_definition_by_key)
{
    char id[256];
    if (latest_of(req, req->params[0], id, r))
        definition_by_id(req, r, id);
}

static void xml_of(const bpm_api_req *req, bpm_api_resp *r, const char *id)
{
    const char *p[1] = {id};
    char msg[400];
    snprintf(msg, sizeof msg, "No matching definition with id %s", id);
    bpm_api_sql_json(req, r,
                     "select json_build_object('id', p.id, 'bpmn20Xml', convert_from(x.bytes, 'UTF8'))"
                     " from process_definition p join resource x on x.deployment_id = p.deployment_id"
                     " and x.name = p.resource_name where p.id = $1",
                     1, p, msg);
}

BPM_API_HANDLER(bpm_api_repo_definition_xml)
{
    xml_of(req, r, req->params[0]);
}

BPM_API_HANDLER(bpm_api_repo_definition_xml_by_key)
{
    char id[256];
    if (latest_of(req, req->params[0], id, r))
        xml_of(req, r, id);
}

/* A start by id (key NULL; def the id) or by key (def receives the id). */
static void start(const bpm_api_req *req, bpm_api_resp *r, const char *key, char def[256])
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *vars = NULL;
    if (!bpm_api_vars(body, "variables", &vars, r)) {
        json_decref(body);
        return;
    }
    const char *bk = json_string_value(json_object_get(body, "businessKey"));
    bool with_vars = json_is_true(json_object_get(body, "withVariablesInReturn"));
    /* the definition must exist and be active: checked in the start's own
     * transaction; when it is not, the refusal is worked out here */
    char id[BPM_ID_SIZE] = "";
    bpm_err err = {0};
    bpm_pgstore *st = req->s->store;
    bpm_rc rc = BPM_OK;
    bool lookup = false; /* rc is the key's lookup's */
    for (int fresh = 0; fresh < 2; fresh++) {
        if (key && (rc = bpm_pgstore_start_definition(st, key, fresh, def, &err))) {
            lookup = true;
            break;
        }
        if (!key || !fresh)
            bpm_pgstore_guard(st, key, def);
        rc = bpm_runtime_start(&req->s->rt, def, NULL, vars, bk, req->user, req->now_ms, id, &err);
        if (!bpm_pgstore_guard_stale(st) || !key)
            break;
    }
    bool stale = bpm_pgstore_guard_stale(st);
    bpm_pgstore_guard(st, NULL, NULL);
    if (lookup && rc == BPM_NOT_FOUND) {
        bpm_api_error(r, 404, "InvalidRequestException", -1,
                      "No matching process definition with key: %s and no tenant-id", key);
        goto out;
    }
    if (lookup && rc == BPM_CONFLICT) {
        bpm_api_error(r, 500, "ProcessEngineException", 0,
                      "Cannot instantiate process definition %s: the process definition is suspended", def);
        goto out;
    }
    if (rc && !lookup && stale) {
        const char *p[1] = {def};
        PGresult *res = NULL;
        if (bpm_pg_query(req->s->pg, "select suspended from process_definition where id = $1", 1, p, NULL, NULL, &res,
                         "find the definition", &err)) {
            bpm_api_fail(r, &err);
            goto out;
        }
        bool found = PQntuples(res) == 1;
        PQclear(res);
        if (!found)
            bpm_api_error(r, 404, "InvalidRequestException", -1, "No matching definition with id %s", def);
        else
            bpm_api_error(r, 500, "ProcessEngineException", 0,
                          "Cannot instantiate process definition %s: the process definition is suspended", def);
        goto out;
    }
    if (rc) {
        if (err.rc == BPM_NOT_FOUND)
            bpm_api_fail(r, &err);
        else
            bpm_api_error(r, 500, "ProcessEngineException", 0, "Cannot instantiate process definition %s: %s", def,
                          err.msg);
        goto out;
    }
    char self[600];
    snprintf(self, sizeof self, "%s/process-instance/%s", req->base_url, id);
    const char *q[2] = {id, self};
    bpm_api_sql_json(req, r,
                     "select json_build_object('links', json_build_array(json_build_object('method', 'GET', 'href', $2::text,"
                     " 'rel', 'self')), 'id', i.id, 'definitionId', i.definition_id, 'definitionKey', i.definition_key,"
                     " 'businessKey', i.business_key, 'caseInstanceId', null, 'ended', i.state <> 'active',"
                     " 'suspended', i.suspended, 'tenantId', i.tenant_id) from process_instance i where i.id = $1",
                     2, q, "the new instance vanished");
    if (with_vars && r->status == 200) {
        json_t *dto = json_loads(r->body, 0, NULL);
        json_t *tv = bpm_api_instance_vars(req, id, -1, NULL, r);
        if (dto && tv) {
            json_object_set_new(dto, "variables", tv);
            bpm_api_json(r, 200, dto);
        } else {
            json_decref(dto);
            json_decref(tv);
        }
    }
out:
    json_decref(vars);
    json_decref(body);
}

BPM_API_HANDLER(bpm_api_repo_start)
{
    char def[256];
    snprintf(def, sizeof def, "%s", req->params[0]);
    start(req, r, NULL, def);
}

BPM_API_HANDLER(bpm_api_repo_start_by_key)
{
    char def[256] = "";
    start(req, r, req->params[0], def);
}

BPM_API_HANDLER(bpm_api_repo_definition_suspended)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    json_t *s = json_object_get(body, "suspended");
    if (!json_is_boolean(s)) {
        json_decref(body);
        bpm_api_error(r, 400, "InvalidRequestException", -1, "suspended must be true or false");
        return;
    }
    const char *p[2] = {req->params[0], json_is_true(s) ? "t" : "f"};
    json_decref(body);
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg, "update process_definition set suspended = $2::bool where id = $1", 2, p, NULL, NULL,
                     &res, "suspend the definition", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    bool found = strcmp(PQcmdTuples(res), "0") != 0;
    PQclear(res);
    if (found)
        bpm_api_no_content(r);
    else
        bpm_api_error(r, 404, "InvalidRequestException", -1, "No matching definition with id %s", req->params[0]);
}

BPM_API_HANDLER(bpm_api_repo_definition_delete)
{
    char cascade[16];
    bool casc = bpm_api_list_param(req->query, "cascade", cascade, sizeof cascade) && strcmp(cascade, "true") == 0;
    const char *p[2] = {req->params[0], casc ? "t" : "f"};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg,
                     "with blocked as (select 1 from process_instance where definition_id = $1 and not $2::bool limit 1),"
                     " gi as (delete from process_instance where definition_id = $1 and $2::bool returning id),"
                     " gone as (delete from process_definition where id = $1 and not exists (select 1 from blocked)"
                     " and (select count(*) from gi) >= 0 returning id)"
                     " select (select count(*) from gone), (select count(*) from blocked)",
                     2, p, NULL, NULL, &res, "delete the definition", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    bool gone = strcmp(PQgetvalue(res, 0, 0), "1") == 0, blocked = strcmp(PQgetvalue(res, 0, 1), "0") != 0;
    PQclear(res);
    if (gone)
        bpm_api_no_content(r);
    else if (blocked)
        bpm_api_error(r, 500, "ProcessEngineException", 0,
                      "Deletion of process definition without cascading failed: %s still has process instances",
                      req->params[0]);
    else
        bpm_api_error(r, 404, "InvalidRequestException", -1, "No process definition found with id '%s'", req->params[0]);
}

/* Instances, failed jobs and open incidents per definition (Cockpit's
 * overview), or per activity of one definition. */
BPM_API_HANDLER(bpm_api_repo_statistics)
{
    bpm_api_sql_json(
        req, r,
        "select coalesce(json_agg(json_build_object('@class', 'org.camunda.bpm.engine.rest.dto.repository."
        "ProcessDefinitionStatisticsResultDto', 'id', p.id, 'instances', (select count(*) from process_instance i where"
        " i.definition_id = p.id and i.state = 'active'), 'failedJobs', (select count(*) from job j where"
        " j.definition_id = p.id and j.retries = 0), 'definition', " BPM_API_DEFINITION_DTO ", 'incidents',"
        " (select coalesce(json_agg(json_build_object('incidentType', n.type, 'incidentCount', n.c)), '[]') from"
        " (select type, count(*) c from incident where definition_id = p.id and resolved_at is null group by type) n))"
        " order by p.key, p.version), '[]') from process_definition p",
        0, NULL, NULL);
}

BPM_API_HANDLER(bpm_api_repo_definition_statistics)
{
    const char *p[1] = {req->params[0]};
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg, "select 1 from process_definition where id = $1", 1, p, NULL, NULL, &res,
                     "find the definition", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    bool found = PQntuples(res) == 1;
    PQclear(res);
    if (!found) {
        bpm_api_error(r, 404, "InvalidRequestException", -1, "No matching definition with id %s", req->params[0]);
        return;
    }
    /* tokens per element from the state documents of the running instances */
    bpm_api_sql_json(
        req, r,
        "select coalesce(json_agg(json_build_object('id', a.el, 'instances', a.n, 'failedJobs', (select count(*) from"
        " job j where j.definition_id = $1 and j.element_id = a.el and j.retries = 0), 'incidents', (select"
        " coalesce(json_agg(json_build_object('incidentType', n.type, 'incidentCount', n.c)), '[]') from (select type,"
        " count(*) c from incident where definition_id = $1 and element_id = a.el and resolved_at is null group by type)"
        " n)) order by a.el), '[]') from (select e->>'node' as el, count(*) as n from process_instance i,"
        " json_array_elements(i.state_json::json -> 'elements') e where i.definition_id = $1 and i.state = 'active'"
        " and e->>'node' is not null and coalesce(e->>'state', 'ready') in ('active', 'waiting', 'joining')"
        " group by 1) a",
        1, p, NULL);
}
