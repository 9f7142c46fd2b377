/* Tasks (BPMN 2.0.2 §10.3.3): plain, manual, script, user, service, send,
 * receive and business rule. User tasks and jobs (external tasks, connector
 * calls, Camunda 8 jobs) park the token on a wait whose data tells the store
 * what row to create; completing the wait moves the token on. */
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

/* Sets a non-empty array (stolen); drops an empty one. */
static void set_list(json_t *o, const char *k, json_t *a)
{
    if (json_array_size(a))
        json_object_set_new(o, k, a);
    else
        json_decref(a);
}

static json_t *split_list(const char *s)
{
    json_t *a = json_array();
    if (!s)
        return a;
    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        while (len && s[len - 1] == ' ')
            len--;
        if (len)
            json_array_append_new(a, json_stringn(s, len));
        if (!end)
            break;
        s = end + 1;
    }
    return a;
}

static bool open_user_task(bpm_run *r, uint32_t ei, const bpm_node *n)
{
    const bpm_user_task *u = n->user;
    const char *assignee = NULL, *users = NULL, *groups = NULL, *due = NULL, *follow = NULL, *prio = NULL;
    if (u && (!bpm_run_eval_string(r, ei, n, &u->assignee, &assignee) ||
              !bpm_run_eval_string(r, ei, n, &u->candidate_users, &users) ||
              !bpm_run_eval_string(r, ei, n, &u->candidate_groups, &groups) ||
              !bpm_run_eval_string(r, ei, n, &u->due_date, &due) ||
              !bpm_run_eval_string(r, ei, n, &u->follow_up_date, &follow) ||
              !bpm_run_eval_string(r, ei, n, &u->priority, &prio)))
        return false;
    json_t *fields = json_array();
    for (size_t i = 0; u && i < u->n_form_fields; i++) {
        const bpm_form_field *f = &u->form_fields[i];
        json_array_append_new(fields, json_pack("{s:s?, s:s?, s:s?, s:s?}", "id", f->id, "label", f->label, "type",
                                                f->type, "defaultValue", f->default_value));
    }
    char *end = NULL;
    long long p = prio ? strtoll(prio, &end, 10) : BPM_TASK_PRIORITY_DEFAULT;
    if (prio && (!end || *end)) {
        bpm_run_fail(r, ei, n, "task priority \"%s\" is not an integer", prio);
        json_decref(fields);
        return false;
    }
    uint32_t w = bpm_run_open_wait(r, ei, n, BPM_WAIT_USER_TASK);
    bpm_wait *wt = bpm_inst_wait(r->inst, w);
    wt->name = n->name ? n->name : n->id;
    /* Only the members that say something: the wait is part of the state of
     * every waiting instance, so a missing member is its default (no name,
     * assignee, candidates, dates, form; priority 50). */
    json_t *d = json_object();
    set_str(d, "name", n->name);
    set_str(d, "assignee", assignee);
    set_list(d, "candidateUsers", split_list(users));
    set_list(d, "candidateGroups", split_list(groups));
    set_str(d, "due", due);
    if (p != BPM_TASK_PRIORITY_DEFAULT)
        json_object_set_new(d, "priority", json_integer((json_int_t)p));
    set_str(d, "followUp", follow);
    set_str(d, "formKey", u ? u->form_key : NULL);
    set_list(d, "formFields", fields);
    wt->data = d;
    bpm_run_ei(r, ei)->state = BPM_EI_WAITING;
    return true;
}

