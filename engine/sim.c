/* The in-memory runtime: applies step effects across instances the way the
 * durable store does, with a virtual clock. */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

typedef struct pending {
    bpm_effect_kind kind;
    size_t from;      /* instance index that caused it */
    uint32_t wait;    /* START_CHILD: the parent's wait */
    const char *name; /* process key / signal / message name (sim arena) */
    const char *key;
    const char *extra; /* error message for END with error */
    json_t *value;
    bool error_end;
} pending;

struct bpm_sim {
    const bpm_model *m;
    const bpm_evaluator *ev;
    int64_t now;
    bpm_arena *arena; /* trace strings, ids */
    bpm_inst **insts;
    size_t n_insts, cap_insts;
    bpm_sim_event *trace;
    size_t n_trace, cap_trace;
    size_t incidents;
    unsigned long next_instance;
    pending *queue;
    size_t n_queue, cap_queue;
};

bpm_sim *bpm_sim_new(const bpm_model *m, const bpm_evaluator *ev, int64_t now_ms)
{
    bpm_sim *s = bpm_xcalloc(1, sizeof *s);
    s->m = m;
    s->ev = ev;
    s->now = now_ms;
    s->arena = bpm_arena_new();
    return s;
}

void bpm_sim_free(bpm_sim *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_insts; i++)
        bpm_inst_free(s->insts[i]);
    for (size_t i = 0; i < s->n_queue; i++)
        json_decref(s->queue[i].value);
    free(s->insts);
    free(s->trace);
    free(s->queue);
    bpm_arena_free(s->arena);
    free(s);
}

int64_t bpm_sim_now(const bpm_sim *s) { return s->now; }
const bpm_sim_event *bpm_sim_trace(const bpm_sim *s, size_t *n)
{
    *n = s->n_trace;
    return s->trace;
}
const bpm_inst *bpm_sim_main(const bpm_sim *s) { return s->n_insts ? s->insts[0] : NULL; }
size_t bpm_sim_count(const bpm_sim *s) { return s->n_insts; }
const bpm_inst *bpm_sim_instance(const bpm_sim *s, size_t i) { return i < s->n_insts ? s->insts[i] : NULL; }
size_t bpm_sim_incidents(const bpm_sim *s) { return s->incidents; }

static void trace_add(bpm_sim *s, bpm_effect_kind kind, const char *inst, const bpm_node *n, const char *detail,
                      int64_t at)
{
    if (s->n_trace == s->cap_trace) {
        s->cap_trace = s->cap_trace ? s->cap_trace * 2 : 64;
        s->trace = bpm_xrealloc(s->trace, s->cap_trace * sizeof *s->trace);
    }
    bpm_sim_event *e = &s->trace[s->n_trace++];
    e->kind = kind;
    e->instance = inst ? bpm_arena_strdup(s->arena, inst) : NULL; /* outlives the instance version */
    e->element = n ? n->id : NULL;
    e->type = n ? bpm_model_kind_name(n->kind) : "process";
    e->detail = detail ? bpm_arena_strdup(s->arena, detail) : NULL;
    e->at_ms = at;
}

static void queue_add(bpm_sim *s, pending p)
{
    if (s->n_queue == s->cap_queue) {
        s->cap_queue = s->cap_queue ? s->cap_queue * 2 : 16;
        s->queue = bpm_xrealloc(s->queue, s->cap_queue * sizeof *s->queue);
    }
    s->queue[s->n_queue++] = p;
}

static size_t index_of(const bpm_sim *s, const bpm_inst *inst)
{
    for (size_t i = 0; i < s->n_insts; i++)
        if (s->insts[i] == inst)
            return i;
    return (size_t)-1;
}

