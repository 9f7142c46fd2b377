/* Camunda 7 (camunda:, also the older activiti: prefix) and Camunda 8
 * (zeebe:) extension attributes and elements, read into the neutral model
 * fields. Whatever is not mapped is kept as an unknown extension. */
#include <string.h>

#include "build_int.h"

/* camunda: attributes that this file maps; any other is kept as unknown. */
static const char *const known_camunda_attrs[] = {
    "asyncBefore", "asyncAfter", "async", "exclusive", "jobPriority", "assignee", "candidateUsers",
    "candidateGroups", "dueDate", "followUpDate", "priority", "formKey", "formRef", "formRefBinding",
    "formRefVersion", "class", "delegateExpression", "expression", "resultVariable", "type", "topic",
    "taskPriority", "calledElementBinding", "calledElementVersion", "calledElementVersionTag",
    "calledElementTenantId", "initiator", "historyTimeToLive", "versionTag", "isStartableInTasklist",
    "candidateStarterGroups", "candidateStarterUsers", "errorCodeVariable", "errorMessageVariable",
    "escalationCodeVariable", "collection", "elementVariable", "decisionRef", "decisionRefBinding",
    "decisionRefVersion", "decisionRefVersionTag", "decisionRefTenantId", "mapDecisionResult",
    "resource", "variableName", "variableEvents", "errorMessage", "caseRef", "caseBinding",
    "caseVersion", "caseTenantId", "variableMappingClass", "variableMappingDelegateExpression",
    "jobPriority", "taskPriority", "formHandlerClass", "formFieldValidation",
};

static bool known_camunda_attr(const char *name)
{
    for (size_t i = 0; i < sizeof known_camunda_attrs / sizeof known_camunda_attrs[0]; i++)
        if (strcmp(known_camunda_attrs[i], name) == 0)
            return true;
    return false;
}

static void keep_unknown(bpm_builder *b, bpm_unknown_ext **arr, size_t *n, const xmlNode *el)
{
    *arr = bpm_build_push(b, *arr, n, sizeof **arr);
    (*arr)[*n - 1] = bpm_build_unknown(b, el);
}

static void keep_unknown_attrs(bpm_builder *b, bpm_unknown_ext **arr, size_t *n, const xmlNode *el)
{
    for (const xmlAttr *a = el->properties; a; a = a->next) {
        if (!a->ns || !a->ns->href)
            continue;
        bool camunda = bpm_build_ns_is_camunda(a->ns);
        bool zeebe = strcmp((const char *)a->ns->href, BPM_NS_ZEEBE) == 0;
        if ((camunda && known_camunda_attr((const char *)a->name)) || (!camunda && !zeebe))
            continue; /* xsi:, modeler:, DI and other tools' attributes are not ours */
        *arr = bpm_build_push(b, *arr, n, sizeof **arr);
        bpm_unknown_ext *u = &(*arr)[*n - 1];
        u->name = bpm_arena_sprintf(b->m->arena, "%s:%s", a->ns->prefix ? (const char *)a->ns->prefix : "",
                                    (const char *)a->name);
        xmlChar *v = xmlNodeListGetString(a->doc, a->children, 1);
        u->value = bpm_arena_strdup(b->m->arena, v ? (const char *)v : "");
        xmlFree(v);
        u->line = bpm_build_line(el);
    }
}

static void push_pair(bpm_builder *b, bpm_pair **arr, size_t *n, const char *name, const char *value)
{
    *arr = bpm_build_push(b, *arr, n, sizeof **arr);
    (*arr)[*n - 1] = (bpm_pair){name, value};
}

/* ---- parameters ---------------------------------------------------------- */

static void read_param_value(bpm_builder *b, bpm_param *p, const xmlNode *el, int depth);

