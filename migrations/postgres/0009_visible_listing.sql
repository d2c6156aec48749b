-- Lists are filtered by visibility in the database: these let the public repositories and
-- public projects be found (and "does this project hold a public repository?" be answered)
-- without visiting every repository.
CREATE INDEX repositories_public ON repositories(project_id) WHERE public;
CREATE INDEX projects_public ON projects(id) WHERE public;
