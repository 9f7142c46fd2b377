/* The step function: (model, state, command, env) -> (state', effects).
 * It advances every token until each one waits or ends, does no I/O and reads
 * no clock; everything it decides comes out as effects that the runtime
 * applies (in one database transaction for the durable store). On an
 * incident the instance is left exactly as it was and the only effect is the
 * incident itself. */
#ifndef BPM_EXEC_H
#define BPM_EXEC_H

#include <jansson.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "inst.h"
#include "model.h"
#include "ports.h"

typedef struct bpm_env {
    int64_t now_ms;          /* time is an input */
    const bpm_evaluator *eval;
    size_t max_moves;        /* budget against cycles without a wait; 0 = 10000 */
    uint64_t max_instructions; /* script budget per run; 0 = the evaluator's default */
    size_t max_memory;         /* script memory per run in bytes; 0 = the evaluator's default */
    const char *user;        /* acting user for history, or NULL */
} bpm_env;

typedef enum bpm_cmd_kind {
    BPM_CMD_START = 0,    /* start: node (a start event) or NULL = the none start */
    BPM_CMD_COMPLETE,     /* complete a user task, job, async continuation or child */
    BPM_CMD_TRIGGER,      /* a message, signal, timer or condition wait fired */
    BPM_CMD_ERROR,        /* a job threw a BPMN error: code, message */
    BPM_CMD_ESCALATE,     /* a job raised an escalation: code */
    BPM_CMD_CANCEL,       /* terminate the whole instance */
    BPM_CMD_SUSPEND,
    BPM_CMD_RESUME,
    BPM_CMD_MODIFY_CANCEL, /* cancel every token at node (a scope left empty is cancelled too) */
    BPM_CMD_MODIFY_START_BEFORE, /* start a token before node */
    BPM_CMD_MODIFY_START_AFTER,  /* start a token on node's outgoing flows */
    BPM_CMD_SET_VARS,     /* set vars / local_vars and delete `deletions` where a wait
                             sees them (wait 0: the process scope); no token moves */
    BPM_CMD_MODIFY,              /* instructions (MODIFY_* commands), in order, in one step */
    /* A user task's assignee changes (claim, unclaim, setAssignee, delegate,
     * resolve): wait, assignee, change; vars are set first where the task
     * sees them (a resolve with variables). When the assignee really
     * changes, the task's "assignment" listeners run (Camunda 7 fires the
     * event on every change, to null too, and not when it stays the same). */
    BPM_CMD_ASSIGN,
} bpm_cmd_kind;

typedef struct bpm_cmd {
    bpm_cmd_kind kind;
    uint32_t wait;          /* COMPLETE, TRIGGER, ERROR, ESCALATE */
    const bpm_node *node;   /* START, MODIFY_* */
    json_t *vars;           /* borrowed: variables to set (object) or NULL; COMPLETE of
                               a connector wait: the response {statusCode, response,
                               headers}, or NULL when none arrived */
    json_t *local_vars;     /* borrowed: local to the waiting element */
    const json_t *deletions; /* SET_VARS: borrowed array of variable names, or NULL */
    const char *code;       /* ERROR / ESCALATE; COMPLETE of a failed connector call:
                               "404", "TIMEOUT"... (docs/connectors.md) */
    /* ERROR / ESCALATE: the error's message. COMPLETE of a connector wait:
     * NULL when the call succeeded, else why it failed (HTTP status >= 400,
     * timeout, unreachable), with no secret in it. The diagram may map the
     * failure to a BPMN error (an output parameter calling bpmn.error, a
     * Camunda 8 errorExpression); otherwise the step fails with this text,
     * which the job executor counts as a failed attempt. */
    const char *message;
    /* MODIFY: the instructions, applied as Camunda 7's process instance
     * modification does: each start runs its token to its waits before the
     * next instruction; a scope that cancellations left empty is looked at
     * after the last one (so "cancel A, start before B" moves a token) and
     * is then cancelled, up to the instance itself (terminated) */
    const struct bpm_cmd *instructions;
    size_t n_instructions;
    /* An operator's action ("cancel", "modify"...) to put in the audit trail
     * with the acting user, or NULL: the step then opens its effects with
     * BPM_FX_OPERATION */
    const char *operation;
    /* ASSIGN: the new assignee (NULL: nobody); what kind of change it is,
     * named for the audit trail ("claim", "unclaim", "assign", "delegate",
     * "resolve"); a claim is refused with BPM_CONFLICT while someone else
     * holds the task */
    const char *assignee;
    const char *change;
    bool claim;
} bpm_cmd;

