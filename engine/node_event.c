/* Events: start, end, intermediate catch and throw, boundary
 * (BPMN 2.0.2 §10.5). Catch events park their token on a wait; throw events
 * act and move on; end events consume the token after acting. */
#include <string.h>

#include "exec_int.h"

static const bpm_event_def *first_def(const bpm_node *n)
{
    return n->n_events ? &n->events[0] : NULL;
}

/* A message throw or end event implemented like a service task (Camunda 7:
 * camunda:type="external", camunda:expression or camunda:connector on its
 * messageEventDefinition; Camunda 8: zeebe:taskDefinition) runs that
 * implementation instead of publishing the message. */
static bool has_impl(const bpm_node *n)
{
    return n->service && n->service->kind != BPM_IMPL_NONE;
}

/* The payload a thrown message or signal carries: every visible variable. */
static json_t *payload(bpm_run *r, uint32_t ei)
{
    json_t *out = json_object();
    for (uint32_t id = ei; id;) {
        const bpm_ei *e = bpm_inst_ei(r->inst, id);
        if (!e)
            break;
        const char *k;
        json_t *v;
        json_object_foreach(e->vars, k, v)
        {
            if (!json_object_get(out, k) && strncmp(k, "__", 2) != 0)
                json_object_set(out, k, v);
        }
        id = e->parent;
    }
    return out;
}

static void throw_message(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_event_def *ev)
{
    const char *name = ev && ev->message ? ev->message->name : (n->message ? n->message->name : NULL);
    bpm_effect *fx = bpm_run_effect(r, BPM_FX_MESSAGE, ei, n);
    fx->name = bpm_arena_strdup(r->arena, name ? name : "");
    const bpm_message *msg = ev && ev->message ? ev->message : n->message;
    if (msg && msg->correlation_key.text) {
        const char *key = NULL;
        if (!bpm_run_eval_string(r, ei, n, &msg->correlation_key, &key))
            return;
        fx->key = key;
    }
    fx->value = payload(r, ei);
}

static int node_depth(const bpm_node *n)
{
    int d = 0;
    for (const bpm_node *p = n->parent; p; p = p->parent)
        d++;
    return d;
}

/* A signal reaches every catcher listening when it is thrown (BPMN 2.0.2
 * §10.5.1 Signal): those of this very instance are triggered inside the step,
 * before the throw event moves on, as Camunda 7 does; other instances get it
 * through the runtime (BPM_FX_SIGNAL), which skips the thrower's instance. */
static void throw_signal(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_event_def *ev)
{
    /* the same fallbacks as subscribing (bpm_run_subscribe): a signal without
     * a name is the empty name, so unnamed throw and catch still meet */
    const char *name = ev->signal && ev->signal->name ? ev->signal->name : ev->ref ? ev->ref : "";
    bpm_effect *fx = bpm_run_effect(r, BPM_FX_SIGNAL, ei, n);
    fx->name = name;
    /* snapshot first: triggering opens and closes waits */
    size_t n_ids = 0;
    uint32_t *ids = bpm_arena_calloc(r->arena, r->inst->n_waits ? r->inst->n_waits : 1, sizeof *ids);
    for (size_t i = 0; i < r->inst->n_waits; i++) {
        const bpm_wait *w = &r->inst->waits[i];
        if (w->kind == BPM_WAIT_SIGNAL && w->name && strcmp(w->name, name) == 0)
            ids[n_ids++] = w->id;
    }
    /* inner catchers first (deeper elements), so an event subprocess inside
     * a subprocess gets the signal before that subprocess's boundary event
     * interrupts it; equal depth keeps subscription order */
    for (size_t i = 1; i < n_ids; i++)
        for (size_t j = i; j > 0 && node_depth(bpm_inst_wait(r->inst, ids[j - 1])->node) <
                                        node_depth(bpm_inst_wait(r->inst, ids[j])->node); j--) {
            uint32_t t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
        }
    for (size_t i = 0; i < n_ids && !r->failed; i++)
        if (bpm_inst_wait(r->inst, ids[i]))
            bpm_run_trigger(r, ids[i], NULL);
}

