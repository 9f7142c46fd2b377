/* Gateways (BPMN 2.0.2 §10.6, §13.4): exclusive, parallel, inclusive,
 * event-based and complex. Joins park tokens as JOINING element instances of
 * the gateway in their scope; the inclusive join fires once no token in the
 * scope can still arrive on an empty incoming flow only (§13.4.3); a complex
 * gateway waiting for reset keeps that state in a hidden variable of its scope
 * (§13.4.5). */
#include <stdio.h>
#include <string.h>

#include "exec_int.h"

/* JOINING tokens at gateway n in scope, one per incoming flow (the oldest). */
static size_t arrivals(bpm_run *r, uint32_t scope, const bpm_node *n, uint32_t *per_flow, size_t *distinct)
{
    size_t total = 0;
    *distinct = 0;
    for (size_t f = 0; f < n->n_incoming; f++)
        per_flow[f] = 0;
    for (size_t i = 0; i < r->inst->n_eis; i++) {
        const bpm_ei *e = &r->inst->eis[i];
        if (e->parent != scope || e->node != n || e->state != BPM_EI_JOINING)
            continue;
        total++;
        for (size_t f = 0; f < n->n_incoming; f++) {
            if (e->via == n->incoming[f] && !per_flow[f]) {
                per_flow[f] = e->id;
                (*distinct)++;
                break;
            }
        }
    }
    return total;
}

/* Fires the join: one token continues (keeper), the other consumed tokens
 * leave the gateway without taking flows. */
static void fire_join(bpm_run *r, const uint32_t *per_flow, size_t n, uint32_t keeper)
{
    for (size_t f = 0; f < n; f++) {
        if (!per_flow[f] || per_flow[f] == keeper)
            continue;
        bpm_effect *fx = bpm_run_effect(r, BPM_FX_LEAVE, per_flow[f], bpm_run_ei(r, per_flow[f])->node);
        (void)fx;
        bpm_run_drop_ei(r, per_flow[f]);
    }
    bpm_ei *k = bpm_run_ei(r, keeper);
    k->state = BPM_EI_ACTIVE;
    bpm_run_complete(r, keeper);
}

/* Link catch events in the scope of throw event n that its link jumps to. */
static void link_targets(const bpm_node *n, const bpm_node ***out, size_t *n_out, bpm_arena *a)
{
    *n_out = 0;
    *out = NULL;
    if (n->kind != BPM_NODE_INTERMEDIATE_THROW)
        return;
    const bpm_node *const *nodes = n->parent ? n->parent->children : n->process->top;
    size_t count = n->parent ? n->parent->n_children : n->process->n_top;
    for (size_t e = 0; e < n->n_events; e++) {
        if (n->events[e].kind != BPM_EVENT_LINK)
            continue;
        const char *name = n->events[e].link_name ? n->events[e].link_name : "";
        for (size_t i = 0; i < count; i++) {
            const bpm_node *c = nodes[i];
            if (c->kind != BPM_NODE_INTERMEDIATE_CATCH)
                continue;
            for (size_t j = 0; j < c->n_events; j++) {
                const char *cn = c->events[j].link_name ? c->events[j].link_name : "";
                if (c->events[j].kind == BPM_EVENT_LINK && strcmp(cn, name) == 0) {
                    if (!*out)
                        *out = bpm_arena_calloc(a, count, sizeof **out);
                    (*out)[(*n_out)++] = c;
                    break;
                }
            }
        }
    }
}

/* Marks in `hit` the incoming flows of gateway g that a token at `from` (in the
 * same scope) can reach along sequence flows, boundary events and links,
 * without passing through g (BPMN 2.0.2 §13.4.3: paths that "do not visit the
 * Inclusive Gateway"). Paths never leave the scope: tokens of an enclosing
 * scope are not considered, and a nested subprocess counts as one node. */
