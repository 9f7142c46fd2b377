// The payment service's worker: "Charge payment" (topic payment-charge).
// The card token decides what the stand-in payment gateway does:
//   tok_declined  the card is declined: a BPMN error PAYMENT_DECLINED, which
//                 the diagram catches and compensates (the order is cancelled)
//   tok_flaky     the gateway times out twice: each time handleFailure with
//                 the retries left and a retryTimeout of one second, so bpmnd
//                 offers the task again a second later; the third try succeeds
//   anything else the charge succeeds
//
//   node payment-worker.mjs [BASE_URL]       (default http://localhost:8080/engine-rest)
import { Variables } from "camunda-external-task-client-js";
import { makeClient, record, say, work } from "./worker-common.mjs";

const client = makeClient("payment-worker");
const RETRIES = 3;

client.subscribe("payment-charge", async ({ task, taskService }) => {
  await work();
  const orderId = task.variables.get("orderId");
  const card = task.variables.get("card");
  const total = task.variables.get("total");
  const currency = task.variables.get("currency") || "EUR";
  // bpmnd, like Camunda 7, sends retries = null until the first failure
  const attempt = task.retries == null ? 1 : RETRIES - task.retries + 1;
  if (card === "tok_declined") {
    await taskService.handleBpmnError(task, "PAYMENT_DECLINED", "card declined by the issuer");
    say("payment", `${orderId}: card declined (BPMN error PAYMENT_DECLINED)`);
    record({ worker: "payment", action: "declined", orderId, attempt, taskId: task.id });
    return;
  }
  if (card === "tok_flaky" && attempt <= 2) {
    const retries = RETRIES - attempt;
    await taskService.handleFailure(task, {
      errorMessage: "payment gateway timeout",
      errorDetails: `attempt ${attempt}: no answer from the gateway within 5 s`,
      retries,
      retryTimeout: 1000,
    });
    say("payment", `${orderId}: attempt ${attempt} failed (payment gateway timeout); ${retries} ${retries === 1 ? "retry" : "retries"} left, next in 1 s`);
    record({ worker: "payment", action: "failure", orderId, attempt, retries, taskId: task.id });
    return;
  }
  const paymentId = `PAY-${orderId}`;
  const vars = new Variables();
  vars.set("paymentId", paymentId);
  await taskService.complete(task, vars);
  say("payment", `${orderId}: charged ${total} ${currency} (${paymentId}, attempt ${attempt})`);
  record({ worker: "payment", action: "charge", orderId, attempt, paymentId, taskId: task.id });
});
