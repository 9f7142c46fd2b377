/* W10: parse + build + validate time and memory per diagram. Prints one line
 * per input: the median of several runs, the model arena size and the peak
 * RSS growth. Inputs: files on the command line, plus a generated diagram of
 * --nodes N flow nodes (default 10000). A program that prints; never a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bpmn.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A chain of user tasks with an exclusive gateway every 10 nodes, a boundary
 * timer on every 7th task: shaped like a real, very large diagram. */
static char *generate(int nodes, size_t *len)
{
    size_t cap = (size_t)nodes * 700 + 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
#define OUT(...) n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__)
    OUT("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "
        "xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\" id=\"D\" targetNamespace=\"x\">\n"
        "<bpmn:process id=\"big\" isExecutable=\"true\">\n<bpmn:startEvent id=\"n0\"/>\n");
    int last = 0, flow = 0;
    for (int i = 1; i < nodes - 1; i++) {
        if (i % 10 == 0) {
            OUT("<bpmn:exclusiveGateway id=\"n%d\" default=\"f%d\"/>\n", i, flow + 1);
            OUT("<bpmn:sequenceFlow id=\"f%d\" sourceRef=\"n%d\" targetRef=\"n%d\"/>\n", flow++, last, i);
            OUT("<bpmn:sequenceFlow id=\"f%d\" sourceRef=\"n%d\" targetRef=\"n%d\"/>\n", flow++, i, i + 1);
            OUT("<bpmn:sequenceFlow id=\"f%d\" sourceRef=\"n%d\" targetRef=\"n%d\"><bpmn:conditionExpression>${x &gt; %d}</bpmn:conditionExpression></bpmn:sequenceFlow>\n",
                flow++, i, nodes - 1, i);
            last = -1;
        } else {
            OUT("<bpmn:userTask id=\"n%d\" name=\"Task %d\" camunda:assignee=\"${user%d}\" camunda:candidateGroups=\"g%d\"/>\n", i, i, i % 5,
                i % 3);
            if (last >= 0)
                OUT("<bpmn:sequenceFlow id=\"f%d\" sourceRef=\"n%d\" targetRef=\"n%d\"/>\n", flow++, last, i);
        }
        last = last < 0 ? -2 : i;
        if (last == -2)
            last = i + 0; /* the gateway's default flow already reaches i+1 */
    }
    OUT("<bpmn:endEvent id=\"n%d\"/>\n<bpmn:sequenceFlow id=\"f%d\" sourceRef=\"n%d\" targetRef=\"n%d\"/>\n", nodes - 1, flow++,
        nodes - 2, nodes - 1);
    OUT("</bpmn:process>\n</bpmn:definitions>\n");
#undef OUT
    *len = n;
    return buf;
}

static void measure(const char *label, const char *buf, size_t len, int runs)
{
    double *t = calloc((size_t)runs, sizeof *t);
    size_t arena = 0, nodes = 0, errors = 0;
    long rss0 = max_rss_kb();
    for (int r = 0; r < runs; r++) {
        bpm_diags d;
        bpm_diags_init(&d);
        bpm_model *m = NULL;
        double t0 = now_ms();
        bpm_rc rc = bpm_bpmn_read_buffer(buf, len, label, NULL, &m, &d, NULL);
        t[r] = now_ms() - t0;
        if (rc == BPM_OK) {
            arena = bpm_arena_reserved(m->arena);
            nodes = 0;
            for (size_t p = 0; p < m->n_processes; p++)
                nodes += m->processes[p].n_nodes;
        }
        errors = d.n_errors;
        bpm_model_unref(m);
        bpm_diags_cleanup(&d);
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    printf("W10 parse+build %-40s %8zu bytes %6zu nodes  median %8.2f ms  min %8.2f ms  model %7.1f KiB  peak RSS +%ld KiB  errors %zu\n",
           label, len, nodes, t[runs / 2], t[0], arena / 1024.0, max_rss_kb() - rss0, errors);
    free(t);
}

int main(int argc, char **argv)
{
    int gen_nodes = 10000, runs = 7;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--nodes") == 0 && i + 1 < argc) {
            gen_nodes = (int)strtol(argv[++i], NULL, 10);
            continue;
        }
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = (int)strtol(argv[++i], NULL, 10);
            continue;
        }
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "bench_bpmn: cannot open %s\n", argv[i]);
            continue;
        }
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc((size_t)sz + 1);
        size_t got = buf ? fread(buf, 1, (size_t)sz, f) : 0;
        fclose(f);
        const char *base = strrchr(argv[i], '/');
        measure(base ? base + 1 : argv[i], buf, got, runs);
        free(buf);
    }
    if (runs < 1)
        runs = 1;
    if (gen_nodes > 2) {
        size_t len = 0;
        char *buf = generate(gen_nodes, &len);
        char label[64];
        snprintf(label, sizeof label, "generated-%d-nodes", gen_nodes);
        if (buf)
            measure(label, buf, len, runs);
        free(buf);
    }
    return 0;
}