typedef enum bpm_effect_kind {
    BPM_FX_ENTER = 0,    /* element instance entered (history) */
    BPM_FX_LEAVE,        /* element instance completed (history) */
    BPM_FX_CANCEL,       /* element instance cancelled (history) */
    BPM_FX_TAKE,         /* sequence flow taken (history, trace) */
    BPM_FX_WAIT_OPEN,    /* a wait exists now: create its row */
    BPM_FX_WAIT_CLOSE,   /* a wait is gone: delete its row */
    BPM_FX_VAR,          /* a variable was set or deleted in scope ei */
    BPM_FX_SIGNAL,       /* broadcast a signal to other instances */
    BPM_FX_MESSAGE,      /* a message thrown to be correlated elsewhere */
    BPM_FX_START_CHILD,  /* a call activity starts a process */
    BPM_FX_END,          /* the instance ended (state says how) */
    BPM_FX_INCIDENT,     /* the step failed; nothing else happened */
    BPM_FX_ESCALATION,   /* an uncaught escalation (informational) */
    BPM_FX_OPERATION,    /* an operator's command: name = cmd->operation, value = its details (history) */
    /* A message for a broker, written to the transactional outbox with the
     * rest of the step and sent by the relay after the commit
     * (docs/messaging.md): name = the channel ("rabbitmq"), key = the
     * message id (fixed here, so a resend carries the same one), value =
     * {messageId, instanceId, element, exchange, routingKey, body,
     * properties?}. A step that fails publishes nothing. */
    BPM_FX_PUBLISH,
    /* A user task's assignee was set (ASSIGN): wait = its wait, name = the
     * new assignee (NULL: nobody), key = the previous one (NULL: nobody),
     * message = the kind of change (cmd->change). Written even when the
     * assignee stays the same, since a delegation or resolution changes the
     * task all the same. Comes before the effects of the assignment
     * listeners it ran. */
    BPM_FX_ASSIGN,
} bpm_effect_kind;

typedef struct bpm_effect {
    bpm_effect_kind kind;
    uint32_t ei;           /* element instance concerned */
    uint32_t parent;       /* ENTER: the ei of the enclosing scope (0: none) */
    bool mi_body;          /* ENTER: the multi-instance body around the iterations */
    const bpm_node *node;
    const bpm_flow *flow;  /* TAKE */
    uint32_t wait;         /* WAIT_OPEN/CLOSE, START_CHILD (the parent's wait) */
    const char *name;      /* VAR name; SIGNAL/MESSAGE name; START_CHILD process key; PUBLISH channel */
    const char *key;       /* MESSAGE correlation key; START_CHILD business key; PUBLISH message id */
    json_t *value;         /* VAR new value (NULL = deleted); SIGNAL/MESSAGE/START_CHILD/PUBLISH payload; owned */
    json_t *old_value;     /* VAR previous value or NULL; owned */
    const char *message;   /* INCIDENT text; END/ESCALATION detail */
    int64_t at_ms;
} bpm_effect;

typedef struct bpm_effects {
    bpm_arena *arena; /* borrowed: strings of the effects live here (the step arena) */
    bpm_effect *items;
    size_t n, cap;
} bpm_effects;

void bpm_effects_init(bpm_effects *fx, bpm_arena *arena);
/* Releases the JSON values the effects own (not the arena). */
void bpm_effects_cleanup(bpm_effects *fx);

/* Runs one command against *inst. On BPM_OK *inst is the new state (the old
 * one is freed) and fx holds what happened, in order. On an incident
 * (a failed script, no flow to take, an uncaught error, the move budget
 * exhausted) returns BPM_OK with *inst untouched and exactly one
 * BPM_FX_INCIDENT effect naming the element. Other codes (BPM_NOT_FOUND for
 * an unknown wait, BPM_CONFLICT for a suspended or ended instance,
 * BPM_BAD_REQUEST for bad variables) leave *inst untouched, add no effect and
 * fill err. Deterministic: same inputs, same outputs. */
bpm_rc bpm_exec_step(const bpm_model *m, bpm_inst **inst, const bpm_cmd *cmd, const bpm_env *env,
                     bpm_effects *fx, bpm_err *err);

/* The variable visible from element instance ei (borrowed), or NULL. */
json_t *bpm_exec_get_var(const bpm_inst *inst, uint32_t ei, const char *name);

const char *bpm_exec_effect_name(bpm_effect_kind k);

#endif
