//! Bitbucket Cloud's Code Insights: `…/commit/{node}/reports[/{report}[/annotations]]`, over
//! the same host operations as Data Center's `/rest/insights/1.0`.

use super::{CloudPage, CloudResult, PageQuery};
use crate::clock::iso8601;
use crate::domain::code_insights::{AnnotationInput, ReportInput};
use crate::services::host::code_insights::{self as insights, ReportAt};
use crate::store::code_insights::{Annotation, Report};
use crate::web::auth::Caller;
use crate::web::extract::Query;
use crate::web::json::Json as JsonBody;
use crate::web::state::AppState;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub struct CommitPath {
    workspace: String,
    repo_slug: String,
    node: String,
}

#[derive(Deserialize)]
pub struct ReportPath {
    workspace: String,
    repo_slug: String,
    node: String,
    report: String,
}

impl ReportPath {
    async fn names(&self, state: &AppState, caller: &Caller) -> CloudResult<(String, String)> {
        super::paths::names(state, caller, &self.workspace, &self.repo_slug).await
    }

    /// The report, in the repository `names` resolved.
    fn at<'a>(&'a self, names: &'a (String, String)) -> ReportAt<'a> {
        ReportAt {
            key: &names.0,
            slug: &names.1,
            commit: &self.node,
            report: &self.report,
        }
    }
}

fn report_json(state: &AppState, r: &Report) -> Value {
    let payloads = state.webhooks.payloads();
    json!({
        "type": "report",
        "uuid": payloads.uuid("report", r.id),
        "external_id": r.report_key,
        "title": r.title,
        "details": r.details,
        "report_type": r.report_type,
        "reporter": r.reporter,
        "link": r.link,
        "logo_url": r.logo_url,
        "remote_link_enabled": r.link.is_some(),
        "result": r.result,
        "data": serde_json::from_str::<Value>(&r.data).unwrap_or(Value::Array(Vec::new())),
        "created_on": iso8601(r.created_at),
        "updated_on": iso8601(r.updated_at),
    })
}

fn annotation_json(state: &AppState, a: &Annotation) -> Value {
    let payloads = state.webhooks.payloads();
    json!({
        "type": "report_annotation",
        "uuid": payloads.uuid("annotation", a.id),
        "external_id": a.external_id,
        "annotation_type": a.annotation_type,
        "path": a.path,
        "line": a.line,
        "summary": a.message,
        "details": a.details,
        "result": a.result,
        "severity": a.severity,
        "link": a.link,
        "created_on": iso8601(a.created_at),
        "updated_on": iso8601(a.created_at),
    })
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<CommitPath>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> CloudResult<Json<Value>> {
    let page = CloudPage::parse(&q)?;
    let (key, slug) = super::paths::names(&state, &caller, &p.workspace, &p.repo_slug).await?;
    let at = ReportAt {
        key: &key,
        slug: &slug,
        commit: &p.node,
        report: "",
    };
    let (_, all) = insights::list(&state.host(), &caller.principal(), at).await?;
    let values = all.iter().map(|r| report_json(&state, r)).collect();
    Ok(Json(page.slice(&state.base_url, &uri, values)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<ReportPath>,
) -> CloudResult<Json<Value>> {
    let names = p.names(&state, &caller).await?;
    let at = p.at(&names);
    let (_, r) = insights::get(&state.host(), &caller.principal(), at).await?;
    Ok(Json(report_json(&state, &r)))
}

pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<ReportPath>,
    JsonBody(b): JsonBody<ReportInput>,
) -> CloudResult<Json<Value>> {
    let names = p.names(&state, &caller).await?;
    let at = p.at(&names);
    let (_, r) = insights::put(&state.host(), &caller.principal(), at, b).await?;
    Ok(Json(report_json(&state, &r)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<ReportPath>,
) -> CloudResult<StatusCode> {
    let names = p.names(&state, &caller).await?;
    let at = p.at(&names);
    insights::delete(&state.host(), &caller.principal(), at).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST …/annotations`: a batch (an array); answers the annotations added.
pub async fn annotate(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<ReportPath>,
    JsonBody(batch): JsonBody<Vec<AnnotationInput>>,
) -> CloudResult<Json<Value>> {
    let names = p.names(&state, &caller).await?;
    let at = p.at(&names);
    let (host, who) = (state.host(), caller.principal());
    let added = insights::annotate(&host, &who, at, batch).await?;
    let (_, _, all) = insights::annotations(&host, &who, at).await?;
    let new = all[all.len() - added..]
        .iter()
        .map(|a| annotation_json(&state, a))
        .collect();
    Ok(Json(Value::Array(new)))
}

pub async fn annotations(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<ReportPath>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> CloudResult<Json<Value>> {
    let page = CloudPage::parse(&q)?;
    let names = p.names(&state, &caller).await?;
    let at = p.at(&names);
    let (_, _, all) = insights::annotations(&state.host(), &caller.principal(), at).await?;
    let values = all.iter().map(|a| annotation_json(&state, a)).collect();
    Ok(Json(page.slice(&state.base_url, &uri, values)))
}
