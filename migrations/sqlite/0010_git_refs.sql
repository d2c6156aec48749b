-- The branches and tags of each repository as Junction last recorded them. A push is compared
-- against these to write its `repo:push` event, in the transaction that records the new values.
CREATE TABLE repository_refs (
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    name    TEXT    NOT NULL,
    target  TEXT    NOT NULL,
    PRIMARY KEY (repo_id, name)
);

-- A push or merge that may change refs, written before git runs and removed in the transaction
-- that records its event. One left behind means the server stopped in between: the next start
-- compares the repository with its recorded refs and writes the event that was missed.
CREATE TABLE ref_updates_pending (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id    INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    actor_id   INTEGER NOT NULL REFERENCES accounts(id),
    started_at INTEGER NOT NULL
);
CREATE INDEX ref_updates_pending_repo ON ref_updates_pending(repo_id);
