/* Token movement common to every element: entering and completing element
 * instances, taking flows, completing scopes, cancelling, multi-instance and
 * loops, boundary and event-subprocess subscriptions, and the propagation of
 * BPMN errors and escalations up the scope tree (BPMN 2.0.2 §10.5.6). */
#include <stdio.h>
#include <string.h>

#include "exec_int.h"
#include "timer.h"

/* Private phase bits, beside bpm_ei_phase (inst.h), which stops at 8. An
 * ad-hoc subprocess whose completionCondition held starts nothing more. */
#define PHASE_ADHOC_CLOSED 16
/* A completed subprocess revived as the context of its compensation event
 * subprocess: when that is done it goes without completing again. */
#define PHASE_COMP_SCOPE 32

uint32_t bpm_run_scope_of(bpm_run *r, uint32_t ei)
{
    bpm_ei *e = bpm_run_ei(r, ei);
    return e ? e->parent : 0;
}

static bool is_inner(const bpm_ei *e) { return (e->phase & BPM_PHASE_INNER) != 0; }

/* The container node a scope ei stands for (NULL for the process). */
static const bpm_node *container_of(bpm_run *r, uint32_t scope)
{
    bpm_ei *s = bpm_run_ei(r, scope);
    return s ? s->node : NULL;
}

/* Nodes directly inside a scope: the container's children or the process top. */
static void scope_nodes(bpm_run *r, uint32_t scope, const bpm_node *const **nodes, size_t *n)
{
    const bpm_node *c = container_of(r, scope);
    if (c) {
        *nodes = c->children;
        *n = c->n_children;
    } else {
        *nodes = r->p->top;
        *n = r->p->n_top;
    }
}

/* ---- subscriptions ------------------------------------------------------------ */

bool bpm_run_subscribe(bpm_run *r, uint32_t ei, const bpm_node *n, bool interrupting)
{
    for (size_t i = 0; i < n->n_events; i++) {
        const bpm_event_def *ev = &n->events[i];
        uint32_t w;
        switch (ev->kind) {
        case BPM_EVENT_MESSAGE: {
            const char *name = ev->message ? ev->message->name : NULL;
            const char *key = NULL;
            if (name && (strstr(name, "${") || name[0] == '=')) {
                bpm_expr e = {.text = name[0] == '=' ? name + 1 : name,
                              .dialect = name[0] == '=' ? BPM_DIALECT_FEEL : BPM_DIALECT_JUEL};
                if (!bpm_run_eval_string(r, ei, n, &e, &name))
                    return false;
            }
            if (ev->message && ev->message->correlation_key.text &&
                !bpm_run_eval_string(r, ei, n, &ev->message->correlation_key, &key))
                return false;
            w = bpm_run_open_wait(r, ei, n, BPM_WAIT_MESSAGE);
            bpm_wait *wt = bpm_inst_wait(r->inst, w);
            wt->name = bpm_arena_strdup(r->inst->arena, name ? name : "");
            wt->key = bpm_arena_strdup(r->inst->arena, key);
            wt->interrupting = interrupting;
            break;
        }
        case BPM_EVENT_SIGNAL: {
            const char *name = ev->signal ? ev->signal->name : NULL;
            w = bpm_run_open_wait(r, ei, n, BPM_WAIT_SIGNAL);
            bpm_wait *wt = bpm_inst_wait(r->inst, w);
            wt->name = bpm_arena_strdup(r->inst->arena, name ? name : (ev->ref ? ev->ref : ""));
            wt->interrupting = interrupting;
            break;
        }
        case BPM_EVENT_TIMER: {
            const char *value = ev->timer.text;
            if (ev->timer.dialect != BPM_DIALECT_LITERAL && !bpm_run_eval_string(r, ei, n, &ev->timer, &value))
                return false;
            if (!value) {
                bpm_run_fail(r, ei, n, "timer value is empty");
                return false;
            }
            int64_t due = 0;
            bool done = false;
            bpm_err err = {0};
            if (bpm_timer_next_due(ev->timer_kind, value, r->env->now_ms, r->env->now_ms, 0, &due, &done, &err) != BPM_OK) {
                bpm_run_fail(r, ei, n, "%s", err.msg);
                return false;
            }
            if (done)
                break; /* a cycle with no occurrence left */
            w = bpm_run_open_wait(r, ei, n, BPM_WAIT_TIMER);
            bpm_wait *wt = bpm_inst_wait(r->inst, w);
            wt->due_ms = due;
            wt->timer = bpm_arena_strdup(r->inst->arena, value);
            wt->name = bpm_model_event_kind_name(BPM_EVENT_TIMER);
            wt->interrupting = interrupting;
            wt->async_point = (uint8_t)ev->timer_kind; /* remembered to reschedule cycles */
            break;
        }
        case BPM_EVENT_CONDITIONAL:
            w = bpm_run_open_wait(r, ei, n, BPM_WAIT_CONDITION);
            bpm_inst_wait(r->inst, w)->interrupting = interrupting;
            break;
        default:
            break;
        }
    }
    return !r->failed;
}

bool bpm_run_open_boundaries(bpm_run *r, uint32_t ei)
{
    const bpm_node *n = bpm_run_ei(r, ei)->node;
    for (size_t i = 0; i < n->n_boundaries; i++)
        if (!bpm_run_subscribe(r, ei, n->boundaries[i], n->boundaries[i]->interrupting))
            return false;
    return true;
}

/* ---- scopes ------------------------------------------------------------------------ */

static const bpm_node *none_start(const bpm_node *const *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (nodes[i]->kind == BPM_NODE_START_EVENT && nodes[i]->n_events == 0)
            return nodes[i];
    return NULL;
}

