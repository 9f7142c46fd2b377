/* Deploy-time compilation: every expression and script of a model goes
 * through the evaluator once, so a broken condition or an unsupported JUEL
 * construct is a deploy error naming the element, and running a step never
 * parses anything. */
#ifndef BPM_COMPILE_H
#define BPM_COMPILE_H

#include "diag.h"
#include "model.h"
#include "ports.h"

/* Compiles every expression of every executable process of m through ev,
 * storing the handles in the expressions (model arena). Call it once, after
 * building and before the model is shared between threads. Problems become
 * error diagnostics with the element id and line. Returns BPM_OK when all
 * compiled, BPM_INVALID otherwise. */
bpm_rc bpm_compile_model(bpm_model *m, const bpm_evaluator *ev, bpm_diags *diags);

/* Calls fn for every expression of process p with the use it is evaluated
 * for and the id of the element (node, flow or message) it belongs to. */
void bpm_compile_each(const bpm_process *p,
                      void (*fn)(void *arg, const bpm_expr *e, bpm_eval_use use, const char *element),
                      void *arg);

#endif
