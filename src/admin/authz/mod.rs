//! The authorization choke point. [`decide`] is pure: given who asks, what the command
//! requires, the facts of its target (loaded read-only beforehand) and the gate (lockdown
//! and the role hierarchy), it returns an [`Authorized`] command holding a [`Permit`], or
//! a [`Denied`] that says what was missing. Everything that can refuse a command on who
//! asks is here — operations, scope, ownership, lockdown and anti-escalation — and only
//! `admin::dispatch` calls it. Only this module can make a permit.

pub mod escalation;
mod permit;
pub mod role;

use std::collections::{BTreeMap, HashMap};

pub use permit::{Authorized, Permit};

use super::command::{Command, Requirement, Target};
use crate::model::operation::{Family, Operation};
use crate::model::role::{RoleDef, StoredRole};
use crate::model::scope::{AccessLevel, ComputerScope, UserScope, in_site_scope, in_user_scope};
use crate::policy::assign::Subject;

/// Roles by lower-cased name, as stored.
pub type RoleMap = HashMap<String, StoredRole>;

/// An administrator's effective rights, already resolved through the role hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rights {
    pub role: String,
    pub ops: BTreeMap<Operation, AccessLevel>,
    pub user_scope: UserScope,
    pub computer_scope: ComputerScope,
}

impl Rights {
    /// The Super Administrator: every operation, everywhere.
    #[must_use]
    pub fn super_admin() -> Self {
        Self {
            role: crate::model::role::SUPER_ADMINISTRATOR.into(),
            ops: Operation::ALL
                .iter()
                .map(|o| (*o, AccessLevel::All))
                .collect(),
            user_scope: UserScope::Everything,
            computer_scope: ComputerScope::Everything,
        }
    }

    /// Whether these rights reach everything: no scope to cut anything to.
    #[must_use]
    pub fn is_global(&self) -> bool {
        self.user_scope == UserScope::Everything && self.computer_scope == ComputerScope::Everything
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Administrator name (what `created_by` records).
    pub name: String,
    /// The administrator's stable id; `None` for the break-glass accounts.
    pub admin_id: Option<i64>,
    /// How it reached us, for the audit trail: `root`, `root as alice`, `alice (uid 1000)`.
    pub via: String,
    pub rights: Rights,
}

/// What a role command changes, worked out from its arguments before deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    /// The role as it will be stored.
    pub proposed: RoleDef,
    /// The restrictions this command sets, and nothing else: what it grants.
    pub granted: RoleDef,
    /// The parent this command sets (always on create).
    pub new_parent: Option<String>,
    /// The version of the role the edit started from (`None` on create): the store
    /// refuses the edit if the role changed since.
    pub base_version: Option<i64>,
}

/// What authorization needs to know about an existing target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetFacts {
    pub exists: bool,
    pub created_by: Option<String>,
    pub domain: Option<String>,
    pub ou_path: Option<String>,
    pub site: Option<String>,
    /// For roles and administrators: whether the target lies strictly below the actor's
    /// role (nobody edits their own role, a peer's or a superior's).
    pub below_actor: bool,
    /// For `role create` and `role edit`.
    pub role_change: Option<RoleChange>,
    /// For `admin add` and `admin set-role`: the role to be assigned.
    pub assign: Option<String>,
    /// For imports that say where each user goes: every (domain, OU) they would create
    /// users in.
    pub placements: Vec<(String, Option<String>)>,
    /// For a client's new address or site: the site's subnets, when the address lies
    /// outside them.
    pub outside_subnets: Option<String>,
    /// For a client placed inside other clients' networks (`--allow-overlap`): their
    /// sites. Someone who cannot see one of them may not nest an address in it.
    pub nested_in_sites: Vec<String>,
    /// For a policy assignment to a user, and `policy explain`: whether the user exists
    /// (`domain` and `ou_path` then say where).
    pub user_found: bool,
    /// For `policy explain`: the client's site, when the client exists.
    pub client_site: Option<String>,
    /// For a computer rule edited to another site.
    pub new_site: Option<String>,
}

