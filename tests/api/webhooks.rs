//! Repository and project webhooks: events from the host, signed deliveries, the REST API,
//! retries, pauses, disabling, history and redelivery.

use crate::harness::{admin, TestApp};
use crate::receiver::{eventually, ok, Receiver};
use junction::clock::Clock;
use junction::domain::webhooks::{hub_signature, standard_signature};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

pub const HOOKS: &str = "/rest/api/1.0/projects/P/repos/r/webhooks";
pub const PROJECT_HOOKS: &str = "/rest/api/1.0/projects/P/webhooks";
const PRS: &str = "/rest/api/1.0/projects/P/repos/r/pull-requests";
const SECRET: &str = "It's a Secret to Everybody";

/// Project P with repository r.
/// Project P with repository r, with the branches pull requests here come from.
pub async fn setup(app: &TestApp) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    app.branches("P", "r", &["feature", "f", "g", "big"]).await;
}

pub async fn hook(
    app: &TestApp,
    base: &str,
    url: &str,
    events: Value,
    secret: Option<&str>,
) -> Value {
    let r = app
        .post(
            base,
            &admin(),
            json!({"name": "ci", "url": url, "events": events, "active": true,
                   "configuration": {"secret": secret}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

/// A repository webhook on `repo:updated` that asks for its deliveries in order.
pub async fn ordered_hook(app: &TestApp, url: &str) -> Value {
    let r = app
        .post(
            HOOKS,
            &admin(),
            json!({"name": "in order", "url": url, "events": ["repo:updated"], "ordered": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["ordered"], true);
    r.body
}

pub async fn touch_repo(app: &TestApp, description: &str) {
    let r = app
        .put(
            "/rest/api/1.0/projects/P/repos/r",
            &admin(),
            json!({"description": description}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// The `webhook-id`s of repository P/r's events with this key, in outbox order.
pub async fn outbox_ids(store: &junction::store::Store, key: &str) -> Vec<String> {
    let repo = store.find_repository("P", "r").await.unwrap().unwrap();
    store
        .events_of_repository(repo.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_key == key)
        .map(|e| e.uuid)
        .collect()
}

pub fn pr(title: &str) -> Value {
    let repo = json!({"slug": "r", "project": {"key": "P"}});
    json!({"title": title, "description": "Why", "fromRef": {"id": format!("refs/heads/{title}"), "repository": repo},
           "toRef": {"id": "refs/heads/main", "repository": repo}})
}

pub async fn deliveries(app: &TestApp, hook: &Value, query: &str) -> Value {
    let r = app
        .get(
            &format!("{HOOKS}/{}/deliveries{query}", hook["id"]),
            &admin(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

/// Waits until the hook's newest delivery has an attempt recorded in the given state.
async fn newest_in_state(app: &TestApp, hook: &Value, state: &str) -> Value {
    eventually(&format!("a delivery in state {state}"), || async {
        let d = deliveries(app, hook, "").await;
        let first = d["values"][0].clone();
        (first["state"] == state).then_some(first)
    })
    .await
}

async fn signed_events_reach_a_repository_hook(app: TestApp) {
    setup(&app).await;
    let rx = Receiver::start_ok().await;
    let h = hook(
        &app,
        HOOKS,
        &rx.url,
        json!(["repo:updated", "pullrequest:created"]),
        Some(SECRET),
    )
    .await;
    assert_eq!(h["name"], "ci");
    assert_eq!(h["events"], json!(["repo:updated", "pullrequest:created"]));
    assert_eq!(h["scopeType"], "repository");
    assert_eq!(h["status"], "enabled");
    assert_eq!(h["hasSecret"], true);
    assert_eq!(
        h["configuration"],
        json!({}),
        "the secret is never returned"
    );

    touch_repo(&app, "now with hooks").await;
    let got = rx.wait_for(1).await;
    let d = &got[0];
    assert_eq!(d.path, "/hook");
    assert_eq!(d.header("x-event-key"), "repo:updated");
    assert_eq!(d.header("x-hook-uuid"), h["uuid"].as_str().unwrap());
    assert_eq!(d.header("x-attempt-number"), "1");
    assert_eq!(d.header("content-type"), "application/json");
    assert_eq!(d.header("user-agent"), "Bitbucket-Webhooks/2.0");
    assert_eq!(d.header("x-request-uuid").len(), 36);
    assert!(
        d.header("x-event-time").ends_with(" GMT"),
        "{}",
        d.header("x-event-time")
    );
    assert_eq!(d.header("x-hub-signature"), hub_signature(SECRET, &d.body));
    let id = d.header("webhook-id");
    assert!(id.starts_with("msg_"), "{id}");
    let ts: i64 = d.header("webhook-timestamp").parse().unwrap();
    assert_eq!(
        d.header("webhook-signature"),
        standard_signature(SECRET, id, ts, &d.body)
    );
    let body = d.json();
    assert_eq!(body["actor"]["nickname"], "admin");
    assert_eq!(body["actor"]["type"], "user");
    assert_eq!(body["repository"]["full_name"], "P/r");
    assert_eq!(body["repository"]["type"], "repository");
    assert_eq!(body["repository"]["project"]["key"], "P");
    assert!(body["repository"]["uuid"]
        .as_str()
        .unwrap()
        .starts_with('{'));
    assert_eq!(
        body["changes"]["description"],
        json!({"old": "", "new": "now with hooks"})
    );

    // A pull request: subscribed. A comment on it: not subscribed, so never sent.
    let r = app.post(PRS, &admin(), pr("feature")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app
        .post(
            &format!("{PRS}/1/comments"),
            &admin(),
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let got = rx.wait_for(2).await;
    assert_eq!(got[1].header("x-event-key"), "pullrequest:created");
    let body = got[1].json();
    assert_eq!(body["pullrequest"]["id"], 1);
    assert_eq!(body["pullrequest"]["title"], "feature");
    assert_eq!(body["pullrequest"]["state"], "OPEN");
    assert_eq!(body["pullrequest"]["source"]["branch"]["name"], "feature");
    assert_eq!(body["pullrequest"]["destination"]["branch"]["name"], "main");
    assert_ne!(got[1].header("webhook-id"), id, "one id per event");

    // The history: both succeeded, the newest first, each with its attempt.
    let list = eventually("two recorded deliveries", || async {
        let l = deliveries(&app, &h, "?state=succeeded").await;
        (l["size"] == 2).then_some(l)
    })
    .await;
    assert_eq!(list["values"][0]["eventKey"], "pullrequest:created");
    assert_eq!(list["values"][1]["eventKey"], "repo:updated");
    assert_eq!(list["values"][1]["webhookId"], id);
    let one = app
        .get(
            &format!("{HOOKS}/{}/deliveries/{}", h["id"], list["values"][1]["id"]),
            &admin(),
        )
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.body["state"], "succeeded");
    assert_eq!(one.body["attempts"], 1);
    let a = &one.body["attemptList"][0];
    assert_eq!(a["number"], 1);
    assert_eq!(a["responseStatus"], 200);
    assert_eq!(a["responseBody"], "ok");
    assert_eq!(a["requestHeaders"]["x-event-key"], "repo:updated");
    assert_eq!(a["requestHeaders"]["webhook-id"], id);
    assert_eq!(a["error"], Value::Null);
    assert_eq!(
        one.body["body"].as_str().unwrap().as_bytes(),
        &got[0].body[..]
    );

    // The outbox holds every event of the repository, in order, subscribed or not.
    let repo = app.store.find_repository("P", "r").await.unwrap().unwrap();
    let keys: Vec<String> = app
        .store
        .events_of_repository(repo.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_key)
        .collect();
    assert_eq!(
        keys,
        [
            "repo:created",
            "repo:updated",
            "pullrequest:created",
            "pullrequest:comment_created"
        ]
    );
}

async fn failures_are_retried_as_the_receiver_asks_then_410_disables(app: TestApp) {
    setup(&app).await;
    // First 503 with Retry-After: 120, then 200, then 410 Gone.
    let rx = Receiver::start(
        |_, i| match i {
            0 => (503, vec![("retry-after", "120".to_string())], "busy".into()),
            1 => ok(),
            _ => (410, vec![], "gone".into()),
        },
        Duration::ZERO,
    )
    .await;
    let h = hook(&app, HOOKS, &rx.url, json!(["*"]), None).await;
    assert_eq!(h["events"], json!(["*"]));
    touch_repo(&app, "one").await;
    rx.wait_for(1).await;
    let d = newest_in_state(&app, &h, "pending").await;
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["lastStatus"], 503);
    let now = app.clock.now_ms();
    // The schedule says about 10 s; the receiver asked for 120 s, which wins.
    assert_eq!(d["nextAttemptDate"].as_i64().unwrap() - now, 120_000);

    app.clock.advance_ms(120_000);
    app.webhooks.wake();
    let got = rx.wait_for(2).await;
    assert_eq!(got[1].header("x-attempt-number"), "2");
    assert_eq!(
        got[1].header("webhook-id"),
        got[0].header("webhook-id"),
        "the same message"
    );
    assert_ne!(
        got[1].header("x-request-uuid"),
        got[0].header("x-request-uuid")
    );
    let d = newest_in_state(&app, &h, "succeeded").await;
    assert_eq!(d["attempts"], 2);

    // 410 Gone: disabled at once, with the reason; no retry is scheduled.
    touch_repo(&app, "two").await;
    rx.wait_for(3).await;
    let d = newest_in_state(&app, &h, "failed").await;
    assert_eq!(d["lastStatus"], 410);
    let hook_now = eventually("the hook disabled", || async {
        let r = app.get(&format!("{HOOKS}/{}", h["id"]), &admin()).await;
        (r.body["status"] == "disabled").then_some(r.body)
    })
    .await;
    assert!(
        hook_now["disabledReason"]
            .as_str()
            .unwrap()
            .contains("410 Gone"),
        "{hook_now}"
    );
    // While disabled, events make no deliveries.
    touch_repo(&app, "three").await;
    let before = deliveries(&app, &h, "").await["size"].clone();
    assert_eq!(before, 2);
    // One click enables it again.
    let r = app
        .post(&format!("{HOOKS}/{}/enable", h["id"]), &admin(), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "enabled");
    assert_eq!(r.body["disabledReason"], Value::Null);
}

async fn repeated_failures_pause_the_hook(app: TestApp) {
    setup(&app).await;
    let rx = Receiver::start(|_, _| (500, vec![], "down".into()), Duration::ZERO).await;
    let h = hook(&app, HOOKS, &rx.url, json!(["repo:updated"]), None).await;
    for i in 0..4 {
        touch_repo(&app, &format!("v{i}")).await;
        rx.wait_for(i + 1).await;
    }
    let paused = eventually("the hook paused", || async {
        let r = app.get(&format!("{HOOKS}/{}", h["id"]), &admin()).await;
        (r.body["status"] == "paused").then_some(r.body)
    })
    .await;
    assert_eq!(paused["consecutiveFailures"], 4);
    assert_eq!(
        paused["pausedUntil"].as_i64().unwrap() - app.clock.now_ms(),
        60_000
    );
    // Paused: a new event waits, nothing is sent.
    touch_repo(&app, "v4").await;
    let d = eventually("the new delivery held back", || async {
        let l = deliveries(&app, &h, "?state=pending").await;
        l["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["attempts"] == 0)
            .cloned()
    })
    .await;
    assert!(d["nextAttemptDate"].as_i64().unwrap() >= paused["pausedUntil"].as_i64().unwrap());
    assert_eq!(rx.received().len(), 4);
}

async fn test_event_redelivery_and_history_filters(app: TestApp) {
    setup(&app).await;
    let rx = Receiver::start(
        |_, i| {
            if i == 1 {
                (500, vec![], "oops".into())
            } else {
                ok()
            }
        },
        Duration::ZERO,
    )
    .await;
    let h = hook(&app, HOOKS, &rx.url, json!(["repo:updated"]), Some(SECRET)).await;
    // Send test event: answered with the attempt, recorded, never retried.
    let r = app
        .post(&format!("{HOOKS}/{}/test", h["id"]), &admin(), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["eventKey"], "diagnostics:ping");
    assert_eq!(r.body["test"], true);
    assert_eq!(r.body["state"], "succeeded");
    assert_eq!(r.body["attemptList"][0]["responseStatus"], 200);
    let got = rx.received();
    assert_eq!(got[0].header("x-event-key"), "diagnostics:ping");
    assert_eq!(got[0].json()["test"], true);
    assert_eq!(
        got[0].header("x-hub-signature"),
        hub_signature(SECRET, &got[0].body)
    );

    // A delivery that fails (500), then is redelivered by hand: same id, next attempt number.
    touch_repo(&app, "x").await;
    rx.wait_for(2).await;
    let failed = newest_in_state(&app, &h, "pending").await;
    let url = format!("{HOOKS}/{}/deliveries/{}/redeliver", h["id"], failed["id"]);
    let r = app.post(&url, &admin(), json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "still queued: {}", r.text);
    let r = app
        .post(
            &format!("{HOOKS}/{}/redeliver", h["id"]),
            &admin(),
            json!({"since": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["redelivered"], 0, "nothing failed for good yet");
    let r = app
        .post(
            &format!("{HOOKS}/{}/redeliver", h["id"]),
            &admin(),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.context(), "since");
    let r = app
        .post(
            &format!("{HOOKS}/{}/redeliver?since=yesterday", h["id"]),
            &admin(),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.message().contains("'yesterday' is not a time"),
        "{}",
        r.text
    );

    // The retry comes when due.
    app.clock.advance_ms(13_000);
    app.webhooks.wake();
    rx.wait_for(3).await;
    let done = newest_in_state(&app, &h, "succeeded").await;
    assert_eq!(done["attempts"], 2);
    // Redeliver a finished one: the same message again, attempt 3.
    let r = app
        .post(
            &format!("{HOOKS}/{}/deliveries/{}/redeliver", h["id"], done["id"]),
            &admin(),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let got = rx.wait_for(4).await;
    assert_eq!(got[3].header("x-attempt-number"), "3");
    assert_eq!(got[3].header("webhook-id"), got[1].header("webhook-id"));
    assert_eq!(got[3].body, got[1].body);

    let r = app
        .get(
            &format!("{HOOKS}/{}/deliveries?state=bogus", h["id"]),
            &admin(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.context(), "state");
    let r = app
        .get(&format!("{HOOKS}/{}/deliveries/999999", h["id"]), &admin())
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn project_hooks_see_every_repository_and_its_deletion(app: TestApp) {
    setup(&app).await;
    let rx = Receiver::start_ok().await;
    let ph = hook(
        &app,
        PROJECT_HOOKS,
        &rx.url,
        json!(["repo:created", "repo:deleted"]),
        None,
    )
    .await;
    assert_eq!(ph["scopeType"], "project");
    let repo_rx = Receiver::start_ok().await;
    hook(&app, HOOKS, &repo_rx.url, json!(["*"]), None).await;
    app.repo("P", "second", false).await;
    let got = rx.wait_for(1).await;
    assert_eq!(got[0].header("x-event-key"), "repo:created");
    assert_eq!(got[0].json()["repository"]["full_name"], "P/second");
    let r = app
        .delete("/rest/api/1.0/projects/P/repos/r", &admin())
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let got = rx.wait_for(2).await;
    assert_eq!(got[1].header("x-event-key"), "repo:deleted");
    assert_eq!(got[1].json()["repository"]["full_name"], "P/r");
    assert_eq!(
        repo_rx.received().len(),
        0,
        "the repository's own hook went with it"
    );
}

async fn every_event_kind_has_its_payload(app: TestApp) {
    setup(&app).await;
    let rx = Receiver::start_ok().await;
    hook(&app, HOOKS, &rx.url, json!(["*"]), None).await;
    let alice = app.user("alice").await;
    app.grant("/rest/api/1.0/projects/P/repos/r", "alice", "REPO_WRITE")
        .await;
    let r = app.post(PRS, &admin(), pr("f")).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .put(
            &format!("{PRS}/1"),
            &admin(),
            json!({"title": "better", "version": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        app.post(&format!("{PRS}/1/approve"), &alice, json!({}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.delete(&format!("{PRS}/1/approve"), &alice).await.status,
        StatusCode::OK
    );
    let r = app
        .put(
            &format!("{PRS}/1/participants/alice"),
            &alice,
            json!({"status": "NEEDS_WORK"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .put(
            &format!("{PRS}/1/participants/alice"),
            &alice,
            json!({"status": "UNAPPROVED"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let c = app
        .post(
            &format!("{PRS}/1/comments"),
            &alice,
            json!({"text": "nice"}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED);
    let r = app
        .delete(
            &format!("{PRS}/1/comments/{}?version=0", c.body["id"]),
            &alice,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .post(&format!("{PRS}/1/merge?version=1"), &admin(), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.post(PRS, &admin(), pr("g")).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .post(&format!("{PRS}/2/decline?version=0"), &admin(), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Deliveries to one receiver run in parallel: put them in the order of the outbox.
    let got = rx.wait_for(12).await;
    let repo = app.store.find_repository("P", "r").await.unwrap().unwrap();
    let outbox = app.store.events_of_repository(repo.id).await.unwrap();
    let got: Vec<_> = outbox
        .iter()
        .filter_map(|e| {
            got.iter()
                .find(|g| g.header("webhook-id") == e.uuid)
                .cloned()
        })
        .collect();
    assert_eq!(got.len(), 12, "each event delivered once");
    let keys: Vec<&str> = got.iter().map(|g| g.header("x-event-key")).collect();
    assert_eq!(
        keys,
        [
            "pullrequest:created",
            "pullrequest:updated",
            "pullrequest:approved",
            "pullrequest:unapproved",
            "pullrequest:changes_request_created",
            "pullrequest:changes_request_removed",
            "pullrequest:comment_created",
            "pullrequest:comment_deleted",
            // The merge moved main on the server.
            "repo:push",
            "pullrequest:fulfilled",
            "pullrequest:created",
            "pullrequest:rejected",
        ]
    );
    let body = |i: usize| got[i].json();
    assert_eq!(body(1)["pullrequest"]["title"], "better");
    assert_eq!(body(2)["approval"]["user"]["nickname"], "alice");
    assert_eq!(body(2)["actor"]["nickname"], "alice");
    assert_eq!(body(2)["pullrequest"]["participants"][0]["approved"], true);
    assert_eq!(body(4)["changes_request"]["user"]["nickname"], "alice");
    assert_eq!(body(6)["comment"]["content"]["raw"], "nice");
    assert_eq!(body(6)["comment"]["user"]["nickname"], "alice");
    assert_eq!(body(7)["comment"]["id"], body(6)["comment"]["id"]);
    assert_eq!(body(8)["push"]["changes"][0]["new"]["name"], "main");
    assert_eq!(body(9)["pullrequest"]["state"], "MERGED");
    assert_eq!(body(9)["pullrequest"]["closed_by"]["nickname"], "admin");
    assert_eq!(body(11)["pullrequest"]["state"], "DECLINED");
    // The same entity has the same uuid in every payload.
    assert_eq!(
        body(0)["repository"]["uuid"],
        body(11)["repository"]["uuid"]
    );
    assert_eq!(
        body(2)["approval"]["user"]["uuid"],
        body(6)["comment"]["user"]["uuid"]
    );
}

async fn history_is_kept_for_the_retention_period(app: TestApp) {
    setup(&app).await;
    let rx = Receiver::start_ok_once().await;
    let h = hook(&app, HOOKS, &rx.url, json!(["repo:updated"]), None).await;
    touch_repo(&app, "kept a while").await;
    newest_in_state(&app, &h, "succeeded").await;
    app.clock.advance_ms(29 * 86_400_000);
    touch_repo(&app, "still trying").await;
    newest_in_state(&app, &h, "pending").await;
    assert_eq!(
        app.webhooks.purge_history().await.unwrap(),
        (0, 0),
        "29 days: all kept"
    );
    // Past the 30 days of webhooks.retention_days: the finished delivery goes with its event
    // (and repo:created, which nobody subscribed to); the one still queued stays, however old.
    app.clock.advance_ms(2 * 86_400_000);
    assert_eq!(app.webhooks.purge_history().await.unwrap(), (1, 2));
    let left = deliveries(&app, &h, "").await;
    assert_eq!(left["size"], 1);
    assert_eq!(left["values"][0]["state"], "pending");
    app.clock.advance_ms(60 * 86_400_000);
    assert_eq!(app.webhooks.purge_history().await.unwrap(), (0, 0));
}

crate::both_backends!(
    spawn_linkable;
    history_is_kept_for_the_retention_period,
    signed_events_reach_a_repository_hook,
    failures_are_retried_as_the_receiver_asks_then_410_disables,
    repeated_failures_pause_the_hook,
    test_event_redelivery_and_history_filters,
    project_hooks_see_every_repository_and_its_deletion,
    every_event_kind_has_its_payload,
);

async fn one_slow_receiver_gets_at_most_its_share(app: TestApp) {
    setup(&app).await;
    // Each answer takes 200 ms; six events at once; the limit is two in flight.
    let rx = Receiver::start(|_, _| ok(), Duration::from_millis(200)).await;
    hook(&app, HOOKS, &rx.url, json!(["repo:updated"]), None).await;
    for i in 0..6 {
        touch_repo(&app, &format!("v{i}")).await;
    }
    let got = rx.wait_for(6).await;
    assert_eq!(rx.max_in_flight(), 2, "per_endpoint_concurrency = 2");
    let mut ids: Vec<&str> = got.iter().map(|g| g.header("webhook-id")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "six events, each once");
}

async fn oversized_payloads_and_redirects_fail_with_a_reason(app: TestApp) {
    setup(&app).await;
    let rx = Receiver::start(
        |_, _| {
            (
                302,
                vec![("location", "http://169.254.169.254/".to_string())],
                String::new(),
            )
        },
        Duration::ZERO,
    )
    .await;
    let h = hook(
        &app,
        HOOKS,
        &rx.url,
        json!(["repo:updated", "pullrequest:created"]),
        None,
    )
    .await;
    touch_repo(&app, "redirect me").await;
    rx.wait_for(1).await;
    let d = newest_in_state(&app, &h, "pending").await;
    assert_eq!(d["lastStatus"], 302);
    assert!(
        d["lastError"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed"),
        "{d}"
    );
    assert_eq!(rx.received().len(), 1, "the redirect was not followed");

    // A pull request whose description makes the payload bigger than 4 KB is not sent.
    let mut big = pr("big");
    big["description"] = json!("x".repeat(5000));
    let r = app.post(PRS, &admin(), big).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let d = eventually("the oversized delivery given up", || async {
        let l = deliveries(&app, &h, "?state=failed").await;
        l["values"].as_array().unwrap().first().cloned()
    })
    .await;
    assert_eq!(d["eventKey"], "pullrequest:created");
    assert!(
        d["lastError"]
            .as_str()
            .unwrap()
            .contains("over the limit of 4096 bytes"),
        "{d}"
    );
    assert_eq!(rx.received().len(), 1, "nothing more was sent");
}

mod tight {
    use super::*;
    crate::both_backends!(
        spawn_tight_hooks;
        one_slow_receiver_gets_at_most_its_share,
        oversized_payloads_and_redirects_fail_with_a_reason,
    );
}

/// A second node on `a`'s PostgreSQL database, running until the returned sender drops.
async fn second_node(a: &TestApp) -> tokio::sync::oneshot::Sender<()> {
    let dir = tempfile::tempdir().unwrap();
    let mut config = junction::config::Config::for_data_dir(dir.path());
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.database.url = junction::secret::Secret::new(a.database_url.clone());
    crate::harness::allow_loopback(&mut config);
    let bootstrap = junction::server::Bootstrap {
        admin_password: Some(junction::secret::Secret::new(
            crate::harness::ADMIN_PASSWORD,
        )),
    };
    let b =
        junction::server::Server::build(config, std::sync::Arc::new(a.clock.clone()), bootstrap)
            .await
            .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(b.run(async move {
        let _ = stopped.await;
    }));
    stop
}

/// Two nodes on one PostgreSQL database share the queue: each claims different deliveries
/// (`FOR UPDATE SKIP LOCKED`), so both send at once and no delivery is sent twice.
#[tokio::test]
async fn two_nodes_share_the_deliveries() {
    let Some(a) = TestApp::spawn_linkable(crate::harness::Backend::Postgres).await else {
        return;
    };
    let _b = second_node(&a).await;
    setup(&a).await;
    // 500 ms per answer and at most 8 in flight per node: one node alone never has more than 8.
    let rx = Receiver::start(|_, _| ok(), Duration::from_millis(500)).await;
    hook(&a, HOOKS, &rx.url, json!(["repo:updated"]), None).await;
    let texts: Vec<String> = (0..60).map(|i| format!("v{i}")).collect();
    crate::harness::join_all(texts.iter().map(|t| touch_repo(&a, t)).collect()).await;
    let got = rx.wait_for(60).await;
    let mut ids: Vec<&str> = got.iter().map(|g| g.header("webhook-id")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 60, "every event once");
    assert_eq!(got.len(), 60, "no delivery sent by both nodes");
    assert!(
        rx.max_in_flight() > 8,
        "both nodes were sending at once (max in flight {})",
        rx.max_in_flight()
    );
}

/// Two nodes fanning out and recording at once still give an ordered hook one delivery at a
/// time, in the order of the changes.
#[tokio::test]
async fn two_nodes_keep_an_ordered_hook_in_order() {
    let Some(a) = TestApp::spawn_linkable(crate::harness::Backend::Postgres).await else {
        return;
    };
    let _b = second_node(&a).await;
    setup(&a).await;
    let rx = Receiver::start(|_, _| ok(), Duration::from_millis(20)).await;
    ordered_hook(&a, &rx.url).await;
    // One after another, so that the outbox's order is the order the changes committed in.
    for i in 0..30 {
        touch_repo(&a, &format!("v{i}")).await;
    }
    let got = rx.wait_for(30).await;
    let sent: Vec<&str> = got.iter().map(|g| g.header("webhook-id")).collect();
    assert_eq!(sent, outbox_ids(&a.store, "repo:updated").await);
    assert_eq!(rx.max_in_flight(), 1);
}
