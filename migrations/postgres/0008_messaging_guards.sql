-- Guards against abuse of WhatsApp (docs/WHATSAPP.md): each phone's answers from the bot
-- are counted, and Meta's unauthenticated handshake is answered without opening any
-- clinic's sealed secrets.

-- When the bot answered this message. NULL: it did not (STOP, a message for the desk, a
-- clinic that is suspended or disabled, a phone that had its share of answers).
ALTER TABLE whatsapp_inbound ADD COLUMN answered_at BIGINT;
CREATE INDEX whatsapp_inbound_answered ON whatsapp_inbound (business_id, phone, answered_at)
    WHERE answered_at IS NOT NULL;

-- A keyed hash of a Meta account's verify token (HMAC-SHA256 under a key derived from
-- the server's secret key). NULL for accounts saved before this column: the server fills
-- it in as it starts.
ALTER TABLE whatsapp_accounts ADD COLUMN meta_verify_fingerprint TEXT;
CREATE INDEX whatsapp_accounts_by_verify_fingerprint ON whatsapp_accounts (meta_verify_fingerprint);
