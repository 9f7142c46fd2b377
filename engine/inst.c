/* Instance state storage: element instances, waits, compensation records;
 * cloning for the step's all-or-nothing semantics; JSON form for stores,
 * simulation and tests. */
#include "inst.h"

#include <stdlib.h>
#include <string.h>

bpm_inst *bpm_inst_new(const bpm_process *p, const char *id, const char *business_key,
                       const char *definition_id)
{
    bpm_arena *a = bpm_arena_new_sized(512); /* instances are many and small */
    bpm_inst *inst = bpm_arena_alloc(a, sizeof *inst);
    inst->arena = a;
    inst->process = p;
    inst->id = bpm_arena_strdup(a, id ? id : "");
    inst->business_key = bpm_arena_strdup(a, business_key);
    inst->definition_id = bpm_arena_strdup(a, definition_id);
    inst->next_id = 1;
    return inst;
}

void bpm_inst_free(bpm_inst *inst)
{
    if (!inst)
        return;
    for (size_t i = 0; i < inst->n_eis; i++)
        json_decref(inst->eis[i].vars);
    for (size_t i = 0; i < inst->n_waits; i++)
        json_decref(inst->waits[i].data);
    for (size_t i = 0; i < inst->n_comps; i++)
        json_decref(inst->comps[i].vars);
    free(inst->eis);
    free(inst->waits);
    free(inst->comps);
    bpm_arena_free(inst->arena);
}

static const char *copy_str(bpm_arena *a, const char *s) { return bpm_arena_strdup(a, s); }

bpm_inst *bpm_inst_clone(const bpm_inst *src)
{
    bpm_inst *inst = bpm_inst_new(src->process, src->id, src->business_key, src->definition_id);
    bpm_arena *a = inst->arena;
    inst->state = src->state;
    inst->suspended = src->suspended;
    inst->next_id = src->next_id;
    inst->comp_seq = src->comp_seq;
    inst->parent_instance = copy_str(a, src->parent_instance);
    inst->parent_wait = src->parent_wait;
    if (src->n_eis) {
        inst->eis = bpm_xmalloc(src->n_eis * sizeof *inst->eis);
        memcpy(inst->eis, src->eis, src->n_eis * sizeof *inst->eis);
        inst->n_eis = inst->cap_eis = src->n_eis;
        for (size_t i = 0; i < inst->n_eis; i++)
            json_incref(inst->eis[i].vars); /* shared until the first write */
    }
    if (src->n_waits) {
        inst->waits = bpm_xmalloc(src->n_waits * sizeof *inst->waits);
        memcpy(inst->waits, src->waits, src->n_waits * sizeof *inst->waits);
        inst->n_waits = inst->cap_waits = src->n_waits;
        for (size_t i = 0; i < inst->n_waits; i++) {
            bpm_wait *w = &inst->waits[i];
            w->name = copy_str(a, w->name);
            w->key = copy_str(a, w->key);
            w->timer = copy_str(a, w->timer);
            json_incref(w->data);
        }
    }
    if (src->n_comps) {
        inst->comps = bpm_xmalloc(src->n_comps * sizeof *inst->comps);
        memcpy(inst->comps, src->comps, src->n_comps * sizeof *inst->comps);
        inst->n_comps = inst->cap_comps = src->n_comps;
        for (size_t i = 0; i < inst->n_comps; i++)
            json_incref(inst->comps[i].vars);
    }
    return inst;
}