static void read_param_items(bpm_builder *b, bpm_param *p, const xmlNode *el, bool map, int depth)
{
    for (xmlNode *c = el->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (map && !bpm_build_is_camunda(c, "entry"))
            continue;
        if (!map && !bpm_build_is_camunda(c, "value") && !bpm_build_is_camunda(c, "list") &&
            !bpm_build_is_camunda(c, "map") && !bpm_build_is_camunda(c, "script"))
            continue;
        p->items = bpm_build_push(b, p->items, &p->n_items, sizeof *p->items);
        bpm_param *it = &p->items[p->n_items - 1];
        it->line = bpm_build_line(c);
        if (map) {
            it->name = bpm_build_attr(b, c, "key");
            read_param_value(b, it, c, depth + 1);
        } else if (bpm_build_is_camunda(c, "value")) {
            it->kind = BPM_PARAM_EXPR;
            it->value = bpm_build_expr(b, bpm_build_text(b, c, false), NULL, it->line, BPM_DIALECT_LITERAL);
        } else {
            /* a nested list, map or script is itself the item */
            if (bpm_build_is_camunda(c, "script")) {
                it->kind = BPM_PARAM_SCRIPT;
                const char *fmt = bpm_build_attr(b, c, "scriptFormat");
                it->value = bpm_build_expr(b, bpm_build_text(b, c, false), fmt ? fmt : "", it->line, BPM_DIALECT_LUA);
                it->script_resource = bpm_build_attr(b, c, "resource");
            } else {
                it->kind = bpm_build_is_camunda(c, "list") ? BPM_PARAM_LIST : BPM_PARAM_MAP;
                if (depth < 32)
                    read_param_items(b, it, c, it->kind == BPM_PARAM_MAP, depth + 1);
            }
        }
    }
}

/* The value of an inputParameter/outputParameter/map entry: text, or one
 * of camunda:script, camunda:list, camunda:map. */
static void read_param_value(bpm_builder *b, bpm_param *p, const xmlNode *el, int depth)
{
    for (xmlNode *c = el->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (bpm_build_is_camunda(c, "script")) {
            p->kind = BPM_PARAM_SCRIPT;
            const char *fmt = bpm_build_attr(b, c, "scriptFormat");
            p->value = bpm_build_expr(b, bpm_build_text(b, c, false), fmt ? fmt : "", bpm_build_line(c),
                                      BPM_DIALECT_LUA);
            p->script_resource = bpm_build_attr(b, c, "resource");
            return;
        }
        if (bpm_build_is_camunda(c, "list") || bpm_build_is_camunda(c, "map")) {
            p->kind = bpm_build_is_camunda(c, "list") ? BPM_PARAM_LIST : BPM_PARAM_MAP;
            if (depth < 32)
                read_param_items(b, p, c, p->kind == BPM_PARAM_MAP, depth + 1);
            else
                BPM_DIAG(b, BPM_SEV_ERROR, c, NULL, "input/output parameter \"%s\" is nested too deeply",
                         p->name ? p->name : "");
            return;
        }
    }
    const char *t = bpm_build_text(b, el, false);
    if (t && *t) {
        p->kind = BPM_PARAM_EXPR;
        p->value = bpm_build_expr(b, t, NULL, bpm_build_line(el), BPM_DIALECT_LITERAL);
    } else {
        p->kind = BPM_PARAM_NULL;
    }
}

void bpm_build_ext_io(bpm_builder *b, bpm_io *io, const xmlNode *io_el)
{
    for (xmlNode *c = io_el->children; c; c = c->next) {
        bool in = bpm_build_is_camunda(c, "inputParameter");
        bool out = bpm_build_is_camunda(c, "outputParameter");
        if (!in && !out)
            continue;
        bpm_param **arr = in ? &io->inputs : &io->outputs;
        size_t *n = in ? &io->n_inputs : &io->n_outputs;
        *arr = bpm_build_push(b, *arr, n, sizeof **arr);
        bpm_param *p = &(*arr)[*n - 1];
        p->name = bpm_build_attr(b, c, "name");
        p->line = bpm_build_line(c);
        if (!p->name || !*p->name)
            BPM_DIAG(b, BPM_SEV_ERROR, c, NULL, "%s has no name", in ? "camunda:inputParameter" : "camunda:outputParameter");
        read_param_value(b, p, c, 0);
    }
}

static void read_zeebe_io(bpm_builder *b, bpm_io *io, const xmlNode *el)
{
    for (xmlNode *c = el->children; c; c = c->next) {
        bool in = bpm_build_is_zeebe(c, "input");
        bool out = bpm_build_is_zeebe(c, "output");
        if (!in && !out)
            continue;
        bpm_param **arr = in ? &io->inputs : &io->outputs;
        size_t *n = in ? &io->n_inputs : &io->n_outputs;
        *arr = bpm_build_push(b, *arr, n, sizeof **arr);
        bpm_param *p = &(*arr)[*n - 1];
        p->line = bpm_build_line(c);
        p->name = bpm_build_attr(b, c, "target");
        const char *src = bpm_build_attr(b, c, "source");
        if (src) {
            p->kind = BPM_PARAM_EXPR;
            /* "=..." is FEEL; anything else is a static value, as Zeebe
             * reads it (connector templates write source="GET") */
            const char *t = src;
            while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r')
                t++;
            if (*t == '=')
                p->value = bpm_build_expr(b, src, NULL, p->line, BPM_DIALECT_FEEL);
            else
                p->value = (bpm_expr){.text = src, .dialect = BPM_DIALECT_LITERAL, .line = p->line};
        }
        if (!p->name)
            BPM_DIAG(b, BPM_SEV_ERROR, c, NULL, "zeebe:%s has no target", in ? "input" : "output");
    }
}

