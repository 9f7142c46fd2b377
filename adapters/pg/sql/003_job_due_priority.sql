-- Acquisition takes the earliest due jobs, higher priority first among equals:
-- an index in that order lets it stop after the first few instead of sorting
-- every due job (100,000 timers due at one moment).
drop index job_due;
create index job_due on job (due_at, priority desc) where kind in ('async', 'timer', 'connector');