void bpm_run_start_scope(bpm_run *r, uint32_t scope, const bpm_node *start)
{
    const bpm_node *const *nodes;
    size_t n;
    scope_nodes(r, scope, &nodes, &n);
    bpm_ei *se = bpm_run_ei(r, scope);
    if (se && se->kind == BPM_EI_PROCESS && !bpm_run_process_listeners(r, scope, "start"))
        return;
    /* Event subprocesses listen for as long as their scope lives. */
    for (size_t i = 0; i < n; i++) {
        if (nodes[i]->kind != BPM_NODE_EVENT_SUBPROCESS)
            continue;
        for (size_t j = 0; j < nodes[i]->n_children; j++) {
            const bpm_node *s = nodes[i]->children[j];
            if (s->kind == BPM_NODE_START_EVENT && !bpm_run_subscribe(r, scope, s, s->interrupting))
                return;
        }
    }
    const bpm_node *container = container_of(r, scope);
    if (container && container->kind == BPM_NODE_ADHOC_SUBPROCESS) {
        /* Ad-hoc: every activity without incoming flows is offered at once. */
        for (size_t i = 0; i < n; i++)
            if (!nodes[i]->n_incoming && bpm_model_is_activity(nodes[i]->kind) && !nodes[i]->for_compensation &&
                nodes[i]->kind != BPM_NODE_EVENT_SUBPROCESS)
                bpm_run_schedule(r, bpm_run_new_ei(r, scope, nodes[i], BPM_EI_NODE, NULL));
        return;
    }
    if (!start)
        start = none_start(nodes, n);
    if (!start) {
        bpm_run_fail(r, scope, container, "%s has no none start event to begin with",
                     container ? "subprocess" : "process");
        return;
    }
    bpm_run_schedule(r, bpm_run_new_ei(r, scope, start, BPM_EI_NODE, NULL));
}

static void end_instance(bpm_run *r, bpm_inst_state how, const char *detail)
{
    for (size_t i = r->inst->n_waits; i-- > 0;)
        bpm_run_close_wait(r, r->inst->waits[i].id);
    r->inst->state = (uint8_t)how;
    bpm_effect *fx = bpm_run_effect(r, BPM_FX_END, 0, NULL);
    fx->message = detail;
    const bpm_ei *root = bpm_inst_root(r->inst);
    fx->value = root && root->vars ? json_copy(root->vars) : json_object();
}

void bpm_run_scope_check(bpm_run *r, uint32_t scope)
{
    bpm_ei *s = bpm_run_ei(r, scope);
    if (!s || s->state != BPM_EI_ACTIVE || s->kind == BPM_EI_MI_BODY)
        return;
    if (bpm_run_count_children(r, scope))
        return;
    if (s->phase & PHASE_COMP_SCOPE) {
        uint32_t parent = s->parent;
        bpm_run_close_waits_of(r, scope);
        bpm_run_drop_ei(r, scope);
        bpm_run_scope_check(r, parent);
        return;
    }
    if (s->kind == BPM_EI_PROCESS) {
        /* Camunda 7 delegation-code "Execution Listener": start and end of a
         * process instance */
        if (!bpm_run_process_listeners(r, scope, "end"))
            return;
        bpm_run_close_waits_of(r, scope);
        bpm_run_effect(r, BPM_FX_LEAVE, scope, NULL);
        s->state = BPM_EI_DONE; /* the root stays: it holds the final variables */
        end_instance(r, BPM_INST_COMPLETED, "completed");
        return;
    }
    bpm_run_complete(r, scope);
}

/* ---- cancelling --------------------------------------------------------------------- */

void bpm_run_terminate(bpm_run *r, uint32_t ei)
{
    /* children first, deepest first, so history reads inside-out */
    for (size_t i = r->inst->n_eis; i-- > 0;) {
        if (i >= r->inst->n_eis)
            continue;
        bpm_ei *c = &r->inst->eis[i];
        if (c->parent == ei && c->state != BPM_EI_DONE)
            bpm_run_terminate(r, c->id);
    }
    bpm_ei *e = bpm_run_ei(r, ei);
    if (!e)
        return;
    if (e->node && e->node->kind == BPM_NODE_USER_TASK && e->state == BPM_EI_WAITING && e->node->user &&
        e->node->user->n_task_listeners) {
        /* Camunda 7 delegation-code: "delete" fires just before a task is
         * removed by an interrupting boundary event, an interrupting event
         * subprocess or the instance's deletion */
        bool has_task = false;
        for (size_t i = 0; i < r->inst->n_waits; i++)
            has_task |= r->inst->waits[i].ei == ei && r->inst->waits[i].kind == BPM_WAIT_USER_TASK;
        if (has_task)
            bpm_run_task_listeners(r, ei, "delete", NULL);
        e = bpm_run_ei(r, ei);
        if (!e)
            return;
    }
    bpm_run_close_waits_of(r, ei);
    bpm_effect *fx = bpm_run_effect(r, BPM_FX_CANCEL, ei, e->node);
    (void)fx;
    if (e->kind == BPM_EI_PROCESS) {
        e->state = BPM_EI_DONE;
        if (r->inst->state == BPM_INST_ACTIVE)
            end_instance(r, BPM_INST_TERMINATED, "terminated");
        return;
    }
    bpm_run_drop_ei(r, ei);
}

/* Cancels every token in a scope but keeps the scope itself. */
static void clear_scope(bpm_run *r, uint32_t scope)
{
    for (size_t i = r->inst->n_eis; i-- > 0;) {
        if (i >= r->inst->n_eis)
            continue;
        bpm_ei *c = &r->inst->eis[i];
        if (c->parent == scope && c->state != BPM_EI_DONE)
            bpm_run_terminate(r, c->id);
    }
}

/* ---- multi-instance -------------------------------------------------------------------- */

