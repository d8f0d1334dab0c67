//! Password verification on dedicated threads, one per CPU.
//!
//! sha512-crypt and argon2id cost milliseconds of pure CPU. Running them on the reactor
//! threads would stall every other request. They run on long-lived hash threads fed by a
//! bounded queue: a thread that finishes a hash takes the next one at once, with no round
//! trip through the async side, so every core stays busy while requests wait. Cheap
//! salted-SHA checks skip the queue entirely.

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use crate::auth::password::{self, HashKind, Verification};

/// Requests waiting for a hash thread; senders wait (asynchronously) beyond it.
const QUEUE: usize = 4096;

struct Job {
    stored: String,
    password: Vec<u8>,
    rehash_legacy: bool,
    reply: oneshot::Sender<Checked>,
}

#[derive(Debug)]
pub struct HashPool {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job(<redacted>)")
    }
}

/// A verification and, for a legacy hash that matched, its argon2id replacement.
#[derive(Debug)]
pub struct Checked {
    pub verification: Verification,
    pub rehash: Option<String>,
}

fn work(stored: &str, password: &[u8], rehash_legacy: bool) -> Checked {
    let verification = password::verify(stored, password);
    let rehash = match verification {
        Verification::Match { kind } if rehash_legacy && kind != HashKind::Argon2id => {
            password::hash_password(password).ok()
        }
        _ => None,
    };
    Checked {
        verification,
        rehash,
    }
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
        let (tx, rx) = mpsc::channel::<Job>(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..n {
            let rx = Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name(format!("hash-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for a job, never while hashing.
                        let job = match rx.lock() {
                            Ok(mut r) => r.blocking_recv(),
                            Err(_) => None,
                        };
                        let Some(job) = job else { break };
                        let _ = job
                            .reply
                            .send(work(&job.stored, &job.password, job.rehash_legacy));
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Self { tx }
    }

    /// Verifies `password` against `stored`; computes the argon2id rehash in the same job
    /// when asked and the stored hash is a legacy kind.
    pub async fn check(&self, stored: String, password: Vec<u8>, rehash_legacy: bool) -> Checked {
        // Salted SHA costs about a microsecond: queueing it would cost more than the hash.
        // (A rehash to argon2id is slow, so it still goes to the threads.)
        if password::is_cheap(&stored) && !rehash_legacy {
            return work(&stored, &password, false);
        }
        let (reply, rx) = oneshot::channel();
        let job = Job {
            stored,
            password,
            rehash_legacy,
            reply,
        };
        if self.tx.send(job).await.is_err() {
            tracing::error!("password hashing threads are gone");
            return Checked {
                verification: Verification::Mismatch,
                rehash: None,
            };
        }
        rx.await.unwrap_or(Checked {
            verification: Verification::Mismatch,
            rehash: None,
        })
    }
}