/* Link events: BPMN 2.0.2 §10.5.4, a go-to within one scope. */
static void jump_link(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_event_def *ev)
{
    const bpm_node *const *nodes = n->parent ? n->parent->children : n->process->top;
    size_t count = n->parent ? n->parent->n_children : n->process->n_top;
    const char *name = ev->link_name ? ev->link_name : "";
    for (size_t i = 0; i < count; i++) {
        const bpm_node *c = nodes[i];
        if (c->kind != BPM_NODE_INTERMEDIATE_CATCH)
            continue;
        for (size_t j = 0; j < c->n_events; j++) {
            const char *cn = c->events[j].link_name ? c->events[j].link_name : "";
            if (c->events[j].kind == BPM_EVENT_LINK && strcmp(cn, name) == 0) {
                uint32_t tok = bpm_run_new_ei(r, bpm_run_scope_of(r, ei), c, BPM_EI_NODE, NULL);
                bpm_run_ei(r, tok)->phase |= BPM_PHASE_TRIGGERED;
                bpm_run_schedule(r, tok);
                return;
            }
        }
    }
    bpm_run_fail(r, ei, n, "link \"%s\" has no catch event in this scope", name);
}

/* Throws compensation from event ei. BPMN 2.0.2 §10.5.5, §10.5.3:
 * waitForCompletion (the default) makes the throw event wait until the
 * handlers it triggered have completed. They run as children of the event's
 * own instance, so the event completes through bpm_run_scope_check when the
 * last one does. Returns true when the event must wait for them. */
static bool compensate_from(bpm_run *r, uint32_t ei, const bpm_event_def *ev)
{
    uint32_t scope = bpm_run_scope_of(r, ei);
    bpm_ei *s = bpm_run_ei(r, scope);
    /* inside an event subprocess, compensation is for its parent scope */
    uint32_t from = s && s->kind == BPM_EI_EVENT_SCOPE ? s->parent : scope;
    uint32_t into = ev->wait_for_completion ? ei : scope;
    bpm_run_compensate(r, from, ev->activity, into);
    return ev->wait_for_completion && !r->failed && bpm_run_count_children(r, ei) > 0;
}

