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
#include "executor.h"
#include "http.h"
#include "log.h"
#include "rabbitmq.h"
#include "relay.h"
#include "session.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
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
            .conninfo = conninfo, .threads = cfg.worker_threads, .log = bpm_log_executor, .counters = &counters};
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
        bpm_config_cleanup(&cfg);
        return 1;
    }
    if (relay)
        bpm_http_set_relay(h, bpm_relay_stats_of(relay));
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    char listen[200], threads[16], workers[16];
    snprintf(listen, sizeof listen, "http://%s:%d/engine-rest", cfg.listen_host, cfg.listen_port);
    snprintf(threads, sizeof threads, "%d", cfg.http_threads);
    snprintf(workers, sizeof workers, "%d", cfg.worker_threads);
    bool auth = cfg.auth == BPM_AUTH_ON || (cfg.auth == BPM_AUTH_AUTO && !bpm_config_loopback(&cfg));
    bpm_log_write("info", "started", "bpmnd is serving", "url", listen, "http_threads", threads, "worker_threads",
                  workers, "auth", auth ? "on" : "off", "database",
                  cfg.database_url[0] ? "BPMND_DATABASE_URL" : "embedded", "outbox_relay", relay ? "rabbitmq" : "off",
                  NULL);
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
    bpm_log_write("info", "stopped", NULL, NULL);
    bpm_config_cleanup(&cfg);
    return 0;
}
