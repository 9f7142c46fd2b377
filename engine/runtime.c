/* Commands as transactions, and the routing of effects between instances. */
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Something one step threw at other instances, handled later in the same
 * transaction (breadth first, so deep chains do not recurse). */
typedef struct routed {
    bpm_effect_kind kind;
    const char *from;    /* instance id */
    uint32_t wait;       /* START_CHILD / END: the parent's wait; WAIT_CLOSE: the closed wait */
    const char *name;    /* signal / message name, called process key, parent id */
    const char *key;     /* message key; START_CHILD business key; END error code */
    const char *message; /* END error message */
    json_t *value;
    bool error_end;
    const char *from_definition;
} routed;

typedef struct tx {
    const bpm_runtime *rt;
    int64_t now;
    const char *user;
    bpm_arena *arena; /* lives for the transaction */
    routed *queue;
    size_t head, n, cap;
    size_t steps;
    const char *incident_element; /* the element of the last incident */
    bool refuse_incidents; /* the next step fails instead of recording an incident */
} tx;

static void push(tx *t, routed r)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->queue = bpm_xrealloc(t->queue, t->cap * sizeof *t->queue);
    }
    t->queue[t->n++] = r;
}

static void tx_cleanup(tx *t)
{
    for (size_t i = t->head; i < t->n; i++)
        json_decref(t->queue[i].value);
    free(t->queue);
    bpm_arena_free(t->arena);
}

#define STORE(t) (&(t)->rt->store)

/* Runs cmd on inst (owned, consumed), saves, queues routed effects.
 * *incident receives the incident text when the step failed. */
static bpm_rc step(tx *t, bpm_inst *inst, const bpm_model *m, const bpm_cmd *cmd, const char **incident,
                   bpm_err *err)
{
    const bpm_store *s = STORE(t);
    bpm_arena *a = bpm_arena_new();
    bpm_effects fx;
    bpm_effects_init(&fx, a);
    bpm_env env = {.now_ms = t->now, .eval = t->rt->eval, .max_moves = t->rt->max_moves, .user = t->user};
    bpm_rc rc = bpm_exec_step(m, &inst, cmd, &env, &fx, err);
    if (rc)
        goto done;
    if (++t->steps > 100000) {
        rc = bpm_err_set(err, BPM_LIMIT, "one command caused more than 100000 steps across instances");
        goto done;
    }
    /* A user's assignment that its listeners refuse is refused, as Camunda
     * 7 throws from setAssignee: no incident, nothing written */
    bool assign = cmd->kind == BPM_CMD_ASSIGN;
    bool refuse = t->rt->incidents_fail || t->refuse_incidents || assign;
    t->refuse_incidents = false;
    if (refuse && fx.n == 1 && fx.items[0].kind == BPM_FX_INCIDENT) {
        const bpm_effect *e = &fx.items[0];
        rc = bpm_err_set(err, BPM_INVALID, assign ? "assignment listener at \"%s\" failed: %s" : "incident at \"%s\": %s",
                         e->node ? e->node->id : inst->process->id, e->message ? e->message : "");
        if (e->node)
            bpm_err_where(err, "%s", e->node->id);
        goto done;
    }
    if ((rc = s->ops->save(s->self, inst, &fx, t->user, err)))
        goto done;
    const char *id = bpm_arena_strdup(t->arena, inst->id);
    for (size_t i = 0; i < fx.n; i++) {
        const bpm_effect *e = &fx.items[i];
        switch (e->kind) {
        case BPM_FX_INCIDENT:
            if (incident)
                *incident = bpm_arena_sprintf(t->arena, "incident at \"%s\": %s",
                                              e->node ? e->node->id : inst->process->id, e->message ? e->message : "");
            t->incident_element = e->node ? bpm_arena_strdup(t->arena, e->node->id) : NULL;
            break;
        case BPM_FX_SIGNAL:
        case BPM_FX_MESSAGE:
        case BPM_FX_START_CHILD:
            push(t, (routed){.kind = e->kind, .from = id, .wait = e->wait, .name = bpm_arena_strdup(t->arena, e->name),
                             .key = bpm_arena_strdup(t->arena, e->key), .value = json_incref(e->value),
                             .from_definition = bpm_arena_strdup(t->arena, inst->definition_id)});
            break;
        case BPM_FX_WAIT_CLOSE:
            /* a call activity's wait closed while its called instance may
             * still run: the call was cancelled, and so is that instance
             * (only a call activity has called instances to look for) */
            if (!e->node || e->node->kind == BPM_NODE_CALL_ACTIVITY)
                push(t, (routed){.kind = BPM_FX_WAIT_CLOSE, .from = id, .wait = e->wait});
            break;
        case BPM_FX_WAIT_OPEN: {
            /* a message subscription opened: a buffered message may be for it */
            const bpm_wait *w = bpm_inst_wait(inst, e->wait);
            if (w && w->kind == BPM_WAIT_MESSAGE)
                push(t, (routed){.kind = BPM_FX_WAIT_OPEN, .from = id, .wait = w->id,
                                 .name = bpm_arena_strdup(t->arena, w->name), .key = bpm_arena_strdup(t->arena, w->key),
                                 .message = bpm_arena_strdup(t->arena, inst->business_key)});
            break;
        }
        case BPM_FX_END:
            if (inst->parent_instance)
                push(t, (routed){.kind = BPM_FX_END, .from = id, .wait = inst->parent_wait,
                                 .name = bpm_arena_strdup(t->arena, inst->parent_instance),
                                 .key = bpm_arena_strdup(t->arena, e->name),
                                 .message = bpm_arena_strdup(t->arena, e->key), .value = json_incref(e->value),
                                 .error_end = e->message && strcmp(e->message, "error") == 0});
            break;
        default:
            break;
        }
    }
done:
    bpm_effects_cleanup(&fx);
    bpm_arena_free(a);
    bpm_inst_free(inst);
    return rc;
}

