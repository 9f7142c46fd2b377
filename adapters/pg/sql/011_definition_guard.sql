-- A start by key takes the definition id from the session's cache and sends
-- this check with its BEGIN instead of looking the key up first: the start
-- fails (SQLSTATE BP001) when the cached id is no longer the latest version
-- of its key or is suspended or gone, and the caller looks the key up again.
-- With p_key null it checks only that the definition exists and is active.
create function bpm_expect_definition(p_key text, p_id text) returns void
language plpgsql as $$
begin
    if not exists (select 1 from process_definition d where d.id = p_id and not d.suspended
                   and (p_key is null or (d.key = p_key and d.tenant_id is null
                        and d.version = (select max(x.version) from process_definition x
                                         where x.key = p_key and x.tenant_id is null)))) then
        raise exception 'process definition % is not the latest active version of "%"', p_id, coalesce(p_key, p_id)
            using errcode = 'BP001';
    end if;
end $$;
