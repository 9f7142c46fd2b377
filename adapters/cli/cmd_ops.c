/* bpmnctl commands that operate the durable engine: deploy, definitions,
 * start, instances, instance, tasks, task claim|complete, correlate, signal,
 * incidents, cancel, suspend, resume, modify, clock, timers. Each opens a
 * connection, runs through the runtime (one transaction per command) and
 * prints a table, or JSON with --json. */
#define _DEFAULT_SOURCE /* clock_gettime with CLOCK_REALTIME */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "pg.h"
#include "pgstore.h"
#include "runtime.h"
#include "scripts.h"
#include "tasks.h"
#include "timer.h"

typedef struct ctx {
    bpm_pg *pg;
    bpm_scripts *scripts;
    bpm_evaluator ev;
    bpm_pgstore *store;
    bpm_runtime rt;
    bool json;
    const char *user;
} ctx;

static int fail(const bpm_err *err)
{
    fprintf(stderr, "bpmnctl: %s%s%s\n", err->msg, err->where[0] ? " at " : "", err->where);
    return 1;
}

static int open_ctx(ctx *c)
{
    bpm_err err = {0};
    if (bpm_cli_connect(&c->pg, false, &err))
        return fail(&err);
    c->scripts = bpm_scripts_new(NULL, &err);
    if (!c->scripts) {
        bpm_pg_close(c->pg);
        return fail(&err);
    }
    c->ev = bpm_scripts_evaluator(c->scripts);
    c->store = bpm_pgstore_new(c->pg, &c->ev);
    bpm_pgstore_set_history(c->store, bpm_cli_history_level());
    c->rt = (bpm_runtime){.store = bpm_pgstore_port(c->store), .eval = &c->ev};
    return 0;
}

static void close_ctx(ctx *c)
{
    bpm_pgstore_free(c->store);
    bpm_scripts_free(c->scripts);
    bpm_pg_close(c->pg);
}

/* Wall-clock time plus the settable offset (`bpmnctl clock --offset`). */
static int64_t now_ms(ctx *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    PGresult *res = PQexec(bpm_pg_conn(c->pg), "select offset_ms from clock");
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        now += strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return now;
}

/* ---- options ------------------------------------------------------------------ */

typedef struct opts {
    const char *pos[8];
    int n_pos;
    bpm_modification mods[64]; /* modify: --cancel/--start-before/--start-after, in order */
    int n_mods;
    const char *vars, *business_key, *key, *definition, *state, *assignee, *group, *instance, *user, *name,
        *offset, *ttl;
    bool json, all;
} opts;

static int parse_opts(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (strcmp(a, "--all") == 0) {
            o->all = true;
            continue;
        }
        bpm_cmd_kind mk = strcmp(a, "--cancel") == 0         ? BPM_CMD_MODIFY_CANCEL
                          : strcmp(a, "--start-before") == 0 ? BPM_CMD_MODIFY_START_BEFORE
                          : strcmp(a, "--start-after") == 0  ? BPM_CMD_MODIFY_START_AFTER
                                                             : BPM_CMD_START;
        if (mk != BPM_CMD_START) {
            if (i + 1 >= argc) {
                fprintf(stderr, "bpmnctl: %s needs an element id\n", a);
                return 2;
            }
            if (o->n_mods == (int)(sizeof o->mods / sizeof o->mods[0])) {
                fprintf(stderr, "bpmnctl: at most %zu instructions in one modification\n",
                        sizeof o->mods / sizeof o->mods[0]);
                return 2;
            }
            o->mods[o->n_mods++] = (bpm_modification){.kind = mk, .element = argv[++i]};
            continue;
        }
        if (strcmp(a, "--vars") == 0)
            dst = &o->vars;
        else if (strcmp(a, "--business-key") == 0)
            dst = &o->business_key;
        else if (strcmp(a, "--key") == 0)
            dst = &o->key;
        else if (strcmp(a, "--definition") == 0)
            dst = &o->definition;
        else if (strcmp(a, "--state") == 0)
            dst = &o->state;
        else if (strcmp(a, "--assignee") == 0)
            dst = &o->assignee;
        else if (strcmp(a, "--group") == 0)
            dst = &o->group;
        else if (strcmp(a, "--instance") == 0)
            dst = &o->instance;
        else if (strcmp(a, "--user") == 0)
            dst = &o->user;
        else if (strcmp(a, "--name") == 0)
            dst = &o->name;
        else if (strcmp(a, "--offset") == 0)
            dst = &o->offset;
        else if (strcmp(a, "--ttl") == 0)
            dst = &o->ttl;
        if (dst) {
            if (i + 1 >= argc) {
                fprintf(stderr, "bpmnctl: %s needs a value\n", a);
                return 2;
            }
            *dst = argv[++i];
            continue;
        }
        if (a[0] == '-' && a[1]) {
            fprintf(stderr, "bpmnctl: unknown option \"%s\"\n", a);
            return 2;
        }
        if (o->n_pos < 8)
            o->pos[o->n_pos++] = a;
    }
    return 0;
}

