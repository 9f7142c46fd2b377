-- mapping.lua: how an Order Service event becomes bpmnd's OrderPlaced
-- message (bpmnd.conf: amqp.consume.orders.mapping). bpmnd's consumer of
-- the queue orders runs this chunk in its Lua sandbox with the delivery as
-- `event` (also passed as the chunk's first argument):
--   event.id       the AMQP message_id (the consumer drops a repeated id)
--   event.type     the AMQP type property ("OrderPlaced")
--   event.headers  the AMQP headers
--   event.body     the JSON body: {orderId, customerId, items, total, currency, card, address}
-- and does what it returns. What it refuses goes to orders.dlq with the
-- reason: another event type (not routed), an OrderPlaced without an order
-- id or items (bpmn.error: refused). A body that is not JSON never gets
-- here: the consumer dead-letters it as malformed.
local event = ... or event
if event.type ~= "OrderPlaced" then
  return nil -- not routed: the consumer dead-letters it with the reason
end
local o = event.body
if type(o) ~= "table" or type(o.orderId) ~= "string" or o.orderId == "" then
  bpmn.error("INVALID_ORDER", "an OrderPlaced without an orderId")
end
if type(o.items) ~= "table" or #o.items == 0 then
  bpmn.error("INVALID_ORDER", "order " .. o.orderId .. " has no items")
end
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
