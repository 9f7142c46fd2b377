/* Instance state: the "state tree" a step mutates, beside the read-only model.
 * An instance is a set of element instances (bpm_ei) forming a tree of scopes
 * (the process, subprocesses, multi-instance bodies, event subprocesses) and
 * a set of waits (bpm_wait: user tasks, jobs, message/signal subscriptions,
 * timers, called children) that tie element instances to the outside world.
 * Ids are small integers unique within the instance and never reused, so a
 * step is deterministic and the store can key rows by (instance, id). */
#ifndef BPM_INST_H
#define BPM_INST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "model.h"

typedef enum bpm_ei_state {
    BPM_EI_READY = 0, /* created, about to be entered */
    BPM_EI_ACTIVE,    /* running (a scope with children, or mid-step) */
    BPM_EI_WAITING,   /* parked until a wait of its own fires */
    BPM_EI_JOINING,   /* a token parked at a joining gateway */
    BPM_EI_DONE,      /* completed or terminated; removed at the end of the step */
} bpm_ei_state;

typedef enum bpm_ei_kind {
    BPM_EI_PROCESS = 0, /* the root: the process instance itself */
    BPM_EI_NODE,        /* an ordinary flow node instance */
    BPM_EI_MI_BODY,     /* the multi-instance body around the iterations */
    BPM_EI_EVENT_SCOPE, /* an event subprocess instance */
} bpm_ei_kind;

/* Progress flags of an element instance, so a continuation resumes where it
 * stopped (after an async job, or at an event that already happened). */
typedef enum bpm_ei_phase {
    BPM_PHASE_PAST_BEFORE = 1, /* the asyncBefore continuation ran */
    BPM_PHASE_TRIGGERED = 2,   /* its event already happened (event gateway) */
    BPM_PHASE_PAST_AFTER = 4,  /* the asyncAfter continuation ran */
    BPM_PHASE_INNER = 8,       /* one iteration of a multi-instance body */
} bpm_ei_phase;

typedef struct bpm_ei {
    uint32_t id;
    uint32_t parent;      /* enclosing scope's ei id; 0 for the root */
    const bpm_node *node; /* NULL for the root */
    uint8_t state;        /* bpm_ei_state */
    uint8_t kind;         /* bpm_ei_kind */
    bool interrupted;     /* an interrupting event took over this scope */
    uint8_t phase;        /* bpm_ei_phase bits: how far the node has got */
    const bpm_flow *via;  /* the flow the token arrived through */
    json_t *vars;         /* local variables (object) or NULL; owned */
    /* multi-instance and loops */
    int32_t loop_counter; /* iteration index (inner) or next index (body) */
    int32_t nr_instances;
    int32_t nr_active;
    int32_t nr_completed;
    int64_t entered_ms;
} bpm_ei;

typedef enum bpm_wait_kind {
    BPM_WAIT_USER_TASK = 0,
    BPM_WAIT_JOB,       /* external task, connector call, zeebe job */
    BPM_WAIT_ASYNC,     /* asyncBefore/asyncAfter continuation */
    BPM_WAIT_MESSAGE,
    BPM_WAIT_TIMER,
    BPM_WAIT_SIGNAL,
    BPM_WAIT_CONDITION, /* conditional events, re-checked on variable changes */
    BPM_WAIT_CHILD,     /* a called process instance */
} bpm_wait_kind;

typedef enum bpm_async_point {
    BPM_ASYNC_BEFORE = 0,
    BPM_ASYNC_AFTER,
} bpm_async_point;

/* Something outside the step must happen before the instance moves on. */
typedef struct bpm_wait {
    uint32_t id;
    uint32_t ei;          /* the element instance that waits (the host for boundaries) */
    const bpm_node *node; /* the node whose event or task this is */
    uint8_t kind;         /* bpm_wait_kind */
    uint8_t async_point;  /* BPM_WAIT_ASYNC */
    bool interrupting;    /* boundary / event-subprocess start */
    const char *name;     /* message or signal name, job topic/type (instance arena) */
    const char *key;      /* message correlation key, or NULL */
    int64_t due_ms;       /* timers */
    int64_t start_ms;     /* timers: when the cycle started */
    uint32_t fired;       /* timers: cycle occurrences so far */
    const char *timer;    /* timers: the evaluated timer value */
    json_t *data;         /* user task details / job payload, or NULL; owned */
} bpm_wait;

/* A completed activity with a compensation handler, remembered so a later
 * compensation can undo it (BPMN 2.0.2 §10.6.7). */
typedef struct bpm_comp {
    uint32_t ei;          /* the completed activity's own ei (a subprocess's
                             records name it as their scope) */
    uint32_t scope;       /* the ei of the scope the activity completed in */
    const bpm_node *node; /* the compensated activity */
    uint32_t seq;         /* completion order */
    json_t *vars;         /* the activity's local variables at completion */
} bpm_comp;

typedef enum bpm_inst_state {
    BPM_INST_ACTIVE = 0,
    BPM_INST_COMPLETED,
    BPM_INST_TERMINATED,
} bpm_inst_state;

typedef struct bpm_inst {
    bpm_arena *arena;        /* owns the arrays and strings below */
    const char *id;
    const char *business_key;
    const char *definition_id;
    const bpm_process *process;
    uint8_t state;           /* bpm_inst_state */
    bool suspended;
    uint32_t next_id;        /* next free ei/wait id */
    uint32_t comp_seq;
    bpm_ei *eis;
    size_t n_eis, cap_eis;
    bpm_wait *waits;
    size_t n_waits, cap_waits;
    bpm_comp *comps;
    size_t n_comps, cap_comps;
    const char *parent_instance; /* called by this instance, or NULL */
    uint32_t parent_wait;        /* the parent's BPM_WAIT_CHILD id */
} bpm_inst;

/* New empty instance (no element instances yet) of process p. Strings are
 * copied. Free with bpm_inst_free(). */
bpm_inst *bpm_inst_new(const bpm_process *p, const char *id, const char *business_key,
                       const char *definition_id);
void bpm_inst_free(bpm_inst *inst);
/* Deep copy (variables copied shallowly with copy-on-write semantics: a
 * scope's object is duplicated before its first change). */
bpm_inst *bpm_inst_clone(const bpm_inst *inst);

bpm_ei *bpm_inst_ei(const bpm_inst *inst, uint32_t id);
bpm_wait *bpm_inst_wait(const bpm_inst *inst, uint32_t id);
const bpm_ei *bpm_inst_root(const bpm_inst *inst);

/* Serialises the whole state to JSON (new reference) and back. from_json
 * resolves node ids against p; BPM_INVALID names what does not fit. */
json_t *bpm_inst_to_json(const bpm_inst *inst);
bpm_rc bpm_inst_from_json(const bpm_process *p, const json_t *j, bpm_inst **out, bpm_err *err);

#endif
