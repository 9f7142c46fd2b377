/* bpmnd: the REST server and the job executor in one process. Wiring only:
 * configuration, the database (a server by URL or the embedded cluster),
 * then HTTP and executor threads until SIGINT or SIGTERM, then a graceful
 * stop (no new requests, parked long polls answered, jobs in flight
 * finished). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "consumer.h"
#include "executor.h"
#include "http.h"
#include "log.h"
#include "rabbitmq.h"
#include "relay.h"
#include "session.h"

static volatile sig_atomic_t stop_requested;

static const char *section_get(const void *sec, const char *field, const char **where)
{
    return bpm_config_get(sec, field, where);
}

/* The amqp.consume.NAME sections, mappings compiled now so a broken one stops
 * the start (arena: the process). 0, or 2 after saying what is wrong. */
static int define_consumers(const bpm_config *cfg, bpm_arena *a, bpm_consumer_def ***out, size_t *n_out)
{
    bpm_err err = {0};
    bpm_scripts *scripts = NULL;
    bpm_consumer_def **defs = NULL;
    size_t n = 0;
    int st = 0;
    for (size_t i = 0; i < cfg->n_sections && !st; i++) {
        const bpm_config_section *sec = &cfg->sections[i];
        if (strcmp(sec->prefix, "amqp.consume") != 0)
            continue;
        if (!scripts && !(scripts = bpm_scripts_new(NULL, &err))) {
            st = 2;
            break;
        }
        if (!cfg->amqp_url[0]) {
            bpm_err_set(&err, BPM_INVALID, "%s: consumer \"%s\" needs a broker: set amqp.url", sec->where, sec->name);
            st = 2;
            break;
        }
        defs = bpm_arena_grow(a, defs, n, n + 1, sizeof *defs);
        if (bpm_consumer_define(scripts, sec->name, sec, section_get, sec->where, a, &defs[n], &err))
            st = 2;
        else
            n++;
    }
    bpm_scripts_free(scripts);
    if (st) {
        fprintf(stderr, "bpmnd: %s\n", err.msg);
        bpm_log_write("error", "config", err.msg, NULL);
        return st;
    }
    *out = defs;
    *n_out = n;
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void stop_consumers(bpm_consumer **cs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bpm_consumer_stop(cs[i]);
    for (size_t i = 0; i < n; i++)
        bpm_consumer_join(cs[i]);
}

int main(int argc, char **argv)
{
    bpm_config cfg;
    int st = bpm_config_load(&cfg, argc, argv);
    if (st) {
        bpm_config_cleanup(&cfg);
        return st == 1 ? 0 : 2;
    }
    /* the session layer reads these; the configuration is their one source */
    if (cfg.database_url[0])
        setenv("BPMND_DATABASE_URL", cfg.database_url, 1);
    if (cfg.data_dir[0])
        setenv("BPMND_DATA_DIR", cfg.data_dir, 1);
    setenv("BPMND_HISTORY", cfg.history, 1);
    signal(SIGPIPE, SIG_IGN);
    bpm_arena *process = bpm_arena_new(); /* the consumers' definitions */
    bpm_consumer_def **defs = NULL;
    size_t n_defs = 0;
    if (define_consumers(&cfg, process, &defs, &n_defs)) {
        bpm_arena_free(process);
        bpm_config_cleanup(&cfg);
        return 2;
    }
    bpm_consumer **consumers = bpm_arena_calloc(process, n_defs + 1, sizeof *consumers);
    size_t n_consumers = 0;

    bpm_err err = {0};
    char conninfo[1024];
    if (bpm_session_conninfo("bpmnd", false, conninfo, sizeof conninfo, &err)) {
        bpm_log_write("error", "database", err.msg, NULL);
        bpm_config_cleanup(&cfg);
        return 1;
    }
    static bpm_pgstore_counters counters; /* lives as long as the process */
    bpm_executor *ex = NULL;
    if (cfg.worker_threads > 0) {
        bpm_executor_config ec = {
            .conninfo = conninfo, .threads = cfg.worker_threads, .batch = cfg.worker_batch, .log = bpm_log_executor, .counters = &counters};
        if (bpm_executor_start(&ec, &ex, &err)) {
            bpm_log_write("error", "executor", err.msg, NULL);
            bpm_config_cleanup(&cfg);
            return 1;
        }
    }
    bpm_relay *relay = NULL;
    if (cfg.amqp_url[0]) {
        bpm_relay_config rc = {.conninfo = conninfo, .url = cfg.amqp_url, .bridge = bpm_rabbitmq_bridge(),
                               .batch = (size_t)cfg.amqp_batch, .log = bpm_log_executor};
        if (bpm_relay_start(&rc, &relay, &err)) {
            bpm_log_write("error", "relay", err.msg, NULL);
            return 1;
        }
    }
    for (size_t i = 0; i < n_defs; i++) {
        bpm_consumer_config cc = {.def = defs[i], .conninfo = conninfo, .url = cfg.amqp_url,
                                  .bridge = bpm_rabbitmq_bridge(), .log = bpm_log_executor};
        if (bpm_consumer_start(&cc, &consumers[n_consumers], &err)) {
            bpm_log_write("error", "consumer", err.msg, NULL);
            return 1;
        }
        n_consumers++;
    }
    bpm_http *h = NULL;
    if (bpm_http_start(&cfg, conninfo, ex, &counters, &h, &err)) {
        if (err.rc == BPM_INVALID) /* a webhook section of the configuration */
            fprintf(stderr, "bpmnd: %s\n", err.msg);
        bpm_log_write("error", err.rc == BPM_INVALID ? "config" : "listen", err.msg, NULL);
        if (ex) {
            bpm_executor_stop(ex);
            bpm_executor_join(ex, NULL, NULL);
        }
        if (relay) {
            bpm_relay_stop(relay);
            bpm_relay_join(relay, NULL);
        }
        stop_consumers(consumers, n_consumers);
        bpm_arena_free(process);
        bpm_config_cleanup(&cfg);
        return 1;
    }
    if (relay)
        bpm_http_set_relay(h, bpm_relay_stats_of(relay));
    if (n_consumers)
        bpm_http_set_consumers(h, consumers, n_consumers);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    char listen[200], threads[16], workers[16];
    snprintf(listen, sizeof listen, "http://%s:%d/engine-rest", cfg.listen_host, cfg.listen_port);
    snprintf(threads, sizeof threads, "%d", cfg.http_threads);
    snprintf(workers, sizeof workers, "%d", cfg.worker_threads);
    char consumers_n[24];
    snprintf(consumers_n, sizeof consumers_n, "%zu", n_consumers);
    bool auth = cfg.auth == BPM_AUTH_ON || (cfg.auth == BPM_AUTH_AUTO && !bpm_config_loopback(&cfg));
    bpm_log_write("info", "started", "bpmnd is serving", "url", listen, "http_threads", threads, "worker_threads",
                  workers, "auth", auth ? "on" : "off", "database",
                  cfg.database_url[0] ? "BPMND_DATABASE_URL" : "embedded", "outbox_relay", relay ? "rabbitmq" : "off",
                  "consumers", consumers_n, NULL);
    while (!stop_requested)
        pause();
    bpm_log_write("info", "stopping", "draining requests and finishing jobs in flight", NULL);
    bpm_http_stop(h);
    if (ex) {
        bpm_executor_stop(ex);
        bpm_executor_join(ex, NULL, NULL);
    }
    if (relay) {
        bpm_relay_stop(relay);
        bpm_relay_join(relay, NULL);
    }
    stop_consumers(consumers, n_consumers);
    bpm_arena_free(process);
    bpm_log_write("info", "stopped", NULL, NULL);
    bpm_config_cleanup(&cfg);
    return 0;
}
