-- Transfers (docs/OPERATIONS.md, "Moving a patient to another queue"): a token the desk
-- moved from another queue keeps where it came from ("General A-3") and the desk's note
-- for the next desk. NULL for a token that never moved.
ALTER TABLE tokens ADD COLUMN moved_from TEXT;
ALTER TABLE tokens ADD COLUMN move_note TEXT;
