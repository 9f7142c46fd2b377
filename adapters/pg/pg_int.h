/* Shared inside adapters/pg: the store's fields (store.c, deploy.c). */
#ifndef BPM_PG_INT_H
#define BPM_PG_INT_H

#include "arena.h"
#include "pg.h"
#include "ports.h"
#include "strmap.h"

struct bpm_pgstore {
    bpm_pg *pg;
    const bpm_evaluator *ev;
    bpm_arena *cache_arena;
    bpm_strmap models; /* definition id -> bpm_model* (one ref each) */
    int urandom;
    int history; /* bpm_history_level */
};

#endif
