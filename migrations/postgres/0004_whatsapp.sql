-- WhatsApp: each clinic's provider account (secrets sealed with the server's key), the
-- 24-hour conversation windows that inbound messages open, every inbound message (which
-- also dedupes webhook deliveries), the outbox of notifications, and per-clinic message
-- templates.

CREATE TABLE whatsapp_accounts (
    business_id           BIGINT    PRIMARY KEY REFERENCES businesses (id) ON DELETE CASCADE,
    provider              TEXT    NOT NULL CHECK (provider IN ('LOG', 'ULTRAMSG', 'META')),
    -- The clinic's WhatsApp number in E.164, for click-to-chat links.
    phone_number          TEXT    NOT NULL DEFAULT '',
    ultramsg_instance     TEXT    NOT NULL DEFAULT '',
    -- Meta routes every clinic's webhooks to one URL; this names the clinic.
    meta_phone_number_id  TEXT    UNIQUE,
    -- JSON of the provider's secrets, sealed (ChaCha20-Poly1305) with the server's key.
    sealed_secrets        TEXT    NOT NULL,
    updated_at            BIGINT    NOT NULL
);

CREATE TABLE whatsapp_windows (
    business_id       BIGINT    NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    phone             TEXT    NOT NULL,
    opened_at         BIGINT    NOT NULL,
    last_inbound_at   BIGINT    NOT NULL,
    -- The token the conversation is about (the latest one linked).
    token_id          BIGINT    REFERENCES tokens (id) ON DELETE SET NULL,
    -- STOP: nothing more is sent until the phone writes again.
    opted_out         BOOLEAN NOT NULL DEFAULT FALSE,
    -- Where the join bot is in its conversation (JSON), so it survives restarts.
    bot_state         TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (business_id, phone)
);

CREATE TABLE whatsapp_inbound (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    business_id           BIGINT    NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    provider_message_id   TEXT    NOT NULL,
    phone                 TEXT    NOT NULL,
    body                  TEXT    NOT NULL,
    received_at           BIGINT    NOT NULL,
    UNIQUE (business_id, provider_message_id)
);

CREATE TABLE outbox (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    business_id           BIGINT    NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    token_id              BIGINT    REFERENCES tokens (id) ON DELETE SET NULL,
    phone                 TEXT    NOT NULL,
    kind                  TEXT    NOT NULL,
    language              TEXT    NOT NULL,
    body                  TEXT    NOT NULL,
    -- PENDING → SENDING → SENT, or back to PENDING for a retry, or FAILED for good.
    -- SKIPPED: not sent because the rules forbade it by then (window closed, STOP, limit).
    status                TEXT    NOT NULL CHECK (status IN ('PENDING', 'SENDING', 'SENT', 'FAILED', 'SKIPPED')),
    attempts              INTEGER NOT NULL DEFAULT 0,
    next_attempt_at       BIGINT    NOT NULL,
    -- A worker's claim: another may take the row over only after this instant.
    locked_until          BIGINT,
    provider_message_id   TEXT,
    -- What the provider later reported: sent, delivered, read or failed.
    delivery              TEXT,
    last_error            TEXT    NOT NULL DEFAULT '',
    created_at            BIGINT    NOT NULL,
    sent_at               BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_business ON outbox (business_id, created_at);
CREATE INDEX outbox_by_token ON outbox (token_id, kind);
CREATE INDEX outbox_by_provider_id ON outbox (provider_message_id);

CREATE TABLE message_templates (
    business_id   BIGINT    NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL,
    language      TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    updated_at    BIGINT    NOT NULL,
    PRIMARY KEY (business_id, kind, language)
);

-- Messages each clinic has sent per local date: the daily limit, taken one message at a
-- time with a guarded increment, so workers on several instances cannot overshoot it.
CREATE TABLE message_quota (
    business_id   BIGINT    NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    service_date  TEXT    NOT NULL,
    used          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (business_id, service_date)
);
