/* Validation of a built model: errors for what cannot run, warnings for what
 * is suspicious, a note for processes that are not executable. Structural
 * rules apply to every process; execution rules only to executable ones. */
#include <string.h>

#include "build_int.h"
#include "timer.h"

#define ERR(b, line, id, ...)  bpm_diags_add((b)->diags, BPM_SEV_ERROR, (b)->file, (line), (id), __VA_ARGS__)
#define WARN(b, line, id, ...) bpm_diags_add((b)->diags, BPM_SEV_WARNING, (b)->file, (line), (id), __VA_ARGS__)

static const char *java_hint =
    "bpmnd has no Java runtime; use an external task (camunda:type=\"external\"), a Lua script, or a connector";

/* ---- expressions ----------------------------------------------------------- */

/* A syntax pre-check that needs no evaluator: delimiters balance, and JUEL
 * does not call methods on beans. The evaluator compiles everything fully at
 * deploy time (bpm_model_compile); this catches the obvious early. */
static void check_expr(bpm_builder *b, const bpm_expr *e, const char *id, const char *what)
{
    if (!e->text)
        return;
    int line = e->line;
    switch (e->dialect) {
    case BPM_DIALECT_OTHER:
        ERR(b, line, id, "%s is written in \"%s\", which bpmnd does not run; use lua, JUEL (${...}) or FEEL (=...)", what,
            e->language ? e->language : "?");
        return;
    case BPM_DIALECT_JUEL: {
        int depth = 0;
        bool in_expr = false;
        char quote = 0;
        for (const char *p = e->text; *p; p++) {
            if (!in_expr) {
                if ((*p == '$' || *p == '#') && p[1] == '{') {
                    in_expr = true;
                    p++;
                }
                continue;
            }
            if (quote) {
                if (*p == '\\' && p[1])
                    p++;
                else if (*p == quote)
                    quote = 0;
                continue;
            }
            if (*p == '\'' || *p == '"')
                quote = *p;
            else if (*p == '{')
                depth++;
            else if (*p == '}') {
                if (depth == 0)
                    in_expr = false;
                else
                    depth--;
            }
        }
        if (in_expr || quote)
            ERR(b, line, id, "%s \"%s\" is not a complete JUEL expression: a closing '}' or quote is missing", what, e->text);
        return;
    }
    case BPM_DIALECT_FEEL:
        if (!*e->text)
            ERR(b, line, id, "%s is an empty FEEL expression", what);
        return;
    case BPM_DIALECT_LUA:
        if (!*e->text)
            ERR(b, line, id, "%s is empty", what);
        return;
    default:
        return;
    }
}

static void check_param(bpm_builder *b, const bpm_param *p, const char *id, int depth)
{
    if (p->kind == BPM_PARAM_EXPR || p->kind == BPM_PARAM_SCRIPT)
        check_expr(b, &p->value, id, p->kind == BPM_PARAM_SCRIPT ? "a parameter script" : "a parameter value");
    if (p->script_resource)
        ERR(b, p->line, id, "parameter \"%s\" loads its script from resource \"%s\"; inline the script instead",
            p->name ? p->name : "", p->script_resource);
    if (depth < 32)
        for (size_t i = 0; i < p->n_items; i++)
            check_param(b, &p->items[i], id, depth + 1);
}

static void check_io(bpm_builder *b, const bpm_io *io, const char *id)
{
    for (size_t i = 0; i < io->n_inputs; i++)
        check_param(b, &io->inputs[i], id, 0);
    for (size_t i = 0; i < io->n_outputs; i++)
        check_param(b, &io->outputs[i], id, 0);
}

