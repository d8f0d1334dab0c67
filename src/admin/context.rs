//! What admin requests share, and the one way a handler reaches it: a [`Call`], made by
//! the dispatcher for an authorized command. A call commits the command's writes
//! together with the request's audit record (one transaction: both or neither), and
//! reads through a reader cut to the permit's scope. Handlers never see the store.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use serde_json::Value;
use tokio::sync::Semaphore;

use super::authz::{Permit, RoleMap};
use super::handlers::Progress;
use super::read::Reader;
use crate::audit::AuditEvent;
use crate::model::SiteRecord;
use crate::radius::context::RadiusContext;
use crate::store::feed::{Follower, Table};
use crate::store::{Store, StoreError, WriteOp, WriteSummary};
use crate::sync::service::DirectoryService;
use crate::time::Clock;

/// The operating system's accounts (through NSS, so directory-backed Unix accounts work):
/// who a socket peer is, and which account an administrator is bound to. A seam, so that
/// tests can bind administrators to accounts the test machine does not have.
pub trait Accounts: Send + Sync + std::fmt::Debug {
    fn uid_of(&self, user: &str) -> Option<u32>;
    fn name_of(&self, uid: u32) -> Option<String>;
}

/// Identity settings that SIGHUP may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySettings {
    pub root_is_super_admin: bool,
}

/// What the service hands the admin side when it builds it.
pub struct AdminParts {
    pub store: Store,
    pub sync: Arc<DirectoryService>,
    pub radius: Arc<RadiusContext>,
    pub accounts: Arc<dyn Accounts>,
    pub clock: Arc<dyn Clock>,
    pub appliance: String,
    /// The appliance's own site: new clients default to it.
    pub site: String,
    pub listeners: Vec<(&'static str, SocketAddr)>,
    pub identity: IdentitySettings,
    /// The daemon's effective uid.
    pub daemon_uid: u32,
}

/// Commands that only read run on the blocking pool, at most this many at a time, so
/// that large reads neither stall the RADIUS runtime nor pile up.
const READERS: usize = 2;

pub struct AdminContext {
    store: Store,
    roles: Follower<RoleMap>,
    lockdown: Follower<bool>,
    pub(super) sync: Arc<DirectoryService>,
    pub(super) radius: Arc<RadiusContext>,
    pub(super) accounts: Arc<dyn Accounts>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) started: Instant,
    pub(super) appliance: String,
    pub(super) site: String,
    pub(super) listeners: Vec<(&'static str, SocketAddr)>,
    identity: RwLock<IdentitySettings>,
    pub(super) daemon_uid: u32,
    /// The daemon's own account name, looked up once (NSS may ask a directory).
    pub(super) daemon_account: String,
    pub(super) readers: Semaphore,
}

impl AdminContext {
    #[must_use]
    pub fn new(parts: AdminParts) -> Self {
        let AdminParts {
            store,
            sync,
            radius,
            accounts,
            clock,
            appliance,
            site,
            listeners,
            identity,
            daemon_uid,
        } = parts;
        let daemon_account = accounts
            .name_of(daemon_uid)
            .unwrap_or_else(|| format!("uid{daemon_uid}"));
        Self {
            store,
            roles: Follower::new(&[Table::Roles]),
            lockdown: Follower::new(&[Table::Settings]),
            sync,
            radius,
            accounts,
            clock,
            started: Instant::now(),
            appliance,
            site,
            listeners,
            identity: RwLock::new(identity),
            daemon_uid,
            daemon_account,
            readers: Semaphore::new(READERS),
        }
    }

    /// The roles as committed.
    ///
    /// # Errors
    /// A store failure.
    pub fn roles(&self) -> Result<Arc<RoleMap>, StoreError> {
        self.roles.get(self.store.feed(), || self.store.roles())
    }

    /// Whether the appliance is locked down; a store failure counts as locked (fail
    /// closed).
    #[must_use]
    pub fn locked_down(&self) -> bool {
        self.lockdown
            .get(self.store.feed(), || self.store.lockdown())
            .map_or(true, |on| *on)
    }

    #[must_use]
    pub fn identity(&self) -> IdentitySettings {
        self.identity
            .read()
            .map_or_else(|p| p.into_inner().clone(), |i| i.clone())
    }

    pub fn set_identity(&self, settings: IdentitySettings) {
        match self.identity.write() {
            Ok(mut i) => *i = settings,
            Err(p) => *p.into_inner() = settings,
        }
    }

    /// The directory sync runs (the scheduler shares them: one run per directory).
    #[must_use]
    pub fn sync_service(&self) -> Arc<DirectoryService> {
        Arc::clone(&self.sync)
    }

    /// The store, for the dispatcher's own reads (identity, facts, its audit records).
    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    /// Whether a site exists (the appliance's own site always does).
    ///
    /// # Errors
    /// A store failure.
    pub(super) fn site_record(&self, name: &str) -> Result<Option<SiteRecord>, StoreError> {
        self.store.site(name)
    }
}

/// The audit record of one admin request: written with the command's writes when the
/// handler commits, or by the dispatcher afterwards when the handler wrote nothing.
#[derive(Debug, Default)]
pub(super) struct AuditSlot(Mutex<Option<AuditEvent>>);

impl AuditSlot {
    pub(super) fn new(event: AuditEvent) -> Self {
        Self(Mutex::new(Some(event)))
    }