static uint32_t new_inner(bpm_run *r, uint32_t body, int32_t index)
{
    bpm_ei *b = bpm_run_ei(r, body);
    const bpm_node *n = b->node;
    json_t *elem = NULL;
    if (n->loop->element_variable) {
        json_t *coll = b->vars ? json_object_get(b->vars, "__collection") : NULL;
        elem = json_incref(json_array_get(coll, (size_t)index));
    }
    uint32_t in = bpm_run_new_ei(r, body, n, BPM_EI_NODE, NULL);
    bpm_ei *e = bpm_run_ei(r, in);
    e->phase = BPM_PHASE_INNER | (n->loop->async_before ? 0 : BPM_PHASE_PAST_BEFORE);
    e->loop_counter = index;
    bpm_run_set_local(r, in, "loopCounter", json_integer(index));
    if (n->loop->element_variable)
        bpm_run_set_local(r, in, n->loop->element_variable, elem ? elem : json_null());
    b = bpm_run_ei(r, body);
    b->nr_active++;
    b->loop_counter = index + 1;
    bpm_run_set_local(r, body, "nrOfActiveInstances", json_integer(b->nr_active));
    return in;
}

/* The token enters the multi-instance body: evaluate the collection or the
 * cardinality and start the iterations (BPMN 2.0.2 §10.3.8). */
static void enter_mi(bpm_run *r, uint32_t ei)
{
    bpm_ei *b = bpm_run_ei(r, ei);
    const bpm_node *n = b->node;
    const bpm_loop *l = n->loop;
    b->kind = BPM_EI_MI_BODY;
    int64_t count = 0;
    if (l->collection.text) {
        json_t *coll = NULL;
        if (l->collection.dialect == BPM_DIALECT_LUA && !strpbrk(l->collection.text, " ()[].+-*/\"'")) {
            /* a bare name (loopDataInputRef, camunda:collection="items") */
            coll = json_incref(bpm_run_get_var(r, ei, l->collection.text));
            if (!coll) {
                bpm_run_fail(r, ei, n, "multi-instance collection variable \"%s\" is not defined", l->collection.text);
                return;
            }
        } else if (!bpm_run_eval(r, ei, n, &l->collection, BPM_USE_VALUE, &coll))
            return;
        if (!json_is_array(coll)) {
            bpm_run_fail(r, ei, n, "multi-instance collection \"%s\" is not a list", l->collection.text);
            json_decref(coll);
            return;
        }
        count = (int64_t)json_array_size(coll);
        bpm_run_set_local(r, ei, "__collection", coll);
    } else {
        json_t *c = NULL;
        if (!bpm_run_eval(r, ei, n, &l->cardinality, BPM_USE_VALUE, &c))
            return;
        if (json_is_string(c)) {
            char *end = NULL;
            long long v = strtoll(json_string_value(c), &end, 10);
            bool whole = end && end != json_string_value(c) && *end == '\0'; /* read before c is freed */
            json_decref(c);
            c = whole ? json_integer(v) : json_null();
        }
        if (!json_is_integer(c) || json_integer_value(c) < 0) {
            bpm_run_fail(r, ei, n, "loop cardinality \"%s\" is not a non-negative integer", l->cardinality.text);
            json_decref(c);
            return;
        }
        count = json_integer_value(c);
        json_decref(c);
    }
    if (count > 100000) {
        bpm_run_fail(r, ei, n, "multi-instance would create %lld instances; the limit is 100000", (long long)count);
        return;
    }
    b = bpm_run_ei(r, ei);
    b->nr_instances = (int32_t)count;
    b->nr_active = 0;
    b->nr_completed = 0;
    b->state = BPM_EI_ACTIVE;
    bpm_run_set_local(r, ei, "nrOfInstances", json_integer(count));
    bpm_run_set_local(r, ei, "nrOfCompletedInstances", json_integer(0));
    bpm_run_set_local(r, ei, "nrOfActiveInstances", json_integer(0));
    if (l->output_collection)
        bpm_run_set_local(r, ei, l->output_collection, json_array());
    if (!bpm_run_open_boundaries(r, ei))
        return;
    if (count == 0) {
        bpm_run_complete(r, ei);
        return;
    }
    for (int64_t i = 0; i < (l->sequential ? 1 : count); i++)
        bpm_run_schedule(r, new_inner(r, ei, (int32_t)i));
}

/* One iteration finished: collect output, check the completion condition,
 * start the next sequential iteration or finish the body. */
static void inner_done(bpm_run *r, uint32_t inner)
{
    bpm_ei *e = bpm_run_ei(r, inner);
    uint32_t body = e->parent;
    const bpm_node *n = e->node;
    const bpm_loop *l = n->loop;
    if (l->output_collection && l->output_element.text) {
        json_t *v = NULL;
        if (!bpm_run_eval(r, inner, n, &l->output_element, BPM_USE_VALUE, &v))
            return;
        bpm_ei *b = bpm_run_ei(r, body);
        json_t *out = json_object_get(b->vars, l->output_collection);
        json_t *copy = json_is_array(out) ? json_copy(out) : json_array();
        int32_t idx = e->loop_counter;
        while (json_array_size(copy) <= (size_t)idx)
            json_array_append_new(copy, json_null());
        json_array_set_new(copy, (size_t)idx, v);
        bpm_run_set_local(r, body, l->output_collection, copy);
    }
    bpm_ei *b = bpm_run_ei(r, body);
    b->nr_active--;
    b->nr_completed++;
    bpm_run_set_local(r, body, "nrOfActiveInstances", json_integer(b->nr_active));
    bpm_run_set_local(r, body, "nrOfCompletedInstances", json_integer(b->nr_completed));
    /* The condition is evaluated on the instance that ended, so it sees that
     * instance's loopCounter and element variable as well as the body's
     * counters (Camunda 7 evaluates it on the ended execution). */
    bool done = false;
    if (l->completion_condition.text && !bpm_run_condition(r, inner, n, &l->completion_condition, &done))
        return;
    bpm_run_effect(r, BPM_FX_LEAVE, inner, n);
    bpm_run_close_waits_of(r, inner);
    bpm_run_drop_ei(r, inner);
    b = bpm_run_ei(r, body);
    if (done) {
        clear_scope(r, body); /* BPMN 2.0.2 §10.3.8: remaining instances are cancelled */
        bpm_run_complete(r, body);
    } else if (b->nr_completed >= b->nr_instances) {
        bpm_run_complete(r, body);
    } else if (l->sequential && b->nr_active == 0) {
        bpm_run_schedule(r, new_inner(r, body, b->loop_counter));
    }
}