/* ---- listeners ----------------------------------------------------------- */

static void read_listener(bpm_builder *b, bpm_listener **arr, size_t *n, const xmlNode *el)
{
    *arr = bpm_build_push(b, *arr, n, sizeof **arr);
    bpm_listener *l = &(*arr)[*n - 1];
    l->line = bpm_build_line(el);
    l->event = bpm_build_attr(b, el, "event");
    const char *v;
    if ((v = bpm_build_attr(b, el, "class"))) {
        l->kind = BPM_IMPL_CLASS;
        l->target = v;
    } else if ((v = bpm_build_attr(b, el, "delegateExpression"))) {
        l->kind = BPM_IMPL_DELEGATE_EXPRESSION;
        l->target = v;
    } else if ((v = bpm_build_attr(b, el, "expression"))) {
        l->kind = BPM_IMPL_EXPRESSION;
        l->script = bpm_build_expr(b, v, NULL, l->line, BPM_DIALECT_LUA);
    }
    xmlNode *s = bpm_build_child(el, BPM_NS_CAMUNDA, "script");
    if (s) {
        l->kind = BPM_IMPL_SCRIPT;
        const char *fmt = bpm_build_attr(b, s, "scriptFormat");
        l->script = bpm_build_expr(b, bpm_build_text(b, s, false), fmt ? fmt : "", bpm_build_line(s), BPM_DIALECT_LUA);
        l->target = bpm_build_attr(b, s, "resource");
    }
}

static void read_zeebe_listeners(bpm_builder *b, bpm_listener **arr, size_t *n, const xmlNode *el,
                                 const char *child)
{
    for (xmlNode *c = el->children; c; c = c->next) {
        if (!bpm_build_is_zeebe(c, child))
            continue;
        *arr = bpm_build_push(b, *arr, n, sizeof **arr);
        bpm_listener *l = &(*arr)[*n - 1];
        l->line = bpm_build_line(c);
        l->event = bpm_build_attr(b, c, "eventType");
        l->kind = BPM_IMPL_JOB;
        l->target = bpm_build_attr(b, c, "type");
        l->retries = bpm_build_attr(b, c, "retries");
    }
}

static void read_properties(bpm_builder *b, bpm_pair **arr, size_t *n, const xmlNode *el, bool zeebe)
{
    for (xmlNode *c = el->children; c; c = c->next)
        if (zeebe ? bpm_build_is_zeebe(c, "property") : bpm_build_is_camunda(c, "property"))
            push_pair(b, arr, n, bpm_build_attr(b, c, "name"), bpm_build_attr(b, c, "value"));
}

/* ---- forms --------------------------------------------------------------- */

static void read_form_data(bpm_builder *b, bpm_form_field **arr, size_t *n, const xmlNode *el)
{
    for (xmlNode *c = el->children; c; c = c->next) {
        if (!bpm_build_is_camunda(c, "formField"))
            continue;
        *arr = bpm_build_push(b, *arr, n, sizeof **arr);
        bpm_form_field *f = &(*arr)[*n - 1];
        f->line = bpm_build_line(c);
        f->id = bpm_build_attr(b, c, "id");
        f->label = bpm_build_attr(b, c, "label");
        f->type = bpm_build_attr(b, c, "type");
        f->default_value = bpm_build_attr(b, c, "defaultValue");
        if (!f->id)
            BPM_DIAG(b, BPM_SEV_ERROR, c, NULL, "camunda:formField has no id");
        for (xmlNode *d = c->children; d; d = d->next) {
            if (bpm_build_is_camunda(d, "value"))
                push_pair(b, &f->enum_values, &f->n_enum_values, bpm_build_attr(b, d, "id"), bpm_build_attr(b, d, "name"));
            else if (bpm_build_is_camunda(d, "properties"))
                read_properties(b, &f->properties, &f->n_properties, d, false);
            else if (bpm_build_is_camunda(d, "validation"))
                for (xmlNode *v = d->children; v; v = v->next)
                    if (bpm_build_is_camunda(v, "constraint"))
                        push_pair(b, &f->constraints, &f->n_constraints, bpm_build_attr(b, v, "name"),
                                  bpm_build_attr(b, v, "config"));
        }
    }
}

