/* The fixture test_lua_eval.c and test_lua_sandbox.c share: one evaluator
 * (bpm_scripts) with a model and a step arena, and process variables kept in
 * a Jansson object. Header-only, as each tests/unit/test_*.c builds into its
 * own executable from that one file. */
#ifndef BPM_TEST_LUA_TEST_UTIL_H
#define BPM_TEST_LUA_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <stdlib.h>
#include <string.h>

#include "scripts.h"

typedef struct fx {
    bpm_scripts *s;
    bpm_arena *model;
    bpm_arena *step;
    json_t *vars_obj;
    bpm_vars vars;
    bpm_eval_call call;
} fx;

static inline json_t *vget(void *ctx, const char *name)
{
    return json_object_get(ctx, name);
}

/* Every variable can be written but "readonly", which tests a refused
 * write. */
static inline bpm_rc vset(void *ctx, const char *name, json_t *v, bpm_err *err)
{
    if (strcmp(name, "readonly") == 0) {
        json_decref(v);
        return bpm_err_set(err, BPM_CONFLICT, "variable \"%s\" is read-only", name);
    }
    json_object_set_new(ctx, name, v);
    return BPM_OK;
}

static inline void veach(void *ctx, void (*fn)(void *, const char *, json_t *), void *arg)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ctx, k, v) fn(arg, k, v);
}

static const bpm_vars_ops vars_ops = {.get = vget, .set = vset, .set_local = vset, .each = veach};

/* A new fixture in *state whose variables are vars_obj (stolen). -1 when
 * the evaluator cannot be created. */
static inline int fx_setup(void **state, json_t *vars_obj)
{
    fx *f = calloc(1, sizeof *f);
    bpm_err err;
    f->s = bpm_scripts_new(NULL, &err);
    if (!f->s)
        return -1;
    f->model = bpm_arena_new();
    f->step = bpm_arena_new();
    f->vars_obj = vars_obj;
    f->vars = (bpm_vars){&vars_ops, f->vars_obj};
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    fx *f = *state;
    bpm_scripts_free(f->s);
    bpm_arena_free(f->model);
    bpm_arena_free(f->step);
    json_decref(f->vars_obj);
    free(f);
    return 0;
}

#endif
