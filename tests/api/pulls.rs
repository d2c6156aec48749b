use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const PRS: &str = "/rest/api/1.0/projects/P/repos/r/pull-requests";

fn pr_body(from: &str, to: &str, reviewers: &[&str]) -> Value {
    let repo = json!({"slug": "r", "project": {"key": "P"}});
    json!({
        "title": "Add feature",
        "description": "Why and how",
        "fromRef": {"id": from, "repository": repo},
        "toRef": {"id": to, "repository": repo},
        "reviewers": reviewers.iter().map(|r| json!({"user": {"name": r}})).collect::<Vec<_>>(),
    })
}

/// A project with one repository where alice may write and bob may read.
async fn setup(app: &TestApp) -> (Auth, Auth) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    app.branches("P", "r", &["feature", "f"]).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.grant("/rest/api/1.0/projects/P/repos/r", "alice", "REPO_WRITE")
        .await;
    app.grant("/rest/api/1.0/projects/P/repos/r", "bob", "REPO_READ")
        .await;
    (alice, bob)
}

async fn pull_request_lifecycle(app: TestApp) {
    let (alice, bob) = setup(&app).await;
    let r = app
        .post(PRS, &bob, pr_body("feature", "refs/heads/main", &["alice"]))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["id"], json!(1));
    assert_eq!(r.body["version"], json!(0));
    assert_eq!(r.body["state"], json!("OPEN"));
    assert_eq!(r.body["open"], json!(true));
    assert_eq!(r.body["fromRef"]["id"], json!("refs/heads/feature"));
    assert_eq!(r.body["fromRef"]["displayId"], json!("feature"));
    assert_eq!(r.body["author"]["user"]["name"], json!("bob"));
    assert_eq!(r.body["reviewers"][0]["user"]["name"], json!("alice"));
    assert_eq!(r.body["reviewers"][0]["status"], json!("UNAPPROVED"));

    // The reviewer approves through the participants resource.
    let r = app
        .put(
            &format!("{PRS}/1/participants/alice"),
            &alice,
            json!({"status": "APPROVED"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["approved"], json!(true));
    assert_eq!(r.body["role"], json!("REVIEWER"));
    // Not for someone else, and not the author.
    let r = app
        .put(
            &format!("{PRS}/1/participants/alice"),
            &bob,
            json!({"status": "APPROVED"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.post(&format!("{PRS}/1/approve"), &bob, json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Comments.
    let r = app
        .post(
            &format!("{PRS}/1/comments"),
            &alice,
            json!({"text": "Looks good"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["author"]["name"], json!("alice"));
    let r = app
        .post(&format!("{PRS}/1/comments"), &alice, json!({"text": "  "}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app.get(&format!("{PRS}/1/comments"), &bob).await;
    assert_eq!(r.body["size"], json!(1));
    assert_eq!(r.body["values"][0]["text"], json!("Looks good"));

    // Update bumps the version; a stale version is a conflict.
    let r = app
        .put(
            &format!("{PRS}/1"),
            &bob,
            json!({"version": 0, "title": "Better title"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["version"], json!(1));
    assert_eq!(
        r.body["reviewers"][0]["status"],
        json!("APPROVED"),
        "an edit keeps approvals"
    );
    let r = app
        .put(
            &format!("{PRS}/1"),
            &bob,
            json!({"version": 0, "title": "Stale"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.exception(),
        "com.atlassian.bitbucket.pull.PullRequestOutOfDateException"
    );

    // Bob (read) cannot merge; alice (write) can, with the current version only.
    let r = app
        .call(
            Method::POST,
            &format!("{PRS}/1/merge?version=1"),
            &bob,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .call(
            Method::POST,
            &format!("{PRS}/1/merge?version=0"),
            &alice,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.exception(),
        "com.atlassian.bitbucket.pull.PullRequestOutOfDateException"
    );
    let r = app
        .call(
            Method::POST,
            &format!("{PRS}/1/merge?version=1"),
            &alice,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], json!("MERGED"));
    assert_eq!(r.body["closed"], json!(true));
    assert_eq!(r.body["version"], json!(2));
    assert!(r.body["closedDate"].is_i64());
    // Closed is closed.
    let r = app
        .call(
            Method::POST,
            &format!("{PRS}/1/decline?version=2"),
            &alice,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.exception(),
        "com.atlassian.bitbucket.pull.IllegalPullRequestStateException"
    );
    let r = app
        .put(
            &format!("{PRS}/1/participants/alice"),
            &alice,
            json!({"status": "UNAPPROVED"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

async fn declined_pull_requests_cannot_be_merged(app: TestApp) {
    let (alice, bob) = setup(&app).await;
    assert_eq!(
        app.post(PRS, &bob, pr_body("f", "main", &[])).await.status,
        StatusCode::CREATED
    );
    // The author may decline their own pull request with only read permission.
    let r = app
        .call(
            Method::POST,
            &format!("{PRS}/1/decline?version=0"),
            &bob,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], json!("DECLINED"));
    let r = app
        .call(
            Method::POST,
            &format!("{PRS}/1/merge?version=1"),
            &alice,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.message(),
        "This pull request is DECLINED and can no longer be changed."
    );
    // A new pull request between the same branches is allowed once the old one is closed.
    let r = app.post(PRS, &bob, pr_body("f", "main", &[])).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["id"], json!(2));
    let r = app.get(&format!("{PRS}?state=ALL"), &bob).await;
    assert_eq!(r.body["size"], json!(2));
    assert_eq!(r.body["values"][0]["id"], json!(2), "newest first");
    let r = app.get(PRS, &bob).await;
    assert_eq!(r.body["size"], json!(1), "OPEN by default");
    let r = app.get(&format!("{PRS}?state=declined"), &bob).await;
    assert_eq!(r.body["values"][0]["id"], json!(1));
    let r = app.get(&format!("{PRS}?state=WHATEVER"), &bob).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.context(), "state");
}

async fn bad_pull_requests_are_refused_and_nothing_is_written(app: TestApp) {
    let (alice, bob) = setup(&app).await;
    let _carol = app.user("carol").await;
    let cases = [
        (
            pr_body("main", "main", &[]),
            StatusCode::BAD_REQUEST,
            "com.atlassian.bitbucket.pull.EmptyPullRequestException",
        ),
        (
            pr_body("f", "main", &["bob"]),
            StatusCode::BAD_REQUEST,
            "com.atlassian.bitbucket.pull.InvalidPullRequestReviewersException",
        ),
        (
            pr_body("f", "main", &["nobody"]),
            StatusCode::BAD_REQUEST,
            "com.atlassian.bitbucket.validation.ArgumentValidationException",
        ),
        (
            pr_body("f", "main", &["carol"]),
            StatusCode::BAD_REQUEST,
            "com.atlassian.bitbucket.validation.ArgumentValidationException",
        ),
        (
            pr_body("bad branch", "main", &[]),
            StatusCode::BAD_REQUEST,
            "com.atlassian.bitbucket.validation.ArgumentValidationException",
        ),
        (
            json!({"title": "", "fromRef": {"id": "a"}, "toRef": {"id": "b"}}),
            StatusCode::BAD_REQUEST,
            "com.atlassian.bitbucket.validation.ArgumentValidationException",
        ),
        (
            json!({"title": "t", "fromRef": {"id": "a"}}),
            StatusCode::BAD_REQUEST,
            "com.atlassian.bitbucket.validation.ArgumentValidationException",
        ),
        (
            json!({"title": "t", "fromRef": {"id": "a", "repository": {"slug": "other", "project": {"key": "P"}}}, "toRef": {"id": "b"}}),
            StatusCode::BAD_REQUEST,
            "com.atlassian.bitbucket.validation.ArgumentValidationException",
        ),
    ];
    for (body, status, exception) in cases {
        let r = app.post(PRS, &bob, body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert_eq!(r.exception(), exception, "{body}");
    }
    assert!(app
        .store
        .list_pull_requests(1, None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        app.post(PRS, &bob, pr_body("f", "main", &["alice"]))
            .await
            .status,
        StatusCode::CREATED
    );
    let r = app.post(PRS, &alice, pr_body("f", "main", &[])).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.exception(),
        "com.atlassian.bitbucket.pull.DuplicatePullRequestException"
    );
    let r = app.get(&format!("{PRS}/99"), &bob).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.exception(),
        "com.atlassian.bitbucket.pull.NoSuchPullRequestException"
    );
    let r = app.get(&format!("{PRS}/abc"), &bob).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .put(&format!("{PRS}/1"), &bob, json!({"title": "no version"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.context(), "version");
    // Only the valid pull request exists, with its one reviewer.
    let prs = app.store.list_pull_requests(1, None).await.unwrap();
    assert_eq!(prs.len(), 1);
    assert_eq!(app.store.participants(prs[0].id).await.unwrap().len(), 1);
}

crate::both_backends!(
    pull_request_lifecycle,
    declined_pull_requests_cannot_be_merged,
    bad_pull_requests_are_refused_and_nothing_is_written,
);
