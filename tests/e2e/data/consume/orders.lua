-- The mapping of tests/e2e/amqp_consume.sh: event.type is the AMQP type
-- property (else the routing key), event.body the JSON body.
local b = event.body
if event.type == "order.placed" then
  -- the message start event of "shipment" (webhooks.bpmn)
  return {message = "order.placed", businessKey = b.orderId,
          variables = {orderId = b.orderId, total = b.total, via = event.attributes.queue,
                       tenant = event.headers["x-tenant"], messageId = event.id}}
elseif event.type == "order.paid" then
  return {message = "order.paid", correlationKey = b.orderId, variables = {paidAmount = b.amount}}
elseif event.type == "build" then
  return {start = "ci-build", businessKey = b.ref, variables = {ref = b.ref}}
elseif event.type == "heartbeat" then
  return {ignore = true, reason = "heartbeats are not events"}
elseif event.type == "order.refused" then
  bpmn.error("refused", "refused orders are not taken")
end
return nil
