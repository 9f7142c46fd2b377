/* bpmnctl worker [--threads N] [--once]: the job executor in the foreground.
 * Each thread has its own connection, Lua state and model cache; threads
 * (and processes) share the jobs through FOR UPDATE SKIP LOCKED, sleep on
 * LISTEN/NOTIFY when idle, and stop after their current job on SIGINT or
 * SIGTERM. bpmnctl retry JOB_OR_INCIDENT gives a failed job its retries back. */
#define _DEFAULT_SOURCE /* clock_gettime, gethostname */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "jobs.h"
#include "pgstore.h"
#include "runtime.h"
#include "scripts.h"

static atomic_bool stopping;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stopping, true);
}

typedef struct worker {
    int index;
    bool once;
    char name[128];
    size_t done, failed;
    int status;
} worker;

static int64_t clock_offset(bpm_pg *pg)
{
    PGresult *res = PQexec(bpm_pg_conn(pg), "select offset_ms from clock");
    int64_t off = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    PQclear(res);
    return off;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *work(void *arg)
{
    worker *w = arg;
    bpm_err err = {0};
    bpm_pg *pg = NULL;
    if (bpm_cli_connect(&pg, true, &err)) {
        fprintf(stderr, "bpmnctl worker: %s\n", err.msg);
        w->status = 1;
        return NULL;
    }
    bpm_scripts *scripts = bpm_scripts_new(NULL, &err);
    bpm_evaluator ev = bpm_scripts_evaluator(scripts);
    bpm_pgstore *store = bpm_pgstore_new(pg, &ev);
    bpm_pgstore_set_history(store, bpm_cli_history_level());
    int64_t last_cleanup = 0;
    bpm_runtime rt = {.store = bpm_pgstore_port(store), .eval = &ev, .incidents_fail = true};
    bpm_jobs_session(pg, NULL);
    while (!atomic_load(&stopping)) {
        int64_t now = wall_ms() + clock_offset(pg);
        bpm_arena *a = bpm_arena_new();
        bpm_job *jobs = NULL;
        size_t n = 0;
        if (bpm_jobs_acquire(pg, w->name, now, 5 * 60 * 1000, 8, &jobs, &n, a, &err)) {
            fprintf(stderr, "bpmnctl worker: %s\n", err.msg);
            bpm_arena_free(a);
            if (bpm_pg_reset(pg, &err)) { /* the server went away: wait for it */
                sleep(1);
            } else {
                bpm_jobs_session(pg, NULL); /* a new session has forgotten it */
                /* what this worker had locked but not finished is free again
                 * now, not only when its locks expire */
                const char *p[1] = {w->name};
                PGresult *res = PQexecParams(bpm_pg_conn(pg),
                                             "update job set lock_owner = null, lock_expires_at = null"
                                             " where lock_owner = $1",
                                             1, NULL, p, NULL, NULL, 0);
                PQclear(res);
            }
            continue;
        }
        for (size_t i = 0; i < n && !atomic_load(&stopping); i++) {
            const bpm_job *j = &jobs[i];
            bool timer = strcmp(j->kind, "timer") == 0;
            bpm_cmd cmd = {.kind = timer ? BPM_CMD_TRIGGER : BPM_CMD_COMPLETE, .wait = j->wait};
            /* a timer fires at its due time, not when a worker notices it */
            int64_t at = timer && j->due_ms < now ? j->due_ms : now;
            bpm_err jerr = {0};
            bpm_rc rc = bpm_runtime_run(&rt, j->instance_id, &cmd, NULL, at, &jerr);
            if (rc == BPM_OK) {
                w->done++;
            } else if (rc == BPM_INVALID) {
                bool incident = false;
                bpm_jobs_fail(pg, j, jerr.msg, now, &incident, NULL);
                w->failed++;
                fprintf(stderr, "bpmnctl worker: job %s at %s failed%s: %s\n", j->id, j->element_id,
                        incident ? ", no retries left: incident" : ", will retry", jerr.msg);
            } else if (rc == BPM_NOT_FOUND || rc == BPM_CONFLICT) {
                /* the wait is gone (cancelled meanwhile) or the instance ended */
                const char *p[1] = {j->id};
                PGresult *res = PQexecParams(bpm_pg_conn(pg), "delete from job where id = $1", 1, NULL, p, NULL, NULL, 0);
                PQclear(res);
            } else {
                fprintf(stderr, "bpmnctl worker: job %s: %s\n", j->id, jerr.msg);
                if (rc == BPM_UNAVAILABLE)
                    break; /* reconnect at the next acquisition */
            }
        }
        /* timer start events that fell due start new instances */
        bpm_start_job *starts = NULL;
        size_t ns = 0;
        if (!atomic_load(&stopping) && bpm_jobs_acquire_starts(pg, w->name, now, 5 * 60 * 1000, 4, &starts, &ns, a, &err) == BPM_OK) {
            for (size_t i = 0; i < ns; i++) {
                const bpm_start_job *sj = &starts[i];
                bpm_err serr = {0};
                char id[BPM_ID_SIZE];
                int64_t at = sj->due_ms < now ? sj->due_ms : now;
                bpm_runtime plain = rt;
                plain.incidents_fail = false;
                if (bpm_runtime_start(&plain, sj->definition_id, sj->element_id, NULL, NULL, NULL, at, id, &serr) != BPM_OK)
                    fprintf(stderr, "bpmnctl worker: timer start of %s failed: %s\n", sj->definition_id, serr.msg);
                else
                    w->done++;
                bpm_jobs_start_done(pg, sj, now, NULL);
            }
        }
        bpm_arena_free(a);
        /* retention: the first thread removes expired history every 10 minutes */
        if (w->index == 0 && wall_ms() - last_cleanup > 10 * 60 * 1000) {
            size_t removed = 0;
            if (bpm_pgstore_cleanup(store, now, 1000, &removed, &err) == BPM_OK && removed)
                fprintf(stderr, "bpmnctl worker: history of %zu ended instance(s) removed\n", removed);
            last_cleanup = wall_ms();
        }
        if (n || ns)
            continue;
        if (w->once)
            break;
        /* idle: sleep until notified, until the next job falls due, or a
         * slow heartbeat (which also covers a moved clock) */
        int64_t due = bpm_jobs_next_due(pg);
        int64_t wait = due == INT64_MAX ? 30000 : due - (wall_ms() + clock_offset(pg));
        if (wait > 30000)
            wait = 30000;
        /* in slices of a second, so a stop request is seen promptly; the
         * database is not asked anything in between */
        int64_t until = wall_ms() + (wait < 0 ? 0 : wait);
        while (!atomic_load(&stopping)) {
            int64_t left = until - wall_ms();
            if (left <= 0 || bpm_jobs_wait(pg, left > 1000 ? 1000 : (int)left))
                break;
        }
    }
    /* stopped: what this worker locked but did not run is free again now,
     * and with it the rest of those instances' jobs (exclusive jobs) */
    const char *p[1] = {w->name};
    PQclear(PQexecParams(bpm_pg_conn(pg), "update job set lock_owner = null, lock_expires_at = null where lock_owner = $1",
                         1, NULL, p, NULL, NULL, 0));
    bpm_pgstore_free(store);
    bpm_scripts_free(scripts);
    bpm_pg_close(pg);
    return NULL;
}

int bpm_cli_worker(int argc, char **argv)
{
    int threads = 1;
    bool once = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--once") == 0)
            once = true;
        else {
            fprintf(stderr, "usage: bpmnctl worker [--threads N] [--once]\n");
            return 2;
        }
    }
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "bpmnctl worker: --threads must be between 1 and 64\n");
        return 2;
    }
    /* make sure the database exists and is migrated before threads race to it */
    bpm_err err = {0};
    bpm_pg *pg = NULL;
    if (bpm_cli_connect(&pg, false, &err)) {
        fprintf(stderr, "bpmnctl: %s\n", err.msg);
        return 1;
    }
    bpm_pg_close(pg);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    worker *ws = bpm_xcalloc((size_t)threads, sizeof *ws);
    pthread_t *tids = bpm_xcalloc((size_t)threads, sizeof *tids);
    for (int i = 0; i < threads; i++) {
        ws[i].index = i;
        ws[i].once = once;
        snprintf(ws[i].name, sizeof ws[i].name, "%s:%ld:%d", host, (long)getpid(), i);
        pthread_create(&tids[i], NULL, work, &ws[i]);
    }
    size_t done = 0, failed = 0;
    int status = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(tids[i], NULL);
        done += ws[i].done;
        failed += ws[i].failed;
        status |= ws[i].status;
    }
    free(ws);
    free(tids);
    printf("%zu job(s) run, %zu failed\n", done, failed);
    return status;
}

int bpm_cli_retry(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: bpmnctl retry JOB_OR_INCIDENT_ID\n");
        return 2;
    }
    bpm_err err = {0};
    bpm_pg *pg = NULL;
    if (bpm_cli_connect(&pg, false, &err)) {
        fprintf(stderr, "bpmnctl: %s\n", err.msg);
        return 1;
    }
    bpm_rc rc = bpm_jobs_retry(pg, argv[0], &err);
    bpm_pg_close(pg);
    if (rc) {
        fprintf(stderr, "bpmnctl: %s\n", err.msg);
        return 1;
    }
    printf("job retried: it runs again with the next worker round\n");
    return 0;
}
