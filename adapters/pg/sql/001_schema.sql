-- bpmnd schema, version 1. Applied once, in one transaction, at start-up or by
-- `bpmnctl db migrate`. Every runtime table carries instance_id, so the schema
-- can be distributed by it; hot queries are instance-scoped or served by the
-- indexes below.

create table deployment (
    id            text primary key,
    name          text not null,
    source        text,
    tenant_id     text,
    deployed_at   timestamptz not null default now()
);
create index deployment_name on deployment (name, source, tenant_id, deployed_at desc);

create table resource (
    deployment_id text not null references deployment (id) on delete cascade,
    name          text not null,
    bytes         bytea not null,
    checksum      bytea not null,
    primary key (deployment_id, name)
);

create table process_definition (
    id              text primary key,            -- key:version:deployment
    key             text not null,
    version         integer not null,
    name            text,
    category        text,
    tenant_id       text,
    version_tag     text,
    history_ttl     text,
    deployment_id   text not null references deployment (id) on delete cascade,
    resource_name   text not null,
    suspended       boolean not null default false,
    startable       boolean not null default true,
    created_at      timestamptz not null default now()
);
create unique index process_definition_key_version on process_definition (key, coalesce(tenant_id, ''), version);

-- Start events that react to a message or signal, per definition (the
-- latest version of a key is the one started).
create table start_trigger (
    definition_id   text not null references process_definition (id) on delete cascade,
    kind            text not null,      -- message|signal|timer
    name            text not null,      -- message or signal name; timer value
    element_id      text not null,
    primary key (definition_id, element_id)
);
create index start_trigger_name on start_trigger (kind, name);

-- Timer start events: the next time each deployed definition starts itself.
-- Only the latest version of a key has them (a new version replaces them).
create table start_timer (
    definition_id    text not null references process_definition (id) on delete cascade,
    element_id       text not null,
    value            text not null,      -- timeDate, timeDuration or timeCycle as written
    timer_kind       integer not null,   -- 1 date, 2 duration, 3 cycle
    start_ms         bigint not null,    -- when the timer was armed (cycles count from it)
    fired            integer not null default 0,
    due_at           timestamptz not null,
    lock_owner       text,
    lock_expires_at  timestamptz,
    primary key (definition_id, element_id)
);
create index start_timer_due on start_timer (due_at);

-- One row per instance; its token tree (scopes, element instances, waits,
-- compensation records) is the step function's state, kept as one JSON
-- document so a command costs one UPDATE. What other queries need (variables,
-- tasks, jobs, subscriptions, history) lives in the tables after it.
create table process_instance (
    id                  text primary key,
    definition_id       text not null references process_definition (id),
    definition_key      text not null,
    business_key        text,
    tenant_id           text,
    state               text not null default 'active',  -- active|completed|terminated
    suspended           boolean not null default false,
    incident            boolean not null default false,
    parent_instance_id  text,
    parent_wait         integer,
    root_instance_id    text,
    start_user          text,
    started_at          timestamptz not null default now(),
    ended_at            timestamptz,
    version             bigint not null default 1,        -- bumped by every command
    state_json          jsonb not null
);
create index process_instance_definition on process_instance (definition_key, state);
create index process_instance_business_key on process_instance (business_key) where business_key is not null;
create index process_instance_parent on process_instance (parent_instance_id) where parent_instance_id is not null;

