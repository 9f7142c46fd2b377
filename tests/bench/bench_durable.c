/* W2 and W3 against a real PostgreSQL (BPMND_DATABASE_URL):
 *   bench_durable w2 FILE [--connections N] [--seconds S]
 *       straight-through instances, each one transaction (full history)
 *   bench_durable w3 FILE [--threads N] [--seconds S]
 *       instances parked at asyncBefore jobs, then run by N executor threads
 *   bench_durable w7 FILE [--threads N] [--seconds S]
 *       instances parked at a message catch with business keys, then each
 *       correlated by name and business key from N connections; then the
 *       message-before-subscription path (buffer with a TTL, then start)
 *   bench_durable w6 FILE [--count N] [--threads N]
 *       N instances parked at a timer, all due at the same moment (the
 *       diagram's timeDate is ${due}), then fired by executor threads under
 *       a clock set to that moment: timers fired per second and lateness
 *   bench_durable w5 FILE [--count N] [--threads N] [--seconds S]
 *       N instances waiting at a user task assigned to one of 1,000 users:
 *       database bytes per waiting instance, one user's inbox listed
 *       (median, p99), then tasks (picked at random beforehand) completed
 *       per second from N connections
 *   bench_durable w4 FILE [--seconds S]
 *       user task round trip: complete the first task, then list the inbox
 *       until the next one is visible; median and p99 of that latency
 *   bench_durable w8 FILE [--count N] [--threads N]
 *       N instances of a fork/join with async branches parked (each leaves
 *       its branch jobs due together), then run by N executor threads:
 *       instances/s, jobs/s, and lock waits: pg_locks sampled every 5 ms,
 *       deadlocks, failed runs (tests/bench/w8.sh adds log_lock_waits)
 *   bench_durable w2 ... --sample-locks 1
 *       W2 with the same lock sampling (W8 in one transaction)
 *   bench_durable w2 ... --window S
 *       W2 with instances/s and latency p50/p99 for every S seconds (W9)
 *   bench_durable trace FILE --out TRACE [--count N] [--message NAME]
 *       N instances started one after another on one connection with
 *       libpq's protocol trace on (PQtrace), each followed by a line
 *       "#bpmnd start ID BUSINESS_KEY"; with --message each is started with
 *       the business key K-i and then gets message NAME by that key, followed
 *       by "#bpmnd correlate ID K-i". tests/bench/replay.py turns the last
 *       such command into a pgbench script of exactly that SQL
 * Prints instances (or jobs) per second, and per instance: commits, rows
 * written and WAL bytes, read from PostgreSQL's own counters. A program that
 * prints figures; never a test. */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs.h"
#include "pg.h"
#include "pgstore.h"
#include "runtime.h"
#include "scripts.h"
#include "timer.h"

static const char *url;
static const char *def_id;
static double seconds = 5;
static atomic_long counter;
static atomic_bool stop_now;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct stats {
    long long commits, inserted, updated, deleted, wal;
} stats;

static stats read_stats(bpm_pg *pg)
{
    stats s = {0};
    PGresult *r = PQexec(bpm_pg_conn(pg), "select xact_commit, tup_inserted, tup_updated, tup_deleted,"
                                          " pg_current_wal_lsn() - '0/0'::pg_lsn from pg_stat_database"
                                          " where datname = current_database()");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        s.commits = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        s.inserted = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
        s.updated = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
        s.deleted = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
        s.wal = strtoll(PQgetvalue(r, 0, 4), NULL, 10);
    }
    PQclear(r);
    return s;
}

typedef struct env {
    bpm_pg *pg;
    bpm_scripts *scripts;
    bpm_evaluator ev;
    bpm_pgstore *store;
    bpm_runtime rt;
} env;

static int env_open(env *e)
{
    bpm_err err = {0};
    if (bpm_pg_open(url, &e->pg, &err)) {
        fprintf(stderr, "bench_durable: %s\n", err.msg);
        return 1;
    }
    e->scripts = bpm_scripts_new(NULL, &err);
    e->ev = bpm_scripts_evaluator(e->scripts);
    e->store = bpm_pgstore_new(e->pg, &e->ev);
    e->rt = (bpm_runtime){.store = bpm_pgstore_port(e->store), .eval = &e->ev};
    return 0;
}

static void env_close(env *e)
{
    bpm_pgstore_free(e->store);
    bpm_scripts_free(e->scripts);
    bpm_pg_close(e->pg);
}

/* What one W2 thread saw: when each instance was started (seconds after
 * w2_t0) and how long it took (ms). */
typedef struct lat_log {
    double *at, *ms;
    size_t n, cap;
} lat_log;
static lat_log w2_logs[64];
static double w2_t0;