/* ---- entering and completing -------------------------------------------------------------- */

static void start_job_wait(bpm_run *r, uint32_t ei, bpm_async_point point)
{
    bpm_ei *e = bpm_run_ei(r, ei);
    uint32_t w = bpm_run_open_wait(r, ei, e->node, BPM_WAIT_ASYNC);
    bpm_wait *wt = bpm_inst_wait(r->inst, w);
    wt->async_point = (uint8_t)point;
    wt->name = point == BPM_ASYNC_BEFORE ? "asyncBefore" : "asyncAfter";
    bpm_run_ei(r, ei)->state = BPM_EI_WAITING;
}

static void finish(bpm_run *r, uint32_t ei);

void bpm_run_enter(bpm_run *r, uint32_t ei)
{
    bpm_ei *e = bpm_run_ei(r, ei);
    if (!e || e->state != BPM_EI_READY)
        return;
    const bpm_node *n = e->node;
    if (++r->moves > r->max_moves) {
        bpm_run_fail(r, ei, n,
                     "more than %zu elements were entered in one step without reaching a wait state; the flow loops through \"%s\"",
                     r->max_moves, n->id);
        return;
    }
    bool activity = bpm_model_is_activity(n->kind);
    /* camunda:asyncBefore on the activity delays the whole activity (the
     * multi-instance body); on multiInstanceLoopCharacteristics, each instance */
    bool async_before = activity && (is_inner(e) ? n->loop->async_before : n->async.before);
    if (async_before && !(e->phase & BPM_PHASE_PAST_BEFORE)) {
        bpm_run_effect(r, BPM_FX_ENTER, ei, n);
        start_job_wait(r, ei, BPM_ASYNC_BEFORE);
        return;
    }
    if (!(async_before && (e->phase & BPM_PHASE_PAST_BEFORE)))
        bpm_run_effect(r, BPM_FX_ENTER, ei, n);
    e = bpm_run_ei(r, ei);
    e->state = BPM_EI_ACTIVE;
    if (activity && n->loop && n->loop->kind == BPM_LOOP_MULTI_INSTANCE && !is_inner(e)) {
        enter_mi(r, ei);
        return;
    }
    if (activity && n->loop && n->loop->kind == BPM_LOOP_STANDARD) {
        if (!e->loop_counter)
            bpm_run_set_local(r, ei, "loopCounter", json_integer(0));
        if (n->loop->test_before) {
            /* BPMN 2.0.2 §13.3.6: a pre-tested loop may run zero times */
            bool go = true;
            if (n->loop->loop_maximum >= 0 && bpm_run_ei(r, ei)->loop_counter >= n->loop->loop_maximum)
                go = false;
            else if (!bpm_run_condition(r, ei, n, &n->loop->loop_condition, &go))
                return;
            if (!go) {
                finish(r, ei);
                return;
            }
        }
    }
    /* Camunda 8 maps inputs on message throw and end events with a job
     * (zeebe:taskDefinition) as on tasks: the job reads them */
    bool job_event = !activity && n->service && n->service->kind == BPM_IMPL_JOB;
    if ((activity || job_event) && !bpm_run_inputs(r, ei))
        return;
    if (!bpm_run_listeners(r, ei, n, "start"))
        return;
    if (activity && !is_inner(e) && !bpm_run_open_boundaries(r, ei))
        return;
    if (!bpm_run_ei(r, ei))
        return;
    bpm_run_ops(n)->enter(r, ei);
}

static const bpm_node *compensation_start(const bpm_node *container);

/* Whether completing n must be remembered for a later compensation: it has
 * a compensation boundary event, a compensation event subprocess, or holds
 * an activity that does. */
static bool has_compensation_handler(const bpm_node *n)
{
    if (compensation_start(n))
        return true;
    for (size_t i = 0; i < n->n_boundaries; i++)
        for (size_t j = 0; j < n->boundaries[i]->n_events; j++)
            if (n->boundaries[i]->events[j].kind == BPM_EVENT_COMPENSATE)
                return true;
    if (bpm_model_is_container(n->kind))
        for (size_t i = 0; i < n->n_children; i++)
            if (has_compensation_handler(n->children[i]))
                return true;
    return false;
}

static void record_compensation(bpm_run *r, uint32_t ei)
{
    bpm_ei *e = bpm_run_ei(r, ei);
    bpm_inst *inst = r->inst;
    if (inst->n_comps == inst->cap_comps) {
        inst->cap_comps = inst->cap_comps ? inst->cap_comps * 2 : 4;
        inst->comps = bpm_xrealloc(inst->comps, inst->cap_comps * sizeof *inst->comps);
    }
    bpm_comp *c = &inst->comps[inst->n_comps++];
    c->ei = ei;
    c->scope = is_inner(e) ? bpm_run_scope_of(r, e->parent) : e->parent;
    c->node = e->node;
    c->seq = ++inst->comp_seq;
    c->vars = e->vars ? json_copy(e->vars) : NULL;
}


static bool adhoc_closed(bpm_run *r, uint32_t scope)
{
    bpm_ei *s = bpm_run_ei(r, scope);
    return s && s->node && s->node->kind == BPM_NODE_ADHOC_SUBPROCESS && (s->phase & PHASE_ADHOC_CLOSED);
}

/* BPMN 2.0.2 §13.3.5: after each completion of an inner activity of an
 * ad-hoc subprocess its completionCondition is evaluated; when true the
 * subprocess executes no further inner activities and completes, at once
 * when cancelRemainingInstances (the default) cancels the running ones,
 * else when they have finished. false = the run failed. */