static bpm_rc step_id(tx *t, const char *instance_id, const bpm_cmd *cmd, const char **incident, bpm_err *err)
{
    const bpm_store *s = STORE(t);
    bpm_inst *inst = NULL;
    bpm_rc rc = s->ops->lock(s->self, instance_id, &inst, err);
    if (rc)
        return rc;
    const bpm_model *m = NULL;
    const bpm_process *p = NULL;
    if ((rc = s->ops->model(s->self, inst->definition_id, &m, &p, err))) {
        bpm_inst_free(inst);
        return rc;
    }
    return step(t, inst, m, cmd, incident, err);
}

static bpm_rc start_in(tx *t, const char *definition_id, const char *start_event, const json_t *vars,
                       const char *business_key, const char *parent, uint32_t parent_wait, char *out_id,
                       const char **incident, bpm_err *err)
{
    const bpm_store *s = STORE(t);
    const bpm_model *m = NULL;
    const bpm_process *p = NULL;
    bpm_rc rc = s->ops->model(s->self, definition_id, &m, &p, err);
    if (rc)
        return rc;
    const bpm_node *start = NULL;
    if (start_event && !(start = bpm_model_find_node(p, start_event)))
        return bpm_err_set(err, BPM_NOT_FOUND, "start event \"%s\" is not in process \"%s\"", start_event, p->id);
    char id[BPM_ID_SIZE];
    s->ops->new_id(s->self, id);
    bpm_inst *inst = bpm_inst_new(p, id, business_key, definition_id);
    if (parent) {
        inst->parent_instance = bpm_arena_strdup(inst->arena, parent);
        inst->parent_wait = parent_wait;
    }
    if ((rc = s->ops->create(s->self, inst, t->user, err))) {
        bpm_inst_free(inst);
        return rc;
    }
    if (out_id)
        snprintf(out_id, BPM_ID_SIZE, "%s", id);
    bpm_cmd cmd = {.kind = BPM_CMD_START, .node = start, .vars = (json_t *)vars};
    return step(t, inst, m, &cmd, incident, err);
}

/* Waits matching a lookup, in the transaction's arena. */
static bpm_rc find(tx *t, const bpm_find *q, bpm_wait_ref **out, size_t *n, bpm_err *err)
{
    const bpm_store *s = STORE(t);
    return s->ops->find(s->self, q, out, n, t->arena, err);
}

static bpm_rc deliver_start(tx *t, bpm_event_kind kind, const char *name, const json_t *vars,
                            const char *business_key, size_t *count, bpm_err *err)
{
    const bpm_store *s = STORE(t);
    bpm_start_trigger *st = NULL;
    size_t n = 0;
    bpm_rc rc = s->ops->start_triggers(s->self, kind, name, &st, &n, t->arena, err);
    for (size_t i = 0; !rc && i < n; i++) {
        rc = start_in(t, st[i].definition_id, st[i].element, vars, business_key, NULL, 0, NULL, NULL, err);
        if (!rc && count)
            (*count)++;
        if (kind == BPM_EVENT_MESSAGE)
            break; /* a message starts one process */
    }
    return rc;
}

