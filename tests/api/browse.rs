//! Browsing a repository over REST in Data Center's shapes, and read by atlassian-python-api;
//! revisions and paths that try to leave the repository or pass as options get 404.

use crate::git_cli::*;
use crate::harness::*;
use reqwest::StatusCode;
use serde_json::json;

const REPO: &str = "/rest/api/1.0/projects/CODE/repos/app";

/// CODE/app with three commits on main (README.md, then src/lib.rs, then docs/guide.md), a
/// branch `topic` and a tag `v1`; returns the hashes oldest first.
async fn history(app: &TestApp) -> Vec<String> {
    app.project("CODE", false).await;
    app.repo("CODE", "app", false).await;
    let root = tempfile::tempdir().unwrap();
    let work = work_with_commit(root.path(), "# App\n").await;
    for (path, text) in [
        ("src/lib.rs", "pub fn f() {}\n"),
        ("docs/guide.md", "Read me.\n"),
    ] {
        std::fs::create_dir_all(work.join(path).parent().unwrap()).unwrap();
        std::fs::write(work.join(path), text).unwrap();
        ok(&git(&work, None, &["add", path]).await);
        ok(&git(&work, None, &["commit", "-q", "-m", &format!("Add {path}")]).await);
    }
    ok(&git(&work, None, &["branch", "topic", "HEAD~1"]).await);
    ok(&git(&work, None, &["tag", "v1", "HEAD~2"]).await);
    let url = format!("{}/scm/CODE/app.git", app.base);
    let admin = Some(("admin", ADMIN_PASSWORD));
    ok(&git(&work, admin, &["push", "-q", &url, "main", "topic", "v1"]).await);
    let out = ok(&git(&work, None, &["rev-list", "--reverse", "main"]).await);
    out.lines().map(str::to_string).collect()
}

async fn branches_tags_and_commits(app: TestApp) {
    let hashes = history(&app).await;
    let r = app.get(&format!("{REPO}/branches"), &admin()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["values"][0]["displayId"], "main");
    assert_eq!(r.body["values"][0]["isDefault"], true);
    assert_eq!(r.body["values"][0]["latestCommit"], hashes[2].as_str());
    assert_eq!(r.body["values"][1]["id"], "refs/heads/topic");
    assert_eq!(r.body["values"][1]["isDefault"], false);
    let r = app
        .get(&format!("{REPO}/branches?filterText=TOP"), &admin())
        .await;
    assert_eq!(r.body["size"], 1);
    let r = app.get(&format!("{REPO}/branches/default"), &admin()).await;
    assert_eq!(r.body["id"], "refs/heads/main");
    let r = app.get(&format!("{REPO}/tags"), &admin()).await;
    assert_eq!(r.body["values"][0]["displayId"], "v1");
    assert_eq!(r.body["values"][0]["type"], "TAG");

    let r = app.get(&format!("{REPO}/commits?limit=2"), &admin()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["values"][0]["id"], hashes[2].as_str());
    assert_eq!(r.body["values"][0]["message"], "Add docs/guide.md");
    assert_eq!(
        (&r.body["isLastPage"], &r.body["nextPageStart"]),
        (&json!(false), &json!(2))
    );
    let r = app
        .get(&format!("{REPO}/commits?start=2&limit=2"), &admin())
        .await;
    assert_eq!(r.body["values"][0]["id"], hashes[0].as_str());
    assert_eq!(r.body["isLastPage"], true);
    let r = app
        .get(
            &format!("{REPO}/commits?until=topic&since={}", hashes[0]),
            &admin(),
        )
        .await;
    assert_eq!(r.body["size"], 1);
    assert_eq!(r.body["values"][0]["id"], hashes[1].as_str());
    let r = app
        .get(&format!("{REPO}/commits/{}", hashes[1]), &admin())
        .await;
    assert_eq!(r.body["parents"][0]["id"], hashes[0].as_str());
    let r = app.get(&format!("{REPO}/commits/nope"), &admin()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(
        r.body["errors"][0]["message"],
        "The repository has no branch, tag or commit 'nope'."
    );
}

async fn directories_files_and_raw_content(app: TestApp) {
    history(&app).await;
    let r = app.get(&format!("{REPO}/browse"), &admin()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let names: Vec<&str> = r.body["children"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["path"]["toString"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["docs", "src", "README.md"], "directories first");
    assert_eq!(r.body["children"]["values"][0]["type"], "DIRECTORY");
    assert_eq!(r.body["children"]["values"][2]["size"], 6);
    let r = app
        .get(&format!("{REPO}/browse/src?at=topic"), &admin())
        .await;
    assert_eq!(r.body["children"]["values"][0]["path"]["name"], "lib.rs");
    let r = app
        .get(&format!("{REPO}/browse/src/lib.rs"), &admin())
        .await;
    assert_eq!(r.body["lines"], json!([{"text": "pub fn f() {}"}]));
    // At a revision without it: not there.
    let r = app
        .get(&format!("{REPO}/browse/docs?at=v1"), &admin())
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app
        .get(&format!("{REPO}/raw/docs/guide.md?at=main"), &admin())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text, "Read me.\n");
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
}

async fn paths_and_revisions_cannot_escape(app: TestApp) {
    history(&app).await;
    let marker = app.data_dir.join("escaped");
    let at = format!("--output={}", marker.display());
    for path in [
        format!("{REPO}/raw/README.md?at={}", urlencoding(&at)),
        format!("{REPO}/browse?at={}", urlencoding("main:src")),
        format!("{REPO}/commits?until={}", urlencoding("main..topic")),
        format!("{REPO}/raw/src/..%2F..%2F..%2Fetc%2Fpasswd"),
        format!("{REPO}/browse/../../../../etc"),
    ] {
        let r = app.get(&path, &admin()).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
        assert!(!r.text.contains("root:"), "{path}");
    }
    assert!(!marker.exists(), "nothing was written");
    // Someone who cannot see the repository learns nothing about its code.
    let outsider = app.user("outsider").await;
    let r = app.get(&format!("{REPO}/raw/README.md"), &outsider).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn atlassian_python_api_reads_branches_and_commits(app: TestApp) {
    let Some(python) = crate::interop::python() else {
        return;
    };
    let hashes = history(&app).await;
    let (Auth::Bearer(token), _) = app.token(&admin(), "REPO_READ").await else {
        unreachable!()
    };
    let out = crate::interop::run_client(
        &python,
        "python/bitbucket_browse.py",
        &[
            ("JUNCTION_URL", &app.base),
            ("TOKEN", &token),
            ("OLDEST", &hashes[0]),
        ],
    )
    .await;
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["branches"], json!(["main", "topic"]));
    assert_eq!(summary["default"], "main");
    assert_eq!(
        summary["commits"],
        json!(["Add docs/guide.md", "Add src/lib.rs", "First"])
    );
    assert_eq!(
        summary["since"],
        json!(["Add docs/guide.md", "Add src/lib.rs"])
    );
    assert_eq!(summary["readme"], "# App\n");
}

crate::both_backends!(
    branches_tags_and_commits,
    directories_files_and_raw_content,
    paths_and_revisions_cannot_escape,
    atlassian_python_api_reads_branches_and_commits,
);
