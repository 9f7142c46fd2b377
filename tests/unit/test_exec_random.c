/* Generated diagrams: random block-structured processes (sequences, exclusive,
 * parallel and inclusive splits with their joins, subprocesses, user tasks,
 * scripts, timers, boundary timers) run to the end with every wait answered.
 * Nothing may crash, every token must be accounted for (entered = left +
 * cancelled + still alive), and every instance must end, wait, or have an
 * incident. Seeded, so a failure names a reproducible seed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpmn.h"
#include "compile.h"
#include "scripts.h"
#include "sim.h"

typedef struct gen {
    uint64_t rng;
    char *buf;
    size_t len, cap;
    int next_id;
    int depth;
} gen;

static uint32_t rnd(gen *g, uint32_t n)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return (uint32_t)(g->rng % n);
}

static void out(gen *g, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(g->buf + g->len, g->cap - g->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < g->cap - g->len) {
            g->len += (size_t)n;
            return;
        }
        g->cap = g->cap * 2 + 4096;
        g->buf = realloc(g->buf, g->cap);
    }
}

static void flow(gen *g, int from, int to, const char *cond)
{
    int id = g->next_id++;
    if (cond)
        out(g, "<bpmn:sequenceFlow id=\"f%d\" sourceRef=\"n%d\" targetRef=\"n%d\"><bpmn:conditionExpression>%s</bpmn:conditionExpression></bpmn:sequenceFlow>\n",
            id, from, to, cond);
    else
        out(g, "<bpmn:sequenceFlow id=\"f%d\" sourceRef=\"n%d\" targetRef=\"n%d\"/>\n", id, from, to);
}

/* Emits a block; *in is its entry node, *outp its exit node. */
static void block(gen *g, int *in, int *outp)
{
    uint32_t pick = g->depth > 3 ? rnd(g, 3) : rnd(g, 9);
    g->depth++;
    int a, b;
    switch (pick) {
    case 0: { /* user task, maybe with a boundary timer: non-interrupting only,
               * because an interrupting one leading to an end event inside a
               * parallel block makes the diagram unsound (its join waits forever) */
        a = g->next_id++;
        out(g, "<bpmn:userTask id=\"n%d\"/>\n", a);
        if (rnd(g, 3) == 0) {
            int bt = g->next_id++, j = g->next_id++;
            out(g, "<bpmn:boundaryEvent id=\"n%d\" attachedToRef=\"n%d\" cancelActivity=\"%s\"><bpmn:timerEventDefinition><bpmn:timeDuration>PT%uM</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>\n",
                bt, a, "false", 1 + rnd(g, 30));
            out(g, "<bpmn:endEvent id=\"n%d\"/>\n", j);
            flow(g, bt, j, NULL);
        }
        *in = *outp = a;
        break;
    }
    case 1: /* script */
        a = g->next_id++;
        out(g, "<bpmn:scriptTask id=\"n%d\" scriptFormat=\"lua\"><bpmn:script>vars.c = (vars.c or 0) + 1</bpmn:script></bpmn:scriptTask>\n", a);
        *in = *outp = a;
        break;
    case 2: /* timer catch */
        a = g->next_id++;
        out(g, "<bpmn:intermediateCatchEvent id=\"n%d\"><bpmn:timerEventDefinition><bpmn:timeDuration>PT%uH</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>\n",
            a, 1 + rnd(g, 5));
        *in = *outp = a;
        break;
    case 3:
    case 4: { /* sequence */
        int i1, o1, i2, o2;
        block(g, &i1, &o1);
        block(g, &i2, &o2);
        flow(g, o1, i2, NULL);
        *in = i1;
        *outp = o2;
        break;
    }
    case 5:
    case 6:
    case 7: { /* split + join: exclusive, parallel or inclusive */
        static const char *kinds[] = {"exclusiveGateway", "parallelGateway", "inclusiveGateway"};
        const char *k = kinds[pick - 5];
        a = g->next_id++;
        b = g->next_id++;
        int n = 2 + (int)rnd(g, 2);
        int def_flow = g->next_id; /* the first flow out of the split is its default */
        if (pick != 6)
            out(g, "<bpmn:%s id=\"n%d\" default=\"f%d\"/>\n", k, a, def_flow);
        else
            out(g, "<bpmn:%s id=\"n%d\"/>\n", k, a);
        out(g, "<bpmn:%s id=\"n%d\"/>\n", k, b);
        for (int i = 0; i < n; i++) {
            int bi, bo;
            int fid = g->next_id++;
            block(g, &bi, &bo);
            char cond[64];
            snprintf(cond, sizeof cond, "(vars.c or 0) %% %d == %d", n, i);
            if (i == 0 || pick == 6)
                out(g, "<bpmn:sequenceFlow id=\"f%d\" sourceRef=\"n%d\" targetRef=\"n%d\"/>\n", fid, a, bi);
            else
                out(g, "<bpmn:sequenceFlow id=\"f%d\" sourceRef=\"n%d\" targetRef=\"n%d\"><bpmn:conditionExpression>%s</bpmn:conditionExpression></bpmn:sequenceFlow>\n",
                    fid, a, bi, cond);
            flow(g, bo, b, NULL);
        }
        *in = a;
        *outp = b;
        break;
    }
    default: { /* embedded subprocess */
        a = g->next_id++;
        int s = g->next_id++, e = g->next_id++;
        out(g, "<bpmn:subProcess id=\"n%d\"><bpmn:startEvent id=\"n%d\"/><bpmn:endEvent id=\"n%d\"/>\n", a, s, e);
        int bi, bo;
        block(g, &bi, &bo);
        flow(g, s, bi, NULL);
        flow(g, bo, e, NULL);
        out(g, "</bpmn:subProcess>\n");
        *in = *outp = a;
        break;
    }
    }
    g->depth--;
}

