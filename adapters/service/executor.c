/* Job executor threads. Each has its own session (connection, Lua state,
 * model cache); threads and processes share the jobs through FOR UPDATE SKIP
 * LOCKED and a lock expiry, so a killed process's jobs are taken over. */
#define _DEFAULT_SOURCE /* gethostname */
#include "executor.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connector.h"
#include "jobs.h"
#include "session.h"

/* Due jobs taken per acquisition by default, run in one transaction when
 * they are async continuations or timers. Under a backlog a round of 64
 * costs one acquisition (about a millisecond) and one commit for all of
 * them, which is what brings the executor to the single-statement job
 * cycle's rate (tests/bench/RESULTS-issue5.md); with little due, rounds are
 * as small as what is due. Smaller batches spread connector calls over
 * more threads. */
#define DEFAULT_BATCH 64

typedef struct thread {
    bpm_executor *e;
    int index;
    char name[128];
    pthread_t tid;
    bool started;
    int status;
} thread;

struct bpm_executor {
    bpm_executor_config cfg;
    char *conninfo;
    atomic_bool stopping;
    /* The threads of one process acquire one at a time: racing each other
     * for the same first due jobs, most of their acquisitions came back
     * with a few jobs or none, and at about a millisecond each they filled
     * the cores (100,000 timers due at once, 16 threads on 2 cores). */
    pthread_mutex_t acquire_mu;
    bpm_executor_stats stats;
    thread *threads;
};

static void say(bpm_executor *e, const char *level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void say(bpm_executor *e, const char *level, const char *event, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (e->cfg.log)
        e->cfg.log(e->cfg.log_ud, level, event, msg);
    else
        fprintf(stderr, "%s: %s\n", level, msg);
}

static bool stopping(bpm_executor *e)
{
    return atomic_load(&e->stopping);
}

/* Runs the jobs acquired in one round; returns false when the connection
 * was lost (reconnect before the next acquisition). A connector job makes
 * its HTTP call between two transactions (connector.c). */
/* The async continuations and timers of a round in one transaction: one
 * commit for all of them. True when that worked; otherwise nothing of it
 * remains and each job runs again on its own, which tells its outcome (a
 * failure counted, a stale job dropped). */
static bool run_together(thread *t, bpm_session *s, const bpm_job *jobs, size_t n, int64_t now, bpm_arena *a,
                         bool *together)
{
    size_t k = 0;
    bpm_runtime_item *items = bpm_arena_calloc(a, n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(jobs[i].kind, "connector") == 0)
            continue;
        bool timer = strcmp(jobs[i].kind, "timer") == 0;
        items[k].instance_id = jobs[i].instance_id;
        items[k].cmd = (bpm_cmd){.kind = timer ? BPM_CMD_TRIGGER : BPM_CMD_COMPLETE, .wait = jobs[i].wait};
        /* a timer fires at its due time, not when a worker notices it */
        items[k].now_ms = timer && jobs[i].due_ms < now ? jobs[i].due_ms : now;
        k++;
    }
    if (k < 2)
        return false;
    bpm_err err = {0};
    if (bpm_runtime_run_all(&s->rt, items, k, NULL, &err) != BPM_OK)
        return false;
    atomic_fetch_add(&t->e->stats.jobs_done, k);
    for (size_t i = 0; i < n; i++)
        together[i] = strcmp(jobs[i].kind, "connector") != 0;
    return true;
}

