/* Walks every expression of a model and compiles it through the evaluator. */
#include "compile.h"

#include <string.h>

typedef void (*each_fn)(void *arg, const bpm_expr *e, bpm_eval_use use, const char *element);

static void one(each_fn fn, void *arg, const bpm_expr *e, bpm_eval_use use, const char *element)
{
    if (e && e->text)
        fn(arg, e, use, element);
}

static void params(each_fn fn, void *arg, const bpm_param *ps, size_t n, const char *element, int depth)
{
    for (size_t i = 0; i < n && depth < 32; i++) {
        const bpm_param *p = &ps[i];
        if (p->kind == BPM_PARAM_EXPR)
            one(fn, arg, &p->value, BPM_USE_VALUE, element);
        else if (p->kind == BPM_PARAM_SCRIPT)
            one(fn, arg, &p->value, BPM_USE_SCRIPT, element);
        params(fn, arg, p->items, p->n_items, element, depth + 1);
    }
}

static void listeners(each_fn fn, void *arg, const bpm_listener *ls, size_t n, const char *element)
{
    for (size_t i = 0; i < n; i++)
        if (ls[i].kind == BPM_IMPL_SCRIPT || ls[i].kind == BPM_IMPL_EXPRESSION)
            one(fn, arg, &ls[i].script, ls[i].kind == BPM_IMPL_SCRIPT ? BPM_USE_SCRIPT : BPM_USE_VALUE, element);
}

void bpm_compile_each(const bpm_process *p, each_fn fn, void *arg)
{
    listeners(fn, arg, p->listeners, p->n_listeners, p->id);
    for (size_t i = 0; i < p->n_flows; i++) {
        const bpm_flow *f = p->flows[i];
        one(fn, arg, &f->condition, BPM_USE_CONDITION, f->id);
        listeners(fn, arg, f->listeners, f->n_listeners, f->id);
    }
    for (size_t i = 0; i < p->n_nodes; i++) {
        const bpm_node *n = p->nodes[i];
        const char *id = n->id;
        for (size_t k = 0; k < n->n_events; k++) {
            const bpm_event_def *ev = &n->events[k];
            if (ev->kind == BPM_EVENT_TIMER && ev->timer.dialect != BPM_DIALECT_LITERAL)
                one(fn, arg, &ev->timer, BPM_USE_VALUE, id);
            if (ev->kind == BPM_EVENT_CONDITIONAL)
                one(fn, arg, &ev->condition, BPM_USE_CONDITION, id);
            if (ev->message)
                one(fn, arg, &ev->message->correlation_key, BPM_USE_VALUE, id);
        }
        if (n->message)
            one(fn, arg, &n->message->correlation_key, BPM_USE_VALUE, id);
        if (n->loop) {
            const bpm_loop *l = n->loop;
            one(fn, arg, &l->cardinality, BPM_USE_VALUE, id);
            one(fn, arg, &l->collection, BPM_USE_VALUE, id);
            one(fn, arg, &l->completion_condition, BPM_USE_CONDITION, id);
            one(fn, arg, &l->output_element, BPM_USE_VALUE, id);
            one(fn, arg, &l->loop_condition, BPM_USE_CONDITION, id);
        }
        params(fn, arg, n->io.inputs, n->io.n_inputs, id, 0);
        params(fn, arg, n->io.outputs, n->io.n_outputs, id, 0);
        listeners(fn, arg, n->listeners, n->n_listeners, id);
        if (n->user) {
            const bpm_user_task *u = n->user;
            one(fn, arg, &u->assignee, BPM_USE_VALUE, id);
            one(fn, arg, &u->candidate_users, BPM_USE_VALUE, id);
            one(fn, arg, &u->candidate_groups, BPM_USE_VALUE, id);
            one(fn, arg, &u->due_date, BPM_USE_VALUE, id);
            one(fn, arg, &u->follow_up_date, BPM_USE_VALUE, id);
            one(fn, arg, &u->priority, BPM_USE_VALUE, id);
            listeners(fn, arg, u->task_listeners, u->n_task_listeners, id);
        }
        if (n->service) {
            const bpm_service *s = n->service;
            one(fn, arg, &s->expression, BPM_USE_VALUE, id);
            one(fn, arg, &s->task_priority, BPM_USE_VALUE, id);
            one(fn, arg, &s->retries, BPM_USE_VALUE, id);
            params(fn, arg, s->connector_io.inputs, s->connector_io.n_inputs, id, 0);
            params(fn, arg, s->connector_io.outputs, s->connector_io.n_outputs, id, 0);
            if (bpm_model_zeebe_connector(s)) { /* elsewhere a worker reads them, not bpmnd */
                one(fn, arg, &s->result_expression, BPM_USE_VALUE, id);
                one(fn, arg, &s->error_expression, BPM_USE_VALUE, id);
            }
        }
        if (n->script)
            one(fn, arg, &n->script->body, BPM_USE_SCRIPT, id);
        if (n->call) {
            const bpm_call *c = n->call;
            one(fn, arg, &c->called_element, BPM_USE_VALUE, id);
            for (size_t k = 0; k < c->n_in; k++) {
                one(fn, arg, &c->in[k].source_expression, BPM_USE_VALUE, id);
                one(fn, arg, &c->in[k].business_key_expr, BPM_USE_VALUE, id);
            }
            for (size_t k = 0; k < c->n_out; k++)
                one(fn, arg, &c->out[k].source_expression, BPM_USE_VALUE, id);
        }
        one(fn, arg, &n->adhoc_completion, BPM_USE_CONDITION, id);
        one(fn, arg, &n->activation_condition, BPM_USE_CONDITION, id);
    }
}

typedef struct ctx {
    bpm_model *m;
    const bpm_evaluator *ev;
    bpm_diags *diags;
    size_t failed;
} ctx;

static void compile_one(void *arg, const bpm_expr *e, bpm_eval_use use, const char *element)
{
    ctx *c = arg;
    if (e->dialect == BPM_DIALECT_LITERAL || e->dialect == BPM_DIALECT_NONE || e->dialect == BPM_DIALECT_OTHER ||
        e->compiled) /* OTHER: validation already refused it */
        return;
    bpm_err err = {0};
    const void *h = NULL;
    if (c->ev->ops->compile(c->ev->self, e, use, c->m->arena, &h, &err) != BPM_OK) {
        c->failed++;
        bpm_diags_add(c->diags, BPM_SEV_ERROR, c->m->file, e->line, element, "%s \"%s\" cannot run: %s",
                      use == BPM_USE_SCRIPT ? "script" : use == BPM_USE_CONDITION ? "condition" : "expression",
                      strlen(e->text) > 80 ? "(long text)" : e->text, err.msg);
        return;
    }
    /* The model is not shared yet: this is the one moment it is written. */
    ((bpm_expr *)e)->compiled = h;
}

bpm_rc bpm_compile_model(bpm_model *m, const bpm_evaluator *ev, bpm_diags *diags)
{
    ctx c = {m, ev, diags, 0};
    for (size_t i = 0; i < m->n_processes; i++)
        if (m->processes[i].executable)
            bpm_compile_each(&m->processes[i], compile_one, &c);
    return c.failed ? BPM_INVALID : BPM_OK;
}
