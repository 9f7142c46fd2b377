/* The store port over PostgreSQL: instance rows with their state document,
 * waits as rows in user_task / job / subscription, variables, history and
 * incidents; a step's writes go to the server as one pipelined batch. */
#include "pgstore.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <unistd.h>

#include "bpmn.h"
#include "compile.h"
#include "pg_int.h"
#include "timer.h"

static void unref_model(void *p) { bpm_model_unref(p); }

void bpm_pgstore_set_history(bpm_pgstore *s, bpm_history_level level) { s->history = level; }

bpm_pgstore *bpm_pgstore_new(bpm_pg *pg, const bpm_evaluator *ev)
{
    bpm_pgstore *s = bpm_xcalloc(1, sizeof *s);
    s->history = BPM_HISTORY_FULL;
    s->pg = pg;
    s->ev = ev;
    s->cache_arena = bpm_arena_new();
    bpm_strmap_init(&s->models, s->cache_arena);
    bpm_strmap_init(&s->latest, s->cache_arena);
    s->urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    return s;
}

void bpm_pgstore_free(bpm_pgstore *s)
{
    if (!s)
        return;
    bpm_arena_free(s->cache_arena); /* deferred unrefs release the models */
    if (s->urandom >= 0)
        close(s->urandom);
    free(s->dedupe_source);
    free(s->dedupe_id);
    PQclear(s->locked);
    free(s->locked_used);
    free(s);
}

static PGconn *conn(bpm_pgstore *s) { return bpm_pg_conn(s->pg); }

/* ---- small helpers -------------------------------------------------------------- */

static bpm_rc pipe_enter(bpm_pgstore *s, bpm_err *err);
static void forget_locked(bpm_pgstore *s);
static void pipe_send(bpm_pgstore *s, const char *sql, int n, const char *const *params);
static bpm_rc pipe_sync(bpm_pgstore *s, PGresult **last, const char *doing, bpm_err *err);

/* A read: sent after whatever waits in the pipeline (BEGIN, the writes of
 * the steps before), all in one round trip. *out (when not NULL) owns the
 * read's result. */
static bpm_rc q(bpm_pgstore *s, const char *sql, int n, const char *const *params, PGresult **out, const char *doing,
                bpm_err *err)
{
    bpm_rc rc = pipe_enter(s, err);
    if (rc)
        return rc;
    pipe_send(s, sql, n, params);
    return pipe_sync(s, out, doing, err);
}

static void iso(int64_t ms, char *buf, size_t n)
{
    if (!bpm_timer_format_iso(ms, buf, n))
        snprintf(buf, n, "1970-01-01T00:00:00.000Z");
}

/* ---- transactions, ids, models ------------------------------------------------ */

void bpm_pgstore_set_counters(bpm_pgstore *s, bpm_pgstore_counters *c)
{
    s->counters = c;
}

void bpm_pgstore_dedupe(bpm_pgstore *s, const char *source, const char *id)
{
    free(s->dedupe_source);
    free(s->dedupe_id);
    s->dedupe_source = source && id ? bpm_xstrdup(source) : NULL;
    s->dedupe_id = source && id ? bpm_xstrdup(id) : NULL;
    s->dedupe_hit = false;
    s->dedupe_read = false;
    s->dedupe_instance[0] = '\0';
}

const char *bpm_pgstore_first_instance(const bpm_pgstore *s) { return s->first_instance; }

bool bpm_pgstore_dedupe_hit(bpm_pgstore *s, char instance_id[BPM_ID_SIZE])
{
    if (!s->dedupe_hit)
        return false;
    if (!s->dedupe_read && s->tx == 0) {
        /* after the rollback: the first delivery has committed (the unique
         * index made this one wait for it), so its row is there */
        const char *p[2] = {s->dedupe_source, s->dedupe_id};
        PGresult *res = NULL;
        if (q(s, "select coalesce(instance_id, '') from inbound_event where source = $1 and event_id = $2", 2, p, &res,
              "read an inbound event", NULL) == BPM_OK) {
            if (PQntuples(res) == 1)
                snprintf(s->dedupe_instance, sizeof s->dedupe_instance, "%s", PQgetvalue(res, 0, 0));
            PQclear(res);
        }
        s->dedupe_read = true;
    }
    if (instance_id)
        snprintf(instance_id, BPM_ID_SIZE, "%s", s->dedupe_instance);
    return true;
}

void bpm_pgstore_guard(bpm_pgstore *s, const char *key, const char *definition_id)
{
    s->guard_armed = definition_id != NULL;
    s->guard_with_key = key != NULL;
    s->guard_stale = false;
    snprintf(s->guard_key, sizeof s->guard_key, "%s", key ? key : "");
    snprintf(s->guard_id, sizeof s->guard_id, "%s", definition_id ? definition_id : "");
}

bool bpm_pgstore_guard_stale(const bpm_pgstore *s) { return s->guard_stale; }

bpm_rc bpm_pgstore_start_definition(bpm_pgstore *s, const char *key, bool fresh, char out[256], bpm_err *err)
{
    const char *cached = fresh ? NULL : bpm_strmap_get(&s->latest, key);
    if (cached) {
        snprintf(out, 256, "%s", cached);
        bpm_pgstore_guard(s, key, out);
        return BPM_OK;
    }
    bpm_pgstore_guard(s, NULL, NULL);
    const char *p[1] = {key};
    PGresult *res = NULL;
    bpm_rc rc = q(s,
                  "select id, suspended from process_definition where key = $1 and tenant_id is null"
                  " order by version desc limit 1",
                  1, p, &res, "find the process definition", err);
    if (rc)
        return rc;
    bool found = PQntuples(res) == 1, suspended = found && strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    if (found)
        snprintf(out, 256, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!found)
        return bpm_err_set(err, BPM_NOT_FOUND, "no process definition has the key \"%s\"", key);
    if (suspended)
        return bpm_err_set(err, BPM_CONFLICT, "process definition \"%s\" is suspended", out);
    void *old = NULL;
    const char *k = bpm_strmap_intern(&s->latest, key);
    bpm_strmap_put(&s->latest, k, bpm_arena_strdup(s->cache_arena, out), &old);
    return BPM_OK;
}

/* The armed definition check and de-duplication key travel behind BEGIN and
 * are answered with the transaction's first read or its COMMIT: a start by
 * key with a cached definition, or a delivered event, costs no round trip of
 * its own. A failure of either aborts the transaction; pipe_sync() tells
 * them apart from other failures (stale_or_duplicate()). */
static void send_armed(bpm_pgstore *s)
{
    if (s->guard_armed) {
        const char *p[2] = {s->guard_with_key ? s->guard_key : NULL, s->guard_id};
        pipe_send(s, "select bpm_expect_definition($1, $2)", 2, p);
    }
    if (s->dedupe_source) {
        /* a concurrent delivery of the same key waits on the unique index
         * until this transaction ends, then fails (or goes on after a
         * rollback) */
        const char *p[2] = {s->dedupe_source, s->dedupe_id};
        pipe_send(s, "insert into inbound_event (source, event_id) values ($1, $2)", 2, p);
    }
}

/* BPM_DUPLICATE is not BPM_CONFLICT: the runtime does not retry it; nor
 * BPM_NOT_FOUND for a stale definition: the caller looks the key up again. */