/// What holds for every command at the moment of deciding.
#[derive(Debug, Clone, Copy)]
pub struct Gate<'a> {
    pub lockdown: bool,
    pub roles: &'a RoleMap,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("permission denied: operation {missing} is required")]
    MissingOperation { missing: &'static str },
    #[error("permission denied: reading this needs an operation of its kind or report.view")]
    CannotRead,
    #[error("permission denied: {op} is granted only for objects you created")]
    NotOwner { op: &'static str },
    /// Out of scope is answered exactly like a missing object, so scope cannot be probed.
    #[error("{what} not found")]
    OutOfScope { what: String },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("permission denied: outside your scope ({why})")]
    CreateOutOfScope { why: String },
    #[error("permission denied: {what} is not below your role {role}")]
    NotBelow { what: String, role: String },
    #[error("permission denied: the appliance is locked down (system.lockdown is required)")]
    LockedDown,
    /// Granting or assigning more than the actor holds, or touching the Super
    /// Administrator role.
    #[error("permission denied: {0}")]
    Escalation(String),
}

impl Denied {
    /// Out-of-scope attempts are audited as such even though the caller sees "not found".
    #[must_use]
    pub fn audit_reason(&self) -> String {
        match self {
            Denied::OutOfScope { what } => format!("out of scope: {what}"),
            other => other.to_string(),
        }
    }
}

impl Rights {
    #[must_use]
    pub fn can_see_user(&self, domain: &str, ou_path: Option<&str>) -> bool {
        in_user_scope(&self.user_scope, domain, ou_path)
    }

    #[must_use]
    pub fn can_see_site(&self, site: &str) -> bool {
        in_site_scope(&self.computer_scope, site)
    }

    #[must_use]
    pub fn can_read(&self, family: Family) -> bool {
        self.ops.contains_key(&Operation::ReportView)
            || self.ops.keys().any(|o| family.contains(*o))
    }
}

/// The single decision function.
///
/// # Errors
/// [`Denied`], naming what was missing.
pub fn decide(
    actor: &Actor,
    command: Command,
    facts: &TargetFacts,
    gate: &Gate<'_>,
) -> Result<Authorized<Command>, Denied> {
    check(actor, &command.requirement(), facts, gate)?;
    Ok(Authorized::new(command, Permit::new(actor.clone())))
}

/// The same decision as [`decide`], without a permit: for `role explain`.
///
/// # Errors
/// The [`Denied`] that `decide` would return.
pub fn explain(
    actor: &Actor,
    req: &Requirement,
    facts: &TargetFacts,
    gate: &Gate<'_>,
) -> Result<(), Denied> {
    check(actor, req, facts, gate)
}

/// The lockdown rule: while the appliance is locked down only holders of
/// `system.lockdown` are heard at all (the dispatcher asks first, so that nothing about
/// the target is read for someone who will be refused).
///
/// # Errors
/// [`Denied::LockedDown`].
pub fn admits(actor: &Actor, gate: &Gate<'_>) -> Result<(), Denied> {
    if gate.lockdown && !actor.rights.ops.contains_key(&Operation::SystemLockdown) {
        return Err(Denied::LockedDown);
    }
    Ok(())
}

