-- Views over the audit trail for the REST history (/history/*), so each
-- Camunda 7 DTO is one select: element instances paired from their enter and
-- leave/cancel rows, user tasks from their task-create rows, the latest value
-- of each variable, operator actions as Camunda's user operation log.
--
-- History rows these views read besides those of version 1: task-create (a
-- user task's id and first values; scope_id = its element instance), call (a
-- call activity's wait, detail.wait, to find the called instance); enter rows
-- carry detail.parent (the enclosing element instance, unless the process),
-- detail.body (true for a multi-instance body) and detail.event (an event's
-- trigger: timer, message, error, ...).

-- Camunda 7's activity type (engine ActivityTypes) of an element type and an
-- event trigger.
create function bpm_activity_type(element_type text, event text) returns text
    language sql immutable parallel safe
    as $$
    select case element_type
        when 'startEvent' then case event
            when 'timer' then 'startTimerEvent' when 'message' then 'messageStartEvent'
            when 'signal' then 'signalStartEvent' when 'error' then 'errorStartEvent'
            when 'escalation' then 'escalationStartEvent' when 'compensate' then 'compensationStartEvent'
            when 'conditional' then 'conditionalStartEvent' else 'startEvent' end
        when 'endEvent' then case event
            when 'error' then 'errorEndEvent' when 'cancel' then 'cancelEndEvent'
            when 'terminate' then 'terminateEndEvent' when 'message' then 'messageEndEvent'
            when 'signal' then 'signalEndEvent' when 'escalation' then 'escalationEndEvent'
            when 'compensate' then 'compensationEndEvent' else 'noneEndEvent' end
        when 'intermediateCatchEvent' then case event
            when 'message' then 'intermediateMessageCatch' when 'timer' then 'intermediateTimer'
            when 'signal' then 'intermediateSignalCatch' when 'conditional' then 'intermediateConditional'
            when 'link' then 'intermediateLinkCatch' else 'intermediateCatchEvent' end
        when 'intermediateThrowEvent' then case coalesce(event, 'none')
            when 'none' then 'intermediateNoneThrowEvent' when 'message' then 'intermediateMessageThrowEvent'
            when 'signal' then 'intermediateSignalThrow' when 'escalation' then 'intermediateEscalationThrowEvent'
            when 'compensate' then 'intermediateCompensationThrowEvent' else 'intermediateThrowEvent' end
        when 'boundaryEvent' then case event
            when 'timer' then 'boundaryTimer' when 'message' then 'boundaryMessage'
            when 'signal' then 'boundarySignal' when 'error' then 'boundaryError'
            when 'escalation' then 'boundaryEscalation' when 'conditional' then 'boundaryConditional'
            when 'cancel' then 'cancelBoundaryCatch' when 'compensate' then 'compensationBoundaryCatch'
            else 'boundaryEvent' end
        when 'eventSubProcess' then 'subProcess' -- Camunda has no type of its own for it
        else element_type end
    $$;

-- When history cleanup removes an ended instance: its end plus the
-- definition's historyTimeToLive ("180" days or an ISO duration "P180D"),
-- as bpm_pgstore_cleanup reads it; null while it runs or without a TTL.
create function bpm_removal_time(ended_at timestamptz, ttl text) returns timestamptz
    language sql stable parallel safe
    as $$
    select ended_at + case when ttl ~ '^[0-9]+$' then (ttl || ' days')::interval
        when ttl ~ '^P([0-9]+[YMWD])*(T([0-9]+[HM])*([0-9]+(\.[0-9]+)?S)?)?$' then ttl::interval end
    $$;

-- The REST type name of a stored variable value, as the API writes it
-- (adapters/api/restvars.h bpm_restvars_encode_one), for variableTypeIn.
create function bpm_rest_type(v jsonb) returns text
    language sql immutable parallel safe
    as $$
    select case jsonb_typeof(v)
        when 'string' then 'String' when 'boolean' then 'Boolean' when 'null' then 'Null'
        when 'number' then case when v::text ~ '[.eE]' then 'Double'
            when v::numeric between -2147483648 and 2147483647 then 'Integer' else 'Long' end
        when 'object' then case when v->>'$type' in ('File', 'Bytes') then v->>'$type' else 'Json' end
        else 'Json' end
    $$;

-- Process instances as history sees them: process_instance keeps ended
-- instances until history cleanup. An instance ended by an uncaught error
-- ends 'terminated' with instance-end state 'error' (internally terminated);
-- otherwise 'terminated' is an operator's cancellation.
create view history_process_instance as
select i.id, i.definition_id, i.definition_key, d.name as definition_name, d.version as definition_version,
       i.business_key, i.tenant_id, i.start_user, i.started_at, i.ended_at, i.parent_instance_id,
       coalesce(i.root_instance_id, i.id) as root_instance_id, i.state as run_state, i.suspended,
       case when i.state = 'active' then case when i.suspended then 'SUSPENDED' else 'ACTIVE' end
            when i.state = 'completed' then 'COMPLETED'
            when (select h.detail->>'state' from history h where h.instance_id = i.id and h.kind = 'instance-end'
                  order by h.seq desc limit 1) = 'error' then 'INTERNALLY_TERMINATED'
            else 'EXTERNALLY_TERMINATED' end as state,
       bpm_removal_time(i.ended_at, d.history_ttl) as removal_at,
       (select h.element_id from history h where h.instance_id = i.id and h.kind in ('enter', 'leave')
        and h.element_type = 'startEvent' and h.detail->>'parent' is null order by h.seq limit 1) as start_activity_id
from process_instance i join process_definition d on d.id = i.definition_id;

-- Element instances: an enter row and the first leave or cancel row after
-- it of the same element instance (scope_id), or a leave row alone. Camunda names a multi-instance
-- body "<activity>#multiInstanceBody". id: activity:instance:element
-- instance, unique, and the instance part finds the rows by index.
create view history_activity_instance as
select b.*, b.activity_id || ':' || b.instance_id || ':' || b.scope_id as id,
       case when b.parent_scope is null then b.instance_id
            else coalesce((select p.element_id || case when p.detail ? 'body' then '#multiInstanceBody' else '' end
                                  || ':' || b.instance_id || ':' || p.scope_id
                           from history p where p.instance_id = b.instance_id
                           and p.kind in ('enter', 'leave') and p.scope_id = b.parent_scope order by p.seq limit 1),
                          b.instance_id) end as parent_id
from (select e.instance_id, e.scope_id, e.seq, e.element_id, e.element_type, e.at as start_at, x.at as end_at,
             x.kind as end_kind, (e.detail->>'parent')::int as parent_scope,
             case when e.detail ? 'body' then e.element_id || '#multiInstanceBody' else e.element_id end
                 as activity_id,
             case when e.detail ? 'body' then 'multiInstanceBody'
                  else bpm_activity_type(e.element_type, e.detail->>'event') end as activity_type,
             i.definition_id, i.definition_key, i.tenant_id, coalesce(i.root_instance_id, i.id) as root_instance_id,
             bpm_removal_time(i.ended_at, d.history_ttl) as removal_at
      from history e
      join process_instance i on i.id = e.instance_id
      join process_definition d on d.id = i.definition_id
      left join lateral (select h.at, h.kind from history h where h.instance_id = e.instance_id
                         and h.scope_id = e.scope_id and h.kind in ('leave', 'cancel') and h.seq >= e.seq
                         order by h.seq limit 1) x on true
      -- an element entered and left in one step has only its leave row
      -- (it carries what the enter row would have)
      where e.element_id is not null
        and (e.kind = 'enter' or (e.kind = 'leave' and not exists (select 1 from history p
             where p.instance_id = e.instance_id and p.scope_id = e.scope_id and p.kind = 'enter' and p.seq < e.seq)))) b;

-- User tasks: the task-create row, the task row while it is open (its
-- current values), the last claim, assignment, delegation or resolution,
-- and how its element instance ended (leave: completed, cancel: deleted).
-- An ended task's owner is the assignee its first delegation replaced
-- (delegating sets owner = coalesce(owner, assignee)); resolving hands the
-- task back to that owner. Open tasks of an older version, created before
-- task-create rows existed, come from user_task.
create view history_task as
select tc.detail->>'task' as id, tc.instance_id, tc.scope_id, tc.element_id,
       tc.element_id || ':' || tc.instance_id || ':' || tc.scope_id as activity_instance_id,
       coalesce(t.name, tc.detail->>'name') as name, t.description,
       case when t.id is not null then t.owner else g.owner end as owner,
       case when t.id is not null then t.assignee when a.kind = 'task-resolve' then g.owner
            when a.seq is not null then a.assignee else tc.detail->>'assignee' end as assignee,
       coalesce(t.priority, (tc.detail->>'priority')::int, 50) as priority,
       case when t.id is not null then t.due_at else (tc.detail->>'due')::timestamptz end as due_at,
       case when t.id is not null then t.follow_up_at else (tc.detail->>'followUp')::timestamptz end as follow_up_at,
       tc.at as start_at, x.at as end_at,
       case x.kind when 'leave' then 'completed' when 'cancel' then 'deleted' end as delete_reason,
       case when x.kind = 'leave' then 'Completed' when x.kind = 'cancel' then 'Deleted'
            when t.id is null and i.state <> 'active' then 'Deleted' else 'Created' end as task_state,
       coalesce(t.candidate_users, case when jsonb_typeof(tc.detail->'candidateUsers') = 'array' then array(select jsonb_array_elements_text(tc.detail->'candidateUsers')) end)
           as candidate_users,
       coalesce(t.candidate_groups, case when jsonb_typeof(tc.detail->'candidateGroups') = 'array' then array(select jsonb_array_elements_text(tc.detail->'candidateGroups')) end)
           as candidate_groups,
       i.definition_id, i.definition_key, d.name as definition_name, i.business_key, i.tenant_id,
       i.state as instance_state, coalesce(i.root_instance_id, i.id) as root_instance_id,
       bpm_removal_time(i.ended_at, d.history_ttl) as removal_at
from history tc
join process_instance i on i.id = tc.instance_id
join process_definition d on d.id = i.definition_id
left join user_task t on t.id = tc.detail->>'task'
left join lateral (select h.seq, h.kind,
                          case when h.detail ? 'user' then h.detail->>'user' else h.user_id end as assignee
                   from history h where h.instance_id = tc.instance_id
                   and h.kind in ('task-claim', 'task-assign', 'task-unclaim', 'task-delegate', 'task-resolve')
                   and h.detail->>'task' = tc.detail->>'task'
                   order by h.seq desc limit 1) a on true
left join lateral (select h.detail->>'previous' as owner from history h where h.instance_id = tc.instance_id
                   and h.kind = 'task-delegate' and h.detail->>'task' = tc.detail->>'task'
                   order by h.seq limit 1) g on true
left join lateral (select h.at, h.kind from history h where h.instance_id = tc.instance_id
                   and h.scope_id = tc.scope_id and h.kind in ('leave', 'cancel') and h.seq > tc.seq
                   order by h.seq limit 1) x on true
where tc.kind = 'task-create'
union all
select t.id, t.instance_id, null, t.element_id, null, t.name, t.description, t.owner, t.assignee, t.priority,
       t.due_at, t.follow_up_at, t.created_at, null, null, 'Created', t.candidate_users, t.candidate_groups,
       i.definition_id, i.definition_key, d.name, i.business_key, i.tenant_id, i.state,
       coalesce(i.root_instance_id, i.id), null
from user_task t
join process_instance i on i.id = t.instance_id
join process_definition d on d.id = i.definition_id
where not exists (select 1 from history h where h.instance_id = t.instance_id and h.kind = 'task-create'
                  and h.detail->>'task' = t.id);

-- Variables: the latest value of each (instance, element instance, name);
-- a deletion is a variable row without a new value. The process scope's
-- variables belong to the instance itself (activity instance = instance id).
create view history_variable as
select v.instance_id || ':' || v.scope_id || ':' || v.name as id, v.instance_id, v.scope_id, v.name,
       v.last->'new' as value, case when v.last ? 'new' then 'CREATED' else 'DELETED' end as state,
       v.created_at, i.definition_id, i.definition_key, i.tenant_id,
       coalesce(i.root_instance_id, i.id) as root_instance_id,
       bpm_removal_time(i.ended_at, d.history_ttl) as removal_at
from (select h.instance_id, h.scope_id, h.detail->>'name' as name,
             (array_agg(h.detail order by h.seq desc))[1] as last, min(h.at) as created_at
      from history h where h.kind = 'variable' group by h.instance_id, h.scope_id, h.detail->>'name') v
join process_instance i on i.id = v.instance_id
join process_definition d on d.id = i.definition_id;

-- Camunda's user operation log: one entry per operation row: task claims,
-- assignments, delegations and resolutions, completions (a user task's leave
-- row that names its user: completing is a step, no other row is written),
-- operator actions. Rows written by the REST API name their Camunda
-- operation and entity; bpmnctl's (cancel, suspend, resume, modify, retry)
-- are mapped here. A task row's new assignee is detail.user when present
-- (REST), else the row's user (bpmnctl). The instance may be gone
-- (DeleteHistory outlives it), so it is an outer join.
create view history_user_operation as
select h.seq, h.seq::text as id, h.at, h.instance_id, h.user_id,
       coalesce(h.definition_key, i.definition_key) as definition_key, i.definition_id, i.tenant_id,
       coalesce(i.root_instance_id, i.id) as root_instance_id,
       m.operation_type, m.entity_type, m.category, m.property,
       case when h.detail ? 'orgValue' then h.detail->>'orgValue'
            when m.property = 'assignee' then h.detail->>'previous'
            when m.property = 'delete' then 'false'
            when m.property = 'delegation' then 'PENDING' end as org_value,
       case when h.detail ? 'newValue' then h.detail->>'newValue'
            when m.property = 'assignee' then case when h.detail ? 'user' then h.detail->>'user' else h.user_id end
            when m.property = 'delete' then 'true'
            when m.property = 'delegation' then 'RESOLVED'
            when m.property = 'suspensionState' then
                case when m.operation_type = 'Suspend' then 'suspended' else 'active' end
            when m.property = 'retries' then h.detail->>'retries' end as new_value,
       case when h.kind like 'task-%' then h.detail->>'task'
            when h.kind = 'leave' then (select tc.detail->>'task' from history tc where tc.instance_id = h.instance_id
                                        and tc.kind = 'task-create' and tc.scope_id = h.scope_id
                                        order by tc.seq desc limit 1) end as task_id,
       case when m.entity_type = 'Job' then h.detail->>'job' end as job_id,
       case when m.entity_type = 'ExternalTask' then h.detail->>'job' end as external_task_id,
       bpm_removal_time(i.ended_at, d.history_ttl) as removal_at
from history h
left join process_instance i on i.id = h.instance_id
left join process_definition d on d.id = i.definition_id
cross join lateral (
    select t.operation_type, t.entity_type,
           case when t.entity_type = 'Task' then 'TaskWorker' else 'Operator' end as category,
           case when h.detail ? 'property' then h.detail->>'property'
               when t.operation_type in ('Claim', 'Assign', 'Delegate') then 'assignee'
               when t.operation_type = 'Resolve' then 'delegation'
               when t.operation_type = 'Complete' then 'delete'
               when t.operation_type in ('Suspend', 'Activate') then 'suspensionState'
               when t.operation_type in ('SetJobRetries', 'SetExternalTaskRetries') then 'retries'
           end as property
    from (select case h.kind when 'leave' then 'Complete' when 'task-claim' then 'Claim'
                     when 'task-assign' then 'Assign' when 'task-unclaim' then 'Assign'
                     when 'task-delegate' then 'Delegate' when 'task-resolve' then 'Resolve'
                     else case h.detail->>'operation' when 'cancel' then 'Delete' when 'cancelled' then 'Delete'
                         when 'suspend' then 'Suspend' when 'suspended' then 'Suspend' when 'resume' then 'Activate'
                         when 'resumed' then 'Activate' when 'modify' then 'ModifyProcessInstance'
                         when 'retry' then 'SetJobRetries' else h.detail->>'operation' end end as operation_type,
                 case when h.kind like 'task-%' or h.kind = 'leave' then 'Task'
                     else coalesce(h.detail->>'entityType', case h.detail->>'operation' when 'retry' then 'Job'
                         when 'SetJobRetries' then 'Job' when 'Execute' then 'Job'
                         when 'SetExternalTaskRetries' then 'ExternalTask' else 'ProcessInstance' end) end
                     as entity_type) t) m
where h.kind in ('operation', 'task-claim', 'task-assign', 'task-unclaim', 'task-delegate', 'task-resolve')
   or (h.kind = 'leave' and h.element_type = 'userTask' and h.user_id is not null);

-- The operation log and the task history read few rows of a large table:
-- partial indexes find them without scanning the whole trail.
create index history_operations on history (seq)
    where kind in ('operation', 'task-claim', 'task-assign', 'task-unclaim', 'task-delegate', 'task-resolve')
       or (kind = 'leave' and element_type = 'userTask' and user_id is not null);
create index history_task_created on history (seq) where kind = 'task-create';
