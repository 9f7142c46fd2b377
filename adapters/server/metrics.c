/* Counters updated lock-free by the HTTP threads and rendered on demand in
 * Prometheus' text format. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "arena.h"

static const double bounds_ms[BPM_METRICS_BUCKETS] = {0.5, 1, 2.5, 5, 10, 25, 50, 100, 500, 2500};

void bpm_metrics_init(bpm_metrics *m)
{
    memset(m, 0, sizeof *m);
}

void bpm_metrics_request(bpm_metrics *m, int route, int status, int64_t took_ns)
{
    bpm_metrics_route *r = &m->routes[route < 0 || route >= BPM_METRICS_ROUTES ? BPM_METRICS_ROUTES : route];
    atomic_fetch_add(&r->count[status >= 500 ? 2 : status >= 400 ? 1 : 0], 1);
    atomic_fetch_add(&r->sum_us, (unsigned long long)(took_ns / 1000));
    double ms = (double)took_ns / 1e6;
    for (int i = 0; i < BPM_METRICS_BUCKETS; i++)
        if (ms <= bounds_ms[i])
            atomic_fetch_add(&r->buckets[i], 1);
}

void bpm_metrics_webhook(bpm_metrics *m, int outcome)
{
    if (outcome >= 0 && outcome < 4)
        atomic_fetch_add(&m->webhooks[outcome], 1);
}

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k >= 0 && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        b->cap = b->cap * 2 + (size_t)(k > 0 ? k : 0);
        b->p = bpm_xrealloc(b->p, b->cap);
    }
}

char *bpm_metrics_render(bpm_metrics *m, const bpm_executor *ex, const bpm_pgstore_counters *counters)
{
    buf b = {bpm_xmalloc(8192), 0, 8192};
    static const char *cls[3] = {"2xx", "4xx", "5xx"};
    put(&b, "# HELP bpmnd_http_requests_total HTTP requests by route and status class.\n"
            "# TYPE bpmnd_http_requests_total counter\n");
    const bpm_api_route *routes = bpm_api_routes();
    int nroutes = 0;
    while (routes[nroutes].method && nroutes < BPM_METRICS_ROUTES)
        nroutes++;
    for (int i = 0; i <= nroutes; i++) {
        bpm_metrics_route *r = &m->routes[i == nroutes ? BPM_METRICS_ROUTES : i];
        const char *method = i == nroutes ? "" : routes[i].method;
        const char *pat = i == nroutes ? "unmatched" : routes[i].pattern;
        for (int k = 0; k < 3; k++) {
            unsigned long long v = atomic_load(&r->count[k]);
            if (v)
                put(&b, "bpmnd_http_requests_total{method=\"%s\",route=\"%s\",status=\"%s\"} %llu\n", method, pat,
                    cls[k], v);
        }
    }
    put(&b, "# HELP bpmnd_http_request_duration_seconds HTTP request latency by route.\n"
            "# TYPE bpmnd_http_request_duration_seconds histogram\n");
    for (int i = 0; i <= nroutes; i++) {
        bpm_metrics_route *r = &m->routes[i == nroutes ? BPM_METRICS_ROUTES : i];
        unsigned long long total = atomic_load(&r->count[0]) + atomic_load(&r->count[1]) + atomic_load(&r->count[2]);
        if (!total)
            continue;
        const char *method = i == nroutes ? "" : routes[i].method;
        const char *pat = i == nroutes ? "unmatched" : routes[i].pattern;
        for (int k = 0; k < BPM_METRICS_BUCKETS; k++)
            put(&b, "bpmnd_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%g\"} %llu\n", method,
                pat, bounds_ms[k] / 1000, atomic_load(&r->buckets[k]));
        put(&b, "bpmnd_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n", method,
            pat, total);
        put(&b, "bpmnd_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n", method, pat,
            (double)atomic_load(&r->sum_us) / 1e6);
        put(&b, "bpmnd_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n", method, pat, total);
    }
    put(&b,
        "# HELP bpmnd_webhook_events_total Webhook requests (POST /webhooks/NAME) by outcome; refused ones changed"
        " nothing.\n# TYPE bpmnd_webhook_events_total counter\n");
    static const char *const wh[4] = {"accepted", "duplicate", "ignored", "refused"};
    for (int k = 0; k < 4; k++)
        put(&b, "bpmnd_webhook_events_total{outcome=\"%s\"} %llu\n", wh[k], atomic_load(&m->webhooks[k]));
    if (ex) {
        const bpm_executor_stats *st = bpm_executor_stats_of(ex);
        unsigned long long acq = atomic_load(&st->acquisitions);
        put(&b,
            "# HELP bpmnd_jobs_run_total Jobs (async continuations, timers, timer starts) run by this process.\n"
            "# TYPE bpmnd_jobs_run_total counter\nbpmnd_jobs_run_total %llu\n"
            "# HELP bpmnd_jobs_failed_total Job runs that failed (a retry or an incident followed).\n"
            "# TYPE bpmnd_jobs_failed_total counter\nbpmnd_jobs_failed_total %llu\n"
            "# HELP bpmnd_jobs_acquired_total Jobs acquired by this process.\n"
            "# TYPE bpmnd_jobs_acquired_total counter\nbpmnd_jobs_acquired_total %llu\n"
            "# HELP bpmnd_job_acquisition_delay_seconds_sum Time between a job's due time and its acquisition, summed.\n"
            "# TYPE bpmnd_job_acquisition_delay_seconds_sum counter\nbpmnd_job_acquisition_delay_seconds_sum %.3f\n",
            atomic_load(&st->jobs_done), atomic_load(&st->jobs_failed), acq,
            (double)atomic_load(&st->delay_ms_total) / 1000);
    }
    if (counters)
        put(&b,
            "# HELP bpmnd_instances_started_total Process instances started by this process.\n"
            "# TYPE bpmnd_instances_started_total counter\nbpmnd_instances_started_total %llu\n"
            "# HELP bpmnd_instances_ended_total Process instances that ended in this process, by how.\n"
            "# TYPE bpmnd_instances_ended_total counter\n"
            "bpmnd_instances_ended_total{state=\"completed\"} %llu\n"
            "bpmnd_instances_ended_total{state=\"terminated\"} %llu\n",
            atomic_load(&counters->started), atomic_load(&counters->completed), atomic_load(&counters->terminated));
    b.p[b.n] = '\0';
    return b.p;
}

char *bpm_metrics_render_relay(const bpm_relay_stats *r)
{
    buf b = {bpm_xmalloc(1024), 0, 1024};
    put(&b,
        "# HELP bpmnd_outbox_published_total Outbox messages the broker confirmed (marked sent).\n"
        "# TYPE bpmnd_outbox_published_total counter\nbpmnd_outbox_published_total %llu\n"
        "# HELP bpmnd_outbox_failed_total Outbox publish attempts that failed (the row is tried again).\n"
        "# TYPE bpmnd_outbox_failed_total counter\nbpmnd_outbox_failed_total %llu\n"
        "# HELP bpmnd_outbox_backlog Unsent outbox rows, counted at most once a second.\n"
        "# TYPE bpmnd_outbox_backlog gauge\nbpmnd_outbox_backlog %lld\n"
        "# HELP bpmnd_outbox_broker_up Whether the relay is connected to the broker.\n"
        "# TYPE bpmnd_outbox_broker_up gauge\nbpmnd_outbox_broker_up %d\n",
        atomic_load(&r->published), atomic_load(&r->failed), (long long)atomic_load(&r->backlog),
        atomic_load(&r->broker_up) ? 1 : 0);
    b.p[b.n] = '\0';
    return b.p;
}

char *bpm_metrics_render_consumers(bpm_consumer *const *cs, size_t n)
{
    buf b = {bpm_xmalloc(1024), 0, 1024};
    static const char *const help[][2] = {
        {"consumed", "Queue messages started, correlated or ignored by the mapping, and acknowledged."},
        {"duplicates", "Queue messages delivered before (same message id): acknowledged without effect."},
        {"failed", "Queue messages that failed (retried, or dead-lettered when they cannot succeed)."},
        {"dead_lettered", "Queue messages moved to the dead-letter queue, the reason attached."},
        {"requeued", "Queue messages put back while the database was unavailable (not counted as failures)."},
    };
    for (size_t k = 0; k < sizeof help / sizeof help[0]; k++) {
        put(&b, "# HELP bpmnd_amqp_%s_total %s\n# TYPE bpmnd_amqp_%s_total counter\n", help[k][0], help[k][1],
            help[k][0]);
        for (size_t i = 0; i < n; i++) {
            const bpm_consumer_stats *st = bpm_consumer_stats_of(cs[i]);
            const bpm_consumer_def *d = bpm_consumer_def_of(cs[i]);
            const atomic_ullong *v = k == 0 ? &st->consumed : k == 1 ? &st->duplicates : k == 2 ? &st->failed
                                   : k == 3 ? &st->dead_lettered : &st->requeued;
            put(&b, "bpmnd_amqp_%s_total{consumer=\"%s\",queue=\"%s\"} %llu\n", help[k][0], d->name, d->queue,
                atomic_load(v));
        }
    }
    put(&b, "# HELP bpmnd_amqp_consumer_up Whether the consumer is connected to the broker.\n"
            "# TYPE bpmnd_amqp_consumer_up gauge\n");
    for (size_t i = 0; i < n; i++)
        put(&b, "bpmnd_amqp_consumer_up{consumer=\"%s\",queue=\"%s\"} %d\n", bpm_consumer_def_of(cs[i])->name,
            bpm_consumer_def_of(cs[i])->queue, atomic_load(&bpm_consumer_stats_of(cs[i])->broker_up) ? 1 : 0);
    b.p[b.n] = '\0';
    return b.p;
}