/* ---- implementations ----------------------------------------------------- */

static bpm_service *service_of(bpm_builder *b, bpm_node *node)
{
    if (!node->service)
        node->service = bpm_arena_alloc(b->m->arena, sizeof *node->service);
    return node->service;
}

static void read_camunda_impl(bpm_builder *b, bpm_node *node, const xmlNode *el)
{
    const char *cls = bpm_build_camunda(b, el, "class");
    const char *dex = bpm_build_camunda(b, el, "delegateExpression");
    const char *ex = bpm_build_camunda(b, el, "expression");
    const char *type = bpm_build_camunda(b, el, "type");
    const char *dec = bpm_build_camunda(b, el, "decisionRef");
    if (!cls && !dex && !ex && !type && !dec)
        return;
    bpm_service *s = service_of(b, node);
    int line = bpm_build_line(el);
    if (type) {
        s->kind = BPM_IMPL_EXTERNAL;
        s->topic = bpm_build_camunda(b, el, "topic");
        if (strcmp(type, "external") != 0)
            BPM_DIAG(b, BPM_SEV_ERROR, el, node->id,
                     "camunda:type \"%s\" is not supported; use camunda:type=\"external\" with a topic", type);
    } else if (cls) {
        s->kind = BPM_IMPL_CLASS;
        s->target = cls;
    } else if (dex) {
        s->kind = BPM_IMPL_DELEGATE_EXPRESSION;
        s->target = dex;
    } else if (ex) {
        s->kind = BPM_IMPL_EXPRESSION;
        s->expression = bpm_build_expr(b, ex, NULL, line, BPM_DIALECT_LUA);
    } else {
        s->kind = BPM_IMPL_DECISION;
        s->target = dec;
        s->decision_result_variable = bpm_build_camunda(b, el, "resultVariable");
        s->map_decision_result = bpm_build_camunda(b, el, "mapDecisionResult");
    }
    const char *prio = bpm_build_camunda(b, el, "taskPriority");
    if (prio)
        s->task_priority = bpm_build_expr(b, prio, NULL, line, BPM_DIALECT_LITERAL);
}

static void read_connector(bpm_builder *b, bpm_node *node, const xmlNode *el)
{
    bpm_service *s = service_of(b, node);
    s->kind = BPM_IMPL_CONNECTOR;
    xmlNode *id = bpm_build_child(el, BPM_NS_CAMUNDA, "connectorId");
    s->connector_id = id ? bpm_build_text(b, id, true) : NULL;
    if (!s->connector_id || !*s->connector_id)
        BPM_DIAG(b, BPM_SEV_ERROR, el, node->id, "camunda:connector has no camunda:connectorId");
    xmlNode *io = bpm_build_child(el, BPM_NS_CAMUNDA, "inputOutput");
    if (io)
        bpm_build_ext_io(b, &s->connector_io, io);
}

/* A zeebe:header; the outbound connector's own keys are read into fields
 * too (connector templates write them as headers). */
static void read_task_header(bpm_builder *b, bpm_service *s, const xmlNode *h)
{
    const char *key = bpm_build_attr(b, h, "key");
    const char *value = bpm_build_attr(b, h, "value");
    push_pair(b, &s->headers, &s->n_headers, key, value);
    if (!key || !value)
        return;
    int line = bpm_build_line(h);
    if (strcmp(key, "resultVariable") == 0)
        s->result_variable = value;
    else if (strcmp(key, "resultExpression") == 0)
        s->result_expression = bpm_build_expr(b, value, NULL, line, BPM_DIALECT_FEEL);
    else if (strcmp(key, "errorExpression") == 0)
        s->error_expression = bpm_build_expr(b, value, NULL, line, BPM_DIALECT_FEEL);
    else if (strcmp(key, "retryBackoff") == 0)
        s->retry_backoff = value;
}

