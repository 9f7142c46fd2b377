/* bpmnctl consume NAME: a queue consumer (amqp.consume.NAME.* of bpmnd's
 * configuration file, or flags) in the foreground (docs/events.md). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "consumer.h"
#include "rabbitmq.h"
#include "session.h"

static atomic_bool stop;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop, true);
}

static const char usage[] =
    "usage: bpmnctl consume NAME [--config FILE] [--url URL] [--queue Q] [--mapping FILE.lua] [--process KEY]\n"
    "                       [--max-failures N] [--dead-letter Q] [--prefetch N] [--count N] [--idle MS]\n"
    "Consumes the queue of amqp.consume.NAME (bpmnd's configuration file: --config or BPMND_CONFIG) until\n"
    "SIGINT or SIGTERM, --count messages or --idle milliseconds without one; flags override the file.\n";

/* The fields given as flags, then the file's section. */
typedef struct fields {
    const char *v[6];
    const bpm_config_section *sec;
} fields;
static const char *const names[6] = {"queue", "mapping", "process", "max_failures", "dead_letter", "prefetch"};

static const char *get(const void *p, const char *field, const char **where)
{
    const fields *f = p;
    for (int i = 0; i < 6; i++)
        if (strcmp(names[i], field) == 0 && f->v[i]) {
            if (where)
                *where = "command line";
            return f->v[i];
        }
    if (f->sec)
        return bpm_config_get(f->sec, field, where);
    if (where)
        *where = "command line";
    return NULL;
}

int bpm_cli_consume(int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-') {
        fputs(usage, stderr);
        return 2;
    }
    const char *name = argv[0], *file = NULL, *url = NULL;
    fields f = {{0}, NULL};
    long count = 0, idle = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) {
            fputs(usage, stderr);
            return 2;
        }
        const char *v = argv[++i];
        bool known = false;
        for (int k = 0; k < 6; k++) {
            char flag[32];
            snprintf(flag, sizeof flag, "--%s", names[k]);
            for (char *p = flag; *p; p++)
                if (*p == '_')
                    *p = '-';
            if (strcmp(a, flag) == 0) {
                f.v[k] = v;
                known = true;
            }
        }
        if (known)
            continue;
        if (strcmp(a, "--config") == 0)
            file = v;
        else if (strcmp(a, "--url") == 0)
            url = v;
        else if (strcmp(a, "--count") == 0)
            count = strtol(v, NULL, 10);
        else if (strcmp(a, "--idle") == 0)
            idle = strtol(v, NULL, 10);
        else {
            fputs(usage, stderr);
            return 2;
        }
    }
    bpm_config cfg;
    char *cargv[] = {"bpmnctl", "--config", (char *)(file ? file : ""), NULL};
    int st = bpm_config_load(&cfg, file ? 3 : 1, cargv);
    if (st) {
        bpm_config_cleanup(&cfg);
        return 2;
    }
    char where[700];
    snprintf(where, sizeof where, "command line");
    for (size_t i = 0; i < cfg.n_sections; i++)
        if (strcmp(cfg.sections[i].prefix, "amqp.consume") == 0 && strcmp(cfg.sections[i].name, name) == 0) {
            f.sec = &cfg.sections[i];
            snprintf(where, sizeof where, "%s", f.sec->where);
        }
    if (!url || !*url)
        url = cfg.amqp_url[0] ? cfg.amqp_url : NULL;
    if (!url) {
        fprintf(stderr, "bpmnctl consume: no broker: give --url, set BPMND_AMQP_URL or amqp.url\n");
        bpm_config_cleanup(&cfg);
        return 2;
    }
    bpm_err err = {0};
    bpm_arena *a = bpm_arena_new();
    bpm_scripts *scripts = bpm_scripts_new(NULL, &err);
    bpm_consumer_def *def = NULL;
    st = 0;
    if (!scripts || bpm_consumer_define(scripts, name, &f, get, where, a, &def, &err)) {
        fprintf(stderr, "bpmnctl consume: %s\n", err.msg);
        st = 2;
    }
    bpm_scripts_free(scripts);
    char conninfo[1024];
    if (!st && bpm_session_conninfo("bpmnctl", false, conninfo, sizeof conninfo, &err)) {
        fprintf(stderr, "bpmnctl: %s\n", err.msg);
        st = 1;
    }
    if (!st) {
        struct sigaction sa = {.sa_handler = on_signal};
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        bpm_consumer_config cc = {.def = def, .conninfo = conninfo, .url = url, .bridge = bpm_rabbitmq_bridge(),
                                  .max_messages = count > 0 ? (size_t)count : 0, .idle_ms = idle > 0 ? (int)idle : 0};
        bpm_consumer_stats stats;
        memset(&stats, 0, sizeof stats);
        if (bpm_consumer_run(&cc, &stop, &stats, &err)) {
            fprintf(stderr, "bpmnctl consume: %s\n", err.msg);
            st = 1;
        }
        printf("consumed=%llu duplicates=%llu failed=%llu dead_lettered=%llu requeued=%llu\n",
               atomic_load(&stats.consumed), atomic_load(&stats.duplicates), atomic_load(&stats.failed),
               atomic_load(&stats.dead_lettered), atomic_load(&stats.requeued));
    }
    bpm_arena_free(a);
    bpm_config_cleanup(&cfg);
    return st;
}
