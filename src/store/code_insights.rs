//! Code Insights reports and their annotations (`migrations/*/0015_code_insights.sql`).
//! Putting a report replaces it and drops its annotations, with the audit row, in one
//! transaction; annotations are added in batches up to the per-report limit.

use super::audit::write_audit;
use super::{on_pool, on_writer, Audited, BeginWrite, Store, StoreResult};
use crate::domain::code_insights::{ValidAnnotation, ValidReport};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Report {
    pub id: i64,
    pub repo_id: i64,
    pub commit_id: String,
    pub report_key: String,
    pub title: String,
    pub details: Option<String>,
    pub report_type: Option<String>,
    pub reporter: Option<String>,
    pub link: Option<String>,
    pub logo_url: Option<String>,
    pub result: Option<String>,
    /// JSON: `[{title, type, value}]`.
    pub data: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Annotation {
    pub id: i64,
    pub report_id: i64,
    pub external_id: Option<String>,
    pub path: Option<String>,
    pub line: Option<i64>,
    pub message: String,
    pub details: Option<String>,
    pub severity: String,
    pub annotation_type: Option<String>,
    pub result: Option<String>,
    pub link: Option<String>,
    pub created_at: i64,
}

const REPORT: &str = "id, repo_id, commit_id, report_key, title, details, report_type, reporter, \
    link, logo_url, result, data, created_by, created_at, updated_at";
const ANNOTATION: &str = "id, report_id, external_id, path, line, message, details, severity, \
    annotation_type, result, link, created_at";

/// Whether a batch fit the report.
pub enum Added {
    Added(usize),
    /// It would take the report past this many annotations.
    Full(i64),
}

impl Store {
    pub async fn code_report(
        &self,
        repo_id: i64,
        commit: &str,
        key: &str,
    ) -> StoreResult<Option<Report>> {
        on_pool!(self, |p| {
            let r: Option<Report> = sqlx::query_as(&format!(
                "SELECT {REPORT} FROM code_reports WHERE repo_id = $1 AND commit_id = $2 AND report_key = $3"
            ))
            .bind(repo_id)
            .bind(commit)
            .bind(key)
            .fetch_optional(p)
            .await?;
            Ok(r)
        })
    }

    /// A commit's reports, newest first.
    pub async fn code_reports(&self, repo_id: i64, commit: &str) -> StoreResult<Vec<Report>> {
        on_pool!(self, |p| {
            let r: Vec<Report> = sqlx::query_as(&format!(
                "SELECT {REPORT} FROM code_reports WHERE repo_id = $1 AND commit_id = $2
                 ORDER BY updated_at DESC, id DESC"
            ))
            .bind(repo_id)
            .bind(commit)
            .fetch_all(p)
            .await?;
            Ok(r)
        })
    }

    /// Creates or replaces the report `key` (a replaced report loses its annotations).
    pub async fn put_code_report(
        &self,
        (repo_id, commit, key): (i64, &str, &str),
        r: &ValidReport,
        by: i64,
        audit: Audited<'_>,
    ) -> StoreResult<Report> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM code_reports WHERE repo_id = $1 AND commit_id = $2 AND report_key = $3")
                .bind(repo_id)
                .bind(commit)
                .bind(key)
                .execute(&mut *tx)
                .await?;
            let report: Report = sqlx::query_as(&format!(
                "INSERT INTO code_reports (repo_id, commit_id, report_key, title, details, report_type,
                     reporter, link, logo_url, result, data, created_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
                 RETURNING {REPORT}"
            ))
            .bind(repo_id)
            .bind(commit)
            .bind(key)
            .bind(&r.title)
            .bind(&r.details)
            .bind(&r.report_type)
            .bind(&r.reporter)
            .bind(&r.link)
            .bind(&r.logo_url)
            .bind(r.result.map(|x| x.as_str()))
            .bind(&r.data)
            .bind(by)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(report)
        })
    }

    pub async fn delete_code_report(&self, id: i64, audit: Audited<'_>) -> StoreResult<bool> {
        self.execute_audited("DELETE FROM code_reports WHERE id = $1", &[id], audit)
            .await
    }

    /// Adds a batch, unless the report would hold more than `max`.
    pub async fn add_code_annotations(
        &self,
        report_id: i64,
        batch: &[ValidAnnotation],
        max: i64,
        audit: Audited<'_>,
    ) -> StoreResult<Added> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let (held,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM code_annotations WHERE report_id = $1")
                    .bind(report_id)
                    .fetch_one(&mut *tx)
                    .await?;
            if held + batch.len() as i64 > max {
                return Ok(Added::Full(max));
            }
            for a in batch {
                sqlx::query(
                    "INSERT INTO code_annotations (report_id, external_id, path, line, message, details,
                         severity, annotation_type, result, link, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(report_id)
                .bind(&a.external_id)
                .bind(&a.path)
                .bind(a.line)
                .bind(&a.message)
                .bind(&a.details)
                .bind(&a.severity)
                .bind(&a.annotation_type)
                .bind(&a.result)
                .bind(&a.link)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(Added::Added(batch.len()))
        })
    }

    pub async fn code_annotations(&self, report_id: i64) -> StoreResult<Vec<Annotation>> {
        on_pool!(self, |p| {
            let a: Vec<Annotation> = sqlx::query_as(&format!(
                "SELECT {ANNOTATION} FROM code_annotations WHERE report_id = $1 ORDER BY id"
            ))
            .bind(report_id)
            .fetch_all(p)
            .await?;
            Ok(a)
        })
    }

    /// How many annotations each of these reports holds.
    pub async fn code_annotation_counts(&self, report_ids: &[i64]) -> StoreResult<Vec<(i64, i64)>> {
        if report_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = report_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        on_pool!(self, |p| {
            let rows: Vec<(i64, i64)> = sqlx::query_as(&format!(
                "SELECT report_id, COUNT(*) FROM code_annotations WHERE report_id IN ({ids}) GROUP BY report_id"
            ))
            .fetch_all(p)
            .await?;
            Ok(rows)
        })
    }
}