/* Runs one command on instance i and applies its effects. */
static bpm_rc step(bpm_sim *s, size_t i, const bpm_cmd *cmd, bpm_err *err)
{
    bpm_arena *a = bpm_arena_new();
    bpm_effects fx;
    bpm_effects_init(&fx, a);
    bpm_env env = {.now_ms = s->now, .eval = s->ev};
    bpm_inst *inst = s->insts[i];
    bpm_rc rc = bpm_exec_step(s->m, &inst, cmd, &env, &fx, err);
    if (rc == BPM_OK) {
        s->insts[i] = inst;
        const char *id = inst->id;
        for (size_t k = 0; k < fx.n; k++) {
            bpm_effect *e = &fx.items[k];
            switch (e->kind) {
            case BPM_FX_ENTER:
            case BPM_FX_LEAVE:
            case BPM_FX_CANCEL:
                trace_add(s, e->kind, id, e->node, NULL, e->at_ms);
                break;
            case BPM_FX_TAKE:
                trace_add(s, e->kind, id, e->node, e->flow ? e->flow->id : NULL, e->at_ms);
                break;
            case BPM_FX_INCIDENT:
                s->incidents++;
                trace_add(s, e->kind, id, e->node, e->message, e->at_ms);
                break;
            case BPM_FX_END:
                trace_add(s, e->kind, id, NULL, e->message, e->at_ms);
                if (inst->parent_instance) {
                    pending p = {.kind = BPM_FX_END, .from = i, .wait = inst->parent_wait,
                                 .name = bpm_arena_strdup(s->arena, inst->parent_instance),
                                 .key = bpm_arena_strdup(s->arena, e->name),
                                 .extra = bpm_arena_strdup(s->arena, e->key),
                                 .value = json_incref(e->value),
                                 .error_end = e->message && strcmp(e->message, "error") == 0};
                    queue_add(s, p);
                }
                break;
            case BPM_FX_SIGNAL:
            case BPM_FX_MESSAGE:
            case BPM_FX_START_CHILD: {
                pending p = {.kind = e->kind, .from = i, .wait = e->wait, .name = bpm_arena_strdup(s->arena, e->name),
                             .key = bpm_arena_strdup(s->arena, e->key), .value = json_incref(e->value)};
                queue_add(s, p);
                break;
            }
            case BPM_FX_ESCALATION:
                trace_add(s, e->kind, id, e->node, e->name, e->at_ms);
                break;
            case BPM_FX_WAIT_CLOSE: {
                /* a call activity's wait closed while its called instance still
                 * runs: the call activity was cancelled, and so is that instance */
                pending p = {.kind = BPM_FX_WAIT_CLOSE, .from = i, .wait = e->wait};
                queue_add(s, p);
                break;
            }
            default:
                break;
            }
        }
        if (fx.n && fx.items[fx.n - 1].kind == BPM_FX_INCIDENT && fx.n == 1)
            rc = bpm_err_set(err, BPM_INVALID, "incident at \"%s\": %s",
                             fx.items[0].node ? fx.items[0].node->id : s->insts[i]->process->id, fx.items[0].message);
    }
    bpm_effects_cleanup(&fx);
    bpm_arena_free(a);
    return rc;
}

static size_t new_instance(bpm_sim *s, const bpm_process *p, const char *business_key)
{
    char id[32];
    snprintf(id, sizeof id, "i%lu", ++s->next_instance);
    bpm_inst *inst = bpm_inst_new(p, id, business_key, p->id);
    if (s->n_insts == s->cap_insts) {
        s->cap_insts = s->cap_insts ? s->cap_insts * 2 : 8;
        s->insts = bpm_xrealloc(s->insts, s->cap_insts * sizeof *s->insts);
    }
    s->insts[s->n_insts] = inst;
    return s->n_insts++;
}

static const bpm_process *find_process(const bpm_sim *s, const char *id)
{
    for (size_t i = 0; i < s->m->n_processes; i++) {
        const bpm_process *p = &s->m->processes[i];
        if (id ? strcmp(p->id, id) == 0 : p->executable)
            return p;
    }
    return !id && s->m->n_processes ? &s->m->processes[0] : NULL;
}

static void drain_queue(bpm_sim *s);

static bpm_rc start_at(bpm_sim *s, const bpm_process *p, const bpm_node *start, const json_t *vars,
                       const char *business_key, size_t *out, bpm_err *err)
{
    size_t i = new_instance(s, p, business_key);
    bpm_cmd cmd = {.kind = BPM_CMD_START, .node = start, .vars = (json_t *)vars};
    bpm_rc rc = step(s, i, &cmd, err);
    if (out)
        *out = i;
    return rc;
}

