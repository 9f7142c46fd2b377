-- Sent outbox rows are kept for a while (what was published, when, after how
-- many attempts), then removed by the cleanup pass by this index; unsent rows
-- are never removed.
create index outbox_sent on outbox (sent_at) where sent_at is not null;
