/* Shared inside the executor: the run context of one step and the helpers
 * the node families (node_*.c) call. Element instances are always named by
 * id, never held by pointer across a call that may add one (the array grows). */
#ifndef BPM_EXEC_INT_H
#define BPM_EXEC_INT_H

#include <stdbool.h>

#include "exec.h"

typedef struct bpm_run {
    const bpm_model *m;
    const bpm_process *p;
    bpm_inst *inst; /* the working copy */
    const bpm_env *env;
    bpm_effects *fx;
    bpm_arena *arena; /* step arena */
    uint32_t *agenda; /* ei ids to enter, FIFO */
    size_t head, n_agenda, cap_agenda;
    size_t moves, max_moves;
    bool failed;
    const bpm_node *fail_node;
    char fail_msg[768];
    uint32_t fail_ei;
    const json_t *task; /* while task listeners run: what scripts see as `task` */
} bpm_run;

/* Each element family has one ops table (node_event.c, node_gateway.c,
 * node_task.c, node_scope.c). */
typedef struct bpm_node_ops {
    /* A token arrived: do the node's work; either complete it
     * (bpm_run_complete), park it (open waits), or fail the run. */
    void (*enter)(bpm_run *r, uint32_t ei);
    /* One of the node's own waits fired (task completed, message came...). */
    void (*trigger)(bpm_run *r, uint32_t ei, uint32_t wait, const bpm_cmd *cmd);
    /* Choose the outgoing flows when the node completes (NULL = the activity
     * rule: every flow whose condition holds, else the default). */
    void (*leave)(bpm_run *r, uint32_t ei);
} bpm_node_ops;

extern const bpm_node_ops bpm_node_event_ops;
extern const bpm_node_ops bpm_node_gateway_ops;
extern const bpm_node_ops bpm_node_task_ops;
extern const bpm_node_ops bpm_node_scope_ops;
const bpm_node_ops *bpm_run_ops(const bpm_node *n);
/* The implementation of a service-like element (n->service, not NONE): an
 * expression completes it at once, anything else parks it on a job wait;
 * bpm_run_service_done maps that job's outcome as a service task's and
 * completes it (node_task.c). Message throw and end events that carry an
 * implementation run through these. */
void bpm_run_service(bpm_run *r, uint32_t ei, const bpm_node *n);
void bpm_run_service_done(bpm_run *r, uint32_t ei, uint32_t wait, const bpm_cmd *cmd);
/* Fires a waiting inclusive or complex join that no token can reach any
 * more; true when one fired (node_gateway.c). */
bool bpm_node_gateway_settle(bpm_run *r);

