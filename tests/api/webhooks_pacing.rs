//! Pacing and order: a receiver that answers 429, 502, 503 or 504 is asking to be left alone
//! for a while, and the whole webhook slows down, not just the delivery that got the answer;
//! a webhook that asks for order gets one delivery at a time, in the order of the changes.

use crate::harness::{admin, TestApp};
use crate::receiver::{eventually, ok, Receiver};
use crate::webhooks::{deliveries, hook, ordered_hook, outbox_ids, setup, touch_repo, HOOKS};
use junction::clock::Clock;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;

async fn a_receiver_that_asks_is_left_alone_as_long_as_it_asks(app: TestApp) {
    setup(&app).await;
    // The first request gets 503 with "come back in an hour"; every later one 200.
    let slow = Receiver::start(
        |_, i| {
            if i == 0 {
                (
                    503,
                    vec![("retry-after", "3600".to_string())],
                    "busy".into(),
                )
            } else {
                ok()
            }
        },
        Duration::ZERO,
    )
    .await;
    let other = Receiver::start_ok().await;
    let h = hook(&app, HOOKS, &slow.url, json!(["repo:updated"]), None).await;
    let r = app
        .post(
            HOOKS,
            &admin(),
            json!({"name": "other", "url": other.url, "events": ["repo:updated"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    touch_repo(&app, "v0").await;
    let first = eventually("the 503 recorded", || async {
        let d = deliveries(&app, &h, "").await["values"][0].clone();
        (d["lastStatus"] == 503).then_some(d)
    })
    .await;
    assert_eq!(first["state"], "pending", "503 is retried");
    assert_eq!(
        first["lastError"],
        "The receiver answered 503, asking to slow down: this webhook's deliveries wait as its \
         Retry-After says (else a second, doubling to a minute) and fewer go at once until it \
         answers 2xx again."
    );
    let hour = 3_600_000;
    let retry_at = first["nextAttemptDate"].as_i64().unwrap();
    assert!(
        retry_at >= app.clock.now_ms() + hour - 1_000,
        "the delivery itself waits as Retry-After asks"
    );

    // Four more events: the other webhook gets them at once; the one that asked gets none.
    for i in 1..=4 {
        touch_repo(&app, &format!("v{i}")).await;
    }
    other.wait_for(5).await;
    assert_eq!(
        slow.received().len(),
        1,
        "nothing more while it asked to wait"
    );
    let queued = deliveries(&app, &h, "?state=pending").await;
    assert_eq!(queued["size"], 5, "all five wait in the queue: {queued}");

    // An hour later everything arrives, each event once more or for the first time.
    app.clock.advance_ms(hour + 1_000);
    app.webhooks.wake();
    let got = slow.wait_for(6).await;
    let ids: HashSet<&str> = got.iter().map(|g| g.header("webhook-id")).collect();
    assert_eq!(ids.len(), 5);
    eventually("all five delivered", || async {
        (deliveries(&app, &h, "?state=succeeded").await["size"] == 5).then_some(())
    })
    .await;
    // The success after it counts: the webhook is healthy again.
    let r = app.get(&format!("{HOOKS}/{}", h["id"]), &admin()).await;
    assert_eq!(r.body["status"], "enabled", "{}", r.body);
    assert_eq!(r.body["consecutiveFailures"], 0);
}

async fn an_ordered_webhook_gets_one_at_a_time_in_order(app: TestApp) {
    setup(&app).await;
    // The first request fails; each answer is held 50 ms, so unordered deliveries would overlap.
    let rx = Receiver::start(
        |_, i| {
            if i == 0 {
                (500, vec![], "down".into())
            } else {
                ok()
            }
        },
        Duration::from_millis(50),
    )
    .await;
    let other = Receiver::start_ok().await;
    let h = ordered_hook(&app, &rx.url).await;
    let r = app
        .post(
            HOOKS,
            &admin(),
            json!({"name": "any order", "url": other.url, "events": ["repo:updated"]}),
        )
        .await;
    assert_eq!(r.body["ordered"], false, "{}", r.text);

    for i in 0..5 {
        touch_repo(&app, &format!("v{i}")).await;
    }
    eventually("the first delivery failed", || async {
        let d = deliveries(&app, &h, "").await;
        let first = d["values"].as_array().unwrap().last().cloned().unwrap();
        (first["lastStatus"] == 500).then_some(())
    })
    .await;
    // One more change after the failure was recorded: once the other webhook has it, the
    // dispatcher has looked at the queue since, and the ordered one still waits for its retry.
    touch_repo(&app, "v5").await;
    other.wait_for(6).await;
    assert_eq!(rx.received().len(), 1, "later events wait behind the retry");
    let count = |state: &'static str| {
        let (app, h) = (&app, &h);
        async move {
            deliveries(app, h, &format!("?state={state}")).await["size"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(count("pending").await, 1, "only the first has its turn");
    assert_eq!(count("waiting").await, 5);

    app.clock.advance_ms(60_000);
    app.webhooks.wake();
    let got = rx.wait_for(7).await;
    let mut expected = outbox_ids(&app.store, "repo:updated").await;
    expected.insert(0, expected[0].clone());
    let sent: Vec<&str> = got.iter().map(|g| g.header("webhook-id")).collect();
    assert_eq!(sent, expected, "the retry first, then each event in order");
    assert_eq!(rx.max_in_flight(), 1, "one at a time");
    eventually("every delivery finished", || async {
        (count("succeeded").await == 6).then_some(())
    })
    .await;

    // A redelivery waits its turn too, and goes.
    let first = deliveries(&app, &h, "?state=succeeded").await["values"][5].clone();
    touch_repo(&app, "v6").await;
    let r = app
        .post(
            &format!("{HOOKS}/{}/deliveries/{}/redeliver", h["id"], first["id"]),
            &admin(),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let got = rx.wait_for(9).await;
    let last_two: Vec<&str> = got[7..].iter().map(|g| g.header("webhook-id")).collect();
    assert!(
        last_two.contains(&expected[0].as_str()),
        "the redelivery arrived"
    );
    assert_eq!(rx.max_in_flight(), 1);

    // The setting is edited like any other, and bad values are refused.
    let path = format!("{HOOKS}/{}", h["id"]);
    let r = app.put(&path, &admin(), json!({"ordered": false})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["ordered"], false);
    let r = app.put(&path, &admin(), json!({"ordered": "yes"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = app.get(&path, &admin()).await;
    assert_eq!(
        r.body["ordered"], false,
        "nothing changed by the refused edit"
    );
}

crate::both_backends!(
    spawn_linkable;
    a_receiver_that_asks_is_left_alone_as_long_as_it_asks,
    an_ordered_webhook_gets_one_at_a_time_in_order,
);