static void event_enter(bpm_run *r, uint32_t ei)
{
    bpm_ei *e = bpm_run_ei(r, ei);
    const bpm_node *n = e->node;
    const bpm_event_def *ev = first_def(n);
    switch (n->kind) {
    case BPM_NODE_START_EVENT:
    case BPM_NODE_BOUNDARY_EVENT:
        /* the trigger already happened: that is why the token is here. A
         * cancel boundary event may still wait for the compensation
         * handlers it runs as children (see BPM_EVENT_CANCEL below). */
        if (bpm_run_count_children(r, ei) == 0)
            bpm_run_complete(r, ei);
        return;
    case BPM_NODE_END_EVENT:
        if (!ev || ev->kind == BPM_EVENT_NONE) {
            bpm_run_complete(r, ei);
            return;
        }
        switch (ev->kind) {
        case BPM_EVENT_TERMINATE: {
            uint32_t scope = e->parent;
            bpm_run_complete(r, ei);
            if (r->failed)
                return;
            /* BPMN 2.0.2 §10.5.3: ends every token of the enclosing scope */
            for (size_t i = r->inst->n_eis; i-- > 0;)
                if (i < r->inst->n_eis && r->inst->eis[i].parent == scope && r->inst->eis[i].state != BPM_EI_DONE)
                    bpm_run_terminate(r, r->inst->eis[i].id);
            bpm_run_scope_check(r, scope);
            return;
        }
        case BPM_EVENT_ERROR:
            bpm_run_throw_error(r, ei, ev->error ? ev->error->code : NULL, ev->error ? ev->error->message : NULL);
            return;
        case BPM_EVENT_ESCALATION:
            bpm_run_throw_escalation(r, ei, ev->escalation ? ev->escalation->code : NULL);
            if (bpm_run_ei(r, ei))
                bpm_run_complete(r, ei);
            return;
        case BPM_EVENT_CANCEL: {
            /* BPMN 2.0.2 §10.6.6: the transaction is undone, then left
             * through its cancel boundary event */
            uint32_t tx = e->parent;
            bpm_ei *t = bpm_run_ei(r, tx);
            const bpm_node *cancel = NULL;
            for (size_t i = 0; t && i < t->node->n_boundaries; i++)
                for (size_t j = 0; j < t->node->boundaries[i]->n_events; j++)
                    if (t->node->boundaries[i]->events[j].kind == BPM_EVENT_CANCEL)
                        cancel = t->node->boundaries[i];
            if (!t || !cancel) {
                bpm_run_fail(r, ei, n, "cancel end event outside a transaction with a cancel boundary event");
                return;
            }
            /* Camunda 7 (cancel boundary event): compensation is
             * synchronous, the boundary leaves the transaction only once
             * every handler has completed, so the handlers run as children
             * of the boundary's token and it completes after the last. */
            uint32_t outer = t->parent;
            uint32_t tok = bpm_run_new_ei(r, outer, cancel, BPM_EI_NODE, NULL);
            bpm_run_ei(r, tok)->phase |= BPM_PHASE_TRIGGERED;
            bpm_run_compensate(r, tx, NULL, tok);
            bpm_run_terminate(r, tx);
            bpm_run_schedule(r, tok);
            return;
        }
        case BPM_EVENT_MESSAGE:
            if (has_impl(n)) {
                bpm_run_service(r, ei, n); /* completes when its job is done */
                return;
            }
            throw_message(r, ei, n, ev);
            break;
        case BPM_EVENT_SIGNAL:
            throw_signal(r, ei, n, ev);
            break;
        case BPM_EVENT_COMPENSATE:
            if (compensate_from(r, ei, ev))
                return; /* completes when its handlers have */
            break;
        default:
            break;
        }
        if (!r->failed && bpm_run_ei(r, ei))
            bpm_run_complete(r, ei);
        return;
    case BPM_NODE_INTERMEDIATE_THROW:
        if (ev) {
            switch (ev->kind) {
            case BPM_EVENT_MESSAGE:
                if (has_impl(n)) {
                    bpm_run_service(r, ei, n); /* continues when its job is done */
                    return;
                }
                throw_message(r, ei, n, ev);
                break;
            case BPM_EVENT_SIGNAL:
                throw_signal(r, ei, n, ev);
                break;
            case BPM_EVENT_ESCALATION:
                bpm_run_throw_escalation(r, ei, ev->escalation ? ev->escalation->code : NULL);
                break;
            case BPM_EVENT_COMPENSATE:
                if (compensate_from(r, ei, ev))
                    return; /* continues when its handlers have completed */
                break;
            case BPM_EVENT_LINK:
                jump_link(r, ei, n, ev);
                break;
            default:
                break;
            }
        }
        if (!r->failed && bpm_run_ei(r, ei))
            bpm_run_complete(r, ei);
        return;
    case BPM_NODE_INTERMEDIATE_CATCH:
        if ((e->phase & BPM_PHASE_TRIGGERED) || (ev && ev->kind == BPM_EVENT_LINK)) {
            bpm_run_complete(r, ei);
            return;
        }
        if (ev && ev->kind == BPM_EVENT_CONDITIONAL && n->n_events == 1) {
            bool now = false;
            if (!bpm_run_condition(r, ei, n, &ev->condition, &now))
                return;
            if (now) {
                bpm_run_complete(r, ei);
                return;
            }
        }
        if (!bpm_run_subscribe(r, ei, n, true))
            return;
        bpm_run_ei(r, ei)->state = BPM_EI_WAITING;
        return;
    default:
        bpm_run_complete(r, ei);
    }
}

static void event_trigger(bpm_run *r, uint32_t ei, uint32_t wait, const bpm_cmd *cmd)
{
    const bpm_wait *w = bpm_inst_wait(r->inst, wait);
    if (w && w->kind == BPM_WAIT_JOB) { /* a message throw's implementation */
        bpm_run_service_done(r, ei, wait, cmd);
        return;
    }
    bpm_run_close_waits_of(r, ei);
    if (cmd->vars)
        bpm_run_set_vars(r, ei, cmd->vars, false);
    if (cmd->local_vars)
        bpm_run_set_vars(r, ei, cmd->local_vars, true);
    bpm_run_complete(r, ei);
}

const bpm_node_ops bpm_node_event_ops = {event_enter, event_trigger, NULL};
