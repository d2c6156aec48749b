use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn token_is_shown_once_hashed_and_revocable(app: TestApp) {
    let alice = app.user("alice").await;
    let (token, created) = app.token(&alice, "write").await;
    let secret = created["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("jct_pat_"), "recognisable prefix");
    assert_eq!(created["permission"], json!("write"));
    assert_eq!(
        created["permissions"],
        json!(["PROJECT_WRITE", "REPO_WRITE"])
    );
    assert_eq!(created["user"]["name"], json!("alice"));
    let r = app.get("/rest/api/1.0/users/alice", &token).await;
    assert_eq!(r.status, StatusCode::OK);
    let list = app.get("/rest/access-tokens/1.0/users/alice", &alice).await;
    assert_eq!(list.body["size"], json!(1));
    assert!(
        list.body["values"][0].get("token").is_none(),
        "never shown again"
    );
    assert!(
        list.body["values"][0]["lastAuthenticated"].is_i64(),
        "last use is recorded"
    );
    assert!(!list.text.contains(&secret));
    // Stored as a hash only.
    let alice_id = app.store.find_account("alice").await.unwrap().unwrap().id;
    let stored = app.store.list_access_tokens(alice_id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        app.store.use_access_token(&secret).await.unwrap().is_none(),
        "the raw token is not a key"
    );
    let id = created["id"].as_str().unwrap();
    let r = app
        .delete(&format!("/rest/access-tokens/1.0/users/alice/{id}"), &alice)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/rest/api/1.0/users/alice", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .delete(&format!("/rest/access-tokens/1.0/users/alice/{id}"), &alice)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let audit = app.get("/rest/junction/1.0/audit", &admin()).await;
    let actions: Vec<_> = audit.body["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert!(
        actions.contains(&"token.created".to_string())
            && actions.contains(&"token.revoked".to_string()),
        "{actions:?}"
    );
}

async fn tokens_expire(app: TestApp) {
    let alice = app.user("alice").await;
    let r = app
        .put(
            "/rest/access-tokens/1.0/users/alice",
            &alice,
            json!({"name": "short", "permissions": ["REPO_READ"], "expiryDays": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["permission"], json!("read"));
    let token = Auth::Bearer(r.body["token"].as_str().unwrap().into());
    assert_eq!(
        app.get("/rest/api/1.0/users", &token).await.status,
        StatusCode::OK
    );
    app.clock.advance_ms(86_400_000 + 1);
    assert_eq!(
        app.get("/rest/api/1.0/users", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn bad_token_requests(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let cases = [
        (json!({"name": "x"}), StatusCode::BAD_REQUEST, "permission"),
        (
            json!({"name": "x", "permission": "root"}),
            StatusCode::BAD_REQUEST,
            "permission",
        ),
        (
            json!({"name": "", "permission": "read"}),
            StatusCode::BAD_REQUEST,
            "name",
        ),
        (
            json!({"name": "x", "permission": "read", "expiryDays": 0}),
            StatusCode::BAD_REQUEST,
            "expiryDays",
        ),
    ];
    for (body, status, context) in cases {
        let r = app
            .put("/rest/access-tokens/1.0/users/alice", &alice, body.clone())
            .await;
        assert_eq!(r.status, status, "{body}");
        assert_eq!(r.context(), context, "{body}");
    }
    let (token, _) = app.token(&alice, "admin").await;
    let r = app
        .put(
            "/rest/access-tokens/1.0/users/alice",
            &token,
            json!({"name": "y", "permission": "read"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a token cannot mint tokens"
    );
    let r = app
        .put(
            "/rest/access-tokens/1.0/users/alice",
            &bob,
            json!({"name": "z", "permission": "read"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.get("/rest/access-tokens/1.0/users/alice", &bob).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .get("/rest/access-tokens/1.0/users/alice", &admin())
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "administrators may review anyone's tokens"
    );
    let name = r.body["values"][0]["name"].as_str().unwrap().to_string();
    let r = app
        .put(
            "/rest/access-tokens/1.0/users/alice",
            &alice,
            json!({"name": name, "permission": "read"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let alice_id = app.store.find_account("alice").await.unwrap().unwrap().id;
    assert_eq!(
        app.store.list_access_tokens(alice_id).await.unwrap().len(),
        1
    );
}

async fn deactivation_stops_tokens_at_once(app: TestApp) {
    let alice = app.user("alice").await;
    let (token, _) = app.token(&alice, "read").await;
    assert_eq!(
        app.get("/rest/api/1.0/users", &token).await.status,
        StatusCode::OK
    );
    let r = app
        .call(
            Method::POST,
            "/rest/junction/1.0/admin/users/alice/deactivate",
            &admin(),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["active"], json!(false));
    assert_eq!(
        app.get("/rest/api/1.0/users", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/rest/api/1.0/users", &alice).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .call(
            Method::POST,
            "/rest/junction/1.0/admin/users/alice/activate",
            &admin(),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.get("/rest/api/1.0/users", &token).await.status,
        StatusCode::OK
    );
    let r = app
        .call(
            Method::POST,
            "/rest/junction/1.0/admin/users/admin/deactivate",
            &admin(),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "no locking yourself out");
}

crate::both_backends!(
    token_is_shown_once_hashed_and_revocable,
    tokens_expire,
    bad_token_requests,
    deactivation_stops_tokens_at_once
);

/// Data Center's permission pairs are kept as asked, and the token is capped by them.
async fn permissions_are_kept_as_asked(app: TestApp) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    let r = app
        .put(
            "/rest/access-tokens/1.0/users/admin",
            &admin(),
            serde_json::json!({"name": "ci", "permissions": ["REPO_WRITE", "PROJECT_READ"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.body["permissions"],
        serde_json::json!(["PROJECT_READ", "REPO_WRITE"])
    );
    let id = r.body["id"].as_str().unwrap().to_string();
    let token = Auth::Bearer(r.body["token"].as_str().unwrap().to_string());
    let again = app
        .get(
            &format!("/rest/access-tokens/1.0/users/admin/{id}"),
            &admin(),
        )
        .await;
    assert_eq!(
        again.body["permissions"],
        serde_json::json!(["PROJECT_READ", "REPO_WRITE"])
    );
    // It may not administer the project it only reads, though its owner could.
    let r = app
        .put(
            "/rest/api/1.0/projects/P",
            &token,
            serde_json::json!({"name": "Renamed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(
        app.get("/rest/api/1.0/projects/P/repos/r", &token)
            .await
            .status,
        StatusCode::OK
    );
}

mod as_asked {
    crate::both_backends!(permissions_are_kept_as_asked);
    use super::permissions_are_kept_as_asked;
}
