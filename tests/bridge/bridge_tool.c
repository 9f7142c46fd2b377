/* A client of the RabbitMQ bridge for the tests and the benchmark: publishes
 * with confirms, consumes (printing each message as a JSON line), and runs
 * the consuming transport with simple handlers (ok, crash before the ack,
 * poison messages retried or rejected).
 *   bridge_tool URL declare QUEUE
 *   bridge_tool URL publish QUEUE COUNT [BODY]      (ids m-1..m-COUNT; BODY "poison" marks one)
 *   bridge_tool URL send QUEUE BODY [--id ID] [--type T] [--content-type CT] [--header K=V]... [--count N]
 *       (one message, or N with "{n}" in BODY and ID replaced by 1..N; no --id: no message id)
 *   bridge_tool URL consume QUEUE [--count N] [--idle MS] [--quiet]
 *   bridge_tool URL transport QUEUE MODE [--count N] [--idle MS] [--max-failures K] [--prefetch P] [--quiet]
 * MODE: ok | crash (exit 3 before acknowledging the first message) |
 * retry (RETRY bodies containing "poison") | reject (REJECT them). */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rabbitmq.h"

typedef struct opts {
    const char *mode;
    bool quiet;
} opts;

static void print(const bpm_bridge_delivery *d, const char *verdict)
{
    json_t *o = json_pack("{s:s?, s:s%, s:s?, s:O, s:b, s:i, s:s, s:s?, s:s?, s:O?}", "id", d->message_id, "body",
                          d->body, d->body_len, "contentType", d->content_type, "headers", d->headers, "redelivered",
                          d->redelivered, "failures", (int)d->failures, "verdict", verdict, "exchange", d->exchange,
                          "routingKey", d->routing_key, "properties", d->properties);
    char *s = json_dumps(o, JSON_COMPACT);
    printf("%s\n", s);
    fflush(stdout);
    free(s);
    json_decref(o);
}