static void *w2_thread(void *arg)
{
    lat_log *log = arg;
    env e;
    if (env_open(&e))
        return NULL;
    while (!atomic_load(&stop_now)) {
        bpm_err err = {0};
        double t = now_s();
        if (bpm_runtime_start(&e.rt, def_id, NULL, NULL, NULL, NULL, wall_ms(), NULL, &err)) {
            fprintf(stderr, "bench_durable: %s\n", err.msg);
            break;
        }
        if (log->n == log->cap) {
            log->cap = log->cap ? log->cap * 2 : 4096;
            log->at = realloc(log->at, log->cap * sizeof *log->at);
            log->ms = realloc(log->ms, log->cap * sizeof *log->ms);
        }
        log->at[log->n] = t - w2_t0;
        log->ms[log->n++] = (now_s() - t) * 1000;
        atomic_fetch_add(&counter, 1);
    }
    env_close(&e);
    return NULL;
}

static long w7_parked;
static int w7_threads;

static void *w7_thread(void *arg)
{
    int index = *(int *)arg;
    env e;
    if (env_open(&e))
        return NULL;
    for (long i = index; i < w7_parked; i += w7_threads) {
        char bk[32];
        snprintf(bk, sizeof bk, "B-%ld", i);
        bpm_err err = {0};
        size_t delivered = 0;
        if (bpm_runtime_correlate(&e.rt, "Paid", NULL, bk, NULL, false, 0, wall_ms(), &delivered, &err) == BPM_OK &&
            delivered == 1)
            atomic_fetch_add(&counter, 1);
        else
            fprintf(stderr, "bench_durable: %s: %s\n", bk, err.msg);
    }
    env_close(&e);
    return NULL;
}

static void *w7_early_thread(void *arg)
{
    int index = *(int *)arg;
    env e;
    if (env_open(&e))
        return NULL;
    for (long i = index; !atomic_load(&stop_now); i += w7_threads) {
        char bk[32];
        snprintf(bk, sizeof bk, "E-%ld", i);
        bpm_err err = {0};
        size_t delivered = 0;
        if (bpm_runtime_correlate(&e.rt, "Paid", NULL, bk, NULL, false, 3600000, wall_ms(), &delivered, &err) ||
            bpm_runtime_start(&e.rt, def_id, NULL, NULL, bk, NULL, wall_ms(), NULL, &err)) {
            fprintf(stderr, "bench_durable: %s: %s\n", bk, err.msg);
            break;
        }
        atomic_fetch_add(&counter, 1);
    }
    env_close(&e);
    return NULL;
}

static long bulk_count;
static atomic_long failed_runs;
static int64_t w6_due;
static double w6_t0;
static double *w6_late;
static atomic_long bulk_next;
/* as executor.c: the threads of one process acquire one at a time */
static pthread_mutex_t acquire_mu = PTHREAD_MUTEX_INITIALIZER;
static size_t acquire_max = 64; /* as executor.c; BENCH_ACQUIRE_MAX overrides it */

/* An executor thread as `bpmnctl worker` runs one: acquire due jobs, run
 * each (a timer fires, anything else completes) until none is left. The
 * clock is the wall clock, or w6_due when W6 has set one; W6 also records
 * how late each timer fired. */
static void *exec_thread(void *arg)
{
    int index = *(int *)arg;
    env e;
    if (env_open(&e))
        return NULL;
    char name[32];
    snprintf(name, sizeof name, "bench-%d", index);
    bpm_jobs_session(e.pg, NULL);
    int empty = 0;
    while (!atomic_load(&stop_now)) {
        bpm_arena *a = bpm_arena_new();
        bpm_job *jobs = NULL;
        size_t n = 0;
        bpm_err err = {0};
        int64_t now = w6_due ? w6_due : wall_ms();
        pthread_mutex_lock(&acquire_mu);
        bpm_rc arc = bpm_jobs_acquire(e.pg, name, now, 60000, acquire_max, &jobs, &n, a, &err);
        pthread_mutex_unlock(&acquire_mu);
        if (arc || n == 0) {
            bpm_arena_free(a);
            /* drained only when no job is left at all: an empty acquisition
             * may just mean that every due instance was being taken by
             * another thread (16 threads racing for the first due jobs) */
            if (n == 0 && ++empty > 3 && bpm_jobs_next_due(e.pg) > now)
                break;
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
            continue;
        }
        empty = 0;
        /* as executor.c runs a round: all of it in one transaction, else
         * one job after another */
        bpm_runtime_item *items = bpm_arena_calloc(a, n, sizeof *items);
        for (size_t i = 0; i < n; i++) {
            bool timer = strcmp(jobs[i].kind, "timer") == 0;
            items[i] = (bpm_runtime_item){.instance_id = jobs[i].instance_id, .now_ms = now,
                                          .cmd = {.kind = timer ? BPM_CMD_TRIGGER : BPM_CMD_COMPLETE,
                                                  .wait = jobs[i].wait}};
        }
        if (n > 1 && bpm_runtime_run_all(&e.rt, items, n, NULL, &err) == BPM_OK) {
            for (size_t i = 0; i < n; i++) {
                long k = atomic_fetch_add(&counter, 1);
                if (w6_late && k < bulk_count)
                    w6_late[k] = (now_s() - w6_t0) * 1000;
            }
            bpm_arena_free(a);
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            if (bpm_runtime_run(&e.rt, jobs[i].instance_id, &items[i].cmd, NULL, now, &err) != BPM_OK) {
                atomic_fetch_add(&failed_runs, 1);
                continue;
            }
            long k = atomic_fetch_add(&counter, 1);
            if (w6_late && k < bulk_count)
                w6_late[k] = (now_s() - w6_t0) * 1000;
        }
        bpm_arena_free(a);
    }
    env_close(&e);
    return NULL;
}

