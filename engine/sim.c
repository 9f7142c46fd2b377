/* The in-memory runtime: the store port implemented over a list of instances
 * (with an undo log, so a rolled-back transaction leaves nothing behind),
 * driven by the same runtime the server uses, plus a virtual clock and a
 * trace of everything that happened. */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include "runtime.h"

typedef struct undo {
    size_t index;     /* instance slot */
    bpm_inst *before; /* NULL: the slot was created in this transaction */
} undo;

typedef struct buffered {
    char *name, *key, *business_key;
    json_t *vars;
    int64_t expires_ms;
} buffered;

struct bpm_sim {
    buffered *buffer; /* messages waiting for a subscription (memory store) */
    size_t n_buffer, cap_buffer;
    const bpm_model *m;
    const bpm_evaluator *ev;
    bpm_runtime rt;
    bool durable;       /* a real store holds the instances; memory mirrors it */
    bpm_store backing;
    int64_t now;
    bpm_arena *arena; /* trace strings */
    bpm_inst **insts;
    size_t n_insts, cap_insts;
    bpm_sim_event *trace;
    size_t n_trace, cap_trace;
    size_t incidents;
    unsigned long next_instance;
    /* the open transaction */
    bool in_tx;
    undo *undo;
    size_t n_undo, cap_undo;
    size_t tx_trace, tx_incidents;
    unsigned long tx_next_instance;
};

/* ---- the store port over memory ------------------------------------------------- */

static bpm_rc m_begin(void *self, bpm_err *err)
{
    bpm_sim *s = self;
    if (s->in_tx)
        return bpm_err_set(err, BPM_INTERNAL, "a transaction is already open");
    s->in_tx = true;
    s->n_undo = 0;
    s->tx_trace = s->n_trace;
    s->tx_incidents = s->incidents;
    s->tx_next_instance = s->next_instance;
    return BPM_OK;
}

static void drop_undo(bpm_sim *s)
{
    for (size_t i = 0; i < s->n_undo; i++)
        bpm_inst_free(s->undo[i].before);
    s->n_undo = 0;
}

static bpm_rc m_commit(void *self, bpm_err *err)
{
    (void)err;
    bpm_sim *s = self;
    drop_undo(s);
    s->in_tx = false;
    return BPM_OK;
}

static void m_rollback(void *self)
{
    bpm_sim *s = self;
    for (size_t i = s->n_undo; i-- > 0;) {
        undo *u = &s->undo[i];
        bpm_inst_free(s->insts[u->index]);
        s->insts[u->index] = u->before;
        u->before = NULL;
    }
    /* instances created in the transaction were appended last */
    while (s->n_insts && !s->insts[s->n_insts - 1])
        s->n_insts--;
    s->n_undo = 0;
    s->n_trace = s->tx_trace;
    s->incidents = s->tx_incidents;
    s->next_instance = s->tx_next_instance;
    s->in_tx = false;
}

static void m_new_id(void *self, char out[BPM_ID_SIZE])
{
    bpm_sim *s = self;
    snprintf(out, BPM_ID_SIZE, "i%lu", ++s->next_instance);
}

static bpm_rc m_model(void *self, const char *definition_id, const bpm_model **m, const bpm_process **p, bpm_err *err)
{
    bpm_sim *s = self;
    const bpm_process *found = bpm_model_find_process(s->m, definition_id);
    if (!found)
        return bpm_err_set(err, BPM_NOT_FOUND, "process \"%s\" is not in the diagram", definition_id);
    *m = s->m;
    *p = found;
    return BPM_OK;
}

static size_t slot_of(const bpm_sim *s, const char *id)
{
    for (size_t i = 0; i < s->n_insts; i++)
        if (s->insts[i] && strcmp(s->insts[i]->id, id) == 0)
            return i;
    return (size_t)-1;
}

static void remember(bpm_sim *s, size_t index, bool created)
{
    for (size_t i = 0; i < s->n_undo; i++)
        if (s->undo[i].index == index)
            return; /* the state before the transaction is already kept */
    if (s->n_undo == s->cap_undo) {
        s->cap_undo = s->cap_undo ? s->cap_undo * 2 : 8;
        s->undo = bpm_xrealloc(s->undo, s->cap_undo * sizeof *s->undo);
    }
    s->undo[s->n_undo++] = (undo){index, created ? NULL : bpm_inst_clone(s->insts[index])};
}

