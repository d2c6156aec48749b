//! Lists of projects and repositories filtered by what a principal may see and paged in the
//! database. What may be seen arrives as `domain::visibility` sets (decided by `authorize()`);
//! this file only turns them into SQL. Ids are numbers and are written into the statement as
//! such; text filters are bound.

use super::projects::{repo_columns, PROJECT_SELECT};
use super::{on_pool, Project, Repository, Store, StoreResult};
use crate::domain::visibility::{ProjectCells, ProjectVisibility, Reach, RepoVisibility};
use crate::domain::Restriction;

/// Which repositories to list, besides what the principal may see.
#[derive(Debug, Clone, Copy, Default)]
pub struct RepoFilter<'a> {
    pub project_id: Option<i64>,
    /// Part of the name, any case.
    pub name: Option<&'a str>,
    /// Part of the project's name, any case.
    pub project_name: Option<&'a str>,
    /// Readable by anyone (`Some(true)`) or not (`Some(false)`).
    pub public: Option<bool>,
}

/// Rows `start ..` up to `limit` of them (ask for one more than a page to learn whether more
/// follow).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: i64,
    pub limit: i64,
}

/// Repositories reached from their projects: `CROSS JOIN` keeps that order on SQLite, whose
/// planner would otherwise scan every repository and sort (PostgreSQL plans it freely). With
/// `r.project_id = p.id` in the WHERE clause; projects by key, then each one's repositories by
/// slug off the (project, slug) index, so a page stops early.
const REPO_FROM_PROJECTS: &str = concat!(
    "SELECT ",
    repo_columns!(),
    " FROM projects p CROSS JOIN repositories r WHERE r.project_id = p.id"
);

const READABLE_BY_ANYONE: &str = "(r.public OR p.public)";
const HOLDS_PUBLIC_REPO: &str =
    "EXISTS (SELECT 1 FROM repositories pr WHERE pr.project_id = p.id AND pr.public)";