/* Starts instances until bulk_count are parked; W6 gives each its due time. */
static void *park_thread(void *arg)
{
    (void)arg;
    env e;
    if (env_open(&e))
        return NULL;
    json_t *vars = NULL;
    if (w6_due) {
        char iso_due[BPM_TIMER_ISO_SIZE];
        bpm_timer_format_iso(w6_due, iso_due, sizeof iso_due);
        vars = json_pack("{ss}", "due", iso_due);
    }
    while (atomic_fetch_add(&bulk_next, 1) < bulk_count) {
        bpm_err err = {0};
        if (bpm_runtime_start(&e.rt, def_id, NULL, vars, NULL, NULL, wall_ms(), NULL, &err)) {
            fprintf(stderr, "bench_durable: %s\n", err.msg);
            break;
        }
    }
    json_decref(vars);
    env_close(&e);
    return NULL;
}


static void *w5_park(void *arg)
{
    (void)arg;
    env e;
    if (env_open(&e))
        return NULL;
    long i;
    while ((i = atomic_fetch_add(&bulk_next, 1)) < bulk_count) {
        char user[32];
        snprintf(user, sizeof user, "user%ld", i % 1000);
        json_t *vars = json_pack("{ss}", "user", user);
        bpm_err err = {0};
        bpm_rc rc = bpm_runtime_start(&e.rt, def_id, NULL, vars, NULL, NULL, wall_ms(), NULL, &err);
        json_decref(vars);
        if (rc) {
            fprintf(stderr, "bench_durable: %s\n", err.msg);
            break;
        }
    }
    env_close(&e);
    return NULL;
}

/* Completes first tasks picked at random over the whole table beforehand,
 * so the figure is the completion alone, not the picking. */
static char (*w5_ids)[BPM_ID_SIZE];
static uint32_t *w5_waits;
static long w5_n;

static void *w5_complete(void *arg)
{
    (void)arg;
    env e;
    if (env_open(&e))
        return NULL;
    long i;
    while (!atomic_load(&stop_now) && (i = atomic_fetch_add(&bulk_next, 1)) < w5_n) {
        bpm_cmd cmd = {.kind = BPM_CMD_COMPLETE, .wait = w5_waits[i]};
        bpm_err err = {0};
        if (bpm_runtime_run(&e.rt, w5_ids[i], &cmd, "bench", wall_ms(), &err) == BPM_OK)
            atomic_fetch_add(&counter, 1);
    }
    env_close(&e);
    return NULL;
}

/* The protocol trace of N commands on one connection: every statement with
 * its parameters, and where the client waits (each Sync or simple Query), as
 * the server received them. The markers delimit the commands. */
static int trace(env *e, const char *out, const char *message)
{
    FILE *f = fopen(out, "w");
    if (!f) {
        fprintf(stderr, "bench_durable: cannot write \"%s\"\n", out);
        return 1;
    }
    PGconn *c = bpm_pg_conn(e->pg);
    PQtrace(c, f);
    PQsetTraceFlags(c, PQTRACE_SUPPRESS_TIMESTAMPS);
    int rc = 0;
    for (long i = 0; i < bulk_count && !rc; i++) {
        char id[BPM_ID_SIZE], bk[32];
        snprintf(bk, sizeof bk, "K-%ld", i);
        bpm_err err = {0};
        if (bpm_runtime_start(&e->rt, def_id, NULL, NULL, message ? bk : NULL, NULL, wall_ms(), id, &err)) {
            fprintf(stderr, "bench_durable: %s\n", err.msg);
            rc = 1;
            break;
        }
        fprintf(f, "#bpmnd start %s %s\n", id, message ? bk : "-");
        if (!message)
            continue;
        size_t delivered = 0;
        if (bpm_runtime_correlate(&e->rt, message, NULL, bk, NULL, false, 0, wall_ms(), &delivered, &err) ||
            delivered != 1) {
            fprintf(stderr, "bench_durable: message \"%s\" to %s: %s\n", message, bk, err.msg);
            rc = 1;
            break;
        }
        fprintf(f, "#bpmnd correlate %s %s\n", id, bk);
    }
    PQuntrace(c);
    fclose(f);
    return rc;
}

