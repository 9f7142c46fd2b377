// The inventory service's worker: "Reserve inventory" (topic
// inventory-reserve) and its compensation "Release inventory" (topic
// inventory-release). A reservation is keyed by the order id, so a task
// delivered twice (a lock that expired mid-way) reserves nothing twice.
//
//   node inventory-worker.mjs [BASE_URL]     (default http://localhost:8080/engine-rest)
import { Variables } from "camunda-external-task-client-js";
import { makeClient, record, say, work } from "./worker-common.mjs";

const client = makeClient("inventory-worker");
const reservations = new Map(); // orderId -> {reservationId, items}

client.subscribe("inventory-reserve", async ({ task, taskService }) => {
  const receivedAt = performance.timeOrigin + performance.now(); // ms since the epoch (the latency benchmark)
  await work();
  const orderId = task.variables.get("orderId");
  const items = task.variables.get("items") || [];
  const reservationId = `RES-${orderId}`;
  reservations.set(orderId, { reservationId, items });
  const vars = new Variables();
  vars.set("reservationId", reservationId);
  await taskService.complete(task, vars);
  const what = items.map((i) => `${i.quantity} x ${i.sku}`).join(", ");
  say("inventory", `${orderId}: reserved ${what} (${reservationId})`);
  record({ worker: "inventory", action: "reserve", orderId, reservationId, taskId: task.id, receivedAt });
});

client.subscribe("inventory-release", async ({ task, taskService }) => {
  await work();
  const orderId = task.variables.get("orderId");
  const reservationId = task.variables.get("reservationId");
  reservations.delete(orderId);
  const vars = new Variables();
  vars.set("releasedReservation", reservationId);
  await taskService.complete(task, vars);
  say("inventory", `${orderId}: released ${reservationId} (compensation)`);
  record({ worker: "inventory", action: "release", orderId, reservationId, taskId: task.id });
});
