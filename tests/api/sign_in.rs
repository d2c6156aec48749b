//! Sign-in throttling: reserved before the password is checked (a burst cannot race it), per
//! (username, client address) and per client address (an attacker cannot lock a person out from
//! elsewhere), with bounded bookkeeping and bounded password hashing.

use crate::harness::*;
use reqwest::StatusCode;

/// A Basic sign-in from `from` (the client address the trusted proxy reports).
async fn basic_from(app: &TestApp, from: &str, user: &str, password: &str) -> Response {
    let r = app
        .client
        .get(format!("{}/rest/api/1.0/users/admin", app.base))
        .header("x-forwarded-for", from)
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    TestApp::read(r).await
}

fn count(rs: &[Response], status: StatusCode) -> usize {
    rs.iter().filter(|r| r.status == status).count()
}

async fn a_burst_of_guesses_is_counted_before_any_is_checked(app: TestApp) {
    app.user("alice").await;
    let guesses = (0..40).map(|i| {
        let app = &app;
        async move { basic_from(app, "203.0.113.5", "alice", &format!("guess-{i}")).await }
    });
    let rs = join_all(guesses.collect()).await;
    assert_eq!(
        count(&rs, StatusCode::UNAUTHORIZED),
        5,
        "only the free attempts are checked"
    );
    assert_eq!(count(&rs, StatusCode::TOO_MANY_REQUESTS), 35);
    for r in rs
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
    {
        assert_eq!(
            r.exception(),
            "com.atlassian.bitbucket.auth.TooManyFailedLoginAttemptsException"
        );
        assert!(r
            .header("retry-after")
            .is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
    }
    // Even her right password is refused from there while the delay lasts.
    let r = basic_from(&app, "203.0.113.5", "alice", "alice-password").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn a_burst_of_right_passwords_all_sign_in(app: TestApp) {
    app.user("alice").await;
    let attempts = (0..12).map(|_| {
        let app = &app;
        async move { basic_from(app, "203.0.113.6", "alice", "alice-password").await }
    });
    let rs = join_all(attempts.collect()).await;
    assert_eq!(
        count(&rs, StatusCode::OK),
        12,
        "{:?}",
        rs.iter().map(|r| r.status).collect::<Vec<_>>()
    );
}

async fn guesses_from_one_address_do_not_lock_out_another(app: TestApp) {
    app.user("alice").await;
    for i in 0..5 {
        let r = basic_from(&app, "203.0.113.7", "alice", &format!("guess-{i}")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = basic_from(&app, "203.0.113.7", "alice", "alice-password").await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the attacker's address waits"
    );
    let r = basic_from(&app, "198.51.100.20", "alice", "alice-password").await;
    assert_eq!(r.status, StatusCode::OK, "alice, elsewhere, signs in");
    // The delay grows: 1 s after the fifth failure, 2 s after the sixth.
    app.clock.advance_ms(1_000);
    let r = basic_from(&app, "203.0.113.7", "alice", "guess-6").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = basic_from(&app, "203.0.113.7", "alice", "alice-password").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("retry-after"), Some("2"));
    app.clock.advance_ms(2_000);
    let r = basic_from(&app, "203.0.113.7", "alice", "alice-password").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the right password resets that counter"
    );
}

async fn one_address_spraying_many_names_is_slowed_down(app: TestApp) {
    app.user("bob").await;
    for i in 0..10 {
        let r = basic_from(&app, "203.0.113.8", &format!("nobody{i}"), "whatever-1").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = basic_from(&app, "203.0.113.8", "bob", "bob-password").await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the address is held back"
    );
    let r = basic_from(&app, "198.51.100.21", "bob", "bob-password").await;
    assert_eq!(r.status, StatusCode::OK, "nobody else is");
}

async fn guesses_at_unknown_names_keep_bookkeeping_bounded(app: TestApp) {
    for i in 0..60 {
        basic_from(&app, "203.0.113.9", &format!("ghost{i}"), "whatever-1").await;
    }
    // One counter for the address and one per name it was allowed to try; refused attempts
    // write nothing.
    assert_eq!(app.store.count_sign_in_counters().await.unwrap(), 11);
    let audit = |action: &'static str| {
        let app = &app;
        async move {
            app.get(
                &format!("/rest/junction/1.0/audit?action={action}"),
                &admin(),
            )
            .await
            .body
        }
    };
    assert_eq!(
        audit("auth.sign_in_failed").await["size"],
        0,
        "no row per unknown name"
    );
    let throttled = audit("auth.sign_in_throttled").await;
    assert_eq!(throttled["size"], 1);
    assert_eq!(throttled["values"][0]["target"], "address:203.0.113.9");
    // Once nothing is held back any more, the counters are forgotten.
    app.clock.advance_ms(15 * 60_000 + 60_000);
    let security = junction::config::Config::for_data_dir(std::path::Path::new(".")).security;
    let purged = junction::services::sign_in::purge_counters(&app.store, &security)
        .await
        .unwrap();
    assert_eq!(purged, 12, "and the address the audit log was read from");
    assert_eq!(app.store.count_sign_in_counters().await.unwrap(), 0);
}

crate::both_backends!(
    spawn_behind_proxy;
    a_burst_of_guesses_is_counted_before_any_is_checked,
    a_burst_of_right_passwords_all_sign_in,
    guesses_from_one_address_do_not_lock_out_another,
    one_address_spraying_many_names_is_slowed_down,
    guesses_at_unknown_names_keep_bookkeeping_bounded,
);

mod busy {
    use super::*;

    /// One hashing thread that no one waits for: concurrent sign-ins beyond it are told to come
    /// back, with `Retry-After`, instead of piling up memory.
    async fn hashing_is_bounded_and_says_when_to_retry(app: TestApp) {
        let attempts = (0..8).map(|i| {
            let app = &app;
            async move {
                basic_from(
                    app,
                    &format!("203.0.113.{}", 20 + i),
                    "admin",
                    "wrong-password",
                )
                .await
            }
        });
        let rs = join_all(attempts.collect()).await;
        let busy: Vec<_> = rs
            .iter()
            .filter(|r| r.status == StatusCode::SERVICE_UNAVAILABLE)
            .collect();
        assert!(
            !busy.is_empty(),
            "{:?}",
            rs.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert_eq!(busy.len() + count(&rs, StatusCode::UNAUTHORIZED), 8);
        for r in busy {
            assert_eq!(r.exception(), "SERVER_BUSY");
            assert_eq!(r.header("retry-after"), Some("2"));
            assert!(r.message().contains("busy"), "{}", r.message());
        }
    }

    pub async fn spawn_one_hash_thread(backend: Backend) -> Option<TestApp> {
        TestApp::spawn_with(backend, |c| {
            c.security.trusted_proxies = vec![loopback_block()];
            c.security.password_hash_threads = 1;
            c.security.password_hash_wait_ms = 1;
        })
        .await
    }

    mod sqlite {
        #[tokio::test]
        async fn hashing_is_bounded_and_says_when_to_retry() {
            if let Some(app) = super::spawn_one_hash_thread(super::Backend::Sqlite).await {
                super::hashing_is_bounded_and_says_when_to_retry(app).await
            }
        }
    }
    mod postgres {
        #[tokio::test]
        async fn hashing_is_bounded_and_says_when_to_retry() {
            if let Some(app) = super::spawn_one_hash_thread(super::Backend::Postgres).await {
                super::hashing_is_bounded_and_says_when_to_retry(app).await
            }
        }
    }
}
