/* The relay loop: rounds of take, publish with confirms, mark sent, commit
 * (docs/messaging.md says why a crash at any point loses nothing). */
#include "relay.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "outbox.h"
#include "session.h"

struct bpm_relay {
    bpm_relay_config cfg;
    char *conninfo, *url;
    atomic_bool stopping;
    bpm_relay_stats stats;
    pthread_t tid;
    int status;
};

static void say(bpm_relay *r, const char *level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void say(bpm_relay *r, const char *level, const char *event, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->cfg.log)
        r->cfg.log(r->cfg.log_ud, level, event, msg);
    else
        fprintf(stderr, "%s: %s\n", level, msg);
}

static bool stopping(bpm_relay *r) { return atomic_load(&r->stopping); }

/* Sleeps ms in slices, so a stop is not kept waiting. */
static void pause_ms(bpm_relay *r, int ms)
{
    while (ms > 0 && !stopping(r)) {
        int slice = ms < 200 ? ms : 200;
        poll(NULL, 0, slice);
        ms -= slice;
    }
}

/* The broker message a row stands for (docs/messaging.md, "Message format"):
 * a string body goes as its text, anything else as JSON. Strings in arena a. */
static bool message_of(const bpm_outbox_row *row, bpm_bridge_msg *m, bpm_arena *a)
{
    const json_t *p = row->payload;
    memset(m, 0, sizeof *m);
    if (!json_is_object(p))
        return false;
    const json_t *body = json_object_get(p, "body");
    m->id = json_string_value(json_object_get(p, "messageId"));
    m->instance_id = row->instance_id;
    m->destination = json_string_value(json_object_get(p, "exchange"));
    m->key = json_string_value(json_object_get(p, "routingKey"));
    m->properties = json_object_get(p, "properties");
    if (!m->id || !m->key || !body)
        return false;
    if (json_is_string(body)) {
        m->body = json_string_value(body);
        m->body_len = json_string_length(body);
        m->content_type = "text/plain; charset=utf-8";
    } else {
        char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        m->body = bpm_arena_strdup(a, text ? text : "null");
        m->body_len = strlen(m->body);
        free(text);
        m->content_type = "application/json";
    }
    return true;
}

/* A test hook (tests/e2e/outbox.sh): the relay dies by SIGKILL after the
 * broker confirmed a round and before the rows are marked sent, the worst
 * moment for an outbox. */
static bool kill_after_publish(void)
{
    const char *v = getenv("BPMND_RELAY_TEST_KILL_AFTER_PUBLISH");
    return v && *v == '1';
}

/* One round: BEGIN; unsent rows FOR UPDATE SKIP LOCKED; publish and wait
 * for the confirms; mark the confirmed rows sent (every row tried counts an
 * attempt); COMMIT. A crash before the COMMIT leaves the rows unsent, so
 * they go again with the same message ids; a step that rolled back never
 * wrote its rows. Losing PostgreSQL or the broker costs a pause (0.5 s,
 * doubling to 10 s) and a reconnect, never a row. */
