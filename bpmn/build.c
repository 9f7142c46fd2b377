/* Builds a bpm_model from a BPMN 2.0 document tree in two passes: pass 1
 * creates every definition, node and flow and registers its id; pass 2
 * resolves references (flows, defaults, boundaries, compensation targets)
 * and precomputes incoming/outgoing lists. Entry: bpm_build_model(). */
#include "build.h"

#include <string.h>

#include "build_int.h"

/* ---- element kinds ------------------------------------------------------- */

static const struct {
    const char *xml;
    bpm_node_kind kind;
} node_elements[] = {
    {"startEvent", BPM_NODE_START_EVENT},
    {"endEvent", BPM_NODE_END_EVENT},
    {"intermediateCatchEvent", BPM_NODE_INTERMEDIATE_CATCH},
    {"intermediateThrowEvent", BPM_NODE_INTERMEDIATE_THROW},
    {"boundaryEvent", BPM_NODE_BOUNDARY_EVENT},
    {"task", BPM_NODE_TASK},
    {"serviceTask", BPM_NODE_SERVICE_TASK},
    {"scriptTask", BPM_NODE_SCRIPT_TASK},
    {"userTask", BPM_NODE_USER_TASK},
    {"manualTask", BPM_NODE_MANUAL_TASK},
    {"sendTask", BPM_NODE_SEND_TASK},
    {"receiveTask", BPM_NODE_RECEIVE_TASK},
    {"businessRuleTask", BPM_NODE_BUSINESS_RULE_TASK},
    {"callActivity", BPM_NODE_CALL_ACTIVITY},
    {"subProcess", BPM_NODE_SUBPROCESS},
    {"transaction", BPM_NODE_TRANSACTION},
    {"adHocSubProcess", BPM_NODE_ADHOC_SUBPROCESS},
    {"exclusiveGateway", BPM_NODE_EXCLUSIVE_GATEWAY},
    {"inclusiveGateway", BPM_NODE_INCLUSIVE_GATEWAY},
    {"parallelGateway", BPM_NODE_PARALLEL_GATEWAY},
    {"eventBasedGateway", BPM_NODE_EVENT_BASED_GATEWAY},
    {"complexGateway", BPM_NODE_COMPLEX_GATEWAY},
};

static bool node_kind_of(const xmlNode *el, bpm_node_kind *out)
{
    if (!el || el->type != XML_ELEMENT_NODE)
        return false;
    for (size_t i = 0; i < sizeof node_elements / sizeof node_elements[0]; i++) {
        if (bpm_build_is_bpmn(el, node_elements[i].xml)) {
            *out = node_elements[i].kind;
            return true;
        }
    }
    return false;
}

/* Flow nodes BPMN defines that we read as plain tasks so nothing is lost:
 * choreography and the rarely used "implicit" ones are not executable. */
static bool is_unsupported_flow_node(const xmlNode *el)
{
    static const char *const names[] = {"choreographyTask", "subChoreography",
                                        "callChoreography", "implicitThrowEvent"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (bpm_build_is_bpmn(el, names[i]))
            return true;
    return false;
}

/* ---- id registry --------------------------------------------------------- */

static const char *register_id(bpm_builder *b, const xmlNode *el, const char *what, void *obj)
{
    const char *id = bpm_build_id(b, el, "id");
    if (!id || !*id) {
        BPM_DIAG(b, BPM_SEV_ERROR, el, NULL, "%s has no id", what);
        id = bpm_model_intern(b->m, bpm_arena_sprintf(b->m->arena, "%s@line%d", what, bpm_build_line(el)));
        return id;
    }
    void *old = NULL;
    bpm_strmap_put(&b->m->ids, id, obj, &old);
    if (old)
        BPM_DIAG(b, BPM_SEV_ERROR, el, id, "duplicate id \"%s\"", id);
    return id;
}

/* ---- definitions-level elements ------------------------------------------ */

static void read_globals(bpm_builder *b, const xmlNode *defs)
{
    bpm_model *m = b->m;
    for (xmlNode *c = defs->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (bpm_build_is_bpmn(c, "message")) {
            m->messages = bpm_build_push(b, m->messages, &m->n_messages, sizeof *m->messages);
            bpm_message *msg = &m->messages[m->n_messages - 1];
            msg->line = bpm_build_line(c);
            msg->name = bpm_build_attr(b, c, "name");
            msg->id = register_id(b, c, "message", msg);
            bpm_build_ext_message(b, msg, c);
        } else if (bpm_build_is_bpmn(c, "signal")) {
            m->signals = bpm_build_push(b, m->signals, &m->n_signals, sizeof *m->signals);
            bpm_signal *s = &m->signals[m->n_signals - 1];
            s->line = bpm_build_line(c);
            s->name = bpm_build_attr(b, c, "name");
            s->id = register_id(b, c, "signal", s);
        } else if (bpm_build_is_bpmn(c, "error")) {
            m->errors = bpm_build_push(b, m->errors, &m->n_errors, sizeof *m->errors);
            bpm_error_def *e = &m->errors[m->n_errors - 1];
            e->line = bpm_build_line(c);
            e->name = bpm_build_attr(b, c, "name");
            e->code = bpm_build_attr(b, c, "errorCode");
            e->message = bpm_build_camunda(b, c, "errorMessage");
            e->id = register_id(b, c, "error", e);
        } else if (bpm_build_is_bpmn(c, "escalation")) {
            m->escalations = bpm_build_push(b, m->escalations, &m->n_escalations, sizeof *m->escalations);
            bpm_escalation *e = &m->escalations[m->n_escalations - 1];
            e->line = bpm_build_line(c);
            e->name = bpm_build_attr(b, c, "name");
            e->code = bpm_build_attr(b, c, "escalationCode");
            e->id = register_id(b, c, "escalation", e);
        } else if (bpm_build_is_bpmn(c, "dataStore")) {
            m->data_stores = bpm_build_push(b, m->data_stores, &m->n_data_stores, sizeof *m->data_stores);
            bpm_data *d = &m->data_stores[m->n_data_stores - 1];
            d->kind = BPM_DATA_STORE;
            d->line = bpm_build_line(c);
            d->name = bpm_build_attr(b, c, "name");
            d->ref = bpm_build_attr(b, c, "itemSubjectRef");
            d->id = register_id(b, c, "data store", d);
        } else if (strstr((const char *)c->name, "EventDefinition") && bpm_build_attr(b, c, "id")) {
            /* Reusable event definitions, referenced by eventDefinitionRef. */
            bpm_strmap_put(&b->global_event_defs, bpm_build_attr(b, c, "id"), c, NULL);
        }
    }
}

/* Objects held in arrays that grew while being read were registered at
 * addresses that may have moved: point the id map at their final places. */
static void reregister(bpm_builder *b, const char *id, void *obj)
{
    if (id && bpm_strmap_get(&b->m->ids, id))
        bpm_strmap_put(&b->m->ids, id, obj, NULL);
}

static void reregister_lanes(bpm_builder *b, bpm_lane *lanes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        reregister(b, lanes[i].id, &lanes[i]);
        reregister_lanes(b, lanes[i].children, lanes[i].n_children);
    }
}

