/* W11-style micro benchmark of scripts/: condition evaluations per second on a
 * cached chunk, and script-task runs per second for a script setting three
 * variables, against an in-memory bpm_vars backed by a Jansson object.
 *   bench_lua [seconds-per-case]   (default 2) */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scripts.h"

static json_t *vget(void *ctx, const char *name)
{
    return json_object_get(ctx, name);
}

static bpm_rc vset(void *ctx, const char *name, json_t *v, bpm_err *err)
{
    (void)err;
    json_object_set_new(ctx, name, v);
    return BPM_OK;
}

static void veach(void *ctx, void (*fn)(void *, const char *, json_t *), void *arg)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ctx, k, v) fn(arg, k, v);
}

static const bpm_vars_ops vars_ops = {.get = vget, .set = vset, .set_local = vset, .each = veach};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct bench_case {
    const char *name;
    bpm_dialect dialect;
    bpm_eval_use use;
    const char *text;
} bench_case;

static const bench_case cases[] = {
    {"condition (Lua)     amount > 1000 and approved", BPM_DIALECT_LUA, BPM_USE_CONDITION,
     "amount > 1000 and approved"},
    {"condition (JUEL)    ${amount > 1000 && approved}", BPM_DIALECT_JUEL, BPM_USE_CONDITION,
     "${amount > 1000 && approved}"},
    {"condition (FEEL)    =amount > 1000 and approved", BPM_DIALECT_FEEL, BPM_USE_CONDITION,
     "amount > 1000 and approved"},
    {"value (Lua)         order.total * 1.2", BPM_DIALECT_LUA, BPM_USE_VALUE,
     "order.total * 1.2"},
    {"script task: 3 sets vars.a/b/c", BPM_DIALECT_LUA, BPM_USE_SCRIPT,
     "vars.a = amount * 2\nvars.b = 'approved by ' .. name\nvars.c = {amount = amount, ok = "
     "approved}"},
};

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    if (seconds <= 0)
        seconds = 2.0;
    bpm_err err;
    bpm_scripts *s = bpm_scripts_new(NULL, &err);
    if (!s) {
        fprintf(stderr, "bench_lua: %s\n", err.msg);
        return 1;
    }
    bpm_arena *model = bpm_arena_new(), *step = bpm_arena_new();
    json_t *obj = json_pack("{s:i,s:b,s:s,s:{s:f}}", "amount", 2500, "approved", 1, "name",
                            "ada", "order", "total", 99.5);
    bpm_vars vars = {&vars_ops, obj};
    bpm_eval_call call = {.instance_id = "inst-1", .element_id = "Gateway_1",
                          .now_ms = 1709280000000};

    printf("bench_lua: %.1f s per case, one thread, one evaluator\n", seconds);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const bench_case *c = &cases[i];
        bpm_expr e = {.text = c->text, .dialect = c->dialect};
        const void *h;
        if (bpm_scripts_compile(s, &e, c->use, model, &h, &err) != BPM_OK) {
            printf("%-52s  skipped: %s\n", c->name, err.msg);
            continue;
        }
        uint64_t n = 0;
        double start = now_s(), elapsed;
        do {
            for (int k = 0; k < 10000; k++) {
                bpm_eval_result r;
                if (bpm_scripts_run(s, h, &call, &vars, step, &r, &err) != BPM_OK) {
                    fprintf(stderr, "bench_lua: %s: %s\n", c->name, err.msg);
                    return 1;
                }
                json_decref(r.value);
            }
            bpm_arena_reset(step);
            n += 10000;
            elapsed = now_s() - start;
        } while (elapsed < seconds);
        printf("%-52s  %10.0f runs/s  %7.0f ns/run\n", c->name, (double)n / elapsed,
               elapsed * 1e9 / (double)n);
    }
    bpm_scripts_stats st;
    bpm_scripts_stats_get(s, &st);
    printf("state: %zu bytes, %zu cached chunks, %llu parses, %llu runs\n", st.memory_used,
           st.cached_chunks, (unsigned long long)st.chunk_loads, (unsigned long long)st.runs);
    json_decref(obj);
    bpm_scripts_free(s);
    bpm_arena_free(model);
    bpm_arena_free(step);
    return 0;
}