static bool adhoc_check(bpm_run *r, uint32_t scope)
{
    bpm_ei *s = bpm_run_ei(r, scope);
    if (!s || !s->node || s->node->kind != BPM_NODE_ADHOC_SUBPROCESS || !s->node->adhoc_completion.text ||
        (s->phase & PHASE_ADHOC_CLOSED))
        return true;
    bool done = false;
    if (!bpm_run_condition(r, scope, s->node, &s->node->adhoc_completion, &done))
        return false;
    if (!done)
        return true;
    s = bpm_run_ei(r, scope);
    s->phase |= PHASE_ADHOC_CLOSED;
    if (s->node->adhoc_cancel_remaining)
        clear_scope(r, scope);
    return true;
}

/* The activity is over: its boundary waits and leftovers go, history records
 * the completion, the family chooses the outgoing flows, the scope is checked. */
static void leave_now(bpm_run *r, uint32_t ei)
{
    bpm_run_close_waits_of(r, ei);
    clear_scope(r, ei); /* event-subprocess instances and leftovers of a scope */
    bpm_ei *e = bpm_run_ei(r, ei);
    if (!e)
        return;
    const bpm_node *n = e->node;
    uint32_t parent = e->parent;
    e->state = BPM_EI_DONE;
    bpm_run_effect(r, BPM_FX_LEAVE, ei, n);
    /* in an ad-hoc subprocess the condition is checked before the completed
     * activity's outgoing flows enable anything new */
    if (bpm_model_is_activity(n->kind) && !adhoc_check(r, parent))
        return;
    const bpm_node_ops *ops = bpm_run_ops(n);
    if (ops->leave)
        ops->leave(r, ei);
    else
        bpm_run_leave_activity(r, ei);
    if (r->failed)
        return;
    bpm_run_drop_ei(r, ei);
    bpm_run_scope_check(r, parent);
}

/* The activity has ended (outputs, end listeners): wait for the asyncAfter
 * continuation, or leave now. Camunda 7 user guide, transactions-in-processes
 * "Asynchronous Continuations": asyncAfter breaks the flow between the
 * activity's end listeners and the outgoing flows' take listeners. */
static void finish(bpm_run *r, uint32_t ei)
{
    bpm_ei *e = bpm_run_ei(r, ei);
    if (bpm_model_is_activity(e->node->kind) && e->node->async.after) {
        bpm_run_close_waits_of(r, ei);
        clear_scope(r, ei);
        start_job_wait(r, ei, BPM_ASYNC_AFTER);
        return;
    }
    leave_now(r, ei);
}

/* The next iteration of a standard loop is a fresh activity instance: the
 * locals of the previous one (input mappings) go, loopCounter stays. */
static void loop_again(bpm_run *r, uint32_t ei)
{
    bpm_run_close_waits_of(r, ei);
    clear_scope(r, ei);
    bpm_ei *e = bpm_run_ei(r, ei);
    const char *k;
    void *tmp;
    json_t *v;
    json_t *locals = e->vars ? json_incref(e->vars) : NULL;
    json_object_foreach_safe(locals, tmp, k, v)
    {
        if (strcmp(k, "loopCounter") != 0)
            bpm_run_set_local(r, ei, k, NULL);
    }
    json_decref(locals);
    e = bpm_run_ei(r, ei);
    e->state = BPM_EI_READY;
    e->phase |= BPM_PHASE_PAST_BEFORE;
    bpm_run_schedule(r, ei);
}

void bpm_run_complete(bpm_run *r, uint32_t ei)
{
    bpm_ei *e = bpm_run_ei(r, ei);
    if (!e)
        return;
    const bpm_node *n = e->node;
    bool activity = bpm_model_is_activity(n->kind);
    if (e->phase & BPM_PHASE_PAST_AFTER) {
        /* the asyncAfter continuation: everything up to the end listeners ran
         * before the wait; only leaving is left */
        if (is_inner(e))
            inner_done(r, ei);
        else
            leave_now(r, ei);
        return;
    }
    bool body = e->kind == BPM_EI_MI_BODY;
    if (activity && !body && !bpm_run_outputs(r, ei))
        return;
    if (body && n->loop->output_collection) {
        /* zeebe outputCollection: built on the body, handed to the parent
         * scope when the loop is over (Camunda 8 docs, multi-instance) */
        json_t *coll = e->vars ? json_object_get(e->vars, n->loop->output_collection) : NULL;
        bpm_run_set_var(r, e->parent, n->loop->output_collection, coll ? json_incref(coll) : json_array());
    }
    e = bpm_run_ei(r, ei);
    if (is_inner(e)) {
        if (activity && has_compensation_handler(n))
            record_compensation(r, ei);
        if (n->loop->async_after) {
            /* camunda:asyncAfter on the loop characteristics: per instance */
            bpm_run_close_waits_of(r, ei);
            start_job_wait(r, ei, BPM_ASYNC_AFTER);
            return;
        }
        inner_done(r, ei);
        return;
    }
    if (!bpm_run_listeners(r, ei, n, "end"))
        return;
    /* BPMN 2.0.2 §10.7.1 / Camunda 7 cancel-and-compensation-events: every
     * successful completion, each loop iteration included, can be compensated */
    if (activity && !body && has_compensation_handler(n))
        record_compensation(r, ei);
    if (activity && !body && n->loop && n->loop->kind == BPM_LOOP_STANDARD) {
        /* BPMN 2.0.2 §13.3.6: the inner activity runs while loopCondition
         * holds, at most loopMaximum times; a pre-tested loop (testBefore)
         * checks the condition when the next iteration would start */
        e = bpm_run_ei(r, ei);
        e->loop_counter++;
        bpm_run_set_local(r, ei, "loopCounter", json_integer(e->loop_counter));
        bool again = true;
        if (!n->loop->test_before && !bpm_run_condition(r, ei, n, &n->loop->loop_condition, &again))
            return;
        e = bpm_run_ei(r, ei);
        if (n->loop->loop_maximum >= 0 && e->loop_counter >= n->loop->loop_maximum)
            again = false;
        if (again) {
            loop_again(r, ei);
            return;
        }
    }
    finish(r, ei);
}