static bpm_rc stale_or_duplicate(bpm_pgstore *s, const PGresult *res, bpm_err *err)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    if (state && strcmp(state, "BP001") == 0 && s->guard_armed) {
        if (s->guard_with_key) {
            void *old = NULL;
            bpm_strmap_put(&s->latest, bpm_strmap_intern(&s->latest, s->guard_key), NULL, &old);
        }
        s->guard_stale = true;
        return bpm_err_set(err, BPM_NOT_FOUND, "process definition \"%s\" is not the latest active version of \"%s\"",
                           s->guard_id, s->guard_with_key ? s->guard_key : s->guard_id);
    }
    if (state && strcmp(state, "23505") == 0 && constraint && strcmp(constraint, "inbound_event_pkey") == 0 &&
        s->dedupe_source) {
        s->dedupe_hit = true;
        return bpm_err_set(err, BPM_DUPLICATE, "event \"%s\" from \"%s\" was delivered before", s->dedupe_id,
                           s->dedupe_source);
    }
    return BPM_OK;
}

static bpm_rc s_begin(void *self, bpm_err *err)
{
    (void)err;
    bpm_pgstore *s = self;
    s->n_started = s->n_completed = s->n_terminated = 0;
    s->first_instance[0] = '\0';
    s->tx = 1; /* BEGIN goes with the transaction's first statement */
    return BPM_OK;
}

/* Ends a transaction whose BEGIN went out and whose COMMIT did not happen:
 * after a failed statement the server keeps the block open (aborted) past
 * the pipeline's sync. */
static void abandon(bpm_pgstore *s)
{
    forget_locked(s);
    if (s->pipe_open)
        pipe_sync(s, NULL, "end a failed transaction", NULL);
    if (s->tx == 2)
        bpm_pg_exec(s->pg, "rollback", NULL);
    s->tx = 0;
}

static bpm_rc s_commit(void *self, bpm_err *err)
{
    bpm_pgstore *s = self;
    bpm_rc rc = BPM_OK;
    /* a transaction that wrote or read nothing costs nothing, unless it
     * records a delivered event */
    if (s->tx == 2 || s->pipe_open || (s->tx == 1 && s->dedupe_source)) {
        if (!(rc = pipe_enter(s, err))) {
            if (s->dedupe_source && s->first_instance[0]) {
                const char *p[3] = {s->dedupe_source, s->dedupe_id, s->first_instance};
                pipe_send(s, "update inbound_event set instance_id = $3 where source = $1 and event_id = $2", 3, p);
            }
            pipe_send(s, "commit", 0, NULL);
            rc = pipe_sync(s, NULL, "commit", err);
        }
        if (rc)
            abandon(s);
    }
    s->tx = 0;
    forget_locked(s);
    if (rc == BPM_OK && s->counters) {
        atomic_fetch_add(&s->counters->started, s->n_started);
        atomic_fetch_add(&s->counters->completed, s->n_completed);
        atomic_fetch_add(&s->counters->terminated, s->n_terminated);
    }
    s->n_started = s->n_completed = s->n_terminated = 0;
    return rc;
}

static void s_rollback(void *self)
{
    bpm_pgstore *s = self;
    s->n_started = s->n_completed = s->n_terminated = 0;
    s->pending_id[0] = '\0';
    abandon(s);
}

/* Ids are UUID version 7 (RFC 9562): the time in milliseconds, then random
 * bits. Rows made at about the same time have neighbouring keys, so every
 * index led by an id (instances, tasks, and the instance_id of variables and
 * history) grows at its right edge with full pages, where random keys would
 * split pages all over and leave them about a third empty. */
static void s_new_id(void *self, char out[BPM_ID_SIZE])
{
    bpm_pgstore *s = self;
    unsigned char b[16] = {0};
    if (s->urandom < 0 || read(s->urandom, b, sizeof b) != (ssize_t)sizeof b) {
        /* no /dev/urandom (a chroot): getrandom(2) has the same source */
        if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
            /* nothing random at all: unique still, by a per-process counter */
            static _Atomic unsigned long long seq;
            unsigned long long n = atomic_fetch_add(&seq, 1) ^ ((unsigned long long)getpid() << 40);
            memcpy(b + 8, &n, sizeof n);
        }
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (8 * (5 - i)));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x70); /* version 7 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 9562 variant */
    snprintf(out, BPM_ID_SIZE, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static bpm_rc s_model(void *self, const char *definition_id, const bpm_model **m, const bpm_process **p, bpm_err *err)
{
    bpm_pgstore *s = self;
    bpm_model *cached = bpm_strmap_get(&s->models, definition_id);
    if (!cached) {
        const char *params[1] = {definition_id};
        PGresult *res = NULL;
        bpm_rc rc = q(s,
                      "select r.bytes, d.key from process_definition d join resource r"
                      " on r.deployment_id = d.deployment_id and r.name = d.resource_name where d.id = $1",
                      1, params, &res, "load a process definition", err);
        if (rc)
            return rc;
        if (PQntuples(res) == 0) {
            PQclear(res);
            return bpm_err_set(err, BPM_NOT_FOUND, "process definition \"%s\" does not exist", definition_id);
        }
        size_t len = 0;
        unsigned char *xml = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 0), &len);
        PQclear(res);
        bpm_diags d;
        bpm_diags_init(&d);
        bpm_model *model = NULL;
        rc = xml ? bpm_bpmn_read_buffer((const char *)xml, len, definition_id, NULL, &model, &d, err) : BPM_INTERNAL;
        PQfreemem(xml);
        if (!rc && bpm_compile_model(model, s->ev, &d) != BPM_OK)
            rc = bpm_err_set(err, BPM_INVALID, "process definition \"%s\" no longer compiles", definition_id);
        bpm_diags_cleanup(&d);
        if (rc) {
            bpm_model_unref(model);
            return rc;
        }
        bpm_strmap_put(&s->models, bpm_arena_strdup(s->cache_arena, definition_id), model, NULL);
        bpm_arena_defer(s->cache_arena, unref_model, model);
        cached = model;
    }
    /* the definition's process: its key is the part before the first ':' */
    const char *colon = strchr(definition_id, ':');
    char key[256];
    snprintf(key, sizeof key, "%.*s", colon ? (int)(colon - definition_id) : (int)strlen(definition_id), definition_id);
    const bpm_process *proc = bpm_model_find_process(cached, key);
    if (!proc)
        return bpm_err_set(err, BPM_NOT_FOUND, "process \"%s\" is not in definition \"%s\"", key, definition_id);
    *m = cached;
    *p = proc;
    return BPM_OK;
}

/* ---- instances ----------------------------------------------------------------- */

static const char *state_name(const bpm_inst *inst)
{
    return inst->state == BPM_INST_COMPLETED ? "completed" : inst->state == BPM_INST_TERMINATED ? "terminated" : "active";
}

/* The row of a new instance is written by the save that follows its first
 * step, in the same transaction: one INSERT instead of an INSERT and an
 * UPDATE of the same row. */
static bpm_rc s_create(void *self, const bpm_inst *inst, const char *start_user, bpm_err *err)
{
    (void)err;
    bpm_pgstore *s = self;
    snprintf(s->pending_id, sizeof s->pending_id, "%s", inst->id);
    if (!s->first_instance[0])
        snprintf(s->first_instance, sizeof s->first_instance, "%s", inst->id);
    snprintf(s->pending_user, sizeof s->pending_user, "%s", start_user ? start_user : "");
    return BPM_OK;
}

/* The members of the state document that the instance row has as columns:
 * stored once, in the columns, and put back into the document on load. */