static void read_call_mapping(bpm_builder *b, bpm_call *call, const xmlNode *c, bool in)
{
    bpm_var_mapping **arr = in ? &call->in : &call->out;
    size_t *n = in ? &call->n_in : &call->n_out;
    *arr = bpm_build_push(b, *arr, n, sizeof **arr);
    bpm_var_mapping *vm = &(*arr)[*n - 1];
    vm->line = bpm_build_line(c);
    vm->source = bpm_build_attr(b, c, "source");
    const char *se = bpm_build_attr(b, c, "sourceExpression");
    if (se)
        vm->source_expression = bpm_build_expr(b, se, NULL, vm->line, BPM_DIALECT_LUA);
    vm->target = bpm_build_attr(b, c, "target");
    const char *vars = bpm_build_attr(b, c, "variables");
    vm->all = vars && strcmp(vars, "all") == 0;
    vm->local = bpm_build_bool(b, c, NULL, "local", false, NULL);
    const char *bk = bpm_build_attr(b, c, "businessKey");
    if (bk) {
        vm->business_key = true;
        vm->business_key_expr = bpm_build_expr(b, bk, NULL, vm->line, BPM_DIALECT_LITERAL);
    }
}

static bpm_user_task *user_of(bpm_builder *b, bpm_node *node)
{
    if (!node->user)
        node->user = bpm_arena_alloc(b->m->arena, sizeof *node->user);
    return node->user;
}

/* Camunda 7 also reads BPMN's own humanPerformer / potentialOwner:
 * "user(a), group(b)" or a bare group name. */
static void read_resource_roles(bpm_builder *b, bpm_node *node, const xmlNode *el)
{
    for (xmlNode *c = el->children; c; c = c->next) {
        bool human = bpm_build_is_bpmn(c, "humanPerformer");
        bool owner = bpm_build_is_bpmn(c, "potentialOwner");
        if (!human && !owner)
            continue;
        xmlNode *rae = bpm_build_child(c, BPM_NS_BPMN, "resourceAssignmentExpression");
        xmlNode *fe = rae ? bpm_build_child(rae, BPM_NS_BPMN, "formalExpression") : NULL;
        const char *t = fe ? bpm_build_text(b, fe, true) : NULL;
        if (!t || !*t)
            continue;
        bpm_user_task *u = user_of(b, node);
        int line = bpm_build_line(fe);
        if (human) {
            u->assignee = bpm_build_expr(b, t, NULL, line, BPM_DIALECT_LITERAL);
            continue;
        }
        const char *users = NULL, *groups = NULL;
        const char *p = t;
        while (*p) {
            while (*p == ' ' || *p == ',')
                p++;
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            while (len && p[len - 1] == ' ')
                len--;
            const char *item = bpm_arena_strndup(b->m->arena, p, len);
            bool is_user = strncmp(item, "user(", 5) == 0 && len > 6 && item[len - 1] == ')';
            bool is_group = strncmp(item, "group(", 6) == 0 && len > 7 && item[len - 1] == ')';
            const char *name = is_user ? bpm_arena_strndup(b->m->arena, item + 5, len - 6)
                               : is_group ? bpm_arena_strndup(b->m->arena, item + 6, len - 7)
                                          : item;
            const char **dst = is_user ? &users : &groups;
            if (*name)
                *dst = *dst ? bpm_arena_sprintf(b->m->arena, "%s,%s", *dst, name) : name;
            if (!end)
                break;
            p = end + 1;
        }
        if (users && !bpm_expr_present(&u->candidate_users))
            u->candidate_users = bpm_build_expr(b, users, NULL, line, BPM_DIALECT_LITERAL);
        if (groups && !bpm_expr_present(&u->candidate_groups))
            u->candidate_groups = bpm_build_expr(b, groups, NULL, line, BPM_DIALECT_LITERAL);
    }
}

static void read_user_attrs(bpm_builder *b, bpm_node *node, const xmlNode *el)
{
    bpm_user_task *u = user_of(b, node);
    int line = bpm_build_line(el);
    const char *v;
    if ((v = bpm_build_camunda(b, el, "assignee")))
        u->assignee = bpm_build_expr(b, v, NULL, line, BPM_DIALECT_LITERAL);
    if ((v = bpm_build_camunda(b, el, "candidateUsers")))
        u->candidate_users = bpm_build_expr(b, v, NULL, line, BPM_DIALECT_LITERAL);
    if ((v = bpm_build_camunda(b, el, "candidateGroups")))
        u->candidate_groups = bpm_build_expr(b, v, NULL, line, BPM_DIALECT_LITERAL);
    if ((v = bpm_build_camunda(b, el, "dueDate")))
        u->due_date = bpm_build_expr(b, v, NULL, line, BPM_DIALECT_LITERAL);
    if ((v = bpm_build_camunda(b, el, "followUpDate")))
        u->follow_up_date = bpm_build_expr(b, v, NULL, line, BPM_DIALECT_LITERAL);
    if ((v = bpm_build_camunda(b, el, "priority")))
        u->priority = bpm_build_expr(b, v, NULL, line, BPM_DIALECT_LITERAL);
    u->form_key = bpm_build_camunda(b, el, "formKey");
    u->form_ref = bpm_build_camunda(b, el, "formRef");
    u->form_ref_binding = bpm_build_camunda(b, el, "formRefBinding");
    u->form_ref_version = bpm_build_camunda(b, el, "formRefVersion");
    read_resource_roles(b, node, el);
}

