//! The application link pages' forms come back with their mistake next to the field and what
//! was typed kept (never a secret): the URL to discover, the incoming link without a URL, the
//! outgoing link, a link's edit and relocate forms.

use crate::harness::*;
use crate::pages::Browser;
use crate::remote::*;
use reqwest::StatusCode;
use serde_json::json;

const LIST: &str = "/admin/application-links";

async fn signed_in_admin(app: &TestApp) -> Browser {
    let b = Browser::new(app);
    b.sign_in("admin", ADMIN_PASSWORD).await;
    b
}

async fn a_url_that_does_not_answer_comes_back_on_the_list(app: TestApp) {
    let b = signed_in_admin(&app).await;
    let url = format!("http://127.0.0.1:{}", closed_port().await);
    let (status, _, html) = b
        .submit(LIST, &format!("{LIST}/discover"), &[("url", &url)])
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{html}");
    assert!(html.contains("id=\"url-error\""), "{html}");
    assert!(html.contains("refused"), "{html}");
    assert!(
        html.contains(&format!("value=\"{url}\" aria-invalid=\"true\"")),
        "{html}"
    );
}

async fn the_incoming_link_form_keeps_what_was_typed(app: TestApp) {
    let b = signed_in_admin(&app).await;
    let (status, _, html) = b
        .submit(
            LIST,
            LIST,
            &[
                ("name", "Build farm"),
                ("redirects", "ftp://ci.example.com/cb"),
                ("scope", "REPO_WRITE"),
                ("public", "true"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("id=\"client-error\""), "{html}");
    assert!(html.contains("value=\"Build farm\""), "{html}");
    assert!(
        html.contains(">ftp://ci.example.com/cb</textarea>"),
        "{html}"
    );
    assert!(html.contains("value=\"REPO_WRITE\" selected"), "{html}");
    assert!(html.contains("value=\"true\" checked"), "{html}");
    let clients = app.get("/rest/oauth2/latest/client", &admin()).await;
    assert_eq!(clients.body, json!([]), "nothing was created");
}

async fn the_outgoing_link_form_keeps_all_but_the_secret(app: TestApp) {
    let fake = FakeRemote::start(|_| (404, vec![], b"no".to_vec())).await;
    let b = signed_in_admin(&app).await;
    let (status, _, html) = b
        .submit(
            LIST,
            &format!("{LIST}/discover"),
            &[("url", fake.base.as_str())],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (status, _, html) = b
        .submit(
            LIST,
            &format!("{LIST}/new"),
            &[
                ("url", fake.base.as_str()),
                ("side", "outgoing"),
                ("name", "Remote"),
                ("preset", "custom"),
                ("client_id", "kept-id"),
                ("client_secret", "never-shown-again"),
                ("authorization_endpoint", "not a url"),
                ("token_endpoint", "https://remote.example.com/token"),
                ("scopes", "read"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("id=\"form-error\""), "{html}");
    assert!(html.contains("value=\"kept-id\""), "{html}");
    assert!(html.contains("value=\"Remote\""), "{html}");
    assert!(
        html.contains("value=\"not a url\" aria-invalid=\"true\""),
        "{html}"
    );
    assert!(
        !html.contains("never-shown-again"),
        "the secret is not sent back"
    );
    let links = app.get("/rest/junction/1.0/applinks", &admin()).await;
    assert_eq!(links.body, json!([]), "nothing was created");
}

async fn edit_and_relocate_keep_what_was_typed(app: TestApp) {
    let fake = FakeRemote::start(|_| (404, vec![], b"no".to_vec())).await;
    let made = app
        .post(
            "/rest/junction/1.0/applinks",
            &admin(),
            json!({"url": fake.base, "name": "Kept", "incoming": {"redirects": ["https://ci.example.com/cb"]}}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let page = format!("/admin/links/{}", made.body["id"].as_str().unwrap());
    let b = signed_in_admin(&app).await;
    let (status, _, html) = b
        .submit(
            &page,
            &format!("{page}/relocate"),
            &[("url", "jira.example.com")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("id=\"relocate-error\""), "{html}");
    assert!(
        html.contains("value=\"jira.example.com\" required aria-invalid=\"true\""),
        "{html}"
    );
    let (status, _, html) = b
        .submit(
            &page,
            &page,
            &[
                ("side", "edit"),
                ("url", fake.base.as_str()),
                ("name", "Renamed"),
                ("redirects", "ftp://nowhere.example.com/cb"),
                ("scope", "REPO_READ"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("value=\"Renamed\""), "{html}");
    assert!(
        html.contains("aria-invalid=\"true\" aria-describedby=\"form-error\">ftp://nowhere.example.com/cb</textarea>"),
        "{html}"
    );
    let link = app
        .get(
            &format!(
                "/rest/junction/1.0/applinks/{}",
                made.body["id"].as_str().unwrap()
            ),
            &admin(),
        )
        .await;
    assert_eq!(link.body["name"], "Kept", "nothing was changed");
    assert_eq!(link.body["rpcUrl"], fake.base.as_str());
}

async fn pairing_mistakes_come_back_on_their_forms(app: TestApp) {
    let fake = FakeRemote::start(|_| (404, vec![], b"no".to_vec())).await;
    let b = signed_in_admin(&app).await;
    // Starting: the other side is not a Junction server; back on the list, URL kept.
    let (status, _, html) = b
        .submit(
            LIST,
            &format!("{LIST}/pair-with"),
            &[("url", fake.base.as_str()), ("scope", "REPO_READ")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("is not a Junction server"), "{html}");
    assert!(html.contains(&format!("value=\"{}\"", fake.base)), "{html}");
    // Approving: a malformed pairing is said on the approval page, the scope kept.
    let (status, _, html) = b
        .submit(
            LIST,
            &format!("{LIST}/pair"),
            &[
                ("peer", app.base.as_str()),
                ("pairing", "malformed"),
                ("scope", "REPO_WRITE"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("The pairing request is malformed"), "{html}");
    assert!(html.contains("value=\"REPO_WRITE\" selected"), "{html}");
    let links = app.get("/rest/junction/1.0/applinks", &admin()).await;
    assert_eq!(links.body, json!([]), "nothing was created");
}

crate::both_backends!(
    spawn_linkable;
    a_url_that_does_not_answer_comes_back_on_the_list,
    the_incoming_link_form_keeps_what_was_typed,
    the_outgoing_link_form_keeps_all_but_the_secret,
    edit_and_relocate_keep_what_was_typed,
    pairing_mistakes_come_back_on_their_forms,
);