static bpm_rc m_create(void *self, const bpm_inst *inst, const char *start_user, bpm_err *err)
{
    (void)start_user;
    (void)err;
    bpm_sim *s = self;
    if (s->n_insts == s->cap_insts) {
        s->cap_insts = s->cap_insts ? s->cap_insts * 2 : 8;
        s->insts = bpm_xrealloc(s->insts, s->cap_insts * sizeof *s->insts);
    }
    s->insts[s->n_insts] = bpm_inst_clone(inst);
    remember(s, s->n_insts, true);
    s->n_insts++;
    return BPM_OK;
}

static bpm_rc m_lock(void *self, const char *id, bpm_inst **out, bpm_err *err)
{
    bpm_sim *s = self;
    size_t i = slot_of(s, id);
    if (i == (size_t)-1)
        return bpm_err_set(err, BPM_NOT_FOUND, "no instance \"%s\"", id);
    *out = bpm_inst_clone(s->insts[i]);
    return BPM_OK;
}

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

static bpm_rc m_save(void *self, const bpm_inst *inst, const bpm_effects *fx, const char *user, bpm_err *err)
{
    (void)user;
    bpm_sim *s = self;
    size_t i = slot_of(s, inst->id);
    if (i == (size_t)-1)
        return bpm_err_set(err, BPM_NOT_FOUND, "no instance \"%s\"", inst->id);
    remember(s, i, false);
    bpm_inst_free(s->insts[i]);
    s->insts[i] = bpm_inst_clone(inst);
    for (size_t k = 0; k < fx->n; k++) {
        const bpm_effect *e = &fx->items[k];
        switch (e->kind) {
        case BPM_FX_ENTER:
        case BPM_FX_LEAVE:
        case BPM_FX_CANCEL:
            trace_add(s, e->kind, inst->id, e->node, NULL, e->at_ms);
            break;
        case BPM_FX_TAKE:
            trace_add(s, e->kind, inst->id, e->node, e->flow ? e->flow->id : NULL, e->at_ms);
            break;
        case BPM_FX_INCIDENT:
            s->incidents++;
            trace_add(s, e->kind, inst->id, e->node, e->message, e->at_ms);
            break;
        case BPM_FX_END:
            trace_add(s, e->kind, inst->id, NULL, e->message, e->at_ms);
            break;
        case BPM_FX_ESCALATION:
            trace_add(s, e->kind, inst->id, e->node, e->name, e->at_ms);
            break;
        case BPM_FX_PUBLISH: { /* the outbox row, as the message will leave: gone again on rollback */
            char *payload = json_dumps(e->value, JSON_COMPACT);
            trace_add(s, e->kind, inst->id, e->node, payload, e->at_ms);
            free(payload);
            break;
        }
        default:
            break;
        }
    }
    return BPM_OK;
}

static bool live(const bpm_inst *inst) { return inst && inst->state == BPM_INST_ACTIVE && !inst->suspended; }

static bpm_rc m_find(void *self, const bpm_find *q, bpm_wait_ref **out, size_t *n, bpm_arena *a, bpm_err *err)
{
    (void)err;
    bpm_sim *s = self;
    bpm_wait_ref *refs = NULL;
    size_t count = 0, cap = 0;
#define ADD(id_, wait_, due_)                                                                \
    do {                                                                                     \
        if (count == cap) {                                                                  \
            size_t ncap = cap ? cap * 2 : 8;                                                 \
            refs = bpm_arena_grow(a, refs, count, ncap, sizeof *refs);                       \
            cap = ncap;                                                                      \
        }                                                                                    \
        refs[count++] = (bpm_wait_ref){bpm_arena_strdup(a, (id_)), (wait_), (due_)};          \
    } while (0)
    for (size_t i = 0; i < s->n_insts; i++) {
        const bpm_inst *inst = s->insts[i];
        if (!inst)
            continue;
        if (q->kind == BPM_FIND_CHILDREN) {
            if (inst->state == BPM_INST_ACTIVE && inst->parent_instance && inst->parent_wait == q->wait &&
                strcmp(inst->parent_instance, q->instance_id) == 0)
                ADD(inst->id, 0, 0);
            continue;
        }
        if (!live(inst) || (q->instance_id && strcmp(inst->id, q->instance_id) != 0))
            continue;
        if (q->business_key && (!inst->business_key || strcmp(inst->business_key, q->business_key) != 0))
            continue;
        for (size_t w = 0; w < inst->n_waits; w++) {
            const bpm_wait *wt = &inst->waits[w];
            bool ok = false;
            switch (q->kind) {
            case BPM_FIND_MESSAGE:
                ok = wt->kind == BPM_WAIT_MESSAGE && wt->name && strcmp(wt->name, q->name) == 0 &&
                     (!q->key || (wt->key && strcmp(wt->key, q->key) == 0));
                break;
            case BPM_FIND_SIGNAL:
                ok = wt->kind == BPM_WAIT_SIGNAL && wt->name && strcmp(wt->name, q->name) == 0;
                break;
            case BPM_FIND_TIMER_DUE:
                ok = wt->kind == BPM_WAIT_TIMER && wt->due_ms <= q->now_ms;
                break;
            case BPM_FIND_WAIT_AT:
                ok = strcmp(wt->node->id, q->element) == 0;
                break;
            default:
                break;
            }
            if (ok)
                ADD(inst->id, wt->id, wt->due_ms);
        }
    }
#undef ADD
    if (q->kind == BPM_FIND_TIMER_DUE) {
        /* earliest first; stable, so equal due times keep creation order */
        for (size_t i = 1; i < count; i++)
            for (size_t j = i; j > 0 && refs[j - 1].due_ms > refs[j].due_ms; j--) {
                bpm_wait_ref t = refs[j];
                refs[j] = refs[j - 1];
                refs[j - 1] = t;
            }
    }
    if (q->limit && count > q->limit)
        count = q->limit;
    *out = refs;
    *n = count;
    return BPM_OK;
}