/* ---- failure: the step becomes an incident --------------------------------- */
void bpm_run_fail(bpm_run *r, uint32_t ei, const bpm_node *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- effects ------------------------------------------------------------------ */
bpm_effect *bpm_run_effect(bpm_run *r, bpm_effect_kind k, uint32_t ei, const bpm_node *n);

/* ---- element instances and waits (exec_state.c) ------------------------------ */
bpm_ei *bpm_run_ei(bpm_run *r, uint32_t id); /* NULL when gone */
/* New element instance of node n in scope `parent`, state READY. */
uint32_t bpm_run_new_ei(bpm_run *r, uint32_t parent, const bpm_node *n, bpm_ei_kind kind, const bpm_flow *via);
/* Queues ei to be entered. */
void bpm_run_schedule(bpm_run *r, uint32_t ei);
/* Marks ei done and removes it (its waits must be closed). */
void bpm_run_drop_ei(bpm_run *r, uint32_t ei);
uint32_t bpm_run_open_wait(bpm_run *r, uint32_t ei, const bpm_node *n, bpm_wait_kind kind);
void bpm_run_close_wait(bpm_run *r, uint32_t wait);
/* Closes every wait owned by ei (not by its children). */
void bpm_run_close_waits_of(bpm_run *r, uint32_t ei);
/* Closes the waits a scope holds for what happens inside it (its event
 * subprocesses' start events), keeping those of the boundary events attached
 * to the scope itself: an interrupting event subprocess ends the inside of a
 * subprocess, not the subprocess. */
void bpm_run_close_scope_waits(bpm_run *r, uint32_t scope);
/* Live child element instances of scope (not DONE). */
size_t bpm_run_count_children(bpm_run *r, uint32_t scope);

/* ---- variables (exec_state.c) ------------------------------------------------- */
json_t *bpm_run_get_var(bpm_run *r, uint32_t ei, const char *name);
/* Sets name (value stolen): where it is visible, else in the process scope. */
void bpm_run_set_var(bpm_run *r, uint32_t ei, const char *name, json_t *value);
/* Sets name (value stolen) in ei's own local scope. */
void bpm_run_set_local(bpm_run *r, uint32_t ei, const char *name, json_t *value);
/* Sets every key of obj (borrowed) with set_var / set_local. */
void bpm_run_set_vars(bpm_run *r, uint32_t ei, const json_t *obj, bool local);
/* The variable scope for ei's scripts: its evaluator view. */
bpm_vars bpm_run_vars(bpm_run *r, uint32_t ei, void *storage);
#define BPM_RUN_VARS_STORAGE 32

/* ---- evaluation (exec_eval.c) --------------------------------------------------- */
/* Evaluates e at ei; *out new reference. false = failed (run failed). */
bool bpm_run_eval(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_expr *e, bpm_eval_use use, json_t **out);
/* Evaluates e at ei and hands back the outcome as it is: a BPMN error or
 * escalation raised by a script is in *res (res->value new, or NULL) for the
 * caller to route. false = the run failed. */
bool bpm_run_eval_outcome(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_expr *e, bpm_eval_use use,
                          bpm_eval_result *res);
/* Condition: absent = true. */
bool bpm_run_condition(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_expr *e, bool *out);
/* Evaluates e to a string (numbers printed), NULL for null; in the step arena. */
bool bpm_run_eval_string(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_expr *e, const char **out);
/* Runs a script body; BPMN errors thrown by it are propagated. Returns false
 * when the run failed or the error was thrown (ei may be gone). */
bool bpm_run_script(bpm_run *r, uint32_t ei, const bpm_node *n, const bpm_expr *body, const char *result_var);
/* Applies input mappings (into ei's local scope) / output mappings (out of it). */
bool bpm_run_inputs(bpm_run *r, uint32_t ei);
bool bpm_run_outputs(bpm_run *r, uint32_t ei);
/* Runs execution listeners of `event` ("start", "end", "take"). */
bool bpm_run_listeners(bpm_run *r, uint32_t ei, const bpm_node *n, const char *event);

/* ---- token movement (exec_flow.c) --------------------------------------------- */
/* Enters ei now (agenda pop). */
void bpm_run_enter(bpm_run *r, uint32_t ei);
/* The node of ei is done: outputs, listeners, compensation record, boundary
 * waits closed, outgoing flows chosen by the family, ei removed. */
void bpm_run_complete(bpm_run *r, uint32_t ei);
/* Leaves ei through the given flow: a new token in the same scope. */
void bpm_run_take(bpm_run *r, uint32_t from_ei, const bpm_flow *f);
/* The activity rule for leaving: conditional flows that hold, else default. */
void bpm_run_leave_activity(bpm_run *r, uint32_t ei);
/* A scope may have run out of tokens: complete it if so. */
void bpm_run_scope_check(bpm_run *r, uint32_t scope);
/* Cancels ei and everything inside it (waits closed, FX_CANCEL). */
void bpm_run_terminate(bpm_run *r, uint32_t ei);
/* Starts a scope's content: its none start event, event-subprocess waits. */
void bpm_run_start_scope(bpm_run *r, uint32_t scope, const bpm_node *start);
/* Throws a BPMN error / escalation from ei; false when uncaught (run failed
 * for errors; escalations only report). */
bool bpm_run_throw_error(bpm_run *r, uint32_t ei, const char *code, const char *message);
void bpm_run_throw_escalation(bpm_run *r, uint32_t ei, const char *code);
/* Compensation of the activities completed in scope `from` (node = one
 * activity, or NULL = all), the handlers started as tokens in scope `into`. */
void bpm_run_compensate(bpm_run *r, uint32_t from, const bpm_node *node, uint32_t into);
/* Opens the waits of boundary events of an activity instance. */
bool bpm_run_open_boundaries(bpm_run *r, uint32_t ei);
/* Opens the wait(s) for a catching event definition on node, owned by ei. */
bool bpm_run_subscribe(bpm_run *r, uint32_t ei, const bpm_node *n, bool interrupting);
/* Fires one of the instance's own waits (a message, signal, timer or
 * condition wait) from inside the step, as the TRIGGER command would. */
void bpm_run_trigger(bpm_run *r, uint32_t wait, json_t *vars);
/* The element instance that owns the scope ei runs in. */
uint32_t bpm_run_scope_of(bpm_run *r, uint32_t ei);


/* ---- appended: activities and scopes ------------------------------------------ */
/* Evaluates a value expression e for node n at ei, but against the variables
 * of the JSON object `vars` (borrowed; a called instance's final variables)
 * instead of ei's scopes; writes the expression makes are discarded.
 * *out new reference. false = failed (run failed). */
bool bpm_run_eval_over(bpm_run *r, uint32_t ei, const bpm_node *n, const json_t *vars, const bpm_expr *e,
                       json_t **out);

/* A call activity's called instance ended (or ended with a BPMN error that
 * the caller catches): applies camunda:out / zeebe propagation from the
 * called instance's final variables `vars` (borrowed) to ei (node_scope.c).
 * false = the run failed. */
bool bpm_run_call_outputs(bpm_run *r, uint32_t ei, const json_t *vars);

/* Whether the results of element n (a job's or user task's completion
 * variables, a script's resultVariable) are local to it: Camunda 8 semantics
 * when it has zeebe output mappings (components/concepts/variables "Output
 * mappings"); Camunda 7 sets them where visible. */
bool bpm_run_results_local(const bpm_node *n);

/* Runs the process-level execution listeners of `event` ("start", "end") on
 * the root element instance (exec_eval.c). */
bool bpm_run_process_listeners(bpm_run *r, uint32_t root, const char *event);
/* Runs the task listeners of a user task for `event` ("create", "assignment",
 * "complete", "delete"); false when the run failed or a BPMN error thrown by
 * a listener removed the task (exec_eval.c). Scripts see the task as `task`,
 * made from data (borrowed: the task's wait data, for a wait already
 * closed), or NULL: the open user task wait of ei. */
bool bpm_run_task_listeners(bpm_run *r, uint32_t ei, const char *event, const json_t *data);

#endif