static void reach_incoming(bpm_run *r, const bpm_node *from, const bpm_node *g, uint8_t *seen, uint8_t *hit,
                           bool boundaries)
{
    if (from == g || seen[from->index])
        return;
    seen[from->index] = 1;
    for (size_t i = 0; i < from->n_outgoing; i++) {
        const bpm_flow *f = from->outgoing[i];
        if (!f->target)
            continue;
        if (f->target == g) {
            for (size_t k = 0; k < g->n_incoming; k++)
                if (g->incoming[k] == f)
                    hit[k] = 1;
            continue;
        }
        reach_incoming(r, f->target, g, seen, hit, boundaries);
    }
    for (size_t i = 0; boundaries && i < from->n_boundaries; i++)
        reach_incoming(r, from->boundaries[i], g, seen, hit, boundaries);
    const bpm_node **links;
    size_t n_links;
    link_targets(from, &links, &n_links, r->arena);
    for (size_t i = 0; i < n_links; i++)
        reach_incoming(r, links[i], g, seen, hit, boundaries);
}

/* The ancestor of ei that lives directly in scope (ei itself, or the
 * subprocess it is nested in), or 0. */
static uint32_t ancestor_in(bpm_run *r, uint32_t ei, uint32_t scope)
{
    for (uint32_t id = ei; id;) {
        const bpm_ei *e = bpm_inst_ei(r->inst, id);
        if (!e)
            return 0;
        if (e->parent == scope)
            return id;
        id = e->parent;
    }
    return 0;
}

/* BPMN 2.0.2 §13.4.3 (Table 13.3): an inclusive join with at least one token
 * is activated unless some token elsewhere in its scope has a path to an
 * incoming flow that is not occupied and no path to one that is. Such a token
 * may still arrive and must be waited for; a token that can also reach an
 * occupied flow belongs to a later activation (Camunda issue CAM-9367), and
 * one that cannot reach the join at all is ignored. occupied[k]: incoming flow
 * k has a token (for the complex gateway's reset: or gave one at the start,
 * §13.4.5). */
static bool no_token_pending(bpm_run *r, uint32_t scope, const bpm_node *g, const uint8_t *occupied)
{
    size_t n_nodes = r->p->n_nodes ? r->p->n_nodes : 1;
    uint8_t *seen = bpm_arena_calloc(r->arena, n_nodes, 1);
    uint8_t *hit = bpm_arena_calloc(r->arena, g->n_incoming ? g->n_incoming : 1, 1);
    for (size_t i = 0; i < r->inst->n_eis; i++) {
        const bpm_ei *e = &r->inst->eis[i];
        if (e->state == BPM_EI_DONE || e->kind == BPM_EI_PROCESS)
            continue;
        if (e->node == g && e->parent == scope) {
            if (e->state == BPM_EI_JOINING)
                continue; /* already on an incoming flow */
            return false; /* about to arrive: let it join this activation */
        }
        uint32_t a = ancestor_in(r, e->id, scope);
        if (!a)
            continue;
        const bpm_ei *ae = bpm_inst_ei(r->inst, a);
        if (!ae->node || ae->kind == BPM_EI_EVENT_SCOPE)
            continue;
        /* It may arrive on an empty flow by any path, boundary events
         * included (it must be waited for); it belongs to a later activation
         * only if its own token, by sequence flows alone, reaches an occupied
         * flow (Table 13.3 speaks of paths "formed by Sequence Flow"; a
         * boundary event does not move the waiting token itself). */
        memset(seen, 0, n_nodes);
        memset(hit, 0, g->n_incoming);
        reach_incoming(r, ae->node, g, seen, hit, true);
        bool to_empty = false, to_occupied = false;
        for (size_t k = 0; k < g->n_incoming; k++)
            if (hit[k] && !occupied[k])
                to_empty = true;
        memset(seen, 0, n_nodes);
        memset(hit, 0, g->n_incoming);
        reach_incoming(r, ae->node, g, seen, hit, false);
        for (size_t k = 0; k < g->n_incoming; k++)
            if (hit[k] && occupied[k])
                to_occupied = true;
        if (to_empty && !to_occupied)
            return false;
    }
    return true;
}

