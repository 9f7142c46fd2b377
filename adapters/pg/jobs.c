/* Job acquisition, failure accounting and notifications. */
#include "jobs.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timer.h"

#define DEFAULT_RETRIES 3
/* The first key of the advisory locks by which an executor holds instances
 * ("bpmd"); the second is the hash of the instance id. */
#define JOB_LOCK_CLASS "1651535204"

static void iso(int64_t ms, char *buf, size_t n)
{
    if (!bpm_timer_format_iso(ms, buf, n))
        snprintf(buf, n, "1970-01-01T00:00:00.000Z");
}

static bpm_rc run(bpm_pg *pg, const char *sql, int n, const char *const *p, PGresult **out, const char *doing,
                  bpm_err *err)
{
    return bpm_pg_query(pg, sql, n, p, NULL, NULL, out, doing, err);
}

bpm_rc bpm_jobs_acquire(bpm_pg *pg, const char *worker, int64_t now_ms, int64_t lock_ms, size_t max, bpm_job **out,
                        size_t *n, bpm_arena *a, bpm_err *err)
{
    char now[BPM_TIMER_ISO_SIZE], until[BPM_TIMER_ISO_SIZE], lim[24];
    iso(now_ms, now, sizeof now);
    iso(now_ms + lock_ms, until, sizeof until);
    snprintf(lim, sizeof lim, "%zu", max ? max : 1);
    const char *p[4] = {worker, now, until, lim};
    PGresult *res = NULL;
    bpm_rc rc;
    /* Exclusive jobs, as Camunda 7 runs them. The jobs of one instance all
     * lock its row, so workers running jobs of one instance at once only
     * queue for each other (10 branches of a fork falling due together).
     * So a worker takes whole instances: every due job of each, run one
     * after another. Who has an instance is a session advisory lock on it,
     * tried (never waited for) and held until the worker's next acquisition,
     * when its jobs are done. Row locks could not say it: an acquisition
     * whose snapshot predates another's commit locks rows of instances that
     * are taken by then, and the taker's next step waits for it. So rows are
     * locked only for instances already ours, and nothing here waits:
     *   cand: the first 4 x max due jobs, unlocked and of instances with no
     *         live job lock (a worker that died keeps its instances until
     *         its locks expire), off the job_due index in due order;
     *   inst: their instances in that order (materialized: a condition on
     *         them must not be evaluated before they are sorted);
     *   mine: tried one by one until we have as many as the first max jobs
     *         have (LIMIT stops the tries, so no lock is taken unused);
     *   the due jobs of mine, instance by instance (a lateral join) off
     *         the (instance_id, wait_id) index, locked with the usual owner
     *         and expiry (FOR UPDATE SKIP LOCKED). The due condition is
     *         wrapped in IS TRUE so that it is no index condition: with
     *         statistics that lag behind (100,000 timers written for one
     *         moment, 20,000 continuations) the planner would otherwise walk
     *         job_due through every due job, testing each against the list
     *         of these few instances. */
    if ((rc = bpm_pg_exec(pg, "select pg_advisory_unlock_all()", err)))
        return rc;
    rc = run(pg,
             "with cand as materialized (select instance_id, row_number() over () as n from ("
             "select j2.instance_id from job j2 join process_instance i on i.id = j2.instance_id"
             " where j2.kind in ('async', 'timer', 'connector') and j2.due_at <= $2::timestamptz and not j2.suspended"
             " and (j2.retries is null or j2.retries > 0)"
             " and (j2.lock_owner is null or j2.lock_expires_at < $2::timestamptz)"
             " and i.state = 'active' and not i.suspended"
             " and not exists (select 1 from job o where o.instance_id = j2.instance_id"
             " and o.kind in ('async', 'timer', 'connector') and o.lock_owner is not null"
             " and o.lock_expires_at >= $2::timestamptz)"
             " order by j2.due_at, j2.priority desc limit 4 * $4::int) c),"
             " inst as materialized (select instance_id from cand group by instance_id order by min(n)),"
             " mine as materialized (select instance_id from inst where pg_try_advisory_lock(" JOB_LOCK_CLASS
             ", hashtext(instance_id)) limit (select count(distinct instance_id) from cand where n <= $4::int))"
             " update job j set lock_owner = $1, lock_expires_at = $3::timestamptz"
             " from (select x.id from mine m, lateral (select y.id from job y where y.instance_id = m.instance_id"
             " and y.kind in ('async', 'timer', 'connector') and (y.due_at <= $2::timestamptz) is true"
             " and not y.suspended"
             " and (y.retries is null or y.retries > 0)"
             " and (y.lock_owner is null or y.lock_expires_at < $2::timestamptz)"
             " for update of y skip locked) x) picked"
             " where j.id = picked.id"
             " returning j.id, j.instance_id, j.wait_id, j.kind, j.element_id, coalesce(j.retries, -1),"
             " j.retry_cycle, (extract(epoch from j.due_at) * 1000)::bigint",
             4, p, &res, "acquire jobs", err);
    if (rc)
        return rc;
    size_t rows = (size_t)PQntuples(res);
    if (rows == 0) /* an idle worker holds no instance */
        bpm_pg_exec(pg, "select pg_advisory_unlock_all()", NULL);
    bpm_job *jobs = bpm_arena_calloc(a, rows ? rows : 1, sizeof *jobs);
    for (size_t i = 0; i < rows; i++) {
        int r = (int)i;
        jobs[i].id = bpm_arena_strdup(a, PQgetvalue(res, r, 0));
        jobs[i].instance_id = bpm_arena_strdup(a, PQgetvalue(res, r, 1));
        jobs[i].wait = (uint32_t)strtoul(PQgetvalue(res, r, 2), NULL, 10);
        jobs[i].kind = bpm_arena_strdup(a, PQgetvalue(res, r, 3));
        jobs[i].element_id = bpm_arena_strdup(a, PQgetvalue(res, r, 4));
        jobs[i].retries = (int)strtol(PQgetvalue(res, r, 5), NULL, 10);
        jobs[i].retry_cycle = PQgetisnull(res, r, 6) ? NULL : bpm_arena_strdup(a, PQgetvalue(res, r, 6));
        jobs[i].due_ms = strtoll(PQgetvalue(res, r, 7), NULL, 10);
    }
    /* earliest first, whatever order UPDATE ... RETURNING chose */
    for (size_t i = 1; i < rows; i++)
        for (size_t j = i; j > 0 && jobs[j - 1].due_ms > jobs[j].due_ms; j--) {
            bpm_job t = jobs[j];
            jobs[j] = jobs[j - 1];
            jobs[j - 1] = t;
        }
    PQclear(res);
    *out = jobs;
    *n = rows;
    return BPM_OK;
}

