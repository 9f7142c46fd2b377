/* Mutations of the working instance during a step: element instances, waits
 * and variables, each recorded as an effect so the store can apply exactly
 * what changed. Variables are copy-on-write per scope (see bpm_inst_clone). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"

bpm_ei *bpm_run_ei(bpm_run *r, uint32_t id)
{
    bpm_ei *e = bpm_inst_ei(r->inst, id);
    return e && e->state != BPM_EI_DONE ? e : NULL;
}

uint32_t bpm_run_new_ei(bpm_run *r, uint32_t parent, const bpm_node *n, bpm_ei_kind kind, const bpm_flow *via)
{
    bpm_inst *inst = r->inst;
    if (inst->n_eis == inst->cap_eis) {
        inst->cap_eis = inst->cap_eis ? inst->cap_eis * 2 : 4;
        inst->eis = bpm_xrealloc(inst->eis, inst->cap_eis * sizeof *inst->eis);
    }
    bpm_ei *e = &inst->eis[inst->n_eis++];
    memset(e, 0, sizeof *e);
    e->id = inst->next_id++;
    e->parent = parent;
    e->node = n;
    e->kind = (uint8_t)kind;
    e->state = BPM_EI_READY;
    e->via = via;
    e->entered_ms = r->env->now_ms;
    return e->id;
}

void bpm_run_schedule(bpm_run *r, uint32_t ei)
{
    if (r->n_agenda == r->cap_agenda) {
        size_t ncap = r->cap_agenda ? r->cap_agenda * 2 : 16;
        r->agenda = bpm_arena_grow(r->arena, r->agenda, r->n_agenda, ncap, sizeof *r->agenda);
        r->cap_agenda = ncap;
    }
    r->agenda[r->n_agenda++] = ei;
}

void bpm_run_drop_ei(bpm_run *r, uint32_t id)
{
    bpm_inst *inst = r->inst;
    bpm_ei *e = bpm_inst_ei(inst, id);
    if (!e)
        return;
    json_decref(e->vars);
    size_t i = (size_t)(e - inst->eis);
    memmove(&inst->eis[i], &inst->eis[i + 1], (inst->n_eis - i - 1) * sizeof *inst->eis);
    inst->n_eis--;
}

uint32_t bpm_run_open_wait(bpm_run *r, uint32_t ei, const bpm_node *n, bpm_wait_kind kind)
{
    bpm_inst *inst = r->inst;
    if (inst->n_waits == inst->cap_waits) {
        inst->cap_waits = inst->cap_waits ? inst->cap_waits * 2 : 2;
        inst->waits = bpm_xrealloc(inst->waits, inst->cap_waits * sizeof *inst->waits);
    }
    bpm_wait *w = &inst->waits[inst->n_waits++];
    memset(w, 0, sizeof *w);
    w->id = inst->next_id++;
    w->ei = ei;
    w->node = n;
    w->kind = (uint8_t)kind;
    w->start_ms = r->env->now_ms;
    /* WAIT_OPEN is recorded when the step ends, so it carries the final
     * fields (name, due time, task data) set after this call. */
    return w->id;
}

void bpm_run_close_wait(bpm_run *r, uint32_t id)
{
    bpm_inst *inst = r->inst;
    bpm_wait *w = bpm_inst_wait(inst, id);
    if (!w)
        return;
    bpm_effect *fx = bpm_run_effect(r, BPM_FX_WAIT_CLOSE, w->ei, w->node);
    fx->wait = id;
    fx->name = w->name;
    json_decref(w->data);
    size_t i = (size_t)(w - inst->waits);
    memmove(&inst->waits[i], &inst->waits[i + 1], (inst->n_waits - i - 1) * sizeof *inst->waits);
    inst->n_waits--;
}

void bpm_run_close_waits_of(bpm_run *r, uint32_t ei)
{
    for (size_t i = r->inst->n_waits; i-- > 0;)
        if (i < r->inst->n_waits && r->inst->waits[i].ei == ei)
            bpm_run_close_wait(r, r->inst->waits[i].id);
}

void bpm_run_close_scope_waits(bpm_run *r, uint32_t scope)
{
    for (size_t i = r->inst->n_waits; i-- > 0;) {
        if (i >= r->inst->n_waits)
            continue;
        const bpm_wait *w = &r->inst->waits[i];
        if (w->ei == scope && w->node->kind != BPM_NODE_BOUNDARY_EVENT)
            bpm_run_close_wait(r, w->id);
    }
}

size_t bpm_run_count_children(bpm_run *r, uint32_t scope)
{
    size_t n = 0;
    for (size_t i = 0; i < r->inst->n_eis; i++)
        if (r->inst->eis[i].parent == scope && r->inst->eis[i].state != BPM_EI_DONE)
            n++;
    return n;
}

