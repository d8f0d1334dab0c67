//! Pass-through authentication: a user's password is checked by binding as the user's DN,
//! on a small pool of connections per directory that is never the sync account's.
//! A failed bind leaves an LDAP connection anonymous and usable, so connections are reused
//! across users; a broken one is dropped and replaced.

use std::sync::Mutex;

use ldap3::Ldap;
use tokio::sync::Semaphore;

use super::ldap::{Connector, LdapFailure};

pub struct BindPool {
    connector: Connector,
    idle: Mutex<Vec<Ldap>>,
    permits: Semaphore,
}

/// The outcome of a password check against the directory.
#[derive(Debug, PartialEq, Eq)]
pub enum BindOutcome {
    Valid,
    Invalid,
}

impl BindPool {
    #[must_use]
    pub fn new(connector: Connector, size: u32) -> Self {
        Self {
            connector,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(usize::try_from(size.max(1)).unwrap_or(1)),
        }
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

    /// Binds as `dn` with `password`.
    ///
    /// # Errors
    /// The directory could not be asked (down, timeout, TLS): the caller rejects and logs.
    pub async fn check(&self, dn: &str, password: &[u8]) -> Result<BindOutcome, LdapFailure> {
        if password.is_empty() {
            return Ok(BindOutcome::Invalid);
        }
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| LdapFailure::Timeout("bind pool closed".into()))?;
        // A pooled connection may have been closed by the server while idle: one retry on
        // a fresh connection tells "stale" from "down".
        for attempt in 0..2 {
            let mut ldap = match self.take_idle() {
                Some(l) if attempt == 0 => l,
                _ => self.connector.connect().await?.0,
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
                Err(e) if attempt == 1 => return Err(e),
                Err(e) => {
                    tracing::debug!(error = %e, "pooled LDAP connection failed; retrying on a new one")
                }
            }
        }
        Err(LdapFailure::Timeout("bind".into()))
    }
}
