//! The stock `git` client, driven as a person drives it: no configuration of this machine's,
//! credentials from a credential helper (never in the URL).

use std::path::Path;
use std::process::Output;

/// Runs `git` in `dir` with no configuration of this machine's, and `user`/`password` given by
/// a credential helper (as people give them), never in the URL.
pub async fn git(dir: &Path, login: Option<(&str, &str)>, args: &[&str]) -> Output {
    // Asynchronously: the server under test runs on this test's own runtime.
    let mut c = tokio::process::Command::new("git");
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(["-c", "init.defaultBranch=main"]);
    if let Some((user, password)) = login {
        let helper = format!("!f() {{ echo username={user}; echo password={password}; }}; f");
        c.arg("-c").arg(format!("credential.helper={helper}"));
    }
    c.args(args)
        .output()
        .await
        .expect("the git CLI is installed")
}

pub fn ok(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "git failed: {err}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

pub fn refused(out: &Output) -> String {
    assert!(!out.status.success(), "git should have been refused");
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// A working copy with one commit of `README.md` saying `text`.
pub async fn work_with_commit(root: &Path, text: &str) -> std::path::PathBuf {
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    ok(&git(&work, None, &["init", "-q"]).await);
    std::fs::write(work.join("README.md"), text).unwrap();
    ok(&git(&work, None, &["add", "README.md"]).await);
    ok(&git(&work, None, &["commit", "-q", "-m", "First"]).await);
    work
}
