-- Rooms (docs/OPERATIONS.md, "Rooms"): where a queue's patients are seen, one name per
-- line in the order the desk offers them ("Room 2", "Dental chair 1"). Empty for a
-- queue seen in one unnamed place.
ALTER TABLE queues ADD COLUMN rooms TEXT NOT NULL DEFAULT '';
-- The room a token's latest call sent its patient to. NULL until called, and for calls
-- from a queue without rooms.
ALTER TABLE tokens ADD COLUMN room TEXT;