static void check_listeners(bpm_builder *b, const bpm_listener *ls, size_t n, const char *id, const char *kind)
{
    for (size_t i = 0; i < n; i++) {
        const bpm_listener *l = &ls[i];
        if (l->kind == BPM_IMPL_CLASS || l->kind == BPM_IMPL_DELEGATE_EXPRESSION)
            ERR(b, l->line, id, "%s listener \"%s\" is Java code (%s); %s", kind, l->target ? l->target : "",
                l->kind == BPM_IMPL_CLASS ? "camunda:class" : "camunda:delegateExpression", java_hint);
        else if (l->kind == BPM_IMPL_SCRIPT && l->target)
            ERR(b, l->line, id, "%s listener loads its script from resource \"%s\"; inline the script instead", kind, l->target);
        else if (l->kind == BPM_IMPL_NONE)
            ERR(b, l->line, id, "%s listener has no implementation: give it a camunda:script", kind);
        else
            check_expr(b, &l->script, id, "a listener");
    }
}

static bool juel_calls_method(const char *t)
{
    /* name.name( outside quotes inside ${...}: a bean method call */
    char quote = 0;
    for (const char *p = t; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            continue;
        }
        if (*p == '\'' || *p == '"') {
            quote = *p;
            continue;
        }
        if (*p == '(' && p > t) {
            const char *q = p - 1;
            while (q > t && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '_'))
                q--;
            if (*q == '.') {
                /* execution.getVariable(...) is the one call we translate */
                if (q - t >= 9 && strncmp(q - 9, "execution", 9) == 0)
                    continue;
                return true;
            }
        }
    }
    return false;
}

/* ---- per node -------------------------------------------------------------- */

static bool has_event(const bpm_node *n, bpm_event_kind k)
{
    for (size_t i = 0; i < n->n_events; i++)
        if (n->events[i].kind == k)
            return true;
    return false;
}

static void check_event_defs(bpm_builder *b, const bpm_node *n, bool exec)
{
    for (size_t i = 0; i < n->n_events; i++) {
        const bpm_event_def *ev = &n->events[i];
        switch (ev->kind) {
        case BPM_EVENT_MESSAGE:
            if (!ev->ref && exec && n->kind != BPM_NODE_END_EVENT && n->kind != BPM_NODE_INTERMEDIATE_THROW)
                ERR(b, ev->line, n->id, "message event has no messageRef: choose a message in the diagram");
            break;
        case BPM_EVENT_SIGNAL:
            if (!ev->ref && exec)
                ERR(b, ev->line, n->id, "signal event has no signalRef: choose a signal in the diagram");
            break;
        case BPM_EVENT_TIMER:
            if (!ev->timer_kind || !ev->timer.text || !*ev->timer.text) {
                if (exec)
                    ERR(b, ev->line, n->id, "timer has no timeDate, timeDuration or timeCycle value");
            } else if (ev->timer.dialect == BPM_DIALECT_LITERAL) {
                bpm_err err = {0};
                if (bpm_timer_check(ev->timer_kind, ev->timer.text, &err) != BPM_OK)
                    ERR(b, ev->timer.line, n->id, "%s", err.msg);
            } else {
                check_expr(b, &ev->timer, n->id, "the timer value");
            }
            break;
        case BPM_EVENT_CONDITIONAL:
            if (!ev->condition.text)
                ERR(b, ev->line, n->id, "conditional event has no condition");
            else
                check_expr(b, &ev->condition, n->id, "the condition");
            break;
        case BPM_EVENT_LINK:
            if (!ev->link_name || !*ev->link_name)
                ERR(b, ev->line, n->id, "link event has no name; a link throw and its catch share a name");
            break;
        default:
            break;
        }
    }
}

/* A cancel end event cancels the transaction it is in, also from a scope
 * nested inside it such as an event subprocess of the transaction (BPMN 2.0.2
 * table 10.88: "used within a Transaction Sub-Process"). */
static bool within_transaction(const bpm_node *n)
{
    for (const bpm_node *p = n->parent; p; p = p->parent)
        if (p->kind == BPM_NODE_TRANSACTION)
            return true;
    return false;
}

