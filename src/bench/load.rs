//! The load generator: keep-alive HTTP/1.1 connections, each sending requests back to back
//! until the time is up; per-request latencies are kept for percentiles. Each connection has a
//! `Worker` that makes its next request and may read the answer (a refresh chain needs to).

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub struct Measured {
    pub requests: usize,
    pub errors: usize,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

pub trait Worker: Send + 'static {
    fn request(&mut self) -> Request<Full<Bytes>>;
    fn response(&mut self, _status: StatusCode, _body: &[u8]) {}
}

/// GET of one path, with an optional `Authorization` header.
pub struct Get {
    pub host: String,
    pub path: String,
    pub authorization: Option<String>,
    /// An `X-Padding` header of this many bytes, to compare requests of equal size.
    pub padding: usize,
}

impl Worker for Get {
    fn request(&mut self) -> Request<Full<Bytes>> {
        let mut r = Request::get(&self.path).header("host", &self.host);
        if let Some(a) = &self.authorization {
            r = r.header("authorization", a);
        }
        if self.padding > 0 {
            r = r.header("x-padding", "p".repeat(self.padding));
        }
        r.body(Full::new(Bytes::new())).expect("valid request")
    }
}

/// POST of a fixed form body.
pub struct PostForm {
    pub host: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
}

impl Worker for PostForm {
    fn request(&mut self) -> Request<Full<Bytes>> {
        form_request(
            &self.host,
            &self.path,
            self.authorization.as_deref(),
            self.body.clone(),
        )
    }
}

/// POST of a fixed body with fixed headers.
pub struct Post {
    pub host: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Worker for Post {
    fn request(&mut self) -> Request<Full<Bytes>> {
        let mut r = Request::post(&self.path).header("host", &self.host);
        for (k, v) in &self.headers {
            r = r.header(k, v);
        }
        r.body(Full::new(Bytes::from(self.body.clone())))
            .expect("valid request")
    }
}

pub fn form_request(
    host: &str,
    path: &str,
    authorization: Option<&str>,
    body: String,
) -> Request<Full<Bytes>> {
    let mut r = Request::post(path)
        .header("host", host)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(a) = authorization {
        r = r.header("authorization", a);
    }
    r.body(Full::new(Bytes::from(body))).expect("valid request")
}

pub async fn run(
    addr: SocketAddr,
    workers: Vec<Box<dyn Worker>>,
    duration: Duration,
) -> anyhow::Result<Measured> {
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut worker in workers {
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let io = hyper_util::rt::TokioIo::new(stream);
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake::<_, Full<Bytes>>(io).await?;
            tokio::spawn(conn);
            let mut lat = Vec::with_capacity(4096);
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let t = Instant::now();
                let resp = sender.send_request(worker.request()).await?;
                let status = resp.status();
                let body = resp.into_body().collect().await?.to_bytes();
                lat.push(t.elapsed().as_micros() as u32);
                if !status.is_success() {
                    errors += 1;
                }
                worker.response(status, &body);
            }
            anyhow::Ok((lat, errors))
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await??;
        all.extend(lat);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    Ok(Measured {
        requests: all.len(),
        errors,
        rps: all.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    })
}

/// `concurrency` GET workers on one path.
pub async fn get(
    addr: SocketAddr,
    path: &str,
    authorization: Option<&str>,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<Measured> {
    get_padded(addr, path, authorization, 0, concurrency, duration).await
}

/// Like `get`, each request carrying `padding` more bytes in a header Junction ignores.
pub async fn get_padded(
    addr: SocketAddr,
    path: &str,
    authorization: Option<&str>,
    padding: usize,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<Measured> {
    let workers = (0..concurrency)
        .map(|_| {
            Box::new(Get {
                host: addr.to_string(),
                path: path.to_string(),
                authorization: authorization.map(str::to_string),
                padding,
            }) as Box<dyn Worker>
        })
        .collect();
    run(addr, workers, duration).await
}

pub fn report(name: &str, m: &Measured) {
    println!(
        "{name}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} requests, {} errors)",
        m.rps, m.p50_ms, m.p99_ms, m.requests, m.errors
    );
}
