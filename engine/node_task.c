/* Tasks (BPMN 2.0.2 §10.3.3): plain, manual, script, user, service, send,
 * receive and business rule. User tasks and jobs (external tasks, connector
 * calls, Camunda 8 jobs) park the token on a wait whose data tells the store
 * what row to create; completing the wait moves the token on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"
#include "timer.h"

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

/* The variables each Camunda 8 connector bpmnd runs reads from its job, as
 * the task's input mappings left them: the REST connector's (Camunda 8 docs,
 * connectors/protocol/rest) and bpmnd's own (docs/connectors.md). */
static const char *const REST_INPUTS[] = {"url", "method", "headers", "body", "queryParameters", "authentication",
                                          "connectionTimeoutInSeconds", "readTimeoutInSeconds", NULL};
static const char *const SLACK_INPUTS[] = {"webhookUrl", "url", "text", "blocks", "attachments", "username",
                                           "iconEmoji", "iconUrl", "channel", "threadTs", "mrkdwn", "unfurlLinks",
                                           "unfurlMedia", "connectionTimeoutInSeconds", "readTimeoutInSeconds",
                                           NULL};
static const char *const CLOUDEVENTS_INPUTS[] = {"url", "type", "source", "subject", "id", "data", "mode",
                                                 "datacontenttype", "dataschema", "headers", "extensions",
                                                 "connectionTimeoutInSeconds", "readTimeoutInSeconds", NULL};

static const char *const *zeebe_inputs(const char *job_type)
{
    if (strncmp(job_type, "io.bpmnd:slack-webhook:", 23) == 0)
        return SLACK_INPUTS;
    if (strncmp(job_type, "io.bpmnd:cloudevents-http:", 26) == 0)
        return CLOUDEVENTS_INPUTS;
    return REST_INPUTS;
}

/* A CloudEvent's id must be the same on every attempt (the job id, known
 * to the worker) and its time is when the step ran, not when a retry
 * happened to send it: the step's time and the process id (for the default
 * source) go with the job. */
static void cloudevents_context(bpm_run *r, const bpm_node *n, const char *connector, json_t *data)
{
    if (!connector || (strcmp(connector, "cloudevents-http") != 0 &&
                       strncmp(connector, "io.bpmnd:cloudevents-http:", 26) != 0))
        return;
    char at[BPM_TIMER_ISO_SIZE];
    bpm_timer_format_iso(r->env->now_ms, at, sizeof at);
    json_object_set_new(data, "time", json_string(at));
    json_object_set_new(data, "process", json_string(n->process && n->process->id ? n->process->id : ""));
}

/* Sets path ("a.b.c") in obj to v (stolen), making the objects on the way. */
static void set_path(json_t *obj, const char *path, json_t *v)
{
    const char *dot;
    while ((dot = strchr(path, '.')) && dot > path) {
        char key[128];
        size_t len = (size_t)(dot - path) < sizeof key - 1 ? (size_t)(dot - path) : sizeof key - 1;
        memcpy(key, path, len);
        key[len] = '\0';
        json_t *next = json_object_get(obj, key);
        if (!json_is_object(next)) {
            next = json_object();
            json_object_set_new(obj, key, next);
        }
        obj = next;
        path = dot + 1;
    }
    json_object_set_new(obj, path, v);
}

/* A Camunda 8 connector task (REST, Slack, CloudEvents): the call's inputs
 * are taken now, inside the step, from the variables its input mappings made (a target such as
 * "authentication.type" becomes a nested object, as the connector runtime
 * reads it); the retries and the backoff between them go with the job. */