static void fix_ids(bpm_builder *b)
{
    bpm_model *m = b->m;
    for (size_t i = 0; i < m->n_messages; i++)
        reregister(b, m->messages[i].id, &m->messages[i]);
    for (size_t i = 0; i < m->n_signals; i++)
        reregister(b, m->signals[i].id, &m->signals[i]);
    for (size_t i = 0; i < m->n_errors; i++)
        reregister(b, m->errors[i].id, &m->errors[i]);
    for (size_t i = 0; i < m->n_escalations; i++)
        reregister(b, m->escalations[i].id, &m->escalations[i]);
    for (size_t i = 0; i < m->n_data_stores; i++)
        reregister(b, m->data_stores[i].id, &m->data_stores[i]);
    for (size_t i = 0; i < m->n_collaborations; i++) {
        bpm_collaboration *co = &m->collaborations[i];
        reregister(b, co->id, co);
        for (size_t j = 0; j < co->n_participants; j++)
            reregister(b, co->participants[j].id, &co->participants[j]);
        for (size_t j = 0; j < co->n_message_flows; j++)
            reregister(b, co->message_flows[j].id, &co->message_flows[j]);
    }
    for (size_t i = 0; i < m->n_processes; i++) {
        bpm_process *p = &m->processes[i];
        for (size_t j = 0; j < p->n_data; j++)
            reregister(b, p->data[j].id, &p->data[j]);
        reregister_lanes(b, p->lanes, p->n_lanes);
    }
}

static const void *find_global(bpm_builder *b, const char *ref)
{
    return ref ? bpm_strmap_get(&b->m->ids, ref) : NULL;
}

static const bpm_message *find_message(bpm_builder *b, const char *ref)
{
    const void *o = find_global(b, ref);
    for (size_t i = 0; o && i < b->m->n_messages; i++)
        if (o == &b->m->messages[i])
            return o;
    return NULL;
}

static const bpm_signal *find_signal(bpm_builder *b, const char *ref)
{
    const void *o = find_global(b, ref);
    for (size_t i = 0; o && i < b->m->n_signals; i++)
        if (o == &b->m->signals[i])
            return o;
    return NULL;
}

static const bpm_error_def *find_error(bpm_builder *b, const char *ref)
{
    const void *o = find_global(b, ref);
    for (size_t i = 0; o && i < b->m->n_errors; i++)
        if (o == &b->m->errors[i])
            return o;
    return NULL;
}

static const bpm_escalation *find_escalation(bpm_builder *b, const char *ref)
{
    const void *o = find_global(b, ref);
    for (size_t i = 0; o && i < b->m->n_escalations; i++)
        if (o == &b->m->escalations[i])
            return o;
    return NULL;
}

/* ---- events -------------------------------------------------------------- */

