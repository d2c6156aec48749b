//! Passwords: argon2id, computed on a small fixed set of threads (`Passwords`), never on the
//! async runtime and never more at once than there are threads.
//!
//! Each hash needs 19 MiB. Without a bound, every concurrent sign-in holds its own buffer on its
//! own blocking thread: 200 at once took the server from 1 GB to 4 GB and starved everyone else.
//! The pool caps that at `threads` buffers; requests queue for a thread at most `wait`, and then
//! get `Busy` (503 with `Retry-After`). `release_memory_to_the_system` makes glibc return such
//! large buffers when they are freed, so after a burst the process settles near its idle size.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::Semaphore;

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 1024;

/// Checks a new password against the policy; the sentence says what to change.
pub fn check_policy(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(format!(
            "Passwords must be at least {MIN_LEN} characters long."
        ));
    }
    if n > MAX_LEN {
        return Err(format!(
            "Passwords must be at most {MAX_LEN} characters long."
        ));
    }
    Ok(())
}

/// Every hashing thread is taken and none came free in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Junction is busy checking other passwords. Try again in a few seconds.")]
pub struct Busy;

impl Busy {
    /// What `Retry-After` says.
    pub const RETRY_AFTER_SECONDS: u64 = 2;
}

type Job = Box<dyn FnOnce() + Send>;

/// The hashing pool: `threads` OS threads and a queue that waits at most `wait` for one.
#[derive(Clone)]
pub struct Passwords {
    free: Arc<Semaphore>,
    jobs: mpsc::SyncSender<Job>,
    wait: Duration,
}

impl Passwords {
    /// `threads == 0` means one per core.
    pub fn new(threads: usize, wait: Duration) -> Self {
        release_memory_to_the_system();
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            threads
        };
        // Jobs are only sent with a permit, so the channel never holds more than `threads`.
        let (jobs, queue) = mpsc::sync_channel::<Job>(threads);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || loop {
                    let job = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // the pool was dropped
                    }
                })
                .expect("the OS starts a thread");
        }
        Self {
            free: Arc::new(Semaphore::new(threads)),
            jobs,
            wait,
        }
    }

    async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, Busy> {
        let permit = tokio::time::timeout(self.wait, self.free.clone().acquire_owned())
            .await
            .map_err(|_| Busy)?
            .map_err(|_| Busy)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
            drop(permit);
        });
        self.jobs.send(job).map_err(|_| Busy)?;
        rx.await.map_err(|_| Busy)
    }

    pub async fn hash(&self, password: String) -> Result<anyhow::Result<String>, Busy> {
        self.run(move || hash_blocking(&password)).await
    }

    /// Verifies `password` against `stored`. With no stored hash (unknown user, no password
    /// set), a dummy hash is checked instead, so the answer takes the same time either way.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, Busy> {
        self.run(move || verify_blocking(&password, stored)).await
    }
}

/// Hashes once, outside any request (the command line, the first start).
pub async fn hash_once(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?
        .to_string())
}

fn verify_blocking(password: &str, stored: Option<String>) -> bool {
    let real = stored.is_some();
    let hash_text = stored.unwrap_or_else(|| dummy_hash().to_string());
    let Ok(parsed) = PasswordHash::new(&hash_text) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && real
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_blocking("not a real password, only spends time").expect("hashing works")
    })
}

/// glibc raises its mmap threshold each time a large block is freed, after which 19 MiB hash
/// buffers come from per-thread arenas that it never gives back. A fixed threshold keeps every
/// allocation of 1 MiB and more in its own mapping, returned to the system when freed.
fn release_memory_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: mallopt only changes the allocator's tuning; it is called once, before
            // the hashing threads exist, and a failure leaves the default behaviour.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let p = Passwords::new(1, Duration::from_secs(30));
        let h = p.hash("correct horse".into()).await.unwrap().unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert_eq!(
            p.verify("correct horse".into(), Some(h.clone())).await,
            Ok(true)
        );
        assert_eq!(p.verify("wrong horse".into(), Some(h)).await, Ok(false));
        assert_eq!(p.verify("anything".into(), None).await, Ok(false));
    }

    #[tokio::test]
    async fn a_full_pool_answers_busy_instead_of_queueing_forever() {
        let p = Passwords::new(1, Duration::from_millis(1));
        let (hold, held) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel();
        let busy_thread = p.clone();
        let first = tokio::spawn(async move {
            busy_thread
                .run(move || {
                    let _ = started.send(());
                    let _ = held.recv();
                })
                .await
        });
        running.await.unwrap();
        assert_eq!(p.verify("x".into(), None).await, Err(Busy));
        hold.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Ok(()));
        let p = Passwords {
            wait: Duration::from_secs(30),
            ..p
        };
        assert_eq!(p.verify("x".into(), None).await, Ok(false), "free again");
    }

    #[test]
    fn policy() {
        assert!(check_policy("short").is_err());
        assert!(check_policy("long enough").is_ok());
    }
}