static bool run_jobs(thread *t, bpm_session *s, const bpm_job *jobs, size_t n, int64_t now, bpm_arena *a)
{
    bpm_executor *e = t->e;
    bool *done = bpm_arena_calloc(a, n ? n : 1, sizeof *done);
    run_together(t, s, jobs, n, now, a, done);
    for (size_t i = 0; i < n && !stopping(e); i++) {
        if (done[i])
            continue;
        const bpm_job *j = &jobs[i];
        bool timer = strcmp(j->kind, "timer") == 0;
        bpm_err jerr = {0};
        bpm_rc rc;
        bpm_job counted = *j; /* as a failure of it is counted */
        int64_t at = now;
        if (strcmp(j->kind, "connector") == 0) {
            /* The call must end well before the job's lock does, or another
             * worker would call again; earlier calls of this round may have
             * used up most of it: then the job waits for the next taker. */
            int64_t left = now + e->cfg.lock_ms - bpm_session_now(s);
            if (left < 2000)
                continue;
            rc = bpm_connector_run(s, j, left / 2, a, &counted, &at, &jerr);
        } else {
            bpm_cmd cmd = {.kind = timer ? BPM_CMD_TRIGGER : BPM_CMD_COMPLETE, .wait = j->wait};
            /* a timer fires at its due time, not when a worker notices it */
            if (timer && j->due_ms < now)
                at = j->due_ms;
            rc = bpm_runtime_run(&s->rt, j->instance_id, &cmd, NULL, at, &jerr);
        }
        if (rc == BPM_OK) {
            atomic_fetch_add(&e->stats.jobs_done, 1);
        } else if (rc == BPM_INVALID) {
            bool incident = false;
            bpm_jobs_fail(s->pg, &counted, jerr.msg, at > now ? at : now, &incident, NULL);
            atomic_fetch_add(&e->stats.jobs_failed, 1);
            say(e, "warn", "job-failed", "job %s at %s failed%s: %s", j->id, j->element_id,
                incident ? ", no retries left: incident" : ", will retry", jerr.msg);
        } else if (rc == BPM_NOT_FOUND || rc == BPM_CONFLICT) {
            /* the wait is gone (cancelled meanwhile) or the instance ended */
            const char *p[1] = {j->id};
            bpm_pg_query(s->pg, "delete from job where id = $1", 1, p, NULL, NULL, NULL, "drop a stale job", NULL);
        } else {
            say(e, "error", "job-error", "job %s: %s", j->id, jerr.msg);
            if (rc == BPM_UNAVAILABLE)
                return false;
        }
    }
    return true;
}

static void run_starts(thread *t, bpm_session *s, bpm_arena *a, int64_t now, size_t *n)
{
    bpm_executor *e = t->e;
    bpm_start_job *starts = NULL;
    *n = 0;
    if (bpm_jobs_acquire_starts(s->pg, t->name, now, e->cfg.lock_ms, 4, &starts, n, a, NULL) != BPM_OK)
        return;
    for (size_t i = 0; i < *n; i++) {
        const bpm_start_job *sj = &starts[i];
        bpm_err serr = {0};
        char id[BPM_ID_SIZE];
        int64_t at = sj->due_ms < now ? sj->due_ms : now;
        bpm_runtime plain = s->rt;
        plain.incidents_fail = false;
        if (bpm_runtime_start(&plain, sj->definition_id, sj->element_id, NULL, NULL, NULL, at, id, &serr) != BPM_OK)
            say(e, "warn", "timer-start-failed", "timer start of %s failed: %s", sj->definition_id, serr.msg);
        else
            atomic_fetch_add(&e->stats.jobs_done, 1);
        bpm_jobs_start_done(s->pg, sj, now, NULL);
    }
}

/* Idle: sleep until notified, until the next job falls due, or a slow
 * heartbeat, in slices of a second so a stop request is seen promptly; the
 * database is not asked anything in between. A notification may be a moved
 * clock (`bpmnctl clock` notifies too), so the offset is read again after
 * one instead of trusting the session's copy. */
static void idle(bpm_executor *e, bpm_session *s)
{
    int64_t due = bpm_jobs_next_due(s->pg);
    int64_t wait = due == INT64_MAX ? 30000 : due - bpm_session_now(s);
    if (wait > 30000)
        wait = 30000;
    int64_t until = bpm_session_wall_ms() + (wait < 0 ? 0 : wait);
    while (!stopping(e)) {
        int64_t left = until - bpm_session_wall_ms();
        if (left <= 0)
            break;
        if (bpm_jobs_wait(s->pg, left > 1000 ? 1000 : (int)left)) {
            s->offset_read_at = 0;
            break;
        }
    }
}