static void read_event_def(bpm_builder *b, bpm_node *node, const xmlNode *c)
{
    static const struct {
        const char *xml;
        bpm_event_kind kind;
    } defs[] = {
        {"messageEventDefinition", BPM_EVENT_MESSAGE},
        {"timerEventDefinition", BPM_EVENT_TIMER},
        {"signalEventDefinition", BPM_EVENT_SIGNAL},
        {"errorEventDefinition", BPM_EVENT_ERROR},
        {"escalationEventDefinition", BPM_EVENT_ESCALATION},
        {"compensateEventDefinition", BPM_EVENT_COMPENSATE},
        {"conditionalEventDefinition", BPM_EVENT_CONDITIONAL},
        {"linkEventDefinition", BPM_EVENT_LINK},
        {"cancelEventDefinition", BPM_EVENT_CANCEL},
        {"terminateEventDefinition", BPM_EVENT_TERMINATE},
    };
    bpm_event_kind kind = BPM_EVENT_NONE;
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
        if (bpm_build_is_bpmn(c, defs[i].xml))
            kind = defs[i].kind;
    if (kind == BPM_EVENT_NONE)
        return;

    node->events = bpm_build_push(b, node->events, &node->n_events, sizeof *node->events);
    bpm_event_def *ev = &node->events[node->n_events - 1];
    ev->kind = kind;
    ev->line = bpm_build_line(c);
    ev->id = bpm_build_id(b, c, "id");
    switch (kind) {
    case BPM_EVENT_MESSAGE:
        ev->ref = bpm_build_attr(b, c, "messageRef");
        ev->message = find_message(b, ev->ref);
        if (ev->ref && !ev->message)
            BPM_DIAG(b, BPM_SEV_ERROR, c, node->id, "message \"%s\" is not defined", ev->ref);
        if (bpm_build_camunda(b, c, "type") || bpm_build_camunda(b, c, "class") ||
            bpm_build_camunda(b, c, "expression") || bpm_build_camunda(b, c, "delegateExpression") ||
            bpm_build_child(c, BPM_NS_BPMN, "extensionElements")) {
            /* A message throw event implemented like a service task. */
            bpm_node shadow = {.id = node->id, .kind = BPM_NODE_SEND_TASK};
            bpm_build_ext_node(b, &shadow, c);
            ev->throw_impl = shadow.service;
            /* the engine runs it as a send task's (node_event.c) */
            if ((node->kind == BPM_NODE_END_EVENT || node->kind == BPM_NODE_INTERMEDIATE_THROW) && shadow.service &&
                !node->service) {
                node->service = shadow.service;
                if (!node->result_variable)
                    node->result_variable = shadow.result_variable;
                if (!node->async.retry_time_cycle)
                    node->async.retry_time_cycle = shadow.async.retry_time_cycle;
            }
        }
        break;
    case BPM_EVENT_TIMER: {
        static const struct {
            const char *xml;
            bpm_timer_kind kind;
        } tk[] = {{"timeDate", BPM_TIMER_DATE}, {"timeDuration", BPM_TIMER_DURATION}, {"timeCycle", BPM_TIMER_CYCLE}};
        for (size_t i = 0; i < 3; i++) {
            xmlNode *t = bpm_build_child(c, BPM_NS_BPMN, tk[i].xml);
            if (!t)
                continue;
            if (ev->timer_kind)
                BPM_DIAG(b, BPM_SEV_ERROR, t, node->id, "timer has more than one of timeDate, timeDuration and timeCycle");
            ev->timer_kind = tk[i].kind;
            ev->timer = bpm_build_expr(b, bpm_build_text(b, t, false), bpm_build_attr(b, t, "language"),
                                       bpm_build_line(t), BPM_DIALECT_LITERAL);
        }
        break;
    }
    case BPM_EVENT_SIGNAL:
        ev->ref = bpm_build_attr(b, c, "signalRef");
        ev->signal = find_signal(b, ev->ref);
        if (ev->ref && !ev->signal)
            BPM_DIAG(b, BPM_SEV_ERROR, c, node->id, "signal \"%s\" is not defined", ev->ref);
        break;
    case BPM_EVENT_ERROR:
        ev->ref = bpm_build_attr(b, c, "errorRef");
        ev->error = find_error(b, ev->ref);
        if (ev->ref && !ev->error)
            BPM_DIAG(b, BPM_SEV_ERROR, c, node->id, "error \"%s\" is not defined", ev->ref);
        ev->error_code_variable = bpm_build_camunda(b, c, "errorCodeVariable");
        ev->error_message_variable = bpm_build_camunda(b, c, "errorMessageVariable");
        break;
    case BPM_EVENT_ESCALATION:
        ev->ref = bpm_build_attr(b, c, "escalationRef");
        ev->escalation = find_escalation(b, ev->ref);
        if (ev->ref && !ev->escalation)
            BPM_DIAG(b, BPM_SEV_ERROR, c, node->id, "escalation \"%s\" is not defined", ev->ref);
        ev->escalation_code_variable = bpm_build_camunda(b, c, "escalationCodeVariable");
        break;
    case BPM_EVENT_COMPENSATE:
        ev->ref = bpm_build_id(b, c, "activityRef"); /* resolved in pass 2 */
        ev->wait_for_completion = bpm_build_bool(b, c, NULL, "waitForCompletion", true, node->id);
        break;
    case BPM_EVENT_CONDITIONAL:
        ev->condition = bpm_build_expr_child(b, c, "condition", BPM_DIALECT_LUA);
        ev->variable_name = bpm_build_camunda(b, c, "variableName");
        ev->variable_events = bpm_build_camunda(b, c, "variableEvents");
        break;
    case BPM_EVENT_LINK:
        ev->link_name = bpm_build_attr(b, c, "name");
        break;
    default:
        break;
    }
}

static void read_events(bpm_builder *b, bpm_node *node, const xmlNode *el)
{
    for (xmlNode *c = el->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (bpm_build_is_bpmn(c, "eventDefinitionRef")) {
            const char *ref = bpm_build_text(b, c, true);
            const xmlNode *def = ref ? bpm_strmap_get(&b->global_event_defs, ref) : NULL;
            if (def)
                read_event_def(b, node, def);
            else
                BPM_DIAG(b, BPM_SEV_ERROR, c, node->id, "event definition \"%s\" is not defined", ref ? ref : "");
            continue;
        }
        read_event_def(b, node, c);
    }
    node->parallel_multiple = bpm_build_bool(b, el, NULL, "parallelMultiple", false, node->id);
}

/* ---- loops --------------------------------------------------------------- */