static void *run(void *arg)
{
    bpm_relay *r = arg;
    bpm_pg *pg = NULL;
    void *broker = NULL;
    int backoff = 0; /* ms; doubles up to 10 s while something is down */
    struct timespec counted = {0, 0};
    size_t batch = r->cfg.batch ? r->cfg.batch : 100;
    int timeout = r->cfg.confirm_timeout_ms > 0 ? r->cfg.confirm_timeout_ms : 10000;
    while (!stopping(r)) {
        bpm_err err = {0};
        if (backoff) {
            pause_ms(r, backoff);
            if (stopping(r))
                break;
        }
        if (!pg || PQstatus(bpm_pg_conn(pg)) != CONNECTION_OK) {
            if (pg && !bpm_pg_reset(pg, &err) && !bpm_outbox_listen(pg, &err)) {
                say(r, "info", "relay-reconnected", "the relay is connected to PostgreSQL again");
            } else {
                bpm_pg_close(pg);
                pg = NULL;
                if (bpm_pg_open(r->conninfo, &pg, &err) || bpm_outbox_listen(pg, &err)) {
                    say(r, "warn", "relay-database", "the relay cannot reach PostgreSQL: %s", err.msg);
                    bpm_pg_close(pg);
                    pg = NULL;
                    backoff = backoff ? (backoff * 2 > 10000 ? 10000 : backoff * 2) : 500;
                    if (r->cfg.once) {
                        r->status = 1;
                        break;
                    }
                    continue;
                }
            }
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec != counted.tv_sec) {
            long long backlog = 0;
            if (!bpm_outbox_backlog(pg, &backlog, NULL))
                atomic_store(&r->stats.backlog, backlog);
            counted = now;
        }
        bpm_arena *a = bpm_arena_new();
        bpm_outbox_row *rows = NULL;
        size_t n = 0;
        bpm_rc rc = bpm_pg_exec(pg, "begin", &err);
        if (!rc)
            rc = bpm_outbox_take(pg, batch, &rows, &n, a, &err);
        if (rc || n == 0) {
            bpm_pg_exec(pg, rc ? "rollback" : "commit", NULL);
            bpm_arena_free(a);
            if (rc) {
                say(r, "warn", "relay-database", "the relay could not read the outbox: %s", err.msg);
                backoff = backoff ? (backoff * 2 > 10000 ? 10000 : backoff * 2) : 500;
                if (r->cfg.once) {
                    r->status = 1;
                    break;
                }
                continue;
            }
            backoff = 0;
            atomic_store(&r->stats.backlog, 0);
            if (r->cfg.once)
                break;
            bpm_outbox_wait(pg, 1000); /* NOTIFY at a step's commit, else a heartbeat */
            continue;
        }
        if (!broker) {
            if (r->cfg.bridge->connect(r->url, &broker, &err)) {
                bpm_pg_exec(pg, "rollback", NULL);
                bpm_arena_free(a);
                if (atomic_exchange(&r->stats.broker_up, false) || !backoff)
                    say(r, "warn", "relay-broker", "the relay cannot reach %s: %s", r->cfg.bridge->name, err.msg);
                broker = NULL;
                backoff = backoff ? (backoff * 2 > 10000 ? 10000 : backoff * 2) : 500;
                if (r->cfg.once) {
                    r->status = 1;
                    break;
                }
                continue;
            }
            if (!atomic_exchange(&r->stats.broker_up, true))
                say(r, "info", "relay-broker", "the relay is connected to %s", r->cfg.bridge->name);
        }
        bpm_bridge_msg *msgs = bpm_arena_calloc(a, n, sizeof *msgs);
        size_t *row_of = bpm_arena_calloc(a, n, sizeof *row_of);
        int64_t *sent = bpm_arena_calloc(a, n, sizeof *sent), *failed = bpm_arena_calloc(a, n, sizeof *failed);
        size_t n_msgs = 0, n_sent = 0, n_failed = 0;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(rows[i].channel, r->cfg.bridge->name) != 0 || !message_of(&rows[i], &msgs[n_msgs], a)) {
                say(r, "error", "relay-row", "outbox row %lld is not a %s message; it stays unsent",
                    (long long)rows[i].id, r->cfg.bridge->name);
                failed[n_failed++] = rows[i].id;
                continue;
            }
            row_of[n_msgs++] = i;
        }
        bpm_err perr = {0};
        bpm_rc prc = r->cfg.bridge->publish(broker, msgs, n_msgs, timeout, &perr);
        if (kill_after_publish())
            raise(SIGKILL);
        for (size_t k = 0; k < n_msgs; k++) {
            if (msgs[k].ok) {
                sent[n_sent++] = rows[row_of[k]].id;
            } else {
                failed[n_failed++] = rows[row_of[k]].id;
                if (!prc)
                    say(r, "warn", "relay-refused", "outbox row %lld (message %s) was not published: %s",
                        (long long)rows[row_of[k]].id, msgs[k].id, msgs[k].error);
            }
        }
        rc = bpm_outbox_mark(pg, sent, n_sent, failed, n_failed, &err);
        if (!rc)
            rc = bpm_pg_exec(pg, "commit", &err);
        else
            bpm_pg_exec(pg, "rollback", NULL);
        bpm_arena_free(a);
        if (rc) {
            /* published but not marked: they go again (same message ids) */
            say(r, "warn", "relay-database", "the relay could not mark %zu published rows: %s", n_sent, err.msg);
            backoff = 500;
            continue;
        }
        atomic_fetch_add(&r->stats.published, n_sent);
        atomic_fetch_add(&r->stats.failed, n_failed);
        if (prc) {
            say(r, "warn", "relay-broker", "lost %s while publishing: %s", r->cfg.bridge->name, perr.msg);
            atomic_store(&r->stats.broker_up, false);
            r->cfg.bridge->close(broker);
            broker = NULL;
            backoff = 500;
            if (r->cfg.once) {
                r->status = 1;
                break;
            }
            continue;
        }
        /* a round that sent nothing (every row refused) waits before the next */
        backoff = n_sent ? 0 : (backoff ? (backoff * 2 > 10000 ? 10000 : backoff * 2) : 500);
        if (!n_sent && r->cfg.once) {
            r->status = 1;
            break;
        }
    }
    if (broker)
        r->cfg.bridge->close(broker);
    bpm_pg_close(pg);
    return NULL;
}

bpm_rc bpm_relay_start(const bpm_relay_config *cfg, bpm_relay **out, bpm_err *err)
{
    if (!cfg->bridge || !cfg->url || !*cfg->url)
        return bpm_err_set(err, BPM_BAD_REQUEST, "the relay needs a broker URL");
    bpm_relay *r = bpm_xcalloc(1, sizeof *r);
    r->cfg = *cfg;
    r->conninfo = bpm_xstrdup(cfg->conninfo);
    r->url = bpm_xstrdup(cfg->url);
    r->cfg.conninfo = r->conninfo;
    r->cfg.url = r->url;
    if (pthread_create(&r->tid, NULL, run, r)) {
        free(r->conninfo);
        free(r->url);
        free(r);
        return bpm_err_set(err, BPM_INTERNAL, "could not start the relay thread");
    }
    *out = r;
    return BPM_OK;
}

void bpm_relay_stop(bpm_relay *r) { atomic_store(&r->stopping, true); }

int bpm_relay_join(bpm_relay *r, unsigned long long *published)
{
    pthread_join(r->tid, NULL);
    if (published)
        *published = atomic_load(&r->stats.published);
    int st = r->status;
    free(r->conninfo);
    free(r->url);
    free(r);
    return st;
}

const bpm_relay_stats *bpm_relay_stats_of(const bpm_relay *r) { return &r->stats; }
