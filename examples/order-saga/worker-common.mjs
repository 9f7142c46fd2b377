// What the three order-saga workers share: the client against bpmnd's
// REST API (camunda-external-task-client-js, unmodified, long polling), a
// line on stdout per action, and a record of every action as a JSON line in
// ORDER_RECORD (when set), which tests/e2e/order_saga.sh reads.
import { appendFileSync } from "node:fs";
import { BasicAuthInterceptor, Client } from "camunda-external-task-client-js";

export function makeClient(workerId) {
  const baseUrl = process.argv[2] || process.env.BPMND_URL || "http://localhost:8080/engine-rest";
  const user = process.env.WORKER_USER;
  const interceptors = user ? new BasicAuthInterceptor({ username: user, password: process.env.WORKER_PASSWORD || "" })
                            : undefined;
  const client = new Client({
    baseUrl, workerId, interceptors,
    asyncResponseTimeout: 10000, // long polling: bpmnd answers as soon as a task exists
    // the pause between the end of one fetch and the next (the client's default
    // 300 ms); POLL_INTERVAL_MS=0 polls again at once (tests/bench/bench_saga_latency.sh)
    interval: Number(process.env.POLL_INTERVAL_MS ?? 300),
    lockDuration: 30000,
    maxTasks: 10,
  });
  client.on("complete:error", (task, e) => say(workerId, `could not complete ${task.id}: ${e}`));
  const stop = () => { client.stop(); process.exit(0); };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  return client;
}

// A pause before each action (WORK_DELAY_MS, default 400), standing for the
// service's own work, so that the order's state can be watched moving.
export const work = () => new Promise((r) => setTimeout(r, Number(process.env.WORK_DELAY_MS ?? 400)));

export function say(worker, line) {
  console.log(`  [${worker}] ${line}`);
}

export function record(entry) {
  if (process.env.ORDER_RECORD)
    appendFileSync(process.env.ORDER_RECORD, JSON.stringify({ at: new Date().toISOString(), ...entry }) + "\n");
}
