/* bpmnd's HTTP side on libmicrohttpd: a thread pool, one engine session per
 * thread, /engine-rest dispatched to adapters/api, long polling through
 * suspended connections, /health, /ready and /metrics. */
#ifndef BPM_HTTP_H
#define BPM_HTTP_H

#include "config.h"
#include "consumer.h"
#include "err.h"
#include "executor.h"
#include "pgstore.h"
#include "relay.h"

typedef struct bpm_http bpm_http;

/* Starts listening. *out is new; bpm_http_stop() frees it. ex (may be NULL,
 * borrowed) feeds the job metrics, counters (borrowed, may be NULL) the
 * instance metrics. */
bpm_rc bpm_http_start(const bpm_config *cfg, const char *conninfo, const bpm_executor *ex,
                      bpm_pgstore_counters *counters, bpm_http **out, bpm_err *err);
/* Graceful stop: no new connections, parked long polls answered, requests in
 * flight finished; then frees h. */
void bpm_http_stop(bpm_http *h);
/* The outbox relay's counters (borrowed; must outlive h) for /metrics. */
void bpm_http_set_relay(bpm_http *h, const bpm_relay_stats *stats);
/* The queue consumers (cs[0..n) borrowed; must outlive h) for /metrics. Call
 * once, before requests can ask for /metrics' consumer lines. */
void bpm_http_set_consumers(bpm_http *h, bpm_consumer *const *cs, size_t n);

#endif
