/* User tasks changing hands: the engine's way when the task listens to its
 * assignments, one statement otherwise (see tasks.h). */
#include "tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"
#include "timer.h"

static void copy(char *dst, size_t n, const PGresult *res, int col)
{
    snprintf(dst, n, "%s", PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col));
}

bpm_rc bpm_tasks_find(bpm_pg *pg, const char *id, bpm_task_row *out, bpm_err *err)
{
    const char *p[1] = {id};
    PGresult *res = NULL;
    bpm_rc rc = bpm_pg_query(pg,
                             "select id, instance_id, wait_id, definition_id, element_id, assignee, owner"
                             " from user_task where id = $1",
                             1, p, NULL, NULL, &res, "look up the task", err);
    if (rc)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return bpm_err_set(err, BPM_NOT_FOUND, "no open task \"%s\" (it was completed, cancelled, or never existed)",
                           id);
    }
    memset(out, 0, sizeof *out);
    copy(out->id, sizeof out->id, res, 0);
    copy(out->instance_id, sizeof out->instance_id, res, 1);
    out->wait = (uint32_t)strtoul(PQgetvalue(res, 0, 2), NULL, 10);
    copy(out->definition_id, sizeof out->definition_id, res, 3);
    copy(out->element_id, sizeof out->element_id, res, 4);
    out->has_assignee = !PQgetisnull(res, 0, 5);
    copy(out->assignee, sizeof out->assignee, res, 5);
    out->has_owner = !PQgetisnull(res, 0, 6);
    copy(out->owner, sizeof out->owner, res, 6);
    PQclear(res);
    return BPM_OK;
}

static const char *const change_names[] = {"claim", "unclaim", "assign", "delegate", "resolve"};

/* Whether the task's element has assignment listeners: the model comes from
 * the store's cache (read once per definition and session). */
static bpm_rc listens(const bpm_runtime *rt, const bpm_task_row *t, bool *out, bpm_err *err)
{
    const bpm_model *m = NULL;
    const bpm_process *p = NULL;
    bpm_rc rc = rt->store.ops->model(rt->store.self, t->definition_id, &m, &p, err);
    if (rc)
        return rc;
    *out = bpm_model_task_listens(bpm_model_find_node(p, t->element_id), "assignment");
    return BPM_OK;
}

/* The row and its history row in one statement, as the store writes them
 * for BPM_FX_ASSIGN (pgstore.c), by task id: $1 task, $2 the new assignee,
 * $3 the history kind, $4 the acting user, $5 the previous assignee, $6 the
 * time, $7 whether to write the history row. A claim takes only a free task
 * (a concurrent claim loses). */
#define FAST_SQL(set, cond)                                                                               \
    "with t as (update user_task set " set ", updated_at = now() where id = $1" cond                    \
    " returning instance_id, element_id),"                                                              \
    " h as (insert into history (at, instance_id, kind, element_id, element_type, user_id, detail)"     \
    " select $6::timestamptz, instance_id, $3, element_id, 'userTask', coalesce($4, $2),"               \
    " jsonb_build_object('task', $1::text, 'user', $2::text, 'previous', $5::text) from t where $7::boolean)" \
    " select count(*) from t"

static const char *const fast_sql[] = {
    FAST_SQL("assignee = $2", " and assignee is null"),
    FAST_SQL("assignee = $2", ""),
    FAST_SQL("assignee = $2", ""),
    FAST_SQL("owner = coalesce(owner, assignee), assignee = $2, delegation_state = 'PENDING'", ""),
    FAST_SQL("assignee = $2, delegation_state = 'RESOLVED'", ""),
};

static bpm_rc fast(bpm_pgstore *s, const bpm_task_row *t, bpm_task_change change, const char *user,
                   const char *actor, int64_t now_ms, bpm_err *err)
{
    char kind[32], at[BPM_TIMER_ISO_SIZE];
    snprintf(kind, sizeof kind, "task-%s", change_names[change]);
    if (!bpm_timer_format_iso(now_ms, at, sizeof at))
        snprintf(at, sizeof at, "1970-01-01T00:00:00.000Z");
    const char *p[7] = {t->id, user, kind, actor, t->has_assignee ? t->assignee : NULL, at,
                        s->history == BPM_HISTORY_NONE ? "false" : "true"};
    PGresult *res = NULL;
    bpm_rc rc = bpm_pg_query(s->pg, fast_sql[change], 7, p, NULL, NULL, &res, "change the task's assignee", err);
    if (rc)
        return rc;
    bool done = strcmp(PQgetvalue(res, 0, 0), "1") == 0;
    PQclear(res);
    if (done)
        return BPM_OK;
    if (change == BPM_TASK_CLAIM)
        return bpm_err_set(err, BPM_CONFLICT, "task \"%s\" is already claimed by someone else", t->id);
    return bpm_err_set(err, BPM_NOT_FOUND, "no open task \"%s\" (it was completed or cancelled)", t->id);
}

bpm_rc bpm_tasks_assign(bpm_pgstore *s, const bpm_runtime *rt, const bpm_task_row *t, bpm_task_change change,
                        const char *user, const json_t *vars, const char *actor, int64_t now_ms, bpm_err *err)
{
    if ((unsigned)change > BPM_TASK_RESOLVE)
        return bpm_err_set(err, BPM_BAD_REQUEST, "unknown kind of assignment %d", (int)change);
    if (change == BPM_TASK_UNCLAIM)
        user = NULL;
    else if (change == BPM_TASK_RESOLVE)
        user = t->has_owner ? t->owner : NULL;
    else if (change == BPM_TASK_CLAIM && !user)
        change = BPM_TASK_UNCLAIM; /* Camunda 7: claim(task, null) */
    bool has_vars = vars && json_object_size(vars);
    if (change == BPM_TASK_CLAIM && t->has_assignee && !has_vars) {
        /* Camunda 7 TaskService.claim: another holder is a conflict; the
         * holder claiming again changes nothing */
        if (strcmp(t->assignee, user) != 0)
            return bpm_err_set(err, BPM_CONFLICT, "task \"%s\" is already claimed by %s", t->id, t->assignee);
        return BPM_OK;
    }
    bool engine = has_vars;
    if (!engine) {
        bpm_rc rc = listens(rt, t, &engine, err);
        if (rc)
            return rc;
    }
    if (!engine)
        return fast(s, t, change, user, actor, now_ms, err);
    bpm_cmd cmd = {.kind = BPM_CMD_ASSIGN,
                   .wait = t->wait,
                   .assignee = user,
                   .change = change_names[change],
                   .claim = change == BPM_TASK_CLAIM,
                   .vars = (json_t *)vars};
    bpm_rc rc = bpm_runtime_run(rt, t->instance_id, &cmd, actor ? actor : user, now_ms, err);
    if (rc == BPM_NOT_FOUND && err && strstr(err->msg, "has no wait"))
        bpm_err_set(err, BPM_NOT_FOUND, "no open task \"%s\" (it was completed or cancelled)", t->id);
    return rc;
}
