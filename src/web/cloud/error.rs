//! Errors on the `/2.0` surface in Bitbucket Cloud's shape,
//! `{"type": "error", "error": {"message", "detail"?, "fields"?}}` plus Junction's `code`. Every
//! error is made once as an `ApiError` (the one mapping, `web/error.rs`) and re-shaped here, so
//! extractor rejections and authentication failures read the same as handler errors.

use crate::domain::connect_scopes::ConnectScopes;
use crate::domain::Denial;
use crate::services::host::HostError;
use crate::web::error::ApiError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The code of a refusal for want of a scope; its `context` is the scope.
pub const SCOPE_MISSING: &str = "SCOPE_MISSING";

pub fn is_cloud_path(path: &str) -> bool {
    path == "/2.0" || path.starts_with("/2.0/")
}

/// A host error as `/2.0` says it: a call beyond the credential's scopes names the Connect scope
/// that would allow it (Bitbucket only says "lack one or more required privilege scopes").
pub fn from_host(e: HostError) -> ApiError {
    if let HostError::Denied {
        denial: Denial::BeyondScope {
            needs: Some(cap), ..
        },
        ..
    } = &e
    {
        if let Some(scope) = ConnectScopes::granting(*cap) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                SCOPE_MISSING,
                format!(
                    "Your credentials lack one or more required privilege scopes: this needs the {} scope.",
                    scope.as_str()
                ),
            )
            .with_context(scope.as_str());
        }
    }
    ApiError::from(e)
}

/// The Cloud body of an error.
pub fn body(e: &ApiError) -> Value {
    let mut error = json!({ "message": e.message, "code": e.exception });
    match (&e.context, e.exception) {
        (Some(scope), SCOPE_MISSING) => error["detail"] = json!({ "required": [scope] }),
        (Some(field), _) => error["fields"] = json!({ field: [e.message] }),
        (None, _) => {}
    }
    json!({ "type": "error", "error": error })
}

/// An `ApiError` answered in the Cloud shape, with its status and headers.
pub struct CloudError(pub ApiError);

impl From<HostError> for CloudError {
    fn from(e: HostError) -> Self {
        CloudError(from_host(e))
    }
}

impl From<ApiError> for CloudError {
    fn from(e: ApiError) -> Self {
        CloudError(e)
    }
}

impl IntoResponse for CloudError {
    fn into_response(self) -> Response {
        let body = body(&self.0);
        let mut dc = self.0.into_response();
        let headers = std::mem::take(dc.headers_mut());
        let mut resp = (dc.status(), axum::Json(body)).into_response();
        for (name, value) in headers.iter() {
            if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
                resp.headers_mut().insert(name.clone(), value.clone());
            }
        }
        resp
    }
}

pub type CloudResult<T> = Result<T, CloudError>;

/// Re-shapes Data Center error bodies (from extractors and fallbacks) on `/2.0` routes.
pub async fn cloud_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    if resp.status().as_u16() < 400 {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let reshaped = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| {
        let first = v.get("errors")?.get(0)?.clone();
        Some(json!({ "type": "error", "error": {
            "message": first.get("message").cloned().unwrap_or(Value::Null),
            "code": first.get("exceptionName").cloned().unwrap_or(Value::Null),
        }}))
    });
    match reshaped {
        Some(v) => {
            let text = v.to_string();
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Response::from_parts(parts, Body::from(text))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}