/* Which event definitions BPMN allows where (BPMN 2.0.2 §10.5, tables 10.84-10.90). */
static void check_event_placement(bpm_builder *b, const bpm_node *n, bool exec)
{
    const bpm_node *parent = n->parent;
    bool in_event_sub = parent && parent->kind == BPM_NODE_EVENT_SUBPROCESS;
    for (size_t i = 0; i < n->n_events; i++) {
        bpm_event_kind k = n->events[i].kind;
        const char *kn = bpm_model_event_kind_name(k);
        bool ok = true;
        switch (n->kind) {
        case BPM_NODE_START_EVENT:
            ok = k == BPM_EVENT_MESSAGE || k == BPM_EVENT_TIMER || k == BPM_EVENT_SIGNAL || k == BPM_EVENT_CONDITIONAL ||
                 (in_event_sub && (k == BPM_EVENT_ERROR || k == BPM_EVENT_ESCALATION || k == BPM_EVENT_COMPENSATE));
            if (ok && parent && !in_event_sub)
                ok = false; /* a subprocess starts with a none start event */
            break;
        case BPM_NODE_END_EVENT:
            ok = k == BPM_EVENT_MESSAGE || k == BPM_EVENT_SIGNAL || k == BPM_EVENT_ERROR || k == BPM_EVENT_ESCALATION ||
                 k == BPM_EVENT_COMPENSATE || k == BPM_EVENT_TERMINATE || k == BPM_EVENT_CANCEL;
            if (k == BPM_EVENT_CANCEL && !within_transaction(n))
                ERR(b, n->line, n->id, "a cancel end event belongs inside a transaction subprocess");
            break;
        case BPM_NODE_INTERMEDIATE_CATCH:
            ok = k == BPM_EVENT_MESSAGE || k == BPM_EVENT_TIMER || k == BPM_EVENT_SIGNAL || k == BPM_EVENT_CONDITIONAL ||
                 k == BPM_EVENT_LINK;
            break;
        case BPM_NODE_INTERMEDIATE_THROW:
            ok = k == BPM_EVENT_MESSAGE || k == BPM_EVENT_SIGNAL || k == BPM_EVENT_ESCALATION ||
                 k == BPM_EVENT_COMPENSATE || k == BPM_EVENT_LINK;
            break;
        case BPM_NODE_BOUNDARY_EVENT:
            ok = k == BPM_EVENT_MESSAGE || k == BPM_EVENT_TIMER || k == BPM_EVENT_SIGNAL || k == BPM_EVENT_ERROR ||
                 k == BPM_EVENT_ESCALATION || k == BPM_EVENT_COMPENSATE || k == BPM_EVENT_CONDITIONAL ||
                 k == BPM_EVENT_CANCEL;
            if (k == BPM_EVENT_CANCEL && n->attached_to && n->attached_to->kind != BPM_NODE_TRANSACTION)
                ERR(b, n->line, n->id, "a cancel boundary event can only be attached to a transaction subprocess");
            if ((k == BPM_EVENT_ERROR || k == BPM_EVENT_CANCEL) && !n->interrupting)
                ERR(b, n->line, n->id, "%s boundary events always interrupt; cancelActivity=\"false\" is not allowed", kn);
            break;
        default:
            break;
        }
        if (!ok)
            ERR(b, n->line, n->id, "%s %s event is not allowed here%s", kn, bpm_model_kind_name(n->kind),
                n->kind == BPM_NODE_START_EVENT && parent && !in_event_sub
                    ? " (a subprocess starts with a none start event)"
                    : "");
    }
    if (n->kind == BPM_NODE_BOUNDARY_EVENT && n->n_events == 0 && exec)
        ERR(b, n->line, n->id, "boundary event has no event definition (message, timer, error, ...)");
    if (n->kind == BPM_NODE_INTERMEDIATE_CATCH && n->n_events == 0 && exec)
        ERR(b, n->line, n->id, "intermediate catch event has no event definition, so nothing could trigger it");
    if (n->kind == BPM_NODE_START_EVENT && in_event_sub && n->n_events == 0)
        ERR(b, n->line, n->id, "the start event of an event subprocess needs a trigger (message, timer, error, ...)");
}

