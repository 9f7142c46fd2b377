-- mapping.lua: how a card transaction event becomes bpmnd's
-- TransactionReceived message, for the RabbitMQ consumer (queue
-- card.transactions, bpmnd.conf). The consumer runs this chunk in bpmnd's Lua sandbox
-- with the delivery as `event` (also passed as the chunk's first argument):
--   event.id       the AMQP message_id (the consumer drops a repeated id)
--   event.type     the AMQP type property ("card.transaction")
--   event.headers  the AMQP headers
--   event.body     the JSON body: {transactionId, cardId, amount, currency, country, merchant, at}
-- and does what it returns: the card's monitor takes the message (business
-- key = the card id), or, when the card has none yet, the message start event
-- of card-monitor starts one. The window keys on the transaction id (the
-- monitor drops a repeated one), so a transaction sent twice as two
-- messages still counts once.
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
      id = t.transactionId or event.id,
      cardId = t.cardId,
      amount = t.amount,
      currency = t.currency,
      country = t.country,
      merchant = t.merchant,
      at = t.at,
    },
  },
}