fn check(
    actor: &Actor,
    req: &Requirement,
    facts: &TargetFacts,
    gate: &Gate<'_>,
) -> Result<(), Denied> {
    let rights = &actor.rights;
    admits(actor, gate)?;
    if let Some(family) = req.read_family
        && !rights.can_read(family)
    {
        return Err(Denied::CannotRead);
    }
    let mut own_only = None;
    for op in req.all_of {
        match rights.ops.get(op) {
            None => return Err(Denied::MissingOperation { missing: op.id() }),
            Some(AccessLevel::Own) => own_only = Some(*op),
            Some(AccessLevel::All) => {}
        }
    }
    match &req.target {
        Target::Appliance | Target::Listing => Ok(()),
        Target::Client(name) | Target::ClientMove { name, .. } => {
            let what = format!("client {name}");
            if !facts.exists {
                return Err(Denied::NotFound { what });
            }
            if !rights.can_see_site(facts.site.as_deref().unwrap_or_default()) {
                return Err(Denied::OutOfScope { what });
            }
            if let Target::ClientMove { site, .. } = &req.target
                && !rights.can_see_site(site)
            {
                return Err(Denied::CreateOutOfScope {
                    why: format!("site {site}"),
                });
            }
            check_client_address(rights, facts)?;
            check_owner(actor, own_only, facts)
        }
        Target::User { domain, name } => {
            let what = format!("user {domain}\\{name}");
            if !facts.exists {
                return Err(Denied::NotFound { what });
            }
            if !rights.can_see_user(domain, facts.ou_path.as_deref()) {
                return Err(Denied::OutOfScope { what });
            }
            check_owner(actor, own_only, facts)
        }
        Target::NewClient { site } => match site {
            Some(site) if !rights.can_see_site(site) => Err(Denied::CreateOutOfScope {
                why: format!("site {site}"),
            }),
            None if rights.computer_scope != ComputerScope::Everything => {
                Err(Denied::CreateOutOfScope {
                    why: "name a --site within your scope".into(),
                })
            }
            _ => check_client_address(rights, facts),
        },
        Target::Role(name) | Target::Admin(name) => {
            let what = if matches!(req.target, Target::Role(_)) {
                format!("role {name}")
            } else {
                format!("administrator {name}")
            };
            if !facts.exists {
                return Err(Denied::NotFound { what });
            }
            // Reading is cut like the listings: what is not below looks missing. A change
            // is refused with the reason, since the caller named a role it can see above.
            if !facts.below_actor && req.read_family.is_some() {
                return Err(Denied::OutOfScope { what });
            }
            if !facts.below_actor {
                return Err(Denied::NotBelow {
                    what,
                    role: rights.role.clone(),
                });
            }
            check_owner(actor, own_only, facts)?;
            check_escalation(actor, facts, gate)
        }
        Target::NewRole(_) | Target::NewAdmin(_) => check_escalation(actor, facts, gate),
        Target::Site(name) | Target::SiteRename { name, .. } => {
            let what = format!("site {name}");
            if !facts.exists {
                return Err(Denied::NotFound { what });
            }
            if !rights.can_see_site(name) {
                return Err(Denied::OutOfScope { what });
            }
            if let Target::SiteRename { new_name, .. } = &req.target
                && !rights.can_see_site(new_name)
            {
                return Err(Denied::CreateOutOfScope {
                    why: format!("site {new_name}"),
                });
            }
            check_owner(actor, own_only, facts)
        }
        Target::NewSite(name) => {
            if rights.can_see_site(name) {
                Ok(())
            } else {
                Err(Denied::CreateOutOfScope {
                    why: format!("site {name}"),
                })
            }
        }
        Target::Directory(name) => {
            let what = format!("directory {name}");
            if !facts.exists {
                return Err(Denied::NotFound { what });
            }
            if !rights.can_see_user(name, None) {
                return Err(Denied::OutOfScope { what });
            }
            check_owner(actor, own_only, facts)
        }
        Target::NewDirectory(name) => {
            if rights.user_scope == UserScope::Everything || rights.can_see_user(name, None) {
                Ok(())
            } else {
                Err(Denied::CreateOutOfScope {
                    why: format!("domain {name}"),
                })
            }
        }
        Target::NewUsers { domain } => {
            if rights.can_see_user(domain, None) {
                Ok(())
            } else {
                Err(Denied::CreateOutOfScope {
                    why: format!("domain {domain}"),
                })
            }
        }
        Target::Policy { kind, name } => {
            if !facts.exists {
                return Err(Denied::NotFound {
                    what: format!("{} {name}", kind.noun()),
                });
            }
            check_owner(actor, own_only, facts)
        }
        Target::NewPolicy { .. } => Ok(()),
        Target::Assignment { policy, subject } => {
            if !facts.exists {
                return Err(Denied::NotFound {
                    what: format!("user policy {policy}"),
                });
            }
            check_subject(rights, subject, facts)?;
            check_owner(actor, own_only, facts)
        }
        Target::ComputerRule(name) => {
            let what = format!("computer rule {name}");
            if !facts.exists {
                return Err(Denied::NotFound { what });
            }
            if !sees_sites(rights, facts.site.as_deref()) {
                return Err(Denied::OutOfScope { what });
            }
            if let Some(site) = &facts.new_site
                && !rights.can_see_site(site)
            {
                return Err(Denied::CreateOutOfScope {
                    why: format!("site {site}"),
                });
            }
            check_owner(actor, own_only, facts)
        }
        Target::NewComputerRule { site } => {
            if sees_sites(rights, site.as_deref()) {
                Ok(())
            } else {
                Err(Denied::CreateOutOfScope {
                    why: site.as_ref().map_or_else(
                        || "a rule for every site; name a --site within your scope".into(),
                        |s| format!("site {s}"),
                    ),
                })
            }
        }
        Target::Computer(id) | Target::ComputerMove { id, .. } => {
            let what = format!("computer {id}");
            if !facts.exists {
                return Err(Denied::NotFound { what });
            }
            if !rights.can_see_site(facts.site.as_deref().unwrap_or_default()) {
                return Err(Denied::OutOfScope { what });
            }
            if let Target::ComputerMove { site, .. } = &req.target
                && !rights.can_see_site(site)
            {
                return Err(Denied::CreateOutOfScope {
                    why: format!("site {site}"),
                });
            }
            check_owner(actor, own_only, facts)
        }
        Target::Explanation {
            domain,
            name,
            client,
        } => {
            let user = format!("user {domain}\\{name}");
            if !facts.user_found {
                return Err(Denied::NotFound { what: user });
            }
            if !rights.can_see_user(domain, facts.ou_path.as_deref()) {
                return Err(Denied::OutOfScope { what: user });
            }
            let what = format!("client {client}");
            match &facts.client_site {
                None => Err(Denied::NotFound { what }),
                Some(site) if !rights.can_see_site(site) => Err(Denied::OutOfScope { what }),
                Some(_) => Ok(()),
            }
        }
        Target::PlacedUsers => match facts
            .placements
            .iter()
            .find(|(domain, ou)| !rights.can_see_user(domain, ou.as_deref()))
        {
            Some((domain, Some(ou))) => Err(Denied::CreateOutOfScope {
                why: format!("users in {domain} at {ou}"),
            }),
            Some((domain, None)) => Err(Denied::CreateOutOfScope {
                why: format!("users in domain {domain}"),
            }),
            None => Ok(()),
        },
    }
}

