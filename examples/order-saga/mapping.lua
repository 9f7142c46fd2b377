-- mapping.lua: how an Order Service event becomes bpmnd's OrderPlaced
-- message, for the RabbitMQ consumer (queue orders). The consumer runs this
-- chunk in bpmnd's Lua sandbox with the delivery as `event` (also passed as
-- the chunk's first argument):
--   event.id       the AMQP message_id (the consumer drops a repeated id)
--   event.type     the AMQP type property ("OrderPlaced")
--   event.headers  the AMQP headers
--   event.body     the JSON body: {orderId, customerId, items, total, currency, card, address}
-- and does what it returns. Until the consumer exists, send-event.sh
-- delivers the same events through bpmnd's REST API (POST /message) with
-- the same result; tests/e2e/order_saga.sh checks that this mapping, run in
-- bpmnd's sandbox, returns exactly what send-event.sh sends.
local event = ... or event
if event.type ~= "OrderPlaced" then
  return nil -- not routed: the consumer dead-letters it with the reason
end
local o = event.body
return {
  message = "OrderPlaced",   -- the message start event of order-saga
  businessKey = o.orderId,   -- the order's state is found by its id
  variables = {
    orderId = o.orderId,
    customerId = o.customerId,
    items = o.items,
    total = o.total,
    currency = o.currency or "EUR",
    card = o.card,
    address = o.address,
  },
}
