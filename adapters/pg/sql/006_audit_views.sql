-- Views for auditors who query PostgreSQL directly (docs/audit.md): the
-- history in one readable shape, and the user-task decisions with who made
-- them. Views only: they add no storage and no write cost.

-- Every audit event, in the one global order (seq), with the instance's
-- definition key and business key even when the row itself does not carry
-- them.
create view audit_event as
select h.seq,
       h.at,
       h.instance_id,
       coalesce(h.definition_key, i.definition_key) as definition_key,
       coalesce(h.business_key, i.business_key) as business_key,
       h.kind,
       h.element_id,
       h.element_type,
       h.scope_id,
       h.user_id,
       h.detail
from history h
left join process_instance i on i.id = h.instance_id;

-- Each user task that was completed: who completed it, when, and the
-- variables that changed in that same step (the decision).
create view audit_task_decision as
select l.seq,
       l.at as completed_at,
       l.instance_id,
       i.definition_key,
       i.business_key,
       l.element_id as task,
       l.user_id as completed_by,
       (select jsonb_object_agg(v.detail ->> 'name', v.detail -> 'new')
          from history v
         where v.instance_id = l.instance_id and v.kind = 'variable' and v.at = l.at) as decision
from history l
join process_instance i on i.id = l.instance_id
where l.kind = 'leave' and l.element_type = 'userTask';
