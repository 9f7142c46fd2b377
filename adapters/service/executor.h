/* The job executor: threads that acquire due jobs (async continuations,
 * timers, timer start events, connector calls), run them through the
 * runtime, count failures as retries, and sleep on LISTEN/NOTIFY when idle.
 * bpmnctl worker runs it in the foreground; bpmnd runs it beside the REST
 * server. */
#ifndef BPM_EXECUTOR_H
#define BPM_EXECUTOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "pgstore.h"

typedef struct bpm_executor bpm_executor;

/* A log line: level "info"|"warn"|"error", event a short tag ("job-failed"),
 * msg the text. Called from executor threads. */
typedef void bpm_executor_log_fn(void *ud, const char *level, const char *event, const char *msg);

typedef struct bpm_executor_config {
    const char *conninfo;   /* copied */
    int threads;            /* 1..64 */
    bool once;              /* stop when nothing is due */
    int batch;              /* due jobs per acquisition, 1..1000; 0 = 64 */
    int64_t lock_ms;        /* a job's lock; 0 = 5 minutes */
    bpm_executor_log_fn *log;
    void *log_ud;
    bpm_pgstore_counters *counters; /* instance starts and ends, or NULL */
} bpm_executor_config;

/* Counters for /metrics, updated by the threads. */
typedef struct bpm_executor_stats {
    atomic_ullong jobs_done;
    atomic_ullong jobs_failed;
    atomic_ullong acquisitions;   /* jobs acquired */
    atomic_ullong delay_ms_total; /* sum over acquired jobs of (acquired - due) */
} bpm_executor_stats;

/* Starts cfg->threads threads. *out is new; bpm_executor_join() frees it. */
bpm_rc bpm_executor_start(const bpm_executor_config *cfg, bpm_executor **out, bpm_err *err);
/* Asks every thread to stop after its current job. Async-signal-safe. */
void bpm_executor_stop(bpm_executor *e);
/* Waits for the threads, then frees e. *done and *failed (may be NULL)
 * receive the final job counts. Returns 0, or 1 if a thread could not start
 * its session. */
int bpm_executor_join(bpm_executor *e, unsigned long long *done, unsigned long long *failed);
/* Live counters (borrowed; valid until join). */
const bpm_executor_stats *bpm_executor_stats_of(const bpm_executor *e);

#endif