/* ---- the extensionElements walk ------------------------------------------ */

static void read_ext_elements(bpm_builder *b, bpm_node *node, const xmlNode *ext)
{
    int line;
    for (xmlNode *c = ext->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        line = bpm_build_line(c);
        if (bpm_build_is_camunda(c, "inputOutput")) {
            bpm_build_ext_io(b, &node->io, c);
        } else if (bpm_build_is_camunda(c, "executionListener")) {
            read_listener(b, &node->listeners, &node->n_listeners, c);
        } else if (bpm_build_is_camunda(c, "taskListener") && node->kind == BPM_NODE_USER_TASK) {
            bpm_user_task *u = user_of(b, node);
            read_listener(b, &u->task_listeners, &u->n_task_listeners, c);
        } else if (bpm_build_is_camunda(c, "properties")) {
            read_properties(b, &node->properties, &node->n_properties, c, false);
        } else if (bpm_build_is_camunda(c, "failedJobRetryTimeCycle")) {
            node->async.retry_time_cycle = bpm_build_text(b, c, true);
        } else if (bpm_build_is_camunda(c, "connector")) {
            read_connector(b, node, c);
        } else if (bpm_build_is_camunda(c, "formData")) {
            if (node->kind == BPM_NODE_USER_TASK) {
                bpm_user_task *u = user_of(b, node);
                read_form_data(b, &u->form_fields, &u->n_form_fields, c);
            } else {
                read_form_data(b, &node->form_fields, &node->n_form_fields, c);
            }
        } else if ((bpm_build_is_camunda(c, "in") || bpm_build_is_camunda(c, "out")) && node->call) {
            read_call_mapping(b, node->call, c, bpm_build_is_camunda(c, "in"));
        } else if (bpm_build_is_zeebe(c, "taskDefinition")) {
            bpm_service *s = service_of(b, node);
            s->kind = BPM_IMPL_JOB;
            s->job_type = bpm_build_attr(b, c, "type");
            const char *r = bpm_build_attr(b, c, "retries");
            if (r)
                s->retries = bpm_build_expr(b, r, NULL, line, BPM_DIALECT_LITERAL);
            if (!s->job_type || !*s->job_type)
                BPM_DIAG(b, BPM_SEV_ERROR, c, node->id, "zeebe:taskDefinition has no type");
        } else if (bpm_build_is_zeebe(c, "ioMapping")) {
            read_zeebe_io(b, &node->io, c);
        } else if (bpm_build_is_zeebe(c, "taskHeaders")) {
            bpm_service *s = service_of(b, node);
            for (xmlNode *h = c->children; h; h = h->next)
                if (bpm_build_is_zeebe(h, "header"))
                    read_task_header(b, s, h);
        } else if (bpm_build_is_zeebe(c, "assignmentDefinition")) {
            bpm_user_task *u = user_of(b, node);
            const char *v;
            if ((v = bpm_build_attr(b, c, "assignee")))
                u->assignee = bpm_build_expr(b, v, NULL, line, BPM_DIALECT_LITERAL);
            if ((v = bpm_build_attr(b, c, "candidateGroups")))
                u->candidate_groups = bpm_build_expr(b, v, NULL, line, BPM_DIALECT_LITERAL);
            if ((v = bpm_build_attr(b, c, "candidateUsers")))
                u->candidate_users = bpm_build_expr(b, v, NULL, line, BPM_DIALECT_LITERAL);
        } else if (bpm_build_is_zeebe(c, "taskSchedule")) {
            bpm_user_task *u = user_of(b, node);
            const char *v;
            if ((v = bpm_build_attr(b, c, "dueDate")))
                u->due_date = bpm_build_expr(b, v, NULL, line, BPM_DIALECT_LITERAL);
            if ((v = bpm_build_attr(b, c, "followUpDate")))
                u->follow_up_date = bpm_build_expr(b, v, NULL, line, BPM_DIALECT_LITERAL);
        } else if (bpm_build_is_zeebe(c, "priorityDefinition")) {
            const char *v = bpm_build_attr(b, c, "priority");
            if (v)
                user_of(b, node)->priority = bpm_build_expr(b, v, NULL, line, BPM_DIALECT_LITERAL);
        } else if (bpm_build_is_zeebe(c, "formDefinition")) {
            bpm_user_task *u = user_of(b, node);
            const char *v;
            if ((v = bpm_build_attr(b, c, "formKey")))
                u->form_key = v;
            if ((v = bpm_build_attr(b, c, "formId")))
                u->form_ref = v;
            if ((v = bpm_build_attr(b, c, "externalReference")))
                u->external_reference = v;
            if ((v = bpm_build_attr(b, c, "bindingType")))
                u->form_ref_binding = v;
        } else if (bpm_build_is_zeebe(c, "userTask")) {
            user_of(b, node)->zeebe_user_task = true;
        } else if (bpm_build_is_zeebe(c, "calledElement") && node->call) {
            bpm_call *call = node->call;
            const char *pid = bpm_build_attr(b, c, "processId");
            if (pid)
                call->called_element = bpm_build_expr(b, pid, NULL, line, BPM_DIALECT_LITERAL);
            const char *v = bpm_build_attr(b, c, "propagateAllChildVariables");
            call->has_propagate_child = v != NULL;
            call->propagate_all_child = !v || strcmp(v, "false") != 0;
            v = bpm_build_attr(b, c, "propagateAllParentVariables");
            call->propagate_all_parent = !v || strcmp(v, "false") != 0;
            v = bpm_build_attr(b, c, "bindingType");
            if (v && strcmp(v, "deployment") == 0)
                call->binding = BPM_BINDING_DEPLOYMENT;
            else if (v && strcmp(v, "versionTag") == 0) {
                call->binding = BPM_BINDING_VERSION_TAG;
                call->version_tag = bpm_build_attr(b, c, "versionTag");
            }
        } else if (bpm_build_is_zeebe(c, "script") && node->script) {
            const char *ex = bpm_build_attr(b, c, "expression");
            node->script->format = "feel";
            if (ex)
                node->script->body = bpm_build_expr(b, ex, NULL, line, BPM_DIALECT_FEEL);
            const char *rv = bpm_build_attr(b, c, "resultVariable");
            if (rv)
                node->result_variable = rv;
        } else if (bpm_build_is_zeebe(c, "calledDecision")) {
            bpm_service *s = service_of(b, node);
            s->kind = BPM_IMPL_DECISION;
            s->target = bpm_build_attr(b, c, "decisionId");
            s->decision_result_variable = bpm_build_attr(b, c, "resultVariable");
        } else if (bpm_build_is_zeebe(c, "properties")) {
            read_properties(b, &node->properties, &node->n_properties, c, true);
        } else if (bpm_build_is_zeebe(c, "executionListeners")) {
            read_zeebe_listeners(b, &node->listeners, &node->n_listeners, c, "executionListener");
        } else if (bpm_build_is_zeebe(c, "taskListeners") && node->kind == BPM_NODE_USER_TASK) {
            bpm_user_task *u = user_of(b, node);
            read_zeebe_listeners(b, &u->task_listeners, &u->n_task_listeners, c, "taskListener");
        } else {
            keep_unknown(b, &node->unknown, &node->n_unknown, c);
        }
    }
}

