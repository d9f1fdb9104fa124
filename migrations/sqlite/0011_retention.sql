-- Retention and erasure (docs/OPERATIONS.md, "Retention and erasure"). Personal data of
-- old tokens is anonymised in place: the rows stay, so analytics read the same numbers;
-- what analytics took from a phone (did the patient leave one, did they write on
-- WhatsApp that day) is kept as two flags when the phone goes.

-- Days a clinic keeps patients' personal data; NULL: the platform's default. The
-- shorter of the two applies.
ALTER TABLE businesses ADD COLUMN retention_days INTEGER CHECK (retention_days BETWEEN 1 AND 3650);

-- Set when the token's name, phone, address and feedback were removed.
ALTER TABLE tokens ADD COLUMN purged_at INTEGER;
ALTER TABLE tokens ADD COLUMN had_phone BOOLEAN;
ALTER TABLE tokens ADD COLUMN wrote_on_whatsapp BOOLEAN;
CREATE INDEX tokens_to_purge ON tokens (business_id, created_at) WHERE purged_at IS NULL;

-- Messages still holding a phone or a text.
CREATE INDEX outbox_to_purge ON outbox (business_id, created_at) WHERE (phone <> '' OR body <> '');
CREATE INDEX whatsapp_inbound_by_age ON whatsapp_inbound (business_id, received_at);
CREATE INDEX whatsapp_windows_by_age ON whatsapp_windows (business_id, last_inbound_at);
CREATE INDEX audit_patient_ips ON audit_log (business_id, created_at) WHERE ip IS NOT NULL;
-- An erasure or a purge finds a token's audit rows, and the desk's replies about it.
CREATE INDEX audit_by_token ON audit_log (token_id) WHERE token_id IS NOT NULL;
CREATE INDEX audit_replies ON audit_log (target) WHERE action = 'REPLY_WHATSAPP';
CREATE INDEX staff_sessions_by_expiry ON staff_sessions (expires_at);

-- The audit log stays append-only, except that a patient's details may be removed: the
-- address set to NULL, the detail (a staff reply's text) emptied to '{}'.
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OF
    id, business_id, queue_day_id, actor_user_id, actor_kind, action, token_id, target,
    undoable, undoes_id, created_at, actor_email ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_only_removed BEFORE UPDATE OF ip, detail ON audit_log
WHEN NEW.ip IS NOT NULL AND NEW.ip IS NOT OLD.ip OR NEW.detail <> OLD.detail AND NEW.detail <> '{}'
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- A patient's request, sent on WhatsApp ("DELETE"), that the clinic erase their data;
-- it waits here for the clinic to confirm, and goes once the data is erased.
CREATE TABLE erasure_requests (
    id            INTEGER PRIMARY KEY,
    business_id   INTEGER NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    phone         TEXT    NOT NULL,
    requested_at  INTEGER NOT NULL,
    UNIQUE (business_id, phone)
);