static void read_loop(bpm_builder *b, bpm_node *node, const xmlNode *el)
{
    xmlNode *mi = bpm_build_child(el, BPM_NS_BPMN, "multiInstanceLoopCharacteristics");
    xmlNode *std = bpm_build_child(el, BPM_NS_BPMN, "standardLoopCharacteristics");
    if (!mi && !std)
        return;
    bpm_loop *l = bpm_arena_alloc(b->m->arena, sizeof *l);
    l->loop_maximum = -1;
    node->loop = l;
    if (mi) {
        l->kind = BPM_LOOP_MULTI_INSTANCE;
        l->line = bpm_build_line(mi);
        l->sequential = bpm_build_bool(b, mi, NULL, "isSequential", false, node->id);
        l->cardinality = bpm_build_expr_child(b, mi, "loopCardinality", BPM_DIALECT_LITERAL);
        l->completion_condition = bpm_build_expr_child(b, mi, "completionCondition", BPM_DIALECT_LUA);
        const char *coll = bpm_build_camunda(b, mi, "collection");
        if (coll)
            l->collection = bpm_build_expr(b, coll, NULL, l->line, BPM_DIALECT_LUA);
        xmlNode *input = bpm_build_child(mi, BPM_NS_BPMN, "loopDataInputRef");
        if (input && !coll)
            l->collection = bpm_build_expr(b, bpm_build_text(b, input, true), NULL, bpm_build_line(input),
                                           BPM_DIALECT_LUA);
        l->element_variable = bpm_build_camunda(b, mi, "elementVariable");
        xmlNode *item = bpm_build_child(mi, BPM_NS_BPMN, "inputDataItem");
        if (item && !l->element_variable) {
            l->element_variable = bpm_build_attr(b, item, "name");
            if (!l->element_variable)
                l->element_variable = bpm_build_attr(b, item, "id");
        }
        l->async_before = bpm_build_bool(b, mi, BPM_NS_CAMUNDA, "asyncBefore", false, node->id);
        l->async_after = bpm_build_bool(b, mi, BPM_NS_CAMUNDA, "asyncAfter", false, node->id);
        xmlNode *ext = bpm_build_child(mi, BPM_NS_BPMN, "extensionElements");
        xmlNode *z = ext ? bpm_build_child(ext, BPM_NS_ZEEBE, "loopCharacteristics") : NULL;
        if (z) {
            const char *v = bpm_build_attr(b, z, "inputCollection");
            if (v)
                l->collection = bpm_build_expr(b, v, NULL, bpm_build_line(z), BPM_DIALECT_LUA);
            v = bpm_build_attr(b, z, "inputElement");
            if (v)
                l->element_variable = v;
            l->output_collection = bpm_build_attr(b, z, "outputCollection");
            v = bpm_build_attr(b, z, "outputElement");
            if (v)
                l->output_element = bpm_build_expr(b, v, NULL, bpm_build_line(z), BPM_DIALECT_LUA);
        }
        if (std)
            BPM_DIAG(b, BPM_SEV_ERROR, std, node->id, "activity has both standard and multi-instance loop characteristics");
    } else if (std) {
        l->kind = BPM_LOOP_STANDARD;
        l->line = bpm_build_line(std);
        l->test_before = bpm_build_bool(b, std, NULL, "testBefore", false, node->id);
        l->loop_condition = bpm_build_expr_child(b, std, "loopCondition", BPM_DIALECT_LUA);
        const char *max = bpm_build_attr(b, std, "loopMaximum");
        l->loop_maximum = -1;
        if (max) {
            char *end = NULL;
            long long v = strtoll(max, &end, 10);
            if (!*max || *end || v < 0)
                BPM_DIAG(b, BPM_SEV_ERROR, std, node->id, "loopMaximum \"%s\" is not a non-negative integer", max);
            else
                l->loop_maximum = v;
        }
    }
}

/* ---- flow nodes and flows ------------------------------------------------ */

static bpm_node *add_node(bpm_builder *b, bpm_node_kind kind, const xmlNode *el, const bpm_node *parent)
{
    bpm_process *p = b->proc;
    if (p->n_nodes == b->cap_nodes) {
        size_t ncap = b->cap_nodes ? b->cap_nodes * 2 : 32;
        p->nodes = bpm_arena_grow(b->m->arena, p->nodes, p->n_nodes, ncap, sizeof *p->nodes);
        b->pnode = bpm_arena_grow(b->tmp, b->pnode, p->n_nodes, ncap, sizeof *b->pnode);
        b->cap_nodes = ncap;
    }
    bpm_node *node = bpm_arena_alloc(b->m->arena, sizeof *node);
    node->kind = kind;
    node->index = (uint32_t)p->n_nodes;
    node->line = bpm_build_line(el);
    node->process = p;
    node->parent = parent;
    node->interrupting = true;
    node->async.exclusive = true;
    node->adhoc_cancel_remaining = true;
    p->nodes[p->n_nodes] = node;
    memset(&b->pnode[p->n_nodes], 0, sizeof b->pnode[0]);
    p->n_nodes++;
    node->id = register_id(b, el, bpm_model_kind_name(kind), node);
    void *old = NULL;
    bpm_strmap_put(&p->node_ids, node->id, node, &old);
    return node;
}

