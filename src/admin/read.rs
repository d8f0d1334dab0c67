//! The read API handlers get: every list and lookup cut to the permit's scope, in the
//! query (see `store::scoped`), so that nothing outside the scope is read and a limit
//! counts only what the reader may see. Administrators and roles are cut to the reader's
//! place in the role hierarchy: their own and those below it.

use std::sync::Arc;

use super::authz::role::{self, RoleLookup as _};
use super::authz::{Actor, Permit, Rights, RoleMap};
use super::context::AdminContext;
use crate::audit::ChainedRecord;
use crate::audit::chain::ChainBreak;
use crate::model::ComputerScope;
use crate::model::role::SUPER_ADMINISTRATOR;
use crate::model::{AdminRecord, ClientRecord, IpNet, SiteRecord, UserRecord};
use crate::policy::assign::Subject;
use crate::policy::lockout::LockState;
use crate::policy::stored::{ComputerRecord, PolicyKind, Stored, StoredAssignment, StoredRule};
use crate::policy::{ComputerPolicy, UserPolicy};
use crate::radius::policies::{Policies, PolicyLoadError, Snapshot};
use crate::store::directory::{CertRecord, DirectoryRecord, SyncRunRecord};
use crate::store::scoped::{AuditFilter, AuditScope, ComputerFilter};
use crate::store::{Store, StoreError};

pub struct Reader<'a> {
    store: &'a Store,
    actor: &'a Actor,
    ctx: &'a AdminContext,
}

/// A client whose address overlaps a proposed one, named only when the reader may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    pub name: Option<String>,
    pub address: String,
    /// The proposed network lies strictly inside this client's.
    pub more_specific: bool,
}

impl<'a> Reader<'a> {
    pub(super) fn new(store: &'a Store, permit: &'a Permit, ctx: &'a AdminContext) -> Self {
        Self {
            store,
            actor: permit.actor(),
            ctx,
        }
    }

    fn rights(&self) -> &Rights {
        &self.actor.rights
    }

    // --- clients and sites ------------------------------------------------------------