/* The retry cycle "R5/PT5M": 5 retries, 5 minutes apart (Camunda 7
 * failedJobRetryTimeCycle); without one, 3 retries backing off from 10 s. */
static void retry_policy(const bpm_job *job, int *total, int64_t *interval_ms)
{
    *total = DEFAULT_RETRIES;
    *interval_ms = 0; /* 0: exponential backoff */
    bpm_timer_cycle c;
    if (job->retry_cycle && bpm_timer_parse_cycle(job->retry_cycle, &c, NULL) == BPM_OK) {
        int64_t next = 0;
        bool done = false;
        if (bpm_timer_cycle_next(&c, 1, 0, 0, &next, &done, NULL) == BPM_OK && !done && next > 0)
            *interval_ms = next; /* the first occurrence after a start at 0 is one period */
        if (c.repeat >= 0)
            *total = (int)c.repeat;
    }
}

bpm_rc bpm_jobs_fail(bpm_pg *pg, const bpm_job *job, const char *message, int64_t now_ms, bool *incident,
                     bpm_err *err)
{
    int total;
    int64_t interval;
    retry_policy(job, &total, &interval);
    int left = (job->retries < 0 ? total : job->retries) - 1;
    if (left < 0)
        left = 0;
    int failures = total - left; /* 1 after the first failure */
    int64_t delay = interval ? interval : 10000LL << (failures > 1 ? (failures - 1 < 10 ? failures - 1 : 10) : 0);
    if (job->retry_after_ms > delay) /* the server said when it will take the call again */
        delay = job->retry_after_ms;
    char due[BPM_TIMER_ISO_SIZE], retries[16];
    iso(now_ms + delay, due, sizeof due);
    snprintf(retries, sizeof retries, "%d", left);
    const char *p[4] = {job->id, retries, due, message};
    bpm_rc rc = run(pg,
                    "update job set retries = $2::int, due_at = $3::timestamptz, lock_owner = null,"
                    " lock_expires_at = null, error_message = $4 where id = $1",
                    4, p, NULL, "record a job failure", err);
    if (rc)
        return rc;
    const char *ph[3] = {job->instance_id, job->element_id, message};
    run(pg,
        "insert into history (instance_id, kind, element_id, detail)"
        " values ($1, 'job-failed', $2, jsonb_build_object('message', $3::text))",
        3, ph, NULL, "record a job failure", NULL);
    if (incident)
        *incident = left == 0;
    if (left > 0)
        return BPM_OK;
    char id[64];
    snprintf(id, sizeof id, "%s-incident", job->id);
    const char *pi[4] = {id, job->instance_id, job->element_id, message};
    return run(pg,
               "with i as (insert into incident (id, instance_id, definition_id, element_id, type, configuration, message)"
               " select $1, $2, p.definition_id, $3, 'failedJob', j.id, $4 from job j join process_instance p on p.id ="
               " j.instance_id where j.instance_id = $2 and j.element_id = $3 and j.id || '-incident' = $1"
               " on conflict (id) do update set resolved_at = null, message = excluded.message, created_at = now())"
               " update process_instance set incident = true where id = $2",
               4, pi, NULL, "open an incident", err);
}