void bpm_build_ext_node(bpm_builder *b, bpm_node *node, const xmlNode *el)
{
    int line = bpm_build_line(el);
    node->async.before = bpm_build_bool(b, el, BPM_NS_CAMUNDA, "asyncBefore", false, node->id) ||
                         bpm_build_bool(b, el, BPM_NS_CAMUNDA, "async", false, node->id);
    node->async.after = bpm_build_bool(b, el, BPM_NS_CAMUNDA, "asyncAfter", false, node->id);
    node->async.exclusive = bpm_build_bool(b, el, BPM_NS_CAMUNDA, "exclusive", true, node->id);
    const char *v;
    if ((v = bpm_build_camunda(b, el, "jobPriority")))
        node->async.job_priority = bpm_build_expr(b, v, NULL, line, BPM_DIALECT_LITERAL);
    if ((v = bpm_build_camunda(b, el, "resultVariable")))
        node->result_variable = v;
    if (node->kind == BPM_NODE_START_EVENT) {
        node->initiator = bpm_build_camunda(b, el, "initiator");
        node->form_key = bpm_build_camunda(b, el, "formKey");
    }
    if (node->kind == BPM_NODE_USER_TASK)
        read_user_attrs(b, node, el);
    if (node->kind == BPM_NODE_SERVICE_TASK || node->kind == BPM_NODE_SEND_TASK ||
        node->kind == BPM_NODE_BUSINESS_RULE_TASK)
        read_camunda_impl(b, node, el);
    if (node->kind == BPM_NODE_SCRIPT_TASK && node->script)
        node->script->resource = bpm_build_camunda(b, el, "resource");
    if (node->call) {
        bpm_call *call = node->call;
        v = bpm_build_camunda(b, el, "calledElementBinding");
        if (v && strcmp(v, "deployment") == 0)
            call->binding = BPM_BINDING_DEPLOYMENT;
        else if (v && strcmp(v, "version") == 0)
            call->binding = BPM_BINDING_VERSION;
        else if (v && strcmp(v, "versionTag") == 0)
            call->binding = BPM_BINDING_VERSION_TAG;
        else if (v && strcmp(v, "latest") != 0)
            BPM_DIAG(b, BPM_SEV_ERROR, el, node->id,
                     "camunda:calledElementBinding \"%s\" is not one of latest, deployment, version, versionTag", v);
        call->version = bpm_build_camunda(b, el, "calledElementVersion");
        call->version_tag = bpm_build_camunda(b, el, "calledElementVersionTag");
        if (bpm_build_camunda(b, el, "caseRef"))
            BPM_DIAG(b, BPM_SEV_ERROR, el, node->id, "call activity calls a CMMN case (camunda:caseRef); bpmnd runs BPMN processes only");
    }
    xmlNode *ext = bpm_build_child(el, BPM_NS_BPMN, "extensionElements");
    if (ext)
        read_ext_elements(b, node, ext);
    keep_unknown_attrs(b, &node->unknown, &node->n_unknown, el);
}