bpm_rc bpm_sim_start(bpm_sim *s, const char *process_id, const char *start_event, const json_t *vars,
                     const char *business_key, const char **out_id, bpm_err *err)
{
    const bpm_process *p = find_process(s, process_id);
    if (!p)
        return bpm_err_set(err, BPM_NOT_FOUND, "process \"%s\" is not in the diagram", process_id ? process_id : "");
    const bpm_node *start = NULL;
    if (start_event) {
        start = bpm_model_find_node(p, start_event);
        if (!start)
            return bpm_err_set(err, BPM_NOT_FOUND, "start event \"%s\" is not in process \"%s\"", start_event, p->id);
    }
    size_t i;
    bpm_rc rc = start_at(s, p, start, vars, business_key, &i, err);
    if (out_id)
        *out_id = s->insts[i]->id;
    drain_queue(s);
    return rc;
}

/* ---- routing effects between instances ----------------------------------------- */

static bool message_start(bpm_sim *s, const char *name, const json_t *vars, const char *business_key, bpm_err *err)
{
    for (size_t pi = 0; pi < s->m->n_processes; pi++) {
        const bpm_process *p = &s->m->processes[pi];
        for (size_t k = 0; k < p->n_top; k++) {
            const bpm_node *n = p->top[k];
            if (n->kind != BPM_NODE_START_EVENT || !n->n_events || n->events[0].kind != BPM_EVENT_MESSAGE ||
                !n->events[0].message || !n->events[0].message->name ||
                strcmp(n->events[0].message->name, name) != 0)
                continue;
            start_at(s, p, n, vars, business_key, NULL, err);
            return true;
        }
    }
    return false;
}

static void signal_start(bpm_sim *s, const char *name, const json_t *vars)
{
    for (size_t pi = 0; pi < s->m->n_processes; pi++) {
        const bpm_process *p = &s->m->processes[pi];
        for (size_t k = 0; k < p->n_top; k++) {
            const bpm_node *n = p->top[k];
            if (n->kind == BPM_NODE_START_EVENT && n->n_events && n->events[0].kind == BPM_EVENT_SIGNAL &&
                n->events[0].signal && n->events[0].signal->name && strcmp(n->events[0].signal->name, name) == 0)
                start_at(s, p, n, vars, NULL, NULL, NULL);
        }
    }
}

static size_t deliver(bpm_sim *s, bpm_wait_kind kind, const char *name, const char *key, const char *business_key,
                      const json_t *vars, bool all, bpm_err *err)
{
    size_t count = 0;
    /* Snapshot (instance, wait) pairs first: delivering changes the waits. */
    typedef struct {
        size_t inst;
        uint32_t wait;
    } target;
    target *t = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < s->n_insts; i++) {
        const bpm_inst *inst = s->insts[i];
        if (inst->state != BPM_INST_ACTIVE || inst->suspended)
            continue;
        if (business_key && (!inst->business_key || strcmp(inst->business_key, business_key) != 0))
            continue;
        for (size_t w = 0; w < inst->n_waits; w++) {
            const bpm_wait *wt = &inst->waits[w];
            if (wt->kind != kind || !wt->name || strcmp(wt->name, name) != 0)
                continue;
            if (key && (!wt->key || strcmp(wt->key, key) != 0))
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                t = bpm_xrealloc(t, cap * sizeof *t);
            }
            t[n++] = (target){i, wt->id};
        }
    }
    for (size_t k = 0; k < n; k++) {
        if (!all && count)
            break;
        if (!bpm_inst_wait(s->insts[t[k].inst], t[k].wait))
            continue; /* an earlier delivery cancelled it */
        bpm_cmd cmd = {.kind = BPM_CMD_TRIGGER, .wait = t[k].wait, .vars = (json_t *)vars};
        step(s, t[k].inst, &cmd, err);
        count++;
    }
    free(t);
    return count;
}