/* The job a service-like task becomes: external task, connector, zeebe job. */
static bool open_job(bpm_run *r, uint32_t ei, const bpm_node *n)
{
    const bpm_service *s = n->service;
    json_t *data = json_object();
    const char *name = NULL;
    switch (s->kind) {
    case BPM_IMPL_EXTERNAL: {
        name = s->topic;
        const char *prio = NULL;
        if (!bpm_run_eval_string(r, ei, n, &s->task_priority, &prio))
            goto fail;
        json_object_set_new(data, "type", json_string("external"));
        json_object_set_new(data, "topic", json_string(s->topic ? s->topic : ""));
        json_object_set_new(data, "priority", json_integer(prio ? strtoll(prio, NULL, 10) : 0));
        break;
    }
    case BPM_IMPL_CONNECTOR: {
        name = s->connector_id;
        /* the call's inputs are computed now, inside the step; the call
         * itself runs outside the transaction */
        json_t *inputs = json_object();
        for (size_t i = 0; i < s->connector_io.n_inputs; i++) {
            const bpm_param *p = &s->connector_io.inputs[i];
            json_t *v = NULL;
            bpm_expr e = p->value;
            if (p->kind == BPM_PARAM_EXPR || p->kind == BPM_PARAM_SCRIPT) {
                if (!bpm_run_eval(r, ei, n, &e, p->kind == BPM_PARAM_SCRIPT ? BPM_USE_SCRIPT : BPM_USE_VALUE, &v)) {
                    json_decref(inputs);
                    goto fail;
                }
            } else if (p->kind == BPM_PARAM_MAP || p->kind == BPM_PARAM_LIST) {
                v = p->kind == BPM_PARAM_MAP ? json_object() : json_array();
                for (size_t k = 0; k < p->n_items; k++) {
                    json_t *iv = NULL;
                    bpm_expr ie = p->items[k].value;
                    if (p->items[k].kind == BPM_PARAM_EXPR && !bpm_run_eval(r, ei, n, &ie, BPM_USE_VALUE, &iv)) {
                        json_decref(v);
                        json_decref(inputs);
                        goto fail;
                    }
                    if (!iv)
                        iv = json_null();
                    if (p->kind == BPM_PARAM_MAP)
                        json_object_set_new(v, p->items[k].name ? p->items[k].name : "", iv);
                    else
                        json_array_append_new(v, iv);
                }
            }
            json_object_set_new(inputs, p->name ? p->name : "", v ? v : json_null());
        }
        json_object_set_new(data, "type", json_string("connector"));
        json_object_set_new(data, "connector", json_string(s->connector_id ? s->connector_id : ""));
        json_object_set_new(data, "inputs", inputs);
        break;
    }
    case BPM_IMPL_JOB: {
        name = s->job_type;
        json_t *headers = json_object();
        for (size_t i = 0; i < s->n_headers; i++)
            json_object_set_new(headers, s->headers[i].name ? s->headers[i].name : "", str_or_null(s->headers[i].value));
        json_object_set_new(data, "type", json_string("job"));
        json_object_set_new(data, "jobType", json_string(s->job_type ? s->job_type : ""));
        json_object_set_new(data, "headers", headers);
        const char *retries = NULL;
        if (!bpm_run_eval_string(r, ei, n, &s->retries, &retries))
            goto fail;
        json_object_set_new(data, "retries", json_integer(retries ? strtoll(retries, NULL, 10) : 3));
        break;
    }
    default:
        json_decref(data);
        bpm_run_fail(r, ei, n, "%s cannot run: it has no implementation bpmnd supports", bpm_model_kind_name(n->kind));
        return false;
    }
    uint32_t w = bpm_run_open_wait(r, ei, n, BPM_WAIT_JOB);
    bpm_wait *wt = bpm_inst_wait(r->inst, w);
    wt->name = bpm_arena_strdup(r->inst->arena, name ? name : "");
    wt->data = data;
    bpm_run_ei(r, ei)->state = BPM_EI_WAITING;
    return true;
fail:
    json_decref(data);
    return false;
}

