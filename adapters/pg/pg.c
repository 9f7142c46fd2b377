/* Connections, SQLSTATE translation and migrations. */
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "migrations.h"

struct bpm_pg {
    PGconn *conn;
    char *conninfo;
    unsigned generation; /* bumped by every reset: session state is gone */
};

unsigned bpm_pg_generation(const bpm_pg *pg) { return pg->generation; }

static void no_notices(void *arg, const char *msg)
{
    (void)arg;
    (void)msg; /* NOTICEs (e.g. "relation exists") are not for users' logs */
}

bpm_rc bpm_pg_open(const char *conninfo, bpm_pg **out, bpm_err *err)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        bpm_rc rc = bpm_err_set(err, BPM_UNAVAILABLE, "could not connect to PostgreSQL: %s",
                                c ? PQerrorMessage(c) : "out of memory");
        if (err) {
            size_t n = strlen(err->msg);
            while (n && (err->msg[n - 1] == '\n' || err->msg[n - 1] == ' '))
                err->msg[--n] = '\0';
        }
        PQfinish(c);
        return rc;
    }
    PQsetNoticeProcessor(c, no_notices, NULL);
    bpm_pg *pg = bpm_xcalloc(1, sizeof *pg);
    pg->conn = c;
    pg->conninfo = bpm_xstrdup(conninfo);
    *out = pg;
    return BPM_OK;
}

void bpm_pg_close(bpm_pg *pg)
{
    if (!pg)
        return;
    PQfinish(pg->conn);
    free(pg->conninfo);
    free(pg);
}

PGconn *bpm_pg_conn(bpm_pg *pg) { return pg->conn; }

bpm_rc bpm_pg_reset(bpm_pg *pg, bpm_err *err)
{
    pg->generation++;
    PQreset(pg->conn);
    if (PQstatus(pg->conn) != CONNECTION_OK)
        return bpm_err_set(err, BPM_UNAVAILABLE, "could not reconnect to PostgreSQL: %s", PQerrorMessage(pg->conn));
    PQsetNoticeProcessor(pg->conn, no_notices, NULL);
    return BPM_OK;
}

bpm_rc bpm_pg_error(bpm_pg *pg, const PGresult *res, const char *doing, bpm_err *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    bpm_rc rc = BPM_INTERNAL;
    if (PQstatus(pg->conn) != CONNECTION_OK || (state && strncmp(state, "08", 2) == 0) ||
        (state && strncmp(state, "57P", 3) == 0))
        rc = BPM_UNAVAILABLE;
    else if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "23505") == 0 ||
                       strcmp(state, "55P03") == 0))
        rc = BPM_CONFLICT;
    else if (state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0))
        rc = BPM_BAD_REQUEST;
    const char *why = primary ? primary : PQerrorMessage(pg->conn);
    bpm_err_set(err, rc, "could not %s: %s", doing, why && *why ? why : "the connection to PostgreSQL was lost");
    if (err) {
        size_t n = strlen(err->msg);
        while (n && (err->msg[n - 1] == '\n' || err->msg[n - 1] == ' '))
            err->msg[--n] = '\0';
        bpm_err_detail(err, "SQLSTATE %s", state ? state : "none");
    }
    return rc;
}

bpm_rc bpm_pg_exec(bpm_pg *pg, const char *sql, bpm_err *err)
{
    PGresult *res = PQexec(pg->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    bpm_rc rc = BPM_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = bpm_pg_error(pg, res, "run a statement", err);
    PQclear(res);
    return rc;
}

bpm_rc bpm_pg_query(bpm_pg *pg, const char *sql, int n, const char *const *params, const int *lengths,
                    const int *formats, PGresult **out, const char *doing, bpm_err *err)
{
    PGresult *res = PQexecParams(pg->conn, sql, n, NULL, params, lengths, formats, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        bpm_rc rc = bpm_pg_error(pg, res, doing, err);
        PQclear(res);
        return rc;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return BPM_OK;
}

static const char *create_migrations_table =
    "create table if not exists schema_migration ("
    " version integer primary key, name text not null, applied_at timestamptz not null default now())";

bpm_rc bpm_pg_schema_version(bpm_pg *pg, int *out, bpm_err *err)
{
    PGresult *res = PQexec(pg->conn, "select coalesce(max(version), 0) from schema_migration");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        bool missing = state && strcmp(state, "42P01") == 0;
        bpm_rc rc = missing ? BPM_OK : bpm_pg_error(pg, res, "read the schema version", err);
        PQclear(res);
        if (missing)
            *out = 0;
        return rc;
    }
    *out = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return BPM_OK;
}

bpm_rc bpm_pg_migrate(bpm_pg *pg, int *applied, bpm_err *err)
{
    int done = 0;
    /* One migrator at a time across every process sharing the database; the
     * lock comes first because even CREATE TABLE IF NOT EXISTS races. */
    bpm_rc rc = bpm_pg_exec(pg, "select pg_advisory_lock(7402360481)", err);
    if (rc)
        return rc;
    if ((rc = bpm_pg_exec(pg, create_migrations_table, err)))
        goto unlock;
    int current = 0;
    if ((rc = bpm_pg_schema_version(pg, &current, err)))
        goto unlock;
    for (size_t i = 0; i < bpm_migrations_count; i++) {
        const bpm_migration *m = &bpm_migrations[i];
        if (m->version <= current)
            continue;
        if ((rc = bpm_pg_exec(pg, "begin", err)))
            goto unlock;
        PGresult *res = PQexec(pg->conn, m->sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
            char doing[160];
            snprintf(doing, sizeof doing, "apply migration %s", m->name);
            rc = bpm_pg_error(pg, res, doing, err);
            PQclear(res);
            bpm_pg_exec(pg, "rollback", NULL);
            goto unlock;
        }
        PQclear(res);
        char version[16];
        snprintf(version, sizeof version, "%d", m->version);
        const char *params[2] = {version, m->name};
        res = PQexecParams(pg->conn, "insert into schema_migration (version, name) values ($1::int, $2)", 2, NULL,
                           params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            rc = bpm_pg_error(pg, res, "record a migration", err);
            PQclear(res);
            bpm_pg_exec(pg, "rollback", NULL);
            goto unlock;
        }
        PQclear(res);
        if ((rc = bpm_pg_exec(pg, "commit", err)))
            goto unlock;
        done++;
    }
unlock:
    bpm_pg_exec(pg, "select pg_advisory_unlock(7402360481)", NULL);
    if (applied)
        *applied = done;
    return rc;
}
