//! A webhook's statistics, its latest invocation and the list's filters, in Bitbucket Data
//! Center's shape — and atlassian-python-api managing webhooks as it would on Data Center.

use crate::harness::{admin, TestApp};
use crate::receiver::{eventually, Receiver};
use crate::webhooks::{hook, setup, touch_repo, HOOKS};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Two hooks with attempts of each outcome: `path`'s got one success and one 500, `dead_path`'s
/// got no answer at all (its port is closed).
struct Delivered {
    path: String,
    dead_path: String,
    stats: Value,
    success: Value,
    failure: Value,
}

async fn statistics_latest_and_filters(app: TestApp) {
    let d = two_hooks_with_attempts(&app).await;
    latest_picks_by_outcome_and_event(&app, &d).await;
    summary_counts_per_event(&app, &d).await;
    no_answer_is_an_error(&app, &d).await;
    the_list_filters_by_event_with_statistics(&app, &d).await;
    a_day_later_the_window_has_moved(&app, &d).await;
}

async fn two_hooks_with_attempts(app: &TestApp) -> Delivered {
    setup(app).await;
    // The first delivery succeeds, the second is answered 500.
    let rx = Receiver::start_ok_once().await;
    let h = hook(app, HOOKS, &rx.url, json!(["repo:updated"]), None).await;
    // A second hook at a port nobody listens on: its attempts get no answer at all.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/gone", l.local_addr().unwrap())
    };
    let r = app
        .post(
            HOOKS,
            &admin(),
            json!({"name": "nobody", "url": closed, "events": ["pullrequest:created", "repo:updated"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let dead = r.body;
    let path = format!("{HOOKS}/{}", h["id"]);
    let dead_path = format!("{HOOKS}/{}", dead["id"]);

    // Nothing delivered yet: zero counts, no latest invocation.
    let r = app.get(&format!("{path}/statistics"), &admin()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["counts"]["successes"], 0);
    assert_eq!(r.body["counts"]["window"]["duration"], 86_400_000);
    assert!(r.body.get("lastSuccess").is_none());
    let r = app.get(&format!("{path}/latest"), &admin()).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    touch_repo(app, "one").await;
    rx.wait_for(1).await;
    touch_repo(app, "two").await;
    let stats = eventually("both attempts recorded", || async {
        let s = app.get(&format!("{path}/statistics"), &admin()).await.body;
        (s["counts"]["failures"] == 1).then_some(s)
    })
    .await;
    assert_eq!(stats["counts"]["successes"], 1);
    assert_eq!(stats["counts"]["errors"], 0);
    let success = &stats["lastSuccess"];
    assert_eq!(success["event"], "repo:updated");
    assert_eq!(success["result"]["outcome"], "SUCCESS");
    assert_eq!(success["result"]["statusCode"], 200);
    assert_eq!(success["request"], json!({"url": rx.url, "method": "POST"}));
    let repo = app.store.find_repository("P", "r").await.unwrap().unwrap();
    assert_eq!(
        success["eventScope"],
        json!({"type": "repository", "id": repo.id.to_string()})
    );
    assert_eq!(
        success["finish"].as_i64().unwrap() - success["start"].as_i64().unwrap(),
        success["duration"].as_i64().unwrap()
    );
    let failure = &stats["lastFailure"];
    assert_eq!(failure["result"]["outcome"], "FAILURE");
    assert_eq!(failure["result"]["statusCode"], 500);
    assert_eq!(
        failure["result"]["description"],
        "The receiver answered 500; only 2xx counts as delivered."
    );
    assert!(stats.get("lastError").is_none());

    let (success, failure) = (success.clone(), failure.clone());
    Delivered {
        path,
        dead_path,
        stats,
        success,
        failure,
    }
}

async fn latest_picks_by_outcome_and_event(app: &TestApp, d: &Delivered) {
    let (success, failure) = (&d.success, &d.failure);
    // latest: the newest attempt, or the newest of an outcome or event; 204 when none.
    let latest = |q: &'static str| {
        let path = d.path.clone();
        async move { app.get(&format!("{path}/latest{q}"), &admin()).await }
    };
    let r = latest("").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, *failure);
    assert_eq!(latest("?outcome=success").await.body, *success);
    assert_eq!(
        latest("?event=repo:updated&outcome=FAILURE").await.body,
        *failure
    );
    assert_eq!(
        latest("?event=pullrequest:created").await.status,
        StatusCode::NO_CONTENT
    );
    let r = latest("?outcome=maybe").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["context"], "outcome");
    let r = latest("?event=repo:refs_changed").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["context"], "event");
}