static void task_enter(bpm_run *r, uint32_t ei)
{
    bpm_ei *e = bpm_run_ei(r, ei);
    const bpm_node *n = e->node;
    switch (n->kind) {
    case BPM_NODE_SCRIPT_TASK:
        if (!n->script || !n->script->body.text) {
            bpm_run_fail(r, ei, n, "script task has no script");
            return;
        }
        if (!bpm_run_script(r, ei, n, &n->script->body, n->result_variable))
            return;
        if (bpm_run_ei(r, ei))
            bpm_run_complete(r, ei);
        return;
    case BPM_NODE_USER_TASK: {
        if (!open_user_task(r, ei, n))
            return;
        /* Camunda 7 delegation-code "Task Listener Event Lifecycle": create
         * fires once the task exists with its properties; for a task created
         * with an assignee, assignment follows create */
        if (!bpm_run_task_listeners(r, ei, "create"))
            return;
        const bpm_wait *w = NULL;
        for (size_t i = 0; i < r->inst->n_waits; i++)
            if (r->inst->waits[i].ei == ei && r->inst->waits[i].kind == BPM_WAIT_USER_TASK)
                w = &r->inst->waits[i];
        json_t *assignee = w && w->data ? json_object_get(w->data, "assignee") : NULL;
        if (json_is_string(assignee))
            bpm_run_task_listeners(r, ei, "assignment");
        return;
    }
    case BPM_NODE_SERVICE_TASK:
    case BPM_NODE_SEND_TASK:
    case BPM_NODE_BUSINESS_RULE_TASK: {
        const bpm_service *s = n->service;
        if (!s || s->kind == BPM_IMPL_NONE) {
            if (n->kind == BPM_NODE_SEND_TASK && n->message) {
                bpm_effect *fx = bpm_run_effect(r, BPM_FX_MESSAGE, ei, n);
                fx->name = n->message->name;
            }
            bpm_run_complete(r, ei); /* nothing to call: a placeholder */
            return;
        }
        if (s->kind == BPM_IMPL_EXPRESSION) {
            json_t *v = NULL;
            if (!bpm_run_eval(r, ei, n, &s->expression, BPM_USE_VALUE, &v))
                return;
            if (n->result_variable)
                bpm_run_set_var(r, ei, n->result_variable, v);
            else
                json_decref(v);
            bpm_run_complete(r, ei);
            return;
        }
        open_job(r, ei, n);
        return;
    }
    case BPM_NODE_RECEIVE_TASK:
        if (e->phase & BPM_PHASE_TRIGGERED) {
            bpm_run_complete(r, ei);
            return;
        }
        {
            uint32_t w = bpm_run_open_wait(r, ei, n, BPM_WAIT_MESSAGE);
            bpm_wait *wt = bpm_inst_wait(r->inst, w);
            wt->name = bpm_arena_strdup(r->inst->arena, n->message ? n->message->name : "");
            wt->interrupting = true;
            if (n->message && n->message->correlation_key.text) {
                const char *key = NULL;
                if (!bpm_run_eval_string(r, ei, n, &n->message->correlation_key, &key))
                    return;
                bpm_inst_wait(r->inst, w)->key = bpm_arena_strdup(r->inst->arena, key);
            }
        }
        bpm_run_ei(r, ei)->state = BPM_EI_WAITING;
        return;
    default: /* task, manual task */
        bpm_run_complete(r, ei);
    }
}

static void task_trigger(bpm_run *r, uint32_t ei, uint32_t wait, const bpm_cmd *cmd)
{
    bpm_wait *w = bpm_inst_wait(r->inst, wait);
    const bpm_node *n = w->node;
    bool connector = w->kind == BPM_WAIT_JOB && n->service && n->service->kind == BPM_IMPL_CONNECTOR;
    bpm_run_close_waits_of(r, ei);
    if (connector) {
        /* The response is local to the call; only what the output
         * parameters map leaves it, set as Camunda 7 sets them: where the
         * name is visible, else on the process. */
        if (cmd->vars)
            bpm_run_set_vars(r, ei, cmd->vars, true);
        const bpm_io *io = &n->service->connector_io;
        for (size_t i = 0; i < io->n_outputs; i++) {
            const bpm_param *p = &io->outputs[i];
            json_t *v = NULL;
            bpm_expr e = p->value;
            if (p->kind == BPM_PARAM_EXPR || p->kind == BPM_PARAM_SCRIPT) {
                if (!bpm_run_eval(r, ei, n, &e, p->kind == BPM_PARAM_SCRIPT ? BPM_USE_SCRIPT : BPM_USE_VALUE, &v))
                    return;
            }
            if (p->name)
                bpm_run_set_var(r, ei, p->name, v ? v : json_null());
            else
                json_decref(v);
        }
    } else if (cmd->vars) {
        /* Camunda 7 sets a completion's variables where they are visible;
         * Camunda 8 makes a job's or task's result local when the element
         * has output mappings, and only what they map leaves it. */
        bpm_run_set_vars(r, ei, cmd->vars, bpm_run_results_local(n));
    }
    if (cmd->local_vars)
        bpm_run_set_vars(r, ei, cmd->local_vars, true);
    if (n->kind == BPM_NODE_USER_TASK && !bpm_run_task_listeners(r, ei, "complete"))
        return;
    bpm_run_complete(r, ei);
}

const bpm_node_ops bpm_node_task_ops = {task_enter, task_trigger, NULL};