/* The implementation of a service, send or business rule task, or of a
 * message throw or end event that carries one. */
static void check_service(bpm_builder *b, const bpm_node *n)
{
    const bpm_service *s = n->service;
    if (s->kind == BPM_IMPL_CLASS || s->kind == BPM_IMPL_DELEGATE_EXPRESSION)
        ERR(b, n->line, n->id, "%s \"%s\" is Java code (%s); %s", bpm_model_kind_name(n->kind), s->target ? s->target : "",
            s->kind == BPM_IMPL_CLASS ? "camunda:class" : "camunda:delegateExpression", java_hint);
    else if (s->kind == BPM_IMPL_EXPRESSION && s->expression.text && juel_calls_method(s->expression.text))
        ERR(b, n->line, n->id, "camunda:expression \"%s\" calls a bean method; %s", s->expression.text, java_hint);
    else if (s->kind == BPM_IMPL_EXPRESSION)
        check_expr(b, &s->expression, n->id, "camunda:expression");
    else if (s->kind == BPM_IMPL_EXTERNAL && (!s->topic || !*s->topic))
        ERR(b, n->line, n->id, "external task has no camunda:topic");
    else if (s->kind == BPM_IMPL_DECISION)
        ERR(b, n->line, n->id, "business rule task calls decision \"%s\"; bpmnd has no DMN engine yet, use a Lua script task",
            s->target ? s->target : "");
    else if (s->kind == BPM_IMPL_CONNECTOR)
        check_io(b, &s->connector_io, n->id);
}

static void check_activity(bpm_builder *b, const bpm_node *n)
{
    if (n->start_quantity_many)
        ERR(b, n->line, n->id, "startQuantity/completionQuantity other than 1 is not supported");
    const bpm_loop *l = n->loop;
    if (!l) {
    } else if (l->kind == BPM_LOOP_MULTI_INSTANCE) {
        if (!l->cardinality.text && !l->collection.text)
            ERR(b, l->line, n->id, "multi-instance needs a loop cardinality or a collection");
        check_expr(b, &l->cardinality, n->id, "the loop cardinality");
        check_expr(b, &l->collection, n->id, "the collection");
        check_expr(b, &l->completion_condition, n->id, "the completion condition");
    } else if (l->kind == BPM_LOOP_STANDARD) {
        if (!l->loop_condition.text && l->loop_maximum < 0)
            ERR(b, l->line, n->id, "standard loop has neither a loopCondition nor a loopMaximum, so it would never end");
        check_expr(b, &l->loop_condition, n->id, "the loop condition");
    }
    check_io(b, &n->io, n->id);
    check_listeners(b, n->listeners, n->n_listeners, n->id, "execution");

    const bpm_service *s = n->service;
    switch (n->kind) {
    case BPM_NODE_SERVICE_TASK:
    case BPM_NODE_SEND_TASK:
    case BPM_NODE_BUSINESS_RULE_TASK:
        if (!s || s->kind == BPM_IMPL_NONE) {
            if (n->kind == BPM_NODE_SEND_TASK && n->message)
                break; /* a send task that publishes its message */
            ERR(b, n->line, n->id,
                "%s has no implementation: set an external task topic (camunda:type=\"external\"), a connector, or a zeebe:taskDefinition",
                bpm_model_kind_name(n->kind));
            break;
        }
        check_service(b, n);
        break;
    case BPM_NODE_SCRIPT_TASK: {
        const bpm_script *sc = n->script;
        if (sc->resource)
            ERR(b, n->line, n->id, "script task loads its script from resource \"%s\"; inline the script instead", sc->resource);
        else if (!sc->format)
            ERR(b, n->line, n->id, "script task has no scriptFormat; use scriptFormat=\"lua\"");
        else if (!sc->body.text)
            ERR(b, n->line, n->id, "script task has no script");
        else
            check_expr(b, &sc->body, n->id, "the script");
        break;
    }
    case BPM_NODE_USER_TASK:
        if (n->user) {
            const bpm_user_task *u = n->user;
            check_expr(b, &u->assignee, n->id, "the assignee");
            check_expr(b, &u->candidate_users, n->id, "the candidate users");
            check_expr(b, &u->candidate_groups, n->id, "the candidate groups");
            check_expr(b, &u->due_date, n->id, "the due date");
            check_expr(b, &u->follow_up_date, n->id, "the follow-up date");
            check_expr(b, &u->priority, n->id, "the priority");
            check_listeners(b, u->task_listeners, u->n_task_listeners, n->id, "task");
        }
        break;
    case BPM_NODE_CALL_ACTIVITY:
        if (!n->call->called_element.text || !*n->call->called_element.text)
            ERR(b, n->line, n->id, "call activity has no calledElement: name the process to call");
        else
            check_expr(b, &n->call->called_element, n->id, "the called element");
        break;
    case BPM_NODE_RECEIVE_TASK:
        if (!n->message)
            ERR(b, n->line, n->id, "receive task has no messageRef: choose the message it waits for");
        break;
    default:
        break;
    }
}

