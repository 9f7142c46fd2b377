// The shipping service's worker: "Arrange shipping" (topic shipping-arrange).
//
//   node shipping-worker.mjs [BASE_URL]      (default http://localhost:8080/engine-rest)
import { Variables } from "camunda-external-task-client-js";
import { makeClient, record, say, work } from "./worker-common.mjs";

const client = makeClient("shipping-worker");

client.subscribe("shipping-arrange", async ({ task, taskService }) => {
  await work();
  const orderId = task.variables.get("orderId");
  const address = task.variables.get("address") || "?";
  const trackingNumber = `TRK-${orderId}`;
  const vars = new Variables();
  vars.set("trackingNumber", trackingNumber);
  await taskService.complete(task, vars);
  say("shipping", `${orderId}: shipment booked to ${address} (${trackingNumber})`);
  record({ worker: "shipping", action: "ship", orderId, trackingNumber, taskId: task.id });
});
