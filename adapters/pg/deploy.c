/* Deployments: resources validated and compiled, duplicate filtering as
 * Camunda Modeler expects it, definitions versioned per key, start triggers
 * recorded; all in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpmn.h"
#include "compile.h"
#include "pg_int.h"
#include "pgstore.h"
#include "timer.h"

static bool is_bpmn(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".bpmn") == 0) || (n > 11 && strcmp(name + n - 11, ".bpmn20.xml") == 0);
}

/* sha256 of each resource, computed by the server (hex). */
static bpm_rc checksums(bpm_pg *pg, const bpm_resource *res, size_t n, char (*out)[65], bpm_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *p[1] = {res[i].bytes};
        int len[1] = {(int)res[i].len}, fmt[1] = {1};
        PGresult *r = NULL;
        bpm_rc rc = bpm_pg_query(pg, "select encode(sha256($1::bytea), 'hex')", 1, p, len, fmt, &r, "hash a resource", err);
        if (rc)
            return rc;
        snprintf(out[i], 65, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    return BPM_OK;
}

/* The latest deployment of (name, source) when its resources are exactly
 * these (names and checksums), else none. */
static bpm_rc find_duplicate(bpm_pg *pg, const char *name, const char *source, const bpm_resource *res, size_t n,
                             char (*sums)[65], char *out_id, bpm_err *err)
{
    out_id[0] = '\0';
    const char *p[2] = {name, source};
    PGresult *r = NULL;
    bpm_rc rc = bpm_pg_query(pg,
                            "select d.id, string_agg(r.name || '=' || encode(r.checksum, 'hex'), ',' order by r.name)"
                            " from deployment d join resource r on r.deployment_id = d.id"
                            " where d.name = $1 and d.source is not distinct from $2 and d.tenant_id is null"
                            " group by d.id, d.deployed_at order by d.deployed_at desc limit 1",
                            2, p, NULL, NULL, &r, "look for a duplicate deployment", err);
    if (rc)
        return rc;
    if (PQntuples(r) == 1) {
        /* the same set, in the same order (names sorted) */
        size_t *order = bpm_xcalloc(n ? n : 1, sizeof *order);
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && strcmp(res[order[j - 1]].name, res[order[j]].name) > 0; j--) {
                size_t t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        size_t cap = 1;
        for (size_t i = 0; i < n; i++)
            cap += strlen(res[i].name) + 67;
        char *mine = bpm_xcalloc(cap, 1);
        size_t off = 0;
        for (size_t i = 0; i < n; i++)
            off += (size_t)snprintf(mine + off, cap - off, "%s%s=%s", i ? "," : "", res[order[i]].name, sums[order[i]]);
        if (strcmp(mine, PQgetvalue(r, 0, 1)) == 0)
            snprintf(out_id, BPM_ID_SIZE, "%s", PQgetvalue(r, 0, 0));
        free(mine);
        free(order);
    }
    PQclear(r);
    return BPM_OK;
}

static const char *trigger_of(const bpm_node *n, const char **kind)
{
    if (n->kind != BPM_NODE_START_EVENT || n->n_events != 1)
        return NULL;
    const bpm_event_def *ev = &n->events[0];
    switch (ev->kind) {
    case BPM_EVENT_MESSAGE:
        *kind = "message";
        return ev->message ? ev->message->name : NULL;
    case BPM_EVENT_SIGNAL:
        *kind = "signal";
        return ev->signal ? ev->signal->name : NULL;
    case BPM_EVENT_TIMER:
        *kind = "timer";
        return ev->timer.text;
    default:
        return NULL;
    }
}

/* Arms the timer start events of a new definition and disarms those of the
 * key's older versions (Camunda 7: a new version replaces them). */
static bpm_rc arm_start_timers(bpm_pg *pg, const char *def_id, const bpm_process *proc, int64_t now_ms, bpm_err *err)
{
    const char *pk[2] = {proc->id, def_id};
    bpm_rc rc = bpm_pg_query(pg,
                            "delete from start_timer where definition_id in (select id from process_definition"
                            " where key = $1 and id <> $2 and tenant_id is null)",
                            2, pk, NULL, NULL, NULL, "replace timer start events", err);
    for (size_t t = 0; !rc && t < proc->n_top; t++) {
        const bpm_node *nd = proc->top[t];
        if (nd->kind != BPM_NODE_START_EVENT || nd->n_events != 1 || nd->events[0].kind != BPM_EVENT_TIMER)
            continue;
        const bpm_event_def *ev = &nd->events[0];
        if (!ev->timer.text || ev->timer.dialect != BPM_DIALECT_LITERAL)
            continue; /* an expression has no context to be evaluated in before any instance exists */
        int64_t due = 0;
        bool done = false;
        if (bpm_timer_next_due(ev->timer_kind, ev->timer.text, now_ms, now_ms, 0, &due, &done, NULL) != BPM_OK || done)
            continue;
        char kind[8], start[24], at[BPM_TIMER_ISO_SIZE];
        snprintf(kind, sizeof kind, "%d", (int)ev->timer_kind);
        snprintf(start, sizeof start, "%lld", (long long)now_ms);
        bpm_timer_format_iso(due, at, sizeof at);
        const char *p[6] = {def_id, nd->id, ev->timer.text, kind, start, at};
        rc = bpm_pg_query(pg,
                         "insert into start_timer (definition_id, element_id, value, timer_kind, start_ms, due_at)"
                         " values ($1, $2, $3, $4::int, $5::bigint, $6::timestamptz)",
                         6, p, NULL, NULL, NULL, "arm a timer start event", err);
    }
    return rc;
}

/* A process that names a webhook endpoint (property bpmnd.webhook.name)
 * takes it over: the newest declaration wins, as the latest version of a key
 * is the one started (docs/events.md). */
static bpm_rc declare_webhook(bpm_pg *pg, const char *def_id, const bpm_process *proc, bpm_err *err)
{
    for (size_t i = 0; i < proc->n_properties; i++) {
        const bpm_pair *pr = &proc->properties[i];
        if (!pr->name || !pr->value || strcmp(pr->name, "bpmnd.webhook.name") != 0)
            continue;
        const char *p[2] = {pr->value, def_id};
        return bpm_pg_query(pg,
                            "insert into webhook_endpoint (name, definition_id) values ($1, $2) on conflict (name)"
                            " do update set definition_id = excluded.definition_id, declared_at = now()",
                            2, p, NULL, NULL, NULL, "declare a webhook endpoint", err);
    }
    return BPM_OK;
}

bpm_rc bpm_pgstore_deploy(bpm_pgstore *s, const char *name, const char *source, const bpm_resource *res, size_t n,
                          bool dedup, int64_t now_ms, bpm_deployed *out, bpm_diags *diags, bpm_err *err)
{
    const struct bpm_pgstore *v = s;
    bpm_pg *pg = v->pg;
    memset(out, 0, sizeof *out);
    if (!name || !*name)
        return bpm_err_set(err, BPM_BAD_REQUEST, "a deployment needs a name");
    if (n == 0)
        return bpm_err_set(err, BPM_BAD_REQUEST, "no deployment resources contained in the upload");
    /* 1. read, validate and compile every BPMN resource before touching the database */
    bpm_model **models = bpm_xcalloc(n, sizeof *models);
    bpm_rc rc = BPM_OK;
    for (size_t i = 0; i < n; i++) {
        if (!is_bpmn(res[i].name))
            continue;
        bpm_err perr = {0};
        if (bpm_bpmn_read_buffer(res[i].bytes, res[i].len, res[i].name, NULL, &models[i], diags, &perr) != BPM_OK) {
            rc = BPM_INVALID;
            continue;
        }
        bpm_compile_model(models[i], v->ev, diags);
    }
    if (rc || bpm_diags_has_errors(diags)) {
        rc = bpm_err_set(err, BPM_INVALID, "ENGINE-09005 Could not parse BPMN process. Errors: %zu error(s) in the deployment",
                         diags->n_errors);
        goto done;
    }
    char (*sums)[65] = bpm_xcalloc(n, sizeof *sums);
    if ((rc = bpm_pg_exec(pg, "begin", err)))
        goto free_sums;
    /* one deployer of a name at a time, so versions and duplicates are exact */
    {
        const char *p[1] = {name};
        if ((rc = bpm_pg_query(pg, "select pg_advisory_xact_lock(hashtext('bpmnd-deploy:' || $1))", 1, p, NULL, NULL,
                              NULL, "lock the deployment name", err)))
            goto rollback;
    }
    if ((rc = checksums(pg, res, n, sums, err)))
        goto rollback;
    if (dedup) {
        if ((rc = find_duplicate(pg, name, source, res, n, sums, out->deployment_id, err)))
            goto rollback;
        if (out->deployment_id[0]) {
            out->duplicate = true;
            out->definitions = json_array();
            rc = bpm_pg_exec(pg, "commit", err);
            goto free_sums;
        }
    }
    bpm_store port = bpm_pgstore_port(s);
    port.ops->new_id(port.self, out->deployment_id);
    {
        const char *p[3] = {out->deployment_id, name, source};
        if ((rc = bpm_pg_query(pg, "insert into deployment (id, name, source) values ($1, $2, $3)", 3, p, NULL, NULL,
                              NULL, "create the deployment", err)))
            goto rollback;
    }
    out->definitions = json_array();
    for (size_t i = 0; i < n; i++) {
        const char *p[3] = {out->deployment_id, res[i].name, res[i].bytes};
        int len[3] = {0, 0, (int)res[i].len}, fmt[3] = {0, 0, 1};
        if ((rc = bpm_pg_query(pg,
                              "insert into resource (deployment_id, name, bytes, checksum) values ($1, $2, $3::bytea,"
                              " sha256($3::bytea))",
                              3, p, len, fmt, NULL, "store a resource", err)))
            goto rollback;
        bpm_model *m = models[i];
        for (size_t k = 0; m && k < m->n_processes; k++) {
            const bpm_process *proc = &m->processes[k];
            if (!proc->executable)
                continue;
            const char *pk[1] = {proc->id};
            PGresult *r = NULL;
            if ((rc = bpm_pg_query(pg,
                                  "select pg_advisory_xact_lock(hashtext('bpmnd-key:' || $1)),"
                                  " coalesce(max(version), 0) + 1 from process_definition where key = $1 and tenant_id is null",
                                  1, pk, NULL, NULL, &r, "choose a version", err)))
                goto rollback;
            int version = (int)strtol(PQgetvalue(r, 0, 1), NULL, 10);
            PQclear(r);
            char id[256], vs[16];
            snprintf(vs, sizeof vs, "%d", version);
            snprintf(id, sizeof id, "%s:%d:%s", proc->id, version, out->deployment_id);
            if (strlen(id) > 64) /* Camunda 7 falls back to a bare id */
                port.ops->new_id(port.self, id);
            const char *pd[10] = {id,
                                  proc->id,
                                  vs,
                                  proc->name,
                                  m->target_namespace,
                                  proc->version_tag,
                                  proc->history_ttl,
                                  out->deployment_id,
                                  res[i].name,
                                  proc->startable_in_tasklist ? "true" : "false"};
            if ((rc = bpm_pg_query(pg,
                                  "insert into process_definition (id, key, version, name, category, version_tag,"
                                  " history_ttl, deployment_id, resource_name, startable)"
                                  " values ($1, $2, $3::int, $4, $5, $6, $7, $8, $9, $10::boolean)",
                                  10, pd, NULL, NULL, NULL, "create a process definition", err)))
                goto rollback;
            for (size_t t = 0; t < proc->n_top; t++) {
                const char *kind = NULL;
                const char *tname = trigger_of(proc->top[t], &kind);
                if (!tname)
                    continue;
                const char *pt[4] = {id, kind, tname, proc->top[t]->id};
                if ((rc = bpm_pg_query(pg,
                                      "insert into start_trigger (definition_id, kind, name, element_id)"
                                      " values ($1, $2, $3, $4)",
                                      4, pt, NULL, NULL, NULL, "record a start event", err)))
                    goto rollback;
            }
            if ((rc = arm_start_timers(pg, id, proc, now_ms, err)))
                goto rollback;
            if ((rc = declare_webhook(pg, id, proc, err)))
                goto rollback;
            json_array_append_new(out->definitions,
                                  json_pack("{s:s, s:s, s:i, s:s?, s:s, s:s?, s:s?}", "id", id, "key", proc->id,
                                            "version", version, "name", proc->name, "resource", res[i].name, "category",
                                            m->target_namespace, "versionTag", proc->version_tag));
        }
    }
    rc = bpm_pg_exec(pg, "commit", err);
    goto free_sums;
rollback:
    bpm_pg_exec(pg, "rollback", NULL);
    json_decref(out->definitions);
    out->definitions = NULL;
free_sums:
    free(sums);
done:
    for (size_t i = 0; i < n; i++)
        bpm_model_unref(models[i]);
    free(models);
    return rc;
}
