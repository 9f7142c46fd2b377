/* The job executor's side of PostgreSQL: acquiring due jobs with a lock and
 * an expiry (FOR UPDATE SKIP LOCKED, so any number of workers in any number
 * of processes share them), failures counted as retries with backoff until an
 * incident, operator retries, and waiting for work with LISTEN/NOTIFY. */
#ifndef BPM_JOBS_H
#define BPM_JOBS_H

#include <jansson.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "pg.h"
#include "store.h"

typedef struct bpm_job {
    const char *id;
    const char *instance_id;
    uint32_t wait;
    const char *kind;        /* async | timer | connector */
    const char *element_id;
    int retries;             /* left before this attempt; -1 = not failed yet */
    const char *retry_cycle; /* camunda:failedJobRetryTimeCycle, or NULL */
    int64_t due_ms;
    int64_t retry_after_ms;  /* a failure's least backoff (a server's Retry-After); 0 = none */
} bpm_job;

/* Locks due async, timer and connector jobs for worker until now + lock_ms (a crashed
 * worker's jobs are taken over once its locks expire), by whole instances
 * (exclusive jobs): as many instances as the first max due jobs belong to,
 * with every due job of each, so more than max jobs may come back; the
 * caller runs one instance's jobs one after another. While it does, no other
 * worker takes a job of those instances: the session holds an advisory lock
 * on each until its next call, which first releases every session-level
 * advisory lock of the connection (so an executor's connection holds no
 * others), or until it ends. Never waits for a lock. Results in arena a,
 * earliest due first. */
bpm_rc bpm_jobs_acquire(bpm_pg *pg, const char *worker, int64_t now_ms, int64_t lock_ms, size_t max, bpm_job **out,
                        size_t *n, bpm_arena *a, bpm_err *err);

/* A run of the job failed with message: one retry fewer, due again after the
 * backoff (the retry cycle's interval, else 10 s doubling; at least the
 * job's retry_after_ms), lock released;
 * at zero retries an incident (failedJob) is opened. *incident (may be NULL)
 * tells which happened. */
bpm_rc bpm_jobs_fail(bpm_pg *pg, const bpm_job *job, const char *message, int64_t now_ms, bool *incident,
                     bpm_err *err);

/* `bpmnctl retry`: a job id or an incident id; gives the job its retries back
 * (3, or the retry cycle's count; a Camunda 8 job the diagram's retries), due
 * now, and resolves its incident; the history records the operation by user
 * (may be NULL) in the same statement. */
bpm_rc bpm_jobs_retry(bpm_pg *pg, const char *job_or_incident, const char *user, bpm_err *err);

/* A timer start event that fell due: start an instance, then call
 * bpm_jobs_start_done (at-least-once: a crash in between starts it again
 * once the lock expires). */
typedef struct bpm_start_job {
    const char *definition_id;
    const char *element_id;
    const char *value;
    int timer_kind;
    int64_t start_ms;
    uint32_t fired;
    int64_t due_ms;
} bpm_start_job;

bpm_rc bpm_jobs_acquire_starts(bpm_pg *pg, const char *worker, int64_t now_ms, int64_t lock_ms, size_t max,
                               bpm_start_job **out, size_t *n, bpm_arena *a, bpm_err *err);
/* Arms the next occurrence of a cycle, or removes a fired date/duration. */
bpm_rc bpm_jobs_start_done(bpm_pg *pg, const bpm_start_job *job, int64_t now_ms, bpm_err *err);

/* Makes a connection an executor's: subscribed to job notifications
 * (LISTEN), planning acquisitions by the due-job index. Again after every
 * reconnection: a new session has forgotten both. */
bpm_rc bpm_jobs_session(bpm_pg *pg, bpm_err *err);
/* Sleeps until a job notification arrives (or the connection has news, such
 * as having been closed) or timeout_ms passes; true when woken early. */
bool bpm_jobs_wait(bpm_pg *pg, int timeout_ms);
/* The earliest due time of a job the executor runs, or INT64_MAX. */
int64_t bpm_jobs_next_due(bpm_pg *pg);

/* The payload of job id (its wait's data; for a connector, the call's
 * inputs) as a new reference in *out. BPM_NOT_FOUND when the job is gone. */
bpm_rc bpm_jobs_payload(bpm_pg *pg, const char *id, json_t **out, bpm_err *err);

#endif