static const char *const in_row[] = {"id",         "definitionId", "process", "businessKey", "parentInstance",
                                     "parentWait", "state",        "suspended", NULL};

static char *state_document(const bpm_inst *inst)
{
    json_t *j = bpm_inst_to_json(inst);
    for (const char *const *k = in_row; *k; k++)
        json_object_del(j, *k);
    char *doc = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return doc;
}

#define LOCK_COLUMNS                                                                                              \
    "select definition_id, state_json, id, definition_key, business_key, parent_instance_id, parent_wait, state,"   \
    " suspended from process_instance"

/* An instance from row r of a LOCK_COLUMNS result. */
static bpm_rc load_row(bpm_pgstore *s, const PGresult *res, int r, const char *id, bpm_inst **out, bpm_err *err)
{
    if (!s->first_instance[0])
        snprintf(s->first_instance, sizeof s->first_instance, "%s", id);
    const bpm_model *m = NULL;
    const bpm_process *p = NULL;
    char def[256];
    snprintf(def, sizeof def, "%s", PQgetvalue(res, r, 0));
    json_error_t je;
    json_t *state = json_loads(PQgetvalue(res, r, 1), 0, &je);
    if (!state)
        return bpm_err_set(err, BPM_INTERNAL, "the state of instance \"%s\" is not JSON: %s", id, je.text);
    /* the columns after state_json, in the order selected */
    static const struct {
        const char *member;
        char type; /* s string, i integer, b boolean */
    } cols[] = {{"id", 's'},   {"process", 's'}, {"businessKey", 's'}, {"parentInstance", 's'},
                {"parentWait", 'i'}, {"state", 's'}, {"suspended", 'b'}};
    json_object_set_new(state, "definitionId", json_string(def));
    for (int k = 0; k < (int)(sizeof cols / sizeof cols[0]); k++) {
        if (PQgetisnull(res, r, k + 2))
            continue;
        const char *v = PQgetvalue(res, r, k + 2);
        json_object_set_new(state, cols[k].member,
                            cols[k].type == 'i'   ? json_integer(strtoll(v, NULL, 10))
                            : cols[k].type == 'b' ? json_boolean(v[0] == 't')
                                                  : json_string(v));
    }
    bpm_rc rc = s_model(s, def, &m, &p, err);
    if (rc == BPM_OK)
        rc = bpm_inst_from_json(p, state, out, err);
    json_decref(state);
    return rc;
}

static void forget_locked(bpm_pgstore *s)
{
    PQclear(s->locked);
    s->locked = NULL;
    free(s->locked_used);
    s->locked_used = NULL;
}

/* Locks the rows of n instances in one statement, in id order (so two such
 * batches cannot deadlock), and keeps them: each lock() of one of them in
 * this transaction reads its row from here once, without a round trip. */
static bpm_rc s_lock_many(void *self, const char *const *ids, size_t n, bpm_err *err)
{
    bpm_pgstore *s = self;
    forget_locked(s);
    size_t len = 3;
    for (size_t i = 0; i < n; i++)
        len += 2 * strlen(ids[i]) + 3;
    char *arr = bpm_xmalloc(len), *w = arr;
    *w++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *w++ = ',';
        *w++ = '"';
        for (const char *c = ids[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                *w++ = '\\';
            *w++ = *c;
        }
        *w++ = '"';
    }
    *w++ = '}';
    *w = '\0';
    const char *params[1] = {arr};
    PGresult *res = NULL;
    bpm_rc rc = q(s, LOCK_COLUMNS " where id = any ($1::text[]) order by id for update", 1, params, &res,
                  "lock process instances", err);
    free(arr);
    if (rc)
        return rc;
    s->locked = res;
    s->locked_used = bpm_xcalloc((size_t)PQntuples(res) + 1, sizeof *s->locked_used);
    return BPM_OK;
}

static bpm_rc s_lock(void *self, const char *id, bpm_inst **out, bpm_err *err)
{
    bpm_pgstore *s = self;
    if (s->locked) /* locked already by lock_many: once (a second step must see the first one's writes) */
        for (int r = 0; r < PQntuples(s->locked); r++)
            if (!s->locked_used[r] && strcmp(PQgetvalue(s->locked, r, 2), id) == 0) {
                s->locked_used[r] = true;
                return load_row(s, s->locked, r, id, out, err);
            }
    const char *params[1] = {id};
    PGresult *res = NULL;
    bpm_rc rc = q(s, LOCK_COLUMNS " where id = $1 for update", 1, params, &res, "lock a process instance", err);
    if (rc)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return bpm_err_set(err, BPM_NOT_FOUND, "process instance \"%s\" does not exist", id);
    }
    rc = load_row(s, res, 0, id, out, err);
    PQclear(res);
    return rc;
}

/* ---- save: one pipelined batch -------------------------------------------------- */

typedef struct batch {
    bpm_pgstore *s;
    int64_t now_ms; /* the step's time: jobs are due by engine time, not the server's */
} batch;

/* Enters pipeline mode if not in it, with BEGIN first when the transaction
 * has not sent it yet. */
static bpm_rc pipe_enter(bpm_pgstore *s, bpm_err *err)
{
    if (s->pipe_open)
        return BPM_OK;
    if (s->generation != bpm_pg_generation(s->pg)) {
        s->n_prepared = 0; /* a new session: nothing is prepared on it */
        s->generation = bpm_pg_generation(s->pg);
    }
    if (!PQenterPipelineMode(conn(s)))
        return bpm_err_set(err, PQstatus(conn(s)) == CONNECTION_OK ? BPM_INTERNAL : BPM_UNAVAILABLE,
                           "could not enter pipeline mode: %s", PQerrorMessage(conn(s)));
    s->pipe_open = true;
    s->pipe_failed = false;
    s->pipe_sent = 0;
    if (s->tx == 1) {
        pipe_send(s, "begin", 0, NULL);
        s->tx = 2;
        send_armed(s);
    }
    return BPM_OK;
}

/* Sends one statement into the open pipeline, prepared once per session: a
 * step sends the same dozen statements again and again, and parsing and
 * planning them each time cost more than running them. */
static void pipe_send(bpm_pgstore *s, const char *sql, int n, const char *const *params)
{
    if (s->pipe_failed)
        return;
    if (n == 0) { /* BEGIN, COMMIT: nothing to plan */
        if (!PQsendQueryParams(conn(s), sql, 0, NULL, NULL, NULL, NULL, 0))
            s->pipe_failed = true;
        else
            s->pipe_sent++;
        return;
    }
    size_t i = 0;
    while (i < s->n_prepared && s->prepared[i] != sql)
        i++;
    if (i == s->n_prepared) {
        if (i == sizeof s->prepared / sizeof s->prepared[0]) {
            if (!PQsendQueryParams(conn(s), sql, n, NULL, params, NULL, NULL, 0))
                s->pipe_failed = true;
            else
                s->pipe_sent++;
            return;
        }
        snprintf(s->prepared_name[i], sizeof s->prepared_name[i], "bpm_%u", ++s->prepare_seq);
        if (!PQsendPrepare(conn(s), s->prepared_name[i], sql, n, NULL)) {
            s->pipe_failed = true;
            return;
        }
        s->prepared[i] = sql;
        s->prepared_ok[i] = false;
        s->n_prepared++;
        s->pipe_sent++;
    }
    if (!PQsendQueryPrepared(conn(s), s->prepared_name[i], n, params, NULL, NULL, 0))
        s->pipe_failed = true;
    else
        s->pipe_sent++;
}

