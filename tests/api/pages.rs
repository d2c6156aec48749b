//! A browser-like client of one test server's pages: its own cookie jar, no redirects
//! followed, forms posted with the CSRF token the page carries.

use crate::harness::*;
use reqwest::{header, StatusCode};

/// A browser-like client with its own cookie jar.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            client,
            base: app.base.clone(),
        }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, header::HeaderMap, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status(), r.headers().clone(), r.text().await.unwrap())
    }

    pub async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, header::HeaderMap, String) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        (r.status(), r.headers().clone(), r.text().await.unwrap())
    }

    /// Posts a form the way the page would: with the CSRF token found on `page`.
    pub async fn submit(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, header::HeaderMap, String) {
        let (_, _, html) = self.get(page).await;
        let csrf = csrf_of(&html);
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.post(action, &form).await
    }

    pub async fn sign_in(
        &self,
        user: &str,
        password: &str,
    ) -> (StatusCode, header::HeaderMap, String) {
        let (_, _, html) = self.get("/login?next=/projects/P").await;
        let csrf = csrf_of(&html);
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("next", "/projects/P"),
                ("username", user),
                ("password", password),
            ],
        )
        .await
    }
}
