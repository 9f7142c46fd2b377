/* Prometheus metrics: HTTP requests and latencies by route, job executor
 * counters, and the instance and task gauges read from the database. */
#ifndef BPM_METRICS_H
#define BPM_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "executor.h"
#include "pgstore.h"
#include "consumer.h"
#include "relay.h"

#define BPM_METRICS_ROUTES 256
#define BPM_METRICS_BUCKETS 10

typedef struct bpm_metrics_route {
    atomic_ullong count[3]; /* 2xx/3xx, 4xx, 5xx */
    atomic_ullong sum_us;
    atomic_ullong buckets[BPM_METRICS_BUCKETS];
} bpm_metrics_route;

typedef struct bpm_metrics {
    bpm_metrics_route routes[BPM_METRICS_ROUTES + 1]; /* the last: no route */
    atomic_ullong webhooks[4]; /* by bpm_webhook_outcome: accepted, duplicate, ignored, refused */
} bpm_metrics;

void bpm_metrics_init(bpm_metrics *m);
/* route: index in bpm_api_routes(), or -1. */
void bpm_metrics_request(bpm_metrics *m, int route, int status, int64_t took_ns);
/* outcome: a bpm_webhook_outcome (adapters/api/webhook.h). */
void bpm_metrics_webhook(bpm_metrics *m, int outcome);
/* The exposition text (malloc'd). ex and counters may be NULL. */
char *bpm_metrics_render(bpm_metrics *m, const bpm_executor *ex, const bpm_pgstore_counters *counters);
/* The outbox relay's lines of the exposition text (malloc'd). */
char *bpm_metrics_render_relay(const bpm_relay_stats *r);
/* The queue consumers' lines (malloc'd): cs[0..n) borrowed. */
char *bpm_metrics_render_consumers(bpm_consumer *const *cs, size_t n);

#endif
