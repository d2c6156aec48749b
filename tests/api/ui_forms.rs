//! Forms that come back with their mistake: the message next to the field at fault, what was
//! typed kept (never a password), under the error's status; nothing is changed.

use crate::harness::*;
use crate::pages::Browser;
use reqwest::StatusCode;

async fn the_user_and_team_forms_keep_what_was_typed(app: TestApp) {
    let b = Browser::new(&app);
    b.sign_in("admin", ADMIN_PASSWORD).await;
    // A short password: the form again, everything kept but the password.
    let (status, _, html) = b
        .submit(
            "/admin/users",
            "/admin/users",
            &[
                ("name", "dora"),
                ("display_name", "Dora D"),
                ("email", "dora@example.com"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("id=\"form-error\""), "{html}");
    assert!(html.contains("value=\"dora\""), "{html}");
    assert!(html.contains("value=\"Dora D\""), "{html}");
    assert!(html.contains("value=\"dora@example.com\""), "{html}");
    assert!(!html.contains("short"), "the password is not sent back");
    assert!(
        html.contains("autocomplete=\"new-password\" aria-invalid=\"true\""),
        "{html}"
    );
    // A team name that a user already has: 409, said next to the name.
    let (status, _, html) = b
        .submit("/admin/teams", "/admin/teams", &[("name", "admin")])
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(
        html.contains("The name admin is already taken by a user or team."),
        "{html}"
    );
    assert!(
        html.contains("value=\"admin\" aria-invalid=\"true\""),
        "{html}"
    );
    // Granting to a team nobody made: 404, said next to the name, which is kept.
    let (status, _, html) = b
        .submit(
            "/admin/permissions",
            "/admin/permissions",
            &[
                ("kind", "groups"),
                ("name", "ghosts"),
                ("permission", "ADMIN"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Team ghosts does not exist."), "{html}");
    assert!(
        html.contains("value=\"ghosts\" aria-invalid=\"true\""),
        "{html}"
    );
    // A name left empty: the form again, the team and permission still chosen.
    let (status, _, html) = b
        .submit(
            "/admin/permissions",
            "/admin/permissions",
            &[("kind", "groups"), ("name", ""), ("permission", "ADMIN")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("name is required."), "{html}");
    assert!(html.contains("value=\"groups\" selected"), "{html}");
    assert!(html.contains("value=\"ADMIN\" selected"), "{html}");
}

async fn the_token_form_keeps_what_was_typed(app: TestApp) {
    app.user("alice").await;
    let b = Browser::new(&app);
    b.sign_in("alice", "alice-password").await;
    let (status, _, html) = b
        .submit(
            "/account/tokens",
            "/account/tokens",
            &[
                ("name", "deploys"),
                ("permission", "write"),
                ("expiry_days", "5000"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(
        html.contains("expiryDays must be between 1 and 3650."),
        "{html}"
    );
    assert!(html.contains("value=\"deploys\""), "{html}");
    assert!(html.contains("value=\"write\" selected"), "{html}");
    assert!(
        html.contains("value=\"5000\" aria-invalid=\"true\""),
        "{html}"
    );
    assert!(!html.contains("id=\"new-token\""), "no token was made");
}

async fn the_repository_form_keeps_what_was_typed(app: TestApp) {
    let b = Browser::new(&app);
    b.sign_in("admin", ADMIN_PASSWORD).await;
    app.project("KEEP", false).await;
    app.repo("KEEP", "taken", false).await;
    let (status, _, html) = b
        .submit(
            "/projects/KEEP",
            "/projects/KEEP/repos",
            &[("name", "taken"), ("description", "my <words>")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(
        html.contains("This project already contains a repository with that name or slug."),
        "{html}"
    );
    assert!(
        html.contains("value=\"taken\" aria-invalid=\"true\""),
        "{html}"
    );
    assert!(
        html.contains("value=\"my &lt;words&gt;\""),
        "escaped and kept: {html}"
    );
    let repos = app.get("/rest/api/1.0/projects/KEEP/repos", &admin()).await;
    assert_eq!(repos.body["size"], 1, "nothing was created");
}

async fn the_team_member_form_keeps_what_was_typed(app: TestApp) {
    let b = Browser::new(&app);
    b.sign_in("admin", ADMIN_PASSWORD).await;
    let (status, _, _) = b
        .submit("/admin/teams", "/admin/teams", &[("name", "crew")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, html) = b
        .submit(
            "/admin/teams/crew",
            "/admin/teams/crew",
            &[("op", "add"), ("user", "nobody"), ("role", "admin")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{html}");
    assert!(html.contains("User nobody does not exist."), "{html}");
    assert!(
        html.contains("value=\"nobody\" aria-invalid=\"true\""),
        "{html}"
    );
    assert!(html.contains("value=\"admin\" selected"), "{html}");
    let members = app
        .get("/rest/junction/1.0/teams/crew/members", &admin())
        .await;
    let members = members.body["members"].as_array().unwrap();
    assert_eq!(members.len(), 1, "only the creator: {members:?}");
}

async fn the_profile_and_password_forms_say_what_is_wrong(app: TestApp) {
    app.user("alice").await;
    let b = Browser::new(&app);
    b.sign_in("alice", "alice-password").await;
    let (status, _, html) = b
        .submit(
            "/account",
            "/account",
            &[("display_name", "Alice A"), ("email", "not-an-address")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("id=\"form-error\""), "{html}");
    assert!(html.contains("value=\"Alice A\""), "{html}");
    assert!(
        html.contains("value=\"not-an-address\" aria-invalid=\"true\""),
        "{html}"
    );
    let stored = app.get("/rest/api/1.0/users/alice", &admin()).await;
    assert_eq!(stored.status, reqwest::StatusCode::OK, "{}", stored.text);
    assert_eq!(
        (&stored.body["displayName"], &stored.body["emailAddress"]),
        (
            &serde_json::json!("alice"),
            &serde_json::json!("alice@example.com")
        ),
        "nothing saved"
    );
    // A wrong current password: said next to it, no password sent back.
    let (status, _, html) = b
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("old_password", "wrong-password"),
                ("password", "new-password-1"),
                ("password_confirm", "new-password-1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(
        html.contains("The current password is not right."),
        "{html}"
    );
    assert!(
        html.contains("autocomplete=\"current-password\" aria-invalid=\"true\""),
        "{html}"
    );
    assert!(!html.contains("new-password-1") && !html.contains("wrong-password"));
    // Saved: back to the profile, saying so.
    let (status, headers, _) = b
        .submit(
            "/account",
            "/account",
            &[("display_name", "Alice A"), ("email", "alice@example.com")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/account");
    let (_, _, html) = b.get("/account").await;
    assert!(html.contains("Your profile was saved."), "{html}");
}

/// A project P with repository r where alice may write, signed in as alice.
async fn alice_on_a_repository(app: &TestApp) -> Browser {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    app.branches("P", "r", &["tidy"]).await;
    app.user("alice").await;
    app.grant("/rest/api/1.0/projects/P", "alice", "PROJECT_WRITE")
        .await;
    let b = Browser::new(app);
    b.sign_in("alice", "alice-password").await;
    b
}

async fn the_pull_request_form_keeps_what_was_typed(app: TestApp) {
    let b = alice_on_a_repository(&app).await;
    let (status, _, html) = b
        .submit(
            "/projects/P/repos/r",
            "/projects/P/repos/r/pull-requests",
            &[
                ("title", "Tidy up"),
                ("from", "tidy"),
                ("to", "main"),
                ("reviewers", "ghost"),
                ("description", "Why <it> matters"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("ghost cannot be a reviewer"), "{html}");
    assert!(
        html.contains("value=\"ghost\" aria-invalid=\"true\""),
        "{html}"
    );
    assert!(html.contains("value=\"Tidy up\""), "{html}");
    assert!(html.contains("value=\"tidy\""), "{html}");
    assert!(
        html.contains(">Why &lt;it&gt; matters</textarea>"),
        "{html}"
    );
    let prs = app
        .get("/rest/api/1.0/projects/P/repos/r/pull-requests", &admin())
        .await;
    assert_eq!(prs.body["size"], 0, "nothing was created");
}

async fn a_comment_without_text_comes_back_and_decline_asks_first(app: TestApp) {
    let b = alice_on_a_repository(&app).await;
    let (status, headers, _) = b
        .submit(
            "/projects/P/repos/r",
            "/projects/P/repos/r/pull-requests",
            &[("title", "Tidy up"), ("from", "tidy"), ("to", "main")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let pr = headers["location"].to_str().unwrap().to_string();
    let (status, _, html) = b
        .submit(&pr, &format!("{pr}/comment"), &[("text", "   ")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("A comment needs text."), "{html}");
    assert!(
        html.contains("name=\"text\" required aria-invalid=\"true\""),
        "{html}"
    );
    // Declining asks first and changes nothing until confirmed.
    let (status, _, html) = b
        .submit(&pr, &format!("{pr}/decline"), &[("version", "0")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Decline pull request #1?"), "{html}");
    let rest = format!("/rest/api/1.0{pr}");
    assert_eq!(app.get(&rest, &admin()).await.body["state"], "OPEN");
    let (status, _, _) = b
        .submit(
            &pr,
            &format!("{pr}/decline"),
            &[("version", "0"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&rest, &admin()).await.body["state"], "DECLINED");
    let (_, _, html) = b.get(&pr).await;
    assert!(
        html.contains("Declined: the pull request is closed"),
        "{html}"
    );
}

crate::both_backends!(
    the_repository_form_keeps_what_was_typed,
    the_user_and_team_forms_keep_what_was_typed,
    the_token_form_keeps_what_was_typed,
    the_team_member_form_keeps_what_was_typed,
    the_profile_and_password_forms_say_what_is_wrong,
    the_pull_request_form_keeps_what_was_typed,
    a_comment_without_text_comes_back_and_decline_asks_first,
);
