//! The web UI through real forms: sign-in with CSRF, escaping, pull request review, admin pages,
//! tokens, and the security properties of sessions.

use crate::harness::*;
use crate::pages::Browser;
use reqwest::{header, StatusCode};
use serde_json::json;

async fn sign_in_sets_a_safe_session_and_returns_to_the_page(app: TestApp) {
    app.project("P", false).await;
    let b = Browser::new(&app);
    let (status, headers, html) = b.get("/login").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(html.contains("Sign in to Junction"));
    let (status, headers, _) = b.sign_in("admin", ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/projects/P");
    let session = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("junction_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "plain http here");
    let (status, headers, html) = b.get("/projects/P").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-ausername"], "admin");
    assert!(html.contains("Project P"));
    let audit = app
        .get("/rest/junction/1.0/audit?action=auth.sign_in", &admin())
        .await;
    assert_eq!(audit.body["values"][0]["target"], "user:admin");
    // Signing out ends the session.
    let (status, _, _) = b.submit("/", "/logout", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, headers, _) = b.get("/account").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/login?next=%2Faccount");
}

async fn sign_in_refuses_bad_passwords_and_forged_forms(app: TestApp) {
    let b = Browser::new(&app);
    let (status, headers, html) = b.sign_in("admin", "wrong-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("The username or password is incorrect."));
    assert!(headers
        .get_all(header::SET_COOKIE)
        .iter()
        .all(|c| !c.to_str().unwrap().starts_with("junction_session=")));
    // A form posted from elsewhere has no matching login cookie.
    let stranger = Browser::new(&app);
    let (status, _, html) = stranger
        .post(
            "/login",
            &[
                ("csrf", "forged"),
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("expired"));
    // Redirects after sign-in stay on this server.
    let (_, _, page) = b.get("/login?next=https://evil.example/").await;
    assert!(page.contains("name=\"next\" value=\"/\""));
}

async fn forms_need_the_session_csrf_token(app: TestApp) {
    let b = Browser::new(&app);
    b.sign_in("admin", ADMIN_PASSWORD).await;
    let (status, _, html) = b.post("/projects", &[("key", "X"), ("name", "X")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("did not come from Junction"));
    let (status, _, _) = b
        .post(
            "/projects",
            &[("csrf", "wrong"), ("key", "X"), ("name", "X")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(app.store.find_project("X").await.unwrap().is_none());
    let (status, headers, _) = b
        .submit(
            "/",
            "/projects",
            &[("key", "X"), ("name", "<script>alert(1)</script>")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/projects/X");
    let (_, _, html) = b.get("/").await;
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "escaped"
    );
    assert!(!html.contains("<script>alert(1)"));
    // Invalid input comes back as the form, saying what is wrong next to it and keeping what
    // was typed.
    let (status, _, html) = b
        .submit(
            "/",
            "/projects",
            &[("key", "1bad"), ("name", "Kept name"), ("public", "true")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Project keys must start with a letter"));
    assert!(
        html.contains("value=\"1bad\" aria-invalid=\"true\""),
        "{html}"
    );
    assert!(html.contains("value=\"Kept name\""), "{html}");
    assert!(html.contains("value=\"true\" checked"), "{html}");
}

async fn session_rest_writes_need_the_xsrf_header(app: TestApp) {
    let b = Browser::new(&app);
    b.sign_in("admin", ADMIN_PASSWORD).await;
    let url = format!("{}/rest/api/1.0/projects", app.base);
    let r = b
        .client
        .post(&url)
        .json(&json!({"key": "A", "name": "A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = b
        .client
        .post(&url)
        .header("X-Atlassian-Token", "no-check")
        .json(&json!({"key": "A", "name": "A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = b.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "reads need no header");
}

async fn review_and_merge_through_the_pages(app: TestApp) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    app.branches("P", "r", &["fix"]).await;
    app.user("alice").await;
    app.user("bob").await;
    app.grant("/rest/api/1.0/projects/P", "alice", "PROJECT_WRITE")
        .await;
    app.grant("/rest/api/1.0/projects/P", "bob", "PROJECT_READ")
        .await;
    let bob = Browser::new(&app);
    bob.sign_in("bob", "bob-password").await;
    let repo = "/projects/P/repos/r";
    let (status, headers, _) = bob
        .submit(
            repo,
            &format!("{repo}/pull-requests"),
            &[
                ("title", "Fix it"),
                ("from", "fix"),
                ("to", "main"),
                ("reviewers", "alice"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let pr_page = headers["location"].to_str().unwrap().to_string();
    assert_eq!(pr_page, format!("{repo}/pull-requests/1"));
    let (_, _, html) = bob.get(&pr_page).await;
    assert!(
        html.contains("Fix it") && !html.contains(">Merge<"),
        "bob may not merge"
    );
    let alice = Browser::new(&app);
    alice.sign_in("alice", "alice-password").await;
    let (status, _, _) = alice
        .submit(&pr_page, &format!("{pr_page}/approve"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = alice
        .submit(
            &pr_page,
            &format!("{pr_page}/comment"),
            &[("text", "Nice & tidy")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, html) = alice.get(&pr_page).await;
    assert!(html.contains("APPROVED") && html.contains("Nice &amp; tidy"));
    let (status, _, _) = alice
        .submit(&pr_page, &format!("{pr_page}/merge"), &[("version", "0")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let r = app
        .get("/rest/api/1.0/projects/P/repos/r/pull-requests/1", &admin())
        .await;
    assert_eq!(r.body["state"], "MERGED");
    // A stale page cannot merge or decline again.
    let (status, _, html) = alice
        .post(
            &format!("{pr_page}/decline"),
            &[
                ("csrf", &csrf_of(&alice.get(&pr_page).await.2)),
                ("version", "0"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("out-of-date"), "{html}");
}

async fn admin_pages_are_for_admins(app: TestApp) {
    app.user("alice").await;
    let alice = Browser::new(&app);
    alice.sign_in("alice", "alice-password").await;
    for page in [
        "/admin/users",
        "/admin/teams",
        "/admin/permissions",
        "/admin/audit",
        "/admin/application-links",
    ] {
        let (status, _, _) = alice.get(page).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    }
    let admin_b = Browser::new(&app);
    admin_b.sign_in("admin", ADMIN_PASSWORD).await;
    for page in [
        "/admin/users",
        "/admin/teams",
        "/admin/permissions",
        "/admin/audit",
        "/admin/application-links",
        "/account",
        "/account/password",
        "/account/tokens",
        "/account/authorized-applications",
    ] {
        let (status, headers, _) = admin_b.get(page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(headers["x-frame-options"], "DENY");
    }
    // Create a user and a team, grant, then deactivate: the user's session ends at once.
    let (status, _, _) = admin_b
        .submit(
            "/admin/users",
            "/admin/users",
            &[
                ("name", "carol"),
                ("display_name", "Carol"),
                ("email", ""),
                ("password", "carol-password"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = admin_b
        .submit("/admin/teams", "/admin/teams", &[("name", "ops")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = admin_b
        .submit(
            "/admin/teams/ops",
            "/admin/teams/ops",
            &[("op", "add"), ("user", "alice"), ("role", "member")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = admin_b
        .submit(
            "/admin/permissions",
            "/admin/permissions",
            &[
                ("kind", "groups"),
                ("name", "ops"),
                ("permission", "PROJECT_CREATE"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let r = app
        .post(
            "/rest/api/1.0/projects",
            &basic("alice", "alice-password"),
            json!({"key": "OPS", "name": "Ops"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "alice creates projects through her team"
    );
    let (status, _, _) = admin_b
        .submit(
            "/admin/users",
            "/admin/users/alice/deactivate",
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, html) = admin_b.get("/admin/users").await;
    assert!(
        html.contains("Deactivated alice: their sessions and tokens stopped working."),
        "the next page says what was done: {html}"
    );
    let (status, _, _) = alice.get("/account").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "deactivated: signed out at once"
    );
    let (_, _, html) = admin_b.get("/admin/audit").await;
    assert!(html.contains("user.deactivated") && html.contains("permission.granted"));
}

async fn tokens_page_shows_a_new_token_once(app: TestApp) {
    app.user("alice").await;
    let b = Browser::new(&app);
    b.sign_in("alice", "alice-password").await;
    let (status, _, html) = b
        .submit(
            "/account/tokens",
            "/account/tokens",
            &[
                ("name", "ci"),
                ("permission", "read"),
                ("expiry_days", "30"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let start = html.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    let secret = html[start..].split('<').next().unwrap().to_string();
    assert!(secret.starts_with("jct_pat_"));
    let r = app
        .get("/rest/api/1.0/users/alice", &Auth::Bearer(secret.clone()))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let (_, _, html) = b.get("/account/tokens").await;
    assert!(
        html.contains("ci") && !html.contains(&secret),
        "listed, never shown again"
    );
    let alice_id = app.store.find_account("alice").await.unwrap().unwrap().id;
    let id = app.store.list_access_tokens(alice_id).await.unwrap()[0].id;
    // Revoking asks first; until confirmed the token still works.
    let revoke = format!("/account/tokens/{id}/revoke");
    let (status, _, html) = b.submit("/account/tokens", &revoke, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Revoke this access token?"), "{html}");
    assert!(html.contains("name=\"confirm\" value=\"yes\""), "{html}");
    assert_eq!(
        app.store.list_access_tokens(alice_id).await.unwrap().len(),
        1
    );
    let (status, _, _) = b
        .submit("/account/tokens", &revoke, &[("confirm", "yes")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, html) = b.get("/account/tokens").await;
    assert!(html.contains("Revoked the token"), "said once: {html}");
    assert_eq!(
        app.get("/rest/api/1.0/users/alice", &Auth::Bearer(secret))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn password_change_ends_other_sessions(app: TestApp) {
    app.user("alice").await;
    let first = Browser::new(&app);
    first.sign_in("alice", "alice-password").await;
    let second = Browser::new(&app);
    second.sign_in("alice", "alice-password").await;
    let (status, _, html) = first
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("old_password", "nope-nope"),
                ("password", "new-password-1"),
                ("password_confirm", "new-password-1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("current password is not right"));
    let (status, _, html) = first
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("old_password", "alice-password"),
                ("password", "new-password-1"),
                ("password_confirm", "new-password-1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Your password was changed"));
    assert_eq!(
        first.get("/account").await.0,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        second.get("/account").await.0,
        StatusCode::SEE_OTHER,
        "the other one ends"
    );
    assert_eq!(
        app.get(
            "/rest/api/1.0/users/alice",
            &basic("alice", "new-password-1")
        )
        .await
        .status,
        StatusCode::OK
    );
}

async fn incoming_links_are_managed_on_the_admin_page(app: TestApp) {
    let b = Browser::new(&app);
    b.sign_in("admin", ADMIN_PASSWORD).await;
    let page = "/admin/application-links";
    let (status, _, html) = b
        .submit(
            page,
            page,
            &[
                ("name", "Jenkins <ci>"),
                (
                    "redirects",
                    "https://ci.example.com/oauth/callback\nhttp://localhost:8080/cb",
                ),
                ("scope", "REPO_WRITE"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let grab = |html: &str, id: &str| {
        let marker = format!("id=\"{id}\">");
        let start = html.find(&marker).unwrap() + marker.len();
        html[start..].split('<').next().unwrap().to_string()
    };
    let client_id = grab(&html, "client-id");
    let secret = grab(&html, "client-secret");
    assert!(secret.starts_with("jct_ocs_"));
    assert!(html.contains("Jenkins &lt;ci&gt;") && html.contains("Incoming"));
    let (_, _, listed) = b.get(page).await;
    assert!(
        !listed.contains(&secret),
        "the secret is not on the list page"
    );
    let (status, _, html) = b
        .submit(page, &format!("{page}/{client_id}/credentials"), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(grab(&html, "client-secret"), secret);
    let audit = app
        .get(
            "/rest/junction/1.0/audit?action=oauth2.client_credentials_viewed",
            &admin(),
        )
        .await;
    assert_eq!(audit.body["size"], 1);
    let (status, _, html) = b
        .submit(
            page,
            page,
            &[
                ("name", "bad"),
                ("redirects", "http://example.com/cb"),
                ("scope", "REPO_READ"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("must use https"));
    let delete = format!("{page}/{client_id}/delete");
    let (status, _, html) = b.submit(page, &delete, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Delete the link"), "asked first: {html}");
    assert_eq!(app.store.list_oauth_clients().await.unwrap().len(), 1);
    let (status, _, _) = b.submit(page, &delete, &[("confirm", "yes")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(app.store.list_oauth_clients().await.unwrap().is_empty());
}

crate::both_backends!(
    incoming_links_are_managed_on_the_admin_page,
    sign_in_sets_a_safe_session_and_returns_to_the_page,
    sign_in_refuses_bad_passwords_and_forged_forms,
    forms_need_the_session_csrf_token,
    session_rest_writes_need_the_xsrf_header,
    review_and_merge_through_the_pages,
    admin_pages_are_for_admins,
    tokens_page_shows_a_new_token_once,
    password_change_ends_other_sessions,
);

/// Behind https (the public base URL says so), the session cookie is `Secure`.
#[tokio::test]
async fn session_cookie_is_secure_behind_https() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.server.base_url = "https://junction.example.com".into()
    })
    .await
    .unwrap();
    let b = Browser::new(&app);
    let (_, headers, _) = b.sign_in("admin", ADMIN_PASSWORD).await;
    let session = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("junction_session="))
        .unwrap();
    assert!(session.contains("; Secure"), "{session}");
    let r = app.get("/rest/api/1.0/projects/X", &admin()).await;
    assert!(r.text.contains("does not exist"));
    let created = app.project("LINKS", false).await;
    assert_eq!(
        created["links"]["self"][0]["href"], "https://junction.example.com/projects/LINKS",
        "links use the public URL"
    );
}

/// A password someone else chose (the first administrator's printed one) signs in only together
/// with a new one.
async fn a_one_time_password_must_be_replaced_at_sign_in(app: TestApp) {
    app.user("alice").await;
    let alice = app.store.find_account("alice").await.unwrap().unwrap();
    app.store.require_password_change(alice.id).await.unwrap();
    let b = Browser::new(&app);
    let (status, _, html) = b.sign_in("alice", "alice-password").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        html.contains("This password was for one sign-in only"),
        "{html}"
    );
    assert!(html.contains("name=\"new_password\""), "{html}");
    let (status, _, _) = b.get("/account").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "no session yet");
    let choose = |new: &'static str, again: &'static str| {
        let b = &b;
        async move {
            let fields = [
                ("next", "/account"),
                ("username", "alice"),
                ("password", "alice-password"),
                ("new_password", new),
                ("new_password_confirm", again),
            ];
            b.submit("/login", "/login", &fields).await
        }
    };
    let (status, _, html) = choose("alice-chosen-1", "alice-other-1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("differ"), "{html}");
    let (status, _, html) = choose("alice-password", "alice-password").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("other than the one-time password"), "{html}");
    let (status, headers, _) = choose("alice-chosen-1", "alice-chosen-1").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/account");
    let (status, _, _) = b.get("/account").await;
    assert_eq!(status, StatusCode::OK);
    let r = app
        .get(
            "/rest/api/1.0/users/alice",
            &basic("alice", "alice-chosen-1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .get(
            "/rest/api/1.0/users/alice",
            &basic("alice", "alice-password"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

mod one_time {
    crate::both_backends!(a_one_time_password_must_be_replaced_at_sign_in);
    use super::a_one_time_password_must_be_replaced_at_sign_in;
}