static char *generate(uint64_t seed)
{
    gen g = {.rng = seed * 2654435761u + 1, .next_id = 1};
    g.cap = 8192;
    g.buf = malloc(g.cap);
    out(&g, "<?xml version=\"1.0\"?>\n<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" id=\"D\" targetNamespace=\"t\">\n"
            "<bpmn:process id=\"P\" isExecutable=\"true\">\n<bpmn:startEvent id=\"n0\"/>\n");
    int in, o;
    block(&g, &in, &o);
    int end = g.next_id++;
    out(&g, "<bpmn:endEvent id=\"n%d\"/>\n", end);
    flow(&g, 0, in, NULL);
    flow(&g, o, end, NULL);
    out(&g, "</bpmn:process></bpmn:definitions>\n");
    return g.buf;
}

static const char *current_xml;

static void account(const bpm_sim *s, uint64_t seed)
{
    /* BPM_RANDOM_DUMP=SEED writes that seed's diagram to random-SEED.bpmn */
    if (getenv("BPM_RANDOM_DUMP") && (uint64_t)atoll(getenv("BPM_RANDOM_DUMP")) == seed) {
        char name[64];
        snprintf(name, sizeof name, "random-%llu.bpmn", (unsigned long long)seed);
        FILE *f = fopen(name, "w");
        if (f) {
            fputs(current_xml, f);
            size_t nt;
            const bpm_sim_event *tr = bpm_sim_trace(s, &nt);
            fputs("<!-- trace\n", f);
            for (size_t k = 0; k < nt; k++)
                fprintf(f, "%s %s %s\n", bpm_exec_effect_name(tr[k].kind), tr[k].element ? tr[k].element : "-",
                        tr[k].detail ? tr[k].detail : "");
            fputs("-->\n", f);
            fclose(f);
        }
    }
    size_t n;
    const bpm_sim_event *t = bpm_sim_trace(s, &n);
    for (size_t i = 0; i < bpm_sim_count(s); i++) {
        const bpm_inst *inst = bpm_sim_instance(s, i);
        long balance = 0;
        for (size_t k = 0; k < n; k++) {
            if (strcmp(t[k].instance, inst->id) != 0)
                continue;
            if (t[k].kind == BPM_FX_ENTER)
                balance++;
            else if (t[k].kind == BPM_FX_LEAVE || t[k].kind == BPM_FX_CANCEL)
                balance--;
        }
        long alive = 0;
        for (size_t k = 0; k < inst->n_eis; k++)
            alive += inst->eis[k].state != BPM_EI_DONE;
        if (balance != alive)
            fail_msg("seed %llu: instance %s entered-left = %ld but %ld element instances are alive",
                     (unsigned long long)seed, inst->id, balance, alive);
        if (inst->state == BPM_INST_ACTIVE && inst->n_waits == 0 && bpm_sim_incidents(s) == 0)
            fail_msg("seed %llu: instance %s is active with nothing to wait for", (unsigned long long)seed, inst->id);
    }
}

