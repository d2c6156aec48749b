//! A JSON body extractor whose rejections are clear 4xx answers in the REST error shape: which
//! field is wrong (its path in `context`) and why, in a person's words — never the words of
//! serde or axum.

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .is_some_and(|m| {
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "com.atlassian.bitbucket.rest.UnsupportedMediaTypeException",
                "Send the request body as JSON with the header Content-Type: application/json.",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::bad_request("The request body could not be read.")
            }
        })?;
        parse(&bytes).map(Json)
    }
}

/// Parses a JSON body, or says in plain words what is wrong with it and where.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            // serde reads an object from a list too (by position); a list where an object is
            // expected is said as such (an object is expected when `{}` is not the wrong kind).
            let list_body = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
            let wants_object = || match serde_json::from_slice::<T>(b"{}") {
                Ok(_) => true,
                Err(e) => !e.to_string().starts_with("invalid type: map"),
            };
            if list_body && inner.is_data() && wants_object() {
                return Err(ApiError::bad_request(
                    "The request body must be an object, not a list.",
                ));
            }
            Err(explain(&path, &inner))
        }
    }
}

fn explain(path: &str, e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    // Broken JSON has no field to blame.
    let field = (path != "." && e.is_data()).then(|| path.to_string());
    let message = match e.classify() {
        Category::Syntax | Category::Eof => format!(
            "The request body is not valid JSON (line {}, column {}).",
            e.line(),
            e.column()
        ),
        Category::Io => "The request body could not be read.".into(),
        Category::Data => data_error(field.as_deref(), &without_position(&e.to_string())),
    };
    let err = ApiError::bad_request(message);
    match field {
        Some(f) => err.with_context(f),
        None => err,
    }
}

/// serde's message without its " at line 1 column 12" tail.
fn without_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Turns serde's description of a data error into a sentence about the field.
fn data_error(field: Option<&str>, msg: &str) -> String {
    let subject = field.map_or_else(|| "The request body".to_string(), str::to_string);
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let name = rest.trim_end_matches('`');
        let full = field.map_or_else(|| name.to_string(), |f| format!("{f}.{name}"));
        return format!("{full} is required.");
    }
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        return format!("{name} is not a field here.");
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            if let Some((got, want)) = rest.split_once(", expected ") {
                return format!("{subject} must be {}, not {}.", wanted(want), given(got));
            }
        }
    }
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let value = rest.split('`').next().unwrap_or(rest);
        return format!("{subject} cannot be {value:?}.");
    }
    if msg.starts_with("invalid length") {
        return format!("{subject} has the wrong number of items.");
    }
    format!("{subject} is not valid here.")
}

/// What serde expected, as a person says it.
pub(super) fn wanted(want: &str) -> &'static str {
    let w = want.trim();
    if [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "usize", "isize",
    ]
    .iter()
    .any(|t| w.contains(t))
        || w.contains("integer")
    {
        "a whole number"
    } else if w.contains("f32") || w.contains("f64") || w.contains("number") {
        "a number"
    } else if w.contains("bool") {
        "true or false"
    } else if w.contains("string") || w.contains("char") {
        "text"
    } else if w.contains("sequence") || w.contains("Vec") || w.contains("tuple") {
        "a list"
    } else if w.contains("struct") || w.contains("map") {
        "an object"
    } else {
        "something else"
    }
}

/// What was sent, as a person says it.
fn given(got: &str) -> String {
    let g = got.trim();
    let quoted = |s: &str| s.split('`').nth(1).unwrap_or("").to_string();
    if g.starts_with("integer") || g.starts_with("floating point") {
        format!("the number {}", quoted(g))
    } else if let Some(s) = g.strip_prefix("string ") {
        format!("the text {s}")
    } else if g.starts_with("boolean") {
        quoted(g)
    } else if g == "null" || g == "unit value" {
        "null".into()
    } else if g == "sequence" {
        "a list".into()
    } else if g == "map" {
        "an object".into()
    } else {
        "that".into()
    }
}

pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "com.atlassian.bitbucket.rest.RequestTooLargeException",
        "The request body is larger than this server accepts (server.max_body_bytes).",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Body {
        key: Option<String>,
        count: Option<i64>,
        public: Option<bool>,
        from_ref: Option<Inner>,
        tags: Option<Vec<String>>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        id: String,
    }

    fn err(body: &str) -> (String, Option<String>) {
        let e = parse::<Body>(body.as_bytes()).unwrap_err();
        (e.message, e.context)
    }

    #[test]
    fn wrong_types_name_the_field_in_plain_words() {
        assert_eq!(
            err(r#"{"key": 5}"#),
            (
                "key must be text, not the number 5.".into(),
                Some("key".into())
            )
        );
        assert_eq!(
            err(r#"{"count": "x"}"#),
            (
                "count must be a whole number, not the text \"x\".".into(),
                Some("count".into())
            )
        );
        assert_eq!(
            err(r#"{"public": "yes"}"#).0,
            "public must be true or false, not the text \"yes\"."
        );
        assert_eq!(
            err(r#"{"tags": "a"}"#).0,
            "tags must be a list, not the text \"a\"."
        );
        assert_eq!(
            err(r#"{"fromRef": {"id": 7}}"#),
            (
                "fromRef.id must be text, not the number 7.".into(),
                Some("fromRef.id".into())
            )
        );
        assert_eq!(
            err(r#"{"fromRef": {}}"#),
            ("fromRef.id is required.".into(), Some("fromRef".into()))
        );
        assert_eq!(
            err(r#"[1, 2]"#),
            (
                "The request body must be an object, not a list.".into(),
                None
            )
        );
    }

    #[test]
    fn broken_json_says_where() {
        let (m, c) = err(r#"{"key": "#);
        assert!(
            m.starts_with("The request body is not valid JSON (line 1"),
            "{m}"
        );
        assert_eq!(c, None);
    }

    #[test]
    fn nothing_of_serde_or_axum_leaks() {
        for body in [
            r#"{"key": 5}"#,
            r#"[1]"#,
            r#"{"count": 1.5}"#,
            r#"{"count": -1e400}"#,
            "nope",
        ] {
            let (m, _) = err(body);
            for leak in [
                "Failed to deserialize",
                "expected struct",
                "`i64`",
                "invalid type",
                "serde",
            ] {
                assert!(!m.contains(leak), "{body}: {m}");
            }
        }
    }
}
