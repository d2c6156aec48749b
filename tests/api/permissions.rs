use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const REPO: &str = "/rest/api/1.0/projects/P/repos/r";

async fn private_resources_are_invisible_without_a_grant(app: TestApp) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    let alice = app.user("alice").await;
    let r = app.get(REPO, &alice).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "existence is not revealed");
    let r = app.get("/rest/api/1.0/projects", &alice).await;
    assert_eq!(r.body["size"], json!(0));
    let r = app.get("/rest/api/1.0/repos", &alice).await;
    assert_eq!(r.body["size"], json!(0));
}

async fn public_repositories_are_readable_by_anyone(app: TestApp) {
    app.project("P", false).await;
    app.repo("P", "r", true).await;
    app.repo("P", "secret", false).await;
    let r = app.get(REPO, &Auth::None).await;
    assert_eq!(r.status, StatusCode::OK);
    // The project becomes visible through its public repository; the private one stays hidden.
    let r = app.get("/rest/api/1.0/projects/P/repos", &Auth::None).await;
    assert_eq!(r.body["size"], json!(1));
    let r = app
        .get("/rest/api/1.0/projects/P/repos/secret", &Auth::None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Reading is all anonymous access allows.
    let r = app
        .post(
            &format!("{REPO}/pull-requests"),
            &Auth::None,
            json!({"title": "t"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn project_grant_reaches_every_repository(app: TestApp) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    let alice = app.user("alice").await;
    app.grant("/rest/api/1.0/projects/P", "alice", "PROJECT_READ")
        .await;
    assert_eq!(app.get(REPO, &alice).await.status, StatusCode::OK);
    let r = app.put(REPO, &alice, json!({"description": "x"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.message(), "You need admin permission on this repository.");
    app.grant("/rest/api/1.0/projects/P", "alice", "PROJECT_ADMIN")
        .await;
    assert_eq!(
        app.put(REPO, &alice, json!({"description": "x"}))
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .get("/rest/api/1.0/projects/P/permissions/users", &admin())
        .await;
    assert_eq!(r.body["values"][0]["user"]["name"], json!("alice"));
    assert_eq!(r.body["values"][0]["permission"], json!("PROJECT_ADMIN"));
    let r = app
        .call(
            Method::DELETE,
            "/rest/api/1.0/projects/P/permissions/users?name=alice",
            &admin(),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(REPO, &alice).await.status, StatusCode::NOT_FOUND);
}

async fn team_grants_apply_to_members(app: TestApp) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    let alice = app.user("alice").await;
    let r = app
        .call(
            Method::POST,
            "/rest/api/1.0/admin/groups?name=devs",
            &admin(),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app
        .call(
            Method::PUT,
            &format!("{REPO}/permissions/groups?name=devs&permission=REPO_WRITE"),
            &admin(),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(app.get(REPO, &alice).await.status, StatusCode::NOT_FOUND);
    let r = app
        .put(
            "/rest/junction/1.0/teams/devs/members",
            &admin(),
            json!({"user": "alice"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(app.get(REPO, &alice).await.status, StatusCode::OK);
    let r = app
        .get(&format!("{REPO}/permissions/groups"), &admin())
        .await;
    assert_eq!(
        r.body["values"][0],
        json!({"group": {"name": "devs"}, "permission": "REPO_WRITE"})
    );
    // A deactivated team's grants stop applying; reactivated, they apply again.
    let r = app
        .call(
            Method::POST,
            "/rest/junction/1.0/admin/teams/devs/deactivate",
            &admin(),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["active"], json!(false));
    assert_eq!(app.get(REPO, &alice).await.status, StatusCode::NOT_FOUND);
    app.call(
        Method::POST,
        "/rest/junction/1.0/admin/teams/devs/activate",
        &admin(),
        None,
    )
    .await;
    assert_eq!(app.get(REPO, &alice).await.status, StatusCode::OK);
    let r = app
        .delete("/rest/junction/1.0/teams/devs/members/alice", &admin())
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(REPO, &alice).await.status, StatusCode::NOT_FOUND);
}

async fn team_admins_manage_their_own_team(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.user("carol").await;
    app.call(
        Method::POST,
        "/rest/api/1.0/admin/groups?name=web",
        &admin(),
        None,
    )
    .await;
    let r = app
        .put(
            "/rest/junction/1.0/teams/web/members",
            &alice,
            json!({"user": "bob"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    app.put(
        "/rest/junction/1.0/teams/web/members",
        &admin(),
        json!({"user": "alice", "role": "admin"}),
    )
    .await;
    let r = app
        .put(
            "/rest/junction/1.0/teams/web/members",
            &alice,
            json!({"user": "bob"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let roles: Vec<_> = r.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user"].clone(), m["role"].clone()))
        .collect();
    assert_eq!(
        roles,
        vec![
            (json!("admin"), json!("admin")),
            (json!("alice"), json!("admin")),
            (json!("bob"), json!("member"))
        ]
    );
    let r = app
        .put(
            "/rest/junction/1.0/teams/web/members",
            &bob,
            json!({"user": "carol"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "members are not admins");
    let r = app
        .put(
            "/rest/junction/1.0/teams/web/members",
            &alice,
            json!({"user": "carol", "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.context(), "role");
    let r = app
        .put(
            "/rest/junction/1.0/teams/web",
            &alice,
            json!({"displayName": "Web team"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["displayName"], json!("Web team"));
    let r = app
        .call(
            Method::POST,
            "/rest/junction/1.0/admin/teams/web/deactivate",
            &alice,
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "only system administrators deactivate teams"
    );
    let r = app
        .put(
            "/rest/junction/1.0/teams/nope/members",
            &admin(),
            json!({"user": "bob"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn global_permissions_and_the_last_sys_admin(app: TestApp) {
    let alice = app.user("alice").await;
    let r = app
        .post(
            "/rest/api/1.0/projects",
            &alice,
            json!({"key": "A", "name": "A"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    app.grant("/rest/api/1.0/admin", "alice", "PROJECT_CREATE")
        .await;
    let r = app
        .post(
            "/rest/api/1.0/projects",
            &alice,
            json!({"key": "A", "name": "A"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .call(
            Method::PUT,
            "/rest/api/1.0/admin/permissions/users?name=alice&permission=SUPERUSER",
            &admin(),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.message().contains("LICENSED_USER"));
    let r = app
        .call(
            Method::DELETE,
            "/rest/api/1.0/admin/permissions/users?name=admin",
            &admin(),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.exception(),
        "com.atlassian.bitbucket.permission.LastSysAdminException"
    );
    // An ADMIN cannot make anyone SYS_ADMIN.
    app.grant("/rest/api/1.0/admin", "alice", "ADMIN").await;
    let r = app
        .call(
            Method::PUT,
            "/rest/api/1.0/admin/permissions/users?name=alice&permission=SYS_ADMIN",
            &alice,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .get("/rest/api/1.0/admin/permissions/users", &admin())
        .await;
    let perms: Vec<_> = r.body["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["user"]["name"].clone(), v["permission"].clone()))
        .collect();
    assert_eq!(
        perms,
        vec![
            (json!("admin"), json!("SYS_ADMIN")),
            (json!("alice"), json!("ADMIN"))
        ]
    );
    let audit = app
        .get(
            "/rest/junction/1.0/audit?action=permission.granted",
            &admin(),
        )
        .await;
    assert_eq!(
        audit.body["values"][0]["details"],
        json!("user:alice = ADMIN")
    );
}

async fn a_token_never_exceeds_its_permission_or_its_user(app: TestApp) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    let (read, _) = app.token(&admin(), "read").await;
    assert_eq!(app.get(REPO, &read).await.status, StatusCode::OK);
    let r = app.put(REPO, &read, json!({"description": "x"})).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a read token of a sys admin cannot administer"
    );
    let r = app
        .post(
            "/rest/api/1.0/projects",
            &read,
            json!({"key": "Q", "name": "Q"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (admin_token, _) = app.token(&admin(), "admin").await;
    assert_eq!(
        app.put(REPO, &admin_token, json!({"description": "x"}))
            .await
            .status,
        StatusCode::OK
    );
    let alice = app.user("alice").await;
    app.grant(REPO, "alice", "REPO_READ").await;
    let (alice_admin, _) = app.token(&alice, "admin").await;
    let r = app
        .put(REPO, &alice_admin, json!({"description": "y"}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "the token is capped by its user's permission"
    );
    let r = app
        .call(
            Method::POST,
            "/rest/api/1.0/admin/users?name=x&password=xxxxxxxxx",
            &alice_admin,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

crate::both_backends!(
    private_resources_are_invisible_without_a_grant,
    public_repositories_are_readable_by_anyone,
    project_grant_reaches_every_repository,
    team_grants_apply_to_members,
    team_admins_manage_their_own_team,
    global_permissions_and_the_last_sys_admin,
    a_token_never_exceeds_its_permission_or_its_user,
);