static bpm_rc m_start_triggers(void *self, bpm_event_kind kind, const char *name, bpm_start_trigger **out, size_t *n,
                               bpm_arena *a, bpm_err *err)
{
    (void)err;
    bpm_sim *s = self;
    bpm_start_trigger *t = NULL;
    size_t count = 0;
    for (size_t pi = 0; pi < s->m->n_processes; pi++) {
        const bpm_process *p = &s->m->processes[pi];
        for (size_t k = 0; k < p->n_top; k++) {
            const bpm_node *nd = p->top[k];
            if (nd->kind != BPM_NODE_START_EVENT || !nd->n_events || nd->events[0].kind != kind)
                continue;
            const char *nm = kind == BPM_EVENT_MESSAGE ? (nd->events[0].message ? nd->events[0].message->name : NULL)
                                                       : (nd->events[0].signal ? nd->events[0].signal->name : NULL);
            if (!nm || strcmp(nm, name) != 0)
                continue;
            t = bpm_arena_grow(a, t, count, count + 1, sizeof *t);
            t[count++] = (bpm_start_trigger){p->id, nd->id};
        }
    }
    *out = t;
    *n = count;
    return BPM_OK;
}

static bpm_rc m_latest(void *self, const char *key, char out[256], bpm_err *err)
{
    bpm_sim *s = self;
    if (!bpm_model_find_process(s->m, key))
        return bpm_err_set(err, BPM_NOT_FOUND, "called process \"%s\" is not in the diagram", key);
    snprintf(out, 256, "%s", key);
    return BPM_OK;
}

static bpm_rc m_buffer_message(void *self, const char *name, const char *key, const char *business_key,
                               const json_t *vars, int64_t expires_ms, bpm_err *err)
{
    (void)err;
    bpm_sim *s = self;
    if (s->n_buffer == s->cap_buffer) {
        s->cap_buffer = s->cap_buffer ? s->cap_buffer * 2 : 4;
        s->buffer = bpm_xrealloc(s->buffer, s->cap_buffer * sizeof *s->buffer);
    }
    buffered *b = &s->buffer[s->n_buffer++];
    b->name = bpm_xstrdup(name);
    b->key = key ? bpm_xstrdup(key) : NULL;
    b->business_key = business_key ? bpm_xstrdup(business_key) : NULL;
    b->vars = vars ? json_deep_copy(vars) : json_object();
    b->expires_ms = expires_ms;
    return BPM_OK;
}

static void drop_buffered(bpm_sim *s, size_t i)
{
    free(s->buffer[i].name);
    free(s->buffer[i].key);
    free(s->buffer[i].business_key);
    json_decref(s->buffer[i].vars);
    memmove(&s->buffer[i], &s->buffer[i + 1], (s->n_buffer - i - 1) * sizeof *s->buffer);
    s->n_buffer--;
}

