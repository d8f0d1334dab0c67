//! Pass-through authentication: a user's password is checked by binding as the user's DN,
//! on a small pool of connections per directory that is never the sync account's.
//! A failed bind leaves an LDAP connection anonymous and usable, so connections are reused
//! across users; a broken one is dropped and replaced.
//!
//! A directory that hangs must never hold up anything else (a hung server once kept every
//! RADIUS request, local users included, waiting). So every step is bounded: a request
//! waits at most [`POOL_WAIT`] for a connection, a connect or bind at most
//! [`BIND_TIMEOUT`] (not the sync's search timeout), at most [`MAX_WAITERS`] per
//! connection queue up, and after [`TRIP_AFTER`] failures in a row the directory is
//! taken as down for [`COOL_DOWN`]: checks fail at once, until one probe succeeds.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ldap3::Ldap;
use tokio::sync::Semaphore;

use super::ldap::{Connector, LdapFailure};

/// Longest wait for a free connection.
pub const POOL_WAIT: Duration = Duration::from_secs(1);
/// Longest connect, and longest bind, of a pass-through check.
pub const BIND_TIMEOUT: Duration = Duration::from_secs(3);
/// Checks allowed to wait per pooled connection; more fail at once. Generous: a burst of
/// logins (64 at once against a pool of 8 in the benchmark) must queue, not be rejected —
/// a rejection costs the user a retry and the daemon a dummy argon2id verification. What
/// bounds a hung directory is [`POOL_WAIT`] and the breaker; this only bounds how many
/// requests one directory can park at once.
pub const MAX_WAITERS: u32 = 32;
/// Failures in a row that take the directory as down.
pub const TRIP_AFTER: u32 = 3;
/// How long a directory taken as down is not asked.
pub const COOL_DOWN: Duration = Duration::from_secs(30);

pub struct BindPool {
    connector: Connector,
    idle: Mutex<Vec<Ldap>>,
    permits: Semaphore,
    /// Checks in the pool, running or waiting.
    queued: AtomicU32,
    max_queued: u32,
    failures: AtomicU32,
    down_until: Mutex<Option<Instant>>,
    /// Smoothed time of an answered bind, in microseconds.
    bind_micros: AtomicU64,
}

/// The outcome of a password check against the directory.
#[derive(Debug, PartialEq, Eq)]
pub enum BindOutcome {
    Valid,
    Invalid,
}

/// Why a check could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    #[error("the directory is taken as down after repeated failures")]
    Down,
    #[error("no connection to the directory became free in time")]
    Busy,
    #[error(transparent)]
    Ldap(#[from] LdapFailure),
}

struct Queued<'a>(&'a AtomicU32);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl BindPool {
    /// A pool of `size` connections for `connector`, whose connect and operation timeouts
    /// are capped at [`BIND_TIMEOUT`] for pass-through checks.
    #[must_use]
    pub fn new(connector: Connector, size: u32) -> Self {
        Self::with_bind_timeout(connector, size, BIND_TIMEOUT)
    }

    fn with_bind_timeout(mut connector: Connector, size: u32, bind_timeout: Duration) -> Self {
        connector.connect_timeout = connector.connect_timeout.min(bind_timeout);
        connector.op_timeout = connector.op_timeout.min(bind_timeout);
        let size = size.max(1);
        Self {
            connector,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(usize::try_from(size).unwrap_or(1)),
            queued: AtomicU32::new(0),
            max_queued: size.saturating_mul(MAX_WAITERS + 1),
            failures: AtomicU32::new(0),
            down_until: Mutex::new(None),
            bind_micros: AtomicU64::new(0),
        }
    }

    /// The smoothed time an answered bind takes (zero before the first).
    #[must_use]
    pub fn bind_time(&self) -> Duration {
        Duration::from_micros(self.bind_micros.load(Ordering::Relaxed))
    }

    fn take_idle(&self) -> Option<Ldap> {
        self.idle.lock().ok().and_then(|mut v| v.pop())
    }

    fn put_back(&self, mut ldap: Ldap) {
        if ldap.is_closed() {
            return;
        }
        if let Ok(mut v) = self.idle.lock() {
            v.push(ldap);
        }
    }

    fn is_down(&self, now: Instant) -> bool {
        self.down_until
            .lock()
            .ok()
            .and_then(|d| *d)
            .is_some_and(|until| now < until)
    }

    fn record(&self, answered: bool, now: Instant, took: Duration) {
        if answered {
            self.failures.store(0, Ordering::SeqCst);
            if let Ok(mut d) = self.down_until.lock() {
                *d = None;
            }
            let sample = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
            let old = self.bind_micros.load(Ordering::Relaxed);
            let smoothed = if old == 0 {
                sample
            } else {
                (old.saturating_mul(7) + sample) / 8
            };
            self.bind_micros.store(smoothed, Ordering::Relaxed);
        } else if self.failures.fetch_add(1, Ordering::SeqCst) + 1 >= TRIP_AFTER
            && let Ok(mut d) = self.down_until.lock()
        {
            if d.is_none() {
                tracing::warn!(
                    urls = %self.connector.urls.join(", "),
                    cool_down_secs = COOL_DOWN.as_secs(),
                    "directory taken as down after repeated failures; its users are rejected until it answers again"
                );
            }
            *d = Some(now + COOL_DOWN);
        }
    }

