//! Checks a credential, hiding from the access stage whether a password is checked
//! against a stored hash or by a directory bind, and giving every rejection the same cost
//! (the rules are in `auth::credential`): a failed check cheaper than argon2id also pays
//! the dummy argon2id verification, and a rejection is padded to the slowest configured
//! directory's bind time.
//!
//! A directory check that already took [`POOL_WAIT`] or longer (it waited out the pool or
//! a bind timeout) has cost far more than a dummy verification, and pays none: a hung
//! directory makes every one of its logins such a check at once, and their dummy
//! verifications, all due together, would queue ahead of local users' hashes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::directories::Directories;
use super::exec::Exec;
use crate::auth::credential::Check;
use crate::auth::decision::Verified;
use crate::auth::password::{self, HashKind, Verification};
use crate::directory::passthrough::{BindOutcome, POOL_WAIT};
use crate::time::Clock;

/// What a check found, and for a legacy hash that matched its argon2id replacement.
#[derive(Debug)]
pub struct Outcome {
    pub verified: Verified,
    pub rehash: Option<String>,
}

pub struct Verifier {
    exec: Arc<Exec>,
    directories: Arc<Directories>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifier")
    }
}

/// A hash check and, when asked for and the hash is a legacy kind that matched, the
/// argon2id rehash, in one piece of CPU work.
fn hash_work(stored: &str, password: &[u8], rehash_legacy: bool) -> (Verification, Option<String>) {
    let verification = password::verify(stored, password);
    let rehash = match verification {
        Verification::Match { kind } if rehash_legacy && kind != HashKind::Argon2id => {
            password::hash_password(password).ok()
        }
        _ => None,
    };
    (verification, rehash)
}

impl Verifier {
    #[must_use]
    pub fn new(exec: Arc<Exec>, directories: Arc<Directories>, clock: Arc<dyn Clock>) -> Self {
        Self {
            exec,
            directories,
            clock,
        }
    }

    /// A predicate for [`Exec::cpu`]: whether the request that arrived at `arrived` is
    /// still worth answering.
    fn fresh(&self, arrived: Instant, stale_after: Duration) -> impl Fn() -> bool + Send + 'static {
        let clock = Arc::clone(&self.clock);
        move || clock.instant().saturating_duration_since(arrived) <= stale_after
    }

    /// The outcome when it needs no waiting: a salted SHA (about a microsecond, less than
    /// queueing it would cost) that matched. Everything else goes through
    /// [`verify`](Self::verify).
    #[must_use]
    pub fn verify_now(
        &self,
        check: Check<'_>,
        password: &[u8],
        rehash_legacy: bool,
    ) -> Option<Outcome> {
        match check {
            // A rehash to argon2id is slow, so that still goes to a CPU thread.
            Check::Hash(stored) if password::is_cheap(stored) && !rehash_legacy => {
                let (v, _) = hash_work(stored, password, false);
                v.is_match().then_some(Outcome {
                    verified: Verified::Valid,
                    rehash: None,
                })
            }
            _ => None,
        }
    }

    /// Runs `check` for `password`. `None` means the request went stale before its hash
    /// could start and must be dropped unanswered.
    pub async fn verify(
        &self,
        check: Check<'_>,
        password: &[u8],
        rehash_legacy: bool,
        arrived: Instant,
        stale_after: Duration,
    ) -> Option<Outcome> {
        let mut bound_to_directory = Duration::ZERO;
        let outcome = match check {
            Check::Hash(stored) if password::is_cheap(stored) && !rehash_legacy => {
                let (v, _) = hash_work(stored, password, false);
                Outcome {
                    verified: verified(v),
                    rehash: None,
                }
            }
            Check::Hash(stored) => {
                let stored = stored.to_owned();
                let pw = password.to_vec();
                let (v, rehash) = self
                    .exec
                    .cpu(
                        move || hash_work(&stored, &pw, rehash_legacy),
                        self.fresh(arrived, stale_after),
                    )
                    .await?;
                Outcome {
                    verified: verified(v),
                    rehash,
                }
            }
            Check::Bind { domain, dn } => {
                let started = self.clock.instant();
                let result = self.directories.check_password(domain, dn, password).await;
                bound_to_directory = self.clock.instant().saturating_duration_since(started);
                let verified = match result {
                    Ok(BindOutcome::Valid) => Verified::Valid,
                    Ok(BindOutcome::Invalid) => Verified::Invalid,
                    Err(e) => {
                        tracing::warn!(%domain, error = %e, "pass-through authentication failed: directory unavailable");
                        Verified::Unavailable
                    }
                };
                Outcome {
                    verified,
                    rehash: None,
                }
            }
            Check::Dummy => {
                self.dummy_verify(password, arrived, stale_after).await?;
                Outcome {
                    verified: Verified::Invalid,
                    rehash: None,
                }
            }
        };
        if outcome.verified != Verified::Valid {
            self.equalise(check, password, bound_to_directory, arrived, stale_after)
                .await?;
        }
        Some(outcome)
    }

    /// What checking a real argon2id hash costs, spent on the dummy one.
    async fn dummy_verify(
        &self,
        password: &[u8],
        arrived: Instant,
        stale_after: Duration,
    ) -> Option<()> {
        let pw = password.to_vec();
        self.exec
            .cpu(
                move || password::verify(password::dummy_hash(), &pw),
                self.fresh(arrived, stale_after),
            )
            .await?;
        Some(())
    }

    /// Brings a rejection's cost up to the dearest path's: the dummy verification after a
    /// cheaper failed check (unless the directory already took longer than one), then a
    /// pause for the bind time it did not spend.
    async fn equalise(
        &self,
        check: Check<'_>,
        password: &[u8],
        bound_to_directory: Duration,
        arrived: Instant,
        stale_after: Duration,
    ) -> Option<()> {
        if check.pads_failure() && bound_to_directory < POOL_WAIT {
            self.dummy_verify(password, arrived, stale_after).await?;
        }
        let pad = self
            .directories
            .slowest_bind()
            .saturating_sub(bound_to_directory);
        if !pad.is_zero() {
            tokio::time::sleep(pad).await;
        }
        Some(())
    }
}

fn verified(v: Verification) -> Verified {
    if v.is_match() {
        Verified::Valid
    } else {
        Verified::Invalid
    }
}