static void *work(void *arg)
{
    thread *t = arg;
    bpm_executor *e = t->e;
    bpm_err err = {0};
    bpm_session s;
    if (bpm_session_open(&s, e->conninfo, &err)) {
        say(e, "error", "executor-start", "executor thread %d: %s", t->index, err.msg);
        t->status = 1;
        return NULL;
    }
    s.rt.incidents_fail = true;
    if (e->cfg.counters)
        bpm_session_count_into(&s, e->cfg.counters);
    int64_t last_cleanup = 0, last_starts = 0;
    bpm_jobs_session(s.pg, NULL);
    while (!stopping(e)) {
        int64_t now = bpm_session_now(&s);
        bpm_arena *a = bpm_arena_new();
        bpm_job *jobs = NULL;
        size_t n = 0, ns = 0;
        pthread_mutex_lock(&e->acquire_mu);
        bpm_rc arc = bpm_jobs_acquire(s.pg, t->name, now, e->cfg.lock_ms, (size_t)e->cfg.batch, &jobs, &n, a, &err);
        pthread_mutex_unlock(&e->acquire_mu);
        if (arc) {
            say(e, "error", "acquire-failed", "%s", err.msg);
            bpm_arena_free(a);
            if (bpm_pg_reset(s.pg, &err)) { /* the server went away: wait for it */
                sleep(1);
            } else {
                bpm_jobs_session(s.pg, NULL); /* a new session has forgotten it */
                /* what this thread had locked but not finished is free again
                 * now, not only when its locks expire */
                const char *p[1] = {t->name};
                bpm_pg_query(s.pg, "update job set lock_owner = null, lock_expires_at = null where lock_owner = $1", 1,
                             p, NULL, NULL, NULL, "release locks", NULL);
            }
            continue;
        }
        atomic_fetch_add(&e->stats.acquisitions, n);
        for (size_t i = 0; i < n; i++)
            if (jobs[i].due_ms < now)
                atomic_fetch_add(&e->stats.delay_ms_total, (unsigned long long)(now - jobs[i].due_ms));
        bool alive = run_jobs(t, &s, jobs, n, now, a);
        /* timer start events: looked for when idle, and while busy at most
         * once a second (a query each round would cost a round trip per
         * handful of jobs) */
        if (alive && !stopping(e) && (n == 0 || bpm_session_wall_ms() - last_starts >= 1000)) {
            run_starts(t, &s, a, now, &ns);
            last_starts = bpm_session_wall_ms();
        }
        bpm_arena_free(a);
        /* retention: the first thread removes expired history every 10 minutes */
        if (t->index == 0 && bpm_session_wall_ms() - last_cleanup > 10 * 60 * 1000) {
            size_t removed = 0;
            if (bpm_pgstore_cleanup(s.store, now, 1000, &removed, &err) == BPM_OK && removed)
                say(e, "info", "history-cleanup", "history of %zu ended instance(s) removed", removed);
            last_cleanup = bpm_session_wall_ms();
        }
        if (n || ns || !alive)
            continue;
        if (e->cfg.once)
            break;
        idle(e, &s);
    }
    /* stopped: what this thread locked but did not run is free again now,
     * and with it the rest of those instances' jobs (exclusive jobs) */
    const char *p[1] = {t->name};
    bpm_pg_query(s.pg, "update job set lock_owner = null, lock_expires_at = null where lock_owner = $1", 1, p, NULL,
                 NULL, NULL, "release locks", NULL);
    bpm_session_close(&s);
    return NULL;
}

bpm_rc bpm_executor_start(const bpm_executor_config *cfg, bpm_executor **out, bpm_err *err)
{
    if (cfg->threads < 1 || cfg->threads > 64)
        return bpm_err_set(err, BPM_BAD_REQUEST, "executor threads must be between 1 and 64, not %d", cfg->threads);
    if (cfg->batch < 0 || cfg->batch > 1000)
        return bpm_err_set(err, BPM_BAD_REQUEST, "executor batch must be between 1 and 1000, not %d", cfg->batch);
    bpm_executor *e = bpm_xcalloc(1, sizeof *e);
    e->cfg = *cfg;
    e->conninfo = bpm_xstrdup(cfg->conninfo);
    if (!e->cfg.batch)
        e->cfg.batch = DEFAULT_BATCH;
    pthread_mutex_init(&e->acquire_mu, NULL);
    if (!e->cfg.lock_ms)
        e->cfg.lock_ms = 5 * 60 * 1000;
    e->threads = bpm_xcalloc((size_t)cfg->threads, sizeof *e->threads);
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    for (int i = 0; i < cfg->threads; i++) {
        thread *t = &e->threads[i];
        t->e = e;
        t->index = i;
        snprintf(t->name, sizeof t->name, "%s:%ld:%d", host, (long)getpid(), i);
        t->started = pthread_create(&t->tid, NULL, work, t) == 0;
    }
    *out = e;
    return BPM_OK;
}

void bpm_executor_stop(bpm_executor *e)
{
    atomic_store(&e->stopping, true);
}

int bpm_executor_join(bpm_executor *e, unsigned long long *done, unsigned long long *failed)
{
    int status = 0;
    for (int i = 0; i < e->cfg.threads; i++) {
        if (e->threads[i].started)
            pthread_join(e->threads[i].tid, NULL);
        else
            status = 1;
        status |= e->threads[i].status;
    }
    if (done)
        *done = atomic_load(&e->stats.jobs_done);
    if (failed)
        *failed = atomic_load(&e->stats.jobs_failed);
    free(e->threads);
    free(e->conninfo);
    pthread_mutex_destroy(&e->acquire_mu);
    free(e);
    return status;
}

const bpm_executor_stats *bpm_executor_stats_of(const bpm_executor *e)
{
    return &e->stats;
}