/* Lock waits seen from the server: every 5 ms, how many row lock requests
 * (a tuple, or the transaction holding it) wait, and how many others, such
 * as concurrent inserts extending one table. Row lock waits are commands of
 * one instance queueing for each other. Short waits can fall between
 * samples; w8.sh also counts every wait of 1 ms or more (log_lock_waits). */
static atomic_bool sampler_stop;
static long lock_samples, lock_samples_waiting, lock_waiters, other_waiters;

static void *lock_sampler(void *arg)
{
    (void)arg;
    bpm_pg *pg = NULL;
    if (bpm_pg_open(url, &pg, NULL))
        return NULL;
    /* one transaction for all samples, so they add no commits to the
     * database's counters (pg_locks shows the live lock table each time) */
    PQclear(PQexec(bpm_pg_conn(pg), "begin"));
    while (!atomic_load(&sampler_stop)) {
        PGresult *r = PQexec(bpm_pg_conn(pg), "select count(*) filter (where locktype in ('tuple', 'transactionid')),"
                                              " count(*) from pg_locks where not granted");
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            long w = strtol(PQgetvalue(r, 0, 0), NULL, 10);
            lock_samples++;
            lock_samples_waiting += w > 0;
            lock_waiters += w;
            other_waiters += strtol(PQgetvalue(r, 0, 1), NULL, 10) - w;
        }
        PQclear(r);
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    PQclear(PQexec(bpm_pg_conn(pg), "commit"));
    bpm_pg_close(pg);
    return NULL;
}

static long long deadlocks(env *e)
{
    PGresult *r = PQexec(bpm_pg_conn(e->pg), "select deadlocks from pg_stat_database where datname = current_database()");
    long long n = PQresultStatus(r) == PGRES_TUPLES_OK ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return n;
}

/* A line in the server log, so w8.sh can count log_lock_waits reports of
 * the measured phase only. */
