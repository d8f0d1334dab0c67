//! The request path's view of policies: the policy set (rebuilt when policies or sites
//! change), the computer table with bounded registration, lockout states, and hit
//! counters. Everything a request needs is in memory; what it learns (a new computer, a
//! computer seen again, a failure, a hit) goes back to the store in writes the request
//! path already makes, or in batches.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::policy::identity::Identity;
use crate::policy::lockout::LockState;
use crate::policy::rules::ComputerFacts;
use crate::policy::set::PolicySet;
use crate::policy::stored::Hits;
use crate::store::feed::{Follower, Table, Tables};
use crate::store::policy::{HitDelta, Sighting};
use crate::store::{Store, StoreError, WriteOp};
use crate::time::UnixTime;

/// A computer's last-seen time is written at most this often: purging works in days, and a
/// write per request would double a busy appliance's writes.
const LAST_SEEN_RESOLUTION: i64 = 15 * 60;

/// How computers are registered (config `[policy]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputerLimits {
    /// New computers stored per site at most; past it requests are decided under the
    /// policy the rules give, and nothing is stored.
    pub per_site: u32,
    /// New computers per second one RADIUS client may register (twice that in a burst).
    pub per_client_per_second: u32,
}

impl Default for ComputerLimits {
    fn default() -> Self {
        ComputerLimits {
            per_site: 100_000,
            per_client_per_second: 100,
        }
    }
}

/// How the request's computer was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComputerSource {
    /// The request named no computer at all.
    Unidentified,
    Known,
    /// First seen now, and stored.
    Registered,
    /// First seen now, but past the site's cap or the client's registration rate: decided
    /// under the rules' policy, not stored.
    NotStored,
}

impl ComputerSource {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ComputerSource::Unidentified => "unidentified",
            ComputerSource::Known => "known",
            ComputerSource::Registered => "registered",
            ComputerSource::NotStored => "not_stored",
        }
    }
}

/// The computer of one request and its policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputerChoice {
    pub source: ComputerSource,
    pub id: Option<i64>,
    pub policy_id: i64,
    /// The rule that chose the policy, for a computer registered now.
    pub rule_id: Option<i64>,
    /// What to write: a registration, or a last-seen time.
    pub write: Option<Sighting>,
}

#[derive(Debug, Clone)]
struct Entry {
    id: Option<i64>,
    policy_id: i64,
    last_seen_written: UnixTime,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: UnixTime,
}

#[derive(Debug, Default)]
struct Computers {
    /// The Computers generation the table was read at.
    loaded_at: Option<u64>,
    by_identity: HashMap<String, Entry, foldhash::fast::RandomState>,
    per_site: HashMap<String, u32>,
    buckets: HashMap<String, Bucket>,
}

/// Counters of one policy or rule.
#[derive(Debug, Default)]
pub struct Counter {
    hits: AtomicU64,
    would_deny: AtomicU64,
    last_hit: AtomicI64,
}

impl Counter {
    pub fn hit(&self, now: UnixTime, would_deny: bool) {
        self.hits.fetch_add(1, Ordering::Relaxed);
        if would_deny {
            self.would_deny.fetch_add(1, Ordering::Relaxed);
        }
        self.last_hit.fetch_max(now, Ordering::Relaxed);
    }

    fn take(&self) -> Option<Hits> {
        let hits = self.hits.swap(0, Ordering::Relaxed);
        let would_deny = self.would_deny.swap(0, Ordering::Relaxed);
        let last = self.last_hit.swap(0, Ordering::Relaxed);
        (hits > 0 || would_deny > 0).then_some(Hits {
            hits,
            would_deny,
            last_hit: (last > 0).then_some(last),
        })
    }
}

/// The counters, kept across rebuilds of the policy set.
#[derive(Debug, Default)]
struct Registry {
    user: HashMap<i64, Arc<Counter>>,
    computer: HashMap<i64, Arc<Counter>>,
    rules: HashMap<i64, Arc<Counter>>,
}

