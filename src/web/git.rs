//! Git over smart HTTP at Bitbucket Data Center's URLs, `/scm/{projectKey}/{repoSlug}.git`:
//! the ref advertisement (`info/refs`) and the two RPCs (`git-upload-pack` for clone and fetch,
//! `git-receive-pack` for push). Access is the host's: reading needs what viewing the
//! repository needs, pushing what writing needs, capped by the credential as over REST. The
//! request and the answer stream through git's own programs (`services/git`).

use crate::domain::Action;
use crate::services::git::run::{self, Limits};
use crate::services::git::Service;
use crate::services::host::{pushes, repositories};
use crate::web::auth::Caller;
use crate::web::error::ApiError;
use crate::web::extract::{Path, Query};
use crate::web::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio_util::io::ReaderStream;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/scm/{key}/{repo}/info/refs", get(info_refs))
        .route("/scm/{key}/{repo}/{service}", post(rpc))
        // git compresses large requests.
        .layer(tower_http::decompression::RequestDecompressionLayer::new())
}

#[derive(Deserialize)]
pub struct InfoRefsQuery {
    service: Option<String>,
}

/// A refusal as git shows it: text git prints to the person, and for someone not signed in a
/// Basic challenge so that credential helpers ask.
fn refusal(caller: &Caller, e: ApiError, service: Service) -> Response {
    let anonymous = caller.user.is_none();
    if e.status == StatusCode::UNAUTHORIZED
        || (anonymous && matches!(e.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN))
    {
        return (
            StatusCode::UNAUTHORIZED,
            [
                (header::WWW_AUTHENTICATE, "Basic realm=\"Junction\""),
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            ],
            "Authentication is required to use this repository.\n",
        )
            .into_response();
    }
    // git prints this text after "remote:"; a refusal also says what the service needs.
    let needs = match (e.status, service) {
        (StatusCode::FORBIDDEN, Service::ReceivePack) => " Pushing needs REPO_WRITE.",
        (StatusCode::FORBIDDEN, Service::UploadPack) => " Cloning and fetching need REPO_READ.",
        _ => "",
    };
    (
        e.status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{}{needs}\n", e.message),
    )
        .into_response()
}

/// The repository named in the URL, if the caller may use `service` on it, ready on disk.
async fn repository(
    state: &AppState,
    caller: &Caller,
    key: &str,
    repo: &str,
    service: Service,
) -> Result<crate::store::Repository, Response> {
    let slug = repo.strip_suffix(".git").unwrap_or(repo);
    let action = match service {
        Service::UploadPack => Action::ViewRepo,
        Service::ReceivePack => Action::WriteRepo,
    };
    let host = state.host();
    let found = repositories::find(&host, &caller.principal(), key, slug, action).await;
    let r = found.map_err(|e| refusal(caller, e.into(), service))?;
    repositories::on_disk(&host, &r)
        .await
        .map_err(|e| refusal(caller, e.into(), service))?;
    Ok(r)
}

/// The version the client asked for (`Git-Protocol: version=2`), if any.
fn protocol(headers: &HeaderMap) -> Option<&str> {
    headers.get("git-protocol").and_then(|v| v.to_str().ok())
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "serving git failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "The server could not run git.\n",
    )
        .into_response()
}

