//! What every RADIUS request shares: the client table, the duplicate cache, the store, the
//! credential verifier, the settings SIGHUP may change, the global counters and the
//! clock. Fields are private: the admin side and the service change what they may
//! through the methods here, never by reaching in.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::clients::{ClientTable, Clients};
use super::counters::{GlobalCounters, GlobalSnapshot};
use super::dedup::DedupCache;
use super::directories::Directories;
use super::exec::Exec;
use super::policies::{ComputerLimits, Policies};
use super::proto::Dictionary;
use super::trace::Tracer;
use super::verifier::Verifier;
use crate::store::Store;
use crate::store::feed::{Table, Tables};
use crate::time::Clock;

const CLIENT_TABLES: Tables = Tables::of(&[Table::Clients]);

/// Settings that SIGHUP may change while running.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub rehash_on_login: bool,
    pub default_client_rate_limit: u32,
    /// A request that waited longer than this for a CPU thread is dropped unanswered: its
    /// NAS has retransmitted or given up, and hashing it would only delay fresh ones.
    pub stale_after: Duration,
}

/// How the context is made (the service reads these from the configuration).
#[derive(Debug, Clone)]
pub struct Limits {
    pub duplicate_window: Duration,
    pub duplicate_entries: usize,
    /// CPU threads for password hashes; 0 = one per CPU.
    pub cpu_threads: usize,
    pub computers: ComputerLimits,
}

#[derive(Debug)]
pub struct RadiusContext {
    pub(super) clients: Clients,
    pub(super) dedup: DedupCache,
    pub(super) store: Store,
    pub(super) exec: Arc<Exec>,
    pub(super) verifier: Verifier,
    pub(super) directories: Arc<Directories>,
    pub(super) policies: Arc<Policies>,
    pub(super) tracer: Tracer,
    dictionary: Arc<Dictionary>,
    settings: RwLock<Arc<Settings>>,
    pub(super) global: GlobalCounters,
    pub(super) clock: Arc<dyn Clock>,
}

impl RadiusContext {
    /// A context on `store` with no clients yet. Made inside the runtime, so that the CPU
    /// threads can hand requests back to it.
    #[must_use]
    pub fn new(store: Store, settings: Settings, limits: &Limits, clock: Arc<dyn Clock>) -> Self {
        let exec = Arc::new(Exec::new(limits.cpu_threads));
        let directories = Arc::new(Directories::new(store.clone(), Arc::clone(&clock)));
        Self {
            clients: Clients::default(),
            dedup: DedupCache::new(limits.duplicate_window, limits.duplicate_entries),
            verifier: Verifier::new(
                Arc::clone(&exec),
                Arc::clone(&directories),
                Arc::clone(&clock),
            ),
            exec,
            directories,
            policies: Arc::new(Policies::new(store.clone(), limits.computers)),
            tracer: Tracer::default(),
            dictionary: Arc::new(Dictionary::new()),
            store,
            settings: RwLock::new(Arc::new(settings)),
            global: GlobalCounters::default(),
            clock,
        }
    }

    pub(super) fn settings(&self) -> Arc<Settings> {
        self.settings
            .read()
            .map_or_else(|p| Arc::clone(&p.into_inner()), |s| Arc::clone(&s))
    }

    /// Applies reloaded settings; the client table is rebuilt when its default rate
    /// changed.
    pub fn set_settings(&self, settings: Settings) {
        let rate_changed =
            self.settings().default_client_rate_limit != settings.default_client_rate_limit;
        match self.settings.write() {
            Ok(mut s) => *s = Arc::new(settings),
            Err(p) => *p.into_inner() = Arc::new(settings),
        }
        if rate_changed {
            self.clients.invalidate();
        }
    }

    /// The client table as committed: it follows the store's change feed, so a client an
    /// administrator was told is added is in it.
    #[must_use]
    pub fn clients(&self) -> Arc<ClientTable> {
        let generation = self.store.feed().generation(CLIENT_TABLES);
        let rate = self.settings().default_client_rate_limit;
        self.clients
            .at(
                generation,
                || self.store.clients(),
                rate,
                self.clock.instant(),
            )
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "client table not rebuilt; the previous one stays");
                self.clients.current()
            })
    }

    #[must_use]
    pub fn global_counters(&self) -> GlobalSnapshot {
        self.global.snapshot()
    }

    #[must_use]
    pub fn duplicate_cache_entries(&self) -> usize {
        self.dedup.len()
    }

    /// Policies, computers, lockouts and hit counters as the request path sees them.
    #[must_use]
    pub fn policies(&self) -> &Arc<Policies> {
        &self.policies
    }

    /// The context with `dictionary` (the built-in one and the configured files) for
    /// reply attributes given by name.
    #[must_use]
    pub fn with_dictionary(mut self, dictionary: Dictionary) -> Self {
        self.dictionary = Arc::new(dictionary);
        self
    }

    #[must_use]
    pub fn dictionary(&self) -> &Dictionary {
        &self.dictionary
    }

    /// Live decision traces.
    #[must_use]
    pub fn tracer(&self) -> &Tracer {
        &self.tracer
    }

    /// The executor requests run on (transports hand their requests to it).
    #[must_use]
    pub fn exec(&self) -> &Exec {
        &self.exec
    }
}