static bpm_rc route(tx *t, bpm_err *err)
{
    bpm_rc rc = BPM_OK;
    while (!rc && t->head < t->n) {
        routed r = t->queue[t->head++];
        switch (r.kind) {
        case BPM_FX_START_CHILD: {
            char def[256];
            const bpm_store *s = STORE(t);
            if ((rc = s->ops->latest(s->self, r.name ? r.name : "", def, err)))
                break;
            rc = start_in(t, def, NULL, r.value, r.key, r.from, r.wait, NULL, NULL, err);
            break;
        }
        case BPM_FX_END: {
            bpm_cmd cmd = {.kind = r.error_end ? BPM_CMD_ERROR : BPM_CMD_COMPLETE, .wait = r.wait, .vars = r.value,
                           .code = r.key, .message = r.message};
            rc = step_id(t, r.name, &cmd, NULL, err);
            if (rc == BPM_NOT_FOUND || rc == BPM_CONFLICT)
                rc = BPM_OK; /* the caller moved on (cancelled, or its call already ended) */
            break;
        }
        case BPM_FX_WAIT_CLOSE: {
            bpm_find q = {.kind = BPM_FIND_CHILDREN, .instance_id = r.from, .wait = r.wait};
            bpm_wait_ref *refs = NULL;
            size_t n = 0;
            if ((rc = find(t, &q, &refs, &n, err)))
                break;
            for (size_t i = 0; !rc && i < n; i++) {
                bpm_cmd cmd = {.kind = BPM_CMD_CANCEL};
                rc = step_id(t, refs[i].instance_id, &cmd, NULL, err);
                if (rc == BPM_CONFLICT)
                    rc = BPM_OK; /* it had ended already */
            }
            break;
        }
        case BPM_FX_WAIT_OPEN: {
            const bpm_store *s = STORE(t);
            json_t *vars = NULL;
            if ((rc = s->ops->take_buffered(s->self, r.name ? r.name : "", r.key, r.message, t->now, &vars, err)))
                break;
            if (vars) {
                bpm_cmd cmd = {.kind = BPM_CMD_TRIGGER, .wait = r.wait, .vars = vars};
                rc = step_id(t, r.from, &cmd, NULL, err);
                json_decref(vars);
            }
            break;
        }
        case BPM_FX_SIGNAL: {
            bpm_find q = {.kind = BPM_FIND_SIGNAL, .name = r.name ? r.name : ""};
            bpm_wait_ref *refs = NULL;
            size_t n = 0;
            if ((rc = find(t, &q, &refs, &n, err)))
                break;
            for (size_t i = 0; !rc && i < n; i++) {
                if (strcmp(refs[i].instance_id, r.from) == 0)
                    continue; /* the thrower's own catchers fired inside its step */
                bpm_cmd cmd = {.kind = BPM_CMD_TRIGGER, .wait = refs[i].wait, .vars = r.value};
                rc = step_id(t, refs[i].instance_id, &cmd, NULL, err);
                if (rc == BPM_NOT_FOUND || rc == BPM_CONFLICT)
                    rc = BPM_OK; /* an earlier delivery in this broadcast closed it */
            }
            if (!rc)
                rc = deliver_start(t, BPM_EVENT_SIGNAL, r.name ? r.name : "", r.value, NULL, NULL, err);
            break;
        }
        case BPM_FX_MESSAGE: {
            bpm_find q = {.kind = BPM_FIND_MESSAGE, .name = r.name ? r.name : "", .key = r.key, .limit = 1};
            bpm_wait_ref *refs = NULL;
            size_t n = 0;
            if ((rc = find(t, &q, &refs, &n, err)))
                break;
            if (n) {
                bpm_cmd cmd = {.kind = BPM_CMD_TRIGGER, .wait = refs[0].wait, .vars = r.value};
                rc = step_id(t, refs[0].instance_id, &cmd, NULL, err);
            } else {
                rc = deliver_start(t, BPM_EVENT_MESSAGE, r.name ? r.name : "", r.value, NULL, NULL, err);
            }
            break;
        }
        default:
            break;
        }
        json_decref(r.value);
        t->queue[t->head - 1].value = NULL;
    }
    return rc;
}

/* ---- transactions -------------------------------------------------------------- */

typedef bpm_rc (*body_fn)(tx *t, void *arg, bpm_err *err);