bpm_rc bpm_jobs_retry(bpm_pg *pg, const char *job_or_incident, const char *user, bpm_err *err)
{
    const char *p[2] = {job_or_incident, user};
    PGresult *res = NULL;
    bpm_rc rc = run(pg,
                    "with target as (select j.id from job j where j.id = $1 union select n.configuration from incident n"
                    " where n.id = $1), upd as (update job set retries = case when kind = 'job' then"
                    " (payload->>'retries')::int end, due_at = now() - interval '1 ms',"
                    " lock_owner = null, lock_expires_at = null where id in (select id from target) returning id,"
                    " instance_id), res as (update incident set resolved_at = now() where configuration in (select id"
                    " from upd) and resolved_at is null returning id, instance_id, element_id), r as (insert into"
                    " history (instance_id, kind, element_id, user_id, detail) select instance_id, 'incident-resolved',"
                    " element_id, $2, jsonb_build_object('incident', id) from res), h as (insert into history"
                    " (instance_id, definition_key, business_key, kind, user_id, detail) select u.instance_id,"
                    " i.definition_key, i.business_key, 'operation', $2,"
                    " jsonb_build_object('operation', 'retry', 'job', u.id)"
                    " from upd u join process_instance i on i.id = u.instance_id) select count(*) from upd",
                    2, p, &res, "retry the job", err);
    if (rc)
        return rc;
    bool found = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
    PQclear(res);
    if (!found)
        return bpm_err_set(err, BPM_NOT_FOUND, "no job or incident \"%s\"", job_or_incident);
    run(pg, "select pg_notify('bpmnd_jobs', 'retry')", 0, NULL, NULL, "notify", NULL);
    return BPM_OK;
}

bpm_rc bpm_jobs_acquire_starts(bpm_pg *pg, const char *worker, int64_t now_ms, int64_t lock_ms, size_t max,
                               bpm_start_job **out, size_t *n, bpm_arena *a, bpm_err *err)
{
    char now[BPM_TIMER_ISO_SIZE], until[BPM_TIMER_ISO_SIZE], lim[24];
    iso(now_ms, now, sizeof now);
    iso(now_ms + lock_ms, until, sizeof until);
    snprintf(lim, sizeof lim, "%zu", max ? max : 1);
    const char *p[4] = {worker, now, until, lim};
    PGresult *res = NULL;
    bpm_rc rc = run(pg,
                    "update start_timer t set lock_owner = $1, lock_expires_at = $3::timestamptz"
                    " from (select definition_id, element_id from start_timer s join process_definition d on d.id ="
                    " s.definition_id where s.due_at <= $2::timestamptz and not d.suspended"
                    " and (s.lock_owner is null or s.lock_expires_at < $2::timestamptz)"
                    " order by s.due_at limit $4::int for update of s skip locked) picked"
                    " where t.definition_id = picked.definition_id and t.element_id = picked.element_id"
                    " returning t.definition_id, t.element_id, t.value, t.timer_kind, t.start_ms, t.fired,"
                    " (extract(epoch from t.due_at) * 1000)::bigint",
                    4, p, &res, "acquire timer start events", err);
    if (rc)
        return rc;
    size_t rows = (size_t)PQntuples(res);
    bpm_start_job *jobs = bpm_arena_calloc(a, rows ? rows : 1, sizeof *jobs);
    for (size_t i = 0; i < rows; i++) {
        int r = (int)i;
        jobs[i].definition_id = bpm_arena_strdup(a, PQgetvalue(res, r, 0));
        jobs[i].element_id = bpm_arena_strdup(a, PQgetvalue(res, r, 1));
        jobs[i].value = bpm_arena_strdup(a, PQgetvalue(res, r, 2));
        jobs[i].timer_kind = (int)strtol(PQgetvalue(res, r, 3), NULL, 10);
        jobs[i].start_ms = strtoll(PQgetvalue(res, r, 4), NULL, 10);
        jobs[i].fired = (uint32_t)strtoul(PQgetvalue(res, r, 5), NULL, 10);
        jobs[i].due_ms = strtoll(PQgetvalue(res, r, 6), NULL, 10);
    }
    PQclear(res);
    *out = jobs;
    *n = rows;
    return BPM_OK;
}

