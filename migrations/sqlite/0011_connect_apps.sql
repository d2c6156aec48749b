-- Connect apps installed into an account (a person's or a team's). One row per (app, account):
-- uninstalling keeps the row (state 'uninstalled') so the clientKey stays the same across
-- re-installs and the next `installed` is signed with the secret the app last received.
-- `shared_secret` is ciphertext made with the master key (crypto.rs), never the secret itself.
CREATE TABLE connect_installations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    client_key     TEXT    NOT NULL UNIQUE,
    app_key        TEXT    NOT NULL,
    account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    vendor         TEXT,
    descriptor     TEXT    NOT NULL,
    descriptor_url TEXT,
    base_url       TEXT    NOT NULL,
    scopes         TEXT    NOT NULL,
    shared_secret  TEXT    NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('enabled', 'disabled', 'uninstalled')),
    installed_by   INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    installed_at   INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (app_key, account_id)
);
CREATE INDEX connect_installations_account ON connect_installations(account_id);

-- Descriptor URLs an administrator lists: people install these without development mode.
CREATE TABLE connect_catalog (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    app_key        TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    descriptor_url TEXT    NOT NULL,
    added_by       INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    added_at       INTEGER NOT NULL
);

-- Accounts whose development mode is on: they may install apps from any descriptor URL.
CREATE TABLE connect_development_mode (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    enabled_at INTEGER NOT NULL
);

-- Access tokens apps got for their JWT (grant_type urn:bitbucket:oauth2:jwt), by SHA-256: they
-- act as the installation, live an hour, and stop with it (disabled or uninstalled).
CREATE TABLE connect_access_tokens (
    token_hash      TEXT    PRIMARY KEY,
    installation_id INTEGER NOT NULL REFERENCES connect_installations(id) ON DELETE CASCADE,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX connect_access_tokens_installation ON connect_access_tokens(installation_id);
