-- A waiting instance in fewer bytes (W5: at most 2 KB each).
-- The state document is written and read whole, never queried inside: json
-- keeps it as the text the engine wrote, smaller than jsonb's binary form and
-- returned without conversion. The members the row has as columns (id,
-- definition, business key, parent, state) are no longer repeated in it.
alter table process_instance alter column state_json type json using state_json::json;

-- A task row's data keeps only what has no column (form fields, a date that
-- did not parse).
update user_task set data = nullif(data - array['name', 'assignee', 'candidateUsers', 'candidateGroups', 'priority',
    'formKey'] - case when due_at is not null then 'due' else '' end
    - case when follow_up_at is not null then 'followUp' else '' end
    - case when data->'formFields' = '[]' then 'formFields' else '' end
    - case when data->'due' = 'null' then 'due' else '' end
    - case when data->'followUp' = 'null' then 'followUp' else '' end, '{}');

-- History is append-only, so its time follows its physical order: a BRIN
-- index answers time ranges at a tiny fraction of a B-tree's size.
drop index history_at;
create index history_at on history using brin (at);

-- One instance's history is read by instance_id and sorted (a few rows): an
-- index on instance_id alone stores each id once per page with a list of
-- rows (B-tree deduplication) instead of once per row with its seq.
drop index history_instance;
create index history_instance on history (instance_id);

-- Tasks listed by creation: the time alone orders them (ties are rare and
-- sorted after the scan), without a copy of every task id in the index.
drop index user_task_created;
create index user_task_created on user_task (created_at);

-- A root instance is its own root: root_instance_id is NULL for it, as
-- parent_instance_id is (read coalesce(root_instance_id, id)).
update process_instance set root_instance_id = null where root_instance_id = id;

-- No candidates is NULL rather than an empty array (16 bytes each), and
-- such a task has no entry in the candidate indexes: an inbox query
-- (candidate_groups @> array[...]) implies IS NOT NULL, so the planner uses
-- the partial indexes as it used the full ones.
alter table user_task alter column candidate_users drop not null, alter column candidate_users drop default,
    alter column candidate_groups drop not null, alter column candidate_groups drop default;
update user_task set candidate_users = nullif(candidate_users, '{}'), candidate_groups = nullif(candidate_groups, '{}')
    where candidate_users = '{}' or candidate_groups = '{}';
drop index user_task_groups;
create index user_task_groups on user_task using gin (candidate_groups) where candidate_groups is not null;
drop index user_task_users;
create index user_task_users on user_task using gin (candidate_users) where candidate_users is not null;
