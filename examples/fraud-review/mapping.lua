-- mapping.lua: how a card transaction event becomes bpmnd's
-- TransactionReceived message, for the RabbitMQ consumer (queue
-- card.transactions). The consumer runs this chunk in bpmnd's Lua sandbox
-- with the delivery as `event` (also passed as the chunk's first argument):
--   event.id       the AMQP message_id: the transaction id (the consumer
--                  drops a repeated id; the monitor drops one too)
--   event.type     the AMQP type property ("card.transaction")
--   event.headers  the AMQP headers
--   event.body     the JSON body: {transactionId, cardId, amount, currency, country, merchant, at}
-- and does what it returns: the card's monitor takes the message (business
-- key = the card id), or, when the card has none yet, the message start event
-- of card-monitor starts one. Until the consumer exists, send-event.sh
-- delivers the same events through bpmnd's REST API (POST /message) with the
-- same result; tests/e2e/fraud_review.sh checks that this mapping, run in
-- bpmnd's sandbox, returns exactly what send-event.sh sends.
local event = ... or event
if event.type ~= "card.transaction" then
  return nil -- not routed: the consumer dead-letters it with the reason
end
local t = event.body
return {
  message = "TransactionReceived",
  businessKey = t.cardId,
  variables = {
    cardId = t.cardId,
    transaction = {
      id = event.id or t.transactionId,
      cardId = t.cardId,
      amount = t.amount,
      currency = t.currency,
      country = t.country,
      merchant = t.merchant,
      at = t.at,
    },
  },
}
