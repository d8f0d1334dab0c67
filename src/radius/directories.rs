//! What the RADIUS path needs of the configured directories: which domain a UPN suffix
//! names, and a pass-through bind pool per domain. Read from the store when first needed
//! after a change (directories or trusted certificates), pools made on a domain's first
//! login.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::directory::ldap::Connector;
use crate::directory::passthrough::{BindOutcome, BindPool, Unavailable};
use crate::directory::spec::DirectorySpec;
use crate::store::Store;
use crate::store::feed::{Follower, Table};
use crate::time::Clock;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("no directory for domain {0}")]
    Unknown(String),
    #[error("directory {domain}: {reason}")]
    Config { domain: String, reason: String },
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Directories as last read.
#[derive(Default)]
struct Snapshot {
    /// Lower-cased domain → its spec.
    specs: HashMap<String, DirectorySpec>,
    /// Lower-cased UPN suffix → domain name.
    suffixes: HashMap<String, String>,
    pools: Mutex<HashMap<String, Arc<BindPool>>>,
}

pub struct Directories {
    store: Store,
    clock: Arc<dyn Clock>,
    /// Read again after directories or trusted certificates change.
    snapshot: Follower<Snapshot>,
}

impl std::fmt::Debug for Directories {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Directories")
    }
}

impl Directories {
    #[must_use]
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            snapshot: Follower::new(&[Table::Directories, Table::Certs]),
        }
    }

    fn current(&self) -> Arc<Snapshot> {
        let built: Result<_, std::convert::Infallible> =
            self.snapshot.get(self.store.feed(), || Ok(self.read()));
        match built {
            Ok(s) => s,
        }
    }

    fn read(&self) -> Snapshot {
        let records = match self.store.directories() {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "directories could not be read");
                return Snapshot::default();
            }
        };
        let mut snapshot = Snapshot::default();
        for rec in records {
            for suffix in &rec.spec.upn_suffixes {
                snapshot
                    .suffixes
                    .insert(suffix.to_ascii_lowercase(), rec.spec.name.clone());
            }
            snapshot
                .specs
                .insert(rec.spec.name.to_ascii_lowercase(), rec.spec);
        }
        snapshot
    }

    /// The domain `suffix` (from `name@suffix`) names: a directory whose UPN suffix it is,
    /// or else the suffix itself taken as a domain name.
    #[must_use]
    pub fn domain_for_suffix(&self, suffix: &str) -> Option<String> {
        self.current()
            .suffixes
            .get(&suffix.to_ascii_lowercase())
            .cloned()
    }

    /// The longest time an answered bind currently takes in any directory: rejections are
    /// padded to it so that a directory user cannot be told from an unknown one.
    #[must_use]
    pub fn slowest_bind(&self) -> Duration {
        self.current()
            .pools
            .lock()
            .map(|p| p.values().map(|pool| pool.bind_time()).max())
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    fn pool(&self, domain: &str) -> Result<Arc<BindPool>, DirectoryError> {
        let snapshot = self.current();
        let key = domain.to_ascii_lowercase();
        let mut pools = snapshot
            .pools
            .lock()
            .map_err(|_| DirectoryError::Unknown(domain.into()))?;
        if let Some(p) = pools.get(&key) {
            return Ok(Arc::clone(p));
        }
        let spec = snapshot
            .specs
            .get(&key)
            .ok_or_else(|| DirectoryError::Unknown(domain.into()))?;
        let config = |reason: String| DirectoryError::Config {
            domain: spec.name.clone(),
            reason,
        };
        let mut roots = Vec::new();
        for name in &spec.ca_certs {
            let cert = self
                .store
                .cert(name)
                .map_err(|e| config(e.to_string()))?
                .ok_or_else(|| config(format!("trusted certificate {name} not found")))?;
            roots.push((cert.name, cert.info.der));
        }
        let connector = Connector::for_spec(spec, &roots).map_err(|e| config(e.to_string()))?;
        let pool = Arc::new(BindPool::new(connector, spec.bind_pool_size));
        pools.insert(key, Arc::clone(&pool));
        Ok(pool)
    }

    /// Checks a directory user's password by binding as their DN.
    ///
    /// # Errors
    /// The directory could not be asked; the caller rejects and logs the reason.
    pub async fn check_password(
        &self,
        domain: &str,
        dn: &str,
        password: &[u8],
    ) -> Result<BindOutcome, DirectoryError> {
        let pool = self.pool(domain)?;
        let clock = &self.clock;
        Ok(pool.check(dn, password, &|| clock.instant()).await?)
    }
}
