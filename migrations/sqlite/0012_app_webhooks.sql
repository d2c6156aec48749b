-- An installed app's `webhooks` modules: one subscriber per module (X-Hook-UUID), kept across
-- re-installs and updates so its delivery history stays. `events` lists the event keys it
-- receives, between commas (',repo:push,pullrequest:created,'): its `event` (a key or '*')
-- narrowed to what the installation's scopes cover, worked out whenever the scopes change.
-- Health is kept as repository webhooks keep it.
CREATE TABLE connect_webhooks (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid                 TEXT    NOT NULL UNIQUE,
    installation_id      INTEGER NOT NULL REFERENCES connect_installations(id) ON DELETE CASCADE,
    module_key           TEXT    NOT NULL,
    event                TEXT    NOT NULL,
    events               TEXT    NOT NULL,
    url                  TEXT    NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    paused_until         INTEGER,
    disabled_at          INTEGER,
    disabled_reason      TEXT,
    UNIQUE (installation_id, module_key)
);

-- The last event before the installation was (re-)installed or enabled: it receives only
-- events after it, so nothing that happened while it was disabled or removed reaches it, however
-- late the dispatcher fans it out. An event id, not a time: ids order events exactly.
ALTER TABLE connect_installations ADD COLUMN events_from INTEGER NOT NULL DEFAULT 0;