/* ---- variables ------------------------------------------------------------------ */

json_t *bpm_run_get_var(bpm_run *r, uint32_t ei, const char *name)
{
    return bpm_exec_get_var(r->inst, ei, name);
}

json_t *bpm_exec_get_var(const bpm_inst *inst, uint32_t ei, const char *name)
{
    for (uint32_t id = ei; id;) {
        const bpm_ei *e = bpm_inst_ei(inst, id);
        if (!e)
            break;
        json_t *v = e->vars ? json_object_get(e->vars, name) : NULL;
        if (v)
            return v;
        id = e->parent;
    }
    return NULL;
}

static json_t *writable_vars(bpm_ei *e)
{
    if (!e->vars)
        e->vars = json_object();
    else if (e->vars->refcount > 1) {
        json_t *copy = json_copy(e->vars); /* shallow: values stay shared */
        json_decref(e->vars);
        e->vars = copy;
    }
    return e->vars;
}

static void set_in(bpm_run *r, bpm_ei *e, const char *name, json_t *value)
{
    json_t *vars = writable_vars(e);
    json_t *old = json_object_get(vars, name);
    if (old && value && json_equal(old, value)) {
        json_decref(value);
        return;
    }
    bpm_effect *fx = bpm_run_effect(r, BPM_FX_VAR, e->id, e->node);
    fx->name = bpm_arena_strdup(r->arena, name);
    fx->old_value = json_incref(old);
    fx->value = json_incref(value);
    if (value)
        json_object_set_new(vars, name, value);
    else
        json_object_del(vars, name);
}

void bpm_run_set_var(bpm_run *r, uint32_t ei, const char *name, json_t *value)
{
    uint32_t target = 0, root = 0;
    for (uint32_t id = ei; id;) {
        bpm_ei *e = bpm_inst_ei(r->inst, id);
        if (!e)
            break;
        if (!target && e->vars && json_object_get(e->vars, name))
            target = id;
        root = id;
        id = e->parent;
    }
    bpm_ei *e = bpm_inst_ei(r->inst, target ? target : root);
    if (!e) {
        json_decref(value);
        return;
    }
    set_in(r, e, name, value);
}

void bpm_run_set_local(bpm_run *r, uint32_t ei, const char *name, json_t *value)
{
    bpm_ei *e = bpm_inst_ei(r->inst, ei);
    if (!e) {
        json_decref(value);
        return;
    }
    set_in(r, e, name, value);
}

void bpm_run_set_vars(bpm_run *r, uint32_t ei, const json_t *obj, bool local)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (local)
            bpm_run_set_local(r, ei, k, json_incref(v));
        else
            bpm_run_set_var(r, ei, k, json_incref(v));
    }
}

/* ---- the evaluator's view of variables ------------------------------------------ */

typedef struct vars_ctx {
    bpm_run *r;
    uint32_t ei;
} vars_ctx;

_Static_assert(sizeof(vars_ctx) <= BPM_RUN_VARS_STORAGE, "storage too small");

static json_t *v_get(void *ctx, const char *name)
{
    vars_ctx *c = ctx;
    return bpm_run_get_var(c->r, c->ei, name);
}

static bpm_rc v_set(void *ctx, const char *name, json_t *value, bpm_err *err)
{
    (void)err;
    vars_ctx *c = ctx;
    bpm_run_set_var(c->r, c->ei, name, value);
    return BPM_OK;
}

static bpm_rc v_set_local(void *ctx, const char *name, json_t *value, bpm_err *err)
{
    (void)err;
    vars_ctx *c = ctx;
    bpm_run_set_local(c->r, c->ei, name, value);
    return BPM_OK;
}

static void v_each(void *ctx, void (*fn)(void *arg, const char *name, json_t *value), void *arg)
{
    vars_ctx *c = ctx;
    json_t *seen = json_object();
    for (uint32_t id = c->ei; id;) {
        const bpm_ei *e = bpm_inst_ei(c->r->inst, id);
        if (!e)
            break;
        const char *k;
        json_t *v;
        json_object_foreach(e->vars, k, v)
        {
            if (json_object_get(seen, k))
                continue;
            json_object_set_new(seen, k, json_true());
            fn(arg, k, v);
        }
        id = e->parent;
    }
    json_decref(seen);
}

static const bpm_vars_ops vars_ops = {v_get, v_set, v_set_local, v_each};

bpm_vars bpm_run_vars(bpm_run *r, uint32_t ei, void *storage)
{
    vars_ctx *c = storage;
    c->r = r;
    c->ei = ei;
    return (bpm_vars){&vars_ops, c};
}
