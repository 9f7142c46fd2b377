/* Queue consumers: each message of a broker queue (bridge.h) is mapped by
 * Lua (inbound.h) and delivered as a start or correlation, acknowledged only
 * after the engine's transaction committed. docs/events.md "RabbitMQ consumers". */
#ifndef BPM_CONSUMER_H
#define BPM_CONSUMER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "bridge.h"
#include "err.h"
#include "executor.h"
#include "inbound.h"
#include "scripts.h"

/* One configured consumer (amqp.consume.NAME.*): immutable once defined. */
typedef struct bpm_consumer_def {
    const char *name;        /* NAME */
    const char *queue;       /* the queue consumed (declared durable when missing) */
    const char *dead_letter; /* default QUEUE.dlq */
    const bpm_inbound_mapping *mapping; /* NULL: start process with the body as variables */
    const char *process;     /* or NULL */
    unsigned max_failures;   /* default 5 */
    unsigned prefetch;       /* default 16 */
    const char *where;       /* file:line of the section, for messages */
} bpm_consumer_def;

/* Reads a section's field (value borrowed, NULL when unset; *where, may be
 * NULL, gets its file:line or the section's). */
typedef const char *bpm_consumer_get_fn(const void *section, const char *field, const char **where);

/* Defines consumer name from the fields get reads (queue, mapping, process,
 * max_failures, dead_letter, prefetch); the mapping file is read and compiled
 * with scripts (one thread at a time). Strings and the mapping live in arena
 * a. BPM_INVALID naming file:line (and the Lua line) for a missing queue, a
 * bad number, neither mapping nor process, an unreadable or broken mapping.
 * *out (OUT) in a. */
bpm_rc bpm_consumer_define(bpm_scripts *scripts, const char *name, const void *section, bpm_consumer_get_fn *get,
                           const char *section_where, bpm_arena *a, bpm_consumer_def **out, bpm_err *err);

/* Counters for /metrics, updated by the consuming thread. */
typedef struct bpm_consumer_stats {
    atomic_ullong consumed;      /* started, correlated or ignored by the mapping, and acknowledged */
    atomic_ullong duplicates;    /* delivered before (same message id): acknowledged, no effect */
    atomic_ullong failed;        /* handled with an error (retried or dead-lettered) */
    atomic_ullong dead_lettered; /* moved to the dead-letter queue */
    atomic_ullong requeued;      /* put back because the database was unavailable (not counted as failures) */
    atomic_bool broker_up;
} bpm_consumer_stats;

typedef struct bpm_consumer_config {
    const bpm_consumer_def *def;  /* borrowed for the consumer's life */
    const char *conninfo;         /* copied */
    const char *url;              /* the broker; copied; never logged */
    const bpm_bridge_ops *bridge; /* borrowed (static) */
    size_t max_messages;          /* bpm_consumer_run: return after this many verdicts; 0 = no limit */
    int idle_ms;                  /* bpm_consumer_run: return after this long idle; 0 = never */
    bpm_executor_log_fn *log;     /* or NULL: stderr */
    void *log_ud;
} bpm_consumer_config;

/* Consumes in the calling thread until *stop (may be NULL) becomes true, or
 * cfg's max_messages / idle_ms say so; reconnects to the broker and the
 * database with a backoff (0.5 s doubling to 10 s) when they are lost.
 * stats (may be NULL) are updated as it goes. Returns BPM_OK, or an error
 * when it cannot start (the broker refused the queue declaration) and
 * max_messages or idle_ms is set (a foreground run). */
bpm_rc bpm_consumer_run(const bpm_consumer_config *cfg, const atomic_bool *stop, bpm_consumer_stats *stats,
                        bpm_err *err);

typedef struct bpm_consumer bpm_consumer;
/* Starts bpm_consumer_run in a thread of its own. *out is new; join frees it. */
bpm_rc bpm_consumer_start(const bpm_consumer_config *cfg, bpm_consumer **out, bpm_err *err);
/* Asks it to stop (within 200 ms, after the message in hand). Async-signal-safe. */
void bpm_consumer_stop(bpm_consumer *c);
void bpm_consumer_join(bpm_consumer *c);
/* Live counters (borrowed; valid until join). */
const bpm_consumer_stats *bpm_consumer_stats_of(const bpm_consumer *c);
const bpm_consumer_def *bpm_consumer_def_of(const bpm_consumer *c);

#endif
