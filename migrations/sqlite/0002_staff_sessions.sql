-- Staff sign-in: server-side sessions (the cookie holds a random token; only its SHA-256
-- is stored) and the login attempts that rate-limit guessing, per account and per address.
-- Both live in the database so every app instance shares them.

CREATE TABLE staff_sessions (
    token_hash  TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    ip          TEXT
);
CREATE INDEX staff_sessions_by_user ON staff_sessions (user_id);

CREATE TABLE login_attempts (
    id          INTEGER PRIMARY KEY,
    email       TEXT    NOT NULL,
    ip          TEXT,
    succeeded   BOOLEAN NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX login_attempts_by_email ON login_attempts (email, created_at);
CREATE INDEX login_attempts_by_ip ON login_attempts (ip, created_at);