/* ---- complex gateway (BPMN 2.0.2 §10.6.5, §13.4.5) -----------------------------
 * Waiting for start: the activation condition decides, with activationCount
 * (incoming flows holding a token) visible to it; one token per such flow is
 * consumed and the outgoing flows are chosen like an inclusive split (no flow
 * and no default: incident). If some incoming flows gave no token, the
 * gateway waits for reset: tokens later arriving on those flows are consumed
 * together once no other token can still reach one of them (inclusive join
 * rule), the outgoing conditions are evaluated again and this time taking no
 * flow is allowed. Outgoing conditions see waitingForStart (true, then false).
 * The reset state is a hidden variable of the gateway's scope, listing the
 * flows consumed at the start, so it lives and ends with the scope. If none
 * of the remaining flows can get a token any more, the state is dropped
 * without producing anything. */

static const char *complex_state_name(bpm_run *r, const bpm_node *n)
{
    size_t len = strlen(n->id) + sizeof "__complex:";
    char *s = bpm_arena_alloc(r->arena, len);
    snprintf(s, len, "__complex:%s", n->id);
    return s;
}

/* The flows consumed at the start (array of flow ids) while waiting for
 * reset, or NULL while waiting for start. Borrowed. */
static json_t *complex_state(bpm_run *r, uint32_t scope, const bpm_node *n)
{
    bpm_ei *s = bpm_run_ei(r, scope);
    return s && s->vars ? json_object_get(s->vars, complex_state_name(r, n)) : NULL;
}

static bool complex_consumed(const json_t *state, const bpm_flow *f)
{
    size_t i;
    json_t *v;
    json_array_foreach(state, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), f->id) == 0)
            return true;
    }
    return false;
}

static void set_gateway_locals(bpm_run *r, uint32_t keeper, size_t distinct, bool waiting_for_start)
{
    bpm_run_set_local(r, keeper, "activationCount", json_integer((json_int_t)distinct));
    bpm_run_set_local(r, keeper, "waitingForStart", json_boolean(waiting_for_start));
}

static uint32_t oldest(const uint32_t *per_flow, size_t n)
{
    uint32_t keeper = 0;
    for (size_t f = 0; f < n; f++)
        if (per_flow[f] && (!keeper || per_flow[f] < keeper))
            keeper = per_flow[f];
    return keeper;
}

/* Waiting for reset: consume the late tokens when nothing else can come.
 * Returns true when it fired (tokens consumed); *cleared when the state was
 * dropped so that waiting for start applies again. */
static bool complex_try_reset(bpm_run *r, uint32_t scope, const bpm_node *n, const json_t *state, uint32_t *per_flow,
                              bool *cleared)
{
    *cleared = false;
    uint8_t *occupied = bpm_arena_calloc(r->arena, n->n_incoming ? n->n_incoming : 1, 1);
    size_t late = 0;
    for (size_t k = 0; k < n->n_incoming; k++) {
        bool consumed = complex_consumed(state, n->incoming[k]);
        occupied[k] = consumed || per_flow[k];
        if (consumed)
            per_flow[k] = 0; /* a token there waits for the next start */
        else if (per_flow[k])
            late++;
    }
    if (!no_token_pending(r, scope, n, occupied))
        return false;
    bpm_run_set_local(r, scope, complex_state_name(r, n), NULL);
    if (!late) {
        *cleared = true;
        return false;
    }
    uint32_t keeper = oldest(per_flow, n->n_incoming);
    set_gateway_locals(r, keeper, late, false);
    fire_join(r, per_flow, n->n_incoming, keeper);
    return true;
}

static bool complex_try_start(bpm_run *r, uint32_t ei, uint32_t scope, const bpm_node *n, const uint32_t *per_flow,
                              size_t distinct)
{
    bool fire = false;
    if (n->activation_condition.text) {
        bpm_run_set_local(r, ei, "activationCount", json_integer((json_int_t)distinct));
        if (!bpm_run_condition(r, ei, n, &n->activation_condition, &fire))
            return false;
    } else {
        fire = distinct == n->n_incoming; /* no condition: wait for all */
    }
    if (!fire || !distinct)
        return false;
    if (distinct < n->n_incoming) {
        json_t *consumed = json_array();
        for (size_t k = 0; k < n->n_incoming; k++)
            if (per_flow[k])
                json_array_append_new(consumed, json_string(n->incoming[k]->id));
        bpm_run_set_local(r, scope, complex_state_name(r, n), consumed);
    }
    uint32_t keeper = oldest(per_flow, n->n_incoming);
    set_gateway_locals(r, keeper, distinct, true);
    fire_join(r, per_flow, n->n_incoming, keeper);
    return true;
}

