//! `git.timeout_seconds`: a git request that runs too long is stopped and says why.

use crate::harness::*;

async fn setup(app: &TestApp) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
}

/// A push whose client stalls half-way is stopped at `git.timeout_seconds`, and the answer says
/// so on git's error band; nothing is left under way.
async fn a_push_that_stalls_is_stopped_at_the_time_limit(app: TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    setup(&app).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let login = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("admin:{ADMIN_PASSWORD}"),
    );
    // One chunk of a pkt-line, then nothing: git waits for the rest that never comes.
    let head = format!(
        "POST /scm/P/r.git/git-receive-pack HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {login}\r\n\
         Content-Type: application/x-git-receive-pack-request\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n00a0\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.ends_with(b"0\r\n\r\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "the server closed before answering: {}",
            String::from_utf8_lossy(&answer)
        );
        answer.extend_from_slice(&buf[..n]);
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.contains("\u{3}This request ran longer than the 1 seconds this server allows (git.timeout_seconds)."),
        "{answer}"
    );
    assert!(app.store.pending_ref_updates().await.unwrap().is_empty());
}

crate::both_backends!(spawn_impatient; a_push_that_stalls_is_stopped_at_the_time_limit);
