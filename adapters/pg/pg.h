/* adapters/pg: the PostgreSQL side of bpmnd. Connections with SQLSTATE
 * translated to bpm_rc, schema migrations compiled into the binary, and the
 * embedded default: a private cluster in the data directory. The only place
 * libpq appears. */
#ifndef BPM_PG_H
#define BPM_PG_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "err.h"

typedef struct bpm_pg bpm_pg;

/* Opens a connection (libpq conninfo or URI). *out is new; bpm_pg_close()
 * frees it. BPM_UNAVAILABLE with libpq's reason when the server cannot be
 * reached. Not thread safe: one connection per thread. */
bpm_rc bpm_pg_open(const char *conninfo, bpm_pg **out, bpm_err *err);
void bpm_pg_close(bpm_pg *pg);
/* The libpq connection (borrowed). */
PGconn *bpm_pg_conn(bpm_pg *pg);
/* Re-establishes a broken connection (after a server restart). */
bpm_rc bpm_pg_reset(bpm_pg *pg, bpm_err *err);
/* Changes whenever the session was reset: prepared statements and LISTENs
 * made before are gone. */
unsigned bpm_pg_generation(const bpm_pg *pg);

/* Runs sql (no parameters) and checks the result; for DDL and BEGIN/COMMIT. */
bpm_rc bpm_pg_exec(bpm_pg *pg, const char *sql, bpm_err *err);
/* Runs a parameterised statement (lengths and formats may be NULL: all text)
 * and checks the result. On success *out (when not NULL) owns the result,
 * for the caller to PQclear; on failure err says what was being done. */
bpm_rc bpm_pg_query(bpm_pg *pg, const char *sql, int n, const char *const *params, const int *lengths,
                    const int *formats, PGresult **out, const char *doing, bpm_err *err);
/* Fills err from a failed result: message, SQLSTATE as detail, and the code
 * (40001/40P01 conflicts -> BPM_CONFLICT, 23505 -> BPM_CONFLICT, 08xxx and a
 * dead connection -> BPM_UNAVAILABLE, 22xxx/23xxx -> BPM_BAD_REQUEST, else
 * BPM_INTERNAL). Returns that code. */
bpm_rc bpm_pg_error(bpm_pg *pg, const PGresult *res, const char *doing, bpm_err *err);

/* Applies the pending migrations, each in its own transaction, under an
 * advisory lock so concurrent starters do not race. *applied (may be NULL)
 * receives how many ran. */
bpm_rc bpm_pg_migrate(bpm_pg *pg, int *applied, bpm_err *err);
/* Highest applied migration version (0 for an empty database). */
bpm_rc bpm_pg_schema_version(bpm_pg *pg, int *out, bpm_err *err);

/* ---- the embedded cluster (cluster.c) ------------------------------------ */

typedef struct bpm_cluster {
    char data_dir[512];
    char conninfo[768];
    char log_path[600];
    bool started; /* this call started the server (it was not running) */
    bool created; /* this call ran initdb */
} bpm_cluster;

/* Makes sure the private cluster under data_dir exists and runs: initdb on
 * first use, pg_ctl start when stopped, a Unix socket only (no TCP port).
 * Started as root, the server runs as the unprivileged 'postgres' user, which
 * owns the cluster directory. Two processes calling this at once do not race
 * (a lock file serialises them). Fills *out. The server is left running for
 * the next command. */
bpm_rc bpm_cluster_ensure(const char *data_dir, bpm_cluster *out, bpm_err *err);
/* Stops the cluster under data_dir if it runs (fast shutdown). */
bpm_rc bpm_cluster_stop(const char *data_dir, bpm_err *err);
/* The default data directory: $BPMND_DATA_DIR, else $XDG_DATA_HOME/bpmnd,
 * else ~/.local/share/bpmnd; as root /var/lib/bpmnd (a place the postgres
 * user can reach). Writes into buf. */
void bpm_cluster_default_dir(char *buf, size_t n);

#endif
