-- The REST API's needs: users, groups and API tokens for authentication,
-- and the date format Camunda clients parse (yyyy-MM-dd'T'HH:mm:ss.SSS+0000).

create table app_user (
    id             text primary key,
    password_hash  text not null,        -- crypt(3) with a per-user salt (yescrypt)
    first_name     text,
    last_name      text,
    email          text,
    created_at     timestamptz not null default now()
);

create table app_group (
    id    text primary key,
    name  text
);

create table app_membership (
    user_id   text not null references app_user (id) on delete cascade,
    group_id  text not null references app_group (id) on delete cascade,
    primary key (user_id, group_id)
);
create index app_membership_group on app_membership (group_id);

-- Bearer tokens: only a SHA-256 of the token is kept.
create table api_token (
    token_sha256  text primary key,
    user_id       text not null references app_user (id) on delete cascade,
    name          text,
    created_at    timestamptz not null default now()
);
create index api_token_user on api_token (user_id);

insert into app_group (id, name) values ('admin', 'Administrators');

create function bpm_rest_date(t timestamptz) returns text
    language sql immutable parallel safe
    as $$ select to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+0000"') $$;

-- The scopes (element instance ids) a wait sees variables in, innermost
-- first, ending with the process scope 0: its element instance and the
-- enclosing subprocesses, read from the instance's state document.
create function bpm_wait_scopes(state jsonb, wait_id int) returns int[]
    language sql immutable parallel safe
    as $$
    with recursive w as (
        select coalesce((x->>'ei')::int, 0) as ei from jsonb_array_elements(state->'waits') x
        where (x->>'id')::int = wait_id limit 1),
    chain (id, depth) as (
        select ei, 0 from w
        union all
        select coalesce((e->>'parent')::int, 0), c.depth + 1 from chain c
        cross join lateral jsonb_array_elements(state->'elements') e
        where c.id <> 0 and (e->>'id')::int = c.id and c.depth < 64)
    select coalesce(array_agg(id order by depth), '{}') || 0 from chain
    $$;

-- fetchAndLock without usePriority takes a topic's oldest tasks first
create index job_topic_created on job (topic, created_at) where kind in ('external', 'job');
