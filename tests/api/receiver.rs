//! A webhook receiver for tests: records every request (headers, body, when) and answers what
//! the test decides for the n-th request. Tests wait for requests to arrive, never sleep.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// `(status, headers, body)`.
pub type Reply = (u16, Vec<(&'static str, String)>, String);

#[derive(Default)]
struct Log {
    got: Mutex<Vec<Received>>,
    arrived: Notify,
    in_flight: Mutex<(usize, usize)>,
}

pub struct Receiver {
    pub url: String,
    log: Arc<Log>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub fn ok() -> Reply {
    (200, vec![], "ok".into())
}

impl Receiver {
    /// Answers every request with 200.
    pub async fn start_ok() -> Self {
        Self::start(|_, _| ok(), Duration::ZERO).await
    }

    /// Answers the first request 200 and every later one 500.
    pub async fn start_ok_once() -> Self {
        Self::start(
            |_, i| {
                if i == 0 {
                    ok()
                } else {
                    (500, vec![], "broken".into())
                }
            },
            Duration::ZERO,
        )
        .await
    }

    /// `answer(request, index)`; each answer is held `hold` before it is sent (to keep
    /// deliveries in flight).
    pub async fn start(
        answer: impl Fn(&Received, usize) -> Reply + Send + Sync + 'static,
        hold: Duration,
    ) -> Self {
        use axum::response::IntoResponse;
        let log = Arc::new(Log::default());
        let answer = Arc::new(answer);
        let l = log.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let (log, answer) = (l.clone(), answer.clone());
                async move {
                    let r = Received {
                        path: uri.path().to_string(),
                        headers: headers
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                            .collect(),
                        body: body.to_vec(),
                    };
                    {
                        let mut f = log.in_flight.lock().unwrap();
                        f.0 += 1;
                        f.1 = f.1.max(f.0);
                    }
                    let index = {
                        let mut got = log.got.lock().unwrap();
                        got.push(r.clone());
                        got.len() - 1
                    };
                    let (status, hs, text) = answer(&r, index);
                    if !hold.is_zero() {
                        tokio::time::sleep(hold).await;
                    }
                    log.in_flight.lock().unwrap().0 -= 1;
                    log.arrived.notify_waiters();
                    let mut resp =
                        (axum::http::StatusCode::from_u16(status).unwrap(), text).into_response();
                    for (k, v) in hs {
                        resp.headers_mut().insert(k, v.parse().unwrap());
                    }
                    resp
                }
            },
        );
        let (base, stop) = crate::remote::serve_on_loopback(app).await;
        let url = format!("{base}/hook");
        Self {
            url,
            log,
            _stop: stop,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.log.got.lock().unwrap().clone()
    }

    /// The most requests that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.log.in_flight.lock().unwrap().1
    }

    /// Waits until `n` requests were answered; fails the test after 30 s.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let notified = self.log.arrived.notified();
            let answered = {
                let got = self.log.got.lock().unwrap();
                let in_flight = self.log.in_flight.lock().unwrap().0;
                got.len().saturating_sub(in_flight)
            };
            if answered >= n {
                return self.received();
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "waited 30 s for {n} webhook requests; got {}",
                    self.received().len()
                );
            }
        }
    }
}

/// Polls `check` until it returns `Some`, for state the server writes after answering
/// (recorded attempts); fails the test after 30 s.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited 30 s for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
