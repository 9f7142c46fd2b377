/* The store port: what the runtime needs from a place that keeps instances.
 * Implemented in memory (engine/sim.c) and in PostgreSQL (adapters/pg).
 * Every call but begin/commit/rollback happens inside a transaction the
 * runtime opened; lock() takes the instance's row lock until commit. */
#ifndef BPM_STORE_H
#define BPM_STORE_H

#include <jansson.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "exec.h"
#include "inst.h"
#include "model.h"

#define BPM_ID_SIZE 40 /* ids are UUIDs or shorter */

/* A wait somewhere, as lookups return it. */
typedef struct bpm_wait_ref {
    const char *instance_id; /* in the lookup's arena */
    uint32_t wait;
    int64_t due_ms;          /* timers */
} bpm_wait_ref;

typedef enum bpm_find_kind {
    BPM_FIND_MESSAGE = 0, /* name, key (NULL = any), business_key (NULL = any) */
    BPM_FIND_SIGNAL,      /* name */
    BPM_FIND_TIMER_DUE,   /* due_ms <= now_ms, earliest first */
    BPM_FIND_CHILDREN,    /* instances called by instance_id through wait */
    BPM_FIND_WAIT_AT,     /* the open wait at element in instance (any kind) */
} bpm_find_kind;

typedef struct bpm_find {
    bpm_find_kind kind;
    const char *name;
    const char *key;
    const char *business_key;
    const char *instance_id;
    const char *element;
    uint32_t wait;
    int64_t now_ms;
    size_t limit; /* 0 = no limit */
} bpm_find;

/* A definition whose start event reacts to a message or signal. */
typedef struct bpm_start_trigger {
    const char *definition_id;
    const char *element; /* the start event's id */
} bpm_start_trigger;

typedef struct bpm_store_ops {
    bpm_rc (*begin)(void *self, bpm_err *err);
    bpm_rc (*commit)(void *self, bpm_err *err);
    void (*rollback)(void *self);
    /* A fresh unique id (the engine has no randomness of its own). */
    void (*new_id)(void *self, char out[BPM_ID_SIZE]);
    /* The frozen, compiled model of a definition and the process to run;
     * borrowed from the store's cache, valid until the store is freed. */
    bpm_rc (*model)(void *self, const char *definition_id, const bpm_model **m, const bpm_process **p, bpm_err *err);
    /* Inserts a new instance (state as given). */
    bpm_rc (*create)(void *self, const bpm_inst *inst, const char *start_user, bpm_err *err);
    /* Locks and loads an instance; *out is new (bpm_inst_free). BPM_NOT_FOUND. */
    bpm_rc (*lock)(void *self, const char *instance_id, bpm_inst **out, bpm_err *err);
    /* Writes the state after a step and applies its effects (waits, variables,
     * history, incidents). Called for incident-only steps too, with the state
     * unchanged. */
    bpm_rc (*save)(void *self, const bpm_inst *inst, const bpm_effects *fx, const char *user, bpm_err *err);
    /* Lookups; results in arena a. */
    bpm_rc (*find)(void *self, const bpm_find *q, bpm_wait_ref **out, size_t *n, bpm_arena *a, bpm_err *err);
    bpm_rc (*start_triggers)(void *self, bpm_event_kind kind, const char *name, bpm_start_trigger **out, size_t *n,
                             bpm_arena *a, bpm_err *err);
    /* The latest definition of a process key (NULL tenant) into out. */
    bpm_rc (*latest)(void *self, const char *key, char out[256], bpm_err *err);
    /* Keeps a message nobody waits for yet until expires_ms (vars borrowed). */
    bpm_rc (*buffer_message)(void *self, const char *name, const char *key, const char *business_key,
                             const json_t *vars, int64_t expires_ms, bpm_err *err);
    /* Takes the oldest unexpired buffered message for a subscription that
     * just opened (name, and key or business key when the message has one):
     * *vars is a new reference ({} when it carried none), or NULL if none. */
    bpm_rc (*take_buffered)(void *self, const char *name, const char *key, const char *business_key, int64_t now_ms,
                            json_t **vars, bpm_err *err);
    /* Optional (may be NULL): locks n instances at once, ahead of the
     * lock() calls of a batch of commands on them in this transaction, so
     * a batch pays one lock round trip instead of one per command. */
    bpm_rc (*lock_many)(void *self, const char *const *ids, size_t n, bpm_err *err);
} bpm_store_ops;

typedef struct bpm_store {
    const bpm_store_ops *ops;
    void *self;
} bpm_store;

#endif
