-- Build statuses CI servers and apps post for commits (Bitbucket Cloud's commit statuses, Data
-- Center's builds). One per (repository, commit, key): posting the key again replaces it.
-- `repo_id` NULL: posted through Data Center's legacy /rest/build-status/1.0/commits/{id},
-- which names no repository; such statuses show wherever the commit is.
CREATE TABLE commit_statuses (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id     INTEGER REFERENCES repositories(id) ON DELETE CASCADE,
    commit_id   TEXT    NOT NULL,
    status_key  TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    name        TEXT,
    url         TEXT    NOT NULL,
    description TEXT,
    refname     TEXT,
    created_by  INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX commit_statuses_key ON commit_statuses (COALESCE(repo_id, 0), commit_id, status_key);
CREATE INDEX commit_statuses_commit ON commit_statuses (commit_id);
