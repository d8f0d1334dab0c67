//! Request counters, per client and global, read by `gatehousectl status`.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use serde::Serialize;

/// Why a packet was dropped without a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    Malformed,
    UnexpectedCode,
    MessageAuthenticatorMissing,
    MessageAuthenticatorInvalid,
    BadRequestAuthenticator,
    RateLimited,
    Overloaded,
    DuplicateInProgress,
    StoreUnavailable,
    /// Waited too long for a CPU thread: its NAS has retransmitted or given up.
    Stale,
    /// The reply would not fit in 4096 octets.
    ReplyTooLarge,
}

const DROP_KINDS: usize = 11;

impl DropReason {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        DROP_NAMES[drop_index(self)]
    }
}

#[derive(Debug, Default)]
pub struct ClientCounters {
    pub requests: AtomicU64,
    pub access_requests: AtomicU64,
    pub accepts: AtomicU64,
    pub rejects: AtomicU64,
    pub challenges: AtomicU64,
    pub accounting_requests: AtomicU64,
    pub accounting_responses: AtomicU64,
    pub status_server: AtomicU64,
    pub duplicates_answered: AtomicU64,
    drops: [AtomicU64; DROP_KINDS],
    /// When each kind of drop was last logged (microseconds since the epoch).
    logged: [AtomicI64; DROP_KINDS],
}

fn drop_index(r: DropReason) -> usize {
    match r {
        DropReason::Malformed => 0,
        DropReason::UnexpectedCode => 1,
        DropReason::MessageAuthenticatorMissing => 2,
        DropReason::MessageAuthenticatorInvalid => 3,
        DropReason::BadRequestAuthenticator => 4,
        DropReason::RateLimited => 5,
        DropReason::Overloaded => 6,
        DropReason::DuplicateInProgress => 7,
        DropReason::StoreUnavailable => 8,
        DropReason::Stale => 9,
        DropReason::ReplyTooLarge => 10,
    }
}

const DROP_NAMES: [&str; DROP_KINDS] = [
    "malformed",
    "unexpected_code",
    "message_authenticator_missing",
    "message_authenticator_invalid",
    "bad_request_authenticator",
    "rate_limited",
    "overloaded",
    "duplicate_in_progress",
    "store_unavailable",
    "stale",
    "reply_too_large",
];

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl ClientCounters {
    /// Counts a drop; returns how many of this kind there have been.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.drops[drop_index(reason)].fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Whether a drop of this kind may be logged now: at most once per `interval`.
    #[must_use]
    pub fn should_log(&self, reason: DropReason, now_micros: i64, interval: i64) -> bool {
        let last = &self.logged[drop_index(reason)];
        let seen = last.load(Ordering::Relaxed);
        (seen == 0 || now_micros.saturating_sub(seen) >= interval)
            && last
                .compare_exchange(seen, now_micros, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    #[must_use]
    pub fn snapshot(&self) -> CounterSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterSnapshot {
            requests: get(&self.requests),
            access_requests: get(&self.access_requests),
            accepts: get(&self.accepts),
            rejects: get(&self.rejects),
            challenges: get(&self.challenges),
            accounting_requests: get(&self.accounting_requests),
            accounting_responses: get(&self.accounting_responses),
            status_server: get(&self.status_server),
            duplicates_answered: get(&self.duplicates_answered),
            drops: DROP_NAMES
                .iter()
                .zip(&self.drops)
                .map(|(n, c)| ((*n).to_string(), get(c)))
                .filter(|(_, v)| *v > 0)
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, Default)]
pub struct CounterSnapshot {
    pub requests: u64,
    pub access_requests: u64,
    pub accepts: u64,
    pub rejects: u64,
    pub challenges: u64,
    pub accounting_requests: u64,
    pub accounting_responses: u64,
    pub status_server: u64,
    pub duplicates_answered: u64,
    pub drops: std::collections::BTreeMap<String, u64>,
}

/// Counters that belong to no client.
#[derive(Debug, Default)]
pub struct GlobalCounters {
    pub received: AtomicU64,
    pub unknown_client: AtomicU64,
    pub malformed: AtomicU64,
    pub overloaded: AtomicU64,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, Default)]
pub struct GlobalSnapshot {
    pub received: u64,
    pub unknown_client: u64,
    pub malformed: u64,
    pub overloaded: u64,
}

impl GlobalCounters {
    #[must_use]
    pub fn snapshot(&self) -> GlobalSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        GlobalSnapshot {
            received: get(&self.received),
            unknown_client: get(&self.unknown_client),
            malformed: get(&self.malformed),
            overloaded: get(&self.overloaded),
        }
    }
}
