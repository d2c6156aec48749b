//! The last system administrator cannot be demoted, revoked or deactivated — decided in the
//! change's own transaction, so two such changes at once cannot both pass.

use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Two system administrators: `admin` and `root2`.
async fn two_sys_admins(app: &TestApp) -> Auth {
    let root2 = app.user("root2").await;
    app.grant("/rest/api/1.0/admin", "root2", "SYS_ADMIN").await;
    root2
}

/// Active users holding SYS_ADMIN directly, read from the store (whoever is left to ask).
async fn sys_admins(app: &TestApp) -> Vec<String> {
    app.store
        .grant_holders(junction::store::GrantTarget::Global, "user")
        .await
        .unwrap()
        .into_iter()
        .filter(|h| h.permission == "SYS_ADMIN" && h.active)
        .map(|h| h.slug)
        .collect()
}

/// (succeeded, refused). A refusal is the last-administrator rule (409) when both changes
/// overlapped, or 403 when the other change finished first and took this caller's permission.
fn outcomes(rs: &[Response]) -> (usize, usize) {
    let ok = rs.iter().filter(|r| r.status.is_success()).count();
    let refused = rs
        .iter()
        .filter(|r| {
            (r.status == StatusCode::CONFLICT
                && r.exception() == "com.atlassian.bitbucket.permission.LastSysAdminException")
                || (r.status == StatusCode::FORBIDDEN
                    && r.exception() == "com.atlassian.bitbucket.AuthorisationException")
                || r.status == StatusCode::UNAUTHORIZED // deactivated first
        })
        .count();
    (ok, refused)
}

/// Makes both of them SYS_ADMIN again, for another round.
async fn restore(app: &TestApp) {
    for name in ["admin", "root2"] {
        let id = app.store.find_account(name).await.unwrap().unwrap().id;
        let global = junction::store::GrantTarget::Global;
        app.store
            .set_grant(global, id, "SYS_ADMIN", None, None)
            .await
            .unwrap();
    }
}

/// Rounds per race: each overlaps differently; every one must keep a system administrator.
const ROUNDS: usize = 5;

/// Each of the two administrators takes SYS_ADMIN from the other at the same moment (`path`
/// names whom), `rounds` times: every time one change passes and one system administrator is
/// left.
async fn race(app: &TestApp, method: Method, path: fn(&str) -> String, rounds: usize) {
    let root2 = two_sys_admins(app).await;
    for _ in 0..rounds {
        let change = |whom: &str, by: Auth| {
            let (method, path) = (method.clone(), path(whom));
            async move { app.call(method, &path, &by, Some(json!({}))).await }
        };
        let rs = join_all(vec![
            change("root2", admin()),
            change("admin", root2.clone()),
        ])
        .await;
        let texts: Vec<_> = rs.iter().map(|r| &r.text).collect();
        assert_eq!(outcomes(&rs), (1, 1), "{texts:?}");
        assert_eq!(sys_admins(app).await.len(), 1);
        restore(app).await;
        if method == Method::POST {
            // Deactivation: make both active again too.
            for name in ["admin", "root2"] {
                let id = app.store.find_account(name).await.unwrap().unwrap().id;
                app.store.set_active(id, true, None, None).await.unwrap();
            }
        }
    }
}

async fn two_demotions_at_once_leave_one_sys_admin(app: TestApp) {
    let path =
        |whom: &str| format!("/rest/api/1.0/admin/permissions/users?name={whom}&permission=ADMIN");
    race(&app, Method::PUT, path, ROUNDS).await;
}

async fn two_revocations_at_once_leave_one_sys_admin(app: TestApp) {
    let path = |whom: &str| format!("/rest/api/1.0/admin/permissions/users?name={whom}");
    race(&app, Method::DELETE, path, ROUNDS).await;
}

async fn two_deactivations_at_once_leave_one_sys_admin(app: TestApp) {
    let path = |whom: &str| format!("/rest/junction/1.0/admin/users/{whom}/deactivate");
    race(&app, Method::POST, path, ROUNDS).await;
}

async fn others_can_be_deactivated_when_no_one_holds_sys_admin_directly(app: TestApp) {
    // Only a team holds SYS_ADMIN: admin is one through the team, and its direct grant is gone
    // (taken in the store: through the API the rule would keep it). The rule counts direct
    // holders, so before and after are both 0: deactivating someone takes nothing away.
    let r = app
        .call(
            Method::POST,
            "/rest/api/1.0/admin/groups?name=ops",
            &admin(),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app
        .put(
            "/rest/junction/1.0/teams/ops/members",
            &admin(),
            json!({"user": "admin"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let path = "/rest/api/1.0/admin/permissions/groups?name=ops&permission=SYS_ADMIN";
    let r = app.call(Method::PUT, path, &admin(), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let id = app.store.find_account("admin").await.unwrap().unwrap().id;
    let global = junction::store::GrantTarget::Global;
    app.store
        .revoke_grant(global, id, None, None)
        .await
        .unwrap();
    assert!(sys_admins(&app).await.is_empty());
    app.user("carol").await;
    let r = app
        .post(
            "/rest/junction/1.0/admin/users/carol/deactivate",
            &admin(),
            json!({}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let carol = app.store.find_account("carol").await.unwrap().unwrap();
    assert!(!carol.active);
}

crate::both_backends!(
    two_demotions_at_once_leave_one_sys_admin,
    two_revocations_at_once_leave_one_sys_admin,
    two_deactivations_at_once_leave_one_sys_admin,
    others_can_be_deactivated_when_no_one_holds_sys_admin_directly,
);
