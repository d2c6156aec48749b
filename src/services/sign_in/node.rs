//! What one node remembers about sign-ins, to spare the database and the hashing pool. The
//! database stays the truth; all of this may be forgotten at any time (a restart, a full map).
//!
//! - Pairs of (username, address) that signed in here lately: their next sign-ins are hashed
//!   first (`Priority::Known`).
//! - Counters known to be blocked, until when: an attempt on one is refused without a database
//!   write. A block only ever ends by time, so remembering it cannot refuse too much.
//! - A signal for attempts waiting their turn, raised whenever an attempt here settles.

use crate::services::passwords::Priority;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::sync::Mutex;
use tokio::sync::Notify;

const KNOWN_CAPACITY: usize = 100_000;
const BLOCKS_CAPACITY: usize = 100_000;

#[derive(Default)]
pub struct NodeMemory {
    known: Mutex<Known>,
    blocks: Mutex<HashMap<String, i64>>,
    pub settled: Notify,
}

/// A bounded set of keyed hashes of (username, address) keys; the oldest go first.
#[derive(Default)]
struct Known {
    hasher: RandomState,
    set: HashSet<u64>,
    order: VecDeque<u64>,
}

impl NodeMemory {
    pub fn priority(&self, pair_key: &str) -> Priority {
        match self.known.lock() {
            Ok(k) if k.set.contains(&k.hasher.hash_one(pair_key)) => Priority::Known,
            _ => Priority::Other,
        }
    }

    pub fn remember_success(&self, pair_key: &str) {
        let Ok(mut k) = self.known.lock() else { return };
        let h = k.hasher.hash_one(pair_key);
        if k.set.insert(h) {
            k.order.push_back(h);
            if k.order.len() > KNOWN_CAPACITY {
                if let Some(old) = k.order.pop_front() {
                    k.set.remove(&old);
                }
            }
        }
    }

    /// The latest time until which one of `keys` is known to be blocked, if after `now`.
    pub fn blocked_until(&self, keys: &[&str], now: i64) -> Option<i64> {
        let blocks = self.blocks.lock().ok()?;
        keys.iter()
            .filter_map(|k| blocks.get(*k).copied())
            .filter(|until| *until > now)
            .max()
    }

    pub fn remember_block(&self, key: &str, until: i64, now: i64) {
        if until <= now {
            return;
        }
        let Ok(mut blocks) = self.blocks.lock() else {
            return;
        };
        if blocks.len() >= BLOCKS_CAPACITY {
            blocks.retain(|_, u| *u > now);
            if blocks.len() >= BLOCKS_CAPACITY {
                blocks.clear();
            }
        }
        let entry = blocks.entry(key.to_string()).or_insert(until);
        *entry = (*entry).max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successes_make_a_pair_known() {
        let m = NodeMemory::default();
        assert_eq!(m.priority("u:a:alice"), Priority::Other);
        m.remember_success("u:a:alice");
        assert_eq!(m.priority("u:a:alice"), Priority::Known);
        assert_eq!(m.priority("u:b:alice"), Priority::Other);
    }

    #[test]
    fn blocks_are_remembered_until_they_end() {
        let m = NodeMemory::default();
        m.remember_block("a:1", 2_000, 1_000);
        m.remember_block("a:1", 1_500, 1_000); // never shortened
        assert_eq!(m.blocked_until(&["a:1", "u:1:x"], 1_000), Some(2_000));
        assert_eq!(m.blocked_until(&["u:1:x"], 1_000), None);
        assert_eq!(m.blocked_until(&["a:1"], 2_000), None, "over");
        m.remember_block("a:2", 900, 1_000);
        assert_eq!(
            m.blocked_until(&["a:2"], 800),
            None,
            "a past block is not kept"
        );
    }
}