/* Nodes inside one scope (process or subprocess): start events, links. */
static void check_scope(bpm_builder *b, const bpm_node *const *nodes, size_t n, const bpm_node *container,
                        const char *scope_id, int scope_line, bool exec)
{
    size_t none_starts = 0, starts = 0;
    for (size_t i = 0; i < n; i++) {
        const bpm_node *x = nodes[i];
        if (x->kind == BPM_NODE_START_EVENT) {
            starts++;
            if (x->n_events == 0)
                none_starts++;
        }
        /* BPMN 2.0.2 §10.5.3: a link throw goes to the catch of the same name in its scope */
        if (x->kind == BPM_NODE_INTERMEDIATE_THROW && has_event(x, BPM_EVENT_LINK)) {
            const char *name = NULL;
            for (size_t e = 0; e < x->n_events; e++)
                if (x->events[e].kind == BPM_EVENT_LINK)
                    name = x->events[e].link_name;
            size_t targets = 0;
            for (size_t j = 0; name && j < n; j++) {
                const bpm_node *y = nodes[j];
                if (y->kind != BPM_NODE_INTERMEDIATE_CATCH)
                    continue;
                for (size_t e = 0; e < y->n_events; e++)
                    if (y->events[e].kind == BPM_EVENT_LINK && y->events[e].link_name &&
                        strcmp(y->events[e].link_name, name) == 0)
                        targets++;
            }
            if (name && targets == 0)
                ERR(b, x->line, x->id, "link throw event \"%s\" has no link catch event of the same name in its scope", name);
            else if (targets > 1)
                ERR(b, x->line, x->id, "link name \"%s\" is caught by %zu link catch events; it must be exactly one", name, targets);
        }
    }
    if (!exec)
        return;
    if (container && container->kind == BPM_NODE_ADHOC_SUBPROCESS)
        return; /* ad-hoc subprocesses have no start events */
    if (container && container->kind == BPM_NODE_EVENT_SUBPROCESS) {
        if (starts != 1)
            ERR(b, scope_line, scope_id, "event subprocess must have exactly one start event, it has %zu", starts);
        return;
    }
    if (container && none_starts != 1 && n > 0)
        ERR(b, scope_line, scope_id, "subprocess must have exactly one none start event, it has %zu", none_starts);
    if (!container && starts == 0)
        ERR(b, scope_line, scope_id, "process has no start event, so it can never start");
    if (!container && none_starts > 1)
        ERR(b, scope_line, scope_id, "process has %zu none start events; it may have at most one", none_starts);
}