/// Whether the caller sees `site`, or — for what applies to every site (`None`) — all
/// of them.
fn sees_sites(rights: &Rights, site: Option<&str>) -> bool {
    match site {
        Some(s) => rights.can_see_site(s),
        None => rights.computer_scope == ComputerScope::Everything,
    }
}

/// What a user-policy assignment names lies in the caller's user scope: a user that
/// exists there, a group or domain the caller sees whole, an OU inside the scope.
/// Anything else is answered as not found.
fn check_subject(rights: &Rights, subject: &Subject, facts: &TargetFacts) -> Result<(), Denied> {
    let (seen, what) = match subject {
        Subject::User { domain, name } => (
            facts.user_found && rights.can_see_user(domain, facts.ou_path.as_deref()),
            format!("user {domain}\\{name}"),
        ),
        Subject::Group { domain, group } => (
            rights.can_see_user(domain, None),
            format!("group {domain}\\{group}"),
        ),
        Subject::Ou { domain, ou } => (
            rights.can_see_user(domain, Some(ou)),
            format!("OU {ou} of {domain}"),
        ),
        Subject::Domain { domain } => (
            rights.can_see_user(domain, None),
            format!("domain {domain}"),
        ),
    };
    if seen {
        Ok(())
    } else if matches!(subject, Subject::User { .. }) && !facts.user_found {
        Err(Denied::NotFound { what })
    } else {
        Err(Denied::OutOfScope { what })
    }
}

/// Where a client's address may be: inside its site's subnets for anyone whose computer
/// scope is not everything, and nested in another client's network only by someone who
/// sees that client's site (otherwise one site could take over another's NAS traffic).
fn check_client_address(rights: &Rights, facts: &TargetFacts) -> Result<(), Denied> {
    if let Some(subnets) = &facts.outside_subnets
        && rights.computer_scope != ComputerScope::Everything
    {
        return Err(Denied::CreateOutOfScope {
            why: format!("addresses outside the site's subnets {subnets}"),
        });
    }
    if facts
        .nested_in_sites
        .iter()
        .any(|s| !rights.can_see_site(s))
    {
        return Err(Denied::CreateOutOfScope {
            why: "an address inside a client at a site outside your scope".into(),
        });
    }
    Ok(())
}

