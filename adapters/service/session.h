/* One engine session: a database connection with its Lua state, model cache,
 * store and runtime, as every command of bpmnctl, every job-executor thread
 * and every REST request needs them. Not thread safe: one per thread. */
#ifndef BPM_SESSION_H
#define BPM_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "pg.h"
#include "pgstore.h"
#include "runtime.h"
#include "scripts.h"

typedef struct bpm_session {
    bpm_pg *pg;
    bpm_scripts *scripts;
    bpm_evaluator ev;
    bpm_pgstore *store;
    bpm_runtime rt;
    int64_t offset_ms;      /* the clock offset as last read */
    int64_t offset_read_at; /* wall ms of that read; 0 = never */
} bpm_session;

/* Where the database is: BPMND_DATABASE_URL when set, else the embedded
 * cluster in the data directory, started (and created) when needed; then
 * pending migrations are applied. who ("bpmnctl", "bpmnd") prefixes the
 * notice on stderr when the embedded cluster was started, unless quiet. */
bpm_rc bpm_session_conninfo(const char *who, bool quiet, char *out, size_t n, bpm_err *err);

/* Opens a session on conninfo (no migration). s is the caller's storage;
 * bpm_session_close() releases what it holds. */
bpm_rc bpm_session_open(bpm_session *s, const char *conninfo, bpm_err *err);
void bpm_session_close(bpm_session *s);

/* Counts the session's instance starts and ends into c (borrowed). */
void bpm_session_count_into(bpm_session *s, bpm_pgstore_counters *c);

/* BPMND_HISTORY: full (default), activity or none. */
bpm_history_level bpm_session_history_level(void);

/* Engine time: the wall clock plus the settable offset (`bpmnctl clock`),
 * which is read again at most every half second (a request should not pay
 * a round trip for it). */
int64_t bpm_session_now(bpm_session *s);
int64_t bpm_session_wall_ms(void);

#endif
