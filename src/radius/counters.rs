//! Request counters, per client and global, read by `gatehousectl status`.

use std::sync::atomic::{AtomicU64, Ordering};

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
    drops: [AtomicU64; 9],
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
    }
}

const DROP_NAMES: [&str; 9] = [
    "malformed",
    "unexpected_code",
    "message_authenticator_missing",
    "message_authenticator_invalid",
    "bad_request_authenticator",
    "rate_limited",
    "overloaded",
    "duplicate_in_progress",
    "store_unavailable",
];

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl ClientCounters {
    pub fn dropped(&self, reason: DropReason) {
        bump(&self.drops[drop_index(reason)]);
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

impl CounterSnapshot {
    #[must_use]
    pub fn total_drops(&self) -> u64 {
        self.drops.values().sum()
    }
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
