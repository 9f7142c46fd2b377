/* Shared inside adapters/pg: the store's fields (store.c, deploy.c). */
#ifndef BPM_PG_INT_H
#define BPM_PG_INT_H

#include "arena.h"
#include "pg.h"
#include "pgstore.h"
#include "ports.h"
#include "strmap.h"

struct bpm_pgstore {
    bpm_pg *pg;
    const bpm_evaluator *ev;
    bpm_arena *cache_arena;
    bpm_strmap models; /* definition id -> bpm_model* (one ref each) */
    int urandom;
    int history; /* bpm_history_level */
    /* statements of save() prepared on this session, by their SQL's address
     * (they are string literals); pending until the batch that prepared them
     * has succeeded */
    const char *prepared[64];
    char prepared_name[64][24];
    bool prepared_ok[64];
    size_t n_prepared;
    unsigned prepare_seq; /* names are never reused: a failed batch may or may not have created one */
    unsigned generation;
    /* The transaction and the pipeline it travels in. BEGIN is not sent by
     * begin(): it goes with the first statement of the transaction, and a
     * step's writes wait in the open pipeline for the next read or for
     * COMMIT, so a command costs as few round trips as it has reads, plus
     * one (a start with no reads: one round trip in all). */
    int tx;           /* 0: none; 1: begun, BEGIN not sent yet; 2: BEGIN sent */
    bool pipe_open;   /* in pipeline mode, results not read yet */
    bool pipe_failed; /* a send failed: the connection is in trouble */
    int pipe_sent;    /* statements sent in the open pipeline */
    /* rows locked by lock_many() in this transaction, each read once */
    PGresult *locked;
    bool *locked_used;
    /* an instance created in this transaction, written by its first save */
    char pending_id[48];
    char pending_user[128];
    /* instances started and ended in this transaction, for the counters */
    bpm_pgstore_counters *counters;
    unsigned long long n_started, n_completed, n_terminated;
    /* an inbound event's de-duplication key, armed by bpm_pgstore_dedupe():
     * every transaction begins by inserting it until it is disarmed */
    char *dedupe_source, *dedupe_id;
    bool dedupe_hit;                   /* the last begin found the key taken */
    char dedupe_instance[BPM_ID_SIZE]; /* hit: the instance the first delivery led to */
    char first_instance[BPM_ID_SIZE];  /* the first instance created or locked in this transaction */
    bool dedupe_read;                  /* dedupe_instance was read after the hit */
    /* starts by key: key -> the latest active definition id seen (arena
     * strings), and the check armed by bpm_pgstore_guard() */
    bpm_strmap latest;
    char guard_key[256], guard_id[256];
    bool guard_armed, guard_with_key, guard_stale;
};

#endif
