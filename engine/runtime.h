/* The runtime: turns the commands of every adapter (start, complete, correlate,
 * signal, fire timers, cancel...) into transactions through the store port.
 * One call is one transaction: lock the instance, run the step function, save
 * the new state and effects, then route what the step threw at other
 * instances (signals, messages, called processes, a child's end) in the same
 * transaction, so a rolled-back step leaves no trace anywhere. */
#ifndef BPM_RUNTIME_H
#define BPM_RUNTIME_H

#include <jansson.h>
#include <stdbool.h>

#include "exec.h"
#include "ports.h"
#include "store.h"

typedef struct bpm_runtime {
    bpm_store store;
    const bpm_evaluator *eval;
    size_t max_moves; /* per step; 0 = the step function's default */
    /* Job execution: a step ending in an incident rolls the whole command
     * back and returns BPM_INVALID without recording the incident, so the
     * job executor can count a retry instead (Camunda's failed-job retries). */
    bool incidents_fail;
} bpm_runtime;

/* Starts an instance of definition_id at its none start event (or at
 * start_event). out_id (may be NULL) receives the new id. BPM_INVALID with
 * the incident's text when the start itself fails (nothing is stored). */
bpm_rc bpm_runtime_start(const bpm_runtime *rt, const char *definition_id, const char *start_event, const json_t *vars,
                         const char *business_key, const char *user, int64_t now_ms, char *out_id, bpm_err *err);

/* Runs one command on one instance (complete, trigger, error, escalate,
 * cancel, suspend, resume, modify). An incident is recorded and reported as
 * BPM_INVALID; the instance stays as it was. A cmd->operation goes into the
 * history in the same transaction, with user. */
bpm_rc bpm_runtime_run(const bpm_runtime *rt, const char *instance_id, const bpm_cmd *cmd, const char *user,
                       int64_t now_ms, bpm_err *err);

/* One command of a batch: cmd on instance_id at now_ms. */
typedef struct bpm_runtime_item {
    const char *instance_id;
    bpm_cmd cmd;
    int64_t now_ms;
} bpm_runtime_item;

/* Runs n commands, as bpm_runtime_run() would one after another, in ONE
 * transaction (the job executor's due jobs: one commit for all of them).
 * All or nothing: when one of them fails in any way (an incident, a wait
 * gone, a conflict, the database), everything is rolled back and the code
 * is returned with *failed (may be NULL) the index of the command that
 * failed; the caller then runs them one by one to learn each outcome. */
bpm_rc bpm_runtime_run_all(const bpm_runtime *rt, const bpm_runtime_item *items, size_t n, size_t *failed,
                           bpm_err *err);

/* One instruction of a process instance modification, by element id. */
typedef struct bpm_modification {
    bpm_cmd_kind kind;   /* BPM_CMD_MODIFY_CANCEL, _START_BEFORE or _START_AFTER */
    const char *element; /* the element's id in the instance's process */
    json_t *vars;        /* borrowed: variables of a started token, or NULL */
} bpm_modification;

/* Camunda 7's process instance modification: the n instructions applied in
 * order to one instance in one step and one transaction, recorded in the
 * history as the operation "modify" by user. BPM_NOT_FOUND naming the
 * element when one is not in the instance's process, BPM_CONFLICT for an
 * ended or suspended instance, BPM_INVALID naming the element when an
 * instruction cannot run (a failing script, no single flow to start after;
 * no incident is recorded): in each case nothing is written. */
bpm_rc bpm_runtime_modify(const bpm_runtime *rt, const char *instance_id, const bpm_modification *mods, size_t n,
                          const char *user, int64_t now_ms, bpm_err *err);

/* Delivers a message: to waiting subscriptions (name, key and/or business
 * key), else to message start events. all=false: exactly one target
 * (BPM_CONFLICT when several). When nothing matches: with ttl_ms > 0 the
 * message is buffered and delivered to the first subscription that opens
 * within ttl_ms (send-before-wait loses nothing; *delivered is 0); without,
 * BPM_NOT_FOUND. *delivered (may be NULL) counts the targets. */
bpm_rc bpm_runtime_correlate(const bpm_runtime *rt, const char *name, const char *key, const char *business_key,
                             const json_t *vars, bool all, int64_t ttl_ms, int64_t now_ms, size_t *delivered,
                             bpm_err *err);

/* Broadcasts a signal to every subscription and signal start event. */
bpm_rc bpm_runtime_signal(const bpm_runtime *rt, const char *name, const json_t *vars, int64_t now_ms,
                          size_t *delivered, bpm_err *err);

/* Fires due timers (at most max; 0 = all), earliest first, each in its own
 * transaction. *fired (may be NULL) counts them. */
bpm_rc bpm_runtime_fire_timers(const bpm_runtime *rt, int64_t now_ms, size_t max, size_t *fired, bpm_err *err);

#endif