static json_t *vars_of(const opts *o, int *status)
{
    if (!o->vars)
        return NULL;
    json_error_t je;
    json_t *v = json_loads(o->vars, 0, &je);
    if (!json_is_object(v)) {
        fprintf(stderr, "bpmnctl: --vars must be a JSON object: %s\n", v ? "not an object" : je.text);
        json_decref(v);
        *status = 2;
        return NULL;
    }
    return v;
}

/* ---- output ------------------------------------------------------------------- */

/* Runs a query and prints it as an aligned table, or as a JSON array. */
static int print_query(ctx *c, const char *sql, int n, const char *const *params)
{
    PGconn *conn = bpm_pg_conn(c->pg);
    if (c->json) {
        char *wrapped = bpm_xmalloc(strlen(sql) + 96);
        snprintf(wrapped, strlen(sql) + 96, "select coalesce(json_agg(t), '[]'::json) from (%s) t", sql);
        PGresult *res = PQexecParams(conn, wrapped, n, NULL, params, NULL, NULL, 0);
        free(wrapped);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            bpm_err err = {0};
            bpm_pg_error(c->pg, res, "query", &err);
            PQclear(res);
            return fail(&err);
        }
        printf("%s\n", PQgetvalue(res, 0, 0));
        PQclear(res);
        return 0;
    }
    PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        bpm_err err = {0};
        bpm_pg_error(c->pg, res, "query", &err);
        PQclear(res);
        return fail(&err);
    }
    int cols = PQnfields(res), rows = PQntuples(res);
    int width[32] = {0};
    for (int j = 0; j < cols && j < 32; j++) {
        width[j] = (int)strlen(PQfname(res, j));
        for (int i = 0; i < rows; i++) {
            int w = (int)strlen(PQgetvalue(res, i, j));
            if (w > width[j])
                width[j] = w > 60 ? 60 : w;
        }
    }
    for (int j = 0; j < cols && j < 32; j++)
        printf("%-*s%s", width[j], PQfname(res, j), j + 1 < cols ? "  " : "\n");
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols && j < 32; j++)
            printf("%-*.*s%s", width[j], 60, PQgetvalue(res, i, j), j + 1 < cols ? "  " : "\n");
    if (rows == 0)
        printf("(none)\n");
    PQclear(res);
    return 0;
}

/* ---- commands ------------------------------------------------------------------- */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0, got;
    char *buf = bpm_xmalloc(cap);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = bpm_xrealloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