static void add_flow(bpm_builder *b, const xmlNode *el, const bpm_node *container)
{
    bpm_process *p = b->proc;
    if (p->n_flows == b->cap_flows) {
        size_t ncap = b->cap_flows ? b->cap_flows * 2 : 32;
        p->flows = bpm_arena_grow(b->m->arena, p->flows, p->n_flows, ncap, sizeof *p->flows);
        b->pflow = bpm_arena_grow(b->tmp, b->pflow, p->n_flows, ncap, sizeof *b->pflow);
        b->cap_flows = ncap;
    }
    bpm_flow *f = bpm_arena_alloc(b->m->arena, sizeof *f);
    f->index = (uint32_t)p->n_flows;
    f->line = bpm_build_line(el);
    f->name = bpm_build_attr(b, el, "name");
    f->documentation = bpm_build_documentation(b, el);
    f->condition = bpm_build_expr_child(b, el, "conditionExpression", BPM_DIALECT_LUA);
    p->flows[p->n_flows] = f;
    bpm_pending_flow *pf = &b->pflow[p->n_flows];
    pf->source_ref = bpm_build_id(b, el, "sourceRef");
    pf->target_ref = bpm_build_id(b, el, "targetRef");
    pf->container = container;
    p->n_flows++;
    f->id = register_id(b, el, "sequence flow", f);
    bpm_strmap_put(&p->flow_ids, f->id, f, NULL);
    bpm_build_ext_flow(b, f, el);
}

static void add_data(bpm_builder *b, bpm_data_kind kind, const xmlNode *el, const char *ref_attr)
{
    bpm_process *p = b->proc;
    p->data = bpm_build_push(b, p->data, &p->n_data, sizeof *p->data);
    bpm_data *d = &p->data[p->n_data - 1];
    d->kind = kind;
    d->line = bpm_build_line(el);
    d->name = bpm_build_attr(b, el, "name");
    d->ref = ref_attr ? bpm_build_attr(b, el, ref_attr) : NULL;
    d->is_collection = bpm_build_bool(b, el, NULL, "isCollection", false, NULL);
    d->id = register_id(b, el, "data element", d);
}

static void read_io_spec(bpm_builder *b, const xmlNode *el)
{
    xmlNode *spec = bpm_build_child(el, BPM_NS_BPMN, "ioSpecification");
    if (!spec)
        return;
    for (xmlNode *c = spec->children; c; c = c->next) {
        if (bpm_build_is_bpmn(c, "dataInput"))
            add_data(b, BPM_DATA_INPUT, c, "itemSubjectRef");
        else if (bpm_build_is_bpmn(c, "dataOutput"))
            add_data(b, BPM_DATA_OUTPUT, c, "itemSubjectRef");
    }
}

static void read_lanes(bpm_builder *b, const xmlNode *set, bpm_lane **lanes, size_t *n, int depth);

static void read_container(bpm_builder *b, const xmlNode *el, bpm_node *container, int depth);

static void read_node(bpm_builder *b, bpm_node_kind kind, const xmlNode *el, bpm_node *parent, int depth)
{
    if (kind == BPM_NODE_SUBPROCESS && bpm_build_bool(b, el, NULL, "triggeredByEvent", false, NULL))
        kind = BPM_NODE_EVENT_SUBPROCESS;
    bpm_node *node = add_node(b, kind, el, parent);
    node->name = bpm_build_attr(b, el, "name");
    node->documentation = bpm_build_documentation(b, el);
    bpm_pending_node *pn = &b->pnode[node->index];
    pn->default_ref = bpm_build_id(b, el, "default");

    if (bpm_model_is_event(kind)) {
        read_events(b, node, el);
        if (kind == BPM_NODE_BOUNDARY_EVENT) {
            pn->attached_ref = bpm_build_id(b, el, "attachedToRef");
            node->interrupting = bpm_build_bool(b, el, NULL, "cancelActivity", true, node->id);
        } else if (kind == BPM_NODE_START_EVENT) {
            node->interrupting = bpm_build_bool(b, el, NULL, "isInterrupting", true, node->id);
        }
    }
    if (bpm_model_is_activity(kind)) {
        read_loop(b, node, el);
        node->for_compensation = bpm_build_bool(b, el, NULL, "isForCompensation", false, node->id);
        const char *sq = bpm_build_attr(b, el, "startQuantity");
        const char *cq = bpm_build_attr(b, el, "completionQuantity");
        node->start_quantity_many = (sq && strcmp(sq, "1") != 0) || (cq && strcmp(cq, "1") != 0);
        read_io_spec(b, el);
    }
    switch (kind) {
    case BPM_NODE_SCRIPT_TASK: {
        node->script = bpm_arena_alloc(b->m->arena, sizeof *node->script);
        node->script->format = bpm_build_attr(b, el, "scriptFormat");
        xmlNode *s = bpm_build_child(el, BPM_NS_BPMN, "script");
        if (s)
            node->script->body = bpm_build_expr(b, bpm_build_text(b, s, false),
                                                node->script->format ? node->script->format : "",
                                                bpm_build_line(s), BPM_DIALECT_LUA);
        break;
    }
    case BPM_NODE_SEND_TASK:
    case BPM_NODE_RECEIVE_TASK: {
        const char *ref = bpm_build_attr(b, el, "messageRef");
        node->message = find_message(b, ref);
        if (ref && !node->message)
            BPM_DIAG(b, BPM_SEV_ERROR, el, node->id, "message \"%s\" is not defined", ref);
        node->instantiate = bpm_build_bool(b, el, NULL, "instantiate", false, node->id);
        break;
    }
    case BPM_NODE_CALL_ACTIVITY:
        node->call = bpm_arena_alloc(b->m->arena, sizeof *node->call);
        {
            const char *ce = bpm_build_attr(b, el, "calledElement");
            if (ce)
                node->call->called_element = bpm_build_expr(b, ce, NULL, node->line, BPM_DIALECT_LITERAL);
        }
        break;
    case BPM_NODE_ADHOC_SUBPROCESS:
        node->adhoc_completion = bpm_build_expr_child(b, el, "completionCondition", BPM_DIALECT_LUA);
        node->adhoc_cancel_remaining = bpm_build_bool(b, el, NULL, "cancelRemainingInstances", true, node->id);
        {
            const char *ord = bpm_build_attr(b, el, "ordering");
            node->adhoc_sequential = ord && strcmp(ord, "Sequential") == 0;
        }
        break;
    case BPM_NODE_COMPLEX_GATEWAY:
        node->activation_condition = bpm_build_expr_child(b, el, "activationCondition", BPM_DIALECT_LUA);
        break;
    case BPM_NODE_EVENT_BASED_GATEWAY:
        node->instantiate = bpm_build_bool(b, el, NULL, "instantiate", false, node->id);
        node->event_gateway_type = bpm_build_attr(b, el, "eventGatewayType");
        break;
    default:
        break;
    }
    if (bpm_model_is_gateway(kind))
        node->gateway_direction = bpm_build_attr(b, el, "gatewayDirection");

    bpm_build_ext_node(b, node, el);

    if (bpm_model_is_container(kind))
        read_container(b, el, node, depth + 1);
}

