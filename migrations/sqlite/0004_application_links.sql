-- Application links (SQLite): one row per linked application. Its incoming side is an OAuth
-- client of Junction (oauth_clients); its outgoing side is Junction as an OAuth 2.0 client of
-- the remote. The public id is random and never derived from the URL, so relocating a link
-- keeps every user's authorization.

CREATE TABLE server_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE app_links (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    link_id             TEXT    NOT NULL UNIQUE,
    name                TEXT    NOT NULL UNIQUE,
    url                 TEXT    NOT NULL,
    -- generic, junction, jira, confluence, stash, bamboo, ... (from the remote's manifest)
    type_id             TEXT    NOT NULL,
    app_name            TEXT,
    app_version         TEXT,
    incoming_client     INTEGER REFERENCES oauth_clients(id) ON DELETE SET NULL,
    -- The outgoing side; all NULL when Junction does not call the remote.
    out_preset          TEXT,
    out_client_id       TEXT,
    out_secret_encrypted TEXT,
    out_authorize_url   TEXT,
    out_token_url       TEXT,
    out_scopes          TEXT,
    -- The last Test connection: JSON of the status, and when.
    last_status         TEXT,
    last_checked_at     INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

-- A user's tokens at the remote of an outgoing link, encrypted with the master key.
CREATE TABLE app_link_tokens (
    link_id           INTEGER NOT NULL REFERENCES app_links(id) ON DELETE CASCADE,
    user_id           INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    access_encrypted  TEXT    NOT NULL,
    refresh_encrypted TEXT,
    expires_at        INTEGER,
    scope             TEXT,
    -- 'connected', or 'revoked' when the remote refused the tokens (shown; reconnect to fix).
    status            TEXT    NOT NULL,
    connected_at      INTEGER NOT NULL,
    refreshed_at      INTEGER,
    PRIMARY KEY (link_id, user_id)
);

-- Authorization-code flows Junction started as a client (a user connecting, an admin testing).
CREATE TABLE app_link_flows (
    state_hash         TEXT    PRIMARY KEY,
    link_id            INTEGER NOT NULL REFERENCES app_links(id) ON DELETE CASCADE,
    user_id            INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    purpose            TEXT    NOT NULL,
    verifier_encrypted TEXT    NOT NULL,
    expires_at         INTEGER NOT NULL
);

-- Two-way link set-up started here: the peer proves it holds the pairing secret by signing.
CREATE TABLE app_link_pairings (
    pairing_id       TEXT    PRIMARY KEY,
    secret_encrypted TEXT    NOT NULL,
    link_id          INTEGER NOT NULL REFERENCES app_links(id) ON DELETE CASCADE,
    peer_url         TEXT    NOT NULL,
    -- The highest scope the peer's incoming link here may ask for.
    scope            TEXT    NOT NULL,
    expires_at       INTEGER NOT NULL,
    used_at          INTEGER
);
