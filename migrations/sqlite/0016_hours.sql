-- Opening hours (docs/OPERATIONS.md, "Opening hours"): a queue's spans per weekday and
-- its closed dates, one line each ("mon 09:00-13:00,14:00-18:00", "closed 2026-12-25").
-- Empty: the queue has no hours and is open whenever its desk is.
ALTER TABLE queues ADD COLUMN hours TEXT NOT NULL DEFAULT '';
-- The days still open, for the sweep that closes each at its queue's closing time.
CREATE INDEX queue_days_open ON queue_days (service_date) WHERE status = 'OPEN';
