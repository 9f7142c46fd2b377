/* The ports engine/ drives the outside world through: the evaluator (Lua and
 * the expression dialects, implemented by scripts/), and later the store and
 * the clock. engine/ never calls Lua, libpq or a clock directly. */
#ifndef BPM_PORTS_H
#define BPM_PORTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "model.h"

/* ---- variables seen by one evaluation ------------------------------------ */

typedef struct bpm_vars_ops {
    /* Borrowed value of the visible variable `name`, or NULL when undefined.
     * JSON null is a defined variable holding null. */
    json_t *(*get)(void *ctx, const char *name);
    /* Sets `name`, stealing `value`: updates the variable in the scope where
     * it is visible, else creates it where the caller decided (the process
     * scope for script tasks). */
    bpm_rc (*set)(void *ctx, const char *name, json_t *value, bpm_err *err);
    /* Sets `name` in the innermost scope, stealing `value`. */
    bpm_rc (*set_local)(void *ctx, const char *name, json_t *value, bpm_err *err);
    /* Calls fn once per visible variable, innermost scope first; a name
     * shadowed by an inner scope is reported once. Values are borrowed. */
    void (*each)(void *ctx, void (*fn)(void *arg, const char *name, json_t *value),
                 void *arg);
} bpm_vars_ops;

typedef struct bpm_vars {
    const bpm_vars_ops *ops;
    void *ctx;
} bpm_vars;

/* ---- the evaluator ------------------------------------------------------- */

typedef enum bpm_eval_use {
    BPM_USE_CONDITION = 0, /* must give a boolean */
    BPM_USE_VALUE,         /* any value: mappings, assignees, timer values */
    BPM_USE_SCRIPT,        /* a script body: statements; may set variables */
} bpm_eval_use;

/* Facts about the running element, exposed to scripts as `execution`. */
typedef struct bpm_eval_call {
    const char *instance_id;
    const char *business_key;
    const char *element_id;
    const char *definition_key;
    const char *definition_id;
    const char *tenant_id;
    /* A task listener's task (Camunda 7 DelegateTask), exposed to scripts
     * as `task`: {eventName, name, taskDefinitionKey, processInstanceId,
     * assignee, priority, dueDate, followUpDate, candidateUsers,
     * candidateGroups}, members without a value left out. Borrowed; NULL
     * outside task listeners. */
    const json_t *task;
    int64_t now_ms;             /* the step's time; scripts never read a clock */
    uint64_t max_instructions;  /* 0 = the evaluator's default */
    size_t max_memory;          /* bytes; 0 = the evaluator's default */
} bpm_eval_call;

typedef enum bpm_eval_outcome {
    BPM_EVAL_VALUE = 0,   /* normal completion; value may be NULL */
    BPM_EVAL_BPMN_ERROR,  /* bpmn.error(code, message) */
    BPM_EVAL_ESCALATION,  /* bpmn.escalation(code, message) */
} bpm_eval_outcome;

typedef struct bpm_eval_result {
    bpm_eval_outcome outcome;
    json_t *value;       /* new reference or NULL (the caller decrefs) */
    const char *code;    /* BPMN error/escalation code, in the step arena */
    const char *message; /* in the step arena, may be NULL */
} bpm_eval_result;

typedef struct bpm_eval_ops {
    /* Deploy time. Checks and translates expr for `use`; *out is an opaque
     * handle that lives in model_arena (so as long as the model). Returns
     * BPM_OK, or BPM_INVALID with err->msg saying what is wrong with the
     * expression (the caller adds element and line). */
    bpm_rc (*compile)(void *self, const bpm_expr *expr, bpm_eval_use use,
                      bpm_arena *model_arena, const void **out, bpm_err *err);
    /* Run time. Evaluates a handle from compile() against vars. Temporary
     * memory comes from step. BPM_SCRIPT on a failure in the script
     * (err->msg names the line, err->detail holds the traceback), BPM_LIMIT
     * when the instruction or memory budget ran out. */
    bpm_rc (*run)(void *self, const void *compiled, const bpm_eval_call *call,
                  const bpm_vars *vars, bpm_arena *step, bpm_eval_result *out,
                  bpm_err *err);
} bpm_eval_ops;

typedef struct bpm_evaluator {
    const bpm_eval_ops *ops;
    void *self;
} bpm_evaluator;

#endif