static void send(batch *b, const char *sql, int n, const char *const *params)
{
    pipe_send(b->s, sql, n, params);
}

/* After a pipeline: statements it prepared exist if it succeeded; otherwise
 * they may not, so they are forgotten and prepared again, under new names,
 * next time. */
static void settle_prepared(bpm_pgstore *s, bool ok)
{
    size_t keep = 0;
    for (size_t i = 0; i < s->n_prepared; i++) {
        if (!s->prepared_ok[i] && !ok)
            continue;
        s->prepared_ok[i] = true;
        s->prepared[keep] = s->prepared[i];
        memcpy(s->prepared_name[keep], s->prepared_name[i], sizeof s->prepared_name[i]);
        s->prepared_ok[keep] = true;
        keep++;
    }
    s->n_prepared = keep;
}

/* Sends the pipeline's sync and reads every result: the first failure is
 * the outcome (its statement named by doing when it is the last one, else
 * as a step's save); *last (when not NULL) receives the last statement's
 * result. Leaves pipeline mode. */
static bpm_rc pipe_sync(bpm_pgstore *s, PGresult **last, const char *doing, bpm_err *err)
{
    PGconn *c = conn(s);
    bpm_rc rc = BPM_OK;
    PGresult *keep = NULL;
    if (!s->pipe_failed && !PQpipelineSync(c))
        s->pipe_failed = true;
    /* each statement (and each prepare) ends with one NULL result; more NULLs
     * than that, or a dead connection, mean the results will never come */
    int nulls = 0, seen = 0;
    for (;;) {
        PGresult *res = PQgetResult(c);
        if (!res) {
            if (PQpipelineStatus(c) == PQ_PIPELINE_OFF || s->pipe_failed)
                break;
            if (PQstatus(c) != CONNECTION_OK || ++nulls > 2 * s->pipe_sent + 64) {
                s->pipe_failed = true;
                break;
            }
            continue; /* end of one query's results */
        }
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            break;
        }
        seen++;
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            if (rc == BPM_OK && (rc = stale_or_duplicate(s, res, err)) == BPM_OK)
                rc = bpm_pg_error(s->pg, res, seen == s->pipe_sent ? doing : "save a step", err);
            PQclear(res);
            continue;
        }
        if (last) {
            PQclear(keep);
            keep = res;
        } else {
            PQclear(res);
        }
    }
    if (s->pipe_failed && rc == BPM_OK)
        rc = bpm_err_set(err, BPM_UNAVAILABLE, "could not send a step to PostgreSQL: %s", PQerrorMessage(c));
    PQexitPipelineMode(c);
    s->pipe_open = false;
    settle_prepared(s, rc == BPM_OK);
    if (last && rc == BPM_OK)
        *last = keep;
    else
        PQclear(keep);
    return rc;
}

static const char *json_str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* PostgreSQL text[] literal of a JSON array of strings, in arena a; NULL
 * for none (an empty array would take 16 bytes in every task row). */
static const char *text_array(const json_t *arr, bpm_arena *a)
{
    if (!json_array_size(arr))
        return NULL;
    char *out = "{";
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *str = json_string_value(v);
        if (!str)
            continue;
        char *q2 = bpm_arena_alloc(a, strlen(str) * 2 + 3);
        char *w = q2;
        *w++ = '"';
        for (const char *c = str; *c; c++) {
            if (*c == '"' || *c == '\\')
                *w++ = '\\';
            *w++ = *c;
        }
        *w++ = '"';
        *w = '\0';
        out = bpm_arena_sprintf(a, "%s%s%s", out, i ? "," : "", q2);
    }
    return bpm_arena_sprintf(a, "%s}", out);
}

/* A date written by a designer (due date, follow-up): ISO text, or NULL. */
static const char *as_timestamp(const char *v, bpm_arena *a)
{
    int64_t ms;
    if (!v || bpm_timer_parse_date(v, &ms, NULL) != BPM_OK)
        return NULL;
    char buf[BPM_TIMER_ISO_SIZE];
    iso(ms, buf, sizeof buf);
    return bpm_arena_strdup(a, buf);
}

/* Writes the row of a new wait. OUT: id, the row's id (a user task's id). */
static void open_wait(batch *b, const bpm_inst *inst, const bpm_wait *w, bpm_arena *a, char id[BPM_ID_SIZE])
{
    char wid[16], prio[24], due[BPM_TIMER_ISO_SIZE];
    snprintf(wid, sizeof wid, "%u", w->id);
    s_new_id(b->s, id);
    switch (w->kind) {
    case BPM_WAIT_USER_TASK: {
        const json_t *d = w->data;
        const json_t *pv = json_object_get(d, "priority");
        snprintf(prio, sizeof prio, "%lld", pv ? (long long)json_integer_value(pv) : BPM_TASK_PRIORITY_DEFAULT);
        const char *due_at = as_timestamp(json_str(d, "due"), a), *follow_at = as_timestamp(json_str(d, "followUp"), a);
        const char *p[13] = {id, inst->id, wid, w->node->id, inst->definition_id, json_str(d, "name"),
                             json_str(d, "assignee"), text_array(json_object_get(d, "candidateUsers"), a),
                             text_array(json_object_get(d, "candidateGroups"), a), due_at, follow_at, prio,
                             json_str(d, "formKey")};
        /* data keeps what has no column (form fields; a date that is not
         * one), so a task row repeats nothing */
        json_t *rest = json_deep_copy(d);
        static const char *const in_columns[] = {"name", "assignee", "candidateUsers", "candidateGroups",
                                                 "priority", "formKey", NULL};
        for (const char *const *k = in_columns; *k; k++)
            json_object_del(rest, *k);
        if (due_at)
            json_object_del(rest, "due");
        if (follow_at)
            json_object_del(rest, "followUp");
        char *data = json_object_size(rest) ? json_dumps(rest, JSON_COMPACT) : NULL;
        json_decref(rest);
        const char *p2[14];
        memcpy(p2, p, sizeof p);
        p2[13] = data ? bpm_arena_strdup(a, data) : NULL;
        free(data);
        send(b,
             "insert into user_task (id, instance_id, wait_id, element_id, definition_id, name, assignee,"
             " candidate_users, candidate_groups, due_at, follow_up_at, priority, form_key, data)"
             " values ($1, $2, $3::int, $4, $5, $6, $7, $8::text[], $9::text[], $10::timestamptz, $11::timestamptz,"
             " $12::int, $13, $14::jsonb)",
             14, p2);
        break;
    }
    case BPM_WAIT_MESSAGE:
    case BPM_WAIT_SIGNAL:
    case BPM_WAIT_CONDITION: {
        const char *kind = w->kind == BPM_WAIT_MESSAGE ? "message" : w->kind == BPM_WAIT_SIGNAL ? "signal" : "condition";
        const char *p[7] = {inst->id, wid, kind, w->name ? w->name : "", w->key, w->node->id, inst->business_key};
        send(b,
             "insert into subscription (instance_id, wait_id, kind, name, correlation_key, element_id, business_key)"
             " values ($1, $2::int, $3, $4, $5, $6, $7)",
             7, p);
        break;
    }
    default: { /* jobs: async continuations, timers, external tasks, connectors, called processes */
        const char *kind = "async";
        const char *topic = w->name;
        const char *due_at = NULL;
        if (w->kind == BPM_WAIT_TIMER) {
            kind = "timer";
            iso(w->due_ms, due, sizeof due);
            due_at = due;
        } else if (w->kind == BPM_WAIT_CHILD) {
            kind = "child";
        } else if (w->kind == BPM_WAIT_JOB) {
            const char *t = json_str(w->data, "type");
            kind = t && strcmp(t, "connector") == 0 ? "connector" : t && strcmp(t, "job") == 0 ? "job" : "external";
        }
        snprintf(prio, sizeof prio, "%lld", (long long)json_integer_value(json_object_get(w->data, "priority")));
        /* Camunda 8 jobs count failures down from the diagram's retries
         * (zeebe:taskDefinition, default 3); Camunda 7 external tasks keep
         * NULL until the worker's first failure sets them */
        char retries[24];
        const json_t *r = strcmp(kind, "job") == 0 ? json_object_get(w->data, "retries") : NULL;
        if (json_is_integer(r))
            snprintf(retries, sizeof retries, "%lld", (long long)json_integer_value(r));
        char *payload = w->data ? json_dumps(w->data, JSON_COMPACT) : NULL;
        char now_iso[BPM_TIMER_ISO_SIZE];
        iso(b->now_ms, now_iso, sizeof now_iso);
        const char *p[12] = {id, inst->id, wid, kind, w->node->id, inst->definition_id, topic,
                             due_at ? due_at : now_iso, prio, payload ? bpm_arena_strdup(a, payload) : NULL,
                             w->node->async.retry_time_cycle, json_is_integer(r) ? retries : NULL};
        free(payload);
        send(b,
             "insert into job (id, instance_id, wait_id, kind, element_id, definition_id, topic, due_at, priority,"
             " payload, retry_cycle, retries) values ($1, $2, $3::int, $4, $5, $6, $7, $8::timestamptz, $9::bigint,"
             " $10::jsonb, $11, $12::int)",
             12, p);
        /* idle workers sleep on this channel instead of polling */
        const char *pn[1] = {kind};
        send(b, "select pg_notify('bpmnd_jobs', $1)", 1, pn);
        break;
    }
    }
}

