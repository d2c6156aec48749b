//! Code on the pages: the repository page's clone URL, files and branches; the browse page;
//! a pull request's commits and diff, its conflicts, and a merge refused for them.

use crate::harness::*;
use crate::pages::Browser;
use reqwest::StatusCode;

async fn signed_in_admin(app: &TestApp) -> Browser {
    let b = Browser::new(app);
    b.sign_in("admin", ADMIN_PASSWORD).await;
    b
}

async fn the_repository_page_shows_clone_url_files_and_branches(app: TestApp) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    let b = signed_in_admin(&app).await;
    let (status, _, html) = b.get("/projects/P/repos/r").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("value=\"{}/scm/p/r.git\"", app.base)),
        "{html}"
    );
    assert!(
        html.contains("id=\"empty-repo\""),
        "an empty repository says how to push"
    );
    app.branches("P", "r", &["feature"]).await;
    let (_, _, html) = b.get("/projects/P/repos/r").await;
    assert!(
        html.contains("<a href=\"/projects/P/repos/r/browse/README.md\">README.md</a>"),
        "{html}"
    );
    assert!(
        html.contains("<code>main</code> <span class=\"badge\">default</span>"),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"feature\">"),
        "branches offered in the form"
    );
    let main = app
        .bare_git("P", "r", &["rev-parse", "--short=11", "main"])
        .await;
    assert!(
        html.contains(&format!("<tr><td><code>{main}</code></td><td>main</td>")),
        "the newest commits are listed: {html}"
    );
}

async fn the_browse_page_shows_files_escaped(app: TestApp) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    app.branches("P", "r", &["<script>alert(1)</script>"]).await;
    let b = signed_in_admin(&app).await;
    let (status, _, html) = b.get("/projects/P/repos/r/browse/README.md?at=main").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<pre id=\"file\" style=\"overflow-x:auto\">main\n</pre>"),
        "{html}"
    );
    let (status, _, html) = b.get("/projects/P/repos/r/browse/nope.txt").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("does not exist at this revision"), "{html}");
    let (_, _, html) = b.get("/projects/P/repos/r").await;
    assert!(!html.contains("<script>alert(1)"), "names are escaped");
    assert!(
        html.contains("<code>&lt;script&gt;alert(1)&lt;"),
        "the branch is listed, escaped: {html}"
    );
}

async fn a_pull_request_page_shows_its_code_and_conflicts(app: TestApp) {
    let root = tempfile::tempdir().unwrap();
    crate::pull_merge::conflicting_branches(&app, root.path()).await;
    for from in ["left", "right"] {
        let r = app
            .post(
                crate::pull_code::PRS,
                &admin(),
                crate::pull_code::pr(from, "main"),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let b = signed_in_admin(&app).await;
    let (_, _, html) = b.get("/projects/P/repos/r/pull-requests/2").await;
    assert!(
        html.contains("<td>right</td>"),
        "the commit is listed: {html}"
    );
    assert!(html.contains("<tr class=\"removed\"><td class=\"ln\">1</td><td class=\"ln\"></td><td><pre>-base</pre>"), "{html}");
    assert!(html.contains("<tr class=\"added\"><td class=\"ln\"></td><td class=\"ln\">1</td><td><pre>+right</pre>"), "{html}");
    assert!(
        !html.contains("id=\"conflicts\""),
        "it merges cleanly for now"
    );
    let page = "/projects/P/repos/r/pull-requests/1";
    let (status, _, _) = b
        .submit(
            page,
            &format!("{page}/merge"),
            &[("version", "0"), ("strategyId", "no-ff")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = "/projects/P/repos/r/pull-requests/2";
    let (_, _, html) = b.get(page).await;
    assert!(html.contains("id=\"conflicts\""), "{html}");
    assert!(html.contains("<code>README.md</code>"), "{html}");
    let (status, _, html) = b
        .submit(
            page,
            &format!("{page}/merge"),
            &[("version", "0"), ("strategyId", "no-ff")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("Conflicting paths: README.md."), "{html}");
}

crate::both_backends!(
    the_repository_page_shows_clone_url_files_and_branches,
    the_browse_page_shows_files_escaped,
    a_pull_request_page_shows_its_code_and_conflicts,
);
