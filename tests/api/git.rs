//! Git over smart HTTP with the stock `git` client: push and clone with a password given by a
//! credential helper, anonymous clone of a public repository, and refusals git shows the person.

use crate::git_cli::*;
use crate::harness::*;
use std::path::Path;

async fn push_then_clone_with_a_password(app: TestApp) {
    app.project("G", false).await;
    app.repo("G", "code", false).await;
    let root = tempfile::tempdir().unwrap();
    let work = work_with_commit(root.path(), "hello from git\n").await;
    let url = format!("{}/scm/g/code.git", app.base);
    let admin = Some(("admin", ADMIN_PASSWORD));
    ok(&git(&work, admin, &["push", "-q", &url, "main"]).await);
    // Protocol v2 (git's default) and v0 both clone what was pushed.
    for (dir, protocol) in [("v2", "protocol.version=2"), ("v0", "protocol.version=0")] {
        ok(&git(
            root.path(),
            admin,
            &["-c", protocol, "clone", "-q", &url, dir],
        )
        .await);
        let text = std::fs::read_to_string(root.path().join(dir).join("README.md")).unwrap();
        assert_eq!(text, "hello from git\n", "{protocol}");
    }
    // A shallow clone.
    ok(&git(
        root.path(),
        admin,
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    )
    .await);
    assert!(root.path().join("shallow/README.md").exists());
    // A partial clone: blobs fetched when needed.
    ok(&git(
        root.path(),
        admin,
        &["clone", "-q", "--filter=blob:none", &url, "partial"],
    )
    .await);
    assert!(root.path().join("partial/README.md").exists());
}

async fn anonymous_people_clone_public_repositories_only(app: TestApp) {
    app.project("PUB", false).await;
    app.repo("PUB", "open", true).await;
    app.repo("PUB", "closed", false).await;
    let root = tempfile::tempdir().unwrap();
    let work = work_with_commit(root.path(), "open\n").await;
    let admin = Some(("admin", ADMIN_PASSWORD));
    let open = format!("{}/scm/PUB/open.git", app.base);
    ok(&git(&work, admin, &["push", "-q", &open, "main"]).await);
    ok(&git(root.path(), None, &["clone", "-q", &open, "anon"]).await);
    assert!(root.path().join("anon/README.md").exists());
    // A private one: asked for credentials (and, with none to give, git stops).
    let closed = format!("{}/scm/PUB/closed.git", app.base);
    let err = refused(&git(root.path(), None, &["clone", "-q", &closed, "nope"]).await);
    assert!(err.contains("could not read Username"), "{err}");
    // Pushing anonymously to the public one is refused the same way.
    let err = refused(&git(&work, None, &["push", "-q", &open, "main"]).await);
    assert!(err.contains("could not read Username"), "{err}");
}

async fn a_reader_cannot_push_and_git_says_why(app: TestApp) {
    app.project("RO", false).await;
    app.repo("RO", "code", false).await;
    app.user("reader").await;
    app.grant("/rest/api/1.0/projects/RO", "reader", "PROJECT_READ")
        .await;
    let root = tempfile::tempdir().unwrap();
    let work = work_with_commit(root.path(), "mine\n").await;
    let url = format!("{}/scm/RO/code.git", app.base);
    let reader = Some(("reader", "reader-password"));
    ok(&git(root.path(), reader, &["clone", "-q", &url, "copy"]).await);
    let err = refused(&git(&work, reader, &["push", "-q", &url, "main"]).await);
    assert!(err.contains("403"), "{err}");
    // A wrong password is refused, not asked again forever.
    let err = refused(
        &git(
            root.path(),
            Some(("reader", "wrong")),
            &["clone", "-q", &url, "x"],
        )
        .await,
    );
    assert!(err.contains("Authentication failed"), "{err}");
}

async fn a_renamed_repository_keeps_its_history(app: TestApp) {
    app.project("REN", false).await;
    app.repo("REN", "before", false).await;
    let root = tempfile::tempdir().unwrap();
    let work = work_with_commit(root.path(), "kept\n").await;
    let login = Some(("admin", ADMIN_PASSWORD));
    let old = format!("{}/scm/REN/before.git", app.base);
    ok(&git(&work, login, &["push", "-q", &old, "main"]).await);
    let r = app
        .put(
            "/rest/api/1.0/projects/REN/repos/before",
            &admin(),
            serde_json::json!({"name": "after", "slug": "after"}),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.text);
    let slug = r.body["slug"].as_str().unwrap();
    assert_ne!(slug, "before", "{}", r.text);
    let new = format!("{}/scm/ren/{slug}.git", app.base);
    ok(&git(root.path(), login, &["clone", "-q", &new, "copy"]).await);
    let text = std::fs::read_to_string(root.path().join("copy/README.md")).unwrap();
    assert_eq!(text, "kept\n");
}

