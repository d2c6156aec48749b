-- Webhooks (SQLite): repository and project webhooks, and the durable delivery queue that is
-- also the delivery history. Events are written to `events` (0001) in the transaction of the
-- change that caused them; a dispatcher fans each event out into one delivery per matching
-- subscriber, then workers claim due deliveries, send them and record every attempt.

-- The Standard Webhooks `webhook-id` of the event: the same on every retry and for every
-- subscriber, so receivers can de-duplicate.
ALTER TABLE events ADD COLUMN uuid TEXT;
-- What the fan-out reads: undispatched events in order. Partial, so it holds only the queue,
-- and in the query's order, so a scan stops after the batch it needs.
CREATE INDEX events_undispatched ON events(id) WHERE dispatched_at IS NULL;
DROP INDEX events_pending;

CREATE TABLE webhooks (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid                 TEXT    NOT NULL UNIQUE,
    project_id           INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    -- NULL: a project webhook (every repository in the project).
    repo_id              INTEGER REFERENCES repositories(id) ON DELETE CASCADE,
    name                 TEXT    NOT NULL,
    url                  TEXT    NOT NULL,
    -- '*' for every event, else the keys between commas: ',repo:created,pullrequest:created,'
    events               TEXT    NOT NULL,
    active               BOOLEAN NOT NULL,
    -- HMAC key, encrypted with the master key; NULL: deliveries are not signed.
    secret_encrypted     TEXT,
    created_by           INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    -- Health: failed attempts in a row; a pause after repeated failures; disabled by Junction
    -- (too many failures, or 410 Gone) with the reason shown to the owner.
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    paused_until         INTEGER,
    disabled_at          INTEGER,
    disabled_reason      TEXT
);
CREATE INDEX webhooks_repo ON webhooks(repo_id);
CREATE INDEX webhooks_project ON webhooks(project_id);

-- One row per (event, subscriber): the queue while pending, the history afterwards.
-- subscriber_kind names who receives it ('webhook' = the table above; apps add theirs), so the
-- dispatcher stays the same for every kind.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id         INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    subscriber_kind  TEXT    NOT NULL,
    subscriber_id    INTEGER NOT NULL,
    -- pending | sending | succeeded | failed
    state            TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- When it is due; while 'sending', when the claim expires (a crashed worker's claim).
    next_attempt_at  INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    completed_at     INTEGER,
    last_status      INTEGER,
    last_error       TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at, id)
    WHERE state IN ('pending', 'sending');
CREATE INDEX webhook_deliveries_subscriber ON webhook_deliveries(subscriber_kind, subscriber_id, id);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries(created_at);

CREATE TABLE webhook_attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id      INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    number           INTEGER NOT NULL,
    request_uuid     TEXT    NOT NULL,
    started_at       INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    -- JSON object of the headers sent (signatures included: they are not secrets).
    request_headers  TEXT    NOT NULL,
    response_status  INTEGER,
    response_headers TEXT,
    -- The first KB of the response body.
    response_body    TEXT,
    error            TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, number);
