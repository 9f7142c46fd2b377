/* The store port (engine/store.h) over PostgreSQL, and deployments. One
 * bpm_pgstore per connection and thread; models are parsed, validated and
 * compiled once per definition and cached in the store. */
#ifndef BPM_PGSTORE_H
#define BPM_PGSTORE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "diag.h"
#include "pg.h"
#include "ports.h"
#include "store.h" /* engine/store.h: the port */

typedef struct bpm_pgstore bpm_pgstore;

/* How much of the audit trail is written: full (every element, variable
 * change, task and incident), activity (no variable changes), none (only
 * what is needed to run). Camunda 7 has the same three levels. */
typedef enum bpm_history_level {
    BPM_HISTORY_NONE = 0,
    BPM_HISTORY_ACTIVITY = 1,
    BPM_HISTORY_FULL = 2,
} bpm_history_level;

/* New store over pg (borrowed; must outlive it), compiling expressions with
 * ev (borrowed). Free with bpm_pgstore_free(). */
bpm_pgstore *bpm_pgstore_new(bpm_pg *pg, const bpm_evaluator *ev);
void bpm_pgstore_free(bpm_pgstore *s);
void bpm_pgstore_set_history(bpm_pgstore *s, bpm_history_level level);
/* Deletes, in batches of `batch` rows, the history and instance rows of
 * instances that ended longer ago than their definition's historyTimeToLive
 * (days as an integer, or an ISO 8601 duration), per_batch at a time so
 * locks stay short, inbound de-duplication keys older than
 * BPM_PGSTORE_INBOUND_RETENTION and outbox rows sent longer ago than
 * BPM_PGSTORE_OUTBOX_RETENTION. *deleted counts instances. */
bpm_rc bpm_pgstore_cleanup(bpm_pgstore *s, int64_t now_ms, size_t per_batch, size_t *deleted, bpm_err *err);
/* How long inbound events' de-duplication keys are kept (cleanup above). */
#define BPM_PGSTORE_INBOUND_RETENTION "7 days"
/* How long sent outbox rows are kept (cleanup above). */
#define BPM_PGSTORE_OUTBOX_RETENTION "7 days"

/* Arms de-duplication of one inbound event (source and id are copied;
 * NULL source or id disarms): until disarmed, every transaction the runtime
 * opens on s inserts (source, id) into inbound_event behind its BEGIN, so
 * the key commits or rolls back with the start or correlation it guards (a
 * failed delivery can be retried by its sender), and records the first
 * instance created or locked. When the key is already taken the
 * transaction fails at its first read or its commit with BPM_DUPLICATE
 * (which the runtime does not retry) and bpm_pgstore_dedupe_hit() says so.
 * Disarm after the runtime call. */
void bpm_pgstore_dedupe(bpm_pgstore *s, const char *source, const char *id);
/* Whether the armed key was found taken; instance_id (OUT, may be NULL)
 * gets the instance the first delivery led to, "" when none (read once,
 * after the failed transaction). */
bool bpm_pgstore_dedupe_hit(bpm_pgstore *s, char instance_id[BPM_ID_SIZE]);

/* The definition a start by key uses: the latest version of key, from this
 * session's cache when it has one (no query), else looked up (fresh = true
 * always looks up). Found but suspended: BPM_CONFLICT; none: BPM_NOT_FOUND.
 * A cached id arms bpm_pgstore_guard(s, key, out) for the start. */
bpm_rc bpm_pgstore_start_definition(bpm_pgstore *s, const char *key, bool fresh, char out[256], bpm_err *err);
/* Arms a check sent behind the BEGIN of every transaction on s until
 * disarmed (definition_id NULL): definition_id exists, is active and, with
 * a key, is the latest version of key. When it is not, the transaction
 * fails with BPM_NOT_FOUND (not retried by the runtime), the key leaves
 * the cache and bpm_pgstore_guard_stale() is true: look the key up again
 * (bpm_pgstore_start_definition with fresh) and start once more. */
void bpm_pgstore_guard(bpm_pgstore *s, const char *key, const char *definition_id);
bool bpm_pgstore_guard_stale(const bpm_pgstore *s);

/* The first instance the latest transaction created or locked ("" when
 * none): the one a start made or a correlation reached first. Borrowed,
 * valid until the next transaction. */
const char *bpm_pgstore_first_instance(const bpm_pgstore *s);

/* Instances started and ended, counted when their transaction commits;
 * shared by every store of a process for its metrics. */
typedef struct bpm_pgstore_counters {
    atomic_ullong started;
    atomic_ullong completed;
    atomic_ullong terminated;
} bpm_pgstore_counters;
/* c (borrowed, may be NULL) must outlive s. */
void bpm_pgstore_set_counters(bpm_pgstore *s, bpm_pgstore_counters *c);
/* The port: {ops, s}. */
bpm_store bpm_pgstore_port(bpm_pgstore *s);

/* ---- deployments -------------------------------------------------------------- */

typedef struct bpm_resource {
    const char *name; /* file name: "order.bpmn" */
    const char *bytes;
    size_t len;
} bpm_resource;

typedef struct bpm_deployed {
    char deployment_id[BPM_ID_SIZE];
    bool duplicate;          /* nothing changed: the existing deployment is returned */
    json_t *definitions;     /* [{id, key, version, name, resource}] (new reference) */
} bpm_deployed;

/* Deploys resources in one transaction: every .bpmn/.bpmn20.xml resource is
 * read, validated and compiled; any error rejects the whole deployment with
 * every diagnostic in diags (file = resource name) and BPM_INVALID. Each
 * executable process becomes a definition (version = 1 + the highest of its
 * key). With dedup, if every resource equals the latest deployment of the
 * same name and source, nothing is deployed and that deployment is returned
 * (duplicate = true). */
bpm_rc bpm_pgstore_deploy(bpm_pgstore *s, const char *name, const char *source, const bpm_resource *res, size_t n,
                          bool dedup, int64_t now_ms, bpm_deployed *out, bpm_diags *diags, bpm_err *err);

/* Timer start events arm themselves at deploy time (now_ms: engine time). */

/* The latest definition id of key, or the definition id itself if it is one. */
bpm_rc bpm_pgstore_resolve(bpm_pgstore *s, const char *key_or_id, char out[256], bpm_err *err);

#endif