/* A user task changed hands (BPM_FX_ASSIGN): its row and its history row in
 * one statement, the row changed as the kind of change says (Camunda 7: a
 * delegation keeps the first owner and is pending, a resolution is
 * resolved). $1 instance, $2 wait, $3 the new assignee, $4 the history
 * kind, $5 the acting user, $6 the previous assignee, $7 the time, $8
 * whether to write the history row. The same rows as bpm_tasks_assign()'s
 * fast path writes (tasks.c). */
#define ASSIGN_SQL(set)                                                                                           \
    "with t as (update user_task set " set ", updated_at = now() where instance_id = $1 and wait_id = $2::int" \
    " returning id, element_id),"                                                                             \
    " h as (insert into history (at, instance_id, kind, element_id, element_type, user_id, detail)"           \
    " select $7::timestamptz, $1, $4, element_id, 'userTask', coalesce($5, $3),"                              \
    " jsonb_build_object('task', id, 'user', $3::text, 'previous', $6::text) from t where $8::boolean)"       \
    " select count(*) from t"
static const char assign_sql[] = ASSIGN_SQL("assignee = $3");
static const char delegate_sql[] =
    ASSIGN_SQL("owner = coalesce(owner, assignee), assignee = $3, delegation_state = 'PENDING'");
static const char resolve_sql[] = ASSIGN_SQL("assignee = $3, delegation_state = 'RESOLVED'");

/* Sends the history rows gathered so far (one statement) and empties hist. */
static void send_history(batch *b, const bpm_inst *inst, json_t *hist)
{
    if (!json_array_size(hist))
        return;
    char *hj = json_dumps(hist, JSON_COMPACT);
    const char *p[4] = {inst->id, inst->process->id, inst->business_key, hj};
    send(b,
         "insert into history (at, instance_id, definition_key, business_key, kind, element_id, element_type,"
         " scope_id, user_id, detail)"
         " select (r->>'at')::timestamptz, $1, $2, $3, r->>'kind', r->>'element', r->>'type', (r->>'scope')::int,"
         " r->>'user', r->'detail' from jsonb_array_elements($4::jsonb) with ordinality as x(r, n) order by n",
         4, p);
    free(hj);
    json_array_clear(hist);
}