static void test_random_diagrams(void **state)
{
    (void)state;
    bpm_scripts *scripts = bpm_scripts_new(NULL, NULL);
    assert_non_null(scripts);
    bpm_evaluator ev = bpm_scripts_evaluator(scripts);
    int ended = 0, waiting = 0, incidents = 0;
    const char *env_n = getenv("BPM_RANDOM_DIAGRAMS");
    int count = env_n ? atoi(env_n) : 3000;
    for (int seed = 1; seed <= count; seed++) {
        char *xml = generate((uint64_t)seed);
        current_xml = xml;
        bpm_diags d;
        bpm_diags_init(&d);
        bpm_model *m = NULL;
        assert_int_equal(bpm_bpmn_read_buffer(xml, strlen(xml), "gen.bpmn", NULL, &m, &d, NULL), BPM_OK);
        if (bpm_diags_has_errors(&d)) {
            for (size_t i = 0; i < d.n; i++)
                print_message("%d: %s [%s] %s\n", d.items[i].line, bpm_diags_severity_name(d.items[i].severity),
                              d.items[i].element_id ? d.items[i].element_id : "", d.items[i].message);
            fail_msg("seed %d: generated diagram does not validate:\n%s", seed, xml);
        }
        assert_int_equal(bpm_compile_model(m, &ev, &d), BPM_OK);
        bpm_sim *s = bpm_sim_new(m, &ev, 1767225600000LL);
        bpm_sim_start(s, NULL, NULL, NULL, NULL, NULL, NULL);
        for (int guard = 0; guard < 500; guard++) {
            const bpm_inst *main = bpm_sim_main(s);
            if (!main || main->state != BPM_INST_ACTIVE || bpm_sim_incidents(s))
                break;
            json_t *waits = bpm_sim_waits(s);
            const char *task = NULL;
            int64_t due = INT64_MAX;
            for (size_t i = 0; i < json_array_size(waits); i++) {
                json_t *w = json_array_get(waits, i);
                const char *kind = json_string_value(json_object_get(w, "kind"));
                if (!task && strcmp(kind, "user-task") == 0 && (seed + guard) % 3)
                    task = json_string_value(json_object_get(w, "element"));
                if (strcmp(kind, "timer") == 0 && json_integer_value(json_object_get(w, "due")) < due)
                    due = json_integer_value(json_object_get(w, "due"));
            }
            if (!task && due == INT64_MAX)
                for (size_t i = 0; i < json_array_size(waits) && !task; i++)
                    task = json_string_value(json_object_get(json_array_get(waits, i), "element"));
            if (task)
                bpm_sim_complete(s, task, NULL, NULL, NULL);
            else if (due != INT64_MAX)
                bpm_sim_advance(s, due - bpm_sim_now(s), NULL);
            json_decref(waits);
            if (!task && due == INT64_MAX)
                break;
            account(s, (uint64_t)seed);
        }
        account(s, (uint64_t)seed);
        const bpm_inst *main = bpm_sim_main(s);
        if (bpm_sim_incidents(s))
            incidents++;
        else if (main->state != BPM_INST_ACTIVE)
            ended++;
        else
            waiting++;
        bpm_sim_free(s);
        bpm_model_unref(m);
        bpm_diags_cleanup(&d);
        free(xml);
    }
    print_message("%d diagrams: %d ended, %d still waiting, %d incidents\n", count, ended, waiting, incidents);
    /* every path of these diagrams can end: answering every wait must end them */
    assert_int_equal(ended, count);
    bpm_scripts_free(scripts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_random_diagrams)};
    return cmocka_run_group_tests_name("exec_random", tests, NULL, NULL);
}
