-- Failed sign-in attempts, counted per source before the password is checked: one row
-- per account on a network (`account:<email>@<network>`) and per network
-- (`network:<network>`). A parallel burst of guesses races for the same row, so only the
-- free attempts get checked. Rows untouched for a day no longer count and are deleted.

CREATE TABLE sign_in_strikes (
    source   TEXT    PRIMARY KEY,
    strikes  INTEGER NOT NULL CHECK (strikes >= 0),
    last_at  INTEGER NOT NULL
);
CREATE INDEX sign_in_strikes_by_age ON sign_in_strikes (last_at);