/// `GET info/refs?service=…`: the refs (protocol v0, after the service line) or the
/// capabilities (v2).
pub async fn info_refs(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, repo)): Path<(String, String)>,
    Query(q): Query<InfoRefsQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(service) = q.service.as_deref().and_then(Service::parse) else {
        return bad_request(
            "Only smart HTTP is served: ask for ?service=git-upload-pack or git-receive-pack.",
        );
    };
    let r = match repository(&state, &caller, &key, &repo, service).await {
        Ok(r) => r,
        Err(refused) => return refused,
    };
    let protocol = protocol(&headers);
    let served = match state.git.serve(r.id, service, true, protocol) {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    drop(served.stdin);
    reap(served.child);
    let mut head = Vec::new();
    if protocol != Some("version=2") {
        let line = format!("# service={}\n", service.name());
        head.extend_from_slice(format!("{:04x}{line}0000", line.len() + 4).as_bytes());
    }
    let body = futures_util::stream::once(async move { Ok(axum::body::Bytes::from(head)) })
        .chain(ReaderStream::new(served.stdout));
    (
        [
            (
                header::CONTENT_TYPE,
                format!("application/x-{}-advertisement", service.name()),
            ),
            (header::CACHE_CONTROL, "no-cache".to_string()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// `POST git-upload-pack` / `git-receive-pack`: the request streams into git, its answer
/// streams back.
pub async fn rpc(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, repo, service)): Path<(String, String, String)>,
    request: Request,
) -> Response {
    let Some(service) = Service::parse(&service) else {
        return (StatusCode::NOT_FOUND, "No such git service.\n").into_response();
    };
    let expected = format!("application/x-{}-request", service.name());
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if content_type != Some(expected.as_str()) {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("A {} request is sent as {expected}.\n", service.name()),
        )
            .into_response();
    }
    let r = match repository(&state, &caller, &key, &repo, service).await {
        Ok(r) => r,
        Err(refused) => return refused,
    };
    let protocol = protocol(request.headers()).map(str::to_string);
    // Git's requests are pkt-lines: anything else is refused before git or a push starts.
    let mut body = request.into_body().into_data_stream();
    let mut head = Vec::new();
    while head.len() < 4 {
        match body.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(_)) => return bad_request("The request body could not be read."),
            None => break,
        }
    }
    if !head
        .get(..4)
        .is_some_and(|len| len.iter().all(u8::is_ascii_hexdigit))
    {
        return bad_request("This is not a git request: its body does not start with a pkt-line.");
    }
    let input = futures_util::stream::once(std::future::ready(Ok(axum::body::Bytes::from(head))))
        .chain(body);
    // A push takes the repository's write turn and is recorded when git is done.
    let update = match (service, caller.user.as_ref()) {
        (Service::ReceivePack, Some(actor)) => {
            match pushes::begin(&state.host(), &r, actor).await {
                Ok(u) => Some((u, actor.clone())),
                Err(e) => return internal(format!("{e:?}")),
            }
        }
        _ => None,
    };
    let served = match state.git.serve(r.id, service, false, protocol.as_deref()) {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let limits = Limits {
        max_input_bytes: state.config.git.max_push_bytes(),
        timeout: std::time::Duration::from_secs(state.config.git.timeout_seconds),
    };
    let running = run::run(served, input, limits);
    // Git's exit and the push's record happen whether or not the client stays to the end; the
    // answer ends only once they have, so a client that sees its push succeed finds its event.
    let (done, finished) = tokio::sync::oneshot::channel::<Option<run::Stopped>>();
    let after = state.clone();
    let exited = running.exited;
    tokio::spawn(async move {
        let stopped = exited.await.unwrap_or(None);
        if let Some(why) = stopped {
            tracing::warn!(repo = r.id, reason = %why, "a git request was stopped");
        }
        if let Some((update, actor)) = update {
            crate::services::git::crash_after_push_for_tests();
            if let Err(e) = pushes::finish(&after.host(), update, &actor).await {
                tracing::error!(error = ?e, "recording a push failed; it is recorded at the next start");
            }
        }
        let _ = done.send(stopped);
    });
    let tail = futures_util::stream::once(async move {
        // A push stopped before git answered: say why where git shows it.
        let said = match finished.await {
            Ok(Some(why)) if service == Service::ReceivePack => run::error_packet(&why.to_string()),
            _ => axum::body::Bytes::new(),
        };
        Ok::<_, std::io::Error>(said)
    })
    .filter(|b| std::future::ready(b.as_ref().map_or(true, |b| !b.is_empty())));
    (
        [
            (
                header::CONTENT_TYPE,
                format!("application/x-{}-result", service.name()),
            ),
            (header::CACHE_CONTROL, "no-cache".to_string()),
        ],
        Body::from_stream(ReaderStream::new(running.stdout).chain(tail)),
    )
        .into_response()
}

/// Waits for a git process so it does not linger once its output is read.
fn reap(mut child: tokio::process::Child) {
    tokio::spawn(async move {
        let _ = child.wait().await;
    });
}
