-- Foundation schema (SQLite). Never edit a shipped migration; add a new one.
-- Timestamps are milliseconds since the Unix epoch on both backends.

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL CHECK (kind IN ('user', 'team')),
    slug          TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    email         TEXT,
    password_hash TEXT,
    active        BOOLEAN NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    role    TEXT    NOT NULL CHECK (role IN ('member', 'admin')),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members(user_id);

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL DEFAULT '',
    public      BOOLEAN NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE repositories (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id     INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    slug           TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    public         BOOLEAN NOT NULL DEFAULT 0,
    default_branch TEXT    NOT NULL DEFAULT 'refs/heads/main',
    next_pr_number INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (project_id, slug),
    UNIQUE (project_id, name)
);

-- One row per permission granted to a user or team. `target_id` is 0 for global grants and the
-- project or repository id otherwise, so one unique index covers every scope.
CREATE TABLE grants (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    scope      TEXT    NOT NULL CHECK (scope IN ('global', 'project', 'repo')),
    target_id  INTEGER NOT NULL,
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    repo_id    INTEGER REFERENCES repositories(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    permission TEXT    NOT NULL,
    UNIQUE (scope, target_id, account_id)
);
CREATE INDEX grants_account ON grants(account_id);
CREATE INDEX grants_target ON grants(scope, target_id);

CREATE TABLE pull_requests (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id     INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    from_ref    TEXT    NOT NULL,
    to_ref      TEXT    NOT NULL,
    author_id   INTEGER NOT NULL REFERENCES accounts(id),
    state       TEXT    NOT NULL CHECK (state IN ('OPEN', 'MERGED', 'DECLINED')),
    version     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    closed_at   INTEGER,
    UNIQUE (repo_id, number)
);
CREATE INDEX pull_requests_state ON pull_requests(repo_id, state);

CREATE TABLE pr_participants (
    pr_id   INTEGER NOT NULL REFERENCES pull_requests(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    role    TEXT    NOT NULL CHECK (role IN ('REVIEWER', 'PARTICIPANT')),
    status  TEXT    NOT NULL CHECK (status IN ('UNAPPROVED', 'APPROVED', 'NEEDS_WORK')),
    PRIMARY KEY (pr_id, user_id)
);

CREATE TABLE pr_comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    pr_id      INTEGER NOT NULL REFERENCES pull_requests(id) ON DELETE CASCADE,
    author_id  INTEGER NOT NULL REFERENCES accounts(id),
    text       TEXT    NOT NULL,
    version    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX pr_comments_pr ON pr_comments(pr_id);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE access_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    permission   TEXT    NOT NULL CHECK (permission IN ('read', 'write', 'admin')),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    UNIQUE (user_id, name)
);

CREATE TABLE sign_in_failures (
    username     TEXT    PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor_id   INTEGER,
    actor_name TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    details    TEXT    NOT NULL DEFAULT '',
    source_ip  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log(at);

-- Transactional outbox: a domain change and the events it causes commit together. The webhook
-- dispatcher (a later issue) claims rows where dispatched_at IS NULL.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    event_key     TEXT    NOT NULL,
    project_id    INTEGER,
    repo_id       INTEGER,
    payload       TEXT    NOT NULL,
    dispatched_at INTEGER
);
CREATE INDEX events_pending ON events(dispatched_at, id);

-- Secrets Junction must read back, encrypted with the master key (see src/crypto.rs).
CREATE TABLE encrypted_secrets (
    name       TEXT    PRIMARY KEY,
    ciphertext TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
