//! Two nodes on one PostgreSQL database and one shared repositories directory: of two pushes
//! racing for a branch through different nodes one wins, and each push that changed something
//! has exactly one event, nothing left under way (each node records in the repository's turn,
//! which the advisory lock makes one across nodes).

use crate::git_cli::*;
use crate::harness::*;

#[tokio::test]
async fn pushes_through_two_nodes_take_turns() {
    let Some(a) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    // On `a`'s database and `a`'s repositories directory.
    let shared = a.data_dir.join("repositories");
    let (b_base, _b) = a.second_node(|c| c.storage.repositories_dir = shared).await;
    a.project("P", false).await;
    a.repo("P", "r", false).await;
    let root = tempfile::tempdir().unwrap();
    let work = work_with_commit(root.path(), "base\n").await;
    let login = Some(("admin", ADMIN_PASSWORD));
    let (url_a, url_b) = (
        format!("{}/scm/P/r.git", a.base),
        format!("{b_base}/scm/P/r.git"),
    );
    ok(&git(&work, login, &["push", "-q", &url_a, "main"]).await);
    for (name, url) in [("a", &url_a), ("b", &url_b)] {
        ok(&git(root.path(), login, &["clone", "-q", url, name]).await);
        let dir = root.path().join(name);
        std::fs::write(dir.join(name), name).unwrap();
        ok(&git(&dir, None, &["add", name]).await);
        ok(&git(&dir, None, &["commit", "-q", "-m", name]).await);
    }
    let (dir_a, dir_b) = (root.path().join("a"), root.path().join("b"));
    let (push_a, push_b) = (
        ["push", "-q", url_a.as_str(), "main"],
        ["push", "-q", url_b.as_str(), "main"],
    );
    let (first, second) = tokio::join!(git(&dir_a, login, &push_a), git(&dir_b, login, &push_b));
    let won = [&first, &second]
        .iter()
        .filter(|o| o.status.success())
        .count();
    assert_eq!(won, 1, "exactly one push wins");
    let pushes = a
        .events("P", "r")
        .await
        .into_iter()
        .filter(|(k, _)| k == "repo:push")
        .count();
    assert_eq!(pushes, 2, "the first push and the winner, each once");
    assert!(a.store.pending_ref_updates().await.unwrap().is_empty());
}
