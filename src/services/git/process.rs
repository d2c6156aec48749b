//! Running git's server programs: a clean environment (no system or global configuration, an
//! empty `HOME`, hooks off), the protocol version the client asked for, stdin and stdout as
//! streams.

use super::GitError;
use std::path::Path;
use std::process::Stdio;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The two smart HTTP services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Clone and fetch.
    UploadPack,
    /// Push.
    ReceivePack,
}

impl Service {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "git-upload-pack" => Some(Self::UploadPack),
            "git-receive-pack" => Some(Self::ReceivePack),
            _ => None,
        }
    }

    /// `git-upload-pack` or `git-receive-pack`, as the protocol names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::UploadPack => "git-upload-pack",
            Self::ReceivePack => "git-receive-pack",
        }
    }

    fn program(self) -> &'static str {
        match self {
            Self::UploadPack => "upload-pack",
            Self::ReceivePack => "receive-pack",
        }
    }
}

/// A running service: write the request to `stdin` (then drop it), stream `stdout` back.
pub struct Served {
    pub child: Child,
    pub stdin: ChildStdin,
    pub stdout: ChildStdout,
}

/// `git` with nothing of this machine's or any person's configuration, for a short command run
/// to its end on a blocking thread (its exit is waited for there, not through a signal).
pub(super) fn git(home: &Path) -> std::process::Command {
    let mut c = std::process::Command::new("git");
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        // Repositories are Junction's own; hooks never run, whatever a directory holds.
        .args(["-c", "core.hooksPath=/dev/null"])
        .stdin(Stdio::null());
    c
}

/// `git` on the bare repository `repo`: as `git`, with the repository trusted by its exact
/// path (`safe.directory`), so a directory several nodes share works whichever user owns it;
/// what Junction trusts is only its own repositories, whose configuration it wrote and whose
/// hooks never run.
pub(super) fn git_in(home: &Path, repo: &Path) -> std::process::Command {
    let mut c = git(home);
    c.arg("-c")
        .arg(format!("safe.directory={}", repo.display()))
        .arg("--git-dir")
        .arg(repo);
    c
}

pub(super) fn serve(
    home: &Path,
    repo: &Path,
    service: Service,
    advertise: bool,
    protocol: Option<&str>,
) -> Result<Served, GitError> {
    let mut c = Command::from(git(home));
    c.arg("-c")
        .arg(format!("safe.directory={}", repo.display()));
    c.kill_on_drop(true);
    // Partial clones are served; objects nobody can reach are not.
    c.args(["-c", "uploadpack.allowFilter=true"])
        .args(["-c", "uploadpack.allowAnySHA1InWant=false"])
        .args(["-c", "receive.denyNonFastForwards=false"])
        .arg(service.program())
        .arg("--stateless-rpc");
    if advertise {
        c.arg("--advertise-refs");
    }
    c.arg(repo);
    // Only the protocol version is taken from the client, and only in its known form.
    if let Some(p) = protocol.filter(|p| *p == "version=2" || *p == "version=1") {
        c.env("GIT_PROTOCOL", p);
    }
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    Ok(Served {
        child,
        stdin,
        stdout,
    })
}
