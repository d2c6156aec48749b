//! The credentials people give git: a personal access token with any username, an OAuth 2.0
//! access token as `x-token-auth` or as its owner, `Authorization: Bearer`; each capped exactly
//! as over REST, and refused with words git shows the person.

use crate::git_cli::*;
use crate::harness::*;

fn secret(auth: &Auth) -> String {
    match auth {
        Auth::Bearer(s) => s.clone(),
        Auth::Basic(_, p) => p.clone(),
        Auth::None => panic!("a credential was expected"),
    }
}

async fn a_personal_access_token_pushes_with_any_username(app: TestApp) {
    app.project("T", false).await;
    app.repo("T", "code", false).await;
    let (token, _) = app.token(&admin(), "REPO_WRITE").await;
    let token = secret(&token);
    let root = tempfile::tempdir().unwrap();
    let work = work_with_commit(root.path(), "by token\n").await;
    let url = format!("{}/scm/T/code.git", app.base);
    ok(&git(
        &work,
        Some(("whoever", &token)),
        &["push", "-q", &url, "main"],
    )
    .await);
    ok(&git(
        root.path(),
        Some(("admin", &token)),
        &["clone", "-q", &url, "copy"],
    )
    .await);
    assert!(root.path().join("copy/README.md").exists());
}

async fn a_read_token_clones_but_its_push_is_refused_with_the_reason(app: TestApp) {
    app.project("T", false).await;
    app.repo("T", "code", false).await;
    let root = tempfile::tempdir().unwrap();
    let work = work_with_commit(root.path(), "first\n").await;
    let url = format!("{}/scm/T/code.git", app.base);
    ok(&git(
        &work,
        Some(("admin", ADMIN_PASSWORD)),
        &["push", "-q", &url, "main"],
    )
    .await);
    let (token, _) = app.token(&admin(), "REPO_READ").await;
    let reader = Some(("admin", secret(&token)));
    let reader = reader.as_ref().map(|(u, p)| (*u, p.as_str()));
    ok(&git(root.path(), reader, &["clone", "-q", &url, "copy"]).await);
    let err = refused(&git(&work, reader, &["push", "-q", &url, "main:other"]).await);
    // git prints the server's text after "remote:"; the person sees why, not only a status.
    assert!(
        err.contains("remote: ") && err.contains("REPO_WRITE"),
        "git should show why: {err}"
    );
}

async fn an_oauth_token_clones_as_x_token_auth_and_by_bearer(app: TestApp) {
    app.project("T", false).await;
    app.repo("T", "code", false).await;
    app.user("alice").await;
    app.grant("/rest/api/1.0/projects/T", "alice", "PROJECT_WRITE")
        .await;
    let root = tempfile::tempdir().unwrap();
    let work = work_with_commit(root.path(), "oauth\n").await;
    let url = format!("{}/scm/T/code.git", app.base);
    // A token from the real authorization-code flow: alice signs in, consents, the client
    // exchanges the code.
    let c = crate::oauth2::client(&app, "REPO_WRITE", true).await;
    let b = crate::oauth2::browser(&app, "alice", "alice-password").await;
    let q = crate::oauth2::authorize(&app, &b, c["clientId"].as_str().unwrap(), "REPO_WRITE").await;
    let r = crate::oauth2::exchange(&app, &c, &q["code"]).await;
    assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.text);
    let token = r.body["access_token"].as_str().unwrap().to_string();
    ok(&git(
        &work,
        Some(("x-token-auth", &token)),
        &["push", "-q", &url, "main"],
    )
    .await);
    ok(&git(
        root.path(),
        Some(("alice", &token)),
        &["clone", "-q", &url, "as-owner"],
    )
    .await);
    let bearer = format!("http.extraHeader=Authorization: Bearer {token}");
    ok(&git(
        root.path(),
        None,
        &["-c", &bearer, "clone", "-q", &url, "by-bearer"],
    )
    .await);
    assert!(root.path().join("by-bearer/README.md").exists());
}

async fn a_public_repos_oauth_token_reads_public_repositories_only(app: TestApp) {
    app.project("T", false).await;
    app.repo("T", "open", true).await;
    app.repo("T", "closed", false).await;
    app.user("alice").await;
    app.grant("/rest/api/1.0/projects/T", "alice", "PROJECT_WRITE")
        .await;
    let root = tempfile::tempdir().unwrap();
    let token = secret(&app.oauth_token("alice", "PUBLIC_REPOS").await);
    let login = Some(("x-token-auth", token.as_str()));
    let open = format!("{}/scm/T/open.git", app.base);
    ok(&git(root.path(), login, &["clone", "-q", &open, "open"]).await);
    let closed = format!("{}/scm/T/closed.git", app.base);
    let err = refused(&git(root.path(), login, &["clone", "-q", &closed, "closed"]).await);
    assert!(
        err.contains("remote: ") && err.contains("403"),
        "the token's scope stops it, and git says so: {err}"
    );
}

crate::both_backends!(
    a_personal_access_token_pushes_with_any_username,
    a_read_token_clones_but_its_push_is_refused_with_the_reason,
    an_oauth_token_clones_as_x_token_auth_and_by_bearer,
    a_public_repos_oauth_token_reads_public_repositories_only,
);
