-- Qline foundation schema (SQLite). Instants are milliseconds since the Unix epoch.
-- Keep in step with migrations/postgres/0001_foundation.sql: same tables, same columns.

CREATE TABLE businesses (
    id                            INTEGER PRIMARY KEY,
    slug                          TEXT    NOT NULL UNIQUE,
    name                          TEXT    NOT NULL,
    address                       TEXT    NOT NULL DEFAULT '',
    contact_phone                 TEXT    NOT NULL DEFAULT '',
    timezone                      TEXT    NOT NULL,
    status                        TEXT    NOT NULL CHECK (status IN ('TRIAL', 'ACTIVE', 'SUSPENDED', 'DISABLED')),
    status_reason                 TEXT    NOT NULL DEFAULT '',
    whatsapp_enabled              BOOLEAN NOT NULL DEFAULT FALSE,
    qr_intake_enabled             BOOLEAN NOT NULL DEFAULT TRUE,
    daily_token_limit             INTEGER NOT NULL CHECK (daily_token_limit > 0),
    daily_message_limit           INTEGER NOT NULL CHECK (daily_message_limit >= 0),
    max_tokens_per_phone_per_day  INTEGER NOT NULL CHECK (max_tokens_per_phone_per_day > 0),
    joins_per_ip_per_hour         INTEGER NOT NULL CHECK (joins_per_ip_per_hour > 0),
    default_country               TEXT    NOT NULL,
    eta_min_minutes               INTEGER NOT NULL CHECK (eta_min_minutes > 0),
    eta_max_minutes               INTEGER NOT NULL CHECK (eta_max_minutes >= eta_min_minutes),
    languages                     TEXT    NOT NULL,
    notify_when_ahead             INTEGER NOT NULL CHECK (notify_when_ahead >= 0),
    whatsapp_template_mode        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at                    INTEGER NOT NULL
);

CREATE TABLE queues (
    id                        INTEGER PRIMARY KEY,
    business_id               INTEGER NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    name                      TEXT    NOT NULL,
    prefix                    TEXT    NOT NULL,
    default_service_minutes   INTEGER CHECK (default_service_minutes > 0),
    position                  INTEGER NOT NULL DEFAULT 0,
    archived                  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at                INTEGER NOT NULL,
    UNIQUE (business_id, prefix)
);

-- One per queue per local calendar day (the clinic's timezone).
CREATE TABLE queue_days (
    id              INTEGER PRIMARY KEY,
    queue_id        INTEGER NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    business_id     INTEGER NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    service_date    TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('OPEN', 'CLOSED')),
    intake_paused   BOOLEAN NOT NULL DEFAULT FALSE,
    next_number     INTEGER NOT NULL DEFAULT 1,
    opened_at       INTEGER NOT NULL,
    closed_at       INTEGER,
    UNIQUE (queue_id, service_date)
);

CREATE TABLE tokens (
    id                INTEGER PRIMARY KEY,
    public_id         TEXT    NOT NULL UNIQUE,
    queue_day_id      INTEGER NOT NULL REFERENCES queue_days (id) ON DELETE CASCADE,
    queue_id          INTEGER NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    business_id       INTEGER NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    number            INTEGER NOT NULL CHECK (number > 0),
    status            TEXT    NOT NULL CHECK (status IN ('WAITING', 'SERVING', 'SERVED', 'SKIPPED', 'CANCELLED')),
    previous_status   TEXT    CHECK (previous_status IN ('WAITING', 'SERVING', 'SERVED', 'SKIPPED', 'CANCELLED')),
    is_priority       BOOLEAN NOT NULL DEFAULT FALSE,
    patient_name      TEXT    NOT NULL,
    patient_phone     TEXT,
    source            TEXT    NOT NULL CHECK (source IN ('QR', 'DESK', 'WHATSAPP')),
    language          TEXT    NOT NULL,
    join_ip           TEXT,
    created_at        INTEGER NOT NULL,
    called_at         INTEGER,
    served_at         INTEGER,
    cancelled_at      INTEGER,
    cancel_reason     TEXT    CHECK (cancel_reason IN ('PATIENT', 'STAFF', 'DAY_CLOSED')),
    rating            INTEGER CHECK (rating BETWEEN 1 AND 5),
    feedback          TEXT,
    UNIQUE (queue_day_id, number)
);

-- At most one patient is being served per queue day.
CREATE UNIQUE INDEX tokens_one_serving_per_day ON tokens (queue_day_id) WHERE status = 'SERVING';
CREATE INDEX tokens_by_phone ON tokens (business_id, patient_phone, created_at);
CREATE INDEX tokens_by_ip ON tokens (business_id, join_ip, created_at);
CREATE INDEX tokens_by_business_day ON tokens (business_id, created_at);

CREATE TABLE staff_users (
    id              INTEGER PRIMARY KEY,
    business_id     INTEGER REFERENCES businesses (id) ON DELETE CASCADE,
    email           TEXT    NOT NULL UNIQUE,
    password_hash   TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('SUPER_ADMIN', 'OWNER', 'RECEPTIONIST')),
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      INTEGER NOT NULL,
    -- A super admin has no clinic; everyone else has exactly one.
    CHECK ((role = 'SUPER_ADMIN') = (business_id IS NULL))
);

-- Append-only. An UNDO row points at the row it reverted; the UNIQUE makes
-- "each action is undone at most once" a fact of the database.
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    business_id     INTEGER,
    queue_day_id    INTEGER,
    actor_user_id   INTEGER,
    actor_kind      TEXT    NOT NULL CHECK (actor_kind IN ('STAFF', 'PATIENT', 'SYSTEM')),
    action          TEXT    NOT NULL,
    token_id        INTEGER,
    target          TEXT    NOT NULL DEFAULT '',
    ip              TEXT,
    detail          TEXT    NOT NULL DEFAULT '{}',
    undoable        BOOLEAN NOT NULL DEFAULT FALSE,
    undoes_id       INTEGER UNIQUE REFERENCES audit_log (id),
    created_at      INTEGER NOT NULL
);
CREATE INDEX audit_by_day ON audit_log (queue_day_id, id);
CREATE INDEX audit_by_business ON audit_log (business_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
