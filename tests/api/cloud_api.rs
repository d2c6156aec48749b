//! The Bitbucket Cloud 2.0 subset with a person's own credential (scripts written for Cloud):
//! workspaces, code (branches, commits, src), a pull request's commits, diff and diffstat, and
//! repository webhooks — in Cloud's shapes and paging.

use crate::both_backends;
use crate::harness::{admin, Auth, TestApp};
use reqwest::StatusCode;
use serde_json::json;

async fn writer(app: &TestApp) -> Auth {
    app.project("PRJ", false).await;
    app.repo("PRJ", "code", false).await;
    let user = app.user("wes").await;
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "wes", "REPO_ADMIN")
        .await;
    app.branches("PRJ", "code", &["main", "feature"]).await;
    app.token(&user, "admin").await.0
}

async fn workspaces_are_projects_and_the_personal_space(app: TestApp) {
    let t = writer(&app).await;
    let r = app.get("/2.0/workspaces?pagelen=5", &t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let slugs: Vec<&str> = r.body["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["wes", "prj"]);
    assert_eq!(r.body["values"][1]["type"], "workspace");
    let r = app.get("/2.0/workspaces/PRJ", &t).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["slug"], "prj");
    let r = app.get("/2.0/workspaces/nowhere", &t).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["type"], "error");
}

async fn an_oauth_token_reads_within_its_scope(app: TestApp) {
    writer(&app).await;
    let read = app.oauth_token("wes", "REPO_READ").await;
    let r = app.get("/2.0/repositories/prj/code", &read).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["full_name"], "prj/code");
    let hook = app
        .post(
            "/2.0/repositories/prj/code/hooks",
            &read,
            json!({"url": "https://ci.example.com/h", "events": ["repo:push"]}),
        )
        .await;
    assert_eq!(hook.status, StatusCode::FORBIDDEN, "{}", hook.text);
    assert_eq!(
        hook.body["error"]["detail"]["required"],
        json!(["repository:admin"])
    );
}

