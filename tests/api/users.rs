use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn users_are_listed_and_found(app: TestApp) {
    let alice = app.user("alice").await;
    let r = app.get("/rest/api/1.0/users", &alice).await;
    assert_eq!(r.status, StatusCode::OK);
    let names: Vec<_> = r.body["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("admin"), json!("alice")]);
    let r = app.get("/rest/api/1.0/users/alice", &alice).await;
    assert_eq!(
        r.body,
        json!({"name": "alice", "emailAddress": "alice@example.com", "active": true, "displayName": "alice",
               "id": r.body["id"], "slug": "alice", "type": "NORMAL", "links": {"self": [{"href": format!("{}/users/alice", app.base)}]}})
    );
    let r = app.get("/rest/api/1.0/users?filter=ali", &alice).await;
    assert_eq!(r.body["size"], json!(1));
    let r = app.get("/rest/api/1.0/users/nobody", &alice).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.exception(),
        "com.atlassian.bitbucket.user.NoSuchUserException"
    );
    assert_eq!(
        app.get("/rest/api/1.0/users", &Auth::None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn admins_create_and_edit_users(app: TestApp) {
    let alice = app.user("alice").await;
    let cases = [
        (
            "/rest/api/1.0/admin/users?name=alice&password=long-enough",
            StatusCode::CONFLICT,
            "name",
        ),
        (
            "/rest/api/1.0/admin/users?name=new&password=short",
            StatusCode::BAD_REQUEST,
            "password",
        ),
        (
            "/rest/api/1.0/admin/users?name=no%20spaces&password=long-enough",
            StatusCode::BAD_REQUEST,
            "name",
        ),
        (
            "/rest/api/1.0/admin/users?name=new&password=long-enough&emailAddress=nope",
            StatusCode::BAD_REQUEST,
            "emailAddress",
        ),
    ];
    for (path, status, context) in cases {
        let r = app.call(Method::POST, path, &admin(), None).await;
        assert_eq!(r.status, status, "{path}: {}", r.text);
        assert_eq!(r.context(), context, "{path}");
    }
    let r = app
        .call(
            Method::POST,
            "/rest/api/1.0/admin/users?name=eve&password=long-enough",
            &alice,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .put(
            "/rest/api/1.0/admin/users",
            &admin(),
            json!({"name": "alice", "displayName": "Alice A.", "email": "a@example.org"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["displayName"], json!("Alice A."));
    assert_eq!(r.body["emailAddress"], json!("a@example.org"));
    let r = app.get("/rest/api/1.0/admin/users", &admin()).await;
    assert_eq!(
        r.body["size"],
        json!(2),
        "failed creations left nothing behind"
    );
    let audit = app
        .get("/rest/junction/1.0/audit?action=user.created", &admin())
        .await;
    assert_eq!(audit.body["values"][0]["target"], json!("user:alice"));
    assert_eq!(audit.body["values"][0]["actorName"], json!("admin"));
    assert_eq!(
        app.get("/rest/junction/1.0/audit", &alice).await.status,
        StatusCode::FORBIDDEN
    );
}

crate::both_backends!(users_are_listed_and_found, admins_create_and_edit_users);