async fn a_deleted_repository_leaves_nothing_on_disk(app: TestApp) {
    app.project("DEL", false).await;
    let made = app.repo("DEL", "gone", false).await;
    let id = made["id"].as_i64().unwrap();
    let dir = app.data_dir.join("repositories").join(format!("{id}.git"));
    assert!(dir.join("HEAD").exists(), "created with the repository");
    let r = app
        .delete("/rest/api/1.0/projects/DEL/repos/gone", &admin())
        .await;
    assert_eq!(r.status, reqwest::StatusCode::ACCEPTED, "{}", r.text);
    assert!(!dir.exists(), "removed after the database change");
}

/// A working copy whose `main` has `n` commits, each changing `count.txt`, made by
/// `git fast-import` (seconds, not minutes).
async fn generated_history(root: &Path, n: usize) -> std::path::PathBuf {
    use std::fmt::Write;
    let work = root.join("big");
    std::fs::create_dir_all(&work).unwrap();
    ok(&git(&work, None, &["init", "-q"]).await);
    let mut stream = String::new();
    for i in 1..=n {
        let (message, content) = (format!("Commit {i}\n"), format!("{i}\n"));
        let _ = write!(
            stream,
            "commit refs/heads/main\nmark :{i}\ncommitter Gen <gen@example.com> {} +0000\ndata {}\n{message}",
            1_700_000_000 + i,
            message.len()
        );
        if i > 1 {
            let _ = writeln!(stream, "from :{}", i - 1);
        }
        let _ = write!(
            stream,
            "M 644 inline count.txt\ndata {}\n{content}\n",
            content.len()
        );
    }
    let import = root.join("import.txt");
    std::fs::write(&import, stream).unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("git fast-import --quiet < {}", import.display()))
        .current_dir(&work)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ok(&git(&work, None, &["checkout", "-q", "main"]).await);
    work
}

async fn a_repository_of_5000_commits_pushes_clones_and_pages(app: TestApp) {
    app.project("G", false).await;
    app.repo("G", "big", false).await;
    let root = tempfile::tempdir().unwrap();
    let work = generated_history(root.path(), 5000).await;
    let url = format!("{}/scm/G/big.git", app.base);
    let login = Some(("admin", ADMIN_PASSWORD));
    ok(&git(&work, login, &["push", "-q", &url, "main"]).await);
    ok(&git(root.path(), login, &["clone", "-q", &url, "copy"]).await);
    let count = ok(&git(
        &root.path().join("copy"),
        None,
        &["rev-list", "--count", "HEAD"],
    )
    .await);
    assert_eq!(count.trim(), "5000");
    ok(&git(
        root.path(),
        login,
        &["clone", "-q", "--depth", "3", &url, "shallow"],
    )
    .await);
    let count = ok(&git(
        &root.path().join("shallow"),
        None,
        &["rev-list", "--count", "HEAD"],
    )
    .await);
    assert_eq!(count.trim(), "3");
    // The push's event lists the five newest of the 5,000 and says there were more.
    let repo = app
        .store
        .find_repository("G", "big")
        .await
        .unwrap()
        .unwrap();
    let events = app.store.events_of_repository(repo.id).await.unwrap();
    let push: serde_json::Value = serde_json::from_str(&events.last().unwrap().payload).unwrap();
    let change = &push["push"]["changes"][0];
    assert_eq!(change["commits"].as_array().unwrap().len(), 5);
    assert_eq!(change["commits"][0]["message"], "Commit 5000");
    assert_eq!(change["truncated"], true);
    // The last page of commits over REST.
    let r = app
        .get(
            "/rest/api/1.0/projects/G/repos/big/commits?start=4990&limit=25",
            &admin(),
        )
        .await;
    assert_eq!(r.body["size"], 10);
    assert_eq!(r.body["isLastPage"], true);
    assert_eq!(r.body["values"][9]["message"], "Commit 1");
}

crate::both_backends!(
    push_then_clone_with_a_password,
    anonymous_people_clone_public_repositories_only,
    a_reader_cannot_push_and_git_says_why,
    a_renamed_repository_keeps_its_history,
    a_deleted_repository_leaves_nothing_on_disk,
    a_repository_of_5000_commits_pushes_clones_and_pages,
);
