// The card switch: streams card transactions into RabbitMQ (amqplib), in
// order, where bpmnd's consumer (bpmnd.conf, mapping.lua) hands each to its
// card's monitor. Each event is one JSON line {id, type, headers, body}
// (events.jsonl), published persistent, application/json, type = the event
// type, message_id = STREAM_TAG + the event's id (the consumer drops a
// repeated message id; the tag keeps a replay of the recording on the same
// database from being taken for the last replay's duplicates), on a confirm
// channel: a line is printed once RabbitMQ confirmed it.
//
//   node card-switch.mjs [FILE|-]      (default -: stdin)
// Environment: BPMND_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/),
// TRANSACTIONS_QUEUE (default card.transactions), STREAM_TAG (default "").
import amqp from "amqplib";
import { readFileSync } from "node:fs";

const url = process.env.BPMND_AMQP_URL || "amqp://guest:guest@127.0.0.1:5672/";
const queue = process.env.TRANSACTIONS_QUEUE || "card.transactions";
const tag = process.env.STREAM_TAG || "";
const file = process.argv[2] && process.argv[2] !== "-" ? process.argv[2] : 0;
const events = readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));

const conn = await amqp.connect(url);
const ch = await conn.createConfirmChannel();
await ch.assertQueue(queue, { durable: true }); // as bpmnd declares it: nothing is lost while bpmnd is down
for (const ev of events) {
  await new Promise((resolve, reject) =>
    ch.sendToQueue(queue, Buffer.from(JSON.stringify(ev.body)), {
      persistent: true, contentType: "application/json", messageId: tag + ev.id, type: ev.type,
      appId: "card-switch", headers: ev.headers || {},
    }, (err) => (err ? reject(err) : resolve())));
  const t = ev.body;
  console.log(`  [card-switch] ${ev.id}: ${t.cardId} ${t.amount} ${t.currency} in ${t.country} at ${t.at.slice(11, 16)}`);
}
await ch.close();
await conn.close();