static void log_mark(env *e, const char *what)
{
    char sql[256];
    snprintf(sql, sizeof sql, "do $$begin raise log 'bench_durable: %s'; end$$", what);
    PQclear(PQexec(bpm_pg_conn(e->pg), sql));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The latencies of W2 instances started in [from, to) s, sorted, in *out
 * (malloc'd); returns how many. */
static size_t w2_latencies(int threads, double from, double to, double **out)
{
    size_t n = 0;
    for (int i = 0; i < threads; i++)
        n += w2_logs[i].n;
    double *v = malloc((n ? n : 1) * sizeof *v);
    size_t k = 0;
    for (int i = 0; i < threads; i++)
        for (size_t j = 0; j < w2_logs[i].n; j++)
            if (w2_logs[i].at[j] >= from && w2_logs[i].at[j] < to)
                v[k++] = w2_logs[i].ms[j];
    qsort(v, k, sizeof *v, cmp_double);
    *out = v;
    return k;
}

/* The open task of an instance, read the way an inbox client would. */
static bool open_task(env *e, const char *instance, char *element, size_t n, uint32_t *wait)
{
    const char *p[1] = {instance};
    PGresult *r = PQexecParams(bpm_pg_conn(e->pg),
                               "select element_id, wait_id from user_task where instance_id = $1"
                               " and candidate_groups @> array['clerks']",
                               1, NULL, p, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok) {
        snprintf(element, n, "%s", PQgetvalue(r, 0, 0));
        *wait = (uint32_t)strtoul(PQgetvalue(r, 0, 1), NULL, 10);
    }
    PQclear(r);
    return ok;
}

static int w4(env *e)
{
    size_t cap = 1 << 16, n = 0;
    double *lat = malloc(cap * sizeof *lat);
    double end = now_s() + seconds;
    while (now_s() < end && n < cap) {
        bpm_err err = {0};
        char id[BPM_ID_SIZE], element[128];
        uint32_t wait = 0;
        if (bpm_runtime_start(&e->rt, def_id, NULL, NULL, NULL, NULL, wall_ms(), id, &err) ||
            !open_task(e, id, element, sizeof element, &wait)) {
            fprintf(stderr, "bench_durable: cannot start an instance with an open task: %s\n", err.msg);
            free(lat);
            return 1;
        }
        double t0 = now_s();
        bpm_cmd cmd = {.kind = BPM_CMD_COMPLETE, .wait = wait};
        if (bpm_runtime_run(&e->rt, id, &cmd, "bench", wall_ms(), &err) ||
            !open_task(e, id, element, sizeof element, &wait) || strcmp(element, "First") == 0) {
            fprintf(stderr, "bench_durable: the next task did not appear: %s\n", err.msg);
            free(lat);
            return 1;
        }
        lat[n++] = (now_s() - t0) * 1000;
    }
    qsort(lat, n, sizeof *lat, cmp_double);
    printf("W4 task round trip %-21s %zu round trips: median %.3f ms, p99 %.3f ms, max %.3f ms\n", "", n,
           n ? lat[n / 2] : 0, n ? lat[(size_t)((double)n * 0.99)] : 0, n ? lat[n - 1] : 0);
    free(lat);
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

int main(int argc, char **argv)
{
    url = getenv("BPMND_DATABASE_URL");
    if (getenv("BENCH_ACQUIRE_MAX") && atoi(getenv("BENCH_ACQUIRE_MAX")) > 0)
        acquire_max = (size_t)atoi(getenv("BENCH_ACQUIRE_MAX"));
    if (argc < 3 || !url) {
        fprintf(stderr, "usage: BPMND_DATABASE_URL=... bench_durable w2|w3|w4|w5|w6|w7|w8|trace FILE [--connections|--threads N] [--seconds S]\n");
        return 2;
    }
    const char *mode = argv[1], *file = argv[2];
    int par = 1;
    bulk_count = 100000;
    const char *trace_out = NULL, *message = NULL;
    bool sample_locks = false;
    double window = 0;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--connections") == 0 || strcmp(argv[i], "--threads") == 0)
            par = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--count") == 0)
            bulk_count = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = strtod(argv[i + 1], NULL);
        else if (strcmp(argv[i], "--out") == 0)
            trace_out = argv[i + 1];
        else if (strcmp(argv[i], "--message") == 0)
            message = argv[i + 1];
        else if (strcmp(argv[i], "--window") == 0)
            window = strtod(argv[i + 1], NULL);
        else if (strcmp(argv[i], "--sample-locks") == 0)
            sample_locks = strcmp(argv[i + 1], "0") != 0;
    }
    env e;
    if (env_open(&e))
        return 1;
    bpm_err err = {0};
    bpm_pg_migrate(e.pg, NULL, &err);
    size_t len = 0;
    char *xml = read_file(file, &len);
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    bpm_resource res = {base, xml, len};
    bpm_diags d;
    bpm_diags_init(&d);
    bpm_deployed dep;
    if (!xml || bpm_pgstore_deploy(e.store, base, "bench", &res, 1, true, wall_ms(), &dep, &d, &err)) {
        fprintf(stderr, "bench_durable: cannot deploy %s: %s\n", file, err.msg);
        return 1;
    }
    free(xml);
    bpm_diags_cleanup(&d);
    /* the definition of this file: the latest one deployed from a resource
     * of its name (a duplicate deploy adds none, so not simply the latest) */
    static char def[256];
    const char *rp[1] = {base};
    PGresult *r = PQexecParams(bpm_pg_conn(e.pg),
                               "select id from process_definition where resource_name = $1 order by created_at desc limit 1",
                               1, NULL, rp, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        fprintf(stderr, "bench_durable: no process definition deployed from %s\n", base);
        return 1;
    }
    snprintf(def, sizeof def, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    def_id = def;
    json_decref(dep.definitions);

    pthread_t tids[64];
    int idx[64];
    if (par < 1 || par > 64)
        par = 1;
    if (strcmp(mode, "w5") == 0) {
        PGresult *r0 = PQexec(bpm_pg_conn(e.pg), "select pg_database_size(current_database())");
        long long size0 = strtoll(PQgetvalue(r0, 0, 0), NULL, 10);
        PQclear(r0);
        double p0 = now_s();
        for (int i = 0; i < par; i++)
            pthread_create(&tids[i], NULL, w5_park, NULL);
        for (int i = 0; i < par; i++)
            pthread_join(tids[i], NULL);
        double park = now_s() - p0;
        PQclear(PQexec(bpm_pg_conn(e.pg), "vacuum analyze"));
        r0 = PQexec(bpm_pg_conn(e.pg), "select pg_database_size(current_database())");
        long long size1 = strtoll(PQgetvalue(r0, 0, 0), NULL, 10);
        PQclear(r0);
        /* where the bytes are: per table with its indexes and TOAST */
        PGresult *tb = PQexec(bpm_pg_conn(e.pg), "select relname, pg_total_relation_size(oid) from pg_class"
                                                 " where relkind = 'r' and relnamespace = 'public'::regnamespace"
                                                 " order by 2 desc limit 6");
        for (int k = 0; k < PQntuples(tb); k++)
            fprintf(stderr, "W5:   %-18s %8.0f bytes per waiting instance\n", PQgetvalue(tb, k, 0),
                    strtod(PQgetvalue(tb, k, 1), NULL) / (double)(bulk_count ? bulk_count : 1));
        PQclear(tb);
        /* one user's inbox, as `bpmnctl tasks --assignee U` lists it */
        double lat[200];
        for (int k = 0; k < 200; k++) {
            char user[32];
            snprintf(user, sizeof user, "user%d", (k * 37) % 1000);
            const char *p[1] = {user};
            double t0 = now_s();
            PGresult *inbox = PQexecParams(bpm_pg_conn(e.pg),
                                           "select id, name, element_id, assignee, instance_id, due_at, created_at"
                                           " from user_task where assignee = $1 order by created_at, id",
                                           1, NULL, p, NULL, NULL, 0);
            lat[k] = (now_s() - t0) * 1000;
            PQclear(inbox);
        }
        qsort(lat, 200, sizeof *lat, cmp_double);
        PGresult *pick = PQexec(bpm_pg_conn(e.pg), "select instance_id, wait_id from user_task where element_id = 'First'"
                                                   " order by random() limit 100000");
        w5_n = PQntuples(pick);
        w5_ids = calloc((size_t)w5_n + 1, sizeof *w5_ids);
        w5_waits = calloc((size_t)w5_n + 1, sizeof *w5_waits);
        for (long k = 0; k < w5_n; k++) {
            snprintf(w5_ids[k], BPM_ID_SIZE, "%s", PQgetvalue(pick, (int)k, 0));
            w5_waits[k] = (uint32_t)strtoul(PQgetvalue(pick, (int)k, 1), NULL, 10);
        }
        PQclear(pick);
        atomic_store(&bulk_next, 0);
        double t0 = now_s();
        for (int i = 0; i < par; i++) {
            idx[i] = i;
            pthread_create(&tids[i], NULL, w5_complete, &idx[i]);
        }
        struct timespec ts = {(time_t)seconds, 0};
        nanosleep(&ts, NULL);
        atomic_store(&stop_now, true);
        for (int i = 0; i < par; i++)
            pthread_join(tids[i], NULL);
        double dt = now_s() - t0;
        long n = atomic_load(&counter);
        printf("W5 waiting      %-24s %ld waiting (parked in %.0f s): %.0f database bytes each;"
               " inbox of one user (%ld tasks) median %.2f ms, p99 %.2f ms; conns %d complete %.0f tasks/s\n",
               base, bulk_count, park, (double)(size1 - size0) / (double)(bulk_count ? bulk_count : 1), bulk_count / 1000,
               lat[100], lat[198], par, n / dt);
        free(w5_ids);
        free(w5_waits);
        env_close(&e);
        return 0;
    }
    if (strcmp(mode, "w8") == 0) {
        double p0 = now_s();
        for (int i = 0; i < 4; i++)
            pthread_create(&tids[i], NULL, park_thread, NULL);
        for (int i = 0; i < 4; i++)
            pthread_join(tids[i], NULL);
        PGresult *r0 = PQexec(bpm_pg_conn(e.pg), "select count(*) from job");
        fprintf(stderr, "W8: %ld instances parked in %.1f s, %s jobs due\n", bulk_count, now_s() - p0, PQgetvalue(r0, 0, 0));
        PQclear(r0);
        PQclear(PQexec(bpm_pg_conn(e.pg), "vacuum analyze job"));

        log_mark(&e, "w8 executors start");
        long long d0 = deadlocks(&e);
        stats s0 = read_stats(e.pg);
        pthread_t sampler;
        pthread_create(&sampler, NULL, lock_sampler, NULL);
        double t0 = now_s();
        for (int i = 0; i < par; i++) {
            idx[i] = i;
            pthread_create(&tids[i], NULL, exec_thread, &idx[i]);
        }
        for (int i = 0; i < par; i++)
            pthread_join(tids[i], NULL);
        double dt = now_s() - t0;
        atomic_store(&sampler_stop, true);
        pthread_join(sampler, NULL);
        stats s1 = read_stats(e.pg);
        long long d1 = deadlocks(&e);
        log_mark(&e, "w8 executors end");
        long jobs = atomic_load(&counter);
        PGresult *done = PQexec(bpm_pg_conn(e.pg), "select count(*) filter (where state = 'completed'), count(*) from process_instance");
        long completed = strtol(PQgetvalue(done, 0, 0), NULL, 10), all = strtol(PQgetvalue(done, 0, 1), NULL, 10);
        PQclear(done);
        printf("W8 fork/join async %-21s threads %2d  %8.0f instances/s  %8.0f jobs/s  (%ld of %ld instances completed in %.1f s)"
               "  row lock waits: %ld of %ld samples (%ld waiters; %ld other waiters), %lld deadlocks, %ld failed runs"
               "  per instance: %.1f commits, %.1f rows written\n",
               base, par, completed / dt, jobs / dt, completed, all, dt, lock_samples_waiting, lock_samples, lock_waiters,
               other_waiters, d1 - d0, atomic_load(&failed_runs), (double)(s1.commits - s0.commits) / (double)(completed ? completed : 1),
               (double)(s1.inserted + s1.updated + s1.deleted - s0.inserted - s0.updated - s0.deleted) /
                   (double)(completed ? completed : 1));
        env_close(&e);
        return 0;
    }
    if (strcmp(mode, "w6") == 0) {
        /* all due one hour from now; the executors run with the clock there */
        w6_due = wall_ms() + 3600000;
        w6_late = calloc((size_t)bulk_count, sizeof *w6_late);
        double p0 = now_s();
        for (int i = 0; i < 4; i++)
            pthread_create(&tids[i], NULL, park_thread, NULL);
        for (int i = 0; i < 4; i++)
            pthread_join(tids[i], NULL);
        fprintf(stderr, "W6: %ld instances parked in %.1f s\n", bulk_count, now_s() - p0);

        stats s0 = read_stats(e.pg);
        w6_t0 = now_s();
        for (int i = 0; i < par; i++) {
            idx[i] = i;
            pthread_create(&tids[i], NULL, exec_thread, &idx[i]);
        }
        for (int i = 0; i < par; i++)
            pthread_join(tids[i], NULL);
        double dt = now_s() - w6_t0;
        stats s1 = read_stats(e.pg);
        long n = atomic_load(&counter);
        size_t m = (size_t)(n < bulk_count ? n : bulk_count);
        qsort(w6_late, m, sizeof *w6_late, cmp_double);
        printf("W6 timers due at once %-17s threads %2d  %8.0f fired/s  (%ld in %.1f s)  lateness median %.0f ms, p99 %.0f ms"
               "  per timer: %.1f commits, %.1f rows written\n",
               base, par, n / dt, n, dt, m ? w6_late[m / 2] : 0, m ? w6_late[(size_t)((double)m * 0.99)] : 0,
               (double)(s1.commits - s0.commits) / (double)(n ? n : 1),
               (double)(s1.inserted + s1.updated + s1.deleted - s0.inserted - s0.updated - s0.deleted) / (double)(n ? n : 1));
        free(w6_late);
        env_close(&e);
        return 0;
    }
    if (strcmp(mode, "w7") == 0) {
        w7_parked = (long)(seconds * 1000);
        w7_threads = par;
        for (long i = 0; i < w7_parked; i++) {
            char bk[32];
            snprintf(bk, sizeof bk, "B-%ld", i);
            if (bpm_runtime_start(&e.rt, def_id, NULL, NULL, bk, NULL, wall_ms(), NULL, &err)) {
                fprintf(stderr, "bench_durable: %s\n", err.msg);
                return 1;
            }
        }
        stats s0 = read_stats(e.pg);
        double t0 = now_s();
        for (int i = 0; i < par; i++) {
            idx[i] = i;
            pthread_create(&tids[i], NULL, w7_thread, &idx[i]);
        }
        for (int i = 0; i < par; i++)
            pthread_join(tids[i], NULL);
        double dt = now_s() - t0;
        stats s1 = read_stats(e.pg);
        long n = atomic_load(&counter);
        printf("W7 correlate    %-24s conns %2d  %8.0f correlations/s  (%ld in %.1f s)  per correlation: %.1f commits, %.1f rows written\n",
               base, par, n / dt, n, dt, (double)(s1.commits - s0.commits) / (double)(n ? n : 1),
               (double)(s1.inserted + s1.updated + s1.deleted - s0.inserted - s0.updated - s0.deleted) / (double)(n ? n : 1));
        atomic_store(&counter, 0);
        t0 = now_s();
        for (int i = 0; i < par; i++)
            pthread_create(&tids[i], NULL, w7_early_thread, &idx[i]);
        struct timespec ts = {(time_t)seconds, 0};
        nanosleep(&ts, NULL);
        atomic_store(&stop_now, true);
        for (int i = 0; i < par; i++)
            pthread_join(tids[i], NULL);
        dt = now_s() - t0;
        n = atomic_load(&counter);
        PGresult *left = PQexec(bpm_pg_conn(e.pg), "select count(*) from process_instance where state = 'active'");
        printf("W7 early message %-23s conns %2d  %8.0f buffered-then-started/s  (%ld in %.1f s), instances still waiting: %s\n",
               base, par, n / dt, n, dt, PQgetvalue(left, 0, 0));
        PQclear(left);
        env_close(&e);
        return 0;
    }
    if (strcmp(mode, "trace") == 0) {
        if (!trace_out) {
            fprintf(stderr, "bench_durable trace: --out TRACE is required\n");
            env_close(&e);
            return 2;
        }
        /* a fresh connection, so the trace shows its statements prepared */
        env t;
        int rc = env_open(&t);
        if (!rc) {
            rc = trace(&t, trace_out, message);
            env_close(&t);
        }
        env_close(&e);
        return rc;
    }
    if (strcmp(mode, "w4") == 0) {
        int rc = w4(&e);
        env_close(&e);
        return rc;
    }
    if (strcmp(mode, "w3") == 0) {
        /* park instances at their asyncBefore jobs first, then time the executors */
        long parked = (long)(seconds * 2000);
        for (long i = 0; i < parked; i++)
            if (bpm_runtime_start(&e.rt, def_id, NULL, NULL, NULL, NULL, wall_ms(), NULL, &err))
                break;
        stats s0 = read_stats(e.pg);
        double t0 = now_s();
        for (int i = 0; i < par; i++) {
            idx[i] = i;
            pthread_create(&tids[i], NULL, exec_thread, &idx[i]);
        }
        for (int i = 0; i < par; i++)
            pthread_join(tids[i], NULL);
        double dt = now_s() - t0;
        stats s1 = read_stats(e.pg);
        long n = atomic_load(&counter);
        printf("W3 async jobs   %-24s threads %2d  %8.0f jobs/s  (%ld jobs in %.1f s)  per job: %.1f commits, %.1f rows written, %.0f WAL bytes\n",
               base, par, n / dt, n, dt, (double)(s1.commits - s0.commits) / (double)(n ? n : 1),
               (double)(s1.inserted + s1.updated + s1.deleted - s0.inserted - s0.updated - s0.deleted) / (double)(n ? n : 1),
               (double)(s1.wal - s0.wal) / (double)(n ? n : 1));
    } else {
        pthread_t sampler;
        log_mark(&e, "w2 start");
        long long d0 = deadlocks(&e);
        stats s0 = read_stats(e.pg);
        if (sample_locks)
            pthread_create(&sampler, NULL, lock_sampler, NULL);
        double t0 = now_s();
        w2_t0 = t0;
        for (int i = 0; i < par; i++)
            pthread_create(&tids[i], NULL, w2_thread, &w2_logs[i]);
        struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
        nanosleep(&ts, NULL);
        atomic_store(&stop_now, true);
        for (int i = 0; i < par; i++)
            pthread_join(tids[i], NULL);
        double dt = now_s() - t0;
        if (sample_locks) {
            atomic_store(&sampler_stop, true);
            pthread_join(sampler, NULL);
        }
        stats s1 = read_stats(e.pg);
        long long d1 = deadlocks(&e);
        log_mark(&e, "w2 end");
        long n = atomic_load(&counter);
        printf("W2 durable      %-24s conns %2d  %8.0f instances/s  (%ld in %.1f s)  per instance: %.1f commits, %.1f rows written, %.0f WAL bytes",
               base, par, n / dt, n, dt, (double)(s1.commits - s0.commits) / (double)(n ? n : 1),
               (double)(s1.inserted + s1.updated + s1.deleted - s0.inserted - s0.updated - s0.deleted) / (double)(n ? n : 1),
               (double)(s1.wal - s0.wal) / (double)(n ? n : 1));
        double *lat;
        size_t m = w2_latencies(par, 0, dt + 1, &lat);
        printf("  latency p50 %.2f ms, p99 %.2f ms", m ? lat[m / 2] : 0, m ? lat[(size_t)((double)m * 0.99)] : 0);
        free(lat);
        if (sample_locks)
            printf("  row lock waits: %ld of %ld samples (%ld waiters; %ld other waiters), %lld deadlocks",
                   lock_samples_waiting, lock_samples, lock_waiters, other_waiters, d1 - d0);
        printf("\n");
        /* W9: the same figures window by window, to see them drift */
        for (double from = 0; window > 0 && from + window <= dt + 0.001; from += window) {
            m = w2_latencies(par, from, from + window, &lat);
            printf("W2 window %5.0f-%-5.0f s %-24s conns %2d  %8.0f instances/s  latency p50 %.2f ms, p99 %.2f ms\n",
                   from, from + window, base, par, (double)m / window, m ? lat[m / 2] : 0,
                   m ? lat[(size_t)((double)m * 0.99)] : 0);
            free(lat);
        }
        for (int i = 0; i < par; i++) {
            free(w2_logs[i].at);
            free(w2_logs[i].ms);
        }
    }
    env_close(&e);
    return 0;
}