static bpm_rc s_save(void *self, const bpm_inst *inst, const bpm_effects *fx, const char *user, bpm_err *err)
{
    bpm_pgstore *s = self;
    bpm_rc rc = pipe_enter(s, err);
    if (rc)
        return rc;
    bpm_arena *a = bpm_arena_new();
    batch b = {.s = s, .now_ms = fx->n ? fx->items[0].at_ms : 0};
    char *state = state_document(inst);
    bool incident_only = fx->n == 1 && fx->items[0].kind == BPM_FX_INCIDENT;
    if (s->pending_id[0] && strcmp(s->pending_id, inst->id) == 0) {
        char wait[16];
        snprintf(wait, sizeof wait, "%u", inst->parent_wait);
        const char *p[10] = {inst->id, inst->definition_id, inst->process->id, inst->business_key,
                             inst->parent_instance, inst->parent_instance ? wait : NULL,
                             s->pending_user[0] ? s->pending_user : NULL, state, state_name(inst),
                             inst->suspended ? "true" : "false"};
        send(&b,
             "insert into process_instance (id, definition_id, definition_key, business_key, parent_instance_id,"
             " parent_wait, root_instance_id, start_user, state_json, state, suspended, ended_at)"
             /* a root instance skips the parent lookup: the statement's
              * generic plan may have been made on an empty table */
             " values ($1, $2, $3, $4, $5, $6::int, case when $5::text is not null then (select"
             " coalesce(root_instance_id, id) from process_instance where id = $5) end, $7, $8::json, $9,"
             " $10::boolean,"
             " case when $9 <> 'active' then now() end)",
             10, p);
        s->pending_id[0] = '\0';
    } else if (!incident_only) {
        const char *p[4] = {inst->id, state, state_name(inst), inst->suspended ? "true" : "false"};
        send(&b,
             "update process_instance set state_json = $2::json, state = $3, suspended = $4::boolean,"
             " ended_at = case when $3 <> 'active' then coalesce(ended_at, now()) end, version = version + 1,"
             " incident = false where id = $1",
             4, p);
    }
    free(state);
    /* history rows and variable writes of the step: one statement each */
    json_t *hist = json_array();
    json_t *entered = NULL; /* the last history row, when it is an element's enter */
    json_t *var_rows = json_object();
    int published = 0;
    for (size_t i = 0; i < fx->n; i++) {
        const bpm_effect *e = &fx->items[i];
        char at[BPM_TIMER_ISO_SIZE], wid[16], scope[16];
        iso(e->at_ms, at, sizeof at);
        snprintf(wid, sizeof wid, "%u", e->wait);
        snprintf(scope, sizeof scope, "%u", e->ei);
        const char *element = e->node ? e->node->id : NULL;
        const char *type = e->node ? bpm_model_kind_name(e->node->kind) : "process";
        switch (e->kind) {
        case BPM_FX_WAIT_OPEN: {
            const bpm_wait *w = bpm_inst_wait(inst, e->wait);
            if (!w)
                break;
            char id[BPM_ID_SIZE];
            open_wait(&b, inst, w, a, id);
            if (s->history == BPM_HISTORY_NONE)
                break;
            /* The task row goes when the task ends; the history keeps its id
             * and first values beside the element instance, for the
             * historic task and activity queries. A called process is found
             * by its parent wait, so the history ties that wait to the
             * element instance too. */
            if (w->kind == BPM_WAIT_USER_TASK) {
                const json_t *d = w->data;
                json_t *detail = json_pack("{s:s, s:O?, s:O?, s:O?, s:s?, s:s?, s:O?, s:O?}", "task", id, "name",
                                           json_object_get(d, "name"), "assignee", json_object_get(d, "assignee"),
                                           "priority", json_object_get(d, "priority"), "due",
                                           as_timestamp(json_str(d, "due"), a), "followUp",
                                           as_timestamp(json_str(d, "followUp"), a), "candidateUsers",
                                           json_object_get(d, "candidateUsers"), "candidateGroups",
                                           json_object_get(d, "candidateGroups"));
                json_array_append_new(hist, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:o}", "at", at, "kind",
                                                      "task-create", "element", w->node->id, "type", type, "scope",
                                                      scope, "user", user, "detail", detail));
            } else if (w->kind == BPM_WAIT_CHILD) {
                json_array_append_new(hist, json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:i}}", "at", at, "kind", "call",
                                                      "element", w->node->id, "type", type, "scope", scope, "detail",
                                                      "wait", (int)w->id));
            }
            break;
        }
        case BPM_FX_WAIT_CLOSE: {
            const char *p[2] = {inst->id, wid};
            send(&b,
                 "with t as (delete from user_task where instance_id = $1 and wait_id = $2::int),"
                 " j as (delete from job where instance_id = $1 and wait_id = $2::int),"
                 " r as (update incident set resolved_at = now() where instance_id = $1 and configuration = $2::text"
                 " and resolved_at is null returning id, element_id),"
                 " h as (insert into history (instance_id, kind, element_id, detail) select $1, 'incident-resolved',"
                 " element_id, jsonb_build_object('incident', id) from r)"
                 " delete from subscription where instance_id = $1 and wait_id = $2::int",
                 2, p);
            break;
        }
        case BPM_FX_VAR: {
            /* the last value per (scope, name) wins; written in one statement
             * below. In the history a deleted variable has no new value at
             * all (O*), which is not the same as a null value */
            char vkey[300];
            snprintf(vkey, sizeof vkey, "%s/%s", scope, e->name);
            json_object_set_new(var_rows, vkey,
                                json_pack("{s:s, s:s, s:O?, s:b}", "scope", scope, "name", e->name, "value", e->value,
                                          "deleted", e->value == NULL));
            if (s->history < BPM_HISTORY_FULL || strncmp(e->name, "__", 2) == 0)
                break; /* internal bookkeeping variables are not part of the audit trail */
            /* "old" only when there was one (a variable created has none),
             * "new" only when there is one (a deleted variable has none) */
            json_array_append_new(hist, json_pack("{s:s, s:s, s:s, s:s?, s:o}", "at", at, "kind", "variable", "scope",
                                                  scope, "user", user, "detail",
                                                  json_pack("{s:s, s:O*, s:O*}", "name", e->name, "old", e->old_value,
                                                            "new", e->value)));
            break;
        }
        case BPM_FX_INCIDENT: {
            char id[BPM_ID_SIZE];
            s_new_id(s, id);
            const char *p[6] = {id, inst->id, inst->definition_id, element, e->wait ? wid : NULL, e->message};
            send(&b,
                 "insert into incident (id, instance_id, definition_id, element_id, type, configuration, message)"
                 " values ($1, $2, $3, $4, 'failedStep', $5, $6)",
                 6, p);
            const char *pi[1] = {inst->id};
            send(&b, "update process_instance set incident = true where id = $1", 1, pi);
            if (s->history == BPM_HISTORY_NONE)
                break;
            json_array_append_new(hist, json_pack("{s:s, s:s, s:s?, s:s, s:o}", "at", at, "kind", "incident", "element",
                                                  element, "type", type, "detail",
                                                  json_pack("{s:s?}", "message", e->message)));
            break;
        }
        case BPM_FX_PUBLISH: {
            /* The transactional outbox: the message is a row of this very
             * transaction, so it exists exactly when the step committed;
             * the relay sends it afterwards (bpm_outbox_*, docs/messaging.md) */
            char *payload = json_dumps(e->value, JSON_COMPACT);
            const char *p[3] = {inst->id, e->name ? e->name : "", bpm_arena_strdup(a, payload)};
            free(payload);
            send(&b, "insert into outbox (instance_id, channel, payload) values ($1, $2, $3::jsonb)", 3, p);
            if (!published++) /* the relay sleeps on this channel; delivered at commit, once per transaction */
                send(&b, "select pg_notify('bpmnd_outbox', '')", 0, NULL);
            break;
        }
        case BPM_FX_ASSIGN: {
            /* its history row in its place: after the rows gathered so far
             * (a resolution's variables), before those of what the
             * assignment listeners did */
            send_history(&b, inst, hist);
            entered = NULL;
            const char *change = e->message ? e->message : "assign";
            const char *sql = strcmp(change, "delegate") == 0  ? delegate_sql
                              : strcmp(change, "resolve") == 0 ? resolve_sql
                                                                : assign_sql;
            char kind[32];
            snprintf(kind, sizeof kind, "task-%s", change);
            const char *p[8] = {inst->id, wid,  e->name, kind, user, e->key, at,
                                s->history == BPM_HISTORY_NONE ? "false" : "true"};
            send(&b, sql, 8, p);
            break;
        }
        case BPM_FX_OPERATION:
            /* an operator's command, written with what it caused */
            if (s->history == BPM_HISTORY_NONE)
                break;
            json_array_append_new(hist, json_pack("{s:s, s:s, s:s?, s:O?}", "at", at, "kind", "operation", "user", user,
                                                  "detail", e->value));
            break;
        case BPM_FX_ENTER:
        case BPM_FX_LEAVE:
        case BPM_FX_CANCEL:
        case BPM_FX_END: {
            if (e->kind == BPM_FX_ENTER && !element)
                s->n_started++;
            else if (e->kind == BPM_FX_END && e->message && strcmp(e->message, "terminated") == 0)
                s->n_terminated++;
            else if (e->kind == BPM_FX_END)
                s->n_completed++;
            if (e->kind != BPM_FX_END && !element && e->kind != BPM_FX_ENTER)
                break; /* the process's own leave/cancel is told by instance-end */
            if (s->history == BPM_HISTORY_NONE)
                break;
            const char *kind = e->kind == BPM_FX_ENTER   ? (element ? "enter" : "instance-start")
                               : e->kind == BPM_FX_LEAVE ? "leave"
                               : e->kind == BPM_FX_END   ? "instance-end"
                                                         : "cancel";
            /* An element entered and left with nothing else recorded in
             * between (a start event, a gateway, a script task) is one row,
             * its leave: the step's time and user are both moments'. */
            size_t last = json_array_size(hist);
            json_t *prev = last ? json_array_get(hist, last - 1) : NULL;
            if (e->kind == BPM_FX_LEAVE && prev && prev == entered &&
                strcmp(json_str(prev, "scope"), scope) == 0) {
                json_object_set_new(prev, "kind", json_string("leave"));
                entered = NULL;
                break;
            }
            json_t *row = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s?}", "at", at, "kind", kind, "element", element,
                                    "type", type, "scope", scope, "user", user);
            if (e->kind == BPM_FX_END && e->message)
                json_object_set_new(row, "detail", json_pack("{s:s}", "state", e->message));
            if (e->kind == BPM_FX_ENTER && element) {
                /* what the activity history needs beyond the element: the
                 * enclosing element instance when it is not the process,
                 * whether it is a multi-instance body, and an event's trigger
                 * (a timer boundary event, a message end event), which names
                 * its Camunda activity type */
                json_t *d = json_object();
                const bpm_ei *root = bpm_inst_root(inst);
                if (e->parent && (!root || e->parent != root->id))
                    json_object_set_new(d, "parent", json_integer(e->parent));
                if (e->mi_body)
                    json_object_set_new(d, "body", json_true());
                if (e->node->n_events)
                    json_object_set_new(d, "event",
                                        json_string(e->node->n_events > 1
                                                        ? "multiple"
                                                        : bpm_model_event_kind_name(e->node->events[0].kind)));
                if (json_object_size(d))
                    json_object_set_new(row, "detail", d);
                else
                    json_decref(d);
            }
            json_array_append_new(hist, row);
            entered = e->kind == BPM_FX_ENTER && element ? row : NULL;
            break;
        }
        default:
            break;
        }
    }
    if (json_object_size(var_rows)) {
        json_t *set = json_array(), *del = json_array();
        const char *k;
        json_t *row;
        json_object_foreach(var_rows, k, row)
        {
            /* a deleted variable (no value) is not one set to null */
            json_array_append(json_is_true(json_object_get(row, "deleted")) ? del : set, row);
        }
        char *sj = json_dumps(set, JSON_COMPACT), *dj = json_dumps(del, JSON_COMPACT);
        const char *p[3] = {inst->id, sj, dj};
        send(&b,
             "with d as (delete from variable v using jsonb_array_elements($3::jsonb) r where v.instance_id = $1"
             " and v.scope_id = (r->>'scope')::int and v.name = r->>'name')"
             " insert into variable (instance_id, scope_id, name, value)"
             " select $1, (r->>'scope')::int, r->>'name', r->'value' from jsonb_array_elements($2::jsonb) r"
             " on conflict (instance_id, scope_id, name) do update set value = excluded.value, updated_at = now()",
             3, p);
        free(sj);
        free(dj);
        json_decref(set);
        json_decref(del);
    }
    send_history(&b, inst, hist);
    json_decref(hist);
    json_decref(var_rows);
    /* the writes wait in the pipeline for the next read or the commit */
    bpm_arena_free(a);
    return s->pipe_failed ? bpm_err_set(err, BPM_UNAVAILABLE, "could not send a step to PostgreSQL: %s",
                                        PQerrorMessage(conn(s)))
                          : BPM_OK;
}

