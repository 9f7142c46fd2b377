/* bpmnctl relay [--url URL] [--batch N] [--once]: the outbox relay in the
 * foreground until SIGINT or SIGTERM (docs/messaging.md). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rabbitmq.h"
#include "relay.h"
#include "session.h"

static bpm_relay *running;

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        bpm_relay_stop(running);
}

int bpm_cli_relay(int argc, char **argv)
{
    const char *url = getenv("BPMND_AMQP_URL");
    long batch = 100;
    bool once = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--once") == 0)
            once = true;
        else {
            fprintf(stderr, "usage: bpmnctl relay [--url amqp://USER:PASSWORD@HOST:PORT/VHOST] [--batch N] [--once]\n");
            return 2;
        }
    }
    if (!url || !*url) {
        fprintf(stderr, "bpmnctl relay: no broker: give --url or set BPMND_AMQP_URL\n");
        return 2;
    }
    if (batch < 1 || batch > 10000) {
        fprintf(stderr, "bpmnctl relay: --batch must be between 1 and 10000\n");
        return 2;
    }
    bpm_err err = {0};
    char conninfo[1024];
    if (bpm_session_conninfo("bpmnctl", false, conninfo, sizeof conninfo, &err)) {
        fprintf(stderr, "bpmnctl: %s\n", err.msg);
        return 1;
    }
    bpm_relay_config cfg = {
        .conninfo = conninfo, .url = url, .bridge = bpm_rabbitmq_bridge(), .batch = (size_t)batch, .once = once};
    bpm_relay *r = NULL;
    if (bpm_relay_start(&cfg, &r, &err)) {
        fprintf(stderr, "bpmnctl relay: %s\n", err.msg);
        return 1;
    }
    running = r;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    unsigned long long published = 0;
    int status = bpm_relay_join(r, &published);
    running = NULL;
    printf("%llu message(s) published\n", published);
    return status;
}
