-- Every change to a queue day (a token made or moved, the day closed or paused) raises
-- its version in the same transaction, so a tracker poll can tell that nothing changed
-- from the token's own row and its day's, without reading the day again.
ALTER TABLE queue_days ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