static int cmd_deploy(ctx *c, const opts *o)
{
    if (o->n_pos < 1) {
        fprintf(stderr, "usage: bpmnctl deploy FILE... [--name NAME] [--json]\n");
        return 2;
    }
    bpm_resource res[8];
    char *bufs[8] = {0};
    int status = 0;
    for (int i = 0; i < o->n_pos; i++) {
        size_t len = 0;
        bufs[i] = read_all(o->pos[i], &len);
        if (!bufs[i]) {
            fprintf(stderr, "bpmnctl: cannot read %s\n", o->pos[i]);
            status = 1;
            goto out;
        }
        const char *base = strrchr(o->pos[i], '/');
        res[i] = (bpm_resource){base ? base + 1 : o->pos[i], bufs[i], len};
    }
    char name[256];
    if (o->name)
        snprintf(name, sizeof name, "%s", o->name);
    else {
        snprintf(name, sizeof name, "%s", res[0].name);
        char *dot = strrchr(name, '.');
        if (dot)
            *dot = '\0';
    }
    bpm_diags d;
    bpm_diags_init(&d);
    bpm_deployed out;
    bpm_err err = {0};
    bpm_rc rc = bpm_pgstore_deploy(c->store, name, "bpmnctl", res, (size_t)o->n_pos, true, now_ms(c), &out, &d, &err);
    for (size_t i = 0; i < d.n; i++)
        if (d.items[i].severity != BPM_SEV_NOTE)
            fprintf(stderr, "%s:%d: %s: [%s] %s\n", d.items[i].file ? d.items[i].file : "", d.items[i].line,
                    bpm_diags_severity_name(d.items[i].severity), d.items[i].element_id ? d.items[i].element_id : "",
                    d.items[i].message);
    bpm_diags_cleanup(&d);
    if (rc) {
        status = fail(&err);
        goto out;
    }
    if (c->json) {
        json_t *j = json_pack("{s:s, s:b, s:o}", "id", out.deployment_id, "duplicate", out.duplicate, "definitions",
                              out.definitions);
        char *s = json_dumps(j, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
        json_decref(j);
    } else {
        printf("deployment %s%s\n", out.deployment_id, out.duplicate ? " (unchanged: nothing new deployed)" : "");
        size_t i;
        json_t *d2;
        json_array_foreach(out.definitions, i, d2)
            printf("  %s  version %lld  (%s)\n", json_string_value(json_object_get(d2, "id")),
                   (long long)json_integer_value(json_object_get(d2, "version")),
                   json_string_value(json_object_get(d2, "resource")));
        json_decref(out.definitions);
    }
out:
    for (int i = 0; i < o->n_pos && i < 8; i++)
        free(bufs[i]);
    return status;
}

static int cmd_start(ctx *c, const opts *o)
{
    if (o->n_pos < 1) {
        fprintf(stderr, "usage: bpmnctl start KEY [--business-key K] [--vars JSON] [--user U]\n");
        return 2;
    }
    int status = 0;
    json_t *vars = vars_of(o, &status);
    if (status)
        return status;
    bpm_err err = {0};
    char def[256], id[BPM_ID_SIZE] = "";
    bpm_rc rc = bpm_pgstore_resolve(c->store, o->pos[0], def, &err);
    if (!rc)
        rc = bpm_runtime_start(&c->rt, def, NULL, vars, o->business_key, o->user, now_ms(c), id, &err);
    json_decref(vars);
    if (rc)
        return fail(&err);
    if (c->json)
        printf("{\"id\": \"%s\", \"definitionId\": \"%s\"}\n", id, def);
    else
        printf("%s\n", id);
    return 0;
}

/* Finds the open user task by id: instance and wait. */
static bpm_rc task_wait(ctx *c, const char *task, char *instance, uint32_t *wait, bpm_err *err)
{
    const char *p[1] = {task};
    PGresult *res = PQexecParams(bpm_pg_conn(c->pg), "select instance_id, wait_id from user_task where id = $1", 1,
                                 NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        bpm_rc rc = bpm_pg_error(c->pg, res, "look up the task", err);
        PQclear(res);
        return rc;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return bpm_err_set(err, BPM_NOT_FOUND, "no open task \"%s\" (it was completed, cancelled, or never existed)",
                           task);
    }
    snprintf(instance, BPM_ID_SIZE, "%s", PQgetvalue(res, 0, 0));
    *wait = (uint32_t)strtoul(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    return BPM_OK;
}

static int cmd_task(ctx *c, const opts *o)
{
    if (o->n_pos < 2) {
        fprintf(stderr, "usage: bpmnctl task claim|unclaim|assign|complete TASK_ID [--user U] [--vars JSON]\n");
        return 2;
    }
    const char *verb = o->pos[0], *task = o->pos[1];
    bpm_err err = {0};
    if (strcmp(verb, "claim") == 0 || strcmp(verb, "unclaim") == 0 || strcmp(verb, "assign") == 0) {
        /* claim refuses a task someone else holds (Camunda 7 TaskService.claim);
         * assign sets the assignee whoever holds it (setAssignee); the
         * task's assignment listeners run, and may refuse the change; the
         * history keeps the previous assignee */
        bool unclaim = strcmp(verb, "unclaim") == 0;
        if (!unclaim && !o->user) {
            fprintf(stderr, "bpmnctl: task %s needs --user\n", verb);
            return 2;
        }
        bpm_task_row t;
        bpm_rc rc = bpm_tasks_find(c->pg, task, &t, &err);
        if (!rc)
            rc = bpm_tasks_assign(c->store, &c->rt, &t,
                                  unclaim                          ? BPM_TASK_UNCLAIM
                                  : strcmp(verb, "assign") == 0 ? BPM_TASK_ASSIGN
                                                                : BPM_TASK_CLAIM,
                                  unclaim ? NULL : o->user, NULL, NULL, now_ms(c), &err);
        if (rc)
            return fail(&err);
        printf("task %s %s\n", task, unclaim ? "unclaimed" : strcmp(verb, "assign") == 0 ? "assigned" : "claimed");
        return 0;
    }
    if (strcmp(verb, "complete") != 0) {
        fprintf(stderr, "bpmnctl task: unknown action \"%s\"\n", verb);
        return 2;
    }
    int status = 0;
    json_t *vars = vars_of(o, &status);
    if (status)
        return status;
    char instance[BPM_ID_SIZE];
    uint32_t wait = 0;
    bpm_rc rc = task_wait(c, task, instance, &wait, &err);
    if (!rc) {
        bpm_cmd cmd = {.kind = BPM_CMD_COMPLETE, .wait = wait, .vars = vars};
        rc = bpm_runtime_run(&c->rt, instance, &cmd, o->user, now_ms(c), &err);
    }
    json_decref(vars);
    if (rc)
        return fail(&err);
    printf("task %s completed\n", task);
    return 0;
}

const char *bpm_cli_operator(const char *user)
{
    if (user)
        return user;
    const struct passwd *pw = getpwuid(geteuid());
    return pw ? pw->pw_name : NULL;
}

/* cancel, suspend, resume: the operation goes into the history, with the
 * operator, in the transaction of the command itself. */
static int cmd_instance_op(ctx *c, const opts *o, bpm_cmd_kind kind, const char *operation, const char *done)
{
    if (o->n_pos < 1) {
        fprintf(stderr, "usage: bpmnctl cancel|suspend|resume INSTANCE_ID [--user U]\n");
        return 2;
    }
    bpm_err err = {0};
    bpm_cmd cmd = {.kind = kind, .operation = operation};
    if (bpm_runtime_run(&c->rt, o->pos[0], &cmd, bpm_cli_operator(o->user), now_ms(c), &err))
        return fail(&err);
    printf("instance %s %s\n", o->pos[0], done);
    return 0;
}

/* Camunda 7's process instance modification: every instruction of the call
 * in one transaction, in the order given. */
static int cmd_modify(ctx *c, const opts *o)
{
    if (o->n_pos < 1 || o->n_mods == 0) {
        fprintf(stderr, "usage: bpmnctl modify INSTANCE_ID [--cancel ELEMENT]... [--start-before ELEMENT]..."
                        " [--start-after ELEMENT]... [--user U]\n");
        return 2;
    }
    bpm_err err = {0};
    if (bpm_runtime_modify(&c->rt, o->pos[0], o->mods, (size_t)o->n_mods, bpm_cli_operator(o->user), now_ms(c), &err))
        return fail(&err);
    printf("instance %s modified (%d instruction%s)\n", o->pos[0], o->n_mods, o->n_mods == 1 ? "" : "s");
    return 0;
}

static int cmd_correlate(ctx *c, const opts *o)
{
    if (o->n_pos < 1) {
        fprintf(stderr, "usage: bpmnctl correlate NAME [--key K] [--business-key BK] [--vars JSON] [--all]\n");
        return 2;
    }
    int status = 0;
    json_t *vars = vars_of(o, &status);
    if (status)
        return status;
    bpm_err err = {0};
    size_t n = 0;
    int64_t ttl = 0;
    if (o->ttl) {
        bpm_timer_duration d;
        if (bpm_timer_parse_duration(o->ttl, &d, &err) || bpm_timer_add(0, &d, &ttl, &err)) {
            json_decref(vars);
            return fail(&err);
        }
    }
    bpm_rc rc = bpm_runtime_correlate(&c->rt, o->pos[0], o->key, o->business_key, vars, o->all, ttl, now_ms(c), &n, &err);
    json_decref(vars);
    if (rc)
        return fail(&err);
    if (n == 0 && ttl > 0)
        printf("message %s buffered for %s: nothing waits for it yet\n", o->pos[0], o->ttl);
    else
        printf("message %s delivered to %zu target(s)\n", o->pos[0], n);
    return 0;
}

static int cmd_signal(ctx *c, const opts *o)
{
    if (o->n_pos < 1) {
        fprintf(stderr, "usage: bpmnctl signal NAME [--vars JSON]\n");
        return 2;
    }
    int status = 0;
    json_t *vars = vars_of(o, &status);
    if (status)
        return status;
    bpm_err err = {0};
    size_t n = 0;
    bpm_rc rc = bpm_runtime_signal(&c->rt, o->pos[0], vars, now_ms(c), &n, &err);
    json_decref(vars);
    if (rc)
        return fail(&err);
    printf("signal %s delivered to %zu target(s)\n", o->pos[0], n);
    return 0;
}

static int cmd_clock(ctx *c, const opts *o)
{
    if (o->offset) {
        bpm_timer_duration d;
        int64_t ms = 0;
        bpm_err err = {0};
        if (bpm_timer_parse_duration(o->offset, &d, &err) || bpm_timer_add(0, &d, &ms, &err))
            return fail(&err);
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)ms);
        const char *p[1] = {buf};
        PGresult *res = PQexecParams(bpm_pg_conn(c->pg), "update clock set offset_ms = $1::bigint", 1, NULL, p, NULL,
                                     NULL, 0);
        PQclear(res);
        /* idle job executors (bpmnd, bpmnctl worker) wake up and look at
         * what fell due under the new time */
        PQclear(PQexec(bpm_pg_conn(c->pg), "select pg_notify('bpmnd_jobs', 'clock')"));
    }
    char at[BPM_TIMER_ISO_SIZE];
    bpm_timer_format_iso(now_ms(c), at, sizeof at);
    printf("engine time %s\n", at);
    return 0;
}