bpm_ei *bpm_inst_ei(const bpm_inst *inst, uint32_t id)
{
    /* Element instances are appended in id order and removed in place, so
     * the array stays sorted: binary search. */
    size_t lo = 0, hi = inst->n_eis;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (inst->eis[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < inst->n_eis && inst->eis[lo].id == id ? &inst->eis[lo] : NULL;
}

bpm_wait *bpm_inst_wait(const bpm_inst *inst, uint32_t id)
{
    size_t lo = 0, hi = inst->n_waits;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (inst->waits[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < inst->n_waits && inst->waits[lo].id == id ? &inst->waits[lo] : NULL;
}

const bpm_ei *bpm_inst_root(const bpm_inst *inst)
{
    return inst->n_eis && inst->eis[0].kind == BPM_EI_PROCESS ? &inst->eis[0] : NULL;
}

/* ---- JSON form ------------------------------------------------------------ */

static const char *const ei_states[] = {"ready", "active", "waiting", "joining", "done"};
static const char *const ei_kinds[] = {"process", "node", "mi-body", "event-scope"};
static const char *const wait_kinds[] = {"user-task", "job", "async", "message", "timer", "signal", "condition", "child"};
static const char *const inst_states[] = {"active", "completed", "terminated"};

static int index_of(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}
#define INDEX_OF(arr, s) index_of(arr, sizeof arr / sizeof arr[0], s)

/* Drops the named members that hold their default (null, false, 0, an empty
 * array): bpm_inst_from_json reads a missing member as its default, and a
 * waiting instance is stored once per instance, so every byte counts. */
static json_t *prune(json_t *o, const char *const *keys)
{
    for (; *keys; keys++) {
        json_t *v = json_object_get(o, *keys);
        if (v && (json_is_null(v) || json_is_false(v) || (json_is_integer(v) && json_integer_value(v) == 0) ||
                  (json_is_array(v) && json_array_size(v) == 0)))
            json_object_del(o, *keys);
    }
    return o;
}

static const char *const ei_optional[] = {"parent",        "node",          "via",                 "vars",
                                          "interrupted",   "phase",         "loopCounter",         "nrOfInstances",
                                          "nrOfActiveInstances", "nrOfCompletedInstances", NULL};
static const char *const wait_optional[] = {"asyncPoint", "interrupting", "name", "key", "due",
                                            "fired",      "timer",        "data", NULL};
static const char *const inst_optional[] = {"businessKey", "suspended",  "compSeq",       "parentInstance",
                                            "parentWait",  "compensations", NULL};

json_t *bpm_inst_to_json(const bpm_inst *inst)
{
    json_t *eis = json_array();
    for (size_t i = 0; i < inst->n_eis; i++) {
        const bpm_ei *e = &inst->eis[i];
        json_t *j = json_pack("{s:I, s:I, s:s?, s:s, s:s, s:b, s:i, s:s?, s:O?, s:i, s:i, s:i, s:i, s:I}", "id",
                              (json_int_t)e->id, "parent", (json_int_t)e->parent, "node", e->node ? e->node->id : NULL,
                              "state", ei_states[e->state], "kind", ei_kinds[e->kind], "interrupted", e->interrupted,
                              "phase", e->phase,
                              "via", e->via ? e->via->id : NULL, "vars", e->vars, "loopCounter", e->loop_counter,
                              "nrOfInstances", e->nr_instances, "nrOfActiveInstances", e->nr_active,
                              "nrOfCompletedInstances", e->nr_completed, "entered", (json_int_t)e->entered_ms);
        if (e->kind == BPM_EI_NODE)
            json_object_del(j, "kind"); /* the common kind goes without saying */
        json_array_append_new(eis, prune(j, ei_optional));
    }
    json_t *waits = json_array();
    for (size_t i = 0; i < inst->n_waits; i++) {
        const bpm_wait *w = &inst->waits[i];
        json_t *j = json_pack("{s:I, s:I, s:s, s:s, s:i, s:b, s:s?, s:s?, s:I, s:I, s:I, s:s?, s:O?}", "id",
                              (json_int_t)w->id, "ei", (json_int_t)w->ei, "node", w->node->id, "kind",
                              wait_kinds[w->kind], "asyncPoint", w->async_point, "interrupting", w->interrupting, "name",
                              w->name, "key", w->key, "due", (json_int_t)w->due_ms, "start", (json_int_t)w->start_ms,
                              "fired", (json_int_t)w->fired, "timer", w->timer, "data", w->data);
        json_array_append_new(waits, prune(j, wait_optional));
    }
    json_t *comps = json_array();
    for (size_t i = 0; i < inst->n_comps; i++) {
        const bpm_comp *c = &inst->comps[i];
        json_array_append_new(comps, json_pack("{s:I, s:I, s:s, s:I, s:O?}", "ei", (json_int_t)c->ei, "scope",
                                               (json_int_t)c->scope, "node",
                                               c->node->id, "seq", (json_int_t)c->seq, "vars", c->vars));
    }
    json_t *j = json_pack("{s:s, s:s?, s:s?, s:s, s:s, s:b, s:I, s:I, s:s?, s:I, s:o, s:o, s:o}", "id", inst->id,
                     "businessKey", inst->business_key, "definitionId", inst->definition_id, "process",
                     inst->process->id, "state", inst_states[inst->state], "suspended", inst->suspended, "nextId",
                     (json_int_t)inst->next_id, "compSeq", (json_int_t)inst->comp_seq, "parentInstance",
                     inst->parent_instance, "parentWait", (json_int_t)inst->parent_wait, "elements", eis, "waits", waits,
                     "compensations", comps);
    return prune(j, inst_optional);
}

static bool get_u32(const json_t *o, const char *k, uint32_t *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
        return false;
    *out = (uint32_t)json_integer_value(v);
    return true;
}

static bpm_rc bad(bpm_err *err, const char *what, size_t i)
{
    return bpm_err_set(err, BPM_INVALID, "instance state is invalid: %s (entry %zu)", what, i);
}

bpm_rc bpm_inst_from_json(const bpm_process *p, const json_t *j, bpm_inst **out, bpm_err *err)
{
    if (!json_is_object(j))
        return bpm_err_set(err, BPM_INVALID, "instance state is not a JSON object");
    const char *id = json_string_value(json_object_get(j, "id"));
    const char *pid = json_string_value(json_object_get(j, "process"));
    if (!id || !pid || strcmp(pid, p->id) != 0)
        return bpm_err_set(err, BPM_INVALID, "instance state belongs to process \"%s\", not \"%s\"", pid ? pid : "",
                           p->id);
    bpm_inst *inst = bpm_inst_new(p, id, json_string_value(json_object_get(j, "businessKey")),
                                  json_string_value(json_object_get(j, "definitionId")));
    int st = INDEX_OF(inst_states, json_string_value(json_object_get(j, "state")));
    inst->state = st < 0 ? BPM_INST_ACTIVE : (uint8_t)st;
    inst->suspended = json_is_true(json_object_get(j, "suspended"));
    get_u32(j, "nextId", &inst->next_id);
    get_u32(j, "compSeq", &inst->comp_seq);
    get_u32(j, "parentWait", &inst->parent_wait);
    inst->parent_instance = bpm_arena_strdup(inst->arena, json_string_value(json_object_get(j, "parentInstance")));
    bpm_rc rc = BPM_OK;
    json_t *eis = json_object_get(j, "elements");
    size_t n = json_array_size(eis);
    inst->eis = bpm_xcalloc(n ? n : 1, sizeof *inst->eis);
    inst->cap_eis = n ? n : 1;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(eis, i);
        bpm_ei *x = &inst->eis[inst->n_eis];
        const char *node = json_string_value(json_object_get(e, "node"));
        const char *via = json_string_value(json_object_get(e, "via"));
        int s = INDEX_OF(ei_states, json_string_value(json_object_get(e, "state")));
        const char *kind = json_string_value(json_object_get(e, "kind"));
        int k = kind ? INDEX_OF(ei_kinds, kind) : BPM_EI_NODE;
        if (!get_u32(e, "id", &x->id) || (json_object_get(e, "parent") && !get_u32(e, "parent", &x->parent)) ||
            s < 0 || k < 0) {
            rc = bad(err, "element instance", i);
            goto fail;
        }
        x->state = (uint8_t)s;
        x->kind = (uint8_t)k;
        x->node = node ? bpm_model_find_node(p, node) : NULL;
        if ((node && !x->node) || (!node && k != BPM_EI_PROCESS)) {
            rc = bpm_err_set(err, BPM_INVALID, "instance state names element \"%s\", which process \"%s\" does not have",
                             node ? node : "", p->id);
            goto fail;
        }
        x->via = via ? bpm_model_find_flow(p, via) : NULL;
        x->interrupted = json_is_true(json_object_get(e, "interrupted"));
        x->phase = (uint8_t)json_integer_value(json_object_get(e, "phase"));
        json_t *vars = json_object_get(e, "vars");
        x->vars = json_is_object(vars) ? json_incref(vars) : NULL;
        x->loop_counter = (int32_t)json_integer_value(json_object_get(e, "loopCounter"));
        x->nr_instances = (int32_t)json_integer_value(json_object_get(e, "nrOfInstances"));
        x->nr_active = (int32_t)json_integer_value(json_object_get(e, "nrOfActiveInstances"));
        x->nr_completed = (int32_t)json_integer_value(json_object_get(e, "nrOfCompletedInstances"));
        x->entered_ms = json_integer_value(json_object_get(e, "entered"));
        inst->n_eis++;
        if (i && x->id <= inst->eis[inst->n_eis - 2].id) {
            rc = bad(err, "element instances out of order", i);
            goto fail;
        }
    }
    json_t *waits = json_object_get(j, "waits");
    n = json_array_size(waits);
    inst->waits = bpm_xcalloc(n ? n : 1, sizeof *inst->waits);
    inst->cap_waits = n ? n : 1;
    for (size_t i = 0; i < n; i++) {
        json_t *w = json_array_get(waits, i);
        bpm_wait *x = &inst->waits[inst->n_waits];
        const char *node = json_string_value(json_object_get(w, "node"));
        int k = INDEX_OF(wait_kinds, json_string_value(json_object_get(w, "kind")));
        x->node = node ? bpm_model_find_node(p, node) : NULL;
        if (!get_u32(w, "id", &x->id) || !get_u32(w, "ei", &x->ei) || k < 0 || !x->node) {
            rc = bad(err, "wait", i);
            goto fail;
        }
        x->kind = (uint8_t)k;
        x->async_point = (uint8_t)json_integer_value(json_object_get(w, "asyncPoint"));
        x->interrupting = json_is_true(json_object_get(w, "interrupting"));
        x->name = bpm_arena_strdup(inst->arena, json_string_value(json_object_get(w, "name")));
        x->key = bpm_arena_strdup(inst->arena, json_string_value(json_object_get(w, "key")));
        x->timer = bpm_arena_strdup(inst->arena, json_string_value(json_object_get(w, "timer")));
        x->due_ms = json_integer_value(json_object_get(w, "due"));
        x->start_ms = json_integer_value(json_object_get(w, "start"));
        get_u32(w, "fired", &x->fired);
        json_t *data = json_object_get(w, "data");
        x->data = data && !json_is_null(data) ? json_incref(data) : NULL;
        inst->n_waits++;
    }
    json_t *comps = json_object_get(j, "compensations");
    n = json_array_size(comps);
    inst->comps = bpm_xcalloc(n ? n : 1, sizeof *inst->comps);
    inst->cap_comps = n ? n : 1;
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(comps, i);
        bpm_comp *x = &inst->comps[inst->n_comps];
        const char *node = json_string_value(json_object_get(c, "node"));
        x->node = node ? bpm_model_find_node(p, node) : NULL;
        if (!x->node || !get_u32(c, "ei", &x->ei) || !get_u32(c, "scope", &x->scope) || !get_u32(c, "seq", &x->seq)) {
            rc = bad(err, "compensation record", i);
            goto fail;
        }
        json_t *vars = json_object_get(c, "vars");
        x->vars = json_is_object(vars) ? json_incref(vars) : NULL;
        inst->n_comps++;
    }
    *out = inst;
    return BPM_OK;
fail:
    bpm_inst_free(inst);
    return rc;
}