static bpm_rc m_take_buffered(void *self, const char *name, const char *key, const char *business_key, int64_t now_ms,
                              json_t **vars, bpm_err *err)
{
    (void)err;
    bpm_sim *s = self;
    *vars = NULL;
    for (size_t i = 0; i < s->n_buffer; i++) {
        buffered *b = &s->buffer[i];
        if (b->expires_ms < now_ms) {
            drop_buffered(s, i--);
            continue;
        }
        if (strcmp(b->name, name) != 0 || (b->key && (!key || strcmp(b->key, key) != 0)) ||
            (b->business_key && (!business_key || strcmp(b->business_key, business_key) != 0)))
            continue;
        *vars = json_incref(b->vars);
        drop_buffered(s, i);
        return BPM_OK;
    }
    return BPM_OK;
}

static const bpm_store_ops memory_ops = {m_begin,  m_commit,         m_rollback,       m_new_id,
                                         m_model,  m_create,         m_lock,           m_save,
                                         m_find,   m_start_triggers, m_latest,         m_buffer_message,
                                         m_take_buffered,  NULL};

/* ---- durable mode: a real store decides, memory mirrors it for the trace -------- */

#define B(s) (&(s)->backing)

static bpm_rc d_begin(void *self, bpm_err *err)
{
    bpm_sim *s = self;
    bpm_rc rc = B(s)->ops->begin(B(s)->self, err);
    return rc ? rc : m_begin(self, err);
}

static bpm_rc d_commit(void *self, bpm_err *err)
{
    bpm_sim *s = self;
    bpm_rc rc = B(s)->ops->commit(B(s)->self, err);
    if (rc) {
        m_rollback(self);
        return rc;
    }
    return m_commit(self, err);
}

static void d_rollback(void *self)
{
    bpm_sim *s = self;
    B(s)->ops->rollback(B(s)->self);
    m_rollback(self);
}

static void d_new_id(void *self, char out[BPM_ID_SIZE])
{
    bpm_sim *s = self;
    B(s)->ops->new_id(B(s)->self, out);
}

static bpm_rc d_model(void *self, const char *id, const bpm_model **m, const bpm_process **p, bpm_err *err)
{
    bpm_sim *s = self;
    return B(s)->ops->model(B(s)->self, id, m, p, err);
}

static bpm_rc d_create(void *self, const bpm_inst *inst, const char *user, bpm_err *err)
{
    bpm_sim *s = self;
    bpm_rc rc = B(s)->ops->create(B(s)->self, inst, user, err);
    return rc ? rc : m_create(self, inst, user, err);
}

static bpm_rc d_lock(void *self, const char *id, bpm_inst **out, bpm_err *err)
{
    bpm_sim *s = self;
    return B(s)->ops->lock(B(s)->self, id, out, err);
}

static bpm_rc d_save(void *self, const bpm_inst *inst, const bpm_effects *fx, const char *user, bpm_err *err)
{
    bpm_sim *s = self;
    bpm_rc rc = B(s)->ops->save(B(s)->self, inst, fx, user, err);
    return rc ? rc : m_save(self, inst, fx, user, err);
}

static bpm_rc d_find(void *self, const bpm_find *q, bpm_wait_ref **out, size_t *n, bpm_arena *a, bpm_err *err)
{
    bpm_sim *s = self;
    return B(s)->ops->find(B(s)->self, q, out, n, a, err);
}

static bpm_rc d_start_triggers(void *self, bpm_event_kind kind, const char *name, bpm_start_trigger **out, size_t *n,
                               bpm_arena *a, bpm_err *err)
{
    bpm_sim *s = self;
    return B(s)->ops->start_triggers(B(s)->self, kind, name, out, n, a, err);
}

static bpm_rc d_latest(void *self, const char *key, char out[256], bpm_err *err)
{
    bpm_sim *s = self;
    return B(s)->ops->latest(B(s)->self, key, out, err);
}

static bpm_rc d_buffer_message(void *self, const char *name, const char *key, const char *business_key,
                               const json_t *vars, int64_t expires_ms, bpm_err *err)
{
    bpm_sim *s = self;
    return B(s)->ops->buffer_message(B(s)->self, name, key, business_key, vars, expires_ms, err);
}

static bpm_rc d_take_buffered(void *self, const char *name, const char *key, const char *business_key, int64_t now_ms,
                              json_t **vars, bpm_err *err)
{
    bpm_sim *s = self;
    return B(s)->ops->take_buffered(B(s)->self, name, key, business_key, now_ms, vars, err);
}

static const bpm_store_ops durable_ops = {d_begin,  d_commit,         d_rollback,       d_new_id,
                                          d_model,  d_create,         d_lock,           d_save,
                                          d_find,   d_start_triggers, d_latest,         d_buffer_message,
                                          d_take_buffered,  NULL};

