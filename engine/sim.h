/* The in-memory runtime: the step function with a store that is a list of
 * instances in memory and a virtual clock. It applies the effects a durable
 * store would apply (child instances, signals, messages, timers), so unit
 * tests, `bpmnctl simulate` and `bpmnctl test` run diagrams exactly as the
 * engine would, without a database. Single-threaded. */
#ifndef BPM_SIM_H
#define BPM_SIM_H

#include <jansson.h>
#include <stdio.h>

#include "exec.h"

typedef struct bpm_sim bpm_sim;

/* One line of the trace: what happened, where, in which instance. */
typedef struct bpm_sim_event {
    bpm_effect_kind kind;
    const char *instance; /* instance id */
    const char *element;  /* node id, or NULL for the process */
    const char *type;     /* node kind name ("userTask") or "process" */
    const char *detail;   /* incident message, variable name, flow id; PUBLISH: the payload (JSON text) */
    int64_t at_ms;
} bpm_sim_event;

/* New runtime over model m (borrowed; must outlive the runtime), clock at
 * now_ms, evaluator ev (borrowed, may be NULL for diagrams without
 * expressions). Free with bpm_sim_free(). */
bpm_sim *bpm_sim_new(const bpm_model *m, const bpm_evaluator *ev, int64_t now_ms);
/* The same, but instances live in `backing` (e.g. PostgreSQL, with m
 * deployed there): every step goes through that store, and memory only
 * mirrors what was saved, for the trace and the inspection functions below.
 * Used to run scenarios through the durable runtime. */
#include "store.h"
bpm_sim *bpm_sim_new_durable(const bpm_model *m, const bpm_evaluator *ev, int64_t now_ms, bpm_store backing);
void bpm_sim_free(bpm_sim *s);

/* Starts process_id (NULL = the first executable process) at its none start
 * event, or at start_event when given. *out_id (may be NULL) receives the
 * new instance id (sim-owned). BPM_NOT_FOUND for an unknown process,
 * BPM_INVALID when the start itself hit an incident (see incidents). */
bpm_rc bpm_sim_start(bpm_sim *s, const char *process_id, const char *start_event, const json_t *vars,
                     const char *business_key, const char **out_id, bpm_err *err);

/* Completes the first open user task, job, or async continuation at element
 * (optionally in instance `instance`). BPM_NOT_FOUND when none waits there. */
bpm_rc bpm_sim_complete(bpm_sim *s, const char *element, const char *instance, const json_t *vars, bpm_err *err);
/* The connector call waiting at element got an answer, as the job executor
 * would report it (docs/connectors.md): status >= 100 an HTTP response with
 * body (borrowed, NULL = none) and no headers; status 0 no response, with
 * failure as its code ("TIMEOUT", "UNREACHABLE"). A status of 400 or more
 * and no response are failed calls, which the diagram may map to a BPMN
 * error; otherwise an incident (the job's retries used up). */
bpm_rc bpm_sim_respond(bpm_sim *s, const char *element, int status, const json_t *body, const char *failure,
                       bpm_err *err);
/* The job or task at element failed for good (retries used up): an
 * incident is recorded and nothing else changes. */
bpm_rc bpm_sim_fail(bpm_sim *s, const char *element, const char *message, bpm_err *err);
/* Throws a BPMN error from the job or task waiting at element. */
bpm_rc bpm_sim_throw(bpm_sim *s, const char *element, const char *code, const char *message, const json_t *vars,
                     bpm_err *err);
/* Correlates a message to one waiting subscription (name, optional key or
 * business key), else to a message start event. BPM_NOT_FOUND if nothing
 * matches (unless ttl_ms > 0: then it is buffered for the first subscription
 * that opens within ttl_ms); all=true delivers to every match. */
bpm_rc bpm_sim_correlate(bpm_sim *s, const char *name, const char *key, const char *business_key, const json_t *vars,
                         bool all, int64_t ttl_ms, bpm_err *err);
/* Broadcasts a signal to every subscription and signal start event. */
bpm_rc bpm_sim_signal(bpm_sim *s, const char *name, const json_t *vars, bpm_err *err);
/* Moves the clock forward, firing every timer that falls due, in due order. */
bpm_rc bpm_sim_advance(bpm_sim *s, int64_t ms, bpm_err *err);
/* Cancels every instance (or the one given). */
bpm_rc bpm_sim_cancel(bpm_sim *s, const char *instance, bpm_err *err);

int64_t bpm_sim_now(const bpm_sim *s);
/* Trace so far (sim-owned, valid until the next call). */
const bpm_sim_event *bpm_sim_trace(const bpm_sim *s, size_t *n);
/* The first instance started (the one scenarios talk about), or NULL. */
const bpm_inst *bpm_sim_main(const bpm_sim *s);
size_t bpm_sim_count(const bpm_sim *s);
const bpm_inst *bpm_sim_instance(const bpm_sim *s, size_t i);
/* Number of incidents raised so far. */
size_t bpm_sim_incidents(const bpm_sim *s);
/* Element ids with a live token in the main instance (waiting ones), sorted;
 * returned as a JSON array (new reference). */
json_t *bpm_sim_active(const bpm_sim *s);
/* The open waits of every instance: [{instance, element, kind, name, due}]. */
json_t *bpm_sim_waits(const bpm_sim *s);

#endif
