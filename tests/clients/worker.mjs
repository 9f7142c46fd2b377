// A worker built on the unmodified camunda-external-task-client-js, as a
// service team would write one: charge (extends its lock, completes with
// typed variables), ship (a BPMN error when there is no stock), flaky (fails
// with retries counting down, then an incident). Runs until SIGTERM.
import { Client, logger, Variables } from "camunda-external-task-client-js";

const baseUrl = process.argv[2];
const client = new Client({ baseUrl, workerId: "e2e-worker", interval: 50, asyncResponseTimeout: 2000,
                            lockDuration: 10000, use: process.env.VERBOSE ? logger : undefined });

client.subscribe("charge", async ({ task, taskService }) => {
  await taskService.extendLock(task, 20000);
  const vars = new Variables();
  vars.set("charged", true);
  vars.set("amount", 42);
  vars.set("receipt", { id: "R-" + task.variables.get("orderId"), lines: [1, 2] });
  await taskService.complete(task, vars);
  console.log("charged " + task.variables.get("orderId"));
});

client.subscribe("ship", async ({ task, taskService }) => {
  if (task.variables.get("sku") === "none") {
    const vars = new Variables();
    vars.set("reason", "out of stock");
    await taskService.handleBpmnError(task, "NO_STOCK", "no stock for the order", vars);
    console.log("backordered " + task.variables.get("orderId"));
    return;
  }
  await taskService.complete(task);
  console.log("shipped " + task.variables.get("orderId"));
});

client.subscribe("flaky", async ({ task, taskService }) => {
  const retries = task.retries == null ? 2 : task.retries - 1;
  await taskService.handleFailure(task, { errorMessage: "service unavailable", errorDetails: "HTTP 503 from upstream",
                                          retries, retryTimeout: 100 });
  console.log("failed, retries left " + retries);
});

process.on("SIGTERM", () => { client.stop(); process.exit(0); });