async fn summary_counts_per_event(app: &TestApp, d: &Delivered) {
    let path = &d.path;
    let r = app
        .get(&format!("{path}/statistics/summary"), &admin())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let counts = &r.body["repo:updated"]["counts"];
    assert_eq!(
        (&counts["successes"], &counts["failures"], &counts["errors"]),
        (&json!(1), &json!(1), &json!(0))
    );
    assert_eq!(r.body.as_object().unwrap().len(), 1);
}

async fn no_answer_is_an_error(app: &TestApp, d: &Delivered) {
    let dead_path = &d.dead_path;
    // No answer at all is an ERROR, with the reason.
    let dead_stats = eventually("the unreachable hook's attempts", || async {
        let s = app
            .get(&format!("{dead_path}/statistics"), &admin())
            .await
            .body;
        (s["counts"]["errors"] == 2).then_some(s)
    })
    .await;
    assert_eq!(dead_stats["lastError"]["result"]["outcome"], "ERROR");
    assert_eq!(dead_stats["lastError"]["result"]["statusCode"], Value::Null);
    assert!(
        dead_stats["lastError"]["result"]["description"]
            .as_str()
            .unwrap()
            .contains("refused"),
        "{dead_stats}"
    );
}

async fn the_list_filters_by_event_with_statistics(app: &TestApp, d: &Delivered) {
    let stats = &d.stats;
    // The list: only hooks that receive an event; with statistics when asked (any case).
    let names = |v: &Value| -> Vec<String> {
        v["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["name"].as_str().unwrap().to_string())
            .collect()
    };
    let r = app
        .get(&format!("{HOOKS}?event=pullrequest:created"), &admin())
        .await;
    assert_eq!(names(&r.body), ["nobody"]);
    let r = app
        .get(
            &format!("{HOOKS}?event=repo:updated&statistics=True"),
            &admin(),
        )
        .await;
    assert_eq!(names(&r.body), ["ci", "nobody"]);
    assert_eq!(r.body["values"][0]["statistics"], *stats);
    let r = app.get(HOOKS, &admin()).await;
    assert!(r.body["values"][0].get("statistics").is_none());
    let r = app
        .get(&format!("{HOOKS}?statistics=often"), &admin())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

async fn a_day_later_the_window_has_moved(app: &TestApp, d: &Delivered) {
    let (path, success) = (&d.path, &d.success);
    // A day later the success has left the window (the failed delivery may be retrying by
    // now, so only successes are sure to be zero); the latest invocations stay.
    app.clock.advance_ms(86_400_000 + 1);
    let r = app.get(&format!("{path}/statistics"), &admin()).await;
    assert_eq!(r.body["counts"]["successes"], 0);
    assert_eq!(r.body["lastSuccess"], *success);
}

async fn atlassian_python_api_manages_webhooks(app: TestApp) {
    let Some(python) = crate::interop::python() else {
        return;
    };
    setup(&app).await;
    let rx = Receiver::start_ok().await;
    let admin_user = app.user("hookadmin").await;
    app.grant(
        "/rest/api/1.0/projects/P/repos/r",
        "hookadmin",
        "REPO_ADMIN",
    )
    .await;
    let (crate::harness::Auth::Bearer(token), _) = app.token(&admin_user, "admin").await else {
        unreachable!()
    };
    let out = crate::interop::run_client(
        &python,
        "python/bitbucket_webhooks.py",
        &[
            ("JUNCTION_URL", &app.base),
            ("TOKEN", &token),
            ("RECEIVER_URL", &rx.url),
        ],
    )
    .await;
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["successes"], 1);
    // The delivery it saw was signed with the secret it set.
    let got = rx.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].header("x-hub-signature"),
        junction::domain::webhooks::hub_signature("s3cret-value", &got[0].body)
    );
    // And the server agrees the hook is gone.
    let r = app.get(HOOKS, &admin()).await;
    assert_eq!(r.body["size"], 0);
}

crate::both_backends!(
    spawn_linkable;
    statistics_latest_and_filters,
    atlassian_python_api_manages_webhooks,
);
