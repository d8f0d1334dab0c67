//! A cache of user records for the RADIUS hot path.
//!
//! Every SQLite read starts a read transaction, which takes file locks under SQLite's
//! process-wide mutex and so contends with the writer; at tens of thousands of requests a
//! second that contention cost more than the rest of a login. Records are cached with the
//! generation of user data they were read at; the writer bumps the generation after every
//! commit that changed users, which makes every cached entry stale at once. The generation
//! is read before the query, so a write that commits meanwhile can only make an entry
//! stale, never wrong. Records are shared (`Arc`): a hit costs a reference count, not a
//! copy of every field.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use compact_str::CompactString;

use crate::model::UserRecord;

/// Entries kept before the cache starts over (a bound, not an eviction policy).
const MAX_ENTRIES: usize = 200_000;

/// Lower-cased domain and name, stored inline when short (as nearly all are): comparing
/// a key then touches no memory outside the table, where two heap strings cost two cache
/// misses per lookup on a table of many thousand users.
type Key = (CompactString, CompactString);

/// User names come from the network: the hash is seeded per process (foldhash), and much
/// cheaper than SipHash.
type Entries = HashMap<Key, (u64, Option<Arc<UserRecord>>), foldhash::fast::RandomState>;

#[derive(Debug, Default)]
pub(crate) struct UserCache {
    generation: Arc<AtomicU64>,
    entries: Mutex<Entries>,
}

fn key(domain: &str, name: &str) -> Key {
    // The columns compare with NOCASE, which folds ASCII only.
    (lower(domain), lower(name))
}

fn lower(s: &str) -> CompactString {
    let mut out = CompactString::from(s);
    out.make_ascii_lowercase();
    out
}

impl UserCache {
    /// The counter the writer bumps.
    pub(crate) fn generation(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.generation)
    }

    pub(crate) fn current(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn get(&self, domain: &str, name: &str) -> Option<Option<Arc<UserRecord>>> {
        let now = self.current();
        let entries = self.entries.lock().ok()?;
        match entries.get(&key(domain, name)) {
            Some((generation, rec)) if *generation == now => Some(rec.clone()),
            _ => None,
        }
    }

    pub(crate) fn put(&self, domain: &str, name: &str, read_at: u64, rec: Option<Arc<UserRecord>>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key(domain, name), (read_at, rec));
        }
    }

    /// Records a login time written without bumping the generation.
    pub(crate) fn touch_login(&self, domain: &str, name: &str, at: i64) {
        if let Ok(mut entries) = self.entries.lock()
            && let Some((_, Some(rec))) = entries.get_mut(&key(domain, name))
        {
            Arc::make_mut(rec).last_login = Some(at);
        }
    }
}
