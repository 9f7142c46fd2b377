/* A user task changing hands, for the REST API and bpmnctl alike: claim,
 * unclaim, setAssignee, delegate, resolve. A task whose element has an
 * "assignment" task listener changes through the engine (BPM_CMD_ASSIGN:
 * the listeners run in the step, their effects are written with the
 * change, a failing one changes nothing); any other task keeps the cheap
 * way, one statement on its row and its history row. */
#ifndef BPM_TASKS_H
#define BPM_TASKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "pg.h"
#include "pgstore.h"
#include "runtime.h"

/* How the assignee changes (Camunda 7 TaskService); names the history row
 * (task-claim, task-unclaim, task-assign, task-delegate, task-resolve). */
typedef enum bpm_task_change {
    BPM_TASK_CLAIM = 0, /* refused while someone else holds the task; its holder again changes nothing */
    BPM_TASK_UNCLAIM,   /* nobody */
    BPM_TASK_ASSIGN,    /* setAssignee: whoever holds it */
    BPM_TASK_DELEGATE,  /* the owner stays (or becomes) who held it, the delegation is pending */
    BPM_TASK_RESOLVE,   /* back to the owner, the delegation is resolved */
} bpm_task_change;

/* An open user task as its row says. */
typedef struct bpm_task_row {
    char id[BPM_ID_SIZE];
    char instance_id[BPM_ID_SIZE];
    uint32_t wait;
    char definition_id[256];
    char element_id[256];
    bool has_assignee, has_owner;
    char assignee[256];
    char owner[256];
} bpm_task_row;

/* Reads the open user task `id` into *out (OUT). BPM_NOT_FOUND when there is
 * none (completed, cancelled, or never there). */
bpm_rc bpm_tasks_find(bpm_pg *pg, const char *id, bpm_task_row *out, bpm_err *err);

/* Changes the assignee of task t (as the caller read it) to user (NULL:
 * nobody; ignored by UNCLAIM and RESOLVE, which sets the owner), after
 * setting vars (borrowed, may be NULL) where the task sees them, in one
 * transaction with its history row (acting user: actor, else user). rt
 * must run on s. When the task's element has "assignment" task listeners,
 * or there are variables, the change is a step of the engine's. Returns
 * BPM_OK; BPM_NOT_FOUND when the task is gone; BPM_CONFLICT when a claim
 * finds someone else holding the task ("already claimed by") or the
 * instance is suspended; BPM_INVALID when a listener failed ("assignment
 * listener at \"El\" failed: ...", err->where the element): nothing was
 * written then. */
bpm_rc bpm_tasks_assign(bpm_pgstore *s, const bpm_runtime *rt, const bpm_task_row *t, bpm_task_change change,
                        const char *user, const json_t *vars, const char *actor, int64_t now_ms, bpm_err *err);

#endif