    pub(super) fn take(&self) -> Option<AuditEvent> {
        match self.0.lock() {
            Ok(mut g) => g.take(),
            Err(p) => p.into_inner().take(),
        }
    }

    fn put_back(&self, event: AuditEvent) {
        match self.0.lock() {
            Ok(mut g) => *g = Some(event),
            Err(p) => *p.into_inner() = Some(event),
        }
    }

    fn annotate(&self, key: &str, value: Value) {
        let mut guard = match self.0.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(event) = guard.as_mut() {
            let mut detail: Value =
                serde_json::from_str(&event.detail).unwrap_or_else(|_| serde_json::json!({}));
            if let Some(map) = detail.as_object_mut() {
                map.insert(key.to_string(), value);
            }
            event.detail = detail.to_string();
        }
    }
}

/// One authorized admin request, as its handler sees it.
/// The appliance as `status` shows it to any administrator.
#[derive(Debug)]
pub struct Appliance<'a> {
    pub name: &'a str,
    pub uptime: std::time::Duration,
    pub listeners: &'a [(&'static str, SocketAddr)],
    pub locked_down: bool,
    /// Whether any RADIUS client is configured at all (without it every request drops).
    pub has_clients: bool,
}

pub struct Call<'a> {
    pub(super) ctx: &'a AdminContext,
    pub(super) permit: Permit,
    pub(super) audit: &'a AuditSlot,
    pub(super) progress: &'a Progress,
    /// What was read about the target to decide (role changes worked out from the
    /// arguments among them).
    pub(super) facts: super::authz::TargetFacts,
}

impl Call<'_> {
    #[must_use]
    pub fn permit(&self) -> &Permit {
        &self.permit
    }

    /// Who is acting (for `created_by`).
    #[must_use]
    pub fn actor_name(&self) -> &str {
        &self.permit.actor().name
    }

    /// Reads, cut to the permit's scope.
    #[must_use]
    pub fn read(&self) -> Reader<'_> {
        Reader::new(&self.ctx.store, &self.permit, self.ctx)
    }

    /// Adds a fact learned while handling (how many users a deletion removed) to the
    /// request's audit record.
    pub fn annotate(&self, key: &str, value: Value) {
        self.audit.annotate(key, value);
    }

    pub fn progress(&self, update: Value) {
        self.progress.send(update);
    }

    /// Commits `ops` together with this request's audit record, durably.
    ///
    /// # Errors
    /// The store's error; the audit record then stays with the dispatcher, which records
    /// the failure.
    pub async fn commit(&self, mut ops: Vec<WriteOp>) -> Result<WriteSummary, StoreError> {
        let event = self.audit.take();
        if let Some(e) = &event {
            ops.push(WriteOp::Audit(e.clone()));
        }
        match self.ctx.store.write(ops).await {
            Ok(summary) => {
                if let Some(e) = &event {
                    e.log();
                }
                Ok(summary)
            }
            Err(err) => {
                if let Some(e) = event {
                    self.audit.put_back(e);
                }
                Err(err)
            }
        }
    }

    // What handlers may use of the daemon besides the scoped reader: never the store.

    /// Live decision traces.
    #[must_use]
    pub fn tracer(&self) -> &crate::radius::trace::Tracer {
        self.ctx.radius.tracer()
    }

    /// Whether a traced request lies in the caller's scope: its site, and the user it
    /// named when it named one.
    #[must_use]
    pub fn in_trace_scope(
        &self,
        site: &str,
        user: Option<&(String, String, Option<String>)>,
    ) -> bool {
        let rights = &self.permit.actor().rights;
        rights.can_see_site(site)
            && user.is_none_or(|(domain, _, ou)| {
                crate::model::scope::in_user_scope(&rights.user_scope, domain, ou.as_deref())
            })
    }

    /// The RADIUS dictionary (built in, and `[radius] dictionary_dir`), for reply
    /// attributes given by name.
    #[must_use]
    pub fn dictionary(&self) -> &crate::radius::proto::Dictionary {
        self.ctx.radius.dictionary()
    }

    #[must_use]
    pub fn clock(&self) -> &dyn Clock {
        &*self.ctx.clock
    }

    #[must_use]
    pub fn sync(&self) -> &DirectoryService {
        &self.ctx.sync
    }

    /// The system's accounts (NSS).
    #[must_use]
    pub fn accounts(&self) -> &dyn Accounts {
        &*self.ctx.accounts
    }

    /// The account the daemon runs as.
    #[must_use]
    pub fn daemon_account(&self) -> &str {
        &self.ctx.daemon_account
    }

    /// The appliance's name, how long the daemon has run, its listeners, and whether it
    /// is locked down: what `status` shows everyone.
    #[must_use]
    pub fn appliance(&self) -> Appliance<'_> {
        Appliance {
            name: &self.ctx.appliance,
            uptime: self.ctx.started.elapsed(),
            listeners: &self.ctx.listeners,
            locked_down: self.ctx.locked_down(),
            has_clients: self.ctx.radius.clients().iter().next().is_some(),
        }
    }

    #[must_use]
    pub fn facts(&self) -> &super::authz::TargetFacts {
        &self.facts
    }
}
