//! Password verification off the async workers, one hash at a time per CPU.
//!
//! sha512-crypt and argon2id cost milliseconds of pure CPU. Running them on the reactor
//! threads would stall every other request; running more at once than there are cores
//! would only add queueing. A semaphore sized to the cores in front of the blocking pool
//! gives every core a hash to work on and nothing more.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::auth::password::{self, HashKind, Verification};

#[derive(Debug)]
pub struct HashPool {
    permits: Arc<Semaphore>,
}

/// A verification and, for a legacy hash that matched, its argon2id replacement.
#[derive(Debug)]
pub struct Checked {
    pub verification: Verification,
    pub rehash: Option<String>,
}

impl HashPool {
    /// `workers == 0` means one per available CPU.
    #[must_use]
    pub fn new(workers: usize) -> Self {
        let n = if workers == 0 {
            std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
        } else {
            workers
        };
        Self {
            permits: Arc::new(Semaphore::new(n)),
        }
    }

    /// Verifies `password` against `stored`; computes the argon2id rehash in the same job
    /// when asked and the stored hash is a legacy kind.
    pub async fn check(&self, stored: String, password: Vec<u8>, rehash_legacy: bool) -> Checked {
        let mismatch = Checked {
            verification: Verification::Mismatch,
            rehash: None,
        };
        // Salted SHA costs about a microsecond: handing it to another thread would cost
        // more than the hash, so it is checked right here (a rehash still goes to the pool).
        if password::is_cheap(&stored) {
            let verification = password::verify(&stored, &password);
            if !(rehash_legacy && verification.is_match()) {
                return Checked {
                    verification,
                    rehash: None,
                };
            }
        }
        let Ok(_permit) = self.permits.acquire().await else {
            return mismatch;
        };
        let job = tokio::task::spawn_blocking(move || {
            let verification = password::verify(&stored, &password);
            let rehash = match verification {
                Verification::Match { kind } if rehash_legacy && kind != HashKind::Argon2id => {
                    password::hash_password(&password).ok()
                }
                _ => None,
            };
            Checked {
                verification,
                rehash,
            }
        });
        match job.await {
            Ok(checked) => checked,
            Err(e) => {
                tracing::error!(error = %e, "password verification task failed");
                mismatch
            }
        }
    }
}
