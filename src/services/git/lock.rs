//! One writer at a time per repository: pushes and merges take the repository's turn, so their
//! ref changes and the events that record them never interleave. Within a node a mutex per
//! repository; across PostgreSQL nodes the store's advisory lock as well.

use super::GitRepos;
use crate::store::{RepoWriteTurn, Store, StoreResult};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// The per-repository mutexes of this node; an entry lives while someone holds or waits for it.
#[derive(Debug, Default, Clone)]
pub(super) struct Turns(Arc<Mutex<HashMap<i64, Weak<tokio::sync::Mutex<()>>>>>);

/// A repository's write turn: held until dropped.
pub struct WriteTurn {
    _node: tokio::sync::OwnedMutexGuard<()>,
    _cluster: RepoWriteTurn,
}

impl Turns {
    fn mutex(&self, repo_id: i64) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = map.get(&repo_id).and_then(Weak::upgrade) {
            return m;
        }
        map.retain(|_, w| w.strong_count() > 0);
        let m = Arc::new(tokio::sync::Mutex::new(()));
        map.insert(repo_id, Arc::downgrade(&m));
        m
    }
}

impl GitRepos {
    /// Waits for repository `repo_id`'s write turn: first this node's, then the cluster's (so a
    /// node's own writers queue in memory and hold at most one database connection).
    pub async fn write_turn(&self, store: &Store, repo_id: i64) -> StoreResult<WriteTurn> {
        let node = self.turns.mutex(repo_id).lock_owned().await;
        let cluster = store.repository_write_turn(repo_id).await?;
        Ok(WriteTurn {
            _node: node,
            _cluster: cluster,
        })
    }
}
