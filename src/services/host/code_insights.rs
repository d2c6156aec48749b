//! Code Insights reports and annotations, for Bitbucket Cloud's `…/commit/{c}/reports` and
//! Data Center's `/rest/insights/1.0/…/commits/{c}/reports`, and the pull request page.
//! Posting needs to read the repository; replacing or deleting someone else's report, or
//! annotating it, needs to administer it (`Action::{PostCommitStatus, ReplaceCommitStatus}`,
//! the build statuses' rules).

use super::{browse, repositories, Host, HostError, HostResult, Missing, Principal};
use crate::domain::code_insights::{self, AnnotationInput, ReportInput, ANNOTATIONS_PER_REPORT};
use crate::domain::Action;
use crate::store::code_insights::{Added, Annotation, Report};
use crate::store::Repository;

/// Where a report is: repository names, a commit (any revision naming one), the report key.
#[derive(Clone, Copy)]
pub struct ReportAt<'a> {
    pub key: &'a str,
    pub slug: &'a str,
    pub commit: &'a str,
    pub report: &'a str,
}

fn invalid((field, message): code_insights::Refusal) -> HostError {
    HostError::Invalid { field, message }
}

async fn commit_in(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ReportAt<'_>,
) -> HostResult<(Repository, String)> {
    let repo = repositories::find(host, who, at.key, at.slug, Action::ViewRepo).await?;
    let commit = browse::resolve(host, &repo, Some(at.commit)).await?;
    Ok((repo, commit))
}

fn missing(at: ReportAt<'_>) -> HostError {
    HostError::NotFound(Missing::Report(at.report.to_string()))
}

/// Changing an existing report: its author, or a repository administrator.
fn may_change(who: &Principal<'_>, repo: &Repository, r: &Report) -> HostResult<()> {
    let me = who.user()?.id;
    who.check_repo_with(repo, Action::ReplaceCommitStatus, |f| {
        f.author = r.created_by == Some(me)
    })
}

/// Creates or replaces the report (a replaced report's annotations go with it).
pub async fn put(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ReportAt<'_>,
    input: ReportInput,
) -> HostResult<(Repository, Report)> {
    let me = who.user()?;
    let (repo, commit) = commit_in(host, who, at).await?;
    who.check_repo(&repo, Action::PostCommitStatus)?;
    if at.report.is_empty() || at.report.chars().count() > 255 {
        return Err(HostError::Invalid {
            field: "reportKey",
            message: "A report key is 1 to 255 characters.".into(),
        });
    }
    let report = input.validate().map_err(invalid)?;
    if let Some(existing) = host.store.code_report(repo.id, &commit, at.report).await? {
        may_change(who, &repo, &existing)?;
    }
    let target = format!("{}/{}@{}", repo.project_key, repo.slug, &commit[..12]);
    let audit = who.audit("code_report.saved", &target, at.report);
    let saved = host
        .store
        .put_code_report((repo.id, &commit, at.report), &report, me.id, Some(&audit))
        .await?;
    Ok((repo, saved))
}

pub async fn get(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ReportAt<'_>,
) -> HostResult<(Repository, Report)> {
    let (repo, commit) = commit_in(host, who, at).await?;
    let r = host.store.code_report(repo.id, &commit, at.report).await?;
    r.map(|r| (repo, r)).ok_or_else(|| missing(at))
}

pub async fn list(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ReportAt<'_>,
) -> HostResult<(Repository, Vec<Report>)> {
    let (repo, commit) = commit_in(host, who, at).await?;
    let all = host.store.code_reports(repo.id, &commit).await?;
    Ok((repo, all))
}

pub async fn delete(host: &Host<'_>, who: &Principal<'_>, at: ReportAt<'_>) -> HostResult<()> {
    let (repo, r) = get(host, who, at).await?;
    may_change(who, &repo, &r)?;
    let target = format!("{}/{}", repo.project_key, repo.slug);
    let audit = who.audit("code_report.deleted", &target, at.report);
    host.store.delete_code_report(r.id, Some(&audit)).await?;
    Ok(())
}

/// Adds a batch of annotations to the report (its author or a repository administrator).
pub async fn annotate(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ReportAt<'_>,
    batch: Vec<AnnotationInput>,
) -> HostResult<usize> {
    let (repo, r) = get(host, who, at).await?;
    may_change(who, &repo, &r)?;
    let batch = code_insights::annotations(batch).map_err(invalid)?;
    let target = format!("{}/{}", repo.project_key, repo.slug);
    let audit = who.audit("code_report.annotated", &target, at.report);
    match host
        .store
        .add_code_annotations(r.id, &batch, ANNOTATIONS_PER_REPORT, Some(&audit))
        .await?
    {
        Added::Added(n) => Ok(n),
        Added::Full(max) => Err(HostError::Invalid {
            field: "annotations",
            message: format!(
                "A report holds at most {max} annotations; this batch would pass that."
            ),
        }),
    }
}

pub async fn annotations(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ReportAt<'_>,
) -> HostResult<(Repository, Report, Vec<Annotation>)> {
    let (repo, r) = get(host, who, at).await?;
    let all = host.store.code_annotations(r.id).await?;
    Ok((repo, r, all))
}

/// A pull request's source commit's reports with their annotation counts (the page's
/// "Reports"), for someone who has read the pull request.
pub async fn of_pull_request(
    host: &Host<'_>,
    v: &super::pulls::PullRequestView,
) -> HostResult<Vec<(Report, i64)>> {
    let Ok(commit) = browse::resolve(host, &v.repo, Some(&v.pr.from_ref)).await else {
        return Ok(Vec::new());
    };
    let reports = host.store.code_reports(v.repo.id, &commit).await?;
    let ids: Vec<i64> = reports.iter().map(|r| r.id).collect();
    let counts = host.store.code_annotation_counts(&ids).await?;
    Ok(reports
        .into_iter()
        .map(|r| {
            let n = counts
                .iter()
                .find(|(id, _)| *id == r.id)
                .map_or(0, |(_, n)| *n);
            (r, n)
        })
        .collect())
}
