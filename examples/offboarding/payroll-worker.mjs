// The payroll team's worker for "Settle payroll" (external task topic
// payroll-settlement), on the unmodified camunda-external-task-client-js, as
// it would run against Camunda 7. It fetches and locks tasks through
// bpmnd's REST API (long polling), settles the final pay of the departing
// employee, and completes the task with typed variables.
//
//   node payroll-worker.mjs [BASE_URL]      (default http://localhost:8080/engine-rest)
//
// With authentication on, PAYROLL_USER and PAYROLL_PASSWORD are sent as
// HTTP Basic credentials. Runs until SIGTERM or SIGINT.
import { BasicAuthInterceptor, Client, Variables } from "camunda-external-task-client-js";

const baseUrl = process.argv[2] || process.env.BPMND_URL || "http://localhost:8080/engine-rest";
const user = process.env.PAYROLL_USER;
const interceptors = user ? new BasicAuthInterceptor({ username: user, password: process.env.PAYROLL_PASSWORD || "" })
                          : undefined;
const client = new Client({
  baseUrl,
  workerId: "payroll-worker",
  interceptors,
  asyncResponseTimeout: 10000, // long polling: bpmnd answers as soon as a task exists
  lockDuration: 60000,
  maxTasks: 5,
});
const say = (line) => console.log(`  [payroll] ${line}`);
client.on("complete:error", (task, e) => say(`could not complete ${task.id}: ${e}`));

client.subscribe("payroll-settlement", async ({ task, taskService }) => {
  const employeeId = task.variables.get("employeeId");
  const lastDay = task.variables.get("lastDay");
  // A real worker would call the payroll system here; the settlement is
  // identified by the employee and the last day, so a repeated task (a lock
  // that expired mid-way) settles nothing twice.
  const reference = `PAY-${employeeId}-${lastDay}`;
  const vars = new Variables();
  vars.set("payrollReference", reference);
  vars.set("payrollSettledBy", "payroll-worker");
  await taskService.complete(task, vars);
  say(`final pay of ${employeeId} settled up to ${lastDay} (${reference})`);
});

const stop = () => { client.stop(); process.exit(0); };
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
