/* Sessions: connection, Lua, store and runtime opened together, and the
 * database's location (a server given by URL, or the embedded cluster). */
#define _DEFAULT_SOURCE /* clock_gettime with CLOCK_REALTIME */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bpm_history_level bpm_session_history_level(void)
{
    const char *h = getenv("BPMND_HISTORY");
    if (h && strcmp(h, "none") == 0)
        return BPM_HISTORY_NONE;
    if (h && strcmp(h, "activity") == 0)
        return BPM_HISTORY_ACTIVITY;
    return BPM_HISTORY_FULL;
}

bpm_rc bpm_session_conninfo(const char *who, bool quiet, char *out, size_t n, bpm_err *err)
{
    const char *url = getenv("BPMND_DATABASE_URL");
    if (url && *url) {
        snprintf(out, n, "%s", url);
    } else {
        char dir[512];
        bpm_cluster_default_dir(dir, sizeof dir);
        bpm_cluster c;
        bpm_rc rc = bpm_cluster_ensure(dir, &c, err);
        if (rc)
            return rc;
        if (!quiet && (c.created || c.started))
            fprintf(stderr, "%s: %s the embedded PostgreSQL in %s (stop it with 'bpmnctl db stop')\n", who,
                    c.created ? "created and started" : "started", dir);
        snprintf(out, n, "%s", c.conninfo);
    }
    bpm_pg *pg = NULL;
    bpm_rc rc = bpm_pg_open(out, &pg, err);
    if (rc)
        return rc;
    rc = bpm_pg_migrate(pg, NULL, err);
    bpm_pg_close(pg);
    return rc;
}

bpm_rc bpm_session_open(bpm_session *s, const char *conninfo, bpm_err *err)
{
    memset(s, 0, sizeof *s);
    bpm_rc rc = bpm_pg_open(conninfo, &s->pg, err);
    if (rc)
        return rc;
    s->scripts = bpm_scripts_new(NULL, err);
    if (!s->scripts) {
        bpm_pg_close(s->pg);
        s->pg = NULL;
        return err ? err->rc : BPM_INTERNAL;
    }
    s->ev = bpm_scripts_evaluator(s->scripts);
    s->store = bpm_pgstore_new(s->pg, &s->ev);
    bpm_pgstore_set_history(s->store, bpm_session_history_level());
    s->rt = (bpm_runtime){.store = bpm_pgstore_port(s->store), .eval = &s->ev};
    return BPM_OK;
}

void bpm_session_count_into(bpm_session *s, bpm_pgstore_counters *c)
{
    bpm_pgstore_set_counters(s->store, c);
}

void bpm_session_close(bpm_session *s)
{
    if (s->store)
        bpm_pgstore_free(s->store);
    if (s->scripts)
        bpm_scripts_free(s->scripts);
    if (s->pg)
        bpm_pg_close(s->pg);
    memset(s, 0, sizeof *s);
}

int64_t bpm_session_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t bpm_session_now(bpm_session *s)
{
    int64_t wall = bpm_session_wall_ms();
    if (!s->offset_read_at || wall - s->offset_read_at >= 500 || wall < s->offset_read_at) {
        PGresult *res = PQexec(bpm_pg_conn(s->pg), "select offset_ms from clock");
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
            s->offset_ms = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
            s->offset_read_at = wall;
        }
        PQclear(res);
    }
    return wall + s->offset_ms;
}
