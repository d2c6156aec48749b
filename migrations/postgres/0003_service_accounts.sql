-- Service accounts: non-human accounts that authenticate with OAuth 2.0 client credentials.
-- The account itself is a password-less row in `accounts` (so grants work as for anyone);
-- this table ties it to its client and holds its optional resource restriction.

CREATE TABLE service_accounts (
    account_id      BIGINT  PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    oauth_client_id BIGINT  NOT NULL UNIQUE REFERENCES oauth_clients(id) ON DELETE CASCADE,
    created_at      BIGINT  NOT NULL
);

-- When a service account has rows here, it can reach only these projects and repositories,
-- whatever it has been granted elsewhere.
CREATE TABLE service_account_resources (
    account_id BIGINT  NOT NULL REFERENCES service_accounts(account_id) ON DELETE CASCADE,
    project_id BIGINT  REFERENCES projects(id) ON DELETE CASCADE,
    repo_id    BIGINT  REFERENCES repositories(id) ON DELETE CASCADE
);
CREATE INDEX service_account_resources_account ON service_account_resources(account_id);
