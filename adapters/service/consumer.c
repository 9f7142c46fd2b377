/* The consumer loop: a broker connection consuming one queue, a session per
 * consumer, and the verdict for each message (ack, retry, dead letter). */
#include "consumer.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

/* ---- definition ----------------------------------------------------------------- */

static bpm_rc number(const void *sec, bpm_consumer_get_fn *get, const char *name, const char *field, long lo,
                     long hi, long dflt, unsigned *out, bpm_err *err)
{
    const char *where = NULL, *v = get(sec, field, &where);
    if (!v || !*v) {
        *out = (unsigned)dflt;
        return BPM_OK;
    }
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (*end || n < lo || n > hi)
        return bpm_err_set(err, BPM_INVALID, "%s: amqp.consume.%s.%s must be a number from %ld to %ld, not \"%.40s\"",
                           where, name, field, lo, hi, v);
    *out = (unsigned)n;
    return BPM_OK;
}

bpm_rc bpm_consumer_define(bpm_scripts *scripts, const char *name, const void *section, bpm_consumer_get_fn *get,
                           const char *section_where, bpm_arena *a, bpm_consumer_def **out, bpm_err *err)
{
    bpm_consumer_def *d = bpm_arena_calloc(a, 1, sizeof *d);
    d->name = bpm_arena_strdup(a, name);
    d->where = bpm_arena_strdup(a, section_where);
    const char *where = NULL, *queue = get(section, "queue", &where);
    if (!queue || !*queue)
        return bpm_err_set(err, BPM_INVALID, "%s: consumer \"%s\" needs a queue (amqp.consume.%s.queue)", section_where,
                           name, name);
    d->queue = bpm_arena_strdup(a, queue);
    const char *dl = get(section, "dead_letter", &where);
    d->dead_letter = dl && *dl ? bpm_arena_strdup(a, dl) : bpm_arena_sprintf(a, "%s.dlq", queue);
    if (strcmp(d->dead_letter, d->queue) == 0)
        return bpm_err_set(err, BPM_INVALID, "%s: amqp.consume.%s.dead_letter must not be the queue itself", where,
                           name);
    bpm_rc rc;
    if ((rc = number(section, get, name, "max_failures", 1, 1000, 5, &d->max_failures, err)) ||
        (rc = number(section, get, name, "prefetch", 1, 65535, 16, &d->prefetch, err)))
        return rc;
    const char *process = get(section, "process", NULL);
    if (process && *process)
        d->process = bpm_arena_strdup(a, process);
    const char *path = get(section, "mapping", &where);
    if (path && *path) {
        char what[96];
        snprintf(what, sizeof what, "consumer \"%s\"", name);
        bpm_inbound_mapping *m = NULL;
        if ((rc = bpm_inbound_mapping_load(scripts, path, what, where, a, &m, err)))
            return rc;
        d->mapping = m;
    }
    if (!d->mapping && !d->process)
        return bpm_err_set(err, BPM_INVALID,
                           "%s: consumer \"%s\" needs a mapping (amqp.consume.%s.mapping) or a process to start"
                           " (amqp.consume.%s.process)",
                           section_where, name, name, name);
    *out = d;
    return BPM_OK;
}

/* ---- consuming ---------------------------------------------------------------------- */

typedef struct ctx {
    const bpm_consumer_config *cfg;
    const atomic_bool *stop;
    bpm_consumer_stats *stats;
    bpm_consumer_stats own; /* when the caller keeps none */
    bpm_session s;
    bool open;
    int db_backoff; /* ms while PostgreSQL is down */
    char source[300];
} ctx;

static void say(const bpm_consumer_config *cfg, const char *level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void say(const bpm_consumer_config *cfg, const char *level, const char *event, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cfg->log)
        cfg->log(cfg->log_ud, level, event, msg);
    else
        fprintf(stderr, "%s: %s\n", level, msg);
}

static bool stopping(const atomic_bool *stop) { return stop && atomic_load(stop); }

static void pause_ms(const atomic_bool *stop, int ms)
{
    while (ms > 0 && !stopping(stop)) {
        int slice = ms < 200 ? ms : 200;
        poll(NULL, 0, slice);
        ms -= slice;
    }
}

static int grow(int backoff) { return backoff ? (backoff * 2 > 10000 ? 10000 : backoff * 2) : 500; }

/* A test hook (tests/e2e/amqp_consume.sh): the consumer dies by SIGKILL
 * after the engine's transaction committed and before the acknowledgement. */
