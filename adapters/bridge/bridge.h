/* The message-broker bridge: what the outbox relay and the consumers need
 * from a broker, as an ops table (RabbitMQ: adapters/amqp; Kafka later). */
#ifndef BPM_BRIDGE_H
#define BPM_BRIDGE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* One message to publish. Every pointer is borrowed for the call. */
typedef struct bpm_bridge_msg {
    const char *id;          /* message id, fixed when the step ran: resends carry the same */
    const char *instance_id; /* sent as the header "bpmnd-instance-id" (may be NULL) */
    const char *destination; /* RabbitMQ: the exchange ("" = the default exchange); Kafka: the topic */
    const char *key;         /* RabbitMQ: the routing key; Kafka: the partition key */
    const char *body;
    size_t body_len;
    const char *content_type; /* NULL: none */
    const json_t *properties; /* extra broker properties ({headers: {...}, type, correlationId...}) or NULL */
    /* OUT: set by publish for each message */
    bool ok;             /* the broker confirmed it (RabbitMQ basic.ack; Kafka a delivery report) */
    char error[256];     /* why not, when !ok */
} bpm_bridge_msg;

/* One message delivered by consume. Borrowed for the handler's call. */
typedef struct bpm_bridge_delivery {
    const char *source;     /* the queue (or topic) it came from */
    const char *message_id; /* NULL when the publisher set none */
    const char *body;
    size_t body_len;
    const char *content_type; /* or NULL */
    const json_t *headers;    /* object (never NULL; may be empty) */
    const char *exchange;     /* RabbitMQ: the exchange it was published to ("" = the default); or NULL */
    const char *routing_key;  /* RabbitMQ: its routing key; Kafka: the partition key; or NULL */
    const json_t *properties; /* object of the broker's other properties (never NULL): RabbitMQ's
                               * type, correlationId, replyTo, appId, userId, timestamp (seconds),
                               * expiration, priority, contentEncoding, deliveryMode when set */
    bool redelivered;         /* the broker delivered it before (a consumer died before acking) */
    unsigned failures;        /* earlier RETRY verdicts this consumer counted for this message */
} bpm_bridge_delivery;

typedef enum bpm_bridge_verdict {
    BPM_BRIDGE_OK = 0, /* done (e.g. the engine's transaction committed): acknowledged */
    BPM_BRIDGE_RETRY,  /* failed for now: tried again later (the count kept with the message); after
                        * max_failures dead-lettered */
    BPM_BRIDGE_REJECT, /* can never succeed: dead-lettered at once */
    BPM_BRIDGE_REQUEUE, /* not this message's fault (the database is down): requeued, not counted */
} bpm_bridge_verdict;

/* Handles one delivery. On RETRY or REJECT it writes why into reason
 * (reason_size bytes), which goes with a dead-lettered message. Runs on the
 * consuming thread; the acknowledgement waits until it returns. */
typedef bpm_bridge_verdict bpm_bridge_handler(void *ud, const bpm_bridge_delivery *d, char *reason,
                                              size_t reason_size);

typedef struct bpm_bridge_consume {
    const char *source;      /* the queue (topic) to consume; declared durable when missing */
    const char *dead_letter; /* where poison messages go (a durable queue); NULL = source + ".dlq" */
    unsigned prefetch;       /* deliveries in flight; 0 = 16 */
    unsigned max_failures;   /* RETRY verdicts before dead-lettering; 0 = 5 */
    size_t max_messages;     /* return after this many verdicts; 0 = no limit */
    int idle_ms;             /* return after this long without a delivery; 0 = never */
    const atomic_bool *stop; /* return when it becomes true (checked at least every 200 ms); may be NULL */
} bpm_bridge_consume;

/* Counts of one consume call. */
typedef struct bpm_bridge_consumed {
    size_t acked, retried, dead_lettered, requeued;
} bpm_bridge_consumed;

typedef struct bpm_bridge_ops {
    const char *name; /* "rabbitmq" */
    /* Connects to url (the bridge's own syntax; RabbitMQ amqp://user:pass@host:port/vhost).
     * *out is new: close() frees it. BPM_UNAVAILABLE when the broker cannot be
     * reached, BPM_BAD_REQUEST for a malformed url. */
    bpm_rc (*connect)(const char *url, void **out, bpm_err *err);
    /* Publishes msgs[0..n) persistently and waits up to timeout_ms for the
     * broker to confirm each; msgs[i].ok / error say how each went (one
     * refused message does not fail the others). BPM_OK when the batch was
     * handed over and answered; BPM_UNAVAILABLE when the connection was lost
     * (messages without ok must be sent again; the bridge is then unusable:
     * close it and connect again). */
    bpm_rc (*publish)(void *self, bpm_bridge_msg *msgs, size_t n, int timeout_ms, bpm_err *err);
    /* Consumes cfg->source, handing each delivery to fn; acknowledges only
     * after fn returned OK, puts a message back on RETRY (counted, the count
     * kept with the message so that it survives the consumer) and REQUEUE
     * (not counted), dead-letters (the reason in
     * the header "x-bpmnd-reason") on REJECT or the max_failures-th RETRY,
     * acknowledging the original only once the dead-letter copy is
     * confirmed. Returns when cfg says so (BPM_OK) or the connection was lost
     * (BPM_UNAVAILABLE: deliveries not acknowledged are redelivered by the
     * broker). *counts (may be NULL) receives what happened. */
    bpm_rc (*consume)(void *self, const bpm_bridge_consume *cfg, bpm_bridge_handler *fn, void *ud,
                      bpm_bridge_consumed *counts, bpm_err *err);
    void (*close)(void *self);
} bpm_bridge_ops;

#endif
