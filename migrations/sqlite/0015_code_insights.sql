-- Code Insights: reports a tool posts for a commit (one per repository, commit and key;
-- putting the key again replaces it and drops its annotations) and their annotations.
CREATE TABLE code_reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id     INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    commit_id   TEXT    NOT NULL,
    report_key  TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    details     TEXT,
    report_type TEXT,
    reporter    TEXT,
    link        TEXT,
    logo_url    TEXT,
    result      TEXT,
    data        TEXT    NOT NULL,
    created_by  INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (repo_id, commit_id, report_key)
);

CREATE TABLE code_annotations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id       INTEGER NOT NULL REFERENCES code_reports(id) ON DELETE CASCADE,
    external_id     TEXT,
    path            TEXT,
    line            INTEGER,
    message         TEXT    NOT NULL,
    details         TEXT,
    severity        TEXT    NOT NULL,
    annotation_type TEXT,
    result          TEXT,
    link            TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX code_annotations_report ON code_annotations (report_id);
