-- Inbound events (webhooks, CloudEvents, later queue consumers): one row per
-- delivered event, written in the transaction of the start or correlation it
-- caused, so a sender's retry of the same (source, id) changes nothing. Rows
-- older than the retention (7 days) are removed by the cleanup pass, by the
-- received_at index.
create table inbound_event (
    source       text not null,
    event_id     text not null,
    received_at  timestamptz not null default now(),
    instance_id  text,          -- the instance started or first correlated; null when none
    primary key (source, event_id)
);
create index inbound_event_received on inbound_event (received_at);

-- Webhook endpoints declared by deployed processes (the process property
-- bpmnd.webhook.name): the endpoint belongs to the latest definition that
-- declared it.
create table webhook_endpoint (
    name           text primary key,
    definition_id  text not null references process_definition (id) on delete cascade,
    declared_at    timestamptz not null default now()
);
