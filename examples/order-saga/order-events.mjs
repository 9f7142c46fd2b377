// A downstream service's view of the saga's outcome: reads the events the
// saga's end events publish (OrderCompleted, OrderCancelled; the RabbitMQ
// connector rabbitmq-publish in order-saga.bpmn, sent by bpmnd's outbox
// relay after the step committed) from the queue order-events, prints and
// acknowledges them.
//
//   node order-events.mjs --declare      declares the durable queue (before the
//                                        saga runs: the default exchange drops a
//                                        message for a queue that does not exist)
//   node order-events.mjs                reads what is there
// Environment: BPMND_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/),
// EVENTS_WAIT (read until that many came, at most 15 s), EVENTS_RECORD (a
// file: one JSON line per event).
import amqp from "amqplib";
import { appendFileSync } from "node:fs";

const url = process.env.BPMND_AMQP_URL || "amqp://guest:guest@127.0.0.1:5672/";
const queue = "order-events";
const conn = await amqp.connect(url);
const ch = await conn.createChannel();
await ch.assertQueue(queue, { durable: true });
if (process.argv[2] !== "--declare") {
  const want = Number(process.env.EVENTS_WAIT || 0);
  const end = Date.now() + 15000;
  for (let n = 0; ; ) {
    const m = await ch.get(queue, { noAck: false });
    if (!m) {
      if (n >= want || Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    n++;
    const body = JSON.parse(m.content.toString());
    const p = m.properties;
    console.log(`   ${p.type} ${body.orderId}: ${JSON.stringify(body)} (message id ${p.messageId})`);
    if (process.env.EVENTS_RECORD)
      appendFileSync(process.env.EVENTS_RECORD, JSON.stringify({ type: p.type, messageId: p.messageId, headers: p.headers, body }) + "\n");
    ch.ack(m);
  }
}
await ch.close();
await conn.close();