    /// Binds as `dn` with `password`. `now` reads the clock (the breaker's cool-down).
    ///
    /// # Errors
    /// The directory could not be asked (down, busy, timeout, TLS): the caller rejects.
    pub async fn check(
        &self,
        dn: &str,
        password: &[u8],
        now: &(dyn Fn() -> Instant + Sync),
    ) -> Result<BindOutcome, Unavailable> {
        if password.is_empty() {
            return Ok(BindOutcome::Invalid);
        }
        let started = now();
        if self.is_down(started) {
            return Err(Unavailable::Down);
        }
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(Unavailable::Busy);
        }
        let _queued = Queued(&self.queued);
        let Ok(Ok(_permit)) = tokio::time::timeout(POOL_WAIT, self.permits.acquire()).await else {
            return Err(Unavailable::Busy);
        };
        let result = self.bind(dn, password).await;
        let answered = result.is_ok();
        self.record(answered, now(), now().saturating_duration_since(started));
        Ok(result?)
    }

    async fn bind(&self, dn: &str, password: &[u8]) -> Result<BindOutcome, LdapFailure> {
        // A pooled connection may have been closed by the server while idle: one retry on
        // a fresh connection tells "stale" from "down". Only then: a fresh connection
        // that failed, or a bind that timed out (the server is not answering, not gone),
        // would only wait another BIND_TIMEOUT for the same answer.
        for attempt in 0..2 {
            let pooled = if attempt == 0 { self.take_idle() } else { None };
            let reused = pooled.is_some();
            let mut ldap = match pooled {
                Some(l) => l,
                None => self.connector.connect().await?.0,
            };
            match self.connector.bind(&mut ldap, dn, password).await {
                Ok(()) => {
                    self.put_back(ldap);
                    return Ok(BindOutcome::Valid);
                }
                Err(LdapFailure::Refused { .. }) => {
                    self.put_back(ldap);
                    return Ok(BindOutcome::Invalid);
                }
                Err(e) if reused && !matches!(e, LdapFailure::Timeout(_)) => {
                    tracing::debug!(error = %e, "pooled LDAP connection failed; retrying on a new one");
                }
                Err(e) => return Err(e),
            }
        }
        Err(LdapFailure::Timeout("bind".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn hung_directory() -> (std::net::TcpListener, Connector) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("ldap://{}", l.local_addr().unwrap());
        let connector = Connector {
            urls: vec![url],
            starttls: false,
            tls: crate::tls::client::empty_config().unwrap(),
            connect_timeout: Duration::from_secs(60),
            op_timeout: Duration::from_secs(60),
        };
        (l, connector)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hung_directory_is_bounded_then_taken_as_down() {
        let (_listener, connector) = hung_directory();
        let timeout = Duration::from_millis(500);
        let pool = BindPool::with_bind_timeout(connector, 1, timeout);
        let now = Instant::now;
        for _ in 0..TRIP_AFTER {
            assert!(!pool.is_down(Instant::now()));
            let started = Instant::now();
            // Accepts TCP, never answers: the bind gives up after one bind timeout, not
            // the connector's 60 s, and is not tried again on another connection.
            let r = pool.check("uid=a,dc=x", b"pw", &now).await;
            assert!(
                matches!(r, Err(Unavailable::Ldap(LdapFailure::Timeout(_)))),
                "{r:?}"
            );
            assert!(started.elapsed() < timeout * 2, "{:?}", started.elapsed());
        }
        // Enough failures in a row: down, and checks fail at once.
        assert!(pool.is_down(Instant::now()));
        let t = Instant::now();
        assert!(matches!(
            pool.check("uid=a,dc=x", b"pw", &now).await,
            Err(Unavailable::Down)
        ));
        assert!(t.elapsed() < Duration::from_millis(50));
        // After the cool-down it is asked again.
        assert!(!pool.is_down(Instant::now() + COOL_DOWN));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiters_beyond_the_bound_fail_at_once() {
        let (_listener, connector) = hung_directory();
        let pool = Arc::new(BindPool::with_bind_timeout(
            connector,
            1,
            Duration::from_millis(500),
        ));
        let mut waiting = Vec::new();
        for _ in 0..=MAX_WAITERS {
            let p = Arc::clone(&pool);
            waiting.push(tokio::spawn(async move {
                p.check("uid=a,dc=x", b"pw", &Instant::now).await.is_err()
            }));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let t = Instant::now();
        assert!(matches!(
            pool.check("uid=a,dc=x", b"pw", &Instant::now).await,
            Err(Unavailable::Busy)
        ));
        assert!(t.elapsed() < Duration::from_millis(100));
        for w in waiting {
            assert!(w.await.unwrap());
        }
    }
}
