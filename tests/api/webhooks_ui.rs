//! The webhook pages, driven through their real forms: create with a generated secret (shown
//! once), deliveries and one delivery's attempts, send test event, errors on the form, the
//! notice an owner sees when Junction disables a hook, and one-click enable.

use crate::harness::{admin, TestApp, ADMIN_PASSWORD};
use crate::receiver::{eventually, ok, Receiver};
use crate::remote::Browser;
use crate::webhooks::{setup, touch_repo};
use junction::domain::webhooks::hub_signature;
use reqwest::StatusCode;
use std::time::Duration;

const PAGES: &str = "/projects/P/repos/r/settings/hooks";

/// The text of `<code class="secret">` after `label` on a page.
fn secret_after(html: &str, label: &str) -> String {
    let rest = &html[html.find(label).expect(label)..];
    let start = rest.find("<code class=\"secret\">").unwrap() + "<code class=\"secret\">".len();
    crate::remote::unescape(&rest[start..start + rest[start..].find("</code>").unwrap()])
}

/// The webhook pages driven through their real forms, in steps sharing the receiver, the
/// signed-in browser and the hook.
async fn webhooks_are_managed_through_the_pages(app: TestApp) {
    let app = &app;
    setup(app).await;
    // Answers 200 twice (the change, the test event), then 410 Gone.
    let rx = Receiver::start(
        |_, i| {
            if i < 2 {
                ok()
            } else {
                (410, vec![], "gone".into())
            }
        },
        Duration::ZERO,
    )
    .await;
    let b = Browser::default();
    b.sign_in(&app.base, "admin", ADMIN_PASSWORD).await;
    let repo_page = b.get(&format!("{}/projects/P/repos/r", app.base)).await;
    assert!(
        repo_page.body.contains(&format!("href=\"{PAGES}\"")),
        "admins see the Webhooks link"
    );
    let list = format!("{}{PAGES}", app.base);
    a_bad_url_keeps_the_form(&b, &list).await;
    let (id, hook_page) = created_with_a_secret_shown_once(app, &b, &rx, &list).await;
    test_event_disabling_and_enable(app, &b, &rx, id, &hook_page).await;
    edited_and_deleted(app, &b, &rx, id, &hook_page).await;
    // Someone who does not administer the repository gets no page.
    app.user("bob").await;
    app.grant("/rest/api/1.0/projects/P/repos/r", "bob", "REPO_READ")
        .await;
    let bob = Browser::default();
    bob.sign_in(&app.base, "bob", "bob-password").await;
    assert_eq!(bob.get(&list).await.status, StatusCode::FORBIDDEN);
}