static void check_node(bpm_builder *b, const bpm_node *n, bool exec)
{
    /* flow structure */
    if ((n->kind == BPM_NODE_START_EVENT || n->kind == BPM_NODE_BOUNDARY_EVENT) && n->n_incoming)
        ERR(b, n->line, n->id, "%s has incoming sequence flows; nothing may flow into it", bpm_model_kind_name(n->kind));
    if (n->kind == BPM_NODE_END_EVENT && n->n_outgoing)
        ERR(b, n->line, n->id, "end event has outgoing sequence flows; nothing may leave it");
    if (n->kind == BPM_NODE_EVENT_SUBPROCESS && (n->n_incoming || n->n_outgoing))
        ERR(b, n->line, n->id, "event subprocess has sequence flows; it is started by its event, not by a flow");
    if (bpm_model_is_gateway(n->kind) && n->n_outgoing == 0)
        ERR(b, n->line, n->id, "%s has no outgoing sequence flow, so tokens reaching it have no way out",
            bpm_model_kind_name(n->kind));
    if (n->kind == BPM_NODE_BOUNDARY_EVENT && n->n_outgoing == 0 && !has_event(n, BPM_EVENT_COMPENSATE))
        WARN(b, n->line, n->id, "boundary event has no outgoing sequence flow");
    if (n->kind == BPM_NODE_INTERMEDIATE_THROW && has_event(n, BPM_EVENT_LINK) && n->n_outgoing)
        ERR(b, n->line, n->id, "link throw event has outgoing sequence flows; the link itself is its way out");
    if (n->kind == BPM_NODE_INTERMEDIATE_CATCH && has_event(n, BPM_EVENT_LINK) && n->n_incoming)
        ERR(b, n->line, n->id, "link catch event has incoming sequence flows; it is entered through its link");

    if (n->kind == BPM_NODE_EVENT_BASED_GATEWAY) {
        for (size_t i = 0; i < n->n_outgoing; i++) {
            const bpm_node *t = n->outgoing[i]->target;
            bool ok = t && (t->kind == BPM_NODE_INTERMEDIATE_CATCH || t->kind == BPM_NODE_RECEIVE_TASK);
            if (!ok)
                ERR(b, n->outgoing[i]->line, n->outgoing[i]->id,
                    "an event-based gateway leads only to intermediate catch events or receive tasks");
        }
    }
    if (n->kind == BPM_NODE_EXCLUSIVE_GATEWAY || n->kind == BPM_NODE_INCLUSIVE_GATEWAY ||
        n->kind == BPM_NODE_COMPLEX_GATEWAY || (bpm_model_is_activity(n->kind) && n->n_outgoing > 1)) {
        size_t cond = 0, plain = 0;
        for (size_t i = 0; i < n->n_outgoing; i++) {
            const bpm_flow *f = n->outgoing[i];
            if (f->is_default)
                continue;
            if (f->condition.text)
                cond++;
            else
                plain++;
        }
        if (bpm_model_is_gateway(n->kind) && n->n_outgoing > 1 && plain > 0 && (cond > 0 || n->default_flow))
            WARN(b, n->line, n->id, "%zu outgoing flow(s) without a condition among conditional ones; they are always taken",
                 plain);
        if (bpm_model_is_gateway(n->kind) && n->n_outgoing > 1 && plain == 0 && !n->default_flow && exec)
            WARN(b, n->line, n->id, "gateway has no default flow; when no condition is true the instance stops with an incident");
        if (bpm_model_is_gateway(n->kind) && n->kind == BPM_NODE_EXCLUSIVE_GATEWAY && n->n_outgoing > 1 && plain > 1)
            WARN(b, n->line, n->id, "exclusive gateway has %zu unconditional outgoing flows; only the first is ever taken", plain);
    }
    if (n->kind == BPM_NODE_PARALLEL_GATEWAY || n->kind == BPM_NODE_EVENT_BASED_GATEWAY)
        for (size_t i = 0; i < n->n_outgoing; i++)
            if (n->outgoing[i]->condition.text)
                WARN(b, n->outgoing[i]->line, n->outgoing[i]->id,
                     "condition on a flow leaving a %s is ignored", bpm_model_kind_name(n->kind));
    if (n->default_flow && n->default_flow->condition.text)
        WARN(b, n->default_flow->line, n->default_flow->id, "the default flow has a condition, which is ignored");

    bool reachable = n->n_incoming || n->kind == BPM_NODE_START_EVENT || n->kind == BPM_NODE_BOUNDARY_EVENT ||
                     n->kind == BPM_NODE_EVENT_SUBPROCESS || n->for_compensation ||
                     (n->parent && n->parent->kind == BPM_NODE_ADHOC_SUBPROCESS) ||
                     (n->kind == BPM_NODE_INTERMEDIATE_CATCH && has_event(n, BPM_EVENT_LINK));
    if (!reachable && exec)
        WARN(b, n->line, n->id, "%s has no incoming sequence flow, so it never runs", bpm_model_kind_name(n->kind));

    check_event_placement(b, n, exec);
    if (!exec)
        return;
    check_event_defs(b, n, exec);
    if (bpm_model_is_activity(n->kind))
        check_activity(b, n);
    else
        check_listeners(b, n->listeners, n->n_listeners, n->id, "execution");
    if (n->kind == BPM_NODE_COMPLEX_GATEWAY)
        check_expr(b, &n->activation_condition, n->id, "the activation condition");
    if (n->kind == BPM_NODE_ADHOC_SUBPROCESS)
        check_expr(b, &n->adhoc_completion, n->id, "the completion condition");
    for (size_t i = 0; i < n->n_outgoing; i++) {
        const bpm_flow *f = n->outgoing[i];
        if (f->condition.text)
            check_expr(b, &f->condition, f->id, "the condition");
        check_listeners(b, f->listeners, f->n_listeners, f->id, "execution");
    }
    if ((n->kind == BPM_NODE_END_EVENT || n->kind == BPM_NODE_INTERMEDIATE_THROW) && n->service &&
        n->service->kind != BPM_IMPL_NONE && has_event(n, BPM_EVENT_MESSAGE)) {
        check_service(b, n); /* it runs like a send task */
        return;
    }
    for (size_t i = 0; i < n->n_events; i++)
        if (n->events[i].throw_impl && (n->events[i].throw_impl->kind == BPM_IMPL_CLASS ||
                                        n->events[i].throw_impl->kind == BPM_IMPL_DELEGATE_EXPRESSION))
            ERR(b, n->line, n->id, "message event is implemented in Java; %s", java_hint);
}