/* ---- lookups -------------------------------------------------------------------- */

static bpm_rc s_find(void *self, const bpm_find *qr, bpm_wait_ref **out, size_t *n, bpm_arena *a, bpm_err *err)
{
    bpm_pgstore *s = self;
    char limit[24], wid[16], now[BPM_TIMER_ISO_SIZE];
    snprintf(limit, sizeof limit, "%zu", qr->limit ? qr->limit : (size_t)1000000);
    snprintf(wid, sizeof wid, "%u", qr->wait);
    iso(qr->now_ms, now, sizeof now);
    PGresult *res = NULL;
    bpm_rc rc;
    switch (qr->kind) {
    case BPM_FIND_MESSAGE:
    case BPM_FIND_SIGNAL: {
        /* One statement per combination of keys: "$3 is null or ..." would
         * keep a generic plan from using the key indexes, and a message must
         * find its receiver without scanning every subscription of its name. */
        static const char *const sql[4] = {
            "select s.instance_id, s.wait_id, 0 from subscription s join process_instance i on i.id = s.instance_id"
            " where s.kind = $1 and s.name = $2 and i.state = 'active' and not i.suspended"
            " order by s.created_at, s.instance_id, s.wait_id limit $3::bigint",
            "select s.instance_id, s.wait_id, 0 from subscription s join process_instance i on i.id = s.instance_id"
            " where s.kind = $1 and s.name = $2 and s.correlation_key = $4 and i.state = 'active' and not i.suspended"
            " order by s.created_at, s.instance_id, s.wait_id limit $3::bigint",
            "select s.instance_id, s.wait_id, 0 from subscription s join process_instance i on i.id = s.instance_id"
            " where s.kind = $1 and s.name = $2 and s.business_key = $4 and i.state = 'active' and not i.suspended"
            " order by s.created_at, s.instance_id, s.wait_id limit $3::bigint",
            "select s.instance_id, s.wait_id, 0 from subscription s join process_instance i on i.id = s.instance_id"
            " where s.kind = $1 and s.name = $2 and s.correlation_key = $4 and s.business_key = $5"
            " and i.state = 'active' and not i.suspended"
            " order by s.created_at, s.instance_id, s.wait_id limit $3::bigint",
        };
        int which = (qr->key ? 1 : 0) | (qr->business_key ? 2 : 0);
        const char *p[5] = {qr->kind == BPM_FIND_MESSAGE ? "message" : "signal", qr->name, limit,
                            qr->key ? qr->key : qr->business_key, qr->business_key};
        rc = q(s, sql[which], which == 0 ? 3 : which == 3 ? 5 : 4, p, &res, "look up subscriptions", err);
        break;
    }
    case BPM_FIND_TIMER_DUE: {
        const char *p[2] = {now, limit};
        rc = q(s,
               "select j.instance_id, j.wait_id, (extract(epoch from j.due_at) * 1000)::bigint from job j"
               " join process_instance i on i.id = j.instance_id where j.kind = 'timer' and j.due_at <= $1::timestamptz"
               " and not j.suspended and i.state = 'active' and not i.suspended order by j.due_at, j.created_at"
               " limit $2::bigint",
               2, p, &res, "look up due timers", err);
        break;
    }
    case BPM_FIND_CHILDREN: {
        const char *p[2] = {qr->instance_id, wid};
        rc = q(s,
               "select id, 0, 0 from process_instance where parent_instance_id = $1 and parent_wait = $2::int"
               " and state = 'active'",
               2, p, &res, "look up called instances", err);
        break;
    }
    default: { /* WAIT_AT */
        const char *p[2] = {qr->instance_id, qr->element};
        rc = q(s,
               "select instance_id, wait_id, 0 from user_task where ($1::text is null or instance_id = $1) and element_id = $2"
               " union all select instance_id, wait_id, 0 from job where ($1::text is null or instance_id = $1)"
               " and element_id = $2 union all select instance_id, wait_id, 0 from subscription"
               " where ($1::text is null or instance_id = $1) and element_id = $2",
               2, p, &res, "look up waits", err);
        break;
    }
    }
    if (rc)
        return rc;
    size_t rows = (size_t)PQntuples(res);
    bpm_wait_ref *refs = bpm_arena_calloc(a, rows ? rows : 1, sizeof *refs);
    for (size_t i = 0; i < rows; i++) {
        refs[i].instance_id = bpm_arena_strdup(a, PQgetvalue(res, (int)i, 0));
        refs[i].wait = (uint32_t)strtoul(PQgetvalue(res, (int)i, 1), NULL, 10);
        refs[i].due_ms = strtoll(PQgetvalue(res, (int)i, 2), NULL, 10);
    }
    PQclear(res);
    *out = refs;
    *n = rows;
    return BPM_OK;
}

