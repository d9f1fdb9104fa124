-- Qline foundation schema (PostgreSQL). Instants are milliseconds since the Unix epoch.
-- Keep in step with migrations/sqlite/0001_foundation.sql: same tables, same columns.

CREATE TABLE businesses (
    id                            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug                          TEXT    NOT NULL UNIQUE,
    name                          TEXT    NOT NULL,
    address                       TEXT    NOT NULL DEFAULT '',
    contact_phone                 TEXT    NOT NULL DEFAULT '',
    timezone                      TEXT    NOT NULL,
    status                        TEXT    NOT NULL CHECK (status IN ('TRIAL', 'ACTIVE', 'SUSPENDED', 'DISABLED')),
    status_reason                 TEXT    NOT NULL DEFAULT '',
    whatsapp_enabled              BOOLEAN NOT NULL DEFAULT FALSE,
    qr_intake_enabled             BOOLEAN NOT NULL DEFAULT TRUE,
    daily_token_limit             BIGINT  NOT NULL CHECK (daily_token_limit > 0),
    daily_message_limit           BIGINT  NOT NULL CHECK (daily_message_limit >= 0),
    max_tokens_per_phone_per_day  BIGINT  NOT NULL CHECK (max_tokens_per_phone_per_day > 0),
    joins_per_ip_per_hour         BIGINT  NOT NULL CHECK (joins_per_ip_per_hour > 0),
    default_country               TEXT    NOT NULL,
    eta_min_minutes               BIGINT  NOT NULL CHECK (eta_min_minutes > 0),
    eta_max_minutes               BIGINT  NOT NULL CHECK (eta_max_minutes >= eta_min_minutes),
    languages                     TEXT    NOT NULL,
    notify_when_ahead             BIGINT  NOT NULL CHECK (notify_when_ahead >= 0),
    whatsapp_template_mode        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at                    BIGINT  NOT NULL
);

CREATE TABLE queues (
    id                        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    business_id               BIGINT  NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    name                      TEXT    NOT NULL,
    prefix                    TEXT    NOT NULL,
    default_service_minutes   BIGINT  CHECK (default_service_minutes > 0),
    position                  BIGINT  NOT NULL DEFAULT 0,
    archived                  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at                BIGINT  NOT NULL,
    UNIQUE (business_id, prefix)
);

-- One per queue per local calendar day (the clinic's timezone).
CREATE TABLE queue_days (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue_id        BIGINT  NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    business_id     BIGINT  NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    service_date    TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('OPEN', 'CLOSED')),
    intake_paused   BOOLEAN NOT NULL DEFAULT FALSE,
    next_number     BIGINT  NOT NULL DEFAULT 1,
    opened_at       BIGINT  NOT NULL,
    closed_at       BIGINT,
    UNIQUE (queue_id, service_date)
);

CREATE TABLE tokens (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id         TEXT    NOT NULL UNIQUE,
    queue_day_id      BIGINT  NOT NULL REFERENCES queue_days (id) ON DELETE CASCADE,
    queue_id          BIGINT  NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    business_id       BIGINT  NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    number            BIGINT  NOT NULL CHECK (number > 0),
    status            TEXT    NOT NULL CHECK (status IN ('WAITING', 'SERVING', 'SERVED', 'SKIPPED', 'CANCELLED')),
    previous_status   TEXT    CHECK (previous_status IN ('WAITING', 'SERVING', 'SERVED', 'SKIPPED', 'CANCELLED')),
    is_priority       BOOLEAN NOT NULL DEFAULT FALSE,
    patient_name      TEXT    NOT NULL,
    patient_phone     TEXT,
    source            TEXT    NOT NULL CHECK (source IN ('QR', 'DESK', 'WHATSAPP')),
    language          TEXT    NOT NULL,
    join_ip           TEXT,
    created_at        BIGINT  NOT NULL,
    called_at         BIGINT,
    served_at         BIGINT,
    cancelled_at      BIGINT,
    cancel_reason     TEXT    CHECK (cancel_reason IN ('PATIENT', 'STAFF', 'DAY_CLOSED')),
    rating            BIGINT  CHECK (rating BETWEEN 1 AND 5),
    feedback          TEXT,
    UNIQUE (queue_day_id, number)
);

-- At most one patient is being served per queue day.
CREATE UNIQUE INDEX tokens_one_serving_per_day ON tokens (queue_day_id) WHERE status = 'SERVING';
CREATE INDEX tokens_by_phone ON tokens (business_id, patient_phone, created_at);
CREATE INDEX tokens_by_ip ON tokens (business_id, join_ip, created_at);
CREATE INDEX tokens_by_business_day ON tokens (business_id, created_at);

CREATE TABLE staff_users (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    business_id     BIGINT  REFERENCES businesses (id) ON DELETE CASCADE,
    email           TEXT    NOT NULL UNIQUE,
    password_hash   TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('SUPER_ADMIN', 'OWNER', 'RECEPTIONIST')),
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      BIGINT  NOT NULL,
    -- A super admin has no clinic; everyone else has exactly one.
    CHECK ((role = 'SUPER_ADMIN') = (business_id IS NULL))
);

-- Append-only. An UNDO row points at the row it reverted; the UNIQUE makes
-- "each action is undone at most once" a fact of the database.
CREATE TABLE audit_log (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    business_id     BIGINT,
    queue_day_id    BIGINT,
    actor_user_id   BIGINT,
    actor_kind      TEXT    NOT NULL CHECK (actor_kind IN ('STAFF', 'PATIENT', 'SYSTEM')),
    action          TEXT    NOT NULL,
    token_id        BIGINT,
    target          TEXT    NOT NULL DEFAULT '',
    ip              TEXT,
    detail          TEXT    NOT NULL DEFAULT '{}',
    undoable        BOOLEAN NOT NULL DEFAULT FALSE,
    undoes_id       BIGINT  UNIQUE REFERENCES audit_log (id),
    created_at      BIGINT  NOT NULL
);
CREATE INDEX audit_by_day ON audit_log (queue_day_id, id);
CREATE INDEX audit_by_business ON audit_log (business_id, id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