void bpm_run_take(bpm_run *r, uint32_t from_ei, const bpm_flow *f)
{
    bpm_ei *e = bpm_inst_ei(r->inst, from_ei);
    uint32_t scope = e ? e->parent : 0;
    if (f->n_listeners) {
        /* take listeners run in the scope the flow belongs to */
        for (size_t i = 0; i < f->n_listeners; i++) {
            const bpm_listener *l = &f->listeners[i];
            bpm_expr body = l->script;
            if (l->kind != BPM_IMPL_SCRIPT && l->kind != BPM_IMPL_EXPRESSION)
                continue;
            json_t *v = NULL;
            if (!bpm_run_eval(r, scope, f->source, &body,
                              l->kind == BPM_IMPL_SCRIPT ? BPM_USE_SCRIPT : BPM_USE_VALUE, &v))
                return;
            json_decref(v);
        }
    }
    bpm_effect *fx = bpm_run_effect(r, BPM_FX_TAKE, from_ei, f->source);
    fx->flow = f;
    if (!f->target || adhoc_closed(r, scope))
        return;
    bpm_run_schedule(r, bpm_run_new_ei(r, scope, f->target, BPM_EI_NODE, f));
}

void bpm_run_leave_activity(bpm_run *r, uint32_t ei)
{
    bpm_ei *e = bpm_inst_ei(r->inst, ei);
    const bpm_node *n = e->node;
    if (!n->n_outgoing)
        return; /* implicit end: the token is consumed */
    const bpm_flow *take[64];
    const bpm_flow **chosen = n->n_outgoing <= 64 ? take : bpm_arena_calloc(r->arena, n->n_outgoing, sizeof *chosen);
    size_t k = 0;
    bool any_conditional = false;
    for (size_t i = 0; i < n->n_outgoing; i++) {
        const bpm_flow *f = n->outgoing[i];
        if (f->is_default)
            continue;
        bool ok = true;
        if (f->condition.text) {
            any_conditional = true;
            if (!bpm_run_condition(r, ei, n, &f->condition, &ok))
                return;
        }
        if (ok)
            chosen[k++] = f;
    }
    if (!k && n->default_flow)
        chosen[k++] = n->default_flow;
    if (!k && any_conditional) {
        bpm_run_fail(r, ei, n, "no condition on the outgoing flows of \"%s\" is true and there is no default flow", n->id);
        return;
    }
    for (size_t i = 0; i < k; i++)
        bpm_run_take(r, ei, chosen[i]);
}

/* ---- errors and escalations ------------------------------------------------------------------ */

static const bpm_event_def *catches(const bpm_node *n, bpm_event_kind kind, const char *code)
{
    const bpm_event_def *any = NULL;
    for (size_t i = 0; i < n->n_events; i++) {
        const bpm_event_def *ev = &n->events[i];
        if (ev->kind != kind)
            continue;
        const char *c = kind == BPM_EVENT_ERROR ? (ev->error ? ev->error->code : NULL)
                                                : (ev->escalation ? ev->escalation->code : NULL);
        if (!c)
            any = ev;
        else if (code && strcmp(c, code) == 0)
            return ev; /* a specific catch wins over a catch-all at the same level */
    }
    return any;
}

/* A boundary on host catching kind/code, or NULL. */
static const bpm_node *boundary_catch(const bpm_node *host, bpm_event_kind kind, const char *code,
                                      const bpm_event_def **def)
{
    const bpm_node *any = NULL;
    const bpm_event_def *any_def = NULL;
    for (size_t i = 0; i < host->n_boundaries; i++) {
        const bpm_event_def *ev = catches(host->boundaries[i], kind, code);
        if (!ev)
            continue;
        const char *c = kind == BPM_EVENT_ERROR ? (ev->error ? ev->error->code : NULL)
                                                : (ev->escalation ? ev->escalation->code : NULL);
        if (c) {
            *def = ev;
            return host->boundaries[i];
        }
        if (!any) {
            any = host->boundaries[i];
            any_def = ev;
        }
    }
    *def = any_def;
    return any;
}

/* An event subprocess of `scope` catching kind/code, or NULL. `from` is the
 * element instance the event comes out of: an event subprocess instance does
 * not catch what it throws itself (Camunda 7 error-events "Catch and Re-Throw
 * Pattern": the rethrown error goes on to the enclosing scope). */
static const bpm_node *event_sub_catch(bpm_run *r, uint32_t scope, uint32_t from, bpm_event_kind kind,
                                       const char *code, const bpm_event_def **def)
{
    const bpm_node *const *nodes;
    size_t n;
    scope_nodes(r, scope, &nodes, &n);
    const bpm_ei *fe = bpm_run_ei(r, from);
    const bpm_node *exclude = fe && fe->kind == BPM_EI_EVENT_SCOPE ? fe->node : NULL;
    const bpm_node *any = NULL;
    const bpm_event_def *any_def = NULL;
    for (size_t i = 0; i < n; i++) {
        if (nodes[i]->kind != BPM_NODE_EVENT_SUBPROCESS || nodes[i] == exclude)
            continue;
        for (size_t j = 0; j < nodes[i]->n_children; j++) {
            const bpm_node *s = nodes[i]->children[j];
            if (s->kind != BPM_NODE_START_EVENT)
                continue;
            const bpm_event_def *ev = catches(s, kind, code);
            if (!ev)
                continue;
            const char *c = kind == BPM_EVENT_ERROR ? (ev->error ? ev->error->code : NULL)
                                                    : (ev->escalation ? ev->escalation->code : NULL);
            if (c) {
                *def = ev;
                return s;
            }
            if (!any) {
                any = s;
                any_def = ev;
            }
        }
    }
    *def = any_def;
    return any;
}

