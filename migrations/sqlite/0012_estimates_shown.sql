-- The wait each patient was shown on joining (docs/ETA.md, "Calibrated ranges"): the
-- range in minutes, and the model's likely wait and spread in seconds with how many
-- were ahead. Later estimates of the queue are sized by how far these fell from the
-- real waits, and analytics tells the clinic how often its patients were called within
-- the range they saw. NULL for tokens from before this was kept.
ALTER TABLE tokens ADD COLUMN eta_low INTEGER;
ALTER TABLE tokens ADD COLUMN eta_high INTEGER;
ALTER TABLE tokens ADD COLUMN eta_centre INTEGER;
ALTER TABLE tokens ADD COLUMN eta_scale INTEGER;
ALTER TABLE tokens ADD COLUMN eta_ahead INTEGER;
