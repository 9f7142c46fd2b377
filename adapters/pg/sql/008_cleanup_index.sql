-- History cleanup finds the ended instances of each definition past its
-- historyTimeToLive by a range of this index, so a pass that finds nothing
-- reads nothing. Partial: a running instance has no entry.
create index process_instance_ended on process_instance (definition_id, ended_at) where ended_at is not null;