static void drain_queue(bpm_sim *s)
{
    for (size_t q = 0; q < s->n_queue; q++) {
        pending p = s->queue[q];
        s->queue[q].value = NULL;
        switch (p.kind) {
        case BPM_FX_START_CHILD: {
            const bpm_process *cp = find_process(s, p.name);
            if (!cp) {
                trace_add(s, BPM_FX_INCIDENT, s->insts[p.from]->id, NULL, "called process is not in the diagram", s->now);
                s->incidents++;
                break;
            }
            size_t ci = new_instance(s, cp, p.key); /* only camunda:in businessKey gives one */
            s->insts[ci]->parent_instance = bpm_arena_strdup(s->insts[ci]->arena, s->insts[p.from]->id);
            s->insts[ci]->parent_wait = p.wait;
            bpm_cmd cmd = {.kind = BPM_CMD_START, .vars = p.value};
            step(s, ci, &cmd, NULL);
            break;
        }
        case BPM_FX_END: {
            for (size_t i = 0; i < s->n_insts; i++) {
                if (strcmp(s->insts[i]->id, p.name) != 0)
                    continue;
                bpm_cmd cmd = {.kind = p.error_end ? BPM_CMD_ERROR : BPM_CMD_COMPLETE, .wait = p.wait,
                               .vars = p.value, .code = p.key, .message = p.extra};
                step(s, i, &cmd, NULL);
            }
            break;
        }
        case BPM_FX_WAIT_CLOSE:
            for (size_t i = 0; i < s->n_insts; i++) {
                bpm_inst *c = s->insts[i];
                if (c->state == BPM_INST_ACTIVE && c->parent_instance && c->parent_wait == p.wait &&
                    strcmp(c->parent_instance, s->insts[p.from]->id) == 0) {
                    bpm_cmd cmd = {.kind = BPM_CMD_CANCEL};
                    step(s, i, &cmd, NULL);
                }
            }
            break;
        case BPM_FX_SIGNAL:
            deliver(s, BPM_WAIT_SIGNAL, p.name ? p.name : "", NULL, NULL, p.value, true, NULL);
            signal_start(s, p.name ? p.name : "", p.value);
            break;
        case BPM_FX_MESSAGE:
            if (!deliver(s, BPM_WAIT_MESSAGE, p.name ? p.name : "", p.key, NULL, p.value, false, NULL))
                message_start(s, p.name ? p.name : "", p.value, NULL, NULL);
            break;
        default:
            break;
        }
        json_decref(p.value);
    }
    s->n_queue = 0;
}

/* ---- commands ------------------------------------------------------------------- */

static bool find_wait(bpm_sim *s, const char *element, const char *instance, bool jobs_only, size_t *out_i,
                      uint32_t *out_w)
{
    for (size_t i = 0; i < s->n_insts; i++) {
        const bpm_inst *inst = s->insts[i];
        if (inst->state != BPM_INST_ACTIVE || (instance && strcmp(inst->id, instance) != 0))
            continue;
        for (size_t w = 0; w < inst->n_waits; w++) {
            const bpm_wait *wt = &inst->waits[w];
            bool ok = wt->kind == BPM_WAIT_USER_TASK || wt->kind == BPM_WAIT_JOB || wt->kind == BPM_WAIT_ASYNC;
            if (jobs_only && wt->kind == BPM_WAIT_ASYNC)
                ok = false;
            if (ok && strcmp(wt->node->id, element) == 0) {
                *out_i = i;
                *out_w = wt->id;
                return true;
            }
        }
    }
    return false;
}

bpm_rc bpm_sim_complete(bpm_sim *s, const char *element, const char *instance, const json_t *vars, bpm_err *err)
{
    size_t i;
    uint32_t w;
    if (!find_wait(s, element, instance, false, &i, &w))
        return bpm_err_set(err, BPM_NOT_FOUND, "nothing waits at \"%s\" to be completed", element);
    bpm_cmd cmd = {.kind = BPM_CMD_COMPLETE, .wait = w, .vars = (json_t *)vars};
    bpm_rc rc = step(s, i, &cmd, err);
    drain_queue(s);
    return rc;
}

bpm_rc bpm_sim_throw(bpm_sim *s, const char *element, const char *code, const char *message, const json_t *vars,
                     bpm_err *err)
{
    size_t i;
    uint32_t w;
    if (!find_wait(s, element, NULL, true, &i, &w))
        return bpm_err_set(err, BPM_NOT_FOUND, "no task or job waits at \"%s\"", element);
    bpm_cmd cmd = {.kind = BPM_CMD_ERROR, .wait = w, .code = code, .message = message, .vars = (json_t *)vars};
    bpm_rc rc = step(s, i, &cmd, err);
    drain_queue(s);
    return rc;
}