void bpm_build_ext_process(bpm_builder *b, bpm_process *p, const xmlNode *el)
{
    p->version_tag = bpm_build_camunda(b, el, "versionTag");
    p->history_ttl = bpm_build_camunda(b, el, "historyTimeToLive");
    p->candidate_starter_groups = bpm_build_camunda(b, el, "candidateStarterGroups");
    p->candidate_starter_users = bpm_build_camunda(b, el, "candidateStarterUsers");
    p->startable_in_tasklist = bpm_build_bool(b, el, BPM_NS_CAMUNDA, "isStartableInTasklist", true, p->id);
    xmlNode *ext = bpm_build_child(el, BPM_NS_BPMN, "extensionElements");
    for (xmlNode *c = ext ? ext->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (bpm_build_is_camunda(c, "executionListener"))
            read_listener(b, &p->listeners, &p->n_listeners, c);
        else if (bpm_build_is_camunda(c, "properties"))
            read_properties(b, &p->properties, &p->n_properties, c, false);
        else if (bpm_build_is_zeebe(c, "properties"))
            read_properties(b, &p->properties, &p->n_properties, c, true);
        else if (bpm_build_is_zeebe(c, "executionListeners"))
            read_zeebe_listeners(b, &p->listeners, &p->n_listeners, c, "executionListener");
        else if (bpm_build_is_zeebe(c, "versionTag"))
            p->version_tag = bpm_build_attr(b, c, "value");
        else
            /* zeebe:userTaskForm and the like live here; kept for forms */
            keep_unknown(b, &p->unknown, &p->n_unknown, c);
    }
    keep_unknown_attrs(b, &p->unknown, &p->n_unknown, el);
}

void bpm_build_ext_flow(bpm_builder *b, bpm_flow *f, const xmlNode *el)
{
    xmlNode *ext = bpm_build_child(el, BPM_NS_BPMN, "extensionElements");
    for (xmlNode *c = ext ? ext->children : NULL; c; c = c->next)
        if (bpm_build_is_camunda(c, "executionListener"))
            read_listener(b, &f->listeners, &f->n_listeners, c);
}

void bpm_build_ext_message(bpm_builder *b, bpm_message *msg, const xmlNode *el)
{
    xmlNode *ext = bpm_build_child(el, BPM_NS_BPMN, "extensionElements");
    xmlNode *sub = ext ? bpm_build_child(ext, BPM_NS_ZEEBE, "subscription") : NULL;
    if (sub) {
        const char *k = bpm_build_attr(b, sub, "correlationKey");
        if (k)
            msg->correlation_key = bpm_build_expr(b, k, NULL, bpm_build_line(sub), BPM_DIALECT_FEEL);
    }
}
