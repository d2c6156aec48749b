//! Build statuses, in Bitbucket Cloud's shape (`/2.0/…/commit/{node}/statuses[/build[/{key}]]`)
//! and Data Center's (`…/commits/{id}/builds`, legacy `/rest/build-status/1.0/commits/{id}`):
//! one per commit and key, replaced by posting the key again; `repo:commit_status_created` and
//! `_updated` events; who may post and replace; the pull request page shows its source's.

use crate::both_backends;
use crate::harness::{admin, Auth, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

const CLOUD: &str = "/2.0/repositories/prj/code/commit";
const DC: &str = "/rest/api/1.0/projects/PRJ/repos/code/commits";

/// PRJ/code with `main` and `feature`, uma may write it; the head commit of `feature`.
pub async fn repository(app: &TestApp) -> (Auth, String) {
    let uma = app.user("uma").await;
    app.project("PRJ", false).await;
    app.repo("PRJ", "code", false).await;
    app.branches("PRJ", "code", &["main", "feature"]).await;
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "uma", "REPO_WRITE")
        .await;
    let r = app
        .get(
            "/rest/api/1.0/projects/PRJ/repos/code/commits/feature",
            &uma,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    (uma, r.body["id"].as_str().unwrap().to_string())
}

/// Runs a Python client `script` as uma against `repository()`'s commit; what it printed.
pub async fn python_as_uma(app: &TestApp, script: &str) -> Option<Value> {
    let python = crate::interop::python()?;
    let (_, commit) = repository(app).await;
    let out = crate::interop::run_client(
        &python,
        script,
        &[
            ("JUNCTION_URL", &app.base),
            ("USERNAME", "uma"),
            ("PASSWORD", "uma-password"),
            ("COMMIT", &commit),
        ],
    )
    .await;
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// `POST …/commit/{node}/statuses/build` as `who`.
async fn post_cloud(
    app: &TestApp,
    who: &Auth,
    node: &str,
    body: Value,
) -> crate::harness::Response {
    app.post(&format!("{CLOUD}/{node}/statuses/build"), who, body)
        .await
}

fn status(key: &str, state: &str) -> Value {
    json!({"key": key, "state": state, "name": "CI build", "url": "https://ci.example.com/builds/7",
           "description": "7 tests", "refname": "feature"})
}

async fn a_cloud_status_is_posted_read_listed_and_replaced(app: TestApp) {
    let (uma, commit) = repository(&app).await;
    let r = post_cloud(&app, &uma, &commit, status("ci", "INPROGRESS")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["type"], "build");
    assert_eq!(r.body["key"], "ci");
    assert_eq!(r.body["state"], "INPROGRESS");
    assert_eq!(r.body["refname"], "feature");
    assert_eq!(r.body["commit"]["hash"], commit.as_str());
    assert_eq!(
        r.body["links"]["self"]["href"],
        format!("{}{CLOUD}/{commit}/statuses/build/ci", app.base)
    );
    // By an abbreviated id too; the same key replaces it.
    let short = &commit[..10];
    let r = post_cloud(&app, &uma, short, status("ci", "SUCCESSFUL")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let one = app
        .get(&format!("{CLOUD}/{commit}/statuses/build/ci"), &uma)
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["state"], "SUCCESSFUL");
    let all = app.get(&format!("{CLOUD}/{commit}/statuses"), &uma).await;
    assert_eq!(all.body["size"], 1, "{}", all.text);
    assert_eq!(all.body["values"][0]["key"], "ci");
    // Each change is an event for webhooks and apps, with the status in Cloud's shape.
    let repo = app
        .store
        .find_repository("PRJ", "code")
        .await
        .unwrap()
        .unwrap();
    let events: Vec<(String, Value)> = app
        .store
        .events_of_repository(repo.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_key.starts_with("repo:commit_status"))
        .map(|e| (e.event_key, serde_json::from_str(&e.payload).unwrap()))
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].0, "repo:commit_status_created");
    assert_eq!(events[1].0, "repo:commit_status_updated");
    assert_eq!(events[1].1["commit_status"]["state"], "SUCCESSFUL");
    assert_eq!(events[1].1["repository"]["full_name"], "PRJ/code");
}

