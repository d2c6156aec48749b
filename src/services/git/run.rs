//! Running one git RPC to its end under limits: the request body is fed into git as it
//! arrives, counted, and cut off past the size limit; git is stopped past the time limit. Either
//! way git is killed and the caller learns why (`Stopped`), to tell the person in words git
//! shows them (`error_packet`).

use super::Served;
use axum::body::Bytes;
use futures_util::{Stream, StreamExt};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::process::ChildStdout;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_input_bytes: u64,
    pub timeout: Duration,
}

/// Why git was stopped before it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Stopped {
    #[error("This push is larger than the {0} MB this server accepts (git.max_push_megabytes). Split it into smaller pushes, or ask an administrator to raise the limit.")]
    TooLarge(u64),
    #[error(
        "This request ran longer than the {0} seconds this server allows (git.timeout_seconds)."
    )]
    TimedOut(u64),
}

pub struct Running {
    /// Git's answer, as it comes.
    pub stdout: ChildStdout,
    /// Resolves once git has exited: None if it ran to its end.
    pub exited: tokio::sync::oneshot::Receiver<Option<Stopped>>,
}

/// Feeds `input` into `served` and waits for its exit, both on their own tasks, so they finish
/// whether or not the client reads the answer to its end.
pub fn run<E: Send + 'static>(
    served: Served,
    input: impl Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    limits: Limits,
) -> Running {
    let (too_large_tx, too_large) = tokio::sync::oneshot::channel::<()>();
    let mut stdin = served.stdin;
    let mut input = input;
    tokio::spawn(async move {
        let mut fed: u64 = 0;
        while let Some(chunk) = input.next().await {
            let Ok(chunk) = chunk else { break };
            fed += chunk.len() as u64;
            if fed > limits.max_input_bytes {
                let _ = too_large_tx.send(());
                return;
            }
            if stdin.write_all(&chunk).await.is_err() {
                break;
            }
        }
        // Dropping stdin ends git's input.
    });
    let (exited_tx, exited) = tokio::sync::oneshot::channel();
    let mut child = served.child;
    tokio::spawn(async move {
        let stopped = tokio::select! {
            _ = child.wait() => None,
            Ok(()) = too_large => Some(Stopped::TooLarge(limits.max_input_bytes / (1024 * 1024))),
            _ = tokio::time::sleep(limits.timeout) => Some(Stopped::TimedOut(limits.timeout.as_secs())),
        };
        if stopped.is_some() {
            let _ = child.kill().await;
        }
        let _ = exited_tx.send(stopped);
    });
    Running {
        stdout: served.stdout,
        exited,
    }
}

/// A side-band error packet (band 3): git stops and prints `message` to the person.
pub fn error_packet(message: &str) -> Bytes {
    let body = format!("\u{3}{message}\n");
    Bytes::from(format!("{:04x}{body}", body.len() + 4))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_error_packet_is_a_pkt_line_on_band_three() {
        assert_eq!(&super::error_packet("no")[..], b"0008\x03no\n");
    }
}
