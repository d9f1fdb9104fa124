-- Every patient reached: browsers' push subscriptions, each clinic's SMS account, the
-- channel each notification went out on with every attempt on the way (push, WhatsApp,
-- SMS), patients' messages for the staff inbox, canned replies, and templates per channel.

CREATE TABLE push_subscriptions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    business_id   BIGINT  NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    token_id      BIGINT  NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    -- The push service's URL for this browser, and its keys (base64url, RFC 8291).
    endpoint      TEXT    NOT NULL,
    p256dh        TEXT    NOT NULL,
    auth          TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    UNIQUE (token_id, endpoint)
);

-- A Twilio-compatible SMS account; the auth token sealed like WhatsApp's secrets.
CREATE TABLE sms_accounts (
    business_id     BIGINT PRIMARY KEY REFERENCES businesses (id) ON DELETE CASCADE,
    account_sid     TEXT    NOT NULL,
    from_number     TEXT    NOT NULL,
    sealed_secrets  TEXT    NOT NULL,
    updated_at      BIGINT  NOT NULL
);

-- The channel a notification is being tried on, and (once SENT) the one that reached
-- the patient; the short text that push and SMS carry.
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'WHATSAPP';
ALTER TABLE outbox ADD COLUMN short_body TEXT NOT NULL DEFAULT '';

CREATE TABLE delivery_attempts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id     BIGINT  NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    business_id   BIGINT  NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    channel       TEXT    NOT NULL CHECK (channel IN ('PUSH', 'WHATSAPP', 'SMS')),
    outcome       TEXT    NOT NULL CHECK (outcome IN ('SENT', 'FAILED', 'SKIPPED')),
    detail        TEXT    NOT NULL DEFAULT '',
    -- What the attempt is billed as: SMS segments, WhatsApp template messages.
    cost_units    INTEGER NOT NULL DEFAULT 0,
    at            BIGINT  NOT NULL
);
CREATE INDEX delivery_attempts_by_outbox ON delivery_attempts (outbox_id);
CREATE INDEX delivery_attempts_by_business ON delivery_attempts (business_id, at);

-- Messages that are not bot commands ("I'm running late") go to the desk, next to the
-- patient's token.
ALTER TABLE whatsapp_inbound ADD COLUMN token_id BIGINT REFERENCES tokens (id) ON DELETE SET NULL;
ALTER TABLE whatsapp_inbound ADD COLUMN for_staff BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX whatsapp_inbound_for_staff ON whatsapp_inbound (business_id, received_at) WHERE for_staff;

CREATE TABLE canned_replies (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    business_id   BIGINT  NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    body          TEXT    NOT NULL,
    position      INTEGER NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX canned_replies_by_business ON canned_replies (business_id, position);

-- Templates per channel: WhatsApp's, and the short texts of SMS and push.
CREATE TABLE message_templates_by_channel (
    business_id   BIGINT  NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL,
    channel       TEXT    NOT NULL CHECK (channel IN ('WHATSAPP', 'SHORT')),
    language      TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    updated_at    BIGINT  NOT NULL,
    PRIMARY KEY (business_id, kind, channel, language)
);
INSERT INTO message_templates_by_channel (business_id, kind, channel, language, body, updated_at)
    SELECT business_id, kind, 'WHATSAPP', language, body, updated_at FROM message_templates;
DROP TABLE message_templates;
ALTER TABLE message_templates_by_channel RENAME TO message_templates;
