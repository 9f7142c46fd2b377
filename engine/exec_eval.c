/* Expressions, scripts, input/output mappings and listeners inside a step,
 * through the evaluator port. A failure here fails the whole step, which
 * then becomes an incident naming the element and the expression. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"

/* A script budget set on the process (camunda:property or zeebe:property
 * named `bpmnd.script.maxInstructions` / `bpmnd.script.maxMemory`), else 0. */
static uint64_t budget(const bpm_process *p, const char *name)
{
    for (size_t i = 0; i < p->n_properties; i++) {
        if (!p->properties[i].name || strcmp(p->properties[i].name, name) != 0 || !p->properties[i].value)
            continue;
        char *end = NULL;
        unsigned long long v = strtoull(p->properties[i].value, &end, 10);
        return end && *end == '\0' ? (uint64_t)v : 0;
    }
    return 0;
}

static bpm_eval_call call_of(bpm_run *r, uint32_t ei, const bpm_node *n)
{
    (void)ei;
    /* per definition first, then the engine's setting, then the evaluator's default */
    uint64_t instructions = budget(r->p, "bpmnd.script.maxInstructions");
    uint64_t memory = budget(r->p, "bpmnd.script.maxMemory");
    return (bpm_eval_call){
        .instance_id = r->inst->id,
        .business_key = r->inst->business_key,
        .element_id = n ? n->id : NULL,
        .definition_key = r->p->id,
        .definition_id = r->inst->definition_id,
        .task = r->task,
        .now_ms = r->env->now_ms,
        .max_instructions = instructions ? instructions : r->env->max_instructions,
        .max_memory = (size_t)(memory ? memory : r->env->max_memory),
    };
}

/* Literal text: numbers and booleans as themselves, anything else a string. */
static json_t *literal(const char *t)
{
    if (strcmp(t, "true") == 0)
        return json_true();
    if (strcmp(t, "false") == 0)
        return json_false();
    if (strcmp(t, "null") == 0)
        return json_null();
    char *end = NULL;
    long long v = strtoll(t, &end, 10);
    if (*t && end && *end == '\0' && (t[0] != '0' || t[1] == '\0'))
        return json_integer(v);
    return json_string(t);
}

static bool run_eval_vars(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_expr *e, bpm_eval_use use,
                          const bpm_vars *over, bpm_eval_result *res)
{
    memset(res, 0, sizeof *res);
    if (e->dialect == BPM_DIALECT_LITERAL) {
        res->value = literal(e->text);
        return true;
    }
    const bpm_evaluator *ev = r->env->eval;
    if (!ev) {
        bpm_run_fail(r, ei, n, "expression \"%s\" cannot be evaluated: no evaluator is configured", e->text);
        return false;
    }
    bpm_err err = {0};
    const void *compiled = e->compiled;
    if (!compiled && ev->ops->compile(ev->self, e, use, r->arena, &compiled, &err) != BPM_OK) {
        bpm_run_fail(r, ei, n, "expression \"%s\" is invalid: %s", e->text, err.msg);
        return false;
    }
    char storage[BPM_RUN_VARS_STORAGE];
    bpm_vars vars = over ? *over : bpm_run_vars(r, ei, storage);
    bpm_eval_call call = call_of(r, ei, n);
    if (ev->ops->run(ev->self, compiled, &call, &vars, r->arena, res, &err) != BPM_OK) {
        if (use == BPM_USE_SCRIPT)
            bpm_run_fail(r, ei, n, "script failed: %s%s%s", err.msg, err.detail[0] ? ": " : "", err.detail);
        else
            bpm_run_fail(r, ei, n, "expression \"%s\" failed: %s", e->text, err.msg);
        return false;
    }
    return true;
}

static bool run_eval(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_expr *e, bpm_eval_use use,
                     bpm_eval_result *res)
{
    return run_eval_vars(r, ei, n, e, use, NULL, res);
}

