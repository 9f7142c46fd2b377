/* Activities that contain others or call them (BPMN 2.0.2 §10.3.5-§10.3.6):
 * embedded subprocess, transaction, ad-hoc subprocess (their own variable
 * scope and tokens) and call activity (a separate instance started through
 * an effect; its end comes back as a command). */
#include <string.h>

#include "exec_int.h"

static void scope_enter(bpm_run *r, uint32_t ei)
{
    bpm_ei *e = bpm_run_ei(r, ei);
    const bpm_node *n = e->node;
    if (n->kind == BPM_NODE_CALL_ACTIVITY) {
        const bpm_call *c = n->call;
        const char *key = NULL;
        if (!bpm_run_eval_string(r, ei, n, &c->called_element, &key))
            return;
        if (!key || !*key) {
            bpm_run_fail(r, ei, n, "call activity has no process to call");
            return;
        }
        json_t *in = json_object();
        const char *business_key = NULL;
        bool all = c->n_in == 0 && c->has_propagate_child == false && c->propagate_all_parent;
        bool all_local = false;
        for (size_t i = 0; i < c->n_in; i++) {
            const bpm_var_mapping *m = &c->in[i];
            if (m->all && m->local)
                all_local = true; /* only the call activity's own locals: its input parameters */
            else if (m->all)
                all = true;
            else if (m->business_key) {
                if (!bpm_run_eval_string(r, ei, n, &m->business_key_expr, &business_key))
                    goto fail;
            } else if (m->target) {
                json_t *v = NULL;
                if (m->source_expression.text) {
                    if (!bpm_run_eval(r, ei, n, &m->source_expression, BPM_USE_VALUE, &v))
                        goto fail;
                } else {
                    v = json_incref(bpm_run_get_var(r, ei, m->source ? m->source : ""));
                }
                json_object_set_new(in, m->target, v ? v : json_null());
            }
        }
        if (all_local && !all) {
            const bpm_ei *x = bpm_inst_ei(r->inst, ei);
            const char *k;
            json_t *v;
            json_object_foreach(x->vars, k, v)
            {
                if (!json_object_get(in, k) && strncmp(k, "__", 2) != 0)
                    json_object_set(in, k, v);
            }
        }
        if (all || (n->io.n_inputs && c->n_in == 0)) {
            /* every visible variable (zeebe: the call's input mappings) */
            for (uint32_t id = ei; id;) {
                const bpm_ei *x = bpm_inst_ei(r->inst, id);
                if (!x)
                    break;
                const char *k;
                json_t *v;
                json_object_foreach(x->vars, k, v)
                {
                    if (!json_object_get(in, k) && strncmp(k, "__", 2) != 0)
                        json_object_set(in, k, v);
                }
                id = x->parent;
            }
        }
        uint32_t w = bpm_run_open_wait(r, ei, n, BPM_WAIT_CHILD);
        bpm_wait *wt = bpm_inst_wait(r->inst, w);
        wt->name = bpm_arena_strdup(r->inst->arena, key);
        bpm_effect *fx = bpm_run_effect(r, BPM_FX_START_CHILD, ei, n);
        fx->wait = w;
        fx->name = wt->name;
        fx->key = business_key;
        fx->value = in;
        bpm_run_ei(r, ei)->state = BPM_EI_WAITING;
        return;
    fail:
        json_decref(in);
        return;
    }
    /* subprocess, transaction, ad-hoc: the element instance is the scope */
    if (n->n_children == 0) {
        bpm_run_complete(r, ei);
        return;
    }
    bpm_run_start_scope(r, ei, NULL);
    if (!r->failed)
        bpm_run_scope_check(r, ei); /* an ad-hoc subprocess with nothing to offer */
}

bool bpm_run_call_outputs(bpm_run *r, uint32_t ei, const json_t *vars)
{
    const bpm_node *n = bpm_run_ei(r, ei)->node;
    const bpm_call *c = n->call;
    if (!c || !vars)
        return true;
    bool all = c->n_out == 0 && (c->has_propagate_child ? c->propagate_all_child : false);
    bool all_local = false;
    for (size_t i = 0; i < c->n_out; i++) {
        const bpm_var_mapping *m = &c->out[i];
        if (m->all && m->local)
            all_local = true;
        else if (m->all)
            all = true;
        else if (m->target) {
            json_t *v = NULL;
            if (m->source_expression.text) {
                /* Camunda 7 call-activity "Passing Variables": source
                 * expressions are evaluated in the called instance */
                if (!bpm_run_eval_over(r, ei, n, vars, &m->source_expression, &v))
                    return false;
            } else {
                v = json_object_get(vars, m->source ? m->source : "");
                v = v ? json_incref(v) : json_null();
            }
            if (m->local)
                bpm_run_set_local(r, ei, m->target, v);
            else
                bpm_run_set_var(r, ei, m->target, v);
        }
    }
    if (all_local)
        bpm_run_set_vars(r, ei, vars, true); /* then outputParameters map what leaves */
    if (all)
        bpm_run_set_vars(r, ei, vars, false);
    return true;
}

/* The called instance ended: map its variables back (camunda:out, zeebe
 * propagateAllChildVariables) and move on. */
static void scope_trigger(bpm_run *r, uint32_t ei, uint32_t wait, const bpm_cmd *cmd)
{
    (void)wait;
    bpm_ei *e = bpm_run_ei(r, ei);
    const bpm_node *n = e->node;
    bpm_run_close_waits_of(r, ei);
    if (n->kind == BPM_NODE_CALL_ACTIVITY && !bpm_run_call_outputs(r, ei, cmd->vars))
        return;
    bpm_run_complete(r, ei);
}

const bpm_node_ops bpm_node_scope_ops = {scope_enter, scope_trigger, NULL};

const bpm_node_ops *bpm_run_ops(const bpm_node *n)
{
    if (bpm_model_is_event(n->kind))
        return &bpm_node_event_ops;
    if (bpm_model_is_gateway(n->kind))
        return &bpm_node_gateway_ops;
    if (bpm_model_is_container(n->kind) || n->kind == BPM_NODE_CALL_ACTIVITY)
        return &bpm_node_scope_ops;
    return &bpm_node_task_ops;
}