/// A bad URL: the form again, with the reason, and nothing created.
async fn a_bad_url_keeps_the_form(b: &Browser, list: &str) {
    let bad = b
        .submit(
            list,
            PAGES,
            &[
                ("name", "ci"),
                ("url", "ftp://ci.example/"),
                ("events", "repo:updated"),
                ("active", "1"),
                ("secret_mode", "generate"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("must start with http:// or https://"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("No webhooks yet."));
}

/// Created with a generated secret, shown once; its delivery and attempts on the pages.
/// Returns the hook's id and page.
async fn created_with_a_secret_shown_once(
    app: &TestApp,
    b: &Browser,
    rx: &Receiver,
    list: &str,
) -> (i64, String) {
    let created = b
        .submit(
            list,
            PAGES,
            &[
                ("name", "ci"),
                ("url", &rx.url),
                ("events", "repo:updated"),
                ("active", "1"),
                ("secret_mode", "generate"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let secret = secret_after(&created.body, "Secret:");
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(
        secret_after(&created.body, "For Standard Webhooks libraries:"),
        junction::domain::webhooks::standard_secret(&secret)
    );
    assert!(created.body.contains("enabled"));
    // Shown once: the list does not show it again.
    let again = b.get(list).await;
    assert!(!again.body.contains(&secret));

    touch_repo(app, "from the pages").await;
    let got = rx.wait_for(1).await;
    assert_eq!(
        got[0].header("x-hub-signature"),
        hub_signature(&secret, &got[0].body)
    );

    let hooks = app
        .get("/rest/api/1.0/projects/P/repos/r/webhooks", &admin())
        .await;
    let id = hooks.body["values"][0]["id"].as_i64().unwrap();
    let hook_page = format!("{}{PAGES}/{id}", app.base);
    let page = eventually("the delivery on the hook page", || async {
        let p = b.get(&hook_page).await;
        p.body.contains("delivery-succeeded").then_some(p)
    })
    .await;
    assert!(
        page.body.contains("<code>repo:updated</code>"),
        "{}",
        page.body
    );
    let delivery_href = {
        let start = page
            .body
            .find(&format!("{PAGES}/{id}/deliveries/"))
            .unwrap();
        let end = start + page.body[start..].find('"').unwrap();
        page.body[start..end].to_string()
    };
    let d = b.get(&format!("{}{delivery_href}", app.base)).await;
    assert_eq!(d.status, StatusCode::OK);
    assert!(d.body.contains("Attempt 1: 200"), "{}", d.body);
    assert!(d.body.contains("x-hub-signature"));
    assert!(d.body.contains("from the pages"), "the body sent is shown");
    // The outcome comes first; the payload follows, folded away.
    let attempt = d.body.find("Attempt 1: 200").unwrap();
    let payload = d
        .body
        .find(r#"<details id="payload">"#)
        .expect("the payload, folded");
    assert!(attempt < payload);
    (id, hook_page)
}

/// Send test event; the receiver's 410 Gone disables the hook and the owner is told; one-click
/// enable.
async fn test_event_disabling_and_enable(
    app: &TestApp,
    b: &Browser,
    rx: &Receiver,
    id: i64,
    hook_page: &str,
) {
    // Send test event: back to the hook page, which lists it.
    let sent = b
        .submit(hook_page, &format!("{PAGES}/{id}/test"), &[])
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let page = b.get(hook_page).await;
    assert!(page.body.contains("<code>diagnostics:ping</code>"));

    // The receiver says 410 Gone: Junction disables the hook and tells the owner where they look.
    touch_repo(app, "gone").await;
    rx.wait_for(3).await;
    let repo_page = eventually("the notice on the repository page", || async {
        let p = b.get(&format!("{}/projects/P/repos/r", app.base)).await;
        p.body.contains("id=\"hook-trouble\"").then_some(p)
    })
    .await;
    assert!(repo_page.body.contains("410 Gone"), "{}", repo_page.body);
    let page = b.get(hook_page).await;
    assert!(page.body.contains("id=\"hook-notice\""));
    // The test event counts like any attempt: two delivered, one refused (the 410).
    assert!(
        page.body.contains(
            "Last 24 hours: 2 delivered · 1 refused by the receiver · 0 without an answer"
        ),
        "{}",
        page.body
    );
    assert!(page.body.contains("Junction disabled this webhook"));
    let enabled = b
        .submit(hook_page, &format!("{PAGES}/{id}/enable"), &[])
        .await;
    assert_eq!(enabled.status, StatusCode::SEE_OTHER);
    let page = b.get(hook_page).await;
    assert!(!page.body.contains("id=\"hook-notice\""));
    assert!(page.body.contains(">enabled</span>"));
}

/// Edit through the form; a forged form (no CSRF token) is refused; delete.
async fn edited_and_deleted(app: &TestApp, b: &Browser, rx: &Receiver, id: i64, hook_page: &str) {
    // Edit through the form; a forged form (no CSRF token) is refused.
    let saved = b
        .submit(
            hook_page,
            &format!("{PAGES}/{id}/update"),
            &[
                ("name", "ci-2"),
                ("url", &rx.url),
                ("all_events", "1"),
                ("active", "1"),
                ("ordered", "1"),
                ("secret_mode", "keep"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = b.get(hook_page).await;
    assert!(page
        .body
        .contains("<span id=\"hook-ordered\">in order</span>"));
    assert!(page.body.contains("name=\"ordered\" value=\"1\" checked"));
    let r = app
        .get(
            &format!("/rest/api/1.0/projects/P/repos/r/webhooks/{id}"),
            &admin(),
        )
        .await;
    assert_eq!(r.body["name"], "ci-2");
    assert_eq!(r.body["events"], serde_json::json!(["*"]));
    assert_eq!(r.body["hasSecret"], true);
    assert_eq!(r.body["ordered"], true);
    let forged = b
        .post(
            &format!("{hook_page}/delete"),
            &[("name".to_string(), "x".to_string())],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // Deleting asks first, saying what goes; nothing is deleted until confirmed.
    let delete = format!("{PAGES}/{id}/delete");
    let asked = b.submit(hook_page, &delete, &[]).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(
        asked.body.contains("Delete the webhook ci-2?"),
        "{}",
        asked.body
    );
    assert!(asked.body.contains("delivery history"), "{}", asked.body);
    assert_eq!(b.get(hook_page).await.status, StatusCode::OK, "still there");
    let deleted = b.submit(hook_page, &delete, &[("confirm", "yes")]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(deleted.location(), format!("{}{PAGES}", app.base));
    // The next page says what was done, once.
    let list = format!("{}{PAGES}", app.base);
    let landed = b.get(&list).await;
    assert!(
        landed
            .body
            .contains("Deleted the webhook ci-2 and its delivery history."),
        "{}",
        landed.body
    );
    assert!(!b.get(&list).await.body.contains("Deleted the webhook"));
}

crate::both_backends!(spawn_linkable; webhooks_are_managed_through_the_pages);