async fn workspaces_and_repositories_resolve_by_their_uuids(app: TestApp) {
    let t = writer(&app).await;
    let repo = app.get("/2.0/repositories/prj/code", &t).await;
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let ws = enc(repo.body["workspace"]["uuid"].as_str().unwrap());
    let id = enc(repo.body["uuid"].as_str().unwrap());
    let by_uuid = app.get(&format!("/2.0/repositories/{ws}/{id}"), &t).await;
    assert_eq!(by_uuid.status, StatusCode::OK, "{}", by_uuid.text);
    assert_eq!(by_uuid.body["full_name"], "prj/code");
    let mixed = app
        .get(&format!("/2.0/repositories/prj/{id}/pullrequests"), &t)
        .await;
    assert_eq!(mixed.status, StatusCode::OK, "{}", mixed.text);
    let w = app.get(&format!("/2.0/workspaces/{ws}"), &t).await;
    assert_eq!(w.body["slug"], "prj");
    let unknown = enc("{00000000-0000-5000-8000-000000000000}");
    let r = app
        .get(&format!("/2.0/repositories/{ws}/{unknown}"), &t)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn code_reads_in_cloud_shapes(app: TestApp) {
    let t = writer(&app).await;
    let r = app
        .get("/2.0/repositories/prj/code/refs/branches", &t)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let names: Vec<&str> = r.body["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["feature", "main"]);
    assert_eq!(r.body["size"], 2);
    let r = app
        .get("/2.0/repositories/prj/code/commits/feature?pagelen=1", &t)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["values"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["values"][0]["type"], "commit");
    assert!(r.body["next"]
        .as_str()
        .unwrap()
        .ends_with("/2.0/repositories/prj/code/commits/feature?pagelen=1&page=2"));
    let hash = r.body["values"][0]["hash"].as_str().unwrap().to_string();
    let one = app
        .get(&format!("/2.0/repositories/prj/code/commit/{hash}"), &t)
        .await;
    assert_eq!(one.body["hash"], hash.as_str());
    assert!(one.body["author"]["raw"].as_str().unwrap().contains('<'));
    let dir = app.get("/2.0/repositories/prj/code/src/main/", &t).await;
    assert_eq!(dir.status, StatusCode::OK, "{}", dir.text);
    let first = &dir.body["values"][0];
    assert_eq!(first["type"], "commit_file");
    let path = first["path"].as_str().unwrap().to_string();
    let file = app
        .client
        .get(format!(
            "{}/2.0/repositories/prj/code/src/main/{path}",
            app.base
        ))
        .bearer_auth(match &t {
            Auth::Bearer(b) => b.clone(),
            _ => unreachable!(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert!(!file.bytes().await.unwrap().is_empty());
}

async fn a_pull_request_shows_its_commits_diff_and_diffstat(app: TestApp) {
    let t = writer(&app).await;
    let pr = app
        .post("/2.0/repositories/prj/code/pullrequests", &t, json!({"title": "Feature", "source": {"branch": {"name": "feature"}}, "destination": {"branch": {"name": "main"}}}))
        .await;
    assert_eq!(pr.status, StatusCode::CREATED, "{}", pr.text);
    assert_eq!(pr.body["id"], 1);
    let commits = app
        .get("/2.0/repositories/prj/code/pullrequests/1/commits", &t)
        .await;
    assert_eq!(commits.status, StatusCode::OK, "{}", commits.text);
    assert!(!commits.body["values"].as_array().unwrap().is_empty());
    let stat = app
        .get("/2.0/repositories/prj/code/pullrequests/1/diffstat", &t)
        .await;
    assert_eq!(stat.status, StatusCode::OK, "{}", stat.text);
    assert_eq!(stat.body["values"][0]["type"], "diffstat");
    let diff = app
        .get("/2.0/repositories/prj/code/pullrequests/1/diff", &t)
        .await;
    assert_eq!(diff.status, StatusCode::OK);
    assert!(diff.text.starts_with("diff --git"), "{}", diff.text);
    let c = app
        .post(
            "/2.0/repositories/prj/code/pullrequests/1/comments",
            &t,
            json!({"content": {"raw": "Looks good"}}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    assert_eq!(c.body["type"], "pullrequest_comment");
    let all = app
        .get("/2.0/repositories/prj/code/pullrequests/1/comments", &t)
        .await;
    assert_eq!(all.body["size"], 1);
    let declined = app
        .post(
            "/2.0/repositories/prj/code/pullrequests/1/decline",
            &t,
            json!({}),
        )
        .await;
    assert_eq!(declined.status, StatusCode::OK, "{}", declined.text);
    assert_eq!(declined.body["state"], "DECLINED");
    let open = app.get("/2.0/repositories/prj/code/pullrequests", &t).await;
    assert_eq!(open.body["size"], 0);
    let closed = app
        .get(
            "/2.0/repositories/prj/code/pullrequests?state=DECLINED&state=MERGED",
            &t,
        )
        .await;
    assert_eq!(closed.body["size"], 1);
}

async fn repository_webhooks_are_managed_in_cloud_shape(app: TestApp) {
    let t = writer(&app).await;
    let created = app
        .post("/2.0/repositories/prj/code/hooks", &t, json!({"description": "CI", "url": "https://ci.example.com/hook", "active": true, "events": ["repo:push", "pullrequest:created"]}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let uid = created.body["uuid"].as_str().unwrap().to_string();
    assert!(uid.starts_with('{') && uid.ends_with('}'));
    assert_eq!(created.body["type"], "webhook_subscription");
    assert_eq!(
        created.body["events"],
        json!(["repo:push", "pullrequest:created"])
    );
    let enc: String = url::form_urlencoded::byte_serialize(uid.as_bytes()).collect();
    let path = format!("/2.0/repositories/prj/code/hooks/{enc}");
    let updated = app.put(&path, &t, json!({"active": false})).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.body["active"], false);
    // The same hook over Data Center's REST: one set of hooks, two shapes.
    let dc = app
        .get("/rest/api/1.0/projects/PRJ/repos/code/webhooks", &admin())
        .await;
    assert_eq!(dc.body["values"][0]["name"], "CI");
    assert_eq!(app.delete(&path, &t).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path, &t).await.status, StatusCode::NOT_FOUND);
    let bad = app
        .post(
            "/2.0/repositories/prj/code/hooks",
            &t,
            json!({"url": "not a url"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(bad.body["type"], "error");
}

async fn a_pull_request_is_updated_and_shows_its_activity(app: TestApp) {
    let t = writer(&app).await;
    app.user("rev").await;
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "rev", "REPO_READ")
        .await;
    let created = app
        .post(
            "/2.0/repositories/prj/code/pullrequests",
            &t,
            json!({"title": "Draft", "source": {"branch": {"name": "feature"}}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["destination"]["branch"]["name"], "main");
    let path = "/2.0/repositories/prj/code/pullrequests/1";
    let r = app
        .put(
            path,
            &t,
            json!({"title": "Ready", "reviewers": [{"username": "rev"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["title"], "Ready");
    assert_eq!(r.body["reviewers"][0]["nickname"], "rev");
    let rev = app
        .token(&crate::harness::basic("rev", "rev-password"), "read")
        .await
        .0;
    let ok = app.post(&format!("{path}/approve"), &rev, json!({})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.body["approved"], true);
    app.post(
        &format!("{path}/comments"),
        &t,
        json!({"content": {"raw": "Thanks"}}),
    )
    .await;
    let activity = app.get(&format!("{path}/activity"), &t).await;
    assert_eq!(activity.status, StatusCode::OK, "{}", activity.text);
    let kinds: Vec<&str> = activity.body["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            ["comment", "approval", "update"]
                .into_iter()
                .find(|k| v.get(*k).is_some())
                .unwrap()
        })
        .collect();
    assert!(
        kinds.contains(&"comment") && kinds.contains(&"approval"),
        "{kinds:?}"
    );
    assert_eq!(kinds.last(), Some(&"update"));
    let no_source = app
        .post(
            "/2.0/repositories/prj/code/pullrequests",
            &t,
            json!({"title": "x"}),
        )
        .await;
    assert_eq!(
        no_source.status,
        StatusCode::BAD_REQUEST,
        "{}",
        no_source.text
    );
    assert!(
        no_source.body["error"]["fields"]["source.branch.name"].is_array(),
        "{}",
        no_source.text
    );
    let bad = app.put(path, &t, json!({"title": ""})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(
        bad.body["error"]["fields"]["title"][0],
        "A pull request needs a title."
    );
}

both_backends!(
    workspaces_are_projects_and_the_personal_space,
    code_reads_in_cloud_shapes,
    a_pull_request_shows_its_commits_diff_and_diffstat,
    repository_webhooks_are_managed_in_cloud_shape,
    a_pull_request_is_updated_and_shows_its_activity,
    an_oauth_token_reads_within_its_scope,
    workspaces_and_repositories_resolve_by_their_uuids,
);
