-- "Grant access": a person's consent that an installed app may act for them (AP.request, its
-- pages calling the API as them), remembered per person and installation with the scopes they
-- read when they granted. Asked again when the installation's scopes grow past them; removed
-- by revoking, and with the installation.
CREATE TABLE connect_user_grants (
    installation_id BIGINT  NOT NULL REFERENCES connect_installations(id) ON DELETE CASCADE,
    user_id         BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    scopes          TEXT    NOT NULL,
    granted_at      BIGINT  NOT NULL,
    PRIMARY KEY (installation_id, user_id)
);
CREATE INDEX connect_user_grants_by_user ON connect_user_grants (user_id);