/* Runs body in a transaction with routing; retries a bounded number of times
 * when the store reports a conflict (deadlock, serialisation failure). */
static bpm_rc transact(const bpm_runtime *rt, int64_t now, const char *user, body_fn body, void *arg, bpm_err *err)
{
    const bpm_store *s = &rt->store;
    bpm_rc rc = BPM_OK;
    for (int attempt = 0; attempt < 3; attempt++) {
        tx t = {.rt = rt, .now = now, .user = user, .arena = bpm_arena_new()};
        rc = s->ops->begin(s->self, err);
        if (!rc)
            rc = body(&t, arg, err);
        if (!rc)
            rc = route(&t, err);
        if (!rc)
            rc = s->ops->commit(s->self, err);
        else
            s->ops->rollback(s->self);
        tx_cleanup(&t);
        /* an ended instance, a task someone else holds: the same on every
         * attempt, unlike a deadlock */
        if (rc != BPM_CONFLICT || (err && (strstr(err->msg, "has ended") || strstr(err->msg, "already claimed"))))
            break;
    }
    return rc;
}

typedef struct start_args {
    const char *definition_id, *start_event, *business_key;
    const json_t *vars;
    char *out_id;
    const char *incident;
} start_args;

static bpm_rc start_body(tx *t, void *arg, bpm_err *err)
{
    start_args *a = arg;
    a->incident = NULL;
    bpm_rc rc = start_in(t, a->definition_id, a->start_event, a->vars, a->business_key, NULL, 0, a->out_id,
                         &a->incident, err);
    if (!rc && a->incident) {
        rc = bpm_err_set(err, BPM_INVALID, "%s", a->incident); /* nothing of the failed start is kept */
        if (t->incident_element)
            bpm_err_where(err, "%s", t->incident_element);
    }
    return rc;
}

bpm_rc bpm_runtime_start(const bpm_runtime *rt, const char *definition_id, const char *start_event, const json_t *vars,
                         const char *business_key, const char *user, int64_t now_ms, char *out_id, bpm_err *err)
{
    start_args a = {definition_id, start_event, business_key, vars, out_id, NULL};
    return transact(rt, now_ms, user, start_body, &a, err);
}

typedef struct run_args {
    const char *instance_id;
    const bpm_cmd *cmd;
    char incident[640];
} run_args;

static bpm_rc run_body(tx *t, void *arg, bpm_err *err)
{
    run_args *a = arg;
    const char *incident = NULL;
    bpm_rc rc = step_id(t, a->instance_id, a->cmd, &incident, err);
    if (!rc && incident)
        snprintf(a->incident, sizeof a->incident, "%s", incident);
    return rc;
}

bpm_rc bpm_runtime_run(const bpm_runtime *rt, const char *instance_id, const bpm_cmd *cmd, const char *user,
                       int64_t now_ms, bpm_err *err)
{
    run_args a = {.instance_id = instance_id, .cmd = cmd};
    bpm_rc rc = transact(rt, now_ms, user, run_body, &a, err);
    if (!rc && a.incident[0])
        rc = bpm_err_set(err, BPM_INVALID, "%s", a.incident); /* recorded; the instance is as it was */
    return rc;
}

bpm_rc bpm_runtime_run_all(const bpm_runtime *rt, const bpm_runtime_item *items, size_t n, size_t *failed,
                           bpm_err *err)
{
    const bpm_store *s = &rt->store;
    tx t = {.rt = rt, .arena = bpm_arena_new()};
    bpm_rc rc = s->ops->begin(s->self, err);
    if (!rc && s->ops->lock_many && n > 1) {
        const char **ids = bpm_arena_calloc(t.arena, n, sizeof *ids);
        for (size_t k = 0; k < n; k++)
            ids[k] = items[k].instance_id;
        rc = s->ops->lock_many(s->self, ids, n, err);
    }
    size_t i = 0;
    for (; !rc && i < n; i++) {
        run_args a = {.instance_id = items[i].instance_id, .cmd = &items[i].cmd};
        t.now = items[i].now_ms;
        rc = run_body(&t, &a, err);
        if (!rc)
            rc = route(&t, err);
        if (!rc && a.incident[0])
            rc = bpm_err_set(err, BPM_INVALID, "%s", a.incident);
    }
    if (!rc)
        rc = s->ops->commit(s->self, err);
    else
        s->ops->rollback(s->self);
    if (failed)
        *failed = rc && i ? i - 1 : 0;
    tx_cleanup(&t);
    return rc;
}

