/* bpmnctl worker [--threads N] [--batch N] [--once]: the job executor in the foreground
 * until SIGINT or SIGTERM (each thread stops after its current job).
 * bpmnctl retry JOB_OR_INCIDENT gives a failed job its retries back. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "executor.h"
#include "jobs.h"
#include "session.h"

static bpm_executor *running;

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        bpm_executor_stop(running);
}

int bpm_cli_worker(int argc, char **argv)
{
    int threads = 1, batch = 64;
    bool once = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--once") == 0)
            once = true;
        else {
            fprintf(stderr, "usage: bpmnctl worker [--threads N] [--batch N] [--once]\n");
            return 2;
        }
    }
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "bpmnctl worker: --threads must be between 1 and 64\n");
        return 2;
    }
    if (batch < 1 || batch > 1000) {
        fprintf(stderr, "bpmnctl worker: --batch must be between 1 and 1000\n");
        return 2;
    }
    /* the database exists and is migrated before threads race to it */
    bpm_err err = {0};
    char conninfo[1024];
    if (bpm_session_conninfo("bpmnctl", false, conninfo, sizeof conninfo, &err)) {
        fprintf(stderr, "bpmnctl: %s\n", err.msg);
        return 1;
    }
    bpm_executor_config cfg = {.conninfo = conninfo, .threads = threads, .batch = batch, .once = once};
    bpm_executor *e = NULL;
    if (bpm_executor_start(&cfg, &e, &err)) {
        fprintf(stderr, "bpmnctl worker: %s\n", err.msg);
        return 1;
    }
    running = e;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    unsigned long long done = 0, failed = 0;
    int status = bpm_executor_join(e, &done, &failed);
    running = NULL;
    printf("%llu job(s) run, %llu failed\n", done, failed);
    return status;
}

int bpm_cli_retry(int argc, char **argv)
{
    const char *id = NULL, *user = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
            user = argv[++i];
        else if (!id && argv[i][0] != '-')
            id = argv[i];
        else {
            id = NULL;
            break;
        }
    }
    if (!id) {
        fprintf(stderr, "usage: bpmnctl retry JOB_OR_INCIDENT_ID [--user U]\n");
        return 2;
    }
    bpm_err err = {0};
    bpm_pg *pg = NULL;
    if (bpm_cli_connect(&pg, false, &err)) {
        fprintf(stderr, "bpmnctl: %s\n", err.msg);
        return 1;
    }
    bpm_rc rc = bpm_jobs_retry(pg, id, bpm_cli_operator(user), &err);
    bpm_pg_close(pg);
    if (rc) {
        fprintf(stderr, "bpmnctl: %s\n", err.msg);
        return 1;
    }
    printf("job retried: it runs again with the next worker round\n");
    return 0;
}