    /// # Errors
    /// A store failure.
    pub fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        self.store.clients_in(&self.rights().computer_scope)
    }

    /// # Errors
    /// A store failure.
    pub fn client(&self, name: &str) -> Result<Option<ClientRecord>, StoreError> {
        Ok(self
            .store
            .client(name)?
            .filter(|c| self.rights().can_see_site(&c.site)))
    }

    /// Clients whose address overlaps `address` (other than `except`).
    #[must_use]
    pub fn overlapping(&self, address: &IpNet, except: Option<&str>) -> Vec<Overlap> {
        // The live client table: addresses and sites without opening any secret.
        let table = self.ctx.radius.clients();
        table
            .iter()
            .filter(|c| except.is_none_or(|e| !e.eq_ignore_ascii_case(&c.name)))
            .filter(|c| c.network.overlaps(address))
            .map(|c| Overlap {
                name: self.rights().can_see_site(&c.site).then(|| c.name.clone()),
                address: c.network.to_string(),
                more_specific: c.network.covers(address) && c.network != *address,
            })
            .collect()
    }

    /// # Errors
    /// A store failure.
    pub fn sites(&self) -> Result<Vec<SiteRecord>, StoreError> {
        self.store.sites_in(&self.rights().computer_scope)
    }

    /// # Errors
    /// A store failure.
    pub fn site(&self, name: &str) -> Result<Option<SiteRecord>, StoreError> {
        Ok(self
            .store
            .site(name)?
            .filter(|s| self.rights().can_see_site(&s.name)))
    }

    /// Whether `name` names a site at all (the appliance's own site always does): for
    /// validating arguments, whatever the scope.
    ///
    /// # Errors
    /// A store failure.
    pub fn site_exists(&self, name: &str) -> Result<bool, StoreError> {
        Ok(name.eq_ignore_ascii_case(&self.ctx.site) || self.ctx.site_record(name)?.is_some())
    }

    /// The appliance's own site, given to clients created without one.
    #[must_use]
    pub fn default_site(&self) -> &str {
        &self.ctx.site
    }

    // --- users ----------------------------------------------------------------------------

    /// One page of users in scope, and how many there are in all.
    ///
    /// # Errors
    /// A store failure.
    pub fn users(
        &self,
        domain: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<UserRecord>, u64), StoreError> {
        self.store
            .users_in(domain, &self.rights().user_scope, limit, offset)
    }

    /// # Errors
    /// A store failure.
    pub fn user(&self, domain: &str, name: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self
            .store
            .user(domain, name)?
            .filter(|u| self.rights().can_see_user(&u.domain, u.ou_path.as_deref())))
    }

    /// # Errors
    /// A store failure.
    pub fn pending(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.store.pending_in(&self.rights().user_scope)
    }

    /// # Errors
    /// A store failure.
    pub fn user_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.store.user_counts_in(&self.rights().user_scope)
    }

    // --- policies, rules and computers ----------------------------------------------------
    //
    // Policies are appliance-wide: whoever may read them reads them all. What they are
    // assigned to, and the rules and computers at sites, are cut to the scope.

    /// # Errors
    /// A store failure.
    pub fn user_policies(&self) -> Result<Vec<Stored<UserPolicy>>, StoreError> {
        self.store.user_policies()
    }

    /// # Errors
    /// A store failure.
    pub fn user_policy(&self, name: &str) -> Result<Option<Stored<UserPolicy>>, StoreError> {
        self.store.policy(PolicyKind::User, name)
    }

    /// # Errors
    /// A store failure.
    pub fn computer_policies(&self) -> Result<Vec<Stored<ComputerPolicy>>, StoreError> {
        self.store.computer_policies()
    }

    /// # Errors
    /// A store failure.
    pub fn computer_policy(
        &self,
        name: &str,
    ) -> Result<Option<Stored<ComputerPolicy>>, StoreError> {
        self.store.policy(PolicyKind::Computer, name)
    }

    /// User-policy assignments whose subject lies in the scope.
    ///
    /// # Errors
    /// A store failure.
    pub fn assignments(&self) -> Result<Vec<StoredAssignment>, StoreError> {
        let all = self.store.assignments()?;
        if self.rights().user_scope == crate::model::UserScope::Everything {
            return Ok(all);
        }
        let mut out = Vec::new();
        for a in all {
            let seen = match &a.subject {
                Subject::User { domain, name } => self.user(domain, name)?.is_some(),
                Subject::Group { domain, .. } | Subject::Domain { domain } => {
                    self.rights().can_see_user(domain, None)
                }
                Subject::Ou { domain, ou } => self.rights().can_see_user(domain, Some(ou)),
            };
            if seen {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Computer rules for sites in scope (and, for a reader who sees every site, the rules
    /// for every site).
    ///
    /// # Errors
    /// A store failure.
    pub fn computer_rules(&self) -> Result<Vec<StoredRule>, StoreError> {
        let everything = self.rights().computer_scope == ComputerScope::Everything;
        Ok(self
            .store
            .computer_rules()?
            .into_iter()
            .filter(|r| match &r.rule.site {
                Some(site) => self.rights().can_see_site(site),
                None => everything,
            })
            .collect())
    }

    /// Every rule in order, whatever the scope: a rule run applies the whole order (the
    /// first match wins), to the computers in scope only.
    ///
    /// # Errors
    /// A store failure.
    pub fn rule_order(&self) -> Result<Vec<StoredRule>, StoreError> {
        self.store.computer_rules()
    }

    /// One page of computers in scope, and how many there are in all.
    ///
    /// # Errors
    /// A store failure.
    pub fn computers(
        &self,
        filter: &ComputerFilter<'_>,
    ) -> Result<(Vec<ComputerRecord>, u64), StoreError> {
        self.store
            .computers_in(&self.rights().computer_scope, filter)
    }

    /// # Errors
    /// A store failure.
    pub fn computer(&self, id: &str) -> Result<Option<ComputerRecord>, StoreError> {
        Ok(self
            .store
            .computer_named(id)?
            .filter(|c| self.rights().can_see_site(&c.site)))
    }

    /// A user's lockout state.
    ///
    /// # Errors
    /// A store failure.
    pub fn lock_state(&self, user_id: i64) -> Result<LockState, StoreError> {
        self.store.lock_state(user_id)
    }

    /// The policies as the request path holds them, for `policy explain` (whose target
    /// was checked: the user and the client are in scope).
    ///
    /// # Errors
    /// The policies could not be read.
    pub fn policy_snapshot(&self) -> Result<Arc<Snapshot>, PolicyLoadError> {
        self.ctx.radius.policies().snapshot()
    }

    /// The request path's computers and lockouts, for looking up (never registering)
    /// the computer `policy explain` is asked about.
    #[must_use]
    pub fn policies(&self) -> &Policies {
        self.ctx.radius.policies()
    }

    // --- directories and certificates -----------------------------------------------------

    /// # Errors
    /// A store failure.
    pub fn directories(&self) -> Result<Vec<DirectoryRecord>, StoreError> {
        let names = self.store.directory_names_in(&self.rights().user_scope)?;
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            out.extend(self.store.directory(&n)?);
        }
        Ok(out)
    }

    /// # Errors
    /// A store failure.
    pub fn directory(&self, name: &str) -> Result<Option<DirectoryRecord>, StoreError> {
        Ok(self
            .store
            .directory(name)?
            .filter(|d| self.rights().can_see_user(&d.spec.name, None)))
    }

    /// Every directory, whatever the scope: for refusing a UPN suffix that another
    /// directory already claims.
    ///
    /// # Errors
    /// A store failure.
    pub fn all_directories(&self) -> Result<Vec<DirectoryRecord>, StoreError> {
        self.store.directories()
    }

    /// # Errors
    /// A store failure.
    pub fn domain_user_count(&self, domain: &str) -> Result<i64, StoreError> {
        self.store.domain_user_count(domain)
    }

    /// # Errors
    /// A store failure.
    pub fn sync_runs(&self, directory: &str, limit: u32) -> Result<Vec<SyncRunRecord>, StoreError> {
        self.store.sync_runs(directory, limit)
    }

    /// Trusted certificates are appliance-wide.
    ///
    /// # Errors
    /// A store failure.
    pub fn certs(&self) -> Result<Vec<CertRecord>, StoreError> {
        self.store.certs()
    }

    /// # Errors
    /// A store failure.
    pub fn cert(&self, name: &str) -> Result<Option<CertRecord>, StoreError> {
        self.store.cert(name)
    }

    // --- the audit log --------------------------------------------------------------------

    /// Records matching `filter`, cut to the scope unless the reader's rights are global.
    ///
    /// # Errors
    /// A store failure.
    pub fn audit(&self, filter: &AuditFilter) -> Result<Vec<ChainedRecord>, StoreError> {
        let rights = self.rights();
        let scope = (!rights.is_global()).then_some(AuditScope {
            admin_id: self.actor.admin_id,
            users: &rights.user_scope,
            sites: &rights.computer_scope,
        });
        self.store.audit_in(filter, scope)
    }

    /// # Errors
    /// `Ok(Err(break))` for a broken chain; `Err` for a store failure.
    pub fn verify_audit(&self) -> Result<Result<u64, ChainBreak>, StoreError> {
        self.store.verify_audit()
    }

    // --- roles and administrators ----------------------------------------------------------

    fn sees_role(&self, roles: &RoleMap, name: &str) -> bool {
        let mine = &self.rights().role;
        name.eq_ignore_ascii_case(mine) || role::manages(roles, mine, name)
    }

    /// Every role, for deciding and resolving rights (never shown as such).
    ///
    /// # Errors
    /// A store failure.
    pub fn role_map(&self) -> Result<Arc<RoleMap>, StoreError> {
        self.ctx.roles()
    }

    /// The reader's own role and those below it.
    ///
    /// # Errors
    /// A store failure.
    pub fn roles(&self) -> Result<Vec<crate::model::role::StoredRole>, StoreError> {
        let roles = self.ctx.roles()?;
        let mut out: Vec<_> = roles
            .values()
            .filter(|r| self.sees_role(&roles, &r.def.name))
            .cloned()
            .collect();
        out.sort_by(|a, b| a.def.name.cmp(&b.def.name));
        Ok(out)
    }

    /// A role the reader may see.
    ///
    /// # Errors
    /// A store failure.
    pub fn role(&self, name: &str) -> Result<Option<crate::model::role::StoredRole>, StoreError> {
        let roles = self.ctx.roles()?;
        Ok(roles
            .get(&name.to_lowercase())
            .filter(|r| self.sees_role(&roles, &r.def.name))
            .cloned())
    }

    /// Every administrator's name, seen or not: a new name must not look like any of them
    /// (a look-alike of an unseen Super Administrator would pass for it in the audit
    /// trail). Names only: nothing else about the unseen ones leaves here.
    ///
    /// # Errors
    /// A store failure.
    pub fn all_admin_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.store.admins()?.into_iter().map(|a| a.name).collect())
    }

    /// The live RADIUS clients (with their counters) at sites in scope.
    #[must_use]
    pub fn live_clients(&self) -> Vec<Arc<crate::radius::clients::Client>> {
        self.ctx
            .radius
            .clients()
            .iter()
            .filter(|c| self.rights().can_see_site(&c.site))
            .cloned()
            .collect()
    }

    /// What belongs to no site or user — the store's path and size, the global RADIUS
    /// counters — for readers whose scope is the whole appliance; `None` for the others.
    ///
    /// # Errors
    /// A store failure.
    pub fn appliance_wide(&self) -> Result<Option<serde_json::Value>, StoreError> {
        if !self.rights().is_global() {
            return Ok(None);
        }
        Ok(Some(serde_json::json!({
            "store_path": self.store.path().display().to_string(),
            "accounting_records": self.store.acct_event_count()?,
            "radius_global": self.ctx.radius.global_counters(),
            "duplicate_cache_entries": self.ctx.radius.duplicate_cache_entries(),
        })))
    }

    /// Administrators holding the reader's role or one below it (the reader included).
    ///
    /// # Errors
    /// A store failure.
    pub fn admins(&self) -> Result<Vec<AdminRecord>, StoreError> {
        let roles = self.ctx.roles()?;
        Ok(self
            .store
            .admins()?
            .into_iter()
            .filter(|a| {
                self.sees_role(&roles, &a.role) || a.name.eq_ignore_ascii_case(&self.actor.name)
            })
            .collect())
    }

    /// # Errors
    /// A store failure.
    pub fn admin(&self, name: &str) -> Result<Option<AdminRecord>, StoreError> {
        Ok(self
            .admins()?
            .into_iter()
            .find(|a| a.name.eq_ignore_ascii_case(name)))
    }

    /// Enabled Super Administrators, counted whatever the scope: `status` warns while
    /// fewer than two exist.
    ///
    /// # Errors
    /// A store failure.
    pub fn enabled_super_admins(&self) -> Result<usize, StoreError> {
        Ok(self
            .store
            .admins()?
            .iter()
            .filter(|a| a.enabled && a.role.eq_ignore_ascii_case(SUPER_ADMINISTRATOR))
            .count())
    }

    /// Whether a role exists, for resolving names (`role` lookups are cut to what the
    /// reader may see).
    ///
    /// # Errors
    /// A store failure.
    pub fn role_named(&self, name: &str) -> Result<Option<String>, StoreError> {
        let roles = self.ctx.roles()?;
        Ok(roles.role(&name.to_lowercase()).map(|d| d.name.clone()))
    }
}
