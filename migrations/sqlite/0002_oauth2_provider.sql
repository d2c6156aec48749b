-- Incoming application links: Junction as an OAuth 2.0 authorization server (SQLite).

CREATE TABLE oauth_clients (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id        TEXT    NOT NULL UNIQUE,
    name             TEXT    NOT NULL UNIQUE,
    confidential     BOOLEAN NOT NULL,
    -- SHA-256 of the secret, for checking it; the secret itself encrypted with the master key,
    -- so an admin can view it again (every view is audited).
    secret_hash      TEXT,
    secret_encrypted TEXT,
    -- Newline-separated, each checked by domain::oauth2::check_redirect_uri.
    redirects        TEXT    NOT NULL,
    -- The highest scope the client may request (scopes are ordered; it implies the lower ones).
    scope            TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- One authorization of a client by a user: everything issued from one authorization code (or a
-- remembered consent) hangs off it, so revoking it ends every token at once.
CREATE TABLE oauth_grants (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id    INTEGER NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    scope        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX oauth_grants_user ON oauth_grants(user_id, client_id);

CREATE TABLE oauth_codes (
    code_hash             TEXT    PRIMARY KEY,
    grant_id              INTEGER NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
    redirect_uri          TEXT    NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    expires_at            INTEGER NOT NULL,
    used_at               INTEGER
);

CREATE TABLE oauth_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT    NOT NULL UNIQUE,
    kind       TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
    grant_id   INTEGER NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- A refresh token that was exchanged: presenting it again means it leaked.
    rotated_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX oauth_tokens_grant ON oauth_tokens(grant_id);

-- Remembered consent: the same client asking for the same or fewer scopes is not asked again.
CREATE TABLE oauth_consents (
    client_id  INTEGER NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    scope      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, user_id)
);
