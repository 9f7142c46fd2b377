/* Model lifetime, interning and O(1) lookups. */
#include "model.h"

#include <string.h>

#include "err.h"

bpm_model *bpm_model_new(const char *file)
{
    bpm_arena *a = bpm_arena_new();
    bpm_model *m = bpm_arena_alloc(a, sizeof *m);
    m->arena = a;
    m->refcount = 1;
    bpm_strmap_init(&m->strings, a);
    bpm_strmap_init(&m->ids, a);
    m->file = bpm_arena_strdup(a, file ? file : "<memory>");
    return m;
}

void bpm_model_freeze(bpm_model *m) { m->frozen = true; }

bpm_model *bpm_model_ref(bpm_model *m)
{
    m->refcount++;
    return m;
}

void bpm_model_unref(bpm_model *m)
{
    if (!m)
        return;
    BPM_ASSERT(m->refcount > 0);
    if (--m->refcount == 0)
        bpm_arena_free(m->arena);
}

const char *bpm_model_intern(bpm_model *m, const char *s)
{
    BPM_ASSERT(!m->frozen);
    return bpm_strmap_intern(&m->strings, s);
}

const bpm_process *bpm_model_find_process(const bpm_model *m, const char *id)
{
    for (size_t i = 0; i < m->n_processes; i++)
        if (strcmp(m->processes[i].id, id) == 0)
            return &m->processes[i];
    return NULL;
}

const bpm_node *bpm_model_find_node(const bpm_process *p, const char *id)
{
    return bpm_strmap_get(&p->node_ids, id);
}

const bpm_flow *bpm_model_find_flow(const bpm_process *p, const char *id)
{
    return bpm_strmap_get(&p->flow_ids, id);
}

const bpm_message *bpm_model_find_message_by_name(const bpm_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_messages; i++)
        if (m->messages[i].name && strcmp(m->messages[i].name, name) == 0)
            return &m->messages[i];
    return NULL;
}

const char *bpm_model_kind_name(bpm_node_kind k)
{
    switch (k) {
#define X(name, xml)         \
    case BPM_NODE_##name: \
        return xml;
        BPM_NODE_KIND_MAP(X)
#undef X
    case BPM_NODE_KIND_COUNT:
        break;
    }
    return "unknown";
}

const char *bpm_model_event_kind_name(bpm_event_kind k)
{
    static const char *const names[BPM_EVENT_KIND_COUNT] = {
        "none",        "message", "timer", "signal", "error",     "escalation",
        "compensate", "conditional", "link", "cancel", "terminate",
    };
    return (unsigned)k < BPM_EVENT_KIND_COUNT ? names[k] : "unknown";
}

bool bpm_model_is_activity(bpm_node_kind k)
{
    return k >= BPM_NODE_TASK && k <= BPM_NODE_ADHOC_SUBPROCESS;
}

bool bpm_model_is_gateway(bpm_node_kind k)
{
    return k >= BPM_NODE_EXCLUSIVE_GATEWAY && k <= BPM_NODE_COMPLEX_GATEWAY;
}

bool bpm_model_is_event(bpm_node_kind k) { return k <= BPM_NODE_BOUNDARY_EVENT; }

bool bpm_model_is_container(bpm_node_kind k)
{
    return k == BPM_NODE_SUBPROCESS || k == BPM_NODE_EVENT_SUBPROCESS ||
           k == BPM_NODE_TRANSACTION || k == BPM_NODE_ADHOC_SUBPROCESS;
}

bool bpm_model_zeebe_connector(const bpm_service *s)
{
    static const char *const types[] = {"io.camunda:http-json:", "io.bpmnd:slack-webhook:",
                                        "io.bpmnd:cloudevents-http:"};
    if (!s || s->kind != BPM_IMPL_JOB || !s->job_type)
        return false;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strncmp(s->job_type, types[i], strlen(types[i])) == 0)
            return true;
    return false;
}

bool bpm_model_publisher(const bpm_service *s)
{
    static const char type[] = "io.camunda:connector-rabbitmq:";
    if (!s)
        return false;
    if (s->kind == BPM_IMPL_JOB)
        return s->job_type && strncmp(s->job_type, type, sizeof type - 1) == 0;
    return s->kind == BPM_IMPL_CONNECTOR && s->connector_id && strcmp(s->connector_id, "rabbitmq-publish") == 0;
}

bool bpm_model_task_listens(const bpm_node *n, const char *event)
{
    if (!n || !n->user)
        return false;
    for (size_t i = 0; i < n->user->n_task_listeners; i++) {
        const char *ev = n->user->task_listeners[i].event;
        if (ev && strcmp(ev, event) == 0)
            return true;
    }
    return false;
}
