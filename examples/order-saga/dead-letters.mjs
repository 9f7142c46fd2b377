// Shows the dead-letter queue: every message in it with the reason bpmnd's
// consumer gave (x-bpmnd-reason), the failures counted (x-bpmnd-failures),
// the queue it came from (x-bpmnd-source), its message id and body. The
// messages stay in the queue (read without acknowledging, returned when the
// channel closes): they are an operator's to look at, fix and republish.
//
//   node dead-letters.mjs [QUEUE]        (default orders.dlq)
//   node dead-letters.mjs --purge [QUEUE]   empties it (run.sh: an earlier run's dead letters)
// Environment: BPMND_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/),
// DLQ_RECORD (a file: one JSON line per message), DLQ_WAIT (wait up to 10 s
// until the queue holds that many messages).
import amqp from "amqplib";
import { appendFileSync } from "node:fs";

const url = process.env.BPMND_AMQP_URL || "amqp://guest:guest@127.0.0.1:5672/";
const purge = process.argv[2] === "--purge";
const queue = process.argv[purge ? 3 : 2] || "orders.dlq";
const conn = await amqp.connect(url);
const ch = await conn.createChannel();
await ch.assertQueue(queue, { durable: true });
if (purge) {
  const { messageCount } = await ch.purgeQueue(queue);
  if (messageCount) console.log(`   ${queue}: ${messageCount} dead letters of an earlier run removed`);
  await conn.close();
  process.exit(0);
}
const want = Number(process.env.DLQ_WAIT || 0);
for (const end = Date.now() + 10000; want && Date.now() < end; await new Promise((r) => setTimeout(r, 100)))
  if ((await ch.checkQueue(queue)).messageCount >= want) break;
let n = 0;
for (let m; (m = await ch.get(queue, { noAck: false })); n++) {
  const h = m.properties.headers || {};
  const row = {
    id: m.properties.messageId, reason: String(h["x-bpmnd-reason"] ?? ""),
    failures: Number(h["x-bpmnd-failures"] ?? 0), source: String(h["x-bpmnd-source"] ?? ""),
    body: m.content.toString(),
  };
  console.log(`   ${row.id} (from ${row.source}, ${row.failures} ${row.failures === 1 ? "attempt" : "attempts"}): ${row.reason}`);
  console.log(`     body: ${row.body}`);
  if (process.env.DLQ_RECORD) appendFileSync(process.env.DLQ_RECORD, JSON.stringify(row) + "\n");
}
if (n === 0) console.log(`   ${queue} is empty`);
await ch.close(); // the unacknowledged messages go back to the queue
await conn.close();