typedef struct modify_args {
    const char *instance_id;
    const bpm_modification *mods;
    size_t n;
} modify_args;

/* Element ids become nodes of the locked instance's process, so an unknown
 * one is refused before anything ran. */
static bpm_rc modify_body(tx *t, void *arg, bpm_err *err)
{
    modify_args *a = arg;
    const bpm_store *s = STORE(t);
    bpm_inst *inst = NULL;
    bpm_rc rc = s->ops->lock(s->self, a->instance_id, &inst, err);
    if (rc)
        return rc;
    const bpm_model *m = NULL;
    const bpm_process *p = NULL;
    if ((rc = s->ops->model(s->self, inst->definition_id, &m, &p, err))) {
        bpm_inst_free(inst);
        return rc;
    }
    bpm_cmd *ins = bpm_arena_calloc(t->arena, a->n ? a->n : 1, sizeof *ins);
    for (size_t i = 0; i < a->n; i++) {
        const bpm_modification *mo = &a->mods[i];
        const bpm_node *n = mo->element ? bpm_model_find_node(inst->process, mo->element) : NULL;
        if (!n) {
            rc = bpm_err_set(err, BPM_NOT_FOUND, "element \"%s\" is not in process \"%s\"",
                             mo->element ? mo->element : "", inst->process->id);
            bpm_inst_free(inst);
            return rc;
        }
        ins[i] = (bpm_cmd){.kind = mo->kind, .node = n, .vars = mo->vars};
    }
    bpm_cmd cmd = {.kind = BPM_CMD_MODIFY, .instructions = ins, .n_instructions = a->n, .operation = "modify"};
    /* an operator's instruction that cannot run is refused, as Camunda 7
     * refuses the whole modification: no incident is left behind */
    t->refuse_incidents = true;
    return step(t, inst, m, &cmd, NULL, err);
}

bpm_rc bpm_runtime_modify(const bpm_runtime *rt, const char *instance_id, const bpm_modification *mods, size_t n,
                          const char *user, int64_t now_ms, bpm_err *err)
{
    modify_args a = {.instance_id = instance_id, .mods = mods, .n = n};
    return transact(rt, now_ms, user, modify_body, &a, err);
}

typedef struct corr_args {
    const char *name, *key, *business_key;
    const json_t *vars;
    bool all;
    int64_t ttl_ms;
    size_t delivered;
} corr_args;

static bpm_rc corr_body(tx *t, void *arg, bpm_err *err)
{
    corr_args *a = arg;
    a->delivered = 0;
    bpm_find q = {.kind = BPM_FIND_MESSAGE, .name = a->name, .key = a->key, .business_key = a->business_key,
                  .limit = a->all ? 0 : 2};
    bpm_wait_ref *refs = NULL;
    size_t n = 0;
    bpm_rc rc = find(t, &q, &refs, &n, err);
    if (rc)
        return rc;
    if (!a->all && n > 1)
        return bpm_err_set(err, BPM_CONFLICT,
                           "cannot correlate message \"%s\" to a single execution: %zu executions match", a->name, n);
    for (size_t i = 0; !rc && i < n; i++) {
        bpm_cmd cmd = {.kind = BPM_CMD_TRIGGER, .wait = refs[i].wait, .vars = (json_t *)a->vars};
        rc = step_id(t, refs[i].instance_id, &cmd, NULL, err);
        a->delivered++;
    }
    if (!rc && (a->all || n == 0))
        rc = deliver_start(t, BPM_EVENT_MESSAGE, a->name, a->vars, a->business_key, &a->delivered, err);
    if (!rc && a->delivered == 0 && a->ttl_ms > 0) {
        const bpm_store *s = STORE(t);
        return s->ops->buffer_message(s->self, a->name, a->key, a->business_key, a->vars, t->now + a->ttl_ms, err);
    }
    if (!rc && !a->all && a->delivered == 0)
        rc = bpm_err_set(err, BPM_NOT_FOUND,
                         "cannot correlate message \"%s\": no process definition or execution matches the parameters",
                         a->name);
    return rc;
}

bpm_rc bpm_runtime_correlate(const bpm_runtime *rt, const char *name, const char *key, const char *business_key,
                             const json_t *vars, bool all, int64_t ttl_ms, int64_t now_ms, size_t *delivered,
                             bpm_err *err)
{
    corr_args a = {name, key, business_key, vars, all, ttl_ms, 0};
    bpm_rc rc = transact(rt, now_ms, NULL, corr_body, &a, err);
    if (delivered)
        *delivered = rc ? 0 : a.delivered;
    return rc;
}

