/* The outbox relay: a thread publishing the outbox rows of committed steps
 * through a bridge (bridge.h) with confirms; bpmnd and bpmnctl relay run it. */
#ifndef BPM_RELAY_H
#define BPM_RELAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "bridge.h"
#include "err.h"
#include "executor.h"

typedef struct bpm_relay bpm_relay;

typedef struct bpm_relay_config {
    const char *conninfo;          /* copied */
    const char *url;               /* the broker, in the bridge's syntax; copied */
    const bpm_bridge_ops *bridge;  /* borrowed (static) */
    size_t batch;                  /* rows per round; 0 = 100 */
    int confirm_timeout_ms;        /* 0 = 10 s */
    bool once;                     /* stop when nothing is left to send (or after a failed round) */
    bpm_executor_log_fn *log;      /* or NULL: stderr */
    void *log_ud;
} bpm_relay_config;

/* Counters for /metrics, updated by the relay thread. */
typedef struct bpm_relay_stats {
    atomic_ullong published; /* rows confirmed by the broker and marked sent */
    atomic_ullong failed;    /* publish attempts that failed (the row stays and is tried again) */
    atomic_llong backlog;    /* unsent rows as last counted (at most once a second) */
    atomic_bool broker_up;
} bpm_relay_stats;

/* Starts the relay thread. *out is new; bpm_relay_join() frees it. */
bpm_rc bpm_relay_start(const bpm_relay_config *cfg, bpm_relay **out, bpm_err *err);
/* Asks the relay to stop after its current round. Async-signal-safe. */
void bpm_relay_stop(bpm_relay *r);
/* Waits for the thread, then frees r. *published (may be NULL) receives the
 * count. Returns 0, or 1 when it stopped because of an error (once mode). */
int bpm_relay_join(bpm_relay *r, unsigned long long *published);
/* Live counters (borrowed; valid until join). */
const bpm_relay_stats *bpm_relay_stats_of(const bpm_relay *r);

#endif
