-- Retention and erasure (docs/OPERATIONS.md, "Retention and erasure"). Personal data of
-- old tokens is anonymised in place: the rows stay, so analytics read the same numbers;
-- what analytics took from a phone (did the patient leave one, did they write on
-- WhatsApp that day) is kept as two flags when the phone goes.

-- Days a clinic keeps patients' personal data; NULL: the platform's default. The
-- shorter of the two applies.
ALTER TABLE businesses ADD COLUMN retention_days BIGINT CHECK (retention_days BETWEEN 1 AND 3650);

-- Set when the token's name, phone, address and feedback were removed.
ALTER TABLE tokens ADD COLUMN purged_at BIGINT;
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
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND (NEW.ip IS NULL OR NEW.ip IS NOT DISTINCT FROM OLD.ip)
        AND (NEW.detail = '{}' OR NEW.detail = OLD.detail)
        AND (to_jsonb(NEW) - 'ip' - 'detail') = (to_jsonb(OLD) - 'ip' - 'detail') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;

-- A patient's request, sent on WhatsApp ("DELETE"), that the clinic erase their data;
-- it waits here for the clinic to confirm, and goes once the data is erased.
CREATE TABLE erasure_requests (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    business_id   BIGINT NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    phone         TEXT   NOT NULL,
    requested_at  BIGINT NOT NULL,
    UNIQUE (business_id, phone)
);
