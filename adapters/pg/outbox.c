/* Outbox rows for the relay: take, mark, count, and wait for new ones. */
#include "outbox.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void unref_json(void *p) { json_decref(p); }

bpm_rc bpm_outbox_take(bpm_pg *pg, size_t max, bpm_outbox_row **out, size_t *n, bpm_arena *a, bpm_err *err)
{
    char lim[24];
    snprintf(lim, sizeof lim, "%zu", max ? max : 100);
    const char *p[1] = {lim};
    PGresult *res = NULL;
    bpm_rc rc = bpm_pg_query(pg,
                             "select id, instance_id, channel, payload::text, attempts from outbox"
                             " where sent_at is null order by id limit $1::int for update skip locked",
                             1, p, NULL, NULL, &res, "take outbox rows", err);
    if (rc)
        return rc;
    size_t rows = (size_t)PQntuples(res);
    bpm_outbox_row *r = bpm_arena_calloc(a, rows ? rows : 1, sizeof *r);
    for (size_t i = 0; i < rows; i++) {
        r[i].id = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
        r[i].instance_id = PQgetisnull(res, (int)i, 1) ? NULL : bpm_arena_strdup(a, PQgetvalue(res, (int)i, 1));
        r[i].channel = bpm_arena_strdup(a, PQgetvalue(res, (int)i, 2));
        r[i].payload = json_loads(PQgetvalue(res, (int)i, 3), 0, NULL);
        if (r[i].payload)
            bpm_arena_defer(a, unref_json, r[i].payload);
        r[i].attempts = (int)strtol(PQgetvalue(res, (int)i, 4), NULL, 10);
    }
    PQclear(res);
    *out = r;
    *n = rows;
    return BPM_OK;
}

/* "{1,2,3}": a bigint[] parameter. malloc'd. */
static char *id_array(const int64_t *ids, size_t n)
{
    size_t cap = 3 + n * 21;
    char *s = bpm_xmalloc(cap);
    size_t k = 0;
    s[k++] = '{';
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(s + k, cap - k, "%s%lld", i ? "," : "", (long long)ids[i]);
    snprintf(s + k, cap - k, "}");
    return s;
}

bpm_rc bpm_outbox_mark(bpm_pg *pg, const int64_t *sent, size_t n_sent, const int64_t *failed, size_t n_failed,
                       bpm_err *err)
{
    if (!n_sent && !n_failed)
        return BPM_OK;
    char *s = id_array(sent, n_sent), *f = id_array(failed, n_failed);
    const char *p[2] = {s, f};
    bpm_rc rc = bpm_pg_query(pg,
                             "update outbox set attempts = attempts + 1,"
                             " sent_at = case when id = any($1::bigint[]) then now() end"
                             " where id = any($1::bigint[]) or id = any($2::bigint[])",
                             2, p, NULL, NULL, NULL, "mark outbox rows", err);
    free(s);
    free(f);
    return rc;
}

bpm_rc bpm_outbox_backlog(bpm_pg *pg, long long *out, bpm_err *err)
{
    PGresult *res = NULL;
    bpm_rc rc = bpm_pg_query(pg, "select count(*) from outbox where sent_at is null", 0, NULL, NULL, NULL, &res,
                             "count the outbox backlog", err);
    if (rc)
        return rc;
    *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return BPM_OK;
}

bpm_rc bpm_outbox_listen(bpm_pg *pg, bpm_err *err) { return bpm_pg_exec(pg, "listen bpmnd_outbox", err); }

bool bpm_outbox_wait(bpm_pg *pg, int ms)
{
    PGconn *c = bpm_pg_conn(pg);
    bool woken = false;
    PGnotify *n;
    PQconsumeInput(c);
    while ((n = PQnotifies(c))) { /* announced while we were busy */
        woken = true;
        PQfreemem(n);
    }
    if (woken)
        return true;
    struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
    if (pfd.fd < 0) { /* no connection: just the pause */
        poll(NULL, 0, ms);
        return false;
    }
    if (poll(&pfd, 1, ms) > 0) {
        PQconsumeInput(c);
        while ((n = PQnotifies(c))) {
            woken = true;
            PQfreemem(n);
        }
    }
    return woken;
}
