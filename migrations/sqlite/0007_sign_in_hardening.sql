-- Sign-in throttling per (username, client address) and per client address, reserved before the
-- password is checked (issue 12). Replaces the per-username counter, which anyone could use to
-- lock anyone out and which a burst of concurrent guesses could race.
DROP TABLE sign_in_failures;

CREATE TABLE sign_in_throttle (
    key             TEXT    PRIMARY KEY,
    failures        BIGINT  NOT NULL,
    last_failure_at BIGINT  NOT NULL,
    blocked_until   BIGINT  NOT NULL,
    pending         BIGINT  NOT NULL,
    pending_at      BIGINT  NOT NULL
);
CREATE INDEX sign_in_throttle_last ON sign_in_throttle(last_failure_at);

-- A password someone else chose (the first administrator's printed one) must be replaced at
-- the first sign-in.
ALTER TABLE accounts ADD COLUMN password_change_required BOOLEAN NOT NULL DEFAULT 0;