fn check_owner(
    actor: &Actor,
    own_only: Option<Operation>,
    facts: &TargetFacts,
) -> Result<(), Denied> {
    match own_only {
        Some(op) if facts.created_by.as_deref() != Some(actor.name.as_str()) => {
            Err(Denied::NotOwner { op: op.id() })
        }
        _ => Ok(()),
    }
}

/// Anti-escalation for role and administrator commands (see [`escalation`]).
fn check_escalation(actor: &Actor, facts: &TargetFacts, gate: &Gate<'_>) -> Result<(), Denied> {
    let mine = &actor.rights;
    if let Some(change) = &facts.role_change {
        escalation::check_not_super(&change.proposed.name)?;
        if let Some(parent) = &change.new_parent {
            escalation::check_parent(&mine.role, parent, gate.roles)?;
        }
        escalation::check_grants(mine, &change.granted)?;
    }
    if let Some(role) = &facts.assign {
        escalation::check_assign(&mine.role, role, gate.roles)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn actor(rights: Rights) -> Actor {
        Actor {
            name: "alice".into(),
            admin_id: Some(1),
            via: "test".into(),
            rights,
        }
    }

    fn gate() -> Gate<'static> {
        static NO_ROLES: std::sync::LazyLock<RoleMap> = std::sync::LazyLock::new(RoleMap::new);
        Gate {
            lockdown: false,
            roles: &NO_ROLES,
        }
    }

    #[test]
    fn lockdown_is_decided_here() {
        let mut r = Rights::super_admin();
        let show = Command::parse("client.list", json!({})).unwrap();
        let locked = Gate {
            lockdown: true,
            ..gate()
        };
        assert!(
            decide(
                &actor(r.clone()),
                show.clone(),
                &TargetFacts::default(),
                &locked
            )
            .is_ok()
        );
        r.ops.remove(&Operation::SystemLockdown);
        assert_eq!(
            decide(&actor(r), show, &TargetFacts::default(), &locked).unwrap_err(),
            Denied::LockedDown
        );
    }

    fn facts(site: &str, created_by: &str) -> TargetFacts {
        TargetFacts {
            exists: true,
            created_by: Some(created_by.into()),
            site: Some(site.into()),
            ..TargetFacts::default()
        }
    }

    #[test]
    fn super_admin_may_do_anything_that_exists() {
        let a = actor(Rights::super_admin());
        let cmd = Command::parse("client.delete", json!({"name":"x"})).unwrap();
        assert!(decide(&a, cmd.clone(), &facts("HQ", "bob"), &gate()).is_ok());
        let err = decide(&a, cmd, &TargetFacts::default(), &gate()).unwrap_err();
        assert_eq!(err.to_string(), "client x not found");
    }

    #[test]
    fn missing_operation_scope_and_ownership_are_enforced() {
        let mut r = Rights {
            role: "HQ".into(),
            ops: BTreeMap::from([(Operation::RadiusClientUpdate, AccessLevel::Own)]),
            user_scope: UserScope::Everything,
            computer_scope: ComputerScope::Sites(vec!["HQ".into()]),
        };
        let a = actor(r.clone());
        let del = Command::parse("client.delete", json!({"name":"x"})).unwrap();
        assert_eq!(
            decide(&a, del, &facts("HQ", "alice"), &gate()).unwrap_err(),
            Denied::MissingOperation {
                missing: "radius.client.delete"
            }
        );
        let edit = Command::parse("client.edit", json!({"name":"x"})).unwrap();
        assert!(decide(&a, edit.clone(), &facts("HQ", "alice"), &gate()).is_ok());
        assert!(matches!(
            decide(&a, edit.clone(), &facts("HQ", "bob"), &gate()).unwrap_err(),
            Denied::NotOwner { .. }
        ));
        assert!(matches!(
            decide(&a, edit, &facts("Branch", "alice"), &gate()).unwrap_err(),
            Denied::OutOfScope { .. }
        ));
        r.ops.clear();
        let show = Command::parse("client.show", json!({"name":"x"})).unwrap();
        assert_eq!(
            decide(&actor(r), show, &facts("HQ", "alice"), &gate()).unwrap_err(),
            Denied::CannotRead
        );
    }

    fn arb_rights() -> impl proptest::strategy::Strategy<Value = Rights> {
        use proptest::prelude::*;
        (
            proptest::collection::btree_map(0usize..Operation::ALL.len(), any::<bool>(), 0..40),
            proptest::option::of(proptest::collection::vec(
                prop_oneof![Just("HQ"), Just("Branch"), Just("Lab")],
                0..3,
            )),
            proptest::option::of(proptest::collection::vec(
                (
                    prop_oneof![Just("CORP"), Just("local")],
                    proptest::option::of(Just("ou=Sales,dc=corp")),
                ),
                0..3,
            )),
        )
            .prop_map(|(ops, sites, domains)| Rights {
                role: "R".into(),
                ops: ops
                    .into_iter()
                    .map(|(i, own)| {
                        (
                            Operation::ALL[i],
                            if own {
                                AccessLevel::Own
                            } else {
                                AccessLevel::All
                            },
                        )
                    })
                    .collect(),
                computer_scope: sites.map_or(ComputerScope::Everything, |s| {
                    ComputerScope::Sites(s.into_iter().map(String::from).collect())
                }),
                user_scope: domains.map_or(UserScope::Everything, |d| {
                    UserScope::Domains(
                        d.into_iter()
                            .map(|(a, b)| (a.to_string(), b.map(String::from)))
                            .collect(),
                    )
                }),
            })
    }

    proptest::proptest! {
        #[test]
        fn no_decision_allows_an_out_of_scope_target(
            rights in arb_rights(),
            site in proptest::prop_oneof![proptest::strategy::Just("HQ"), proptest::strategy::Just("Branch"), proptest::strategy::Just("Lab")],
            domain in proptest::prop_oneof![proptest::strategy::Just("CORP"), proptest::strategy::Just("local")],
            ou in proptest::option::of(proptest::prop_oneof![proptest::strategy::Just("ou=East,ou=Sales,dc=corp"), proptest::strategy::Just("ou=Ops,dc=corp")]),
            mine in proptest::bool::ANY,
        ) {
            let a = Actor { name: "alice".into(), admin_id: Some(1), via: "t".into(), rights: rights.clone() };
            let creator = if mine { "alice" } else { "bob" };
            let client_facts = TargetFacts { exists: true, created_by: Some(creator.into()), site: Some(site.into()), ..TargetFacts::default() };
            let user_facts = TargetFacts { exists: true, created_by: Some(creator.into()), domain: Some(domain.into()), ou_path: ou.map(String::from), ..TargetFacts::default() };
            for (cmd, facts, in_scope) in [
                (Command::parse("client.edit", json!({"name":"c"})).unwrap(), &client_facts, rights.can_see_site(site)),
                (Command::parse("client.delete", json!({"name":"c"})).unwrap(), &client_facts, rights.can_see_site(site)),
                (Command::parse("client.show", json!({"name":"c"})).unwrap(), &client_facts, rights.can_see_site(site)),
                (Command::parse("user.enable", json!({"user": format!("{domain}\\u")})).unwrap(), &user_facts, rights.can_see_user(domain, ou)),
                (Command::parse("user.set-password", json!({"user": format!("{domain}\\u"), "password": "x"})).unwrap(), &user_facts, rights.can_see_user(domain, ou)),
                (Command::parse("user.show", json!({"user": format!("{domain}\\u")})).unwrap(), &user_facts, rights.can_see_user(domain, ou)),
            ] {
                let req = cmd.requirement();
                let allowed = decide(&a, cmd, facts, &gate()).is_ok();
                if allowed {
                    proptest::prop_assert!(in_scope, "allowed an out-of-scope target");
                    for op in req.all_of {
                        proptest::prop_assert!(rights.ops.contains_key(op), "allowed without {op:?}");
                        if rights.ops.get(op) == Some(&AccessLevel::Own) {
                            proptest::prop_assert!(mine, "allowed {op:?}:own on someone else's object");
                        }
                    }
                }
            }
        }
    }
}