void bpm_validate_model(bpm_builder *b)
{
    bpm_model *m = b->m;
    size_t executable = 0;
    for (size_t pi = 0; pi < m->n_processes; pi++) {
        bpm_process *p = &m->processes[pi];
        bool exec = p->executable;
        executable += exec;
        check_scope(b, p->top, p->n_top, NULL, p->id, p->line, exec);
        for (size_t i = 0; i < p->n_nodes; i++) {
            const bpm_node *n = p->nodes[i];
            check_node(b, n, exec);
            if (bpm_model_is_container(n->kind))
                check_scope(b, n->children, n->n_children, n, n->id, n->line, exec);
        }
        if (exec)
            check_listeners(b, p->listeners, p->n_listeners, p->id, "process");
        if (!p->executable_given)
            bpm_diags_add(b->diags, BPM_SEV_NOTE, b->file, p->line, p->id,
                          "process is not executable: isExecutable is not set (set isExecutable=\"true\" to run it)");
        else if (!exec)
            bpm_diags_add(b->diags, BPM_SEV_NOTE, b->file, p->line, p->id,
                          "process is not executable (isExecutable=\"false\"); it was read but will not run");
    }
    if (m->n_processes == 0)
        bpm_diags_add(b->diags, BPM_SEV_NOTE, b->file, 0, NULL, "document contains no process");
    (void)executable;
}