static void set_caught_vars(bpm_run *r, uint32_t ei, const bpm_event_def *def, const char *code, const char *message)
{
    if (def->error_code_variable && code)
        bpm_run_set_var(r, ei, def->error_code_variable, json_string(code));
    if (def->error_message_variable && message)
        bpm_run_set_var(r, ei, def->error_message_variable, json_string(message));
    if (def->escalation_code_variable && code)
        bpm_run_set_var(r, ei, def->escalation_code_variable, json_string(code));
}

/* Starts an event subprocess instance in scope, at its start event. */
static uint32_t start_event_sub(bpm_run *r, uint32_t scope, const bpm_node *start, bool interrupting)
{
    if (interrupting) {
        clear_scope(r, scope);
        bpm_run_close_scope_waits(r, scope);
        bpm_ei *s = bpm_run_ei(r, scope);
        if (s)
            s->interrupted = true;
    }
    uint32_t sub = bpm_run_new_ei(r, scope, start->parent, BPM_EI_EVENT_SCOPE, NULL);
    bpm_run_effect(r, BPM_FX_ENTER, sub, start->parent);
    bpm_run_ei(r, sub)->state = BPM_EI_ACTIVE;
    uint32_t tok = bpm_run_new_ei(r, sub, start, BPM_EI_NODE, NULL);
    bpm_run_ei(r, tok)->phase |= BPM_PHASE_TRIGGERED;
    bpm_run_schedule(r, tok);
    return tok;
}

/* Catch at a boundary: interrupting cancels the host. Returns the token. */
static uint32_t fire_boundary(bpm_run *r, uint32_t host, const bpm_node *b)
{
    uint32_t scope = bpm_run_scope_of(r, host);
    if (b->interrupting)
        bpm_run_terminate(r, host);
    uint32_t tok = bpm_run_new_ei(r, scope, b, BPM_EI_NODE, NULL);
    bpm_run_ei(r, tok)->phase |= BPM_PHASE_TRIGGERED;
    bpm_run_schedule(r, tok);
    return tok;
}

bool bpm_run_throw_error(bpm_run *r, uint32_t ei, const char *code, const char *message)
{
    uint32_t cur = ei;
    while (cur) {
        bpm_ei *e = bpm_run_ei(r, cur);
        if (!e)
            break;
        const bpm_event_def *def = NULL;
        if (e->node && !is_inner(e) && bpm_model_is_activity(e->node->kind)) {
            const bpm_node *b = boundary_catch(e->node, BPM_EVENT_ERROR, code, &def);
            if (b) {
                uint32_t tok = fire_boundary(r, cur, b);
                set_caught_vars(r, tok, def, code, message);
                return true;
            }
        }
        uint32_t scope = e->parent;
        if (!scope)
            break;
        const bpm_node *s = event_sub_catch(r, scope, cur, BPM_EVENT_ERROR, code, &def);
        if (s) {
            uint32_t tok = start_event_sub(r, scope, s, true);
            set_caught_vars(r, tok, def, code, message);
            return true;
        }
        cur = scope;
    }
    if (r->inst->parent_instance) {
        /* Uncaught in a called process: it ends, and the error goes on to the
         * call activity in the caller (the runtime delivers it). Exactly one
         * END effect says so: a second, "terminated" one would read as a
         * normal end to the caller. It carries the final variables, which
         * the caller's out mappings read (Camunda 7 call-activity "Variable
         * Output on BPMN Error Event"). */
        const bpm_ei *root = bpm_inst_root(r->inst);
        json_t *final = root && root->vars ? json_copy(root->vars) : json_object();
        r->inst->state = BPM_INST_TERMINATED;
        for (size_t i = r->inst->n_eis; i-- > 0;)
            if (i < r->inst->n_eis && r->inst->eis[i].kind == BPM_EI_PROCESS)
                bpm_run_terminate(r, r->inst->eis[i].id);
        for (size_t i = r->inst->n_waits; i-- > 0;)
            bpm_run_close_wait(r, r->inst->waits[i].id);
        bpm_effect *fx = bpm_run_effect(r, BPM_FX_END, 0, NULL);
        fx->message = "error";
        fx->name = bpm_arena_strdup(r->arena, code);
        fx->key = bpm_arena_strdup(r->arena, message);
        fx->value = final;
        return true;
    }
    bpm_ei *e = bpm_run_ei(r, ei);
    bpm_run_fail(r, ei, e ? e->node : NULL, "BPMN error \"%s\"%s%s is not caught by any boundary or event subprocess",
                 code ? code : "", message ? ": " : "", message ? message : "");
    return false;
}

void bpm_run_throw_escalation(bpm_run *r, uint32_t ei, const char *code)
{
    /* Start at the thrower: an activity raising it (a job, a script) is its
     * own first host, and the event subprocesses of the thrower's own scope
     * come next; a throw event has no boundary, so it never catches itself. */
    uint32_t cur = ei;
    bpm_ei *thrower = bpm_run_ei(r, ei);
    while (cur) {
        bpm_ei *e = bpm_run_ei(r, cur);
        if (!e)
            break;
        const bpm_event_def *def = NULL;
        if (e->node && !is_inner(e) && bpm_model_is_activity(e->node->kind)) {
            const bpm_node *b = boundary_catch(e->node, BPM_EVENT_ESCALATION, code, &def);
            if (b) {
                uint32_t tok = fire_boundary(r, cur, b);
                set_caught_vars(r, tok, def, code, NULL);
                return;
            }
        }
        uint32_t scope = e->parent;
        if (!scope)
            break;
        const bpm_node *s = event_sub_catch(r, scope, cur, BPM_EVENT_ESCALATION, code, &def);
        if (s) {
            uint32_t tok = start_event_sub(r, scope, s, s->interrupting);
            set_caught_vars(r, tok, def, code, NULL);
            return;
        }
        cur = scope;
    }
    bpm_effect *fx = bpm_run_effect(r, BPM_FX_ESCALATION, ei, thrower ? thrower->node : NULL);
    fx->name = bpm_arena_strdup(r->arena, code);
    fx->message = "escalation was not caught";
}

