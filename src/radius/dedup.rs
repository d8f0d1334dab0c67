//! RFC 5080 §2.2.2 duplicate detection.
//!
//! A request is identified by (source address and port, the service it reached,
//! Identifier, Request Authenticator).
//! While the first copy is being worked on, further copies are dropped; once it is
//! answered, copies within the window get the cached reply byte for byte — so a NAS
//! retransmission never evaluates a one-time password twice. The cache is bounded both
//! in time (the window) and in entries (oldest evicted first), so a flood cannot grow it.

use std::collections::hash_map::Entry as MapEntry;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::request::Service;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestKey {
    pub peer: SocketAddr,
    /// The same bytes sent to the auth and the accounting port are two requests.
    pub service: Service,
    pub identifier: u8,
    pub authenticator: [u8; 16],
}

#[derive(Debug)]
enum State {
    InProgress,
    Answered(Arc<[u8]>),
}

#[derive(Debug)]
struct Entry {
    state: State,
    generation: u64,
}

/// What to do with an arriving request.
#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// First sighting: evaluate it, then call [`DedupCache::complete`] or `abandon`.
    New,
    /// A copy of a request still being evaluated: drop it.
    InProgress,
    /// A copy of an answered request: send these bytes again.
    Replay(Arc<[u8]>),
}

/// SipHash costs more than the rest of a duplicate check. foldhash is several times
/// faster and is seeded per process at random, which keeps a client from steering entries
/// into one bucket.
type KeyHasher = foldhash::fast::RandomState;

#[derive(Debug)]
struct Inner {
    map: HashMap<RequestKey, Entry, KeyHasher>,
    order: VecDeque<(Instant, RequestKey, u64)>,
    next_generation: u64,
}

#[derive(Debug)]
pub struct DedupCache {
    inner: Mutex<Inner>,
    window: Duration,
    capacity: usize,
}

impl DedupCache {
    #[must_use]
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                // One over the bound: an entry is evicted just after the one that
                // overfills the cache is inserted, and neither may reallocate for it.
                map: HashMap::with_capacity_and_hasher(
                    capacity.min(65_536) + 1,
                    KeyHasher::default(),
                ),
                order: VecDeque::with_capacity(capacity.min(65_536) + 1),
                next_generation: 0,
            }),
            window,
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    pub fn begin(&self, key: RequestKey, now: Instant) -> Begin {
        let mut guard = self.lock();
        let inner = &mut *guard;
        self.expire(inner, now);
        // One lookup decides and inserts: at RADIUS rates the table is far bigger than the
        // CPU caches, so every lookup is a cache miss worth saving.
        let generation = inner.next_generation;
        match inner.map.entry(key) {
            MapEntry::Occupied(e) => {
                return match &e.get().state {
                    State::InProgress => Begin::InProgress,
                    State::Answered(bytes) => Begin::Replay(Arc::clone(bytes)),
                };
            }
            MapEntry::Vacant(v) => {
                v.insert(Entry {
                    state: State::InProgress,
                    generation,
                });
            }
        }
        inner.next_generation += 1;
        inner.order.push_back((now, key, generation));
        // Evicting after the lookup: a copy of the oldest request, arriving at capacity,
        // still finds its entry instead of being evaluated twice.
        while inner.map.len() > self.capacity {
            let Some((_, old, old_generation)) = inner.order.pop_front() else {
                break;
            };
            remove_if_generation(inner, old, old_generation);
        }
        Begin::New
    }

    /// Records the reply for later copies.
    pub fn complete(&self, key: &RequestKey, reply: Arc<[u8]>) {
        let mut inner = self.lock();
        if let Some(entry) = inner.map.get_mut(key) {
            entry.state = State::Answered(reply);
        }
    }

    /// Forgets a request that got no reply, so a retransmission is evaluated afresh.
    pub fn abandon(&self, key: &RequestKey) {
        let mut inner = self.lock();
        if matches!(
            inner.map.get(key),
            Some(Entry {
                state: State::InProgress,
                ..
            })
        ) {
            inner.map.remove(key);
        }
    }

    fn expire(&self, inner: &mut Inner, now: Instant) {
        while let Some((at, key, generation)) = inner.order.front().copied() {
            if now.saturating_duration_since(at) < self.window {
                break;
            }
            inner.order.pop_front();
            remove_if_generation(inner, key, generation);
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn remove_if_generation(inner: &mut Inner, key: RequestKey, generation: u64) {
    if let MapEntry::Occupied(e) = inner.map.entry(key)
        && e.get().generation == generation
    {
        e.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u8) -> RequestKey {
        RequestKey {
            peer: "127.0.0.1:5000".parse().unwrap(),
            service: Service::Auth,
            identifier: id,
            authenticator: [id; 16],
        }
    }

    #[test]
    fn replays_within_window_and_expires_after() {
        let c = DedupCache::new(Duration::from_secs(30), 100);
        let t0 = Instant::now();
        assert_eq!(c.begin(key(1), t0), Begin::New);
        assert_eq!(c.begin(key(1), t0), Begin::InProgress);
        c.complete(&key(1), Arc::from(&b"reply"[..]));
        assert_eq!(
            c.begin(key(1), t0 + Duration::from_secs(29)),
            Begin::Replay(Arc::from(&b"reply"[..]))
        );
        assert_eq!(c.begin(key(1), t0 + Duration::from_secs(31)), Begin::New);
    }

    #[test]
    fn the_same_bytes_on_the_other_port_are_another_request() {
        let c = DedupCache::new(Duration::from_secs(30), 100);
        let t0 = Instant::now();
        assert_eq!(c.begin(key(1), t0), Begin::New);
        c.complete(&key(1), Arc::from(&b"access-accept"[..]));
        let acct = RequestKey {
            service: Service::Acct,
            ..key(1)
        };
        assert_eq!(c.begin(acct, t0), Begin::New);
    }

    #[test]
    fn at_capacity_a_copy_of_the_oldest_request_still_finds_it() {
        let c = DedupCache::new(Duration::from_secs(30), 3);
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(c.begin(key(i), t0), Begin::New);
        }
        assert_eq!(c.begin(key(0), t0), Begin::InProgress);
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn bounded_and_abandon_forgets() {
        let c = DedupCache::new(Duration::from_secs(30), 10);
        let t0 = Instant::now();
        for i in 0..100 {
            assert_eq!(c.begin(key(i), t0), Begin::New);
        }
        assert_eq!(c.len(), 10);
        c.abandon(&key(99));
        assert_eq!(c.begin(key(99), t0), Begin::New);
    }

    proptest::proptest! {
        #[test]
        fn never_exceeds_capacity(ops in proptest::collection::vec((0u8..50, 0u8..3, 0u64..100), 0..500)) {
            let c = DedupCache::new(Duration::from_secs(5), 16);
            let t0 = Instant::now();
            for (id, op, t) in ops {
                let now = t0 + Duration::from_millis(t * 100);
                match op {
                    0 => { let _ = c.begin(key(id), now); }
                    1 => c.complete(&key(id), Arc::from(&[id][..])),
                    _ => c.abandon(&key(id)),
                }
                proptest::prop_assert!(c.len() <= 16);
            }
        }
    }
}
