//! A JSON body extractor whose rejections are clear 4xx answers in the REST error shape.

use super::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "com.atlassian.bitbucket.rest.UnsupportedMediaTypeException",
            "Send the request body as JSON with the header Content-Type: application/json.",
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(format!(
            "The request body is not valid JSON: {}",
            e.body_text()
        )),
        JsonRejection::JsonDataError(e) => ApiError::bad_request(format!(
            "The request body does not have the expected fields or types: {}",
            e.body_text()
        )),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            too_large()
        }
        other => ApiError::bad_request(format!(
            "The request body could not be read: {}",
            other.body_text()
        )),
    }
}

pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "com.atlassian.bitbucket.rest.RequestTooLargeException",
        "The request body is larger than this server accepts (server.max_body_bytes).",
    )
}