bpm_rc bpm_sim_correlate(bpm_sim *s, const char *name, const char *key, const char *business_key, const json_t *vars,
                         bool all, bpm_err *err)
{
    size_t n = deliver(s, BPM_WAIT_MESSAGE, name, key, business_key, vars, all, err);
    if (!n && !message_start(s, name, vars, business_key, err)) {
        drain_queue(s);
        return bpm_err_set(err, BPM_NOT_FOUND, "no process waits for message \"%s\"%s%s", name, key ? " with key " : "",
                           key ? key : "");
    }
    drain_queue(s);
    return BPM_OK;
}

bpm_rc bpm_sim_signal(bpm_sim *s, const char *name, const json_t *vars, bpm_err *err)
{
    deliver(s, BPM_WAIT_SIGNAL, name, NULL, NULL, vars, true, err);
    signal_start(s, name, vars);
    drain_queue(s);
    return BPM_OK;
}

bpm_rc bpm_sim_advance(bpm_sim *s, int64_t ms, bpm_err *err)
{
    int64_t until = s->now + ms;
    for (int guard = 0; guard < 100000; guard++) {
        size_t best_i = 0;
        uint32_t best_w = 0;
        int64_t best_due = INT64_MAX;
        for (size_t i = 0; i < s->n_insts; i++) {
            const bpm_inst *inst = s->insts[i];
            if (inst->state != BPM_INST_ACTIVE || inst->suspended)
                continue;
            for (size_t w = 0; w < inst->n_waits; w++) {
                const bpm_wait *wt = &inst->waits[w];
                if (wt->kind == BPM_WAIT_TIMER && wt->due_ms <= until && wt->due_ms < best_due) {
                    best_due = wt->due_ms;
                    best_i = i;
                    best_w = wt->id;
                }
            }
        }
        if (!best_w)
            break;
        if (best_due > s->now)
            s->now = best_due;
        bpm_cmd cmd = {.kind = BPM_CMD_TRIGGER, .wait = best_w};
        step(s, best_i, &cmd, err);
        drain_queue(s);
    }
    s->now = until;
    return BPM_OK;
}

bpm_rc bpm_sim_cancel(bpm_sim *s, const char *instance, bpm_err *err)
{
    for (size_t i = 0; i < s->n_insts; i++) {
        if (s->insts[i]->state != BPM_INST_ACTIVE || (instance && strcmp(s->insts[i]->id, instance) != 0))
            continue;
        bpm_cmd cmd = {.kind = BPM_CMD_CANCEL};
        step(s, i, &cmd, err);
    }
    drain_queue(s);
    return BPM_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *bpm_sim_active(const bpm_sim *s)
{
    json_t *out = json_array();
    const bpm_inst *inst = bpm_sim_main(s);
    if (!inst)
        return out;
    const char **ids = bpm_xcalloc(inst->n_eis + 1, sizeof *ids);
    size_t n = 0;
    for (size_t i = 0; i < inst->n_eis; i++) {
        const bpm_ei *e = &inst->eis[i];
        if (e->node && (e->state == BPM_EI_WAITING || e->state == BPM_EI_JOINING))
            ids[n++] = e->node->id;
    }
    qsort(ids, n, sizeof *ids, cmp_str);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, json_string(ids[i]));
    free(ids);
    (void)index_of;
    return out;
}

json_t *bpm_sim_waits(const bpm_sim *s)
{
    static const char *const kinds[] = {"user-task", "job", "async", "message", "timer", "signal", "condition", "child"};
    json_t *out = json_array();
    for (size_t i = 0; i < s->n_insts; i++) {
        const bpm_inst *inst = s->insts[i];
        for (size_t w = 0; w < inst->n_waits; w++) {
            const bpm_wait *wt = &inst->waits[w];
            json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s?, s:I}", "instance", inst->id, "element",
                                                 wt->node->id, "kind", kinds[wt->kind], "name", wt->name, "due",
                                                 (json_int_t)wt->due_ms));
        }
    }
    return out;
}