static void read_container(bpm_builder *b, const xmlNode *el, bpm_node *container, int depth)
{
    if (depth > b->max_depth) {
        BPM_DIAG(b, BPM_SEV_ERROR, el, container ? container->id : b->proc->id,
                 "subprocesses are nested deeper than %d levels", b->max_depth);
        return;
    }
    bpm_process *p = b->proc;
    const bpm_node **children = NULL;
    size_t n_children = 0;
    for (xmlNode *c = el->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        bpm_node_kind kind;
        if (node_kind_of(c, &kind)) {
            size_t before = p->n_nodes;
            read_node(b, kind, c, container, depth);
            children = bpm_build_push(b, children, &n_children, sizeof *children);
            children[n_children - 1] = p->nodes[before];
        } else if (bpm_build_is_bpmn(c, "sequenceFlow")) {
            add_flow(b, c, container);
        } else if (is_unsupported_flow_node(c)) {
            const char *id = bpm_build_attr(b, c, "id");
            BPM_DIAG(b, BPM_SEV_ERROR, c, id, "%s is a choreography element; bpmnd runs processes only",
                     (const char *)c->name);
        } else if (bpm_build_is_bpmn(c, "dataObject")) {
            add_data(b, BPM_DATA_OBJECT, c, "itemSubjectRef");
        } else if (bpm_build_is_bpmn(c, "dataObjectReference")) {
            add_data(b, BPM_DATA_OBJECT_REF, c, "dataObjectRef");
        } else if (bpm_build_is_bpmn(c, "dataStoreReference")) {
            add_data(b, BPM_DATA_STORE_REF, c, "dataStoreRef");
        } else if (bpm_build_is_bpmn(c, "association")) {
            b->assocs = bpm_build_push(b, b->assocs, &b->n_assocs, sizeof *b->assocs);
            bpm_pending_assoc *as = &b->assocs[b->n_assocs - 1];
            as->source_ref = bpm_build_id(b, c, "sourceRef");
            as->target_ref = bpm_build_id(b, c, "targetRef");
            as->line = bpm_build_line(c);
        } else if (bpm_build_is_bpmn(c, "laneSet") && !container) {
            read_lanes(b, c, &p->lanes, &p->n_lanes, 0);
        }
    }
    if (container) {
        container->children = children;
        container->n_children = n_children;
    } else {
        p->top = children;
        p->n_top = n_children;
    }
}

static void read_lanes(bpm_builder *b, const xmlNode *set, bpm_lane **lanes, size_t *n, int depth)
{
    if (depth > 32)
        return;
    for (xmlNode *c = set->children; c; c = c->next) {
        if (!bpm_build_is_bpmn(c, "lane"))
            continue;
        *lanes = bpm_build_push(b, *lanes, n, sizeof **lanes);
        bpm_lane *lane = &(*lanes)[*n - 1];
        lane->line = bpm_build_line(c);
        lane->name = bpm_build_attr(b, c, "name");
        lane->id = register_id(b, c, "lane", lane);
        for (xmlNode *r = c->children; r; r = r->next) {
            if (bpm_build_is_bpmn(r, "flowNodeRef")) {
                lane->node_ids = bpm_build_push(b, lane->node_ids, &lane->n_node_ids, sizeof *lane->node_ids);
                lane->node_ids[lane->n_node_ids - 1] = bpm_model_intern(b->m, bpm_build_text(b, r, true));
            } else if (bpm_build_is_bpmn(r, "childLaneSet")) {
                read_lanes(b, r, &lane->children, &lane->n_children, depth + 1);
            }
        }
    }
}

/* ---- pass 2: resolve ------------------------------------------------------ */

static const bpm_node *resolve_node(bpm_builder *b, const char *ref)
{
    return ref ? bpm_strmap_get(&b->proc->node_ids, ref) : NULL;
}

