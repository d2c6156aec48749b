//! Bitbucket paging: `?start=&limit=` in, `{size, limit, isLastPage, values, start, nextPageStart}` out.

use super::error::ApiError;
use crate::store::PageRequest;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const DEFAULT_LIMIT: i64 = 25;

/// Paging parameters. They are often `#[serde(flatten)]`ed into a handler's own parameters, which
/// hands them over as strings, so both strings and numbers are accepted.
#[derive(Debug, Default, Deserialize)]
pub struct PageParams {
    #[serde(default, deserialize_with = "number_or_string")]
    pub start: Option<i64>,
    #[serde(default, deserialize_with = "number_or_string")]
    pub limit: Option<i64>,
}

fn number_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        N(i64),
        S(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::N(n)) => Ok(Some(n)),
        Some(Raw::S(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("'{s}' is not a whole number"))),
    }
}

impl PageParams {
    pub fn request(&self) -> Result<PageRequest, ApiError> {
        let start = self.start.unwrap_or(0);
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if start < 0 {
            return Err(ApiError::bad_request("start must be 0 or more.").with_context("start"));
        }
        if !(1..=PageRequest::MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_request(format!(
                "limit must be between 1 and {}.",
                PageRequest::MAX_LIMIT
            ))
            .with_context("limit"));
        }
        Ok(PageRequest { start, limit })
    }
}

/// The rows to ask the store for: the page, and one more to learn whether more follow.
pub fn window(req: PageRequest) -> crate::store::Window {
    crate::store::Window {
        start: req.start,
        limit: req.limit + 1,
    }
}

/// A page, serialized straight from typed values (lists are hot: no `Value` in between).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TypedPage<V> {
    size: i64,
    limit: i64,
    is_last_page: bool,
    values: Vec<V>,
    start: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_start: Option<i64>,
}

impl<V> TypedPage<V> {
    /// One page of `values` starting at `req.start`; `more` if rows follow.
    fn new(req: PageRequest, values: Vec<V>, more: bool) -> Self {
        let size = values.len() as i64;
        TypedPage {
            size,
            limit: req.limit,
            is_last_page: !more,
            values,
            start: req.start,
            next_page_start: more.then_some(req.start + size),
        }
    }
}

/// The rows fetched for `window(req)`, cut to the page, and whether more follow.
pub struct Paged<T> {
    pub rows: Vec<T>,
    req: PageRequest,
    more: bool,
}

pub fn paged<T>(req: PageRequest, mut rows: Vec<T>) -> Paged<T> {
    let more = rows.len() as i64 > req.limit;
    rows.truncate(req.limit as usize);
    Paged { rows, req, more }
}

impl<T> Paged<T> {
    /// Where the next page starts, when more rows follow.
    pub fn next_start(&self) -> Option<i64> {
        self.more.then_some(self.req.start + self.rows.len() as i64)
    }

    /// Where the previous page starts, when this is not the first.
    pub fn prev_start(&self) -> Option<i64> {
        (self.req.start > 0).then(|| (self.req.start - self.req.limit).max(0))
    }

    /// The JSON answer, with `values` rendered from `rows` in order.
    pub fn respond<V: Serialize>(&self, values: Vec<V>) -> axum::response::Response {
        use axum::response::IntoResponse;
        axum::Json(TypedPage::new(self.req, values, self.more)).into_response()
    }
}

/// Pages an already filtered list.
pub fn page<T: Serialize>(req: PageRequest, items: Vec<T>) -> Value {
    let (values, more) = req.slice(items);
    page_of(req, values, more)
}

/// Builds the page body from one page of values and whether more follow.
pub fn page_of<T: Serialize>(req: PageRequest, values: Vec<T>, more: bool) -> Value {
    serde_json::to_value(TypedPage::new(req, values, more)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shape() {
        let req = PageRequest { start: 0, limit: 2 };
        let body = page(req, vec![1, 2, 3]);
        assert_eq!(
            body,
            json!({"size": 2, "limit": 2, "isLastPage": false, "values": [1, 2], "start": 0, "nextPageStart": 2})
        );
        let last = page(PageRequest { start: 2, limit: 2 }, vec![1, 2, 3]);
        assert_eq!(
            last,
            json!({"size": 1, "limit": 2, "isLastPage": true, "values": [3], "start": 2})
        );
    }

    #[test]
    fn limits() {
        assert!(PageParams {
            start: Some(-1),
            limit: None
        }
        .request()
        .is_err());
        assert!(PageParams {
            start: None,
            limit: Some(0)
        }
        .request()
        .is_err());
        assert!(PageParams {
            start: None,
            limit: Some(1001)
        }
        .request()
        .is_err());
        assert_eq!(
            PageParams::default().request().unwrap(),
            PageRequest {
                start: 0,
                limit: 25
            }
        );
    }
}