static bool open_rest_connector(bpm_run *r, uint32_t ei, const bpm_node *n, json_t *data)
{
    const bpm_service *s = n->service;
    json_t *inputs = json_object();
    const char *const *names = zeebe_inputs(s->job_type);
    for (size_t i = 0; names[i]; i++) {
        json_t *v = bpm_run_get_var(r, ei, names[i]);
        if (v)
            json_object_set(inputs, names[i], v);
    }
    for (size_t i = 0; i < n->io.n_inputs; i++) {
        const char *target = n->io.inputs[i].name;
        json_t *v = target && strchr(target, '.') ? bpm_run_get_var(r, ei, target) : NULL;
        if (v)
            set_path(inputs, target, json_incref(v));
    }
    const char *retries = NULL;
    if (!bpm_run_eval_string(r, ei, n, &s->retries, &retries)) {
        json_decref(inputs);
        return false;
    }
    json_object_set_new(data, "type", json_string("connector"));
    json_object_set_new(data, "connector", json_string(s->job_type));
    json_object_set_new(data, "inputs", inputs);
    json_object_set_new(data, "retries", json_integer(retries ? strtoll(retries, NULL, 10) : 3));
    if (s->retry_backoff)
        json_object_set_new(data, "retryBackoff", json_string(s->retry_backoff));
    cloudevents_context(r, n, s->job_type, data);
    return true;
}

/* The inputs of a Camunda 7 camunda:connector, evaluated now: *out is a new
 * object {name: value}. false = the step failed. */