static int cmd_history(ctx *c, const opts *o)
{
    if (o->n_pos < 1 || strcmp(o->pos[0], "cleanup") != 0) {
        fprintf(stderr, "usage: bpmnctl history cleanup\n");
        return 2;
    }
    bpm_err err = {0};
    size_t n = 0;
    if (bpm_pgstore_cleanup(c->store, now_ms(c), 1000, &n, &err))
        return fail(&err);
    printf("%zu ended instance(s) past their historyTimeToLive removed\n", n);
    return 0;
}

static int cmd_timers(ctx *c, const opts *o)
{
    (void)o;
    bpm_err err = {0};
    size_t fired = 0;
    if (bpm_runtime_fire_timers(&c->rt, now_ms(c), 0, &fired, &err))
        return fail(&err);
    printf("%zu timer(s) fired\n", fired);
    return 0;
}

int bpm_cli_ops(int argc, char **argv)
{
    const char *cmd = argv[0];
    opts o;
    int st = parse_opts(argc - 1, argv + 1, &o);
    if (st)
        return st;
    ctx c = {.json = o.json, .user = o.user};
    if (open_ctx(&c))
        return 1;
    int status;
    const char *p[3];
    if (strcmp(cmd, "deploy") == 0)
        status = cmd_deploy(&c, &o);
    else if (strcmp(cmd, "definitions") == 0)
        status = print_query(&c,
                             "select id, key, version, name, deployment_id, created_at from process_definition"
                             " order by key, version",
                             0, NULL);
    else if (strcmp(cmd, "start") == 0)
        status = cmd_start(&c, &o);
    else if (strcmp(cmd, "instances") == 0) {
        p[0] = o.definition;
        p[1] = o.state;
        p[2] = o.business_key;
        status = print_query(&c,
                             "select id, definition_key, business_key, case when incident then 'incident' else state"
                             " end as state, started_at, ended_at from process_instance"
                             " where ($1::text is null or definition_key = $1)"
                             " and ($2::text is null or state = $2 or ($2 = 'incident' and incident))"
                             " and ($3::text is null or business_key = $3) order by started_at, id",
                             3, p);
    } else if (strcmp(cmd, "instance") == 0) {
        if (o.n_pos < 1) {
            fprintf(stderr, "usage: bpmnctl instance ID [--json]\n");
            status = 2;
        } else {
            p[0] = o.pos[0];
            c.json = true; /* one document: tokens, variables, waits, incidents */
            status = print_query(
                &c,
                "select i.id, i.definition_id, i.business_key, i.state, i.suspended, i.incident, i.started_at,"
                " i.ended_at, i.state_json -> 'elements' as tokens,"
                " (select coalesce(jsonb_object_agg(v.name, v.value), '{}') from variable v where v.instance_id = i.id"
                " and v.name not like '\\_\\_%') as variables,"
                " (select coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'element', t.element_id, 'assignee',"
                " t.assignee, 'groups', coalesce(t.candidate_groups, '{}'))), '[]') from user_task t"
                " where t.instance_id = i.id) as tasks,"
                " (select coalesce(jsonb_agg(jsonb_build_object('id', j.id, 'kind', j.kind, 'element', j.element_id,"
                " 'due', j.due_at, 'topic', j.topic)), '[]') from job j where j.instance_id = i.id) as jobs,"
                " (select coalesce(jsonb_agg(jsonb_build_object('kind', s.kind, 'name', s.name, 'element',"
                " s.element_id)), '[]') from subscription s where s.instance_id = i.id) as subscriptions,"
                " (select coalesce(jsonb_agg(jsonb_build_object('id', n.id, 'element', n.element_id, 'message',"
                " n.message, 'created', n.created_at)), '[]') from incident n where n.instance_id = i.id and"
                " n.resolved_at is null) as incidents"
                " from process_instance i where i.id = $1",
                1, p);
        }
    } else if (strcmp(cmd, "tasks") == 0) {
        p[0] = o.assignee;
        p[1] = o.group;
        p[2] = o.instance;
        status = print_query(&c,
                             "select id, name, element_id, assignee, array_to_string(candidate_groups, ',') as groups,"
                             " instance_id, due_at, created_at from user_task"
                             " where ($1::text is null or assignee = $1)"
                             " and ($2::text is null or candidate_groups @> array[$2::text])"
                             " and ($3::text is null or instance_id = $3) order by created_at, id",
                             3, p);
    } else if (strcmp(cmd, "task") == 0)
        status = cmd_task(&c, &o);
    else if (strcmp(cmd, "correlate") == 0)
        status = cmd_correlate(&c, &o);
    else if (strcmp(cmd, "signal") == 0)
        status = cmd_signal(&c, &o);
    else if (strcmp(cmd, "incidents") == 0)
        status = print_query(&c,
                             "select id, instance_id, element_id, type, message, created_at from incident"
                             " where resolved_at is null order by created_at",
                             0, NULL);
    else if (strcmp(cmd, "cancel") == 0)
        status = cmd_instance_op(&c, &o, BPM_CMD_CANCEL, "cancel", "cancelled");
    else if (strcmp(cmd, "suspend") == 0)
        status = cmd_instance_op(&c, &o, BPM_CMD_SUSPEND, "suspend", "suspended");
    else if (strcmp(cmd, "resume") == 0)
        status = cmd_instance_op(&c, &o, BPM_CMD_RESUME, "resume", "resumed");
    else if (strcmp(cmd, "modify") == 0)
        status = cmd_modify(&c, &o);
    else if (strcmp(cmd, "clock") == 0)
        status = cmd_clock(&c, &o);
    else if (strcmp(cmd, "timers") == 0)
        status = cmd_timers(&c, &o);
    else if (strcmp(cmd, "history") == 0)
        status = cmd_history(&c, &o);
    else {
        fprintf(stderr, "bpmnctl: unknown command \"%s\"\n", cmd);
        status = 2;
    }
    close_ctx(&c);
    return status;
}
