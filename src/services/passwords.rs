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
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

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

/// Who is waiting for a hash. People who signed in from the same address before are served
/// first, so a flood of guesses from elsewhere does not make them wait behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Known = 0,
    Other = 1,
}

/// A queued hash: runs with `true` if a thread took it before its deadline, else with `false`
/// (and only answers `Busy`), so a request that gave up never costs a hash.
struct Queued {
    job: Box<dyn FnOnce(bool) + Send>,
    deadline: Instant,
}

#[derive(Default)]
struct Queues {
    by_priority: [VecDeque<Queued>; 2],
}

struct Shared {
    queues: Mutex<Queues>,
    ready: Condvar,
}

/// The hashing pool: `threads` OS threads taking queued hashes, known people first; a hash not
/// started within `wait` answers `Busy`.
#[derive(Clone)]
pub struct Passwords {
    shared: Arc<Shared>,
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
        let shared = Arc::new(Shared {
            queues: Mutex::new(Queues::default()),
            ready: Condvar::new(),
        });
        // Every worker's handle exists before any worker starts: a worker exits once only the
        // workers hold `shared`, and one started while its siblings' handles were still being
        // made would count too few and quit at once (under load, all of them did, and every
        // password check then waited forever).
        let handles: Vec<_> = (0..threads).map(|_| shared.clone()).collect();
        for (i, shared) in handles.into_iter().enumerate() {
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || work(&shared, threads))
                .expect("the OS starts a thread");
        }
        Self { shared, wait }
    }

    async fn run<R: Send + 'static>(
        &self,
        priority: Priority,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, Busy> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = Box::new(move |in_time: bool| {
            let _ = tx.send(if in_time { Ok(f()) } else { Err(Busy) });
        });
        let queued = Queued {
            job,
            deadline: Instant::now() + self.wait,
        };
        {
            let mut q = self.shared.queues.lock().map_err(|_| Busy)?;
            q.by_priority[priority as usize].push_back(queued);
        }
        self.shared.ready.notify_one();
        rx.await.map_err(|_| Busy)?
    }

    /// Hashes a new password (someone signed in is choosing it: served first).
    pub async fn hash(&self, password: String) -> Result<anyhow::Result<String>, Busy> {
        self.run(Priority::Known, move || hash_blocking(&password))
            .await
    }

    /// Verifies `password` against `stored`. With no stored hash (unknown user, no password
    /// set), a dummy hash is checked instead, so the answer takes the same time either way.
    pub async fn verify(
        &self,
        priority: Priority,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, Busy> {
        self.run(priority, move || verify_blocking(&password, stored))
            .await
    }
}

/// A hashing thread: takes the next queued hash, known people first, until every `Passwords`
/// handle is gone (then only the `threads` workers hold `shared`).
fn work(shared: &Arc<Shared>, threads: usize) {
    loop {
        let next = {
            let Ok(mut q) = shared.queues.lock() else {
                return;
            };
            loop {
                if let Some(next) = q.by_priority.iter_mut().find_map(VecDeque::pop_front) {
                    break next;
                }
                if Arc::strong_count(shared) <= threads {
                    return;
                }
                q = match shared.ready.wait_timeout(q, Duration::from_secs(5)) {
                    Ok((q, _)) => q,
                    Err(_) => return,
                };
            }
        };
        (next.job)(Instant::now() <= next.deadline);
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
#[allow(unsafe_code)]
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
        let verify = |pw: &str, stored| p.verify(Priority::Other, pw.into(), stored);
        assert_eq!(verify("correct horse", Some(h.clone())).await, Ok(true));
        assert_eq!(verify("wrong horse", Some(h)).await, Ok(false));
        assert_eq!(verify("anything", None).await, Ok(false));
    }

    /// Every worker of a new pool stays: four jobs that each wait for the other three finish
    /// only if all four threads are there. (Workers once counted the handles while they were
    /// still being made, and under load quit at once, leaving password checks waiting forever.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_worker_of_a_new_pool_stays() {
        for _ in 0..50 {
            let p = Passwords::new(4, Duration::from_secs(30));
            let all = Arc::new(std::sync::Barrier::new(4));
            let jobs = (0..4).map(|_| {
                let all = all.clone();
                p.run(Priority::Known, move || {
                    all.wait();
                })
            });
            let done = tokio::time::timeout(
                Duration::from_secs(60),
                futures_util::future::join_all(jobs),
            )
            .await
            .expect("a worker of the pool is missing: the jobs never all started");
            assert!(done.iter().all(Result::is_ok));
        }
    }

    /// Occupies the pool's one thread until the returned sender is used.
    async fn occupy(p: &Passwords) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (hold, held) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel();
        let pool = p.clone();
        let task = tokio::spawn(async move {
            let _ = pool
                .run(Priority::Other, move || {
                    let _ = started.send(());
                    let _ = held.recv();
                })
                .await;
        });
        running.await.unwrap();
        (hold, task)
    }

    #[tokio::test]
    async fn a_hash_not_started_in_time_answers_busy_without_running() {
        // The thread is taken by a patient caller; the late one waits 1 ms at most.
        let p = Passwords::new(1, Duration::from_secs(30));
        let (hold, first) = occupy(&p).await;
        let p = Passwords {
            wait: Duration::from_millis(1),
            ..p.clone()
        };
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = ran.clone();
        let pool = p.clone();
        let late = tokio::spawn(async move {
            pool.run(Priority::Other, move || {
                flag.store(true, std::sync::atomic::Ordering::SeqCst)
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(20)).await; // past its deadline
        hold.send(()).unwrap();
        first.await.unwrap();
        assert_eq!(late.await.unwrap(), Err(Busy));
        assert!(
            !ran.load(std::sync::atomic::Ordering::SeqCst),
            "a late hash costs nothing"
        );
    }

    #[tokio::test]
    async fn known_people_are_served_first() {
        let p = Passwords::new(1, Duration::from_secs(30));
        let (hold, first) = occupy(&p).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for (i, priority) in [Priority::Other, Priority::Other, Priority::Known]
            .into_iter()
            .enumerate()
        {
            let (pool, order) = (p.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                pool.run(priority, move || order.lock().unwrap().push(i))
                    .await
            }));
            tokio::task::yield_now().await;
            while p
                .shared
                .queues
                .lock()
                .unwrap()
                .by_priority
                .iter()
                .map(VecDeque::len)
                .sum::<usize>()
                <= i
            {
                tokio::task::yield_now().await;
            }
        }
        hold.send(()).unwrap();
        first.await.unwrap();
        for w in waiting {
            w.await.unwrap().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![2, 0, 1]);
    }

    #[test]
    fn policy() {
        assert!(check_policy("short").is_err());
        assert!(check_policy("long enough").is_ok());
    }
}