static bpm_rc s_start_triggers(void *self, bpm_event_kind kind, const char *name, bpm_start_trigger **out, size_t *n,
                               bpm_arena *a, bpm_err *err)
{
    bpm_pgstore *s = self;
    const char *p[2] = {kind == BPM_EVENT_MESSAGE ? "message" : "signal", name};
    PGresult *res = NULL;
    bpm_rc rc = q(s,
                  "select t.definition_id, t.element_id from start_trigger t join process_definition d"
                  " on d.id = t.definition_id where t.kind = $1 and t.name = $2 and not d.suspended"
                  " and d.version = (select max(version) from process_definition x where x.key = d.key"
                  " and x.tenant_id is not distinct from d.tenant_id) order by d.key",
                  2, p, &res, "look up start events", err);
    if (rc)
        return rc;
    size_t rows = (size_t)PQntuples(res);
    bpm_start_trigger *t = bpm_arena_calloc(a, rows ? rows : 1, sizeof *t);
    for (size_t i = 0; i < rows; i++) {
        t[i].definition_id = bpm_arena_strdup(a, PQgetvalue(res, (int)i, 0));
        t[i].element = bpm_arena_strdup(a, PQgetvalue(res, (int)i, 1));
    }
    PQclear(res);
    *out = t;
    *n = rows;
    return BPM_OK;
}

static bpm_rc s_latest(void *self, const char *key, char out[256], bpm_err *err)
{
    bpm_pgstore *s = self;
    const char *p[1] = {key};
    PGresult *res = NULL;
    bpm_rc rc = q(s,
                  "select id from process_definition where key = $1 and tenant_id is null order by version desc limit 1",
                  1, p, &res, "look up a process definition", err);
    if (rc)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return bpm_err_set(err, BPM_NOT_FOUND, "no process definition with key \"%s\" is deployed", key);
    }
    snprintf(out, 256, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return BPM_OK;
}

static bpm_rc s_buffer_message(void *self, const char *name, const char *key, const char *business_key,
                               const json_t *vars, int64_t expires_ms, bpm_err *err)
{
    bpm_pgstore *s = self;
    char exp[BPM_TIMER_ISO_SIZE];
    iso(expires_ms, exp, sizeof exp);
    char *v = vars ? json_dumps(vars, JSON_COMPACT) : NULL;
    const char *p[5] = {name, key, business_key, v, exp};
    bpm_rc rc = q(s,
                  "insert into message_buffer (name, correlation_key, business_key, variables, expires_at)"
                  " values ($1, $2, $3, $4::jsonb, $5::timestamptz)",
                  5, p, NULL, "buffer a message", err);
    free(v);
    return rc;
}

static bpm_rc s_take_buffered(void *self, const char *name, const char *key, const char *business_key, int64_t now_ms,
                              json_t **vars, bpm_err *err)
{
    bpm_pgstore *s = self;
    *vars = NULL;
    char now[BPM_TIMER_ISO_SIZE];
    iso(now_ms, now, sizeof now);
    const char *p[4] = {name, key, business_key, now};
    PGresult *res = NULL;
    /* the oldest that fits; SKIP LOCKED so two subscriptions opening at
     * once do not both take it */
    bpm_rc rc = q(s,
                  "delete from message_buffer where id = (select id from message_buffer where name = $1"
                  " and expires_at >= $4::timestamptz and (correlation_key is null or correlation_key = $2)"
                  " and (business_key is null or business_key = $3) order by id limit 1 for update skip locked)"
                  " returning coalesce(variables, '{}'::jsonb)::text",
                  4, p, &res, "take a buffered message", err);
    if (rc)
        return rc;
    if (PQntuples(res) == 1)
        *vars = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    PQclear(res);
    return BPM_OK;
}

static const bpm_store_ops pg_ops = {s_begin,  s_commit,         s_rollback, s_new_id,         s_model,
                                     s_create, s_lock,           s_save,     s_find,           s_start_triggers,
                                     s_latest, s_buffer_message, s_take_buffered, s_lock_many};

bpm_store bpm_pgstore_port(bpm_pgstore *s) { return (bpm_store){&pg_ops, s}; }

bpm_rc bpm_pgstore_resolve(bpm_pgstore *s, const char *key_or_id, char out[256], bpm_err *err)
{
    if (strchr(key_or_id, ':')) {
        snprintf(out, 256, "%s", key_or_id);
        return BPM_OK;
    }
    return s_latest(s, key_or_id, out, err);
}

/* ---- retention -------------------------------------------------------------- */

/* Runs a DELETE of at most $2 rows older than $1 until it deletes none. */
static bpm_rc delete_batches(bpm_pgstore *s, const char *sql, const char *now, const char *lim, const char *doing,
                             bpm_err *err)
{
    for (;;) {
        const char *p[2] = {now, lim};
        PGresult *res = NULL;
        bpm_rc rc = q(s, sql, 2, p, &res, doing, err);
        if (rc)
            return rc;
        size_t n = (size_t)strtoul(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        if (n == 0)
            return BPM_OK;
    }
}

bpm_rc bpm_pgstore_cleanup(bpm_pgstore *s, int64_t now_ms, size_t per_batch, size_t *deleted, bpm_err *err)
{
    char now[BPM_TIMER_ISO_SIZE], lim[24];
    iso(now_ms, now, sizeof now);
    snprintf(lim, sizeof lim, "%zu", per_batch ? per_batch : 1000);
    size_t total = 0;
    for (;;) {
        /* historyTimeToLive as Camunda 7 writes it: "180" (days) or "P180D" */
        const char *p[2] = {now, lim};
        PGresult *res = NULL;
        bpm_rc rc = q(s,
                      /* per definition, a range of the (definition, ended_at) index: a pass
                       * that finds nothing reads nothing */
                      "with expired as (select x.id from process_definition d cross join lateral (select i.id"
                      " from process_instance i where i.definition_id = d.id and i.ended_at is not null"
                      " and i.ended_at < $1::timestamptz - (case when d.history_ttl ~ '^[0-9]+$' then"
                      " (d.history_ttl || ' days')::interval else d.history_ttl::interval end)"
                      " and i.state <> 'active' limit $2::int) x where d.history_ttl is not null limit $2::int),"
                      " h as (delete from history where instance_id in (select id from expired)),"
                      " n as (delete from incident where instance_id in (select id from expired))"
                      " delete from process_instance where id in (select id from expired) returning id",
                      2, p, &res, "clean up the history", err);
        if (rc)
            return rc;
        size_t n = (size_t)PQntuples(res);
        PQclear(res);
        total += n;
        if (n == 0)
            break;
    }
    /* inbound de-duplication keys by age: senders retry within hours (GitHub
     * redelivers by hand up to 3 days later), so a week covers them */
    bpm_rc rc = delete_batches(s,
                               "delete from inbound_event where ctid in (select ctid from inbound_event"
                               " where received_at < $1::timestamptz - interval '" BPM_PGSTORE_INBOUND_RETENTION "'"
                               " limit $2::int)",
                               now, lim, "clean up inbound events", err);
    /* sent outbox rows: kept for audits of what was published, then dropped;
     * an unsent row stays however old it is */
    if (!rc)
        rc = delete_batches(s,
                            "delete from outbox where id in (select id from outbox"
                            " where sent_at < $1::timestamptz - interval '" BPM_PGSTORE_OUTBOX_RETENTION "'"
                            " limit $2::int)",
                            now, lim, "clean up sent outbox rows", err);
    if (rc)
        return rc;
    if (deleted)
        *deleted = total;
    return BPM_OK;
}
