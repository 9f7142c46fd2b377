/* The transactional outbox's other end: the rows a step wrote (pgstore.c,
 * BPM_FX_PUBLISH) taken by the relay in id order, locked so several relays
 * share them, and marked sent in the transaction that took them. */
#ifndef BPM_OUTBOX_H
#define BPM_OUTBOX_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "pg.h"

typedef struct bpm_outbox_row {
    int64_t id;
    const char *instance_id; /* in the caller's arena; may be NULL */
    const char *channel;
    json_t *payload;         /* new reference, released with the arena */
    int attempts;
} bpm_outbox_row;

/* In an open transaction: up to max unsent rows, oldest first, locked FOR
 * UPDATE SKIP LOCKED (rows another relay holds are passed over). *out in
 * arena a. */
bpm_rc bpm_outbox_take(bpm_pg *pg, size_t max, bpm_outbox_row **out, size_t *n, bpm_arena *a, bpm_err *err);
/* In the same transaction: the rows `sent` are sent (sent_at = now()); every
 * row of both lists counts one attempt more. One statement. */
bpm_rc bpm_outbox_mark(bpm_pg *pg, const int64_t *sent, size_t n_sent, const int64_t *failed, size_t n_failed,
                       bpm_err *err);
/* Unsent rows (the backlog). */
bpm_rc bpm_outbox_backlog(bpm_pg *pg, long long *out, bpm_err *err);
/* LISTEN for new rows on this session (again after every reset). */
bpm_rc bpm_outbox_listen(bpm_pg *pg, bpm_err *err);
/* Sleeps up to ms or until a new row is announced; true when one was. */
bool bpm_outbox_wait(bpm_pg *pg, int ms);

#endif
