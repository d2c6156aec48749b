//! Lists of projects and repositories filtered by what a principal may see and paged in the
//! database. What may be seen arrives as `domain::visibility` sets (decided by `authorize()`);
//! this file only turns them into SQL. Ids are numbers and are written into the statement as
//! such; text filters are bound.

use super::projects::{PROJECT_SELECT, REPO_SELECT};
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

const READABLE_BY_ANYONE: &str = "(r.public OR p.public)";
const HOLDS_PUBLIC_REPO: &str =
    "EXISTS (SELECT 1 FROM repositories pr WHERE pr.project_id = p.id AND pr.public)";

fn id_list(ids: impl Iterator<Item = i64>) -> String {
    ids.map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

/// `column IN (ids)` for the ids whose reach is `want`, if any.
fn members(column: &str, all: &[(i64, Reach)], want: Reach) -> Option<String> {
    let ids: Vec<i64> = all
        .iter()
        .filter(|(_, r)| *r == want)
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
        parts.extend(members(column, all, Reach::Everything));
        if let Some(m) = members(column, all, Reach::Public) {
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
    let everything = v.others == Reach::Everything && v.restriction.is_none();
    let sql = if everything || f.project_id.is_some() {
        // Walks the (key) and (project, slug) indexes in order and stops at the page's end.
        format!("{REPO_SELECT} WHERE {} {page}", conditions.join(" AND "))
    } else {
        // Starts from the few repositories the principal reaches (each set found by an index),
        // so the cost follows what is visible, not how many repositories exist.
        let sets = visible_sets(v);
        let from = REPO_SELECT.replacen(
            "FROM repositories r JOIN projects p ON p.id = r.project_id",
            &format!("FROM ({sets}) v CROSS JOIN repositories r CROSS JOIN projects p"),
            1,
        );
        format!(
            "{from} WHERE r.id = v.id AND p.id = r.project_id AND {} {page}",
            conditions.join(" AND ")
        )
    };
    (sql, binds)
}

/// The ids of the repositories the principal may reach, as a UNION of indexed lookups (the
/// full condition is applied again to the rows they lead to).
fn visible_sets(v: &RepoVisibility) -> String {
    let mut sets = Vec::new();
    if v.others == Reach::Public {
        sets.push("SELECT id FROM repositories WHERE public".to_string());
        sets.push(
            "SELECT rp.id FROM projects pp JOIN repositories rp ON rp.project_id = pp.id WHERE pp.public"
                .to_string(),
        );
    }
    let projects: Vec<i64> = v
        .projects
        .iter()
        .filter(|(_, r)| *r != Reach::Nothing)
        .map(|(i, _)| *i)
        .collect();
    if !projects.is_empty() {
        let ids = id_list(projects.into_iter());
        sets.push(format!(
            "SELECT id FROM repositories WHERE project_id IN ({ids})"
        ));
    }
    let repos: Vec<i64> = v
        .repos
        .iter()
        .filter(|(_, r)| *r != Reach::Nothing)
        .map(|(i, _)| *i)
        .collect();
    if !repos.is_empty() {
        let ids = id_list(repos.into_iter());
        sets.push(format!("SELECT id FROM repositories WHERE id IN ({ids})"));
    }
    if sets.is_empty() {
        "SELECT id FROM repositories WHERE FALSE".into()
    } else {
        sets.join(" UNION ")
    }
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

impl Store {
    /// The repositories the principal may reach (`v`) that match `f`, by project key and slug.
    pub async fn visible_repositories(
        &self,
        v: &RepoVisibility,
        f: &RepoFilter<'_>,
        w: Window,
    ) -> StoreResult<Vec<Repository>> {
        let (sql, binds) = repo_query(v, f, w);
        on_pool!(self, p => {
            let mut q = sqlx::query_as(&sql);
            for b in &binds {
                q = q.bind(b);
            }
            let rows: Vec<Repository> = q.fetch_all(p).await?;
            Ok(rows)
        })
    }

    /// The projects the principal may see whose name contains `name`, by key.
    pub async fn visible_projects(
        &self,
        v: &ProjectVisibility,
        name: Option<&str>,
        w: Window,
    ) -> StoreResult<Vec<Project>> {
        let (sql, binds) = project_query(v, name, w);
        on_pool!(self, p => {
            let mut q = sqlx::query_as(&sql);
            for b in &binds {
                q = q.bind(b);
            }
            let rows: Vec<Project> = q.fetch_all(p).await?;
            Ok(rows)
        })
    }
}
