-- A personal access token's Data Center permissions as asked (e.g. "PROJECT_READ REPO_WRITE");
-- NULL when its single word (`permission`, which stays: the higher side) says it all.
ALTER TABLE access_tokens ADD COLUMN scopes TEXT;
