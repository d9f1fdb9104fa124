-- The reception kiosk (docs/OPERATIONS.md, "Printed tickets and the kiosk"): the code the
-- owner set for the clinic's kiosk tablets, 6 to 10 digits. NULL: the clinic has no kiosk,
-- and /c/{slug}/kiosk issues nothing.
ALTER TABLE businesses ADD COLUMN kiosk_code TEXT;
