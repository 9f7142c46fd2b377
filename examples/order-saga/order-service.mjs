// The Order Service's publisher: announces orders as OrderPlaced events on
// RabbitMQ (amqplib), where bpmnd's consumer (bpmnd.conf, mapping.lua)
// starts a saga per order. Each event is one JSON line:
//   {"type": "OrderPlaced", "headers": {...}, "body": {...}}   a new event
//   {"id": "evt-...", "type": ..., "body": ...}               an event with its id: published again unchanged
//   {"type": ..., "rawBody": "text"}                          a body sent as it is (e.g. broken JSON)
// and is published persistent, application/json, type = the event type,
// message_id = the event's id (a new "evt-<uuid>" when it has none: the
// consumer de-duplicates by it), on a confirm channel: a line is printed
// once RabbitMQ confirmed it. Every published event is appended to
// PUBLISH_RECORD (a JSON line: the event with its id and publishedAt, ms
// since the epoch) when set; feeding such a line back in publishes the same
// event again (the same message id: what a publisher retrying after a lost
// confirm does).
//
//   node order-service.mjs [FILE|-]      (default -: stdin)
// Environment: BPMND_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/),
// ORDERS_QUEUE (default orders), PUBLISH_INTERVAL_MS (a pause between two
// events, default 0), PUBLISH_RECORD, QUIET=1 (no line per event).
import amqp from "amqplib";
import { randomUUID } from "node:crypto";
import { appendFileSync, readFileSync } from "node:fs";

const url = process.env.BPMND_AMQP_URL || "amqp://guest:guest@127.0.0.1:5672/";
const queue = process.env.ORDERS_QUEUE || "orders";
const interval = Number(process.env.PUBLISH_INTERVAL_MS || 0);
const file = process.argv[2] && process.argv[2] !== "-" ? process.argv[2] : 0;
const events = readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));

const now = () => performance.timeOrigin + performance.now(); // ms since the epoch, sub-ms resolution
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (line) => process.env.QUIET === "1" || console.log(`  [order-service] ${line}`);

const conn = await amqp.connect(url);
const ch = await conn.createConfirmChannel();
// durable, as bpmnd's consumer declares it: published before bpmnd is up, an
// order waits in the queue instead of going nowhere
await ch.assertQueue(queue, { durable: true });
for (const ev of events) {
  const id = ev.id || `evt-${randomUUID()}`;
  const body = ev.rawBody !== undefined ? Buffer.from(ev.rawBody) : Buffer.from(JSON.stringify(ev.body));
  const publishedAt = now();
  await new Promise((resolve, reject) =>
    ch.sendToQueue(queue, body, {
      persistent: true,
      contentType: "application/json",
      messageId: id,
      type: ev.type,
      appId: "order-service",
      timestamp: Math.floor(publishedAt / 1000),
      headers: ev.headers || {},
    }, (err) => (err ? reject(err) : resolve())));
  const orderId = ev.body && ev.body.orderId;
  say(`${ev.type} ${ev.rawBody !== undefined ? "(a broken body)" : orderId || "(no order id)"} published (message id ${id})${ev.id ? ": the same event again" : ""}`);
  if (process.env.PUBLISH_RECORD)
    appendFileSync(process.env.PUBLISH_RECORD, JSON.stringify({ ...ev, id, publishedAt }) + "\n");
  if (interval) await sleep(interval);
}
await ch.close();
await conn.close();