/* Tries to fire a waiting joining gateway; true when it did. */
static bool try_join(bpm_run *r, uint32_t ei)
{
    bpm_ei *e = bpm_run_ei(r, ei);
    const bpm_node *n = e->node;
    uint32_t scope = e->parent;
    uint32_t stack_ids[32];
    uint32_t *per_flow = n->n_incoming <= 32 ? stack_ids : bpm_arena_calloc(r->arena, n->n_incoming, sizeof *per_flow);
    size_t distinct = 0;
    arrivals(r, scope, n, per_flow, &distinct);
    switch (n->kind) {
    case BPM_NODE_PARALLEL_GATEWAY:
        /* BPMN 2.0.2 §13.4.1: a token on every incoming flow; excess tokens
         * on a flow stay for the next activation */
        if (distinct != n->n_incoming)
            return false;
        break;
    case BPM_NODE_INCLUSIVE_GATEWAY: {
        uint8_t *occupied = bpm_arena_calloc(r->arena, n->n_incoming ? n->n_incoming : 1, 1);
        for (size_t k = 0; k < n->n_incoming; k++)
            occupied[k] = per_flow[k] != 0;
        if (!distinct || !no_token_pending(r, scope, n, occupied))
            return false;
        break;
    }
    case BPM_NODE_COMPLEX_GATEWAY: {
        const json_t *state = complex_state(r, scope, n);
        if (state) {
            bool cleared = false;
            if (complex_try_reset(r, scope, n, state, per_flow, &cleared))
                return true;
            if (!cleared || r->failed)
                return false;
            arrivals(r, scope, n, per_flow, &distinct);
        }
        return complex_try_start(r, ei, scope, n, per_flow, distinct);
    }
    default:
        return false;
    }
    fire_join(r, per_flow, n->n_incoming, oldest(per_flow, n->n_incoming));
    return true;
}

static void gateway_enter(bpm_run *r, uint32_t ei)
{
    bpm_ei *e = bpm_run_ei(r, ei);
    const bpm_node *n = e->node;
    switch (n->kind) {
    case BPM_NODE_PARALLEL_GATEWAY:
    case BPM_NODE_INCLUSIVE_GATEWAY:
    case BPM_NODE_COMPLEX_GATEWAY:
        if (n->n_incoming > 1) {
            e->state = BPM_EI_JOINING;
            try_join(r, ei);
            return;
        }
        bpm_run_complete(r, ei);
        return;
    case BPM_NODE_EVENT_BASED_GATEWAY:
        if (e->phase & BPM_PHASE_TRIGGERED) { /* an instantiating gateway's event already came */
            bpm_run_complete(r, ei);
            return;
        }
        for (size_t i = 0; i < n->n_outgoing; i++) {
            const bpm_node *t = n->outgoing[i]->target;
            if (!t)
                continue;
            if (t->kind == BPM_NODE_RECEIVE_TASK) {
                uint32_t w = bpm_run_open_wait(r, ei, t, BPM_WAIT_MESSAGE);
                bpm_wait *wt = bpm_inst_wait(r->inst, w);
                wt->name = bpm_arena_strdup(r->inst->arena, t->message ? t->message->name : "");
                wt->interrupting = true;
            } else if (!bpm_run_subscribe(r, ei, t, true)) {
                return;
            }
        }
        bpm_run_ei(r, ei)->state = BPM_EI_WAITING;
        return;
    default:
        bpm_run_complete(r, ei);
    }
}

