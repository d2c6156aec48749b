use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn project_crud(app: TestApp) {
    let created = app.project("prj", false).await;
    assert_eq!(created["key"], json!("PRJ"));
    assert_eq!(created["name"], json!("Project prj"));
    assert_eq!(created["public"], json!(false));
    assert_eq!(created["type"], json!("NORMAL"));
    let r = app.get("/rest/api/1.0/projects/prj", &admin()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, created);
    let r = app
        .put(
            "/rest/api/1.0/projects/PRJ",
            &admin(),
            json!({"description": "Hello", "public": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["description"], json!("Hello"));
    assert_eq!(r.body["public"], json!(true));
    assert_eq!(r.body["name"], json!("Project prj"));
    let r = app.delete("/rest/api/1.0/projects/PRJ", &admin()).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get("/rest/api/1.0/projects/PRJ", &admin()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.exception(),
        "com.atlassian.bitbucket.project.NoSuchProjectException"
    );
    assert_eq!(r.message(), "Project PRJ does not exist.");
}

async fn project_paging(app: TestApp) {
    for k in ["A", "B", "C"] {
        app.project(k, false).await;
    }
    let r = app.get("/rest/api/1.0/projects?limit=2", &admin()).await;
    assert_eq!(r.body["size"], json!(2));
    assert_eq!(r.body["isLastPage"], json!(false));
    assert_eq!(r.body["nextPageStart"], json!(2));
    assert_eq!(r.body["values"][0]["key"], json!("A"));
    let r = app
        .get("/rest/api/1.0/projects?start=2&limit=2", &admin())
        .await;
    assert_eq!(r.body["size"], json!(1));
    assert_eq!(r.body["isLastPage"], json!(true));
    assert!(r.body.get("nextPageStart").is_none());
    assert_eq!(r.body["values"][0]["key"], json!("C"));
    let r = app.get("/rest/api/1.0/projects?limit=0", &admin()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.context(), "limit");
    let r = app.get("/rest/api/1.0/projects?start=abc", &admin()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.message(),
        "The query parameter start must be a whole number."
    );
    assert_eq!(r.context(), "start");
}

async fn bad_project_input_is_refused_and_nothing_is_written(app: TestApp) {
    app.project("TAKEN", false).await;
    let cases = [
        (
            json!({"key": "1BAD", "name": "x"}),
            StatusCode::BAD_REQUEST,
            "key",
        ),
        (
            json!({"key": "BAD-KEY", "name": "x"}),
            StatusCode::BAD_REQUEST,
            "key",
        ),
        (json!({"name": "no key"}), StatusCode::BAD_REQUEST, "key"),
        (json!({"key": "OK"}), StatusCode::BAD_REQUEST, "name"),
        (
            json!({"key": "OK", "name": "   "}),
            StatusCode::BAD_REQUEST,
            "name",
        ),
        (
            json!({"key": "OK", "name": "x", "description": "d".repeat(10_001)}),
            StatusCode::BAD_REQUEST,
            "description",
        ),
        (
            json!({"key": "taken", "name": "Other"}),
            StatusCode::CONFLICT,
            "key",
        ),
        (
            json!({"key": "OTHER", "name": "Project TAKEN"}),
            StatusCode::CONFLICT,
            "name",
        ),
    ];
    for (body, status, context) in cases {
        let r = app
            .post("/rest/api/1.0/projects", &admin(), body.clone())
            .await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert_eq!(r.context(), context, "{body}");
        assert!(!r.message().is_empty());
    }
    // Wrong types and malformed JSON.
    let r = app
        .post(
            "/rest/api/1.0/projects",
            &admin(),
            json!({"key": 5, "name": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.message(), "key must be text, not the number 5.");
    assert_eq!(r.context(), "key");
    let r = app
        .client
        .post(format!("{}/rest/api/1.0/projects", app.base))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .header("content-type", "application/json")
        .body("{\"key\": ")
        .send()
        .await
        .unwrap();
    let r = TestApp::read(r).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.message()
            .starts_with("The request body is not valid JSON"),
        "{}",
        r.message()
    );
    let r = app
        .client
        .post(format!("{}/rest/api/1.0/projects", app.base))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .body("key=X")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Oversize body (the test server accepts 64 KiB).
    let r = app
        .post(
            "/rest/api/1.0/projects",
            &admin(),
            json!({"key": "BIG", "name": "x", "description": "d".repeat(70_000)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.exception(),
        "com.atlassian.bitbucket.rest.RequestTooLargeException"
    );
    // Only the first project exists.
    let r = app.get("/rest/api/1.0/projects", &admin()).await;
    assert_eq!(r.body["size"], json!(1));
    assert_eq!(app.store.list_projects().await.unwrap().len(), 1);
}

async fn project_with_repositories_cannot_be_deleted(app: TestApp) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    let r = app.delete("/rest/api/1.0/projects/P", &admin()).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.message().contains("still has repositories"));
    assert!(app.store.find_project("P").await.unwrap().is_some());
}

async fn repository_crud_and_search(app: TestApp) {
    app.project("P", false).await;
    let created = app.repo("P", "My Repo", false).await;
    assert_eq!(created["slug"], json!("my-repo"));
    assert_eq!(created["project"]["key"], json!("P"));
    assert_eq!(created["scmId"], json!("git"));
    assert_eq!(created["defaultBranch"], json!("main"));
    assert_eq!(
        created["links"]["clone"][0]["href"],
        json!(format!("{}/scm/p/my-repo.git", app.base))
    );
    let r = app
        .get("/rest/api/1.0/projects/P/repos/my-repo", &admin())
        .await;
    assert_eq!(r.body, created);
    let r = app
        .put(
            "/rest/api/1.0/projects/P/repos/my-repo",
            &admin(),
            json!({"description": "d", "defaultBranch": "develop"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["defaultBranch"], json!("develop"));
    app.repo("P", "Other", true).await;
    let r = app.get("/rest/api/1.0/projects/P/repos", &admin()).await;
    assert_eq!(r.body["size"], json!(2));
    let r = app.get("/rest/api/1.0/repos?name=my", &admin()).await;
    assert_eq!(r.body["size"], json!(1));
    assert_eq!(r.body["values"][0]["slug"], json!("my-repo"));
    let r = app
        .get("/rest/api/1.0/repos?visibility=public", &admin())
        .await;
    assert_eq!(
        r.body["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["slug"].clone())
            .collect::<Vec<_>>(),
        vec![json!("other")]
    );
    let r = app
        .get("/rest/api/1.0/repos?visibility=secret", &admin())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.context(), "visibility");
    let r = app
        .delete("/rest/api/1.0/projects/P/repos/my-repo", &admin())
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let r = app
        .get("/rest/api/1.0/projects/P/repos/my-repo", &admin())
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.exception(),
        "com.atlassian.bitbucket.repository.NoSuchRepositoryException"
    );
}

async fn bad_repository_input_is_refused(app: TestApp) {
    app.project("P", false).await;
    app.repo("P", "one", false).await;
    let cases = [
        (json!({"name": "one"}), StatusCode::CONFLICT),
        (json!({"name": "x", "slug": "ONE"}), StatusCode::CONFLICT),
        (
            json!({"name": "x", "slug": "../etc"}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"name": "x", "scmId": "hg"}), StatusCode::BAD_REQUEST),
        (
            json!({"name": "x", "defaultBranch": "a..b"}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"name": ""}), StatusCode::BAD_REQUEST),
        (json!({"name": ["x"]}), StatusCode::BAD_REQUEST),
    ];
    for (body, status) in cases {
        let r = app
            .post("/rest/api/1.0/projects/P/repos", &admin(), body.clone())
            .await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert!(!r.message().is_empty());
    }
    let r = app
        .post(
            "/rest/api/1.0/projects/NOPE/repos",
            &admin(),
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.store.list_repositories(None).await.unwrap().len(), 1);
}

async fn cookie_less_clients_need_no_xsrf_header(app: TestApp) {
    // Basic-authenticated scripts are not subject to the browser XSRF check.
    let r = app
        .call(
            Method::POST,
            "/rest/api/1.0/projects",
            &admin(),
            Some(json!({"key": "S", "name": "S"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

crate::both_backends!(
    project_crud,
    project_paging,
    bad_project_input_is_refused_and_nothing_is_written,
    project_with_repositories_cannot_be_deleted,
    repository_crud_and_search,
    bad_repository_input_is_refused,
    cookie_less_clients_need_no_xsrf_header,
);
