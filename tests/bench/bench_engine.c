/* W1 (and W11 context): in-memory instances per second through the step
 * function, with the real Lua evaluator, and bytes per waiting instance.
 *   bench_engine run FILE [--n N] [--process ID]    straight-through instances
 *   bench_engine wait FILE [--n N]                   N instances parked at a wait
 * Prints one line per run: median of 5 rounds. A program that prints; never a test. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpmn.h"
#include "compile.h"
#include "exec.h"
#include "scripts.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const bpm_process *pick(const bpm_model *m, const char *id)
{
    for (size_t i = 0; i < m->n_processes; i++)
        if (id ? strcmp(m->processes[i].id, id) == 0 : m->processes[i].executable)
            return &m->processes[i];
    return NULL;
}

/* One instance from start to its end (or first wait); returns moves. */
static size_t run_one(const bpm_model *m, const bpm_process *p, const bpm_env *env, bpm_arena *a, long i,
                      bpm_inst **keep)
{
    char id[32];
    snprintf(id, sizeof id, "b%ld", i);
    bpm_inst *inst = bpm_inst_new(p, id, NULL, p->id);
    json_t *vars = json_pack("{s:I}", "i", (json_int_t)i);
    bpm_effects fx;
    bpm_effects_init(&fx, a);
    bpm_cmd cmd = {.kind = BPM_CMD_START, .vars = vars};
    bpm_err err = {0};
    if (bpm_exec_step(m, &inst, &cmd, env, &fx, &err) != BPM_OK || (fx.n && fx.items[fx.n - 1].kind == BPM_FX_INCIDENT)) {
        fprintf(stderr, "bench_engine: instance %ld failed: %s %s\n", i, err.msg,
                fx.n ? (fx.items[fx.n - 1].message ? fx.items[fx.n - 1].message : "") : "");
        exit(1);
    }
    size_t moves = 0;
    for (size_t k = 0; k < fx.n; k++)
        moves += fx.items[k].kind == BPM_FX_ENTER;
    bpm_effects_cleanup(&fx);
    json_decref(vars);
    if (keep)
        *keep = inst;
    else
        bpm_inst_free(inst);
    return moves;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_engine run|wait FILE [--n N] [--process ID]\n");
        return 2;
    }
    const char *mode = argv[1], *file = argv[2], *pid = NULL;
    long n = strcmp(mode, "wait") == 0 ? 10000 : 20000;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--n") == 0)
            n = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--process") == 0)
            pid = argv[i + 1];
    }
    bpm_diags d;
    bpm_diags_init(&d);
    bpm_model *m = NULL;
    if (bpm_bpmn_read_file(file, NULL, &m, &d, NULL) != BPM_OK || bpm_diags_has_errors(&d)) {
        fprintf(stderr, "bench_engine: %s does not validate\n", file);
        return 1;
    }
    bpm_scripts *scripts = bpm_scripts_new(NULL, NULL);
    bpm_evaluator ev = bpm_scripts_evaluator(scripts);
    if (bpm_compile_model(m, &ev, &d) != BPM_OK) {
        fprintf(stderr, "bench_engine: %s: expressions do not compile\n", file);
        return 1;
    }
    const bpm_process *p = pick(m, pid);
    bpm_env env = {.now_ms = 1767225600000LL, .eval = &ev};
    bpm_arena *a = bpm_arena_new();
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;

    if (strcmp(mode, "run") == 0) {
        double rates[5];
        size_t moves = 0;
        for (int round = 0; round < 5; round++) {
            double t0 = now_s();
            moves = 0;
            for (long i = 0; i < n; i++) {
                moves += run_one(m, p, &env, a, i, NULL);
                bpm_arena_reset(a);
            }
            rates[round] = n / (now_s() - t0);
        }
        qsort(rates, 5, sizeof *rates, cmp_double);
        printf("W1 in-memory %-28s %8ld instances  median %10.0f instances/s  (min %.0f max %.0f)  %.2f us per flow node\n",
               base, n, rates[2], rates[0], rates[4], 1e6 / (rates[2] * (double)moves / (double)n));
    } else {
        bpm_inst **keep = calloc((size_t)n, sizeof *keep);
        struct mallinfo2 before = mallinfo2();
        size_t state_bytes = 0;
        for (long i = 0; i < n; i++) {
            run_one(m, p, &env, a, i, &keep[i]);
            bpm_arena_reset(a);
        }
        struct mallinfo2 after = mallinfo2();
        for (long i = 0; i < n; i++) {
            json_t *j = bpm_inst_to_json(keep[i]);
            char *s = json_dumps(j, JSON_COMPACT);
            state_bytes += strlen(s);
            free(s);
            json_decref(j);
        }
        printf("W1 waiting   %-28s %8ld instances  %8.0f bytes of heap each  %6.0f bytes serialised state each\n", base,
               n, (double)(after.uordblks - before.uordblks) / (double)n, (double)state_bytes / (double)n);
        for (long i = 0; i < n; i++)
            bpm_inst_free(keep[i]);
        free(keep);
    }
    bpm_arena_free(a);
    bpm_scripts_free(scripts);
    bpm_model_unref(m);
    bpm_diags_cleanup(&d);
    return 0;
}