/* The event-based gateway: the first event wins, the others are cancelled. */
static void gateway_trigger(bpm_run *r, uint32_t ei, uint32_t wait, const bpm_cmd *cmd)
{
    bpm_wait *w = bpm_inst_wait(r->inst, wait);
    const bpm_node *target = w->node;
    bpm_ei *e = bpm_run_ei(r, ei);
    const bpm_node *n = e->node;
    const bpm_flow *flow = NULL;
    for (size_t i = 0; i < n->n_outgoing; i++)
        if (n->outgoing[i]->target == target)
            flow = n->outgoing[i];
    bpm_run_close_waits_of(r, ei);
    e = bpm_run_ei(r, ei);
    e->state = BPM_EI_DONE;
    bpm_run_effect(r, BPM_FX_LEAVE, ei, n);
    uint32_t scope = e->parent;
    bpm_effect *fx = bpm_run_effect(r, BPM_FX_TAKE, ei, n);
    fx->flow = flow;
    uint32_t tok = bpm_run_new_ei(r, scope, target, BPM_EI_NODE, flow);
    bpm_run_ei(r, tok)->phase |= BPM_PHASE_TRIGGERED;
    if (cmd->vars)
        bpm_run_set_vars(r, tok, cmd->vars, false);
    bpm_run_schedule(r, tok);
    bpm_run_drop_ei(r, ei);
}

static void gateway_leave(bpm_run *r, uint32_t ei)
{
    bpm_ei *e = bpm_inst_ei(r->inst, ei);
    const bpm_node *n = e->node;
    switch (n->kind) {
    case BPM_NODE_EXCLUSIVE_GATEWAY: {
        /* BPMN 2.0.2 §13.4.2: the first flow, in document order, whose
         * condition holds; else the default; else the instance is stuck */
        for (size_t i = 0; i < n->n_outgoing; i++) {
            const bpm_flow *f = n->outgoing[i];
            if (f->is_default)
                continue;
            bool ok = true;
            if (!bpm_run_condition(r, ei, n, &f->condition, &ok))
                return;
            if (ok) {
                bpm_run_take(r, ei, f);
                return;
            }
        }
        if (n->default_flow) {
            bpm_run_take(r, ei, n->default_flow);
            return;
        }
        if (n->n_outgoing)
            bpm_run_fail(r, ei, n, "no condition on the outgoing flows of exclusive gateway \"%s\" is true and it has no default flow",
                         n->id);
        return;
    }
    case BPM_NODE_INCLUSIVE_GATEWAY:
    case BPM_NODE_COMPLEX_GATEWAY: {
        size_t taken = 0;
        for (size_t i = 0; i < n->n_outgoing; i++) {
            const bpm_flow *f = n->outgoing[i];
            if (f->is_default)
                continue;
            bool ok = true;
            if (!bpm_run_condition(r, ei, n, &f->condition, &ok))
                return;
            if (ok) {
                bpm_run_take(r, ei, f);
                taken++;
            }
        }
        /* §13.4.5: at a complex gateway's reset, taking no flow is fine */
        const json_t *wfs = n->kind == BPM_NODE_COMPLEX_GATEWAY && e->vars ? json_object_get(e->vars, "waitingForStart") : NULL;
        if (!taken && n->default_flow)
            bpm_run_take(r, ei, n->default_flow);
        else if (!taken && n->n_outgoing && !json_is_false(wfs))
            bpm_run_fail(r, ei, n, "no condition on the outgoing flows of %s \"%s\" is true and it has no default flow",
                         bpm_model_kind_name(n->kind), n->id);
        return;
    }
    default:
        /* parallel: every outgoing flow, conditions ignored */
        for (size_t i = 0; i < n->n_outgoing; i++)
            bpm_run_take(r, ei, n->outgoing[i]);
    }
}

const bpm_node_ops bpm_node_gateway_ops = {gateway_enter, gateway_trigger, gateway_leave};

/* Called when the agenda is empty: tokens may have ended elsewhere, so a
 * waiting inclusive (or complex) join may fire now. */
bool bpm_node_gateway_settle(bpm_run *r)
{
    for (size_t i = 0; i < r->inst->n_eis; i++) {
        const bpm_ei *e = &r->inst->eis[i];
        if (e->state != BPM_EI_JOINING || !e->node)
            continue;
        if (e->node->kind != BPM_NODE_INCLUSIVE_GATEWAY && e->node->kind != BPM_NODE_COMPLEX_GATEWAY)
            continue;
        if (try_join(r, e->id))
            return true;
        if (r->failed)
            return false;
    }
    return false;
}