/* ---- compensation ------------------------------------------------------------------------------- */

static const bpm_node *handler_of(const bpm_node *activity)
{
    for (size_t i = 0; i < activity->n_boundaries; i++) {
        const bpm_node *b = activity->boundaries[i];
        for (size_t j = 0; j < b->n_events; j++)
            if (b->events[j].kind == BPM_EVENT_COMPENSATE) {
                if (b->handler)
                    return b->handler; /* the association the diagram draws */
                /* the handler is the activity the boundary's association
                 * points at; BPMN draws it as the for-compensation activity
                 * reached from the boundary (Camunda: an association). */
                const bpm_process *p = activity->process;
                for (size_t k = 0; k < p->n_nodes; k++) {
                    const bpm_node *h = p->nodes[k];
                    if (h->for_compensation && h->parent == activity->parent) {
                        /* prefer a handler connected by the boundary's outgoing flow */
                        for (size_t f = 0; f < b->n_outgoing; f++)
                            if (b->outgoing[f]->target == h)
                                return h;
                    }
                }
                for (size_t k = 0; k < p->n_nodes; k++) {
                    const bpm_node *h = p->nodes[k];
                    if (h->for_compensation && h->parent == activity->parent && h->n_incoming == 0 &&
                        b->n_outgoing == 0) {
                        /* associations are not in the model: pair boundary and
                         * handler by proximity in the document */
                        if (h->index == b->index + 1 || h->index + 1 == b->index)
                            return h;
                    }
                }
            }
    }
    return NULL;
}

/* The compensation start event of a subprocess's compensation event
 * subprocess, or NULL. */
static const bpm_node *compensation_start(const bpm_node *container)
{
    if (!bpm_model_is_container(container->kind))
        return NULL;
    for (size_t i = 0; i < container->n_children; i++) {
        const bpm_node *esp = container->children[i];
        if (esp->kind != BPM_NODE_EVENT_SUBPROCESS)
            continue;
        for (size_t j = 0; j < esp->n_children; j++) {
            const bpm_node *st = esp->children[j];
            if (st->kind == BPM_NODE_START_EVENT && st->n_events && st->events[0].kind == BPM_EVENT_COMPENSATE)
                return st;
        }
    }
    return NULL;
}

static void set_locals(bpm_run *r, uint32_t ei, const json_t *obj)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) bpm_run_set_local(r, ei, k, json_incref(v));
}

/* snapshot: the variables of the completed subprocesses being undone, outer
 * to inner, or NULL. */
static void compensate(bpm_run *r, uint32_t scope, const bpm_node *node, uint32_t into, const json_t *snapshot)
{
    /* BPMN 2.0.2 §13.5.5: handlers run in reverse order of completion */
    for (;;) {
        long best = -1;
        for (size_t i = 0; i < r->inst->n_comps; i++) {
            const bpm_comp *c = &r->inst->comps[i];
            if (c->scope != scope || (node && c->node != node))
                continue;
            if (best < 0 || c->seq > r->inst->comps[best].seq)
                best = (long)i;
        }
        if (best < 0)
            return;
        bpm_comp c = r->inst->comps[best];
        memmove(&r->inst->comps[best], &r->inst->comps[best + 1],
                (r->inst->n_comps - (size_t)best - 1) * sizeof *r->inst->comps);
        r->inst->n_comps--;
        const bpm_node *h = handler_of(c.node);
        const bpm_node *esp_start = h ? NULL : compensation_start(c.node);
        if (esp_start) {
            /* BPMN 2.0.2 §10.3.5 (Event Sub-Process) and Camunda 7
             * cancel-and-compensation-events "Compensation Start Event": the
             * subprocess's compensation event subprocess is its handler; it
             * consumes the compensation (the activities inside are undone
             * only if it throws compensation itself) and runs in the context
             * of the completed subprocess, whose snapshot it sees. That
             * context is revived as a scope of its own, which leaves no trace
             * and no flow behind when the handler is done. */
            uint32_t ctx = bpm_run_new_ei(r, into, c.node, BPM_EI_NODE, NULL);
            bpm_ei *ce = bpm_run_ei(r, ctx);
            ce->state = BPM_EI_ACTIVE;
            ce->phase |= PHASE_COMP_SCOPE;
            if (snapshot)
                set_locals(r, ctx, snapshot);
            if (c.vars)
                set_locals(r, ctx, c.vars);
            for (size_t i = 0; i < r->inst->n_comps; i++)
                if (r->inst->comps[i].scope == c.ei)
                    r->inst->comps[i].scope = ctx; /* what completed inside it, for a throw in the handler */
            start_event_sub(r, ctx, esp_start, false);
            json_decref(c.vars);
            continue;
        }
        if (!h && bpm_model_is_container(c.node->kind)) {
            /* A completed subprocess without a handler of its own is undone
             * by compensating what completed inside it; those handlers see
             * the subprocess's variables as they were when it completed
             * (BPMN 2.0.2 §10.7 "snapshot data"; Camunda 7
             * cancel-and-compensation-events "Process variables"). */
            json_t *inner = snapshot ? json_copy((json_t *)snapshot) : json_object();
            if (c.vars)
                json_object_update(inner, c.vars);
            json_decref(c.vars);
            compensate(r, c.ei, NULL, into, inner);
            json_decref(inner);
            continue;
        }
        if (h) {
            uint32_t tok = bpm_run_new_ei(r, into, h, BPM_EI_NODE, NULL);
            if (snapshot)
                set_locals(r, tok, snapshot);
            if (c.vars)
                set_locals(r, tok, c.vars); /* the handler sees the activity's local variables */
            bpm_run_schedule(r, tok);
        }
        json_decref(c.vars);
    }
}

void bpm_run_compensate(bpm_run *r, uint32_t scope, const bpm_node *node, uint32_t into)
{
    compensate(r, scope, node, into, NULL);
}
