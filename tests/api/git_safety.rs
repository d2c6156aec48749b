//! Git over HTTP, safe by construction: a push past the size limit is stopped with the limit
//! in words; two pushes racing for one branch, one wins; malformed and climbing requests get
//! 4xx and leave nothing behind.

use crate::git_cli::*;
use crate::harness::*;
use reqwest::StatusCode;
use std::path::Path;

async fn repo_push_events(app: &TestApp) -> usize {
    let events = app.events("P", "r").await;
    events.iter().filter(|(k, _)| k == "repo:push").count()
}

async fn setup(app: &TestApp) -> String {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    format!("{}/scm/P/r.git", app.base)
}

/// Bytes nothing compresses.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

async fn a_push_past_the_size_limit_is_stopped_and_git_says_why(app: TestApp) {
    let url = setup(&app).await;
    let root = tempfile::tempdir().unwrap();
    let work = work_with_commit(root.path(), "small\n").await;
    std::fs::write(work.join("big.bin"), noise(3 * 1024 * 1024)).unwrap();
    ok(&git(&work, None, &["add", "big.bin"]).await);
    ok(&git(&work, None, &["commit", "-q", "-m", "Big"]).await);
    let admin = Some(("admin", ADMIN_PASSWORD));
    let err = refused(&git(&work, admin, &["push", "-q", &url, "main"]).await);
    assert!(
        err.contains("This push is larger than the 1 MB this server accepts"),
        "{err}"
    );
    assert_eq!(
        app.bare_git("P", "r", &["for-each-ref"]).await,
        "",
        "no ref moved"
    );
    assert_eq!(repo_push_events(&app).await, 0);
}

async fn commit_on(work: &Path, file: &str) {
    std::fs::write(work.join(file), file).unwrap();
    ok(&git(work, None, &["add", file]).await);
    ok(&git(work, None, &["commit", "-q", "-m", file]).await);
}

async fn of_two_pushes_racing_for_a_branch_one_wins(app: TestApp) {
    let url = setup(&app).await;
    let root = tempfile::tempdir().unwrap();
    let work = work_with_commit(root.path(), "base\n").await;
    let admin = Some(("admin", ADMIN_PASSWORD));
    ok(&git(&work, admin, &["push", "-q", &url, "main"]).await);
    let (a, b) = (root.path().join("a"), root.path().join("b"));
    for dir in [&a, &b] {
        let name = dir.file_name().unwrap().to_str().unwrap();
        ok(&git(root.path(), admin, &["clone", "-q", &url, name]).await);
    }
    commit_on(&a, "a.txt").await;
    commit_on(&b, "b.txt").await;
    let push = ["push", "-q", url.as_str(), "main"];
    let (first, second) = tokio::join!(git(&a, admin, &push), git(&b, admin, &push));
    let won = [&first, &second]
        .iter()
        .filter(|o| o.status.success())
        .count();
    assert_eq!(won, 1, "exactly one push wins");
    let loser = if first.status.success() {
        &second
    } else {
        &first
    };
    let err = String::from_utf8_lossy(&loser.stderr);
    assert!(
        err.contains("rejected") || err.contains("failed to push"),
        "{err}"
    );
    assert_eq!(
        repo_push_events(&app).await,
        2,
        "the first push and the winner"
    );
}

async fn malformed_and_climbing_requests_get_4xx_and_leave_nothing(app: TestApp) {
    setup(&app).await;
    let repos = app.data_dir.join("repositories");
    let before: Vec<_> = std::fs::read_dir(&repos)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let post = |path: &str, content_type: &str, body: &'static str| {
        app.client
            .post(format!("{}{path}", app.base))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let r = post(
        "/scm/P/r.git/git-receive-pack",
        "application/x-git-receive-pack-request",
        "hello, git",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.text().await.unwrap(),
        "This is not a git request: its body does not start with a pkt-line.\n"
    );
    let r = post("/scm/P/r.git/git-upload-pack", "text/plain", "0000")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = post(
        "/scm/P/r.git/git-shell",
        "application/x-git-shell-request",
        "0000",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    for path in [
        "/scm/P/r.git/info/refs",
        "/scm/P/r.git/info/refs?service=git-shell",
        "/scm/P/..%2F..%2Fetc/info/refs?service=git-upload-pack",
        "/scm/..%2F1.git/r.git/info/refs?service=git-upload-pack",
        "/scm/P/r.git/HEAD",
        "/scm/P/r.git/objects/info/packs",
    ] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
    }
    assert_eq!(repo_push_events(&app).await, 0);
    let after: Vec<_> = std::fs::read_dir(&repos)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after, "nothing created or removed");
    let pending = app.store.pending_ref_updates().await.unwrap();
    assert!(pending.is_empty(), "no push left under way");
}

crate::both_backends!(
    spawn_small_pushes;
    a_push_past_the_size_limit_is_stopped_and_git_says_why,
    of_two_pushes_racing_for_a_branch_one_wins,
    malformed_and_climbing_requests_get_4xx_and_leave_nothing,
);