static void resolve_process(bpm_builder *b)
{
    bpm_process *p = b->proc;
    size_t *n_in = bpm_arena_calloc(b->tmp, p->n_nodes ? p->n_nodes : 1, sizeof *n_in);
    size_t *n_out = bpm_arena_calloc(b->tmp, p->n_nodes ? p->n_nodes : 1, sizeof *n_out);
    size_t *n_bnd = bpm_arena_calloc(b->tmp, p->n_nodes ? p->n_nodes : 1, sizeof *n_bnd);

    for (size_t i = 0; i < p->n_flows; i++) {
        bpm_flow *f = p->flows[i];
        bpm_pending_flow *pf = &b->pflow[i];
        if (!pf->source_ref || !*pf->source_ref)
            bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, f->line, f->id, "sequence flow has no sourceRef");
        if (!pf->target_ref || !*pf->target_ref)
            bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, f->line, f->id, "sequence flow has no targetRef");
        f->source = resolve_node(b, pf->source_ref);
        f->target = resolve_node(b, pf->target_ref);
        if (pf->source_ref && *pf->source_ref && !f->source)
            bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, f->line, f->id,
                          "sourceRef \"%s\" is not a flow node of process \"%s\"", pf->source_ref, p->id);
        if (pf->target_ref && *pf->target_ref && !f->target)
            bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, f->line, f->id,
                          "targetRef \"%s\" is not a flow node of process \"%s\"", pf->target_ref, p->id);
        const bpm_node *src_scope = f->source ? f->source->parent : NULL;
        const bpm_node *dst_scope = f->target ? f->target->parent : NULL;
        if (f->source && f->target && (src_scope != dst_scope || src_scope != pf->container)) {
            bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, f->line, f->id,
                          "sequence flow crosses a subprocess boundary (from \"%s\" to \"%s\"); connect the subprocess itself instead",
                          f->source->id, f->target->id);
            f->source = f->target = NULL; /* keep the graph within scopes */
        }
        if (f->source)
            n_out[f->source->index]++;
        if (f->target)
            n_in[f->target->index]++;
    }
    for (size_t i = 0; i < p->n_nodes; i++) {
        bpm_node *n = p->nodes[i];
        n->incoming = bpm_arena_calloc(b->m->arena, n_in[i], sizeof *n->incoming);
        n->outgoing = bpm_arena_calloc(b->m->arena, n_out[i], sizeof *n->outgoing);
    }
    for (size_t i = 0; i < p->n_flows; i++) {
        bpm_flow *f = p->flows[i];
        if (f->source) {
            bpm_node *s = p->nodes[f->source->index];
            s->outgoing[s->n_outgoing++] = f;
        }
        if (f->target) {
            bpm_node *t = p->nodes[f->target->index];
            t->incoming[t->n_incoming++] = f;
        }
    }
    for (size_t i = 0; i < p->n_nodes; i++) {
        bpm_node *n = p->nodes[i];
        bpm_pending_node *pn = &b->pnode[i];
        if (pn->default_ref) {
            const bpm_flow *f = bpm_strmap_get(&p->flow_ids, pn->default_ref);
            if (!f)
                bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, n->line, n->id,
                              "default flow \"%s\" is not a sequence flow of process \"%s\"", pn->default_ref, p->id);
            else if (f->source != n)
                bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, n->line, n->id,
                              "default flow \"%s\" does not leave this element", pn->default_ref);
            else {
                n->default_flow = f;
                p->flows[f->index]->is_default = true;
            }
        }
        if (n->kind == BPM_NODE_BOUNDARY_EVENT) {
            const bpm_node *host = resolve_node(b, pn->attached_ref);
            if (!pn->attached_ref)
                bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, n->line, n->id, "boundary event has no attachedToRef");
            else if (!host)
                bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, n->line, n->id,
                              "attachedToRef \"%s\" is not a flow node of process \"%s\"", pn->attached_ref, p->id);
            else if (!bpm_model_is_activity(host->kind))
                bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, n->line, n->id,
                              "boundary event is attached to %s \"%s\"; only activities can carry boundary events",
                              bpm_model_kind_name(host->kind), host->id);
            else if (host->parent != n->parent)
                bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, n->line, n->id,
                              "boundary event and the activity \"%s\" it is attached to are in different scopes", host->id);
            else {
                n->attached_to = host;
                n_bnd[host->index]++;
            }
        }
        for (size_t e = 0; e < n->n_events; e++) {
            bpm_event_def *ev = &n->events[e];
            if (ev->kind == BPM_EVENT_COMPENSATE && ev->ref) {
                ev->activity = resolve_node(b, ev->ref);
                if (!ev->activity)
                    bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, ev->line, n->id,
                                  "compensation activityRef \"%s\" is not an activity of process \"%s\"", ev->ref, p->id);
            }
        }
    }
    /* BPMN 2.0.2 §10.7.1: a compensation boundary event is connected to its
     * handler by an association, not a sequence flow */
    for (size_t i = 0; i < b->n_assocs; i++) {
        const bpm_pending_assoc *as = &b->assocs[i];
        bpm_node *src = (bpm_node *)resolve_node(b, as->source_ref);
        const bpm_node *dst = resolve_node(b, as->target_ref);
        if (!src || !dst || src->kind != BPM_NODE_BOUNDARY_EVENT)
            continue;
        bool comp = false;
        for (size_t e = 0; e < src->n_events; e++)
            comp |= src->events[e].kind == BPM_EVENT_COMPENSATE;
        if (!comp)
            continue;
        if (!dst->for_compensation)
            bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, as->line, dst->id,
                          "activity is the target of compensation boundary event \"%s\" but is not marked isForCompensation",
                          src->id);
        else if (src->handler && src->handler != dst)
            bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, as->line, src->id,
                          "compensation boundary event has more than one handler");
        else
            src->handler = dst;
    }
    for (size_t i = 0; i < p->n_nodes; i++) {
        bpm_node *n = p->nodes[i];
        if (n_bnd[i])
            n->boundaries = bpm_arena_calloc(b->m->arena, n_bnd[i], sizeof *n->boundaries);
    }
    for (size_t i = 0; i < p->n_nodes; i++) {
        bpm_node *n = p->nodes[i];
        if (n->attached_to) {
            bpm_node *h = p->nodes[n->attached_to->index];
            h->boundaries[h->n_boundaries++] = n;
        }
    }
}

/* ---- processes and collaborations ---------------------------------------- */