static bool connector_inputs(bpm_run *r, uint32_t ei, const bpm_node *n, json_t **out)
{
    const bpm_service *s = n->service;
    json_t *inputs = json_object();
    for (size_t i = 0; i < s->connector_io.n_inputs; i++) {
        const bpm_param *p = &s->connector_io.inputs[i];
        json_t *v = NULL;
        bpm_expr e = p->value;
        if (p->kind == BPM_PARAM_EXPR || p->kind == BPM_PARAM_SCRIPT) {
            if (!bpm_run_eval(r, ei, n, &e, p->kind == BPM_PARAM_SCRIPT ? BPM_USE_SCRIPT : BPM_USE_VALUE, &v)) {
                json_decref(inputs);
                return false;
            }
        } else if (p->kind == BPM_PARAM_MAP || p->kind == BPM_PARAM_LIST) {
            v = p->kind == BPM_PARAM_MAP ? json_object() : json_array();
            for (size_t k = 0; k < p->n_items; k++) {
                json_t *iv = NULL;
                bpm_expr ie = p->items[k].value;
                if (p->items[k].kind == BPM_PARAM_EXPR && !bpm_run_eval(r, ei, n, &ie, BPM_USE_VALUE, &iv)) {
                    json_decref(v);
                    json_decref(inputs);
                    return false;
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
    *out = inputs;
    return true;
}

/* One input of the Camunda 8 RabbitMQ connector, as its input mappings left
 * it: the variable "group.member" (a zeebe:input target with a dot), else
 * member of the object variable "group". Borrowed, or NULL. */
static json_t *c8_input(bpm_run *r, uint32_t ei, const char *group, const char *member)
{
    char dotted[64];
    snprintf(dotted, sizeof dotted, "%s.%s", group, member);
    json_t *v = bpm_run_get_var(r, ei, dotted);
    if (v)
        return v;
    json_t *g = bpm_run_get_var(r, ei, group);
    return json_is_object(g) ? json_object_get(g, member) : NULL;
}

/* Publishing to RabbitMQ through the transactional outbox
 * (docs/messaging.md). The message is fixed now, inside the step: its
 * exchange, routing key, body, properties and id, the id made from the
 * instance id and a number of the instance's own (the engine has no
 * randomness), so every resend of it carries the same id. It leaves as a
 * BPM_FX_PUBLISH effect that the store writes with the rest of the step;
 * the token moves on without waiting for the broker. Camunda 8: the
 * RabbitMQ connector's inputs routing.exchange, routing.routingKey,
 * message.body, message.properties (its authentication and host inputs are
 * ignored: bpmnd publishes to the broker it is configured with); Camunda 7:
 * camunda:connector "rabbitmq-publish" with exchange, routingKey, body,
 * properties. false = the step failed. */
static bool publish(bpm_run *r, uint32_t ei, const bpm_node *n)
{
    const bpm_service *s = n->service;
    json_t *in = NULL, *exchange, *key, *body, *props;
    if (s->kind == BPM_IMPL_CONNECTOR) {
        if (!connector_inputs(r, ei, n, &in))
            return false;
        exchange = json_object_get(in, "exchange");
        key = json_object_get(in, "routingKey");
        body = json_object_get(in, "body");
        props = json_object_get(in, "properties");
    } else {
        exchange = c8_input(r, ei, "routing", "exchange");
        key = c8_input(r, ei, "routing", "routingKey");
        body = c8_input(r, ei, "message", "body");
        props = c8_input(r, ei, "message", "properties");
    }
    const char *kname = s->kind == BPM_IMPL_CONNECTOR ? "routingKey" : "routing.routingKey";
    bool ok = false;
    json_t *parsed = NULL;
    if (exchange && !json_is_null(exchange) && !json_is_string(exchange)) {
        bpm_run_fail(r, ei, n, "the exchange to publish to must be a string");
        goto done;
    }
    if (!json_is_string(key)) {
        bpm_run_fail(r, ei, n, "the message has no routing key: input \"%s\" must be a string", kname);
        goto done;
    }
    if (!body) {
        bpm_run_fail(r, ei, n, "the message has no body: input \"%s\" is missing",
                     s->kind == BPM_IMPL_CONNECTOR ? "body" : "message.body");
        goto done;
    }
    if (json_is_string(props)) /* a JSON text written into the field */
        props = parsed = json_loads(json_string_value(props), 0, NULL);
    if (props && !json_is_null(props) && !json_is_object(props)) {
        bpm_run_fail(r, ei, n, "the message properties must be a JSON object");
        goto done;
    }
    const char *id = bpm_arena_sprintf(r->arena, "%s-%u", r->inst->id, r->inst->next_id++);
    const char *xname = json_is_string(exchange) ? json_string_value(exchange) : ""; /* "": the default exchange */
    json_t *payload = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "messageId", id, "instanceId", r->inst->id,
                                "element", n->id, "exchange", xname, "routingKey", json_string_value(key), "body", body);
    if (json_is_object(props) && json_object_size(props))
        json_object_set(payload, "properties", props);
    if (r->inst->business_key)
        json_object_set_new(payload, "businessKey", json_string(r->inst->business_key));
    bpm_effect *fx = bpm_run_effect(r, BPM_FX_PUBLISH, ei, n);
    fx->name = "rabbitmq";
    fx->key = id;
    fx->value = payload;
    if (s->kind == BPM_IMPL_JOB && s->result_variable) /* what the connector's result would hold */
        bpm_run_set_var(r, ei, s->result_variable, json_pack("{s:s}", "messageId", id));
    ok = true;
done:
    json_decref(parsed);
    json_decref(in);
    return ok;
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
        json_t *inputs = NULL;
        if (!connector_inputs(r, ei, n, &inputs))
            goto fail;
        json_object_set_new(data, "type", json_string("connector"));
        json_object_set_new(data, "connector", json_string(s->connector_id ? s->connector_id : ""));
        json_object_set_new(data, "inputs", inputs);
        cloudevents_context(r, n, s->connector_id, data);
        break;
    }
    case BPM_IMPL_JOB: {
        name = s->job_type;
        if (bpm_model_zeebe_connector(s)) {
            if (!open_rest_connector(r, ei, n, data))
                goto fail;
            break;
        }
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

/* Runs the implementation of a service-like element: an expression at once
 * (then the element completes), anything else as a job the element waits
 * for. Also used by message throw and end events that carry one. */
void bpm_run_service(bpm_run *r, uint32_t ei, const bpm_node *n)
{
    const bpm_service *s = n->service;
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
    if (bpm_model_publisher(s)) {
        if (publish(r, ei, n))
            bpm_run_complete(r, ei);
        return;
    }
    open_job(r, ei, n);
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
        if (!bpm_run_task_listeners(r, ei, "create", NULL))
            return;
        const bpm_wait *w = NULL;
        for (size_t i = 0; i < r->inst->n_waits; i++)
            if (r->inst->waits[i].ei == ei && r->inst->waits[i].kind == BPM_WAIT_USER_TASK)
                w = &r->inst->waits[i];
        json_t *assignee = w && w->data ? json_object_get(w->data, "assignee") : NULL;
        if (json_is_string(assignee))
            bpm_run_task_listeners(r, ei, "assignment", NULL);
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
        bpm_run_service(r, ei, n);
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

/* A connector call's outcome, Camunda 7 (camunda:connector): the response
 * is local to the task ({statusCode, response, headers}); the output
 * parameters map what leaves it, set as Camunda 7 sets them (where the name
 * is visible, else on the process). An output script may turn the response
 * into a BPMN error with bpmn.error(code, message). A failed call is mapped
 * only that way: when no output throws, the step fails with the failure's
 * text (a retry of the job, then an incident). A call that got no response
 * at all has nothing to map. false = the step failed or an error was thrown. */
static bool connector_outputs(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_cmd *cmd)
{
    if (cmd->message && !cmd->vars) {
        bpm_run_fail(r, ei, n, "%s", cmd->message);
        return false;
    }
    if (cmd->vars)
        bpm_run_set_vars(r, ei, cmd->vars, true);
    const bpm_io *io = &n->service->connector_io;
    for (size_t i = 0; i < io->n_outputs; i++) {
        const bpm_param *p = &io->outputs[i];
        json_t *v = NULL;
        if (p->kind == BPM_PARAM_EXPR || p->kind == BPM_PARAM_SCRIPT) {
            bpm_eval_result res;
            if (!bpm_run_eval_outcome(r, ei, n, &p->value, p->kind == BPM_PARAM_SCRIPT ? BPM_USE_SCRIPT : BPM_USE_VALUE,
                                      &res)) {
                if (cmd->message) { /* the failed call is the cause, the output's failure its fallout */
                    char why[sizeof r->fail_msg];
                    memcpy(why, r->fail_msg, sizeof why);
                    snprintf(r->fail_msg, sizeof r->fail_msg, "%.300s; output parameter \"%.64s\" failed on it: %.300s",
                             cmd->message, p->name ? p->name : "", why);
                }
                return false;
            }
            if (res.outcome == BPM_EVAL_BPMN_ERROR) {
                json_decref(res.value);
                bpm_run_throw_error(r, ei, res.code, res.message);
                return false;
            }
            if (res.outcome == BPM_EVAL_ESCALATION) {
                json_decref(res.value);
                bpm_run_throw_escalation(r, ei, res.code);
                if (r->failed || !bpm_run_ei(r, ei))
                    return false;
                continue;
            }
            v = res.value;
        }
        if (p->name)
            bpm_run_set_var(r, ei, p->name, v ? v : json_null());
        else
            json_decref(v);
    }
    if (cmd->message) {
        bpm_run_fail(r, ei, n, "%s", cmd->message);
        return false;
    }
    return true;
}

static void copy_visible(void *arg, const char *name, json_t *value)
{
    if (!json_object_get(arg, name))
        json_object_set(arg, name, value);
}

/* A connector call's outcome, Camunda 8 REST connector: the response is
 * {status, headers, body}. On success resultVariable receives it whole and
 * the context resultExpression makes of it is merged into the result. Then
 * errorExpression runs, over the variables plus the response and result, or
 * plus `error` {code, message, variables: {response}} for a failed call:
 * bpmnError(code, message[, variables]) throws a BPMN error from the task,
 * jobError(message) fails the attempt; anything else leaves the outcome as
 * it was (Camunda 8 docs, connectors "Error expression"). The result is set
 * as a job's completion variables are (local when output mappings exist).
 * false = the step failed or an error was thrown. */
static bool rest_connector_result(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_cmd *cmd)
{
    const bpm_service *s = n->service;
    json_t *resp = NULL, *result = json_object(), *ctx = json_object();
    bool ok = false;
    if (cmd->vars)
        resp = json_pack("{s:O?, s:O?, s:O?}", "status", json_object_get(cmd->vars, "statusCode"), "headers",
                         json_object_get(cmd->vars, "headers"), "body", json_object_get(cmd->vars, "response"));
    char storage[BPM_RUN_VARS_STORAGE];
    bpm_vars vars = bpm_run_vars(r, ei, storage);
    if (!cmd->message) {
        if (s->result_variable)
            json_object_set(result, s->result_variable, resp ? resp : json_null());
        if (s->result_expression.text) {
            json_t *v = NULL;
            if (!bpm_run_eval_over(r, ei, n, resp, &s->result_expression, &v))
                goto done;
            if (json_is_object(v)) {
                json_object_update(result, v);
            } else if (!json_is_null(v)) {
                json_decref(v);
                bpm_run_fail(r, ei, n, "resultExpression \"%s\" gave no context", s->result_expression.text);
                goto done;
            }
            json_decref(v);
        }
        if (resp)
            json_object_update(ctx, resp);
        json_object_update(ctx, result);
    } else {
        json_t *error = json_pack("{s:s, s:s}", "code", cmd->code ? cmd->code : "FAILED", "message", cmd->message);
        if (resp)
            json_object_set_new(error, "variables",
                                json_pack("{s:{s:O?, s:O?}}", "response", "headers", json_object_get(resp, "headers"),
                                          "body", json_object_get(resp, "body")));
        json_object_set_new(ctx, "error", error);
    }
    vars.ops->each(vars.ctx, copy_visible, ctx);
    if (s->error_expression.text) {
        json_t *v = NULL;
        if (!bpm_run_eval_over(r, ei, n, ctx, &s->error_expression, &v))
            goto done;
        const char *type = json_string_value(json_object_get(v, "errorType"));
        json_t *code = json_object_get(v, "code");
        const char *msg = json_string_value(json_object_get(v, "message"));
        if (json_is_object(v) && type && strcmp(type, "jobError") == 0) {
            bpm_run_fail(r, ei, n, "errorExpression failed the job: %s", msg ? msg : "(no message)");
            json_decref(v);
            goto done;
        }
        if (json_is_object(v) && (json_is_string(code) || json_is_integer(code)) &&
            (!type || strcmp(type, "bpmnError") == 0)) {
            const char *c = json_is_string(code) ? bpm_arena_strdup(r->arena, json_string_value(code))
                                                 : bpm_arena_sprintf(r->arena, "%" JSON_INTEGER_FORMAT,
                                                                     json_integer_value(code));
            msg = msg ? bpm_arena_strdup(r->arena, msg) : NULL;
            json_t *evars = json_object_get(v, "variables");
            if (json_is_object(evars))
                bpm_run_set_vars(r, ei, evars, false);
            json_decref(v);
            bpm_run_throw_error(r, ei, c, msg);
            goto done;
        }
        json_decref(v);
    }
    if (cmd->message) {
        bpm_run_fail(r, ei, n, "%s", cmd->message);
        goto done;
    }
    bpm_run_set_vars(r, ei, result, bpm_run_results_local(n));
    ok = true;
done:
    json_decref(resp);
    json_decref(result);
    json_decref(ctx);
    return ok;
}

static void task_trigger(bpm_run *r, uint32_t ei, uint32_t wait, const bpm_cmd *cmd)
{
    bpm_wait *w = bpm_inst_wait(r->inst, wait);
    const bpm_node *n = w->node;
    /* a wait opened as a connector call (not a job a worker completes) */
    const char *type = w->kind == BPM_WAIT_JOB && n->service ? json_string_value(json_object_get(w->data, "type")) : NULL;
    bool call = type && strcmp(type, "connector") == 0;
    bool connector = call && n->service->kind == BPM_IMPL_CONNECTOR;
    bool rest = call && bpm_model_zeebe_connector(n->service);
    /* the complete listeners see the task as it was, after its wait is gone */
    json_t *task = n->kind == BPM_NODE_USER_TASK && w->kind == BPM_WAIT_USER_TASK ? json_incref(w->data) : NULL;
    bpm_run_close_waits_of(r, ei);
    if (connector) {
        if (!connector_outputs(r, ei, n, cmd))
            return;
    } else if (rest) {
        if (!rest_connector_result(r, ei, n, cmd))
            return;
    } else if (cmd->vars) {
        /* Camunda 7 sets a completion's variables where they are visible;
         * Camunda 8 makes a job's or task's result local when the element
         * has output mappings, and only what they map leaves it. */
        bpm_run_set_vars(r, ei, cmd->vars, bpm_run_results_local(n));
    }
    if (cmd->local_vars)
        bpm_run_set_vars(r, ei, cmd->local_vars, true);
    bool listened = n->kind != BPM_NODE_USER_TASK || bpm_run_task_listeners(r, ei, "complete", task);
    json_decref(task);
    if (listened)
        bpm_run_complete(r, ei);
}

/* A job of a message throw or end event is done: mapped as a task's. */
void bpm_run_service_done(bpm_run *r, uint32_t ei, uint32_t wait, const bpm_cmd *cmd)
{
    task_trigger(r, ei, wait, cmd);
}

const bpm_node_ops bpm_node_task_ops = {task_enter, task_trigger, NULL};