fn id_list(ids: impl Iterator<Item = i64>) -> String {
    ids.map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

/// `column IN (ids)` for the ids whose reach is `want`, if any.
fn members(column: &str, all: &[(i64, Reach)], want: impl Fn(Reach) -> bool) -> Option<String> {
    let ids: Vec<i64> = all
        .iter()
        .filter(|(_, r)| want(*r))
        .map(|(i, _)| *i)
        .collect();
    (!ids.is_empty()).then(|| format!("{column} IN ({})", id_list(ids.into_iter())))
}

/// The parts of the visibility condition, each a set of repositories (OR-ed).
fn repo_parts(v: &RepoVisibility) -> Vec<String> {
    let mut parts = Vec::new();
    match v.others {
        Reach::Everything => parts.push("TRUE".to_string()),
        Reach::Public => parts.push(READABLE_BY_ANYONE.to_string()),
        Reach::Nothing => {}
    }
    for (column, all) in [("r.project_id", &v.projects), ("r.id", &v.repos)] {
        parts.extend(members(column, all, |r| r == Reach::Everything));
        if let Some(m) = members(column, all, |r| r == Reach::Public) {
            parts.push(format!("({m} AND {READABLE_BY_ANYONE})"));
        }
    }
    parts
}

fn repo_restriction(r: &Restriction) -> String {
    let projects = id_list(r.projects.iter().copied());
    let repos = id_list(r.repos.iter().map(|(_, id)| *id));
    let mut either = Vec::new();
    if !projects.is_empty() {
        either.push(format!("r.project_id IN ({projects})"));
    }
    if !repos.is_empty() {
        either.push(format!("r.id IN ({repos})"));
    }
    if either.is_empty() {
        "FALSE".into()
    } else {
        format!("({})", either.join(" OR "))
    }
}

/// A LIKE pattern for "contains `text`, any case", with LIKE's wildcards taken literally.
fn contains_pattern(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The statement listing visible repositories, and the text values to bind in order.
fn repo_query(v: &RepoVisibility, f: &RepoFilter<'_>, w: Window) -> (String, Vec<String>) {
    let parts = repo_parts(v);
    let mut conditions = vec![if parts.is_empty() {
        "FALSE".to_string()
    } else {
        format!("({})", parts.join(" OR "))
    }];
    if let Some(r) = &v.restriction {
        conditions.push(repo_restriction(r));
    }
    let mut binds = Vec::new();
    if let Some(id) = f.project_id {
        conditions.push(format!("r.project_id = {id}"));
    }
    for (column, text) in [("r.name", f.name), ("p.name", f.project_name)] {
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            binds.push(contains_pattern(t));
            conditions.push(format!("lower({column}) LIKE ${} ESCAPE '\\'", binds.len()));
        }
    }
    match f.public {
        Some(true) => conditions.push(READABLE_BY_ANYONE.into()),
        Some(false) => conditions.push(format!("NOT {READABLE_BY_ANYONE}")),
        None => {}
    }
    let page = format!(
        "ORDER BY p.key, r.slug LIMIT {} OFFSET {}",
        w.limit, w.start
    );
    let everything = v.others == Reach::Everything;
    let common = conditions.join(" AND ");
    let sql = if everything || f.project_id.is_some() {
        // Walks the (key) and (project, slug) indexes in order and stops at the page's end.
        format!("{REPO_FROM_PROJECTS} AND {common} {page}")
    } else {
        // One branch per set the principal reaches, each found by an index (a public
        // repository, a repository of a public project, of a granted project, a granted
        // repository), so the cost follows what is visible, not how many repositories exist.
        let branches: Vec<String> = index_branches(v)
            .iter()
            .map(|b| format!("{REPO_FROM_PROJECTS} AND {b} AND {common}"))
            .collect();
        if branches.is_empty() {
            format!("{REPO_FROM_PROJECTS} AND FALSE")
        } else {
            format!(
                "SELECT * FROM ({}) v ORDER BY v.project_key, v.slug LIMIT {} OFFSET {}",
                branches.join(" UNION "),
                w.limit,
                w.start
            )
        }
    };
    (sql, binds)
}

/// The sets of repositories the principal may reach, each a condition an index answers.
fn index_branches(v: &RepoVisibility) -> Vec<String> {
    let mut out = Vec::new();
    if v.others == Reach::Public {
        out.push("r.public".to_string());
        out.push("p.public".to_string());
    }
    let reached = |r: Reach| r != Reach::Nothing;
    out.extend(members("r.project_id", &v.projects, reached));
    out.extend(members("r.id", &v.repos, reached));
    out
}

/// One class's cells as a condition over a project row.
fn cells_sql(c: &ProjectCells) -> Option<String> {
    let mut true_cells = Vec::new();
    for (public, row) in [(false, c[0]), (true, c[1])] {
        for (holds, seen) in [(false, row[0]), (true, row[1])] {
            if seen {
                let p = if public { "p.public" } else { "NOT p.public" };
                let h = if holds {
                    HOLDS_PUBLIC_REPO.to_string()
                } else {
                    format!("NOT {HOLDS_PUBLIC_REPO}")
                };
                true_cells.push(format!("({p} AND {h})"));
            }
        }
    }
    match true_cells.len() {
        0 => None,
        4 => Some("TRUE".into()),
        _ => Some(format!("({})", true_cells.join(" OR "))),
    }
}

fn project_query(v: &ProjectVisibility, name: Option<&str>, w: Window) -> (String, Vec<String>) {
    let mut parts: Vec<String> = cells_sql(&v.others).into_iter().collect();
    for (id, cells) in &v.projects {
        if let Some(c) = cells_sql(cells) {
            parts.push(format!("(p.id = {id} AND {c})"));
        }
    }
    let mut conditions = vec![if parts.is_empty() {
        "FALSE".to_string()
    } else {
        format!("({})", parts.join(" OR "))
    }];
    if let Some(r) = &v.restriction {
        let ids = id_list(
            r.projects
                .iter()
                .chain(r.repos.iter().map(|(p, _)| p))
                .copied(),
        );
        conditions.push(if ids.is_empty() {
            "FALSE".into()
        } else {
            format!("p.id IN ({ids})")
        });
    }
    let mut binds = Vec::new();
    if let Some(n) = name.filter(|n| !n.is_empty()) {
        binds.push(contains_pattern(n));
        conditions.push("lower(p.name) LIKE $1 ESCAPE '\\'".into());
    }
    let sql = format!(
        "{PROJECT_SELECT} WHERE {} ORDER BY p.key LIMIT {} OFFSET {}",
        conditions.join(" AND "),
        w.limit,
        w.start
    );
    (sql, binds)
}

/// One repository as SQLite's `json_array` writes it (flags are 0 or 1).
type RepoTuple = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    String,
    i64,
    String,
    String,
    String,
    i64,
);