static void read_process(bpm_builder *b, const xmlNode *el, bpm_process *p)
{
    b->proc = p;
    b->cap_nodes = b->cap_flows = 0;
    b->assocs = NULL;
    b->n_assocs = 0;
    b->pnode = NULL;
    b->pflow = NULL;
    bpm_strmap_init(&p->node_ids, b->m->arena);
    bpm_strmap_init(&p->flow_ids, b->m->arena);
    p->line = bpm_build_line(el);
    p->id = register_id(b, el, "process", p);
    p->name = bpm_build_attr(b, el, "name");
    p->documentation = bpm_build_documentation(b, el);
    const char *exe = bpm_build_attr(b, el, "isExecutable");
    p->executable_given = exe != NULL;
    p->executable = bpm_build_bool(b, el, NULL, "isExecutable", false, p->id);
    p->startable_in_tasklist = true;
    bpm_build_ext_process(b, p, el);
    read_io_spec(b, el);
    read_container(b, el, NULL, 0);
    resolve_process(b);
}

static void read_collaboration(bpm_builder *b, const xmlNode *el)
{
    bpm_model *m = b->m;
    m->collaborations = bpm_build_push(b, m->collaborations, &m->n_collaborations, sizeof *m->collaborations);
    bpm_collaboration *co = &m->collaborations[m->n_collaborations - 1];
    co->line = bpm_build_line(el);
    co->name = bpm_build_attr(b, el, "name");
    co->id = register_id(b, el, "collaboration", co);
    for (xmlNode *c = el->children; c; c = c->next) {
        if (bpm_build_is_bpmn(c, "participant")) {
            co->participants = bpm_build_push(b, co->participants, &co->n_participants, sizeof *co->participants);
            bpm_participant *pa = &co->participants[co->n_participants - 1];
            pa->line = bpm_build_line(c);
            pa->name = bpm_build_attr(b, c, "name");
            pa->process_ref = bpm_build_id(b, c, "processRef");
            pa->id = register_id(b, c, "participant", pa);
        } else if (bpm_build_is_bpmn(c, "messageFlow")) {
            co->message_flows = bpm_build_push(b, co->message_flows, &co->n_message_flows, sizeof *co->message_flows);
            bpm_message_flow *mf = &co->message_flows[co->n_message_flows - 1];
            mf->line = bpm_build_line(c);
            mf->name = bpm_build_attr(b, c, "name");
            mf->source_ref = bpm_build_id(b, c, "sourceRef");
            mf->target_ref = bpm_build_id(b, c, "targetRef");
            mf->message_ref = bpm_build_id(b, c, "messageRef");
            mf->id = register_id(b, c, "message flow", mf);
        }
    }
}

static void resolve_collaborations(bpm_builder *b)
{
    bpm_model *m = b->m;
    for (size_t i = 0; i < m->n_collaborations; i++) {
        bpm_collaboration *co = &m->collaborations[i];
        for (size_t j = 0; j < co->n_participants; j++) {
            bpm_participant *pa = &co->participants[j];
            if (!pa->process_ref)
                continue; /* a black-box pool */
            pa->process = bpm_model_find_process(m, pa->process_ref);
            if (!pa->process)
                bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, pa->line, pa->id,
                              "processRef \"%s\" is not a process of this document", pa->process_ref);
        }
        for (size_t j = 0; j < co->n_message_flows; j++) {
            bpm_message_flow *mf = &co->message_flows[j];
            if (!mf->source_ref || !bpm_strmap_get(&m->ids, mf->source_ref))
                bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, mf->line, mf->id,
                              "message flow sourceRef \"%s\" is not defined", mf->source_ref ? mf->source_ref : "");
            if (!mf->target_ref || !bpm_strmap_get(&m->ids, mf->target_ref))
                bpm_diags_add(b->diags, BPM_SEV_ERROR, b->file, mf->line, mf->id,
                              "message flow targetRef \"%s\" is not defined", mf->target_ref ? mf->target_ref : "");
        }
    }
}

void bpm_build_model(bpm_model *m, xmlDoc *doc, const xmlNode *defs, bpm_diags *diags, int max_depth)
{
    bpm_builder b = {.m = m, .diags = diags, .file = m->file, .doc = doc, .max_depth = max_depth};
    b.tmp = bpm_arena_new();
    bpm_strmap_init(&b.global_event_defs, b.tmp);
    m->target_namespace = bpm_build_attr(&b, defs, "targetNamespace");
    m->exporter = bpm_build_attr(&b, defs, "exporter");
    m->exporter_version = bpm_build_attr(&b, defs, "exporterVersion");
    m->execution_platform = bpm_build_attr_ns(&b, defs, BPM_NS_MODELER, "executionPlatform");
    m->execution_platform_version = bpm_build_attr_ns(&b, defs, BPM_NS_MODELER, "executionPlatformVersion");

    read_globals(&b, defs);
    fix_ids(&b);
    size_t n_proc = 0;
    for (xmlNode *c = defs->children; c; c = c->next)
        if (bpm_build_is_bpmn(c, "process"))
            n_proc++;
    m->processes = bpm_arena_calloc(m->arena, n_proc ? n_proc : 1, sizeof *m->processes);
    for (xmlNode *c = defs->children; c; c = c->next) {
        if (bpm_build_is_bpmn(c, "process")) {
            bpm_process *p = &m->processes[m->n_processes];
            p->index = (uint32_t)m->n_processes++;
            read_process(&b, c, p);
        } else if (bpm_build_is_bpmn(c, "collaboration")) {
            read_collaboration(&b, c);
        }
    }
    fix_ids(&b);
    resolve_collaborations(&b);
    bpm_validate_model(&b);
    bpm_arena_free(b.tmp);
}
