/* bpm_exec_step: commands against a working copy of the instance, run to
 * quiescence through the agenda, then either committed (the copy replaces
 * the instance) or, on an incident, thrown away. */
#include "exec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "exec_int.h"
#include "timer.h"

void bpm_effects_init(bpm_effects *fx, bpm_arena *arena)
{
    memset(fx, 0, sizeof *fx);
    fx->arena = arena;
}

void bpm_effects_cleanup(bpm_effects *fx)
{
    for (size_t i = 0; i < fx->n; i++) {
        json_decref(fx->items[i].value);
        json_decref(fx->items[i].old_value);
    }
    fx->n = 0;
}

const char *bpm_exec_effect_name(bpm_effect_kind k)
{
    static const char *const names[] = {"enter",      "leave",   "cancel",   "take",        "wait-open",
                                        "wait-close", "var",     "signal",   "message",     "start-child",
                                        "end",        "incident", "escalation", "operation", "publish",
                                        "assign"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

bpm_effect *bpm_run_effect(bpm_run *r, bpm_effect_kind k, uint32_t ei, const bpm_node *n)
{
    bpm_effects *fx = r->fx;
    if (fx->n == fx->cap) {
        size_t ncap = fx->cap ? fx->cap * 2 : 32;
        fx->items = bpm_arena_grow(fx->arena, fx->items, fx->n, ncap, sizeof *fx->items);
        fx->cap = ncap;
    }
    bpm_effect *e = &fx->items[fx->n++];
    memset(e, 0, sizeof *e);
    e->kind = k;
    e->ei = ei;
    e->node = n;
    e->at_ms = r->env->now_ms;
    if (k == BPM_FX_ENTER) {
        /* the history nests element instances by it (subprocesses,
         * multi-instance bodies and their iterations) */
        const bpm_ei *x = bpm_run_ei(r, ei);
        e->parent = x ? x->parent : 0;
        /* the body is entered as an ordinary node; its iterations are marked */
        e->mi_body = x && n && bpm_model_is_activity(n->kind) && n->loop &&
                     n->loop->kind == BPM_LOOP_MULTI_INSTANCE && !(x->phase & BPM_PHASE_INNER);
    }
    return e;
}

void bpm_run_fail(bpm_run *r, uint32_t ei, const bpm_node *n, const char *fmt, ...)
{
    if (r->failed)
        return; /* the first failure is the cause; later ones are fallout */
    r->failed = true;
    r->fail_node = n;
    r->fail_ei = ei;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->fail_msg, sizeof r->fail_msg, fmt, ap);
    va_end(ap);
}

/* ---- commands ---------------------------------------------------------------- */

static void cmd_trigger(bpm_run *r, uint32_t wid, const bpm_cmd *cmd);

void bpm_run_trigger(bpm_run *r, uint32_t wait, json_t *vars)
{
    bpm_cmd cmd = {.kind = BPM_CMD_TRIGGER, .wait = wait, .vars = vars};
    cmd_trigger(r, wait, &cmd);
}

static bool is_event_sub_start(const bpm_node *n)
{
    return n->kind == BPM_NODE_START_EVENT && n->parent && n->parent->kind == BPM_NODE_EVENT_SUBPROCESS;
}

/* Timer cycles and non-interrupting event-subprocess subscriptions listen on:
 * a fired timer cycle is replaced by its next occurrence. */
static void rearm_timer(bpm_run *r, const bpm_wait *old)
{
    int64_t due = 0;
    bool done = false;
    if (old->async_point != BPM_TIMER_CYCLE || !old->timer)
        return;
    if (bpm_timer_next_due(BPM_TIMER_CYCLE, old->timer, r->env->now_ms, old->start_ms, old->fired + 1, &due, &done,
                           NULL) != BPM_OK ||
        done)
        return;
    uint32_t w = bpm_run_open_wait(r, old->ei, old->node, BPM_WAIT_TIMER);
    bpm_wait *nw = bpm_inst_wait(r->inst, w);
    nw->due_ms = due;
    nw->start_ms = old->start_ms;
    nw->fired = old->fired + 1;
    nw->timer = bpm_arena_strdup(r->inst->arena, old->timer);
    nw->name = "timer";
    nw->interrupting = old->interrupting;
    nw->async_point = old->async_point;
}

/* A non-interrupting conditional event that fired stays subscribed but is
 * latched. BPMN 2.0.2 §10.5.2 (Conditional: its condition "must become false
 * and then true before the Event can be triggered again"): it fires again
 * only after settle_conditions saw the condition false and cleared the
 * latch. Without it a condition that stays true would fire on every settle
 * of the same step. */
static void latch_condition(bpm_run *r, uint32_t wid)
{
    bpm_wait *w = bpm_inst_wait(r->inst, wid);
    if (w)
        w->fired = 1;
}

static void cmd_trigger(bpm_run *r, uint32_t wid, const bpm_cmd *cmd)
{
    bpm_wait w = *bpm_inst_wait(r->inst, wid); /* a copy: the array changes below */
    const bpm_node *n = w.node;
    if (n->kind == BPM_NODE_BOUNDARY_EVENT) {
        /* BPMN 2.0.2 §13.5.3, Camunda 7 (MessageBoundaryEventTest
         * testSingleNonInterruptingBoundaryMessageEvent): a non-interrupting
         * boundary stays subscribed while its activity runs and may fire
         * again; a timer is replaced by its next cycle occurrence instead. */
        if (n->interrupting || w.kind == BPM_WAIT_TIMER) {
            bpm_run_close_wait(r, wid);
            if (!n->interrupting)
                rearm_timer(r, &w);
        } else if (w.kind == BPM_WAIT_CONDITION) {
            latch_condition(r, wid);
        }
        uint32_t scope = bpm_run_scope_of(r, w.ei);
        if (n->interrupting)
            bpm_run_terminate(r, w.ei);
        uint32_t tok = bpm_run_new_ei(r, scope, n, BPM_EI_NODE, NULL);
        bpm_run_ei(r, tok)->phase |= BPM_PHASE_TRIGGERED;
        if (cmd->vars)
            bpm_run_set_vars(r, tok, cmd->vars, false);
        bpm_run_schedule(r, tok);
        return;
    }
    if (is_event_sub_start(n)) {
        uint32_t scope = w.ei;
        if (n->interrupting) {
            bpm_run_close_scope_waits(r, scope);
            for (size_t i = r->inst->n_eis; i-- > 0;)
                if (i < r->inst->n_eis && r->inst->eis[i].parent == scope && r->inst->eis[i].state != BPM_EI_DONE)
                    bpm_run_terminate(r, r->inst->eis[i].id);
            bpm_ei *s = bpm_run_ei(r, scope);
            if (s)
                s->interrupted = true;
        } else if (w.kind == BPM_WAIT_TIMER) {
            bpm_run_close_wait(r, wid);
            rearm_timer(r, &w);
        } else if (w.kind == BPM_WAIT_CONDITION) {
            latch_condition(r, wid);
        }
        uint32_t sub = bpm_run_new_ei(r, scope, n->parent, BPM_EI_EVENT_SCOPE, NULL);
        bpm_run_effect(r, BPM_FX_ENTER, sub, n->parent);
        bpm_run_ei(r, sub)->state = BPM_EI_ACTIVE;
        if (cmd->vars)
            bpm_run_set_vars(r, sub, cmd->vars, false);
        uint32_t tok = bpm_run_new_ei(r, sub, n, BPM_EI_NODE, NULL);
        bpm_run_ei(r, tok)->phase |= BPM_PHASE_TRIGGERED;
        bpm_run_schedule(r, tok);
        return;
    }
    bpm_ei *e = bpm_run_ei(r, w.ei);
    if (!e)
        return;
    bpm_run_ops(e->node)->trigger(r, w.ei, wid, cmd);
}

static void cmd_complete(bpm_run *r, uint32_t wid, const bpm_cmd *cmd)
{
    bpm_wait *w = bpm_inst_wait(r->inst, wid);
    uint32_t ei = w->ei;
    if (w->kind == BPM_WAIT_ASYNC) {
        bpm_async_point point = (bpm_async_point)w->async_point;
        bpm_run_close_wait(r, wid);
        bpm_ei *e = bpm_run_ei(r, ei);
        if (cmd->vars)
            bpm_run_set_vars(r, ei, cmd->vars, false);
        if (point == BPM_ASYNC_BEFORE) {
            e->phase |= BPM_PHASE_PAST_BEFORE;
            e->state = BPM_EI_READY;
            bpm_run_schedule(r, ei);
        } else {
            e->phase |= BPM_PHASE_PAST_AFTER;
            e->state = BPM_EI_ACTIVE;
            bpm_run_complete(r, ei);
        }
        return;
    }
    bpm_ei *e = bpm_run_ei(r, ei);
    bpm_run_ops(e->node)->trigger(r, ei, wid, cmd);
}

/* Finds or creates the scope instance a node runs in, for modification. */
static uint32_t scope_for(bpm_run *r, const bpm_node *n)
{
    if (!n->parent)
        return bpm_inst_root(r->inst) ? bpm_inst_root(r->inst)->id : 0;
    for (size_t i = 0; i < r->inst->n_eis; i++)
        if (r->inst->eis[i].node == n->parent && r->inst->eis[i].state != BPM_EI_DONE &&
            r->inst->eis[i].kind != BPM_EI_MI_BODY)
            return r->inst->eis[i].id;
    uint32_t outer = scope_for(r, n->parent);
    if (!outer)
        return 0;
    uint32_t s = bpm_run_new_ei(r, outer, n->parent, n->parent->kind == BPM_NODE_EVENT_SUBPROCESS ? BPM_EI_EVENT_SCOPE : BPM_EI_NODE, NULL);
    bpm_run_effect(r, BPM_FX_ENTER, s, n->parent);
    bpm_run_ei(r, s)->state = BPM_EI_ACTIVE;
    return s;
}

/* Scopes a modification emptied, checked once its last instruction ran. */
typedef struct emptied {
    uint32_t *ids;
    size_t n, cap;
} emptied;

static void cmd_modify(bpm_run *r, const bpm_cmd *cmd, emptied *later)
{
    const bpm_node *n = cmd->node;
    if (cmd->kind == BPM_CMD_MODIFY_CANCEL) {
        for (size_t i = r->inst->n_eis; i-- > 0;) {
            if (i >= r->inst->n_eis)
                continue;
            bpm_ei *e = &r->inst->eis[i];
            if (e->node != n || e->state == BPM_EI_DONE)
                continue;
            uint32_t parent = e->parent;
            bpm_run_terminate(r, e->id);
            if (later->n == later->cap) {
                size_t ncap = later->cap ? later->cap * 2 : 8;
                later->ids = bpm_arena_grow(r->arena, later->ids, later->n, ncap, sizeof *later->ids);
                later->cap = ncap;
            }
            later->ids[later->n++] = parent;
        }
        return;
    }
    uint32_t scope = scope_for(r, n);
    if (!scope) {
        bpm_run_fail(r, 0, n, "the instance has no scope in which \"%s\" could run", n->id);
        return;
    }
    if (cmd->kind == BPM_CMD_MODIFY_START_BEFORE) {
        uint32_t tok = bpm_run_new_ei(r, scope, n, BPM_EI_NODE, NULL);
        if (cmd->vars)
            bpm_run_set_vars(r, tok, cmd->vars, false);
        bpm_run_schedule(r, tok);
        return;
    }
    if (n->n_outgoing != 1) {
        bpm_run_fail(r, 0, n, "cannot start after \"%s\": it has %zu outgoing flows, exactly one is needed", n->id,
                     n->n_outgoing);
        return;
    }
    const bpm_flow *f = n->outgoing[0];
    bpm_effect *fx = bpm_run_effect(r, BPM_FX_TAKE, 0, n);
    fx->flow = f;
    uint32_t tok = bpm_run_new_ei(r, scope, f->target, BPM_EI_NODE, f);
    if (cmd->vars)
        bpm_run_set_vars(r, tok, cmd->vars, false);
    bpm_run_schedule(r, tok);
}

/* Conditional events: re-evaluated whenever a step may have changed the
 * variables they read (BPMN 2.0.2 §10.5.4, Camunda's variable events). */
static bool settle_conditions(bpm_run *r)
{
    for (size_t i = 0; i < r->inst->n_waits; i++) {
        const bpm_wait *w = &r->inst->waits[i];
        if (w->kind != BPM_WAIT_CONDITION)
            continue;
        const bpm_event_def *ev = NULL;
        for (size_t k = 0; k < w->node->n_events; k++)
            if (w->node->events[k].kind == BPM_EVENT_CONDITIONAL)
                ev = &w->node->events[k];
        if (!ev)
            continue;
        bool hold = false;
        uint32_t wid = w->id;
        if (!bpm_run_condition(r, w->ei, w->node, &ev->condition, &hold))
            return false;
        bpm_wait *cur = bpm_inst_wait(r->inst, wid); /* re-read: the array may have moved */
        if (!cur)
            continue;
        if (cur->fired) {
            /* latched (non-interrupting, already fired): re-armed once false */
            if (!hold)
                cur->fired = 0;
            continue;
        }
        if (hold) {
            bpm_cmd c = {.kind = BPM_CMD_TRIGGER, .wait = wid};
            cmd_trigger(r, wid, &c);
            return true;
        }
    }
    return false;
}

static void drain(bpm_run *r)
{
    for (;;) {
        while (r->head < r->n_agenda && !r->failed)
            bpm_run_enter(r, r->agenda[r->head++]);
        if (r->failed || r->inst->state != BPM_INST_ACTIVE)
            return;
        if (bpm_node_gateway_settle(r) || settle_conditions(r)) {
            if (++r->moves > r->max_moves) {
                bpm_run_fail(r, 0, NULL, "the step did not settle within %zu moves", r->max_moves);
                return;
            }
            continue;
        }
        return;
    }
}

/* Variables changed from outside (the REST API's variable endpoints, a task
 * resolved with variables): set where the wait sees them, or in the process
 * scope; deleting a name nobody holds is no change. */
static void cmd_set_vars(bpm_run *r, const bpm_cmd *cmd)
{
    const bpm_ei *root = bpm_inst_root(r->inst);
    if (!root)
        return;
    uint32_t ei = root->id;
    if (cmd->wait)
        ei = bpm_inst_wait(r->inst, cmd->wait)->ei;
    if (cmd->vars)
        bpm_run_set_vars(r, ei, cmd->vars, false);
    if (cmd->local_vars)
        bpm_run_set_vars(r, ei, cmd->local_vars, true);
    size_t i;
    json_t *name;
    json_array_foreach((json_t *)cmd->deletions, i, name)
    {
        const char *n = json_string_value(name);
        if (!n)
            continue;
        for (uint32_t id = ei; id;) {
            bpm_ei *e = bpm_inst_ei(r->inst, id);
            if (!e)
                break;
            if (e->vars && json_object_get(e->vars, n)) {
                bpm_run_set_local(r, id, n, NULL);
                break;
            }
            id = e->parent;
        }
    }
}

static bool same_user(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* A user task changes hands (Camunda 7 TaskEntity.setAssignee, then
 * triggerUpdateEvent): the variables first, then the assignee in the task's
 * wait, then, when it really changed (to nobody too), the "assignment"
 * listeners, which see the new assignee as task.assignee. The wait's data
 * is shared with the instance the step started from, so it is replaced,
 * never changed in place. */
static void cmd_assign(bpm_run *r, const bpm_cmd *cmd)
{
    if (cmd->vars)
        cmd_set_vars(r, cmd);
    bpm_wait *w = bpm_inst_wait(r->inst, cmd->wait);
    if (r->failed || !w)
        return;
    uint32_t ei = w->ei;
    const char *old = json_string_value(json_object_get(w->data, "assignee"));
    bpm_effect *fx = bpm_run_effect(r, BPM_FX_ASSIGN, ei, w->node);
    fx->wait = cmd->wait;
    fx->name = bpm_arena_strdup(r->arena, cmd->assignee);
    fx->key = bpm_arena_strdup(r->arena, old);
    fx->message = bpm_arena_strdup(r->arena, cmd->change ? cmd->change : "assign");
    if (same_user(old, cmd->assignee))
        return;
    json_t *d = w->data ? json_copy(w->data) : json_object();
    if (cmd->assignee)
        json_object_set_new(d, "assignee", json_string(cmd->assignee));
    else
        json_object_del(d, "assignee");
    json_decref(w->data);
    w->data = d;
    bpm_run_task_listeners(r, ei, "assignment", NULL);
}

/* A scope that a modification left without tokens is cancelled, and so in
 * turn is every scope above it that this empties; the process's own scope
 * terminates the instance (Camunda 7: "Cancellation due to process instance
 * modification"). */
static void cancel_emptied(bpm_run *r, uint32_t scope)
{
    while (scope && !r->failed && r->inst->state == BPM_INST_ACTIVE) {
        const bpm_ei *s = bpm_run_ei(r, scope);
        if (!s || s->state != BPM_EI_ACTIVE || bpm_run_count_children(r, scope))
            return;
        uint32_t parent = s->parent;
        bpm_run_terminate(r, scope);
        scope = parent;
    }
}

/* Modification instructions (MODIFY_* commands) in order, each start run to
 * its waits before the next (Camunda 7 executes a start instruction at
 * once); scopes emptied by cancellations are looked at only after the last
 * instruction, so "cancel A, start before B" moves the token of an instance
 * that waited at A alone instead of ending it on the way. */
static void cmd_modify_all(bpm_run *r, const bpm_cmd *list, size_t n)
{
    emptied later = {0};
    for (size_t i = 0; i < n; i++) {
        cmd_modify(r, &list[i], &later);
        if (!r->failed)
            drain(r);
        if (r->failed || r->inst->state != BPM_INST_ACTIVE)
            return;
    }
    for (size_t i = 0; i < later.n; i++)
        cancel_emptied(r, later.ids[i]);
}

/* The details of an operator's command for the audit trail: the
 * instructions of a modification as Camunda 7's REST API names them. */
static json_t *operation_detail(const bpm_cmd *cmd)
{
    json_t *d = json_pack("{s:s}", "operation", cmd->operation);
    if (cmd->kind != BPM_CMD_MODIFY)
        return d;
    json_t *list = json_array();
    for (size_t i = 0; i < cmd->n_instructions; i++) {
        const bpm_cmd *in = &cmd->instructions[i];
        const char *type = in->kind == BPM_CMD_MODIFY_CANCEL         ? "cancel"
                           : in->kind == BPM_CMD_MODIFY_START_BEFORE ? "startBeforeActivity"
                                                                     : "startAfterActivity";
        json_array_append_new(list, json_pack("{s:s, s:s}", "type", type, "activityId", in->node->id));
    }
    json_object_set_new(d, "instructions", list);
    return d;
}

static bool is_modify(bpm_cmd_kind k)
{
    return k == BPM_CMD_MODIFY_CANCEL || k == BPM_CMD_MODIFY_START_BEFORE || k == BPM_CMD_MODIFY_START_AFTER;
}

static bpm_rc check_wait(const bpm_inst *inst, const bpm_cmd *cmd, bpm_err *err)
{
    const bpm_wait *w = bpm_inst_wait(inst, cmd->wait);
    if (!w)
        return bpm_err_set(err, BPM_NOT_FOUND, "instance \"%s\" has no wait %u (it was already completed or cancelled)",
                           inst->id, cmd->wait);
    bool ok;
    switch (cmd->kind) {
    case BPM_CMD_COMPLETE:
        ok = w->kind == BPM_WAIT_USER_TASK || w->kind == BPM_WAIT_JOB || w->kind == BPM_WAIT_ASYNC ||
             w->kind == BPM_WAIT_CHILD;
        break;
    case BPM_CMD_TRIGGER:
        ok = w->kind == BPM_WAIT_MESSAGE || w->kind == BPM_WAIT_TIMER || w->kind == BPM_WAIT_SIGNAL ||
             w->kind == BPM_WAIT_CONDITION;
        break;
    case BPM_CMD_ASSIGN:
        ok = w->kind == BPM_WAIT_USER_TASK;
        break;
    default: /* ERROR, ESCALATE */
        ok = w->kind == BPM_WAIT_USER_TASK || w->kind == BPM_WAIT_JOB || w->kind == BPM_WAIT_CHILD;
        break;
    }
    if (!ok)
        return bpm_err_set(err, BPM_BAD_REQUEST, "wait %u at \"%s\" cannot take this command", cmd->wait, w->node->id);
    if (cmd->kind == BPM_CMD_ASSIGN && cmd->claim && cmd->assignee) {
        /* Camunda 7 TaskService.claim: TaskAlreadyClaimedException */
        const char *holder = json_string_value(json_object_get(w->data, "assignee"));
        if (holder && strcmp(holder, cmd->assignee) != 0)
            return bpm_err_set(err, BPM_CONFLICT, "the task at \"%s\" is already claimed by %s", w->node->id,
                               holder);
    }
    return BPM_OK;
}

bpm_rc bpm_exec_step(const bpm_model *m, bpm_inst **instp, const bpm_cmd *cmd, const bpm_env *env,
                     bpm_effects *fx, bpm_err *err)
{
    bpm_inst *orig = *instp;
    if (cmd->vars && !json_is_object(cmd->vars))
        return bpm_err_set(err, BPM_BAD_REQUEST, "variables must be a JSON object");
    if (cmd->local_vars && !json_is_object(cmd->local_vars))
        return bpm_err_set(err, BPM_BAD_REQUEST, "local variables must be a JSON object");
    if (cmd->kind == BPM_CMD_START && orig->n_eis)
        return bpm_err_set(err, BPM_CONFLICT, "instance \"%s\" has already started", orig->id);
    if (cmd->kind != BPM_CMD_START && orig->state != BPM_INST_ACTIVE)
        return bpm_err_set(err, BPM_CONFLICT, "instance \"%s\" has ended", orig->id);
    if (orig->suspended && cmd->kind != BPM_CMD_RESUME && cmd->kind != BPM_CMD_CANCEL)
        return bpm_err_set(err, BPM_CONFLICT, "instance \"%s\" is suspended", orig->id);
    if (cmd->kind == BPM_CMD_SET_VARS && cmd->wait && !bpm_inst_wait(orig, cmd->wait))
        return bpm_err_set(err, BPM_NOT_FOUND, "instance \"%s\" has no wait %u (it was already completed or cancelled)",
                           orig->id, cmd->wait);
    if (cmd->kind == BPM_CMD_COMPLETE || cmd->kind == BPM_CMD_TRIGGER || cmd->kind == BPM_CMD_ERROR ||
        cmd->kind == BPM_CMD_ESCALATE || cmd->kind == BPM_CMD_ASSIGN) {
        bpm_rc rc = check_wait(orig, cmd, err);
        if (rc)
            return rc;
    }
    if ((is_modify(cmd->kind) || (cmd->kind == BPM_CMD_START && cmd->node)) &&
        (!cmd->node || cmd->node->process != orig->process))
        return bpm_err_set(err, BPM_BAD_REQUEST, "the element is not part of process \"%s\"", orig->process->id);
    if (cmd->kind == BPM_CMD_MODIFY) {
        if (!cmd->n_instructions)
            return bpm_err_set(err, BPM_BAD_REQUEST, "a modification needs at least one instruction");
        for (size_t i = 0; i < cmd->n_instructions; i++) {
            const bpm_cmd *in = &cmd->instructions[i];
            if (!is_modify(in->kind))
                return bpm_err_set(err, BPM_BAD_REQUEST,
                                   "instruction %zu is not a modification (cancel, start before or after)", i + 1);
            if (!in->node || in->node->process != orig->process)
                return bpm_err_set(err, BPM_BAD_REQUEST, "the element of instruction %zu is not part of process \"%s\"",
                                   i + 1, orig->process->id);
            if (in->vars && !json_is_object(in->vars))
                return bpm_err_set(err, BPM_BAD_REQUEST, "variables must be a JSON object");
        }
    }

    bpm_run r = {.m = m, .p = orig->process, .env = env, .fx = fx, .arena = fx->arena};
    r.max_moves = env->max_moves ? env->max_moves : 10000;
    r.inst = bpm_inst_clone(orig);
    size_t fx_start = fx->n;
    uint32_t first_new = orig->next_id;
    if (cmd->operation) {
        bpm_effect *e = bpm_run_effect(&r, BPM_FX_OPERATION, 0, NULL);
        e->name = bpm_arena_strdup(fx->arena, cmd->operation);
        e->value = operation_detail(cmd);
    }

    switch (cmd->kind) {
    case BPM_CMD_START: {
        uint32_t root = bpm_run_new_ei(&r, 0, NULL, BPM_EI_PROCESS, NULL);
        bpm_run_ei(&r, root)->state = BPM_EI_ACTIVE;
        bpm_run_effect(&r, BPM_FX_ENTER, root, NULL);
        if (cmd->vars)
            bpm_run_set_vars(&r, root, cmd->vars, false);
        if (cmd->node && (cmd->node->kind != BPM_NODE_START_EVENT || cmd->node->parent)) {
            bpm_run_fail(&r, 0, cmd->node, "\"%s\" is not a start event of the process", cmd->node->id);
            break;
        }
        bpm_run_start_scope(&r, root, cmd->node);
        if (cmd->node && r.n_agenda)
            bpm_run_ei(&r, r.agenda[r.n_agenda - 1])->phase |= BPM_PHASE_TRIGGERED;
        break;
    }
    case BPM_CMD_COMPLETE:
        cmd_complete(&r, cmd->wait, cmd);
        break;
    case BPM_CMD_TRIGGER:
        cmd_trigger(&r, cmd->wait, cmd);
        break;
    case BPM_CMD_ERROR: {
        const bpm_wait *w = bpm_inst_wait(r.inst, cmd->wait);
        uint32_t ei = w->ei;
        bool child = w->kind == BPM_WAIT_CHILD;
        bpm_run_close_wait(&r, cmd->wait);
        if (child) {
            /* Camunda 7 call activity: "Variable Output on BPMN Error Event" */
            if (!bpm_run_call_outputs(&r, ei, cmd->vars))
                break;
        } else if (cmd->vars) {
            bpm_run_set_vars(&r, ei, cmd->vars, false);
        }
        bpm_run_throw_error(&r, ei, cmd->code, cmd->message);
        break;
    }
    case BPM_CMD_ESCALATE: {
        const bpm_wait *w = bpm_inst_wait(r.inst, cmd->wait);
        if (cmd->vars)
            bpm_run_set_vars(&r, w->ei, cmd->vars, false);
        bpm_run_throw_escalation(&r, w->ei, cmd->code);
        break;
    }
    case BPM_CMD_CANCEL:
        if (bpm_inst_root(r.inst))
            bpm_run_terminate(&r, bpm_inst_root(r.inst)->id);
        break;
    case BPM_CMD_SUSPEND:
        r.inst->suspended = true;
        break;
    case BPM_CMD_RESUME:
        r.inst->suspended = false;
        break;
    case BPM_CMD_SET_VARS:
        cmd_set_vars(&r, cmd);
        break;
    case BPM_CMD_MODIFY:
        cmd_modify_all(&r, cmd->instructions, cmd->n_instructions);
        break;
    case BPM_CMD_ASSIGN:
        cmd_assign(&r, cmd);
        break;
    default: /* one modification instruction */
        cmd_modify_all(&r, cmd, 1);
        break;
    }
    if (!r.failed)
        drain(&r);

    if (r.failed) {
        /* All or nothing: the working copy and its effects are dropped; the
         * incident alone is reported and the instance stays as it was. */
        for (size_t i = fx_start; i < fx->n; i++) {
            json_decref(fx->items[i].value);
            json_decref(fx->items[i].old_value);
        }
        fx->n = fx_start;
        bpm_inst_free(r.inst);
        r.inst = orig;
        bpm_effect *e = bpm_run_effect(&r, BPM_FX_INCIDENT, r.fail_ei, r.fail_node);
        e->message = bpm_arena_strdup(fx->arena, r.fail_msg);
        e->wait = cmd->wait;
        return BPM_OK;
    }
    /* Waits that exist now but did not before the step: their rows are new.
     * Waits opened and closed within the step leave no trace. */
    size_t out = fx_start;
    for (size_t i = fx_start; i < fx->n; i++) {
        bpm_effect *e = &fx->items[i];
        if (e->kind == BPM_FX_WAIT_CLOSE && e->wait >= first_new)
            continue;
        fx->items[out++] = *e;
    }
    fx->n = out;
    for (size_t i = 0; i < r.inst->n_waits; i++) {
        const bpm_wait *w = &r.inst->waits[i];
        if (w->id < first_new)
            continue;
        bpm_effect *e = bpm_run_effect(&r, BPM_FX_WAIT_OPEN, w->ei, w->node);
        e->wait = w->id;
        e->name = w->name;
    }
    bpm_inst_free(orig);
    *instp = r.inst;
    return BPM_OK;
}