/// The policy set with its counters.
#[derive(Debug)]
pub struct Snapshot {
    pub set: PolicySet,
    user: HashMap<i64, Arc<Counter>>,
    computer: HashMap<i64, Arc<Counter>>,
    rules: HashMap<i64, Arc<Counter>>,
}

impl Snapshot {
    #[must_use]
    pub fn user_counter(&self, id: i64) -> Option<&Counter> {
        self.user.get(&id).map(Arc::as_ref)
    }

    #[must_use]
    pub fn computer_counter(&self, id: i64) -> Option<&Counter> {
        self.computer.get(&id).map(Arc::as_ref)
    }

    #[must_use]
    pub fn rule_counter(&self, id: i64) -> Option<&Counter> {
        self.rules.get(&id).map(Arc::as_ref)
    }
}

#[derive(Debug)]
pub struct Policies {
    store: Store,
    limits: Mutex<ComputerLimits>,
    snapshot: Follower<Snapshot>,
    registry: Mutex<Registry>,
    computers: Mutex<Computers>,
    /// Lockout states of every user that has one, and the Lockouts generation read.
    locks: Mutex<(Option<u64>, HashMap<i64, LockState>)>,
}

const POLICY_TABLES: &[Table] = &[Table::Policies, Table::Sites];

fn build(store: &Store, registry: &Mutex<Registry>) -> Result<Snapshot, PolicyLoadError> {
    let user = store.user_policies()?;
    let assignments = crate::store::policy::resolvable(&store.assignments()?);
    let computer = store.computer_policies()?;
    let rules: Vec<_> = store
        .computer_rules()?
        .into_iter()
        .map(|r| r.rule)
        .collect();
    let sites: Vec<(String, String)> = store
        .sites()?
        .into_iter()
        .map(|s| (s.name, s.timezone))
        .collect();
    let mut reg = registry.lock().map_err(|_| PolicyLoadError::Poisoned)?;
    let pick = |map: &mut HashMap<i64, Arc<Counter>>, ids: &mut dyn Iterator<Item = i64>| {
        ids.map(|id| (id, Arc::clone(map.entry(id).or_default())))
            .collect::<HashMap<_, _>>()
    };
    let user_counters = pick(&mut reg.user, &mut user.iter().map(|p| p.id));
    let computer_counters = pick(&mut reg.computer, &mut computer.iter().map(|p| p.id));
    let rule_counters = pick(&mut reg.rules, &mut rules.iter().map(|r| r.id));
    drop(reg);
    let set = PolicySet::new(user, assignments, computer, rules, &sites)?;
    Ok(Snapshot {
        set,
        user: user_counters,
        computer: computer_counters,
        rules: rule_counters,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyLoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Set(#[from] crate::policy::set::SetError),
    #[error("a counter lock was poisoned")]
    Poisoned,
}

impl Policies {
    #[must_use]
    pub fn new(store: Store, limits: ComputerLimits) -> Self {
        Policies {
            store,
            limits: Mutex::new(limits),
            snapshot: Follower::new(POLICY_TABLES),
            registry: Mutex::new(Registry::default()),
            computers: Mutex::new(Computers::default()),
            locks: Mutex::new((None, HashMap::new())),
        }
    }

    pub fn set_limits(&self, limits: ComputerLimits) {
        if let Ok(mut l) = self.limits.lock() {
            *l = limits;
        }
    }

    fn limits(&self) -> ComputerLimits {
        self.limits.lock().map_or_else(|p| *p.into_inner(), |l| *l)
    }

    /// The policy set as committed.
    ///
    /// # Errors
    /// The store could not be read, or lacks a default policy.
    pub fn snapshot(&self) -> Result<Arc<Snapshot>, PolicyLoadError> {
        self.snapshot
            .get(self.store.feed(), || build(&self.store, &self.registry))
    }

    /// Re-reads the computer table when an administrator changed it.
    fn fresh_computers(&self) -> Result<std::sync::MutexGuard<'_, Computers>, StoreError> {
        let generation = self
            .store
            .feed()
            .generation(Tables::of(&[Table::Computers]));
        let stale = self
            .computers
            .lock()
            .map_or(true, |c| c.loaded_at != Some(generation));
        if stale {
            // Read outside the lock: requests go on with the old table meanwhile.
            let rows = self.store.computers()?;
            let mut by_identity = HashMap::with_capacity_and_hasher(
                rows.len(),
                foldhash::fast::RandomState::default(),
            );
            let mut per_site: HashMap<String, u32> = HashMap::new();
            for r in rows {
                *per_site.entry(r.site.to_ascii_lowercase()).or_default() += 1;
                by_identity.insert(
                    r.identity,
                    Entry {
                        id: Some(r.id),
                        policy_id: r.policy_id,
                        last_seen_written: r.last_seen,
                    },
                );
            }
            if let Ok(mut c) = self.computers.lock() {
                c.by_identity = by_identity;
                c.per_site = per_site;
                c.loaded_at = Some(generation);
            }
        }
        self.computers
            .lock()
            .map_err(|_| StoreError::CommitFailed("computer table lock poisoned".into()))
    }

    /// The computer `identity` names, registered when new (within the limits).
    ///
    /// # Errors
    /// The computer table could not be read.
    #[allow(clippy::too_many_arguments)] // the facts of one request, named
    pub fn computer(
        &self,
        set: &PolicySet,
        identity: Option<&Identity>,
        site: &str,
        client: &str,
        address: Option<IpAddr>,
        now: UnixTime,
        register: bool,
    ) -> Result<ComputerChoice, StoreError> {
        let Some(identity) = identity else {
            let (policy_id, rule) = set.rule_for(ComputerFacts {
                site,
                identity: "",
                address,
                client,
            });
            return Ok(ComputerChoice {
                source: ComputerSource::Unidentified,
                id: None,
                policy_id,
                rule_id: rule.map(|r| r.id),
                write: None,
            });
        };
        let limits = self.limits();
        let mut table = self.fresh_computers()?;
        if let Some(entry) = table.by_identity.get_mut(&identity.text) {
            let write =
                (register && now - entry.last_seen_written >= LAST_SEEN_RESOLUTION).then(|| {
                    entry.last_seen_written = now;
                    sighting(identity, site, entry.policy_id, None, client, address, now)
                });
            return Ok(ComputerChoice {
                source: ComputerSource::Known,
                id: entry.id,
                policy_id: entry.policy_id,
                rule_id: None,
                write,
            });
        }
        let facts = ComputerFacts {
            site,
            identity: &identity.text,
            address: address.or_else(|| identity.address()),
            client,
        };
        let (policy_id, rule) = set.rule_for(facts);
        let rule_id = rule.map(|r| r.id);
        let site_key = site.to_ascii_lowercase();
        let room = table.per_site.get(&site_key).copied().unwrap_or(0) < limits.per_site;
        let admitted = register && room && take_token(&mut table.buckets, client, limits, now);
        if !admitted {
            return Ok(ComputerChoice {
                source: ComputerSource::NotStored,
                id: None,
                policy_id,
                rule_id,
                write: None,
            });
        }
        *table.per_site.entry(site_key).or_default() += 1;
        table.by_identity.insert(
            identity.text.clone(),
            Entry {
                id: None,
                policy_id,
                last_seen_written: now,
            },
        );
        Ok(ComputerChoice {
            source: ComputerSource::Registered,
            id: None,
            policy_id,
            rule_id,
            write: Some(sighting(
                identity, site, policy_id, rule_id, client, address, now,
            )),
        })
    }

    /// A user's lockout state.
    ///
    /// # Errors
    /// The lockout table could not be read.
    pub fn lock_state(&self, user_id: i64) -> Result<LockState, StoreError> {
        let generation = self.store.feed().generation(Tables::of(&[Table::Lockouts]));
        let fresh = self.locks.lock().is_ok_and(|l| l.0 == Some(generation));
        if !fresh {
            let all: HashMap<i64, LockState> = self.store.lock_states()?.into_iter().collect();
            if let Ok(mut l) = self.locks.lock() {
                *l = (Some(generation), all);
            }
        }
        Ok(self
            .locks
            .lock()
            .ok()
            .and_then(|l| l.1.get(&user_id).copied())
            .unwrap_or_default())
    }

    /// Records what the store decided for a user (after a failure or a cleared count).
    pub fn note_lock_state(&self, user_id: i64, state: LockState) {
        if let Ok(mut l) = self.locks.lock() {
            if state == LockState::default() {
                l.1.remove(&user_id);
            } else {
                l.1.insert(user_id, state);
            }
        }
    }

    /// The hits counted since the last call, to be written.
    #[must_use]
    pub fn take_hits(&self) -> HitDelta {
        let Ok(reg) = self.registry.lock() else {
            return HitDelta::default();
        };
        let take = |map: &HashMap<i64, Arc<Counter>>| -> Vec<(i64, Hits)> {
            map.iter()
                .filter_map(|(id, c)| c.take().map(|h| (*id, h)))
                .collect()
        };
        HitDelta {
            user_policies: take(&reg.user),
            computer_policies: take(&reg.computer),
            rules: take(&reg.rules),
        }
    }

    /// Writes the hits counted so far.
    pub async fn flush_hits(&self) {
        let delta = self.take_hits();
        if !delta.is_empty() {
            self.store
                .write_detached(vec![WriteOp::Policy(
                    crate::store::policy::PolicyOp::AddHits(delta),
                )])
                .await;
        }
    }
}

/// The computer step of an explanation or trace.
#[must_use]
pub fn computer_step(
    identity: Option<&Identity>,
    choice: &ComputerChoice,
    set: &PolicySet,
    registering: bool,
) -> crate::policy::explain::Step {
    use crate::policy::explain::Step;
    let Some(identity) = identity else {
        return Step::new("computer", "none named").with(
            "no Calling-Station-Id, NAS-Identifier or NAS-IP-Address: the rules decide for this request",
        );
    };
    let rule = choice
        .rule_id
        .and_then(|id| set.rules().iter().find(|r| r.id == id))
        .map_or_else(
            || "no rule matches: the default".to_string(),
            |r| format!("rule {}", r.name),
        );
    let what = format!(
        "{} ({}{})",
        identity.text,
        identity.kind.as_str(),
        if identity.randomized {
            ", randomized MAC"
        } else {
            ""
        }
    );
    match choice.source {
        ComputerSource::Known => Step::new("computer", what).with(format!(
            "known{}",
            choice.id.map_or_else(String::new, |id| format!(" as computer {id}"))
        )),
        ComputerSource::Registered => {
            Step::new("computer", what).with(format!("registered now; policy from {rule}"))
        }
        ComputerSource::NotStored if registering => Step::new("computer", what).with(format!(
            "new, not stored (the site's cap or the client's registration rate is reached); policy from {rule}"
        )),
        ComputerSource::NotStored | ComputerSource::Unidentified => Step::new("computer", what)
            .with(format!("not registered yet: its first request registers it; policy from {rule}")),
    }
}

fn sighting(
    identity: &Identity,
    site: &str,
    policy_id: i64,
    rule_id: Option<i64>,
    client: &str,
    address: Option<IpAddr>,
    at: UnixTime,
) -> Sighting {
    Sighting {
        identity: identity.text.clone(),
        kind: identity.kind,
        randomized: identity.randomized,
        site: site.to_string(),
        policy_id,
        rule_id,
        client: client.to_string(),
        address: address.map(|a| a.to_string()),
        at,
    }
}

/// One registration from `client` if its bucket has a token (refilled at the configured
/// rate, holding two seconds' worth).
fn take_token(
    buckets: &mut HashMap<String, Bucket>,
    client: &str,
    limits: ComputerLimits,
    now: UnixTime,
) -> bool {
    let rate = f64::from(limits.per_client_per_second);
    if rate <= 0.0 {
        return false;
    }
    let capacity = rate * 2.0;
    let bucket = buckets.entry(client.to_string()).or_insert(Bucket {
        tokens: capacity,
        at: now,
    });
    #[allow(clippy::cast_precision_loss)] // seconds between two requests
    let elapsed = (now - bucket.at).max(0) as f64;
    bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
    bucket.at = now;
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        true
    } else {
        false
    }
}