static bool kill_after_commit(void)
{
    const char *v = getenv("BPMND_CONSUME_TEST_KILL_AFTER_COMMIT");
    return v && *v == '1';
}

static bool db_down(ctx *x) { return !x->open || PQstatus(bpm_pg_conn(x->s.pg)) != CONNECTION_OK; }

/* The database is unavailable: the session is dropped, the message goes back
 * uncounted after a pause (so a down database is not a hot loop). */
static bpm_bridge_verdict requeue(ctx *x, const bpm_bridge_delivery *d, const char *why, char *reason, size_t n)
{
    if (x->open) {
        bpm_session_close(&x->s);
        x->open = false;
    }
    if (!x->db_backoff)
        say(x->cfg, "warn", "consumer-database",
            "consumer \"%s\" (queue \"%s\") cannot reach PostgreSQL; message %s goes back to the queue: %s",
            x->cfg->def->name, x->cfg->def->queue, d->message_id ? d->message_id : "(no id)", why);
    x->db_backoff = grow(x->db_backoff);
    atomic_fetch_add(&x->stats->requeued, 1);
    snprintf(reason, n, "unavailable: %s", why);
    pause_ms(x->stop, x->db_backoff);
    return BPM_BRIDGE_REQUEUE;
}

/* A failure: RETRY waits a little first (250 ms doubling, at most 2 s), so a
 * message that came before its process reached the catch event gets time;
 * the last failure, which dead-letters, does not wait. */
static bpm_bridge_verdict failed(ctx *x, const bpm_bridge_delivery *d, bpm_bridge_verdict v, char *reason, size_t n,
                                 const char *code, const char *msg)
{
    const bpm_consumer_def *def = x->cfg->def;
    unsigned attempt = d->failures + 1;
    bool dead = v == BPM_BRIDGE_REJECT || attempt >= def->max_failures;
    snprintf(reason, n, "%s: %s", code, msg);
    say(x->cfg, dead ? "error" : "warn", "consumer-message",
        "consumer \"%s\" (queue \"%s\"): message %s %s (attempt %u of %u): %s: %s", def->name, def->queue,
        d->message_id ? d->message_id : "(no id)", dead ? "goes to the dead-letter queue" : "will be retried", attempt,
        v == BPM_BRIDGE_REJECT ? 1 : def->max_failures, code, msg);
    atomic_fetch_add(&x->stats->failed, 1);
    if (dead) {
        atomic_fetch_add(&x->stats->dead_lettered, 1);
    } else {
        int ms = 250 << (attempt - 1 < 3 ? attempt - 1 : 3);
        pause_ms(x->stop, ms > 2000 ? 2000 : ms);
    }
    return v;
}

static void decref(void *p) { json_decref(p); }

/* The body as the mapping's event.body: JSON (no content type, or a JSON
 * one), text for text/...; NULL and a reason otherwise. In arena a. */
