//! Extractors whose rejections are REST errors in Bitbucket's shape, in a person's words: which
//! parameter is wrong and why, never the words of serde or axum.

use super::error::ApiError;
use super::json::wanted;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path as AxumPath};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or("");
        let pairs = url::form_urlencoded::parse(raw.as_bytes());
        let de = serde_urlencoded::Deserializer::new(pairs);
        serde_path_to_error::deserialize::<_, T>(de)
            .map(Query)
            .map_err(|e| {
                let msg = e.inner().to_string();
                let mut name = e.path().to_string();
                if name == "." {
                    // Behind `#[serde(flatten)]` the path is lost: the key is the one whose
                    // value is quoted in the message, or the one that is not the number the
                    // message asks for.
                    let quoted = msg.split(['"', '\'']).nth(1);
                    let numeric = ["digit", "integer", "whole number"]
                        .iter()
                        .any(|w| msg.contains(w));
                    let pairs = url::form_urlencoded::parse(raw.as_bytes());
                    let culprit = pairs.into_iter().find(|(_, v)| {
                        quoted.is_some_and(|q| q == v) || (numeric && v.parse::<i64>().is_err())
                    });
                    if let Some((k, _)) = culprit {
                        name = k.into_owned();
                    }
                }
                query_error(&name, &msg)
            })
    }
}

/// A query parameter's problem, from serde_urlencoded's description of it.
fn query_error(name: &str, msg: &str) -> ApiError {
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let field = rest.trim_end_matches('`');
        return ApiError::bad_request(format!("The query parameter {field} is required."))
            .with_context(field.to_string());
    }
    let must = if ["digit", "integer", "number"]
        .iter()
        .any(|w| msg.contains(w))
    {
        "a whole number"
    } else if msg.contains("true") && msg.contains("false") {
        "true or false"
    } else if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let value = rest.split('`').next().unwrap_or(rest);
        return ApiError::bad_request(format!("The query parameter {name} cannot be {value:?}."))
            .with_context(name.to_string());
    } else {
        "something else"
    };
    ApiError::bad_request(format!("The query parameter {name} must be {must}."))
        .with_context(name.to_string())
}

pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        AxumPath::<T>::from_request_parts(parts, state)
            .await
            .map(|AxumPath(v)| Path(v))
            .map_err(path_error)
    }
}

fn path_error(r: PathRejection) -> ApiError {
    let PathRejection::FailedToDeserializePathParams(e) = r else {
        return ApiError::bad_request("This URL is not one this server serves.");
    };
    let message = match e.kind() {
        ErrorKind::ParseErrorAtKey {
            key,
            value,
            expected_type,
        } => format!(
            "{key} in the URL must be {}, not {value:?}.",
            wanted(expected_type)
        ),
        ErrorKind::ParseErrorAtIndex {
            value,
            expected_type,
            ..
        }
        | ErrorKind::ParseError {
            value,
            expected_type,
        } => format!(
            "The URL has {value:?} where {} belongs.",
            wanted(expected_type)
        ),
        ErrorKind::InvalidUtf8InPathParam { key } => {
            format!("{key} in the URL is not valid UTF-8 text.")
        }
        _ => "This URL is not one this server serves.".to_string(),
    };
    ApiError::bad_request(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_problems_are_said_plainly() {
        let e = query_error("limit", "invalid digit found in string");
        assert_eq!(
            e.message,
            "The query parameter limit must be a whole number."
        );
        assert_eq!(e.context.as_deref(), Some("limit"));
        let e = query_error(".", "missing field `name`");
        assert_eq!(e.message, "The query parameter name is required.");
    }
}
