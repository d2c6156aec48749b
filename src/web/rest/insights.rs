//! Data Center's Code Insights (`/rest/insights/1.0/projects/{key}/repos/{slug}/commits/
//! {commit}/reports[/{report}[/annotations]]`), over the same host operations as Cloud's.

use crate::domain::code_insights::{AnnotationInput, ReportInput, ReportResult};
use crate::services::host::code_insights::{self as insights, ReportAt};
use crate::store::code_insights::{Annotation, Report};
use crate::web::auth::Caller;
use crate::web::error::ApiResult;
use crate::web::extract::{Path, Query};
use crate::web::json::Json as JsonBody;
use crate::web::paging::{page, PageParams};
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

type CommitPath = (String, String, String);
type ReportPath = (String, String, String, String);

/// The report a path names.
fn at((key, slug, commit, report): &ReportPath) -> ReportAt<'_> {
    ReportAt {
        key,
        slug,
        commit,
        report,
    }
}

fn report_json(r: &Report) -> Value {
    json!({
        "key": r.report_key,
        "title": r.title,
        "details": r.details,
        "result": r.result.as_deref().and_then(ReportResult::parse).and_then(ReportResult::data_center),
        "reporter": r.reporter,
        "link": r.link,
        "logoUrl": r.logo_url,
        "data": serde_json::from_str::<Value>(&r.data).unwrap_or(Value::Array(Vec::new())),
        "createdDate": r.created_at,
    })
}

fn annotation_json(r: &Report, a: &Annotation) -> Value {
    json!({
        "reportKey": r.report_key,
        "externalId": a.external_id,
        "path": a.path,
        "line": a.line,
        "message": a.message,
        "severity": a.severity,
        "type": a.annotation_type,
        "link": a.link,
    })
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug, commit)): Path<CommitPath>,
    Query(q): Query<PageParams>,
) -> ApiResult<Json<Value>> {
    let req = q.request()?;
    let at = ReportAt {
        key: &key,
        slug: &slug,
        commit: &commit,
        report: "",
    };
    let (_, all) = insights::list(&state.host(), &caller.principal(), at).await?;
    Ok(Json(page(req, all.iter().map(report_json).collect())))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<ReportPath>,
) -> ApiResult<Json<Value>> {
    let at = at(&p);
    let (_, r) = insights::get(&state.host(), &caller.principal(), at).await?;
    Ok(Json(report_json(&r)))
}

pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<ReportPath>,
    JsonBody(b): JsonBody<ReportInput>,
) -> ApiResult<Json<Value>> {
    let at = at(&p);
    let (_, r) = insights::put(&state.host(), &caller.principal(), at, b).await?;
    Ok(Json(report_json(&r)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<ReportPath>,
) -> ApiResult<StatusCode> {
    let at = at(&p);
    insights::delete(&state.host(), &caller.principal(), at).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct Batch {
    #[serde(default)]
    annotations: Vec<AnnotationInput>,
}

pub async fn annotate(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<ReportPath>,
    JsonBody(b): JsonBody<Batch>,
) -> ApiResult<StatusCode> {
    let at = at(&p);
    insights::annotate(&state.host(), &caller.principal(), at, b.annotations).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn annotations(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<ReportPath>,
) -> ApiResult<Json<Value>> {
    let at = at(&p);
    let (_, r, all) = insights::annotations(&state.host(), &caller.principal(), at).await?;
    let values: Vec<Value> = all.iter().map(|a| annotation_json(&r, a)).collect();
    Ok(Json(
        json!({ "totalCount": values.len(), "annotations": values }),
    ))
}
