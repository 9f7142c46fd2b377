-- Correlation by business key reads the subscription's own copy of the key,
-- so one message finds its receiver through an index however many wait.
create index subscription_business_key on subscription (kind, name, business_key) where business_key is not null;