async fn data_center_builds_and_the_legacy_api(app: TestApp) {
    let (uma, commit) = repository(&app).await;
    // What Jenkins posts, with fields Junction does not keep.
    let jenkins = json!({"key": "jenkins-7", "state": "FAILED", "url": "https://jenkins.example.com/job/7/",
                         "name": "job #7", "buildNumber": "7", "duration": 1200, "ref": "refs/heads/feature",
                         "testResults": {"successful": 3, "failed": 1, "skipped": 0}});
    let r = app
        .post(&format!("{DC}/{commit}/builds"), &uma, jenkins)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let one = app
        .get(&format!("{DC}/{commit}/builds?key=jenkins-7"), &uma)
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["state"], "FAILED");
    assert_eq!(one.body["ref"], "refs/heads/feature");
    // The legacy API names only the commit; its statuses show in the repository too.
    let legacy =
        json!({"key": "bamboo", "state": "CANCELLED", "url": "https://bamboo.example.com/1"});
    let r = app
        .post(
            &format!("/rest/build-status/1.0/commits/{commit}"),
            &uma,
            legacy,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let got = app
        .get(&format!("/rest/build-status/1.0/commits/{commit}"), &uma)
        .await;
    assert_eq!(
        got.body["values"].as_array().unwrap().len(),
        1,
        "{}",
        got.text
    );
    assert_eq!(got.body["values"][0]["state"], "CANCELLED");
    let all = app.get(&format!("{DC}/{commit}/builds"), &uma).await;
    assert_eq!(all.body["size"], 2, "{}", all.text);
    let cloud = app
        .get(&format!("{CLOUD}/{commit}/statuses/build/bamboo"), &uma)
        .await;
    assert_eq!(cloud.body["state"], "STOPPED");
}

async fn who_may_post_and_replace_a_status(app: TestApp) {
    let (uma, commit) = repository(&app).await;
    let r = post_cloud(&app, &uma, &commit, status("ci", "INPROGRESS")).await;
    assert_eq!(r.status, StatusCode::CREATED);
    // A reader may post statuses of their own, not replace uma's.
    let ivy = app.user("ivy").await;
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "ivy", "REPO_READ")
        .await;
    let r = post_cloud(&app, &ivy, &commit, status("ivy-ci", "SUCCESSFUL")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = post_cloud(&app, &ivy, &commit, status("ci", "FAILED")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    // A repository administrator may.
    let r = post_cloud(&app, &admin(), &commit, status("ci", "FAILED")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // Someone who cannot read the repository is told it does not exist; nobody signed in, to sign in.
    let out = app.user("out").await;
    let r = post_cloud(&app, &out, &commit, status("x", "FAILED")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(
            &format!("{DC}/{commit}/builds"),
            &Auth::None,
            status("x", "FAILED"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
}

async fn bad_statuses_are_refused_with_the_field_at_fault(app: TestApp) {
    let (uma, commit) = repository(&app).await;
    let r = app
        .post(&format!("{DC}/{commit}/builds"), &uma, status("ci", "DONE"))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.context(), "state");
    assert!(
        r.message().contains("'DONE' is not a build state"),
        "{}",
        r.text
    );
    let mut no_url = status("ci", "FAILED");
    no_url["url"] = json!("javascript:alert(1)");
    let r = app
        .post(&format!("{DC}/{commit}/builds"), &uma, no_url)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.context(), "url");
    let r = app
        .post(
            &format!("{CLOUD}/0000000000000000000000000000000000000000/statuses/build"),
            &uma,
            status("ci", "FAILED"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app
        .post(
            "/rest/build-status/1.0/commits/main",
            &uma,
            status("ci", "FAILED"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.context(), "commitId");
    let r = app
        .get(&format!("{CLOUD}/{commit}/statuses/build/nope"), &uma)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn the_pull_request_page_shows_its_source_builds(app: TestApp) {
    let (uma, commit) = repository(&app).await;
    let r = app
        .post(
            "/rest/api/1.0/projects/PRJ/repos/code/pull-requests",
            &uma,
            json!({"title": "Feature", "fromRef": {"id": "feature"}, "toRef": {"id": "main"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = post_cloud(&app, &uma, &commit, status("ci", "SUCCESSFUL")).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let b = crate::oauth2::browser(&app, "uma", "uma-password").await;
    let (status, html) =
        crate::connect_app::page(&app, &b, "/projects/PRJ/repos/code/pull-requests/1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"builds\""), "{html}");
    assert!(
        html.contains(r#"<span class="badge build-SUCCESSFUL">Passed</span> <a href="https://ci.example.com/builds/7" rel="noopener noreferrer">CI build</a>"#),
        "{html}"
    );
}

async fn atlassian_python_api_posts_and_reads_builds(app: TestApp) {
    let Some(seen) = python_as_uma(&app, "python/bitbucket_builds.py").await else {
        return;
    };
    assert_eq!(seen["added"], "INPROGRESS");
    assert_eq!(seen["successful"], true);
    assert_eq!(seen["description"], "done");
    assert_eq!(seen["listed"], json!(["py-ci"]));
    assert_eq!(seen["legacy"], json!([["legacy", "FAILED"]]));
}

both_backends!(
    spawn_linkable;
    a_cloud_status_is_posted_read_listed_and_replaced,
    data_center_builds_and_the_legacy_api,
    who_may_post_and_replace_a_status,
    bad_statuses_are_refused_with_the_field_at_fault,
    the_pull_request_page_shows_its_source_builds,
    atlassian_python_api_posts_and_reads_builds,
);
