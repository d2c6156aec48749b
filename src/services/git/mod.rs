//! Repositories on disk and git's own server programs. A repository lives at
//! `<repositories dir>/<id>.git`, named by its database id: no part of a request ever reaches
//! the filesystem (a rename changes nothing on disk). Clone, fetch and push run
//! `git upload-pack` / `git receive-pack --stateless-rpc` with a clean environment and fixed
//! configuration, their input and output streamed (never held whole in memory).

mod lock;
mod process;
mod read;
pub mod run;
mod write;

pub use lock::WriteTurn;
pub use process::{Served, Service};
use std::path::{Path, PathBuf};
pub use write::{MergeTree, Signature};

/// Where bare repositories live, and how git is run on them.
#[derive(Debug, Clone)]
pub struct GitRepos {
    root: PathBuf,
    /// An empty directory git uses as `HOME`, so no person's configuration applies.
    home: PathBuf,
    turns: lock::Turns,
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("could not run git: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("git {what} failed: {stderr}")]
    Failed { what: &'static str, stderr: String },
}

impl GitRepos {
    /// Repositories under `root` (created if missing).
    pub fn open(root: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(root)?;
        let home = root.join(".git-home");
        std::fs::create_dir_all(&home)?;
        Ok(Self {
            root: root.to_path_buf(),
            home,
            turns: lock::Turns::default(),
        })
    }

    /// The bare repository of the repository row `id`.
    pub fn path(&self, id: i64) -> PathBuf {
        self.root.join(format!("{id}.git"))
    }

    /// Creates the bare repository of a new repository row, its `HEAD` on `default_branch`
    /// (a full ref name). An existing directory (a crash after creating it) is reused.
    pub async fn create(&self, id: i64, default_branch: &str) -> Result<(), GitError> {
        let (path, home, branch) = (self.path(id), self.home.clone(), default_branch.to_string());
        tokio::task::spawn_blocking(move || {
            let out = process::git(&home)
                .arg("init")
                .arg("--bare")
                .arg("--quiet")
                .arg(&path)
                .output()?;
            if !out.status.success() {
                return Err(failed("init", &out.stderr));
            }
            let out = process::git_in(&home, &path)
                .args(["symbolic-ref", "HEAD", &branch])
                .output()?;
            if !out.status.success() {
                return Err(failed("symbolic-ref", &out.stderr));
            }
            Ok(())
        })
        .await
        .map_err(|e| GitError::Spawn(std::io::Error::other(e)))?
    }

    /// Removes a deleted repository's directory (after the database change committed).
    pub async fn remove(&self, id: i64) {
        let path = self.path(id);
        if let Err(e) = tokio::fs::remove_dir_all(&path).await {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::error!(error = %e, path = %path.display(), "could not remove a deleted repository's directory");
            }
        }
    }

    /// Starts `service` on repository `id`; see `process.rs`.
    pub fn serve(
        &self,
        id: i64,
        service: Service,
        advertise: bool,
        protocol: Option<&str>,
    ) -> Result<Served, GitError> {
        process::serve(&self.home, &self.path(id), service, advertise, protocol)
    }
}

/// `JUNCTION_TEST_CRASH_AFTER_PUSH=1` makes the server abort after git has changed a push's
/// refs and before the push is recorded: the one moment a crash could lose a `repo:push`, which
/// the crash test (`tests/api/git_crash.rs`) creates on purpose to show the next start
/// records it. Read once; unset in every real deployment.
pub fn crash_after_push_for_tests() {
    static CRASH: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *CRASH.get_or_init(|| {
        std::env::var_os("JUNCTION_TEST_CRASH_AFTER_PUSH").is_some_and(|v| v == "1")
    }) {
        std::process::abort();
    }
}

fn failed(what: &'static str, stderr: &[u8]) -> GitError {
    GitError::Failed {
        what,
        stderr: String::from_utf8_lossy(stderr).trim().to_string(),
    }
}
