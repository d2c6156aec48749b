//! The git benchmark's baseline: git's own `git http-backend` behind a minimal CGI server
//! (one process per request, the request body streamed into it, its answer streamed back), as
//! Apache or nginx with fcgiwrap would run it.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Serves every repository under `root` at `/{name}.git` on `listener`, push enabled.
pub async fn serve(listener: tokio::net::TcpListener, root: PathBuf) {
    let app = axum::Router::new().fallback(cgi).with_state(root);
    let _ = axum::serve(listener, app).await;
}

async fn cgi(axum::extract::State(root): axum::extract::State<PathBuf>, req: Request) -> Response {
    match run(req, root).await {
        Ok(r) => r,
        Err(e) => Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .body(Body::from(format!("{e}\n")))
            .unwrap_or_default(),
    }
}

async fn run(req: Request, root: PathBuf) -> anyhow::Result<Response> {
    // Owned before any await: a borrow of the request (its body is not Sync) would make this
    // future not Send.
    let headers = req.headers().clone();
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let mut c = tokio::process::Command::new("git");
    c.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", &root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "http.receivepack")
        .env("GIT_CONFIG_VALUE_0", "true")
        .env("REMOTE_USER", "bench")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("REQUEST_METHOD", req.method().as_str())
        .env("PATH_INFO", req.uri().path())
        .env("QUERY_STRING", req.uri().query().unwrap_or(""))
        .env("CONTENT_TYPE", header("content-type"))
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("HTTP_GIT_PROTOCOL", header("git-protocol"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let length = header("content-length");
    if !length.is_empty() {
        c.env("CONTENT_LENGTH", length);
    }
    let mut child = c.spawn()?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut body = req.into_body().into_data_stream();
    tokio::spawn(async move {
        while let Some(Ok(chunk)) = body.next().await {
            if stdin.write_all(&chunk).await.is_err() {
                break;
            }
        }
    });
    let mut out = BufReader::new(child.stdout.take().expect("piped"));
    let mut response = Response::builder();
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).await? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value
                .split_whitespace()
                .next()
                .unwrap_or("200")
                .parse::<u16>()?;
            response = response.status(code);
        } else {
            response = response.header(
                HeaderName::from_bytes(name.as_bytes())?,
                HeaderValue::from_str(value)?,
            );
        }
    }
    tokio::spawn(async move {
        let _ = child.wait().await;
    });
    Ok(response.body(Body::from_stream(tokio_util::io::ReaderStream::new(out)))?)
}