typedef struct sig_args {
    const char *name;
    const json_t *vars;
    size_t delivered;
} sig_args;

static bpm_rc sig_body(tx *t, void *arg, bpm_err *err)
{
    sig_args *a = arg;
    a->delivered = 0;
    bpm_find q = {.kind = BPM_FIND_SIGNAL, .name = a->name};
    bpm_wait_ref *refs = NULL;
    size_t n = 0;
    bpm_rc rc = find(t, &q, &refs, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        bpm_cmd cmd = {.kind = BPM_CMD_TRIGGER, .wait = refs[i].wait, .vars = (json_t *)a->vars};
        rc = step_id(t, refs[i].instance_id, &cmd, NULL, err);
        if (rc == BPM_NOT_FOUND || rc == BPM_CONFLICT)
            rc = BPM_OK;
        else
            a->delivered++;
    }
    if (!rc)
        rc = deliver_start(t, BPM_EVENT_SIGNAL, a->name, a->vars, NULL, &a->delivered, err);
    return rc;
}

bpm_rc bpm_runtime_signal(const bpm_runtime *rt, const char *name, const json_t *vars, int64_t now_ms,
                          size_t *delivered, bpm_err *err)
{
    sig_args a = {name, vars, 0};
    bpm_rc rc = transact(rt, now_ms, NULL, sig_body, &a, err);
    if (delivered)
        *delivered = rc ? 0 : a.delivered;
    return rc;
}

typedef struct timer_args {
    const char *instance_id;
    uint32_t wait;
} timer_args;

static bpm_rc timer_body(tx *t, void *arg, bpm_err *err)
{
    timer_args *a = arg;
    bpm_cmd cmd = {.kind = BPM_CMD_TRIGGER, .wait = a->wait};
    bpm_rc rc = step_id(t, a->instance_id, &cmd, NULL, err);
    return rc == BPM_NOT_FOUND ? BPM_OK : rc; /* fired or cancelled meanwhile */
}

bpm_rc bpm_runtime_fire_timers(const bpm_runtime *rt, int64_t now_ms, size_t max, size_t *fired, bpm_err *err)
{
    size_t count = 0, tried = 0;
    bpm_rc rc = BPM_OK;
    const bpm_store *s = &rt->store;
    bpm_arena *seen_arena = bpm_arena_new();
    bpm_wait_ref *seen = NULL; /* timers tried in this call: a failing one is not retried here */
    size_t cap_seen = 0;
    for (;;) {
        if (max && count >= max)
            break;
        bpm_arena *a = bpm_arena_new();
        bpm_find q = {.kind = BPM_FIND_TIMER_DUE, .now_ms = now_ms, .limit = tried + 1};
        bpm_wait_ref *refs = NULL;
        size_t n = 0;
        if ((rc = s->ops->begin(s->self, err)) == BPM_OK) {
            rc = s->ops->find(s->self, &q, &refs, &n, a, err);
            s->ops->rollback(s->self);
        }
        const bpm_wait_ref *next = NULL;
        for (size_t i = 0; !rc && i < n && !next; i++) {
            bool done = false;
            for (size_t k = 0; k < tried && !done; k++)
                done = seen[k].wait == refs[i].wait && strcmp(seen[k].instance_id, refs[i].instance_id) == 0;
            if (!done)
                next = &refs[i];
        }
        if (rc || !next) {
            bpm_arena_free(a);
            break;
        }
        if (tried == cap_seen) {
            size_t ncap = cap_seen ? cap_seen * 2 : 16;
            seen = bpm_arena_grow(seen_arena, seen, tried, ncap, sizeof *seen);
            cap_seen = ncap;
        }
        seen[tried].instance_id = bpm_arena_strdup(seen_arena, next->instance_id);
        seen[tried++].wait = next->wait;
        /* a timer fires at its due time, not at the time it is noticed */
        int64_t at = next->due_ms > 0 && next->due_ms < now_ms ? next->due_ms : now_ms;
        timer_args ta = {next->instance_id, next->wait};
        rc = transact(rt, at, NULL, timer_body, &ta, err);
        bpm_arena_free(a);
        if (rc)
            break;
        count++;
    }
    bpm_arena_free(seen_arena);
    if (fired)
        *fired = count;
    return rc;
}