static const json_t *body_of(const bpm_bridge_delivery *d, bpm_arena *a, char *why, size_t n)
{
    const char *ct = d->content_type;
    size_t mn = ct ? strcspn(ct, "; ") : 0;
    bool json = !ct || (mn == 16 && strncmp(ct, "application/json", 16) == 0) || (mn > 5 && strncmp(ct + mn - 5, "+json", 5) == 0) ||
                (mn == 9 && strncmp(ct, "text/json", 9) == 0);
    json_t *j = NULL;
    if (json) {
        json_error_t je;
        j = json_loadb(d->body, d->body_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
        if (!j)
            snprintf(why, n, "the body is not valid JSON: %s (line %d, column %d)", je.text, je.line, je.column);
    } else if (strncmp(ct, "text/", 5) == 0) {
        j = json_stringn(d->body, d->body_len);
        if (!j)
            snprintf(why, n, "the body (%.60s) is not UTF-8 text", ct);
    } else {
        snprintf(why, n, "the content type %.60s is not supported: send JSON or text", ct);
    }
    if (j)
        bpm_arena_defer(a, decref, j);
    return j;
}

static bpm_bridge_verdict handle(void *ud, const bpm_bridge_delivery *d, char *reason, size_t n)
{
    ctx *x = ud;
    const bpm_consumer_def *def = x->cfg->def;
    bpm_err err = {0};
    if (db_down(x)) {
        if (x->open) {
            bpm_session_close(&x->s);
            x->open = false;
        }
        if (bpm_session_open(&x->s, x->cfg->conninfo, &err))
            return requeue(x, d, err.msg, reason, n);
        x->open = true;
        if (x->db_backoff)
            say(x->cfg, "info", "consumer-database", "consumer \"%s\" is connected to PostgreSQL again", def->name);
        x->db_backoff = 0;
    }
    bpm_arena *a = bpm_arena_new();
    bpm_bridge_verdict v = BPM_BRIDGE_OK;
    char why[600] = "";
    const json_t *body = body_of(d, a, why, sizeof why);
    if (!body) {
        v = failed(x, d, BPM_BRIDGE_REJECT, reason, n, "malformed", why);
        goto done;
    }
    json_t *attrs = json_deep_copy(d->properties);
    bpm_arena_defer(a, decref, attrs);
    json_object_set_new(attrs, "queue", json_string(def->queue));
    if (d->exchange)
        json_object_set_new(attrs, "exchange", json_string(d->exchange));
    if (d->routing_key)
        json_object_set_new(attrs, "routingKey", json_string(d->routing_key));
    if (d->message_id)
        json_object_set_new(attrs, "messageId", json_string(d->message_id));
    if (d->content_type)
        json_object_set_new(attrs, "contentType", json_string(d->content_type));
    json_object_set_new(attrs, "redelivered", json_boolean(d->redelivered));
    const char *type = json_string_value(json_object_get(d->properties, "type"));
    bpm_inbound_event ev = {.endpoint = def->name, .source = x->source, .id = d->message_id,
                            .type = type ? type : d->routing_key, .headers = d->headers, .attributes = attrs,
                            .body = body};
    int64_t now = bpm_session_now(&x->s);
    bpm_inbound_action act = {0};
    bpm_rc rc;
    if (def->mapping) {
        rc = bpm_inbound_map(x->s.scripts, def->mapping, &ev, now, a, &act, &err);
    } else {
        act.kind = BPM_INBOUND_START;
        act.process = def->process;
        if (json_is_object(body))
            act.variables = (json_t *)body;
        rc = BPM_OK;
    }
    if (rc) {
        /* a refusal (bpmn.error) or a malformed result is the same next time;
         * a script failure may be a budget hit under load */
        v = failed(x, d, rc == BPM_INVALID ? BPM_BRIDGE_REJECT : BPM_BRIDGE_RETRY, reason, n,
                   rc == BPM_INVALID ? "mapping_refused" : "mapping_failed", err.msg);
        goto done;
    }
    if (act.kind == BPM_INBOUND_UNROUTED) {
        snprintf(why, sizeof why, "the mapping %s routes no message of type \"%.100s\"",
                 def->mapping ? bpm_inbound_mapping_name(def->mapping) : "", ev.type ? ev.type : "(none)");
        v = failed(x, d, BPM_BRIDGE_REJECT, reason, n, "not_routed", why);
        goto done;
    }
    if (act.kind == BPM_INBOUND_IGNORE) {
        atomic_fetch_add(&x->stats->consumed, 1);
        goto done;
    }
    bpm_inbound_result res;
    rc = bpm_inbound_deliver(&x->s, &ev, &act, NULL, now, &res, &err);
    if (!rc) {
        atomic_fetch_add(res.duplicate ? &x->stats->duplicates : &x->stats->consumed, 1);
        if (!res.duplicate && kill_after_commit())
            raise(SIGKILL);
        goto done;
    }
    snprintf(why, sizeof why, "%s%s%s", err.msg, err.where[0] ? " at " : "", err.where);
    if (rc == BPM_UNAVAILABLE && db_down(x)) {
        v = requeue(x, d, why, reason, n);
        goto done;
    }
    switch (rc) {
    case BPM_NOT_FOUND: /* nothing waits yet, or the process is not deployed yet */
        v = failed(x, d, BPM_BRIDGE_RETRY, reason, n, act.kind == BPM_INBOUND_START ? "no_process" : "no_match", why);
        break;
    case BPM_CONFLICT:
        v = failed(x, d, BPM_BRIDGE_RETRY, reason, n, "conflict", why);
        break;
    case BPM_INVALID:
    case BPM_SCRIPT:
    case BPM_LIMIT:
        v = failed(x, d, BPM_BRIDGE_REJECT, reason, n, "failed", why);
        break;
    default:
        v = failed(x, d, BPM_BRIDGE_RETRY, reason, n, "error", why);
        break;
    }
done:
    bpm_arena_free(a);
    return v;
}

bpm_rc bpm_consumer_run(const bpm_consumer_config *cfg, const atomic_bool *stop, bpm_consumer_stats *stats,
                        bpm_err *err)
{
    ctx x = {.cfg = cfg, .stop = stop, .stats = stats};
    if (!x.stats)
        x.stats = &x.own;
    snprintf(x.source, sizeof x.source, "amqp/%s", cfg->def->queue);
    const bpm_consumer_def *def = cfg->def;
    bool foreground = cfg->max_messages || cfg->idle_ms;
    size_t done = 0;
    int backoff = 0;
    bpm_rc rc = BPM_OK;
    while (!stopping(stop)) {
        if (backoff)
            pause_ms(stop, backoff);
        if (stopping(stop))
            break;
        bpm_err e = {0};
        void *broker = NULL;
        if (cfg->bridge->connect(cfg->url, &broker, &e)) {
            if (atomic_exchange(&x.stats->broker_up, false) || !backoff)
                say(cfg, "warn", "consumer-broker", "consumer \"%s\" (queue \"%s\") cannot reach %s: %s", def->name,
                    def->queue, cfg->bridge->name, e.msg);
            if (foreground) {
                rc = bpm_err_set(err, e.rc, "consumer \"%s\": %s", def->name, e.msg);
                break;
            }
            backoff = grow(backoff);
            continue;
        }
        if (!atomic_exchange(&x.stats->broker_up, true))
            say(cfg, "info", "consumer-broker", "consumer \"%s\" is consuming queue \"%s\" on %s", def->name,
                def->queue, cfg->bridge->name);
        bpm_bridge_consume bc = {.source = def->queue, .dead_letter = def->dead_letter, .prefetch = def->prefetch,
                                 .max_failures = def->max_failures,
                                 .max_messages = cfg->max_messages ? cfg->max_messages - done : 0,
                                 .idle_ms = cfg->idle_ms, .stop = stop};
        bpm_bridge_consumed got = {0};
        bpm_rc crc = cfg->bridge->consume(broker, &bc, handle, &x, &got, &e);
        cfg->bridge->close(broker);
        done += got.acked + got.retried + got.dead_lettered;
        if (!crc)
            break; /* stopped, idle or the count reached */
        atomic_store(&x.stats->broker_up, false);
        say(cfg, "warn", "consumer-broker", "consumer \"%s\" (queue \"%s\") lost %s: %s", def->name, def->queue,
            cfg->bridge->name, e.msg);
        if (foreground && !got.acked && !got.retried && !got.dead_lettered && !got.requeued) {
            rc = bpm_err_set(err, crc, "consumer \"%s\": %s", def->name, e.msg);
            break;
        }
        backoff = 500;
    }
    atomic_store(&x.stats->broker_up, false);
    if (x.open)
        bpm_session_close(&x.s);
    return rc;
}

struct bpm_consumer {
    bpm_consumer_config cfg;
    char *conninfo, *url;
    atomic_bool stopping;
    bpm_consumer_stats stats;
    pthread_t tid;
};

static void *thread_main(void *arg)
{
    bpm_consumer *c = arg;
    bpm_consumer_run(&c->cfg, &c->stopping, &c->stats, NULL);
    return NULL;
}

bpm_rc bpm_consumer_start(const bpm_consumer_config *cfg, bpm_consumer **out, bpm_err *err)
{
    if (!cfg->bridge || !cfg->url || !*cfg->url)
        return bpm_err_set(err, BPM_BAD_REQUEST, "consumer \"%s\" needs a broker URL (amqp.url)", cfg->def->name);
    bpm_consumer *c = bpm_xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    c->conninfo = bpm_xstrdup(cfg->conninfo);
    c->url = bpm_xstrdup(cfg->url);
    c->cfg.conninfo = c->conninfo;
    c->cfg.url = c->url;
    c->cfg.max_messages = 0;
    c->cfg.idle_ms = 0;
    if (pthread_create(&c->tid, NULL, thread_main, c)) {
        free(c->conninfo);
        free(c->url);
        free(c);
        return bpm_err_set(err, BPM_INTERNAL, "could not start the thread of consumer \"%s\"", cfg->def->name);
    }
    *out = c;
    return BPM_OK;
}

void bpm_consumer_stop(bpm_consumer *c) { atomic_store(&c->stopping, true); }

void bpm_consumer_join(bpm_consumer *c)
{
    pthread_join(c->tid, NULL);
    free(c->conninfo);
    free(c->url);
    free(c);
}

const bpm_consumer_stats *bpm_consumer_stats_of(const bpm_consumer *c) { return &c->stats; }
const bpm_consumer_def *bpm_consumer_def_of(const bpm_consumer *c) { return &*c->cfg.def; }