/* Variables of a plain JSON object: a called instance's final variables. */
static json_t *o_get(void *ctx, const char *name) { return json_object_get(ctx, name); }

static bpm_rc o_set(void *ctx, const char *name, json_t *value, bpm_err *err)
{
    (void)err;
    json_object_set_new(ctx, name, value ? value : json_null());
    return BPM_OK;
}

static void o_each(void *ctx, void (*fn)(void *arg, const char *name, json_t *value), void *arg)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ctx, k, v) fn(arg, k, v);
}

static const bpm_vars_ops object_vars_ops = {o_get, o_set, o_set, o_each};

bool bpm_run_eval_over(bpm_run *r, uint32_t ei, const bpm_node *n, const json_t *vars, const bpm_expr *e,
                       json_t **out)
{
    json_t *scratch = vars ? json_copy((json_t *)vars) : json_object(); /* writes stay here */
    bpm_vars over = {&object_vars_ops, scratch};
    bpm_eval_result res;
    bool ok = run_eval_vars(r, ei, n, e, BPM_USE_VALUE, &over, &res);
    json_decref(scratch);
    if (!ok)
        return false;
    if (res.outcome != BPM_EVAL_VALUE) {
        json_decref(res.value);
        bpm_run_fail(r, ei, n, "expression \"%s\" raised a BPMN %s, which only scripts may do", e->text,
                     res.outcome == BPM_EVAL_BPMN_ERROR ? "error" : "escalation");
        return false;
    }
    *out = res.value ? res.value : json_null();
    return true;
}

bool bpm_run_eval_outcome(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_expr *e, bpm_eval_use use,
                          bpm_eval_result *res)
{
    return run_eval(r, ei, n, e, use, res);
}

bool bpm_run_eval(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_expr *e, bpm_eval_use use, json_t **out)
{
    bpm_eval_result res;
    if (!run_eval(r, ei, n, e, use, &res))
        return false;
    if (res.outcome != BPM_EVAL_VALUE) {
        json_decref(res.value);
        bpm_run_fail(r, ei, n, "expression \"%s\" raised a BPMN %s, which only scripts may do", e->text,
                     res.outcome == BPM_EVAL_BPMN_ERROR ? "error" : "escalation");
        return false;
    }
    *out = res.value ? res.value : json_null();
    return true;
}

bool bpm_run_condition(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_expr *e, bool *out)
{
    if (!e->text) {
        *out = true;
        return true;
    }
    json_t *v = NULL;
    if (!bpm_run_eval(r, ei, n, e, BPM_USE_CONDITION, &v))
        return false;
    if (!json_is_boolean(v)) {
        bpm_run_fail(r, ei, n, "condition \"%s\" gave %s, not a boolean", e->text,
                     json_is_null(v) ? "null" : json_is_string(v) ? "a string" : json_is_number(v) ? "a number" : "an object");
        json_decref(v);
        return false;
    }
    *out = json_is_true(v);
    json_decref(v);
    return true;
}

