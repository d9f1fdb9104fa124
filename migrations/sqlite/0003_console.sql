-- The tenant console and clinic settings: passwords handed out by someone else (a new
-- owner's one-time password, a reset) must be changed at the next sign-in, and the audit
-- log keeps the actor's email so it still reads after a clinic and its staff are deleted.

ALTER TABLE staff_users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE audit_log ADD COLUMN actor_email TEXT;

-- The console's audit log lists actions that are not queue moves, newest first.
CREATE INDEX audit_console ON audit_log (id) WHERE queue_day_id IS NULL;
-- Usage per clinic and day (today's tokens, the last 30 days).
CREATE INDEX queue_days_by_business_date ON queue_days (business_id, service_date);
