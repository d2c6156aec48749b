//! A read cache for the per-request authentication path (token → owner, user → grants,
//! key/slug → repository), so an authenticated read does not cost three queries; for calls
//! through an application link (link, the user's remote token); and for pages of repository
//! lists, which also go stale whenever an event is written (every repository change writes one).
//!
//! Correctness over cleverness: every store write that could change an answer calls
//! `invalidate`, which bumps one generation number and so drops *every* entry. Writes that matter
//! here (grants, memberships, deactivation, token revocation, renames) are rare next to reads.
//! With several nodes on PostgreSQL, `invalidate` also sends `NOTIFY junction_cache`, and each
//! node's listener bumps its own generation; a short TTL is the safety net should a notification
//! be missed while the listener reconnects.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Entries older than this are refetched even without an invalidation.
pub const TTL_MS: i64 = 5_000;
/// A map that grows past this is emptied (a crude bound; entries are cheap to refetch).
const MAX_ENTRIES: usize = 50_000;
pub const CHANNEL: &str = "junction_cache";
/// Notification payload prefix for "drop the cached tokens of one OAuth grant".
pub const GRANT_PREFIX: &str = "grant:";

struct Entry<V> {
    generation: u64,
    at: i64,
    value: V,
}

pub struct Map<K, V> {
    inner: Mutex<HashMap<K, Entry<V>>>,
    /// Emptied when it grows past this.
    max_entries: usize,
}

impl<K: Eq + Hash, V: Clone> Map<K, V> {
    fn new() -> Self {
        Self::bounded(MAX_ENTRIES)
    }

    /// A map of large values, kept to fewer entries.
    fn bounded(max_entries: usize) -> Self {
        Self {
            inner: Mutex::new(HashMap::new()),
            max_entries,
        }
    }

    pub fn get<Q>(&self, key: &Q, generation: u64, now: i64) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .filter(|e| e.generation == generation && now - e.at < TTL_MS)
            .map(|e| e.value.clone())
    }

    /// Drops the entries whose value matches (targeted invalidation).
    pub fn remove_where(&self, mut matches: impl FnMut(&V) -> bool) {
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, e| !matches(&e.value));
    }

    /// Stores a value fetched while `generation` was current (read *before* the fetch, so a
    /// concurrent invalidation makes the entry stale at once).
    pub fn put(&self, key: K, value: V, generation: u64, now: i64) {
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.max_entries {
            map.clear();
        }
        map.insert(
            key,
            Entry {
                generation,
                at: now,
                value,
            },
        );
    }
}

pub struct Cache<T, G, R, C, O, A, L, K, P, I, S> {
    generation: AtomicU64,
    /// Bumped when repositories may have changed (events were written): list pages only.
    lists: AtomicU64,
    /// Counts targeted invalidations (`remove_where`); a fetch that overlapped one is not cached.
    targeted: AtomicU64,
    pub tokens: Map<String, T>,
    pub grants: Map<i64, G>,
    pub repos: Map<(String, String), R>,
    /// OAuth client by client_id (with its service account, if any).
    pub clients: Map<String, C>,
    /// The live client-credentials grant of (client, account, scope).
    pub service_grants: Map<(i64, i64, String), i64>,
    /// OAuth access tokens by hash (expiry is checked on every use).
    pub oauth_tokens: Map<String, O>,
    /// The service account of a client, by client row id.
    pub service_accounts: Map<i64, A>,
    /// Application links by public id, for calls through a link.
    pub links: Map<String, L>,
    /// A user's tokens at a link's remote, by (link row id, user id).
    pub link_tokens: Map<(i64, i64), K>,
    /// Pages of repository lists, by their statement and bound values.
    pub repo_pages: Map<(String, Vec<String>), P>,
    /// Connect app installations by clientKey, for JWT-signed calls.
    pub installations: Map<String, I>,
    /// The installation an app's exchanged access token acts as, with the token's expiry
    /// (checked on every use), by token hash.
    pub app_tokens: Map<String, (I, i64)>,
    /// The enabled installations a person is shown (their own and their teams'), by user id:
    /// every page that can show an app asks.
    pub seen_installations: Map<i64, S>,
}

impl<
        T: Clone,
        G: Clone,
        R: Clone,
        C: Clone,
        O: Clone,
        A: Clone,
        L: Clone,
        K: Clone,
        P: Clone,
        I: Clone,
        S: Clone,
    > Cache<T, G, R, C, O, A, L, K, P, I, S>
{
    pub fn new() -> Self {
        Self {
            generation: AtomicU64::new(0),
            lists: AtomicU64::new(0),
            targeted: AtomicU64::new(0),
            tokens: Map::new(),
            grants: Map::new(),
            repos: Map::new(),
            clients: Map::new(),
            service_grants: Map::new(),
            oauth_tokens: Map::new(),
            service_accounts: Map::new(),
            links: Map::new(),
            link_tokens: Map::new(),
            // A page holds up to a hundred repositories: a few megabytes at most.
            repo_pages: Map::bounded(2_000),
            installations: Map::new(),
            app_tokens: Map::new(),
            seen_installations: Map::new(),
        }
    }

    /// The generation list pages are cached under: any invalidation, or any written event
    /// (every repository change writes one), makes them stale.
    pub fn list_generation(&self) -> u64 {
        self.generation() + self.lists.load(Ordering::SeqCst)
    }

    /// Makes cached list pages stale.
    pub fn bump_lists(&self) {
        self.lists.fetch_add(1, Ordering::SeqCst);
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn targeted(&self) -> u64 {
        self.targeted.load(Ordering::SeqCst)
    }

    /// Drops one OAuth grant's cached tokens; fetches in flight will not be cached.
    pub fn drop_grant<F: FnMut(&O) -> bool>(&self, matches: F) {
        self.targeted.fetch_add(1, Ordering::SeqCst);
        self.oauth_tokens.remove_where(matches);
    }

    /// Makes every cached entry stale on this node.
    pub fn bump(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_by_generation_and_time() {
        let c: Cache<String, (), (), (), (), (), (), (), (), (), ()> = Cache::new();
        let g = c.generation();
        c.tokens.put("k".into(), "v".into(), g, 1000);
        assert_eq!(c.tokens.get("k", c.generation(), 1000), Some("v".into()));
        assert_eq!(c.tokens.get("k", c.generation(), 1000 + TTL_MS), None);
        c.bump();
        assert_eq!(c.tokens.get("k", c.generation(), 1000), None);
        // A value fetched before an invalidation is stale at once.
        c.tokens.put("k".into(), "old".into(), g, 1000);
        assert_eq!(c.tokens.get("k", c.generation(), 1000), None);
    }
}