bpm_rc bpm_jobs_start_done(bpm_pg *pg, const bpm_start_job *job, int64_t now_ms, bpm_err *err)
{
    int64_t next = 0;
    bool done = true;
    if (job->timer_kind == BPM_TIMER_CYCLE)
        bpm_timer_next_due(BPM_TIMER_CYCLE, job->value, now_ms > job->due_ms ? now_ms : job->due_ms, job->start_ms,
                           job->fired + 1, &next, &done, NULL);
    const char *key[2] = {job->definition_id, job->element_id};
    if (done)
        return run(pg, "delete from start_timer where definition_id = $1 and element_id = $2", 2, key, NULL,
                   "retire a timer start event", err);
    char at[BPM_TIMER_ISO_SIZE];
    iso(next, at, sizeof at);
    const char *p[3] = {job->definition_id, job->element_id, at};
    return run(pg,
               "update start_timer set fired = fired + 1, due_at = $3::timestamptz, lock_owner = null,"
               " lock_expires_at = null where definition_id = $1 and element_id = $2",
               3, p, NULL, "arm the next timer start", err);
}

bpm_rc bpm_jobs_session(bpm_pg *pg, bpm_err *err)
{
    /* Bitmap scans off: after many jobs fall due at once (100,000 timers of
     * one moment) the statistics lag behind, and the planner then gathers and
     * sorts every due job on each acquisition (tens of ms) instead of reading
     * the first few off the job_due index in order (under 1 ms). The
     * executor's other statements are lookups by key, which need no bitmaps. */
    return bpm_pg_exec(pg, "listen bpmnd_jobs; set enable_bitmapscan = off", err);
}

bool bpm_jobs_wait(bpm_pg *pg, int timeout_ms)
{
    PGconn *c = bpm_pg_conn(pg);
    struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
    if (pfd.fd >= 0)
        poll(&pfd, 1, timeout_ms < 0 ? 0 : timeout_ms);
    bool woken = pfd.fd < 0 || (pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
    PQconsumeInput(c);
    PGnotify *n;
    while ((n = PQnotifies(c))) {
        PQfreemem(n);
        woken = true;
    }
    return woken;
}

int64_t bpm_jobs_next_due(bpm_pg *pg)
{
    PGresult *res = PQexec(bpm_pg_conn(pg),
                           "select (extract(epoch from least((select min(due_at) from job where kind in ('async', 'timer',"
                           " 'connector')"
                           " and not suspended and (retries is null or retries > 0)), (select min(due_at) from"
                           " start_timer))) * 1000)::bigint");
    int64_t due = INT64_MAX;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && !PQgetisnull(res, 0, 0))
        due = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return due;
}

bpm_rc bpm_jobs_payload(bpm_pg *pg, const char *id, json_t **out, bpm_err *err)
{
    const char *p[1] = {id};
    PGresult *res = NULL;
    bpm_rc rc = run(pg, "select coalesce(payload, '{}'::jsonb)::text from job where id = $1", 1, p, &res,
                    "read a job's payload", err);
    if (rc)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return bpm_err_set(err, BPM_NOT_FOUND, "job \"%s\" is gone", id);
    }
    json_error_t je;
    json_t *v = json_loads(PQgetvalue(res, 0, 0), 0, &je);
    PQclear(res);
    if (!v)
        return bpm_err_set(err, BPM_INTERNAL, "job \"%s\" has an unreadable payload: %s", id, je.text);
    *out = v;
    return BPM_OK;
}
