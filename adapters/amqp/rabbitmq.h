/* The RabbitMQ bridge (AMQP 0-9-1 over librabbitmq, the only place it
 * appears): publishing with publisher confirms, consuming with manual
 * acknowledgements and a dead-letter queue. See bridge.h for the contract. */
#ifndef BPM_RABBITMQ_H
#define BPM_RABBITMQ_H

#include "bridge.h"

/* The ops table (static storage). Each connection is used by one thread. */
const bpm_bridge_ops *bpm_rabbitmq_bridge(void);

#endif