create table variable (
    instance_id  text not null references process_instance (id) on delete cascade,
    scope_id     integer not null,          -- element instance id; the root scope is the process
    name         text not null,
    value        jsonb,
    type         text,                      -- the Camunda type name last used (String, Json, Date...)
    updated_at   timestamptz not null default now(),
    primary key (instance_id, scope_id, name)
);
create index variable_name_value on variable (name, (value #>> '{}'));

create table user_task (
    id               text primary key,
    instance_id      text not null references process_instance (id) on delete cascade,
    wait_id          integer not null,
    element_id       text not null,
    definition_id    text not null,
    name             text,
    description      text,
    assignee         text,
    owner            text,
    delegation_state text,
    candidate_users  text[] not null default '{}',
    candidate_groups text[] not null default '{}',
    due_at           timestamptz,
    follow_up_at     timestamptz,
    priority         integer not null default 50,
    form_key         text,
    data             jsonb,
    suspended        boolean not null default false,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    unique (instance_id, wait_id)
);
create index user_task_assignee on user_task (assignee) where assignee is not null;
create index user_task_groups on user_task using gin (candidate_groups);
create index user_task_users on user_task using gin (candidate_users);
create index user_task_created on user_task (created_at, id);

-- Jobs: async continuations, timers, external tasks, connector calls, Camunda 8
-- jobs. Acquisition: FOR UPDATE SKIP LOCKED on due, unlocked jobs.
create table job (
    id               text primary key,
    instance_id      text not null references process_instance (id) on delete cascade,
    wait_id          integer not null,
    kind             text not null,     -- async|timer|external|connector|job|child
    element_id       text not null,
    definition_id    text not null,
    topic            text,              -- external task topic / job type / connector id
    due_at           timestamptz not null default now(),
    priority         bigint not null default 0,
    retries          integer,           -- null until the first failure (Camunda 7 external tasks)
    retry_cycle      text,
    lock_owner       text,
    lock_expires_at  timestamptz,
    error_message    text,
    error_details    text,
    payload          jsonb,
    suspended        boolean not null default false,
    created_at       timestamptz not null default now(),
    unique (instance_id, wait_id)
);
create index job_due on job (due_at) where kind in ('async', 'timer', 'connector');
create index job_topic on job (topic, priority desc, created_at) where kind in ('external', 'job');
create index job_lock on job (lock_expires_at) where lock_owner is not null;

create table subscription (
    instance_id      text not null references process_instance (id) on delete cascade,
    wait_id          integer not null,
    kind             text not null,     -- message|signal|condition
    name             text not null,
    correlation_key  text,
    element_id       text not null,
    business_key     text,
    created_at       timestamptz not null default now(),
    primary key (instance_id, wait_id)
);
create index subscription_name on subscription (kind, name, correlation_key);

-- Messages that arrived before anything waited for them (time-to-live).
create table message_buffer (
    id               bigserial primary key,
    name             text not null,
    correlation_key  text,
    business_key     text,
    variables        jsonb,
    expires_at       timestamptz not null,
    created_at       timestamptz not null default now()
);
create index message_buffer_name on message_buffer (name, correlation_key);

create table incident (
    id              text primary key,
    instance_id     text not null references process_instance (id) on delete cascade,
    definition_id   text not null,
    element_id      text,
    type            text not null,      -- failedJob|failedExternalTask|failedStep
    configuration   text,               -- job or external task id
    message         text,
    annotation      text,
    created_at      timestamptz not null default now(),
    resolved_at     timestamptz
);
create index incident_open on incident (instance_id) where resolved_at is null;

-- The audit trail: append-only, one global order (seq).
create table history (
    seq             bigserial primary key,
    at              timestamptz not null default now(),
    instance_id     text not null,
    definition_key  text,
    business_key    text,
    kind            text not null,      -- instance-start|instance-end|enter|leave|cancel|take|variable|task-*|incident-*|job-failed|operation
    element_id      text,
    element_type    text,
    scope_id        integer,            -- element instance (token) id
    user_id         text,
    detail          jsonb
);
create index history_instance on history (instance_id, seq);
create index history_at on history (at);

-- Events to publish, written in the transaction of the step that caused them.
create table outbox (
    id            bigserial primary key,
    instance_id   text,
    channel       text not null,
    payload       jsonb not null,
    created_at    timestamptz not null default now(),
    sent_at       timestamptz,
    attempts      integer not null default 0
);
create index outbox_unsent on outbox (id) where sent_at is null;

create table clock (
    id          boolean primary key default true check (id),
    offset_ms   bigint not null default 0
);
insert into clock default values;
