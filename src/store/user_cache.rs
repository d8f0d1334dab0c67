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
//!
//! Users named with their domain and users named by a bare name are cached in two
//! separate maps: no domain name, however odd, can reach the bare-name entries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use compact_str::CompactString;

use super::feed::{ChangeFeed, Table, Tables};
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
type Named = HashMap<CompactString, (u64, NamedUser), foldhash::fast::RandomState>;

/// The users a bare name (no domain) matches, across every domain.
#[derive(Debug, Clone)]
pub enum NamedUser {
    Nobody,
    One(Arc<UserRecord>),
    /// Users of several domains have this name.
    Several,
}

#[derive(Debug, Default)]
struct Maps {
    qualified: Entries,
    named: Named,
}

#[derive(Debug)]
pub(crate) struct UserCache {
    feed: Arc<ChangeFeed>,
    maps: Mutex<Maps>,
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
    pub(crate) fn new(feed: Arc<ChangeFeed>) -> Self {
        Self {
            feed,
            maps: Mutex::new(Maps::default()),
        }
    }

    /// The generation of user data (the writer bumps it after every commit that changed
    /// users).
    pub(crate) fn current(&self) -> u64 {
        self.feed.generation(Tables::of(&[Table::Users]))
    }

    pub(crate) fn get(&self, domain: &str, name: &str) -> Option<Option<Arc<UserRecord>>> {
        let now = self.current();
        let maps = self.maps.lock().ok()?;
        match maps.qualified.get(&key(domain, name)) {
            Some((generation, rec)) if *generation == now => Some(rec.clone()),
            _ => None,
        }
    }

    pub(crate) fn put(&self, domain: &str, name: &str, read_at: u64, rec: Option<Arc<UserRecord>>) {
        if let Ok(mut maps) = self.maps.lock() {
            if maps.qualified.len() >= MAX_ENTRIES {
                maps.qualified.clear();
            }
            maps.qualified.insert(key(domain, name), (read_at, rec));
        }
    }

    pub(crate) fn get_named(&self, name: &str) -> Option<NamedUser> {
        let now = self.current();
        let maps = self.maps.lock().ok()?;
        match maps.named.get(&lower(name)) {
            Some((generation, found)) if *generation == now => Some(found.clone()),
            _ => None,
        }
    }

    pub(crate) fn put_named(&self, name: &str, read_at: u64, found: NamedUser) {
        if let Ok(mut maps) = self.maps.lock() {
            if maps.named.len() >= MAX_ENTRIES {
                maps.named.clear();
            }
            maps.named.insert(lower(name), (read_at, found));
        }
    }

    /// Records a login time written without bumping the generation, wherever the record
    /// is cached.
    pub(crate) fn touch_login(&self, domain: &str, name: &str, at: i64) {
        if let Ok(mut maps) = self.maps.lock() {
            if let Some((_, Some(rec))) = maps.qualified.get_mut(&key(domain, name)) {
                Arc::make_mut(rec).last_login = Some(at);
            }
            if let Some((_, NamedUser::One(rec))) = maps.named.get_mut(&lower(name))
                && rec.domain.eq_ignore_ascii_case(domain)
            {
                Arc::make_mut(rec).last_login = Some(at);
            }
        }
    }
}