/// SQLite's driver hands every row from its worker thread to the request's task, a thread
/// wake-up per row; a page comes back as one JSON array in one row instead, in the order the
/// statement gives.
async fn sqlite_page(
    pool: &sqlx::SqlitePool,
    sql: &str,
    binds: &[String],
) -> StoreResult<Vec<Repository>> {
    let one = format!(
        "SELECT json_group_array(json_array(q.id, q.project_id, q.slug, q.name, q.description,
         q.public, q.default_branch, q.created_at, q.project_key, q.project_name,
         q.project_description, q.project_public)) FROM ({sql}) q"
    );
    let mut q = sqlx::query_scalar::<_, String>(&one);
    for b in binds {
        q = q.bind(b);
    }
    let text = q.fetch_one(pool).await?;
    let rows: Vec<RepoTuple> = serde_json::from_str(&text)
        .map_err(|e| super::StoreError::Db(sqlx::Error::Decode(Box::new(e))))?;
    Ok(rows
        .into_iter()
        .map(|t| Repository {
            id: t.0,
            project_id: t.1,
            slug: t.2,
            name: t.3,
            description: t.4,
            public: t.5 != 0,
            default_branch: t.6,
            created_at: t.7,
            project_key: t.8,
            project_name: t.9,
            project_description: t.10,
            project_public: t.11 != 0,
        })
        .collect())
}

impl Store {
    /// Refreshes PostgreSQL's planner statistics now. Autovacuum does it within about a minute
    /// of a bulk change; a benchmark that seeds thousands of rows and measures at once calls
    /// this so it measures the plans a running server has. (SQLite's plans for these lists are
    /// fixed by the statements themselves.)
    pub async fn refresh_statistics(&self) -> StoreResult<()> {
        if let super::Db::Postgres(p) = &self.db {
            sqlx::query("ANALYZE").execute(p).await?;
        }
        Ok(())
    }

    /// The repositories the principal may reach (`v`) that match `f`, by project key and slug.
    pub async fn visible_repositories(
        &self,
        v: &RepoVisibility,
        f: &RepoFilter<'_>,
        w: Window,
    ) -> StoreResult<Vec<Repository>> {
        // A page is cached under the list generation: every change that could alter it writes
        // an event or invalidates, which drops it on this node before the change answers, and on
        // other nodes when their listener hears of it (as for every other cached answer).
        let key = repo_query(v, f, w);
        let (now, generation) = (self.now(), self.cache.list_generation());
        if let Some(hit) = self.cache.repo_pages.get(&key, generation, now) {
            return Ok(hit);
        }
        let (sql, binds) = &key;
        let page = if let super::Db::Sqlite(p, _) = &self.db {
            sqlite_page(p, sql, binds).await?
        } else {
            on_pool!(self, |p| {
                let mut q = sqlx::query_as(sql);
                for b in binds {
                    q = q.bind(b);
                }
                let rows: Vec<Repository> = q.fetch_all(p).await?;
                rows
            })
        };
        self.cache
            .repo_pages
            .put(key, page.clone(), generation, now);
        Ok(page)
    }

    /// The projects the principal may see whose name contains `name`, by key.
    pub async fn visible_projects(
        &self,
        v: &ProjectVisibility,
        name: Option<&str>,
        w: Window,
    ) -> StoreResult<Vec<Project>> {
        let (sql, binds) = project_query(v, name, w);
        on_pool!(self, |p| {
            let mut q = sqlx::query_as(&sql);
            for b in &binds {
                q = q.bind(b);
            }
            let rows: Vec<Project> = q.fetch_all(p).await?;
            Ok(rows)
        })
    }
}