bool bpm_run_eval_string(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_expr *e, const char **out)
{
    *out = NULL;
    if (!e->text)
        return true;
    json_t *v = NULL;
    if (!bpm_run_eval(r, ei, n, e, BPM_USE_VALUE, &v))
        return false;
    if (json_is_string(v))
        *out = bpm_arena_strdup(r->arena, json_string_value(v));
    else if (json_is_integer(v))
        *out = bpm_arena_sprintf(r->arena, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        *out = bpm_arena_sprintf(r->arena, "%.17g", json_real_value(v));
    else if (json_is_boolean(v))
        *out = json_is_true(v) ? "true" : "false";
    else if (json_is_array(v)) {
        /* a list of names (candidate groups): join with commas */
        char *s = "";
        size_t i;
        json_t *it;
        json_array_foreach(v, i, it)
        {
            if (json_is_string(it))
                s = bpm_arena_sprintf(r->arena, "%s%s%s", s, *s ? "," : "", json_string_value(it));
        }
        *out = s;
    }
    json_decref(v);
    return true;
}

bool bpm_run_script(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_expr *body, const char *result_var)
{
    bpm_eval_result res;
    if (!run_eval(r, ei, n, body, BPM_USE_SCRIPT, &res))
        return false;
    if (res.outcome == BPM_EVAL_BPMN_ERROR) {
        json_decref(res.value);
        bpm_run_throw_error(r, ei, res.code, res.message);
        return false;
    }
    if (res.outcome == BPM_EVAL_ESCALATION) {
        json_decref(res.value);
        bpm_run_throw_escalation(r, ei, res.code);
        return !r->failed && bpm_run_ei(r, ei) != NULL;
    }
    if (result_var && bpm_run_results_local(n))
        bpm_run_set_local(r, ei, result_var, res.value ? res.value : json_null());
    else if (result_var)
        bpm_run_set_var(r, ei, result_var, res.value ? res.value : json_null());
    else
        json_decref(res.value);
    return !r->failed;
}

bool bpm_run_results_local(const bpm_node *n)
{
    if (!n->io.n_outputs)
        return false;
    if ((n->service && n->service->kind == BPM_IMPL_JOB) || (n->user && n->user->zeebe_user_task))
        return true;
    for (size_t i = 0; i < n->io.n_outputs; i++)
        if (n->io.outputs[i].value.dialect == BPM_DIALECT_FEEL)
            return true; /* zeebe:output mappings are FEEL */
    return false;
}

/* ---- parameters ---------------------------------------------------------------- */

static bool param_value(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_param *p, json_t **out, int depth)
{
    switch (p->kind) {
    case BPM_PARAM_NULL:
        *out = json_null();
        return true;
    case BPM_PARAM_EXPR:
        return bpm_run_eval(r, ei, n, &p->value, BPM_USE_VALUE, out);
    case BPM_PARAM_SCRIPT: {
        bpm_eval_result res;
        if (!run_eval(r, ei, n, &p->value, BPM_USE_SCRIPT, &res))
            return false;
        *out = res.value ? res.value : json_null();
        return true;
    }
    case BPM_PARAM_LIST:
    case BPM_PARAM_MAP: {
        json_t *acc = p->kind == BPM_PARAM_LIST ? json_array() : json_object();
        for (size_t i = 0; i < p->n_items && depth < 32; i++) {
            json_t *v = NULL;
            if (!param_value(r, ei, n, &p->items[i], &v, depth + 1)) {
                json_decref(acc);
                return false;
            }
            if (p->kind == BPM_PARAM_LIST)
                json_array_append_new(acc, v);
            else
                json_object_set_new(acc, p->items[i].name ? p->items[i].name : "", v);
        }
        *out = acc;
        return true;
    }
    }
    *out = json_null();
    return true;
}

bool bpm_run_inputs(bpm_run *r, uint32_t ei)
{
    bpm_ei *e = bpm_run_ei(r, ei);
    const bpm_node *n = e->node;
    for (size_t i = 0; i < n->io.n_inputs; i++) {
        const bpm_param *p = &n->io.inputs[i];
        json_t *v = NULL;
        /* Inputs see the surrounding scope plus the inputs mapped so far
         * (Camunda 7 evaluates them in order on the activity's execution),
         * and a multi-instance iteration's loopCounter and element variable
         * (Camunda 7 user guide, variables: "Multi-instance IO Mapping"). */
        if (!param_value(r, ei, n, p, &v, 0))
            return false;
        if (p->name)
            bpm_run_set_local(r, ei, p->name, v);
        else
            json_decref(v);
    }
    return true;
}

bool bpm_run_outputs(bpm_run *r, uint32_t ei)
{
    bpm_ei *e = bpm_run_ei(r, ei);
    const bpm_node *n = e->node;
    uint32_t parent = e->parent;
    for (size_t i = 0; i < n->io.n_outputs; i++) {
        const bpm_param *p = &n->io.outputs[i];
        json_t *v = NULL;
        if (!param_value(r, ei, n, p, &v, 0))
            return false;
        if (p->name)
            bpm_run_set_var(r, parent, p->name, v); /* locals never leak: only mapped names go out */
        else
            json_decref(v);
    }
    return true;
}

static bool run_listeners(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_listener *ls, size_t count,
                          const char *event)
{
    for (size_t i = 0; i < count; i++) {
        const bpm_listener *l = &ls[i];
        const char *ev = l->event ? l->event : "start";
        if (strcmp(ev, event) != 0)
            continue;
        if (l->kind == BPM_IMPL_SCRIPT || l->kind == BPM_IMPL_EXPRESSION) {
            bpm_eval_result res;
            if (!run_eval(r, ei, n, &l->script, l->kind == BPM_IMPL_SCRIPT ? BPM_USE_SCRIPT : BPM_USE_VALUE, &res))
                return false;
            json_decref(res.value);
            if (res.outcome == BPM_EVAL_BPMN_ERROR) {
                bpm_run_throw_error(r, ei, res.code, res.message);
                return false;
            }
        } else {
            bpm_run_fail(r, ei, n, "%s listener cannot run: only script and expression listeners are supported", event);
            return false;
        }
    }
    return true;
}

bool bpm_run_listeners(bpm_run *r, uint32_t ei, const bpm_node *n, const char *event)
{
    return run_listeners(r, ei, n, n->listeners, n->n_listeners, event);
}

bool bpm_run_process_listeners(bpm_run *r, uint32_t root, const char *event)
{
    return run_listeners(r, root, NULL, r->p->listeners, r->p->n_listeners, event);
}

/* What a task listener's script sees as `task`: the task as its wait
 * holds it (Camunda 7 DelegateTask's getters). New reference. */
static json_t *task_view(bpm_run *r, const bpm_node *n, const json_t *d, const char *event)
{
    json_t *t = json_pack("{s:s, s:s, s:s}", "eventName", event, "taskDefinitionKey", n->id, "processInstanceId",
                          r->inst->id);
    static const char *const members[][2] = {{"name", "name"},
                                             {"assignee", "assignee"},
                                             {"priority", "priority"},
                                             {"due", "dueDate"},
                                             {"followUp", "followUpDate"},
                                             {"candidateUsers", "candidateUsers"},
                                             {"candidateGroups", "candidateGroups"}};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        json_t *v = json_object_get(d, members[i][0]);
        if (v && !json_is_null(v))
            json_object_set(t, members[i][1], v);
    }
    if (!json_object_get(t, "priority"))
        json_object_set_new(t, "priority", json_integer(BPM_TASK_PRIORITY_DEFAULT));
    return t;
}

bool bpm_run_task_listeners(bpm_run *r, uint32_t ei, const char *event, const json_t *data)
{
    const bpm_ei *e = bpm_run_ei(r, ei);
    const bpm_node *n = e ? e->node : NULL;
    if (!bpm_model_task_listens(n, event))
        return true;
    if (!data)
        for (size_t i = 0; i < r->inst->n_waits; i++)
            if (r->inst->waits[i].ei == ei && r->inst->waits[i].kind == BPM_WAIT_USER_TASK)
                data = r->inst->waits[i].data;
    json_t *task = task_view(r, n, data, event);
    const json_t *outer = r->task;
    r->task = task;
    bool ok = true;
    /* a task listener has no default event: only those naming it run */
    for (size_t i = 0; ok && i < n->user->n_task_listeners; i++) {
        const bpm_listener *l = &n->user->task_listeners[i];
        if (l->event && strcmp(l->event, event) == 0 && !run_listeners(r, ei, n, l, 1, event))
            ok = false;
        else if (!bpm_run_ei(r, ei))
            ok = false; /* a BPMN error thrown by the listener took the task away */
    }
    r->task = outer;
    json_decref(task);
    return ok;
}