static bpm_bridge_verdict handle(void *ud, const bpm_bridge_delivery *d, char *reason, size_t n)
{
    opts *o = ud;
    bool poison = memmem(d->body, d->body_len, "poison", 6) != NULL;
    if (strcmp(o->mode, "crash") == 0) {
        print(d, "crash");
        _exit(3); /* the handler's process dies: the delivery was never acknowledged */
    }
    if (poison && strcmp(o->mode, "retry") == 0) {
        snprintf(reason, n, "cannot parse: poison (attempt %u)", d->failures + 1);
        if (!o->quiet)
            print(d, "retry");
        return BPM_BRIDGE_RETRY;
    }
    if (poison && strcmp(o->mode, "reject") == 0) {
        snprintf(reason, n, "cannot parse: poison");
        if (!o->quiet)
            print(d, "reject");
        return BPM_BRIDGE_REJECT;
    }
    if (!o->quiet)
        print(d, "ok");
    return BPM_BRIDGE_OK;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* text with every "{n}" replaced by n (malloc'd) */
static char *subst(const char *text, long n)
{
    size_t cap = strlen(text) * 2 + 64, k = 0;
    char *o = malloc(cap);
    for (const char *p = text; *p;) {
        if (k + 32 > cap)
            o = realloc(o, cap *= 2);
        if (strncmp(p, "{n}", 3) == 0) {
            k += (size_t)snprintf(o + k, cap - k, "%ld", n);
            p += 3;
        } else {
            o[k++] = *p++;
        }
    }
    o[k] = '\0';
    return o;
}

static int send(const bpm_bridge_ops *b, void *h, const char *queue, int argc, char **argv)
{
    const char *body = argv[0], *id = NULL, *ct = "application/json";
    long count = 1;
    json_t *props = json_object(), *headers = json_object();
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--id") == 0)
            id = argv[++i];
        else if (strcmp(argv[i], "--type") == 0)
            json_object_set_new(props, "type", json_string(argv[++i]));
        else if (strcmp(argv[i], "--content-type") == 0)
            ct = argv[++i];
        else if (strcmp(argv[i], "--count") == 0)
            count = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--header") == 0) {
            const char *kv = argv[++i], *eq = strchr(kv, '=');
            if (eq) {
                char k[256];
                snprintf(k, sizeof k, "%.*s", (int)(eq - kv), kv);
                json_object_set_new(headers, k, json_string(eq + 1));
            }
        }
    }
    json_object_set_new(props, "headers", headers);
    size_t batch = 500;
    bpm_bridge_msg *m = calloc(batch, sizeof *m);
    char **ids = calloc(batch, sizeof *ids), **bodies = calloc(batch, sizeof *bodies);
    bpm_err err = {0};
    int st = 0;
    double t0 = now_s();
    for (long done = 0; done < count && !st;) {
        size_t k = 0;
        for (; k < batch && done + (long)k < count; k++) {
            long n = done + (long)k + 1;
            ids[k] = id ? subst(id, n) : NULL;
            bodies[k] = subst(body, n);
            m[k] = (bpm_bridge_msg){.id = ids[k], .destination = "", .key = queue, .body = bodies[k],
                                    .body_len = strlen(bodies[k]), .content_type = *ct ? ct : NULL,
                                    .properties = props};
        }
        if (b->publish(h, m, k, 10000, &err)) {
            fprintf(stderr, "bridge_tool: %s\n", err.msg);
            st = 1;
        }
        for (size_t i = 0; i < k; i++) {
            if (!m[i].ok && !st) {
                fprintf(stderr, "bridge_tool: %s\n", m[i].error);
                st = 1;
            }
            free(ids[i]);
            free(bodies[i]);
        }
        done += (long)k;
    }
    fprintf(stderr, "sent %ld in %.3f s\n", count, now_s() - t0);
    free(m);
    free(ids);
    free(bodies);
    json_decref(props);
    return st;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bridge_tool URL declare|publish|consume|transport QUEUE ...\n");
        return 2;
    }
    const bpm_bridge_ops *b = bpm_rabbitmq_bridge();
    const char *url = argv[1], *cmd = argv[2], *queue = argv[3];
    void *h = NULL;
    bpm_err err = {0};
    if (b->connect(url, &h, &err)) {
        fprintf(stderr, "bridge_tool: %s\n", err.msg);
        return 1;
    }
    int st = 0;
    if (strcmp(cmd, "send") == 0 && argc > 4) {
        st = send(b, h, queue, argc - 4, argv + 4);
    } else if (strcmp(cmd, "publish") == 0) {
        long count = argc > 4 ? strtol(argv[4], NULL, 10) : 1;
        const char *body = argc > 5 ? argv[5] : NULL;
        size_t batch = 100;
        bpm_bridge_msg *m = calloc(batch, sizeof *m);
        char (*ids)[32] = calloc(batch, sizeof *ids);
        char (*bodies)[64] = calloc(batch, sizeof *bodies);
        double t0 = now_s();
        long done = 0;
        while (done < count && !st) {
            size_t k = 0;
            for (; k < batch && done + (long)k < count; k++) {
                long i = done + (long)k + 1;
                snprintf(ids[k], sizeof ids[k], "m-%ld", i);
                snprintf(bodies[k], sizeof bodies[k], "%s", body && i == 1 ? body : "{\"n\": 0}");
                if (!(body && i == 1))
                    snprintf(bodies[k], sizeof bodies[k], "{\"n\": %ld}", i);
                m[k] = (bpm_bridge_msg){.id = ids[k], .destination = "", .key = queue, .body = bodies[k],
                                        .body_len = strlen(bodies[k]), .content_type = "application/json"};
            }
            if (b->publish(h, m, k, 10000, &err)) {
                fprintf(stderr, "bridge_tool: %s\n", err.msg);
                st = 1;
            }
            for (size_t i = 0; i < k; i++)
                if (!m[i].ok) {
                    fprintf(stderr, "bridge_tool: %s: %s\n", m[i].id, m[i].error);
                    st = 1;
                }
            done += (long)k;
        }
        fprintf(stderr, "published %ld in %.3f s\n", done, now_s() - t0);
        free(m);
        free(ids);
        free(bodies);
    } else {
        opts o = {.mode = strcmp(cmd, "transport") == 0 && argc > 4 ? argv[4] : "ok"};
        bpm_bridge_consume cfg = {.source = queue, .idle_ms = 3000};
        if (strcmp(cmd, "declare") == 0)
            cfg.idle_ms = 1;
        for (int i = strcmp(cmd, "transport") == 0 ? 5 : 4; i < argc; i++) {
            if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
                cfg.max_messages = (size_t)strtoul(argv[++i], NULL, 10);
            else if (strcmp(argv[i], "--idle") == 0 && i + 1 < argc)
                cfg.idle_ms = (int)strtol(argv[++i], NULL, 10);
            else if (strcmp(argv[i], "--max-failures") == 0 && i + 1 < argc)
                cfg.max_failures = (unsigned)strtoul(argv[++i], NULL, 10);
            else if (strcmp(argv[i], "--prefetch") == 0 && i + 1 < argc)
                cfg.prefetch = (unsigned)strtoul(argv[++i], NULL, 10);
            else if (strcmp(argv[i], "--quiet") == 0)
                o.quiet = true;
        }
        bpm_bridge_consumed got = {0};
        double t0 = now_s();
        if (b->consume(h, &cfg, handle, &o, &got, &err)) {
            fprintf(stderr, "bridge_tool: %s\n", err.msg);
            st = 1;
        }
        if (strcmp(cmd, "declare") != 0)
            fprintf(stderr, "acked=%zu retried=%zu dead=%zu in %.3f s\n", got.acked, got.retried, got.dead_lettered,
                    now_s() - t0);
    }
    b->close(h);
    return st;
}