/* ---- the sim API ------------------------------------------------------------------ */

bpm_sim *bpm_sim_new(const bpm_model *m, const bpm_evaluator *ev, int64_t now_ms)
{
    bpm_sim *s = bpm_xcalloc(1, sizeof *s);
    s->m = m;
    s->ev = ev;
    s->now = now_ms;
    s->arena = bpm_arena_new();
    s->rt = (bpm_runtime){.store = {&memory_ops, s}, .eval = ev};
    return s;
}

bpm_sim *bpm_sim_new_durable(const bpm_model *m, const bpm_evaluator *ev, int64_t now_ms, bpm_store backing)
{
    bpm_sim *s = bpm_sim_new(m, ev, now_ms);
    s->durable = true;
    s->backing = backing;
    s->rt.store = (bpm_store){&durable_ops, s};
    return s;
}

void bpm_sim_free(bpm_sim *s)
{
    if (!s)
        return;
    drop_undo(s);
    while (s->n_buffer)
        drop_buffered(s, s->n_buffer - 1);
    free(s->buffer);
    for (size_t i = 0; i < s->n_insts; i++)
        bpm_inst_free(s->insts[i]);
    free(s->insts);
    free(s->undo);
    free(s->trace);
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

static const bpm_process *find_process(const bpm_sim *s, const char *id)
{
    for (size_t i = 0; i < s->m->n_processes; i++) {
        const bpm_process *p = &s->m->processes[i];
        if (id ? strcmp(p->id, id) == 0 : p->executable)
            return p;
    }
    return !id && s->m->n_processes ? &s->m->processes[0] : NULL;
}

bpm_rc bpm_sim_start(bpm_sim *s, const char *process_id, const char *start_event, const json_t *vars,
                     const char *business_key, const char **out_id, bpm_err *err)
{
    const bpm_process *p = find_process(s, process_id);
    if (!p)
        return bpm_err_set(err, BPM_NOT_FOUND, "process \"%s\" is not in the diagram", process_id ? process_id : "");
    char id[BPM_ID_SIZE] = "";
    char def[256];
    snprintf(def, sizeof def, "%s", p->id);
    if (s->durable) {
        /* the store knows the deployed definition of this process */
        bpm_rc lrc = B(s)->ops->begin(B(s)->self, err);
        if (!lrc)
            lrc = B(s)->ops->latest(B(s)->self, p->id, def, err);
        B(s)->ops->rollback(B(s)->self);
        if (lrc)
            return lrc;
    }
    bpm_rc rc = bpm_runtime_start(&s->rt, def, start_event, vars, business_key, NULL, s->now, id, err);
    if (rc == BPM_INVALID) {
        /* the failed start left no instance; scenarios still see the incident */
        const bpm_node *at = err && err->where[0] ? bpm_model_find_node(p, err->where) : NULL;
        trace_add(s, BPM_FX_INCIDENT, id[0] ? id : "-", at, err ? err->msg : NULL, s->now);
        s->incidents++;
    }
    if (out_id) {
        size_t i = id[0] ? slot_of(s, id) : (size_t)-1;
        *out_id = i != (size_t)-1 ? s->insts[i]->id : NULL;
    }
    return rc;
}

/* The first open task, job or async wait at element (in instance, if given). */
static bool find_wait(bpm_sim *s, const char *element, const char *instance, bool jobs_only, size_t *out_i,
                      uint32_t *out_w)
{
    for (size_t i = 0; i < s->n_insts; i++) {
        const bpm_inst *inst = s->insts[i];
        if (!live(inst) || (instance && strcmp(inst->id, instance) != 0))
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
    return bpm_runtime_run(&s->rt, s->insts[i]->id, &cmd, NULL, s->now, err);
}

bpm_rc bpm_sim_respond(bpm_sim *s, const char *element, int status, const json_t *body, const char *failure,
                       bpm_err *err)
{
    size_t i;
    uint32_t w;
    if (!find_wait(s, element, NULL, true, &i, &w))
        return bpm_err_set(err, BPM_NOT_FOUND, "no connector call waits at \"%s\"", element);
    const bpm_wait *wt = bpm_inst_wait(s->insts[i], w);
    const char *type = json_string_value(json_object_get(wt->data, "type"));
    if (wt->kind != BPM_WAIT_JOB || !type || strcmp(type, "connector") != 0)
        return bpm_err_set(err, BPM_NOT_FOUND, "the job at \"%s\" is not a connector call", element);
    char code[64], message[160];
    json_t *vars = NULL;
    /* as the worker judges (adapters/service/connector.c): Slack and
     * CloudEvents fail on anything but 2xx, Slack's error text is the code */
    const char *id = json_string_value(json_object_get(wt->data, "connector"));
    bool slack = id && (strcmp(id, "slack-webhook") == 0 || strncmp(id, "io.bpmnd:slack-webhook:", 23) == 0);
    bool ce = id && (strcmp(id, "cloudevents-http") == 0 || strncmp(id, "io.bpmnd:cloudevents-http:", 26) == 0);
    bool failed = status < 100 || status >= 400 || ((slack || ce) && (status < 200 || status >= 300));
    if (status >= 100) {
        vars = json_pack("{s:i, s:O, s:{}}", "statusCode", status, "response", body ? body : json_null(), "headers");
        snprintf(code, sizeof code, "%d", status);
        snprintf(message, sizeof message, "HTTP %d from the scenario", status);
        if (slack && json_is_string(body) && json_string_length(body)) {
            snprintf(code, sizeof code, "%s", json_string_value(body));
            snprintf(message, sizeof message, "Slack answered HTTP %d: %s", status, code);
        }
    } else {
        snprintf(code, sizeof code, "%s", failure ? failure : "UNREACHABLE");
        snprintf(message, sizeof message, "no response (%s) in the scenario", code);
    }
    bpm_cmd cmd = {.kind = BPM_CMD_COMPLETE,
                   .wait = w,
                   .vars = vars,
                   .code = failed ? code : NULL,
                   .message = failed ? message : NULL};
    bpm_rc rc = bpm_runtime_run(&s->rt, s->insts[i]->id, &cmd, NULL, s->now, err);
    json_decref(vars);
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
    return bpm_runtime_run(&s->rt, s->insts[i]->id, &cmd, NULL, s->now, err);
}

bpm_rc bpm_sim_fail(bpm_sim *s, const char *element, const char *message, bpm_err *err)
{
    size_t i;
    uint32_t w;
    if (!find_wait(s, element, NULL, true, &i, &w))
        return bpm_err_set(err, BPM_NOT_FOUND, "no job waits at \"%s\"", element);
    /* a job whose retries are used up: an incident, and the instance stays
     * exactly as it was, waiting at the job (what the job executor does) */
    const bpm_wait *wt = bpm_inst_wait(s->insts[i], w);
    trace_add(s, BPM_FX_INCIDENT, s->insts[i]->id, wt->node, message ? message : "the job failed", s->now);
    s->incidents++;
    return BPM_OK;
}

bpm_rc bpm_sim_correlate(bpm_sim *s, const char *name, const char *key, const char *business_key, const json_t *vars,
                         bool all, int64_t ttl_ms, bpm_err *err)
{
    return bpm_runtime_correlate(&s->rt, name, key, business_key, vars, all, ttl_ms, s->now, NULL, err);
}

bpm_rc bpm_sim_signal(bpm_sim *s, const char *name, const json_t *vars, bpm_err *err)
{
    return bpm_runtime_signal(&s->rt, name, vars, s->now, NULL, err);
}

bpm_rc bpm_sim_advance(bpm_sim *s, int64_t ms, bpm_err *err)
{
    int64_t until = s->now + ms;
    /* fire one timer at a time, moving the clock to its due time, so timers
     * set up by a firing one are seen in order */
    for (int guard = 0; guard < 100000; guard++) {
        int64_t due = INT64_MAX;
        for (size_t i = 0; i < s->n_insts; i++) {
            const bpm_inst *inst = s->insts[i];
            if (!live(inst))
                continue;
            for (size_t w = 0; w < inst->n_waits; w++)
                if (inst->waits[w].kind == BPM_WAIT_TIMER && inst->waits[w].due_ms < due)
                    due = inst->waits[w].due_ms;
        }
        if (due == INT64_MAX || due > until)
            break;
        if (due > s->now)
            s->now = due;
        size_t fired = 0;
        bpm_rc rc = bpm_runtime_fire_timers(&s->rt, s->now, 1, &fired, err);
        if (rc && rc != BPM_INVALID)
            return rc;
        if (!fired)
            break; /* the due timer failed: it stays, as a failed job would */
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
        char id[BPM_ID_SIZE];
        snprintf(id, sizeof id, "%s", s->insts[i]->id);
        bpm_runtime_run(&s->rt, id, &cmd, NULL, s->now, err);
    }
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
