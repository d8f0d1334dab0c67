//! The facts authorization needs about a command's target, read before deciding: whether
//! it exists, who created it, where it is (site, domain, OU), whether a role or
//! administrator lies below the actor, and for role and administrator commands what they
//! would grant or assign, worked out from their arguments. Read-only; arguments that make
//! no sense are refused here, before anything is decided.

use std::collections::BTreeMap;

use super::authz::role::{self, RoleLookup as _};
use super::authz::{Actor, RoleChange, RoleMap, TargetFacts};
use super::command::{AdminRoleArgs, Command, PolicyKind, RoleArgs, Target};
use super::context::AdminContext;
use super::handlers::AdminError;
use crate::model::operation::Operation;
use crate::model::role::{RoleDef, SUPER_ADMINISTRATOR};
use crate::model::scope::{AccessLevel, ComputerScope, UserScope, canonical_dn};
use crate::model::{ClientRecord, IpNet, SiteRecord, UserRecord, names};
use crate::policy::assign::Subject;
use crate::store::directory::DirectoryRecord;

impl From<names::NameError> for AdminError {
    fn from(e: names::NameError) -> Self {
        AdminError::invalid(e.to_string())
    }
}

/// Where a stored site is, for deciding on it.
pub(super) fn of_site(site: SiteRecord) -> TargetFacts {
    TargetFacts {
        exists: true,
        created_by: Some(site.created_by),
        site: Some(site.name),
        ..TargetFacts::default()
    }
}

pub(super) fn of_client(c: ClientRecord) -> TargetFacts {
    TargetFacts {
        exists: true,
        created_by: Some(c.created_by),
        site: Some(c.site),
        ..TargetFacts::default()
    }
}

pub(super) fn of_user(u: UserRecord) -> TargetFacts {
    TargetFacts {
        exists: true,
        created_by: Some(u.created_by),
        domain: Some(u.domain),
        ou_path: u.ou_path,
        ..TargetFacts::default()
    }
}

pub(super) fn of_directory(d: DirectoryRecord) -> TargetFacts {
    TargetFacts {
        exists: true,
        created_by: Some(d.created_by),
        domain: Some(d.spec.name),
        ..TargetFacts::default()
    }
}

/// Where a client's `address` would lie: outside `site`'s subnets, nested in other
/// clients' networks (from the live client table: no secret is opened for this). An
/// address that does not parse is the handler's to refuse.
fn client_address(
    ctx: &AdminContext,
    facts: &mut TargetFacts,
    address: &str,
    site: &str,
    except: Option<&str>,
    allow_overlap: bool,
) -> Result<(), AdminError> {
    let Ok(net) = address.parse::<IpNet>() else {
        return Ok(());
    };
    if let Some(s) = ctx.store().site(site)?
        && !s.subnets.is_empty()
        && !s
            .subnets
            .iter()
            .filter_map(|n| n.parse::<IpNet>().ok())
            .any(|n| n.covers(&net))
    {
        facts.outside_subnets = Some(s.subnets.join(", "));
    }
    if allow_overlap {
        facts.nested_in_sites = ctx
            .radius
            .clients()
            .iter()
            .filter(|c| except.is_none_or(|e| !c.name.eq_ignore_ascii_case(e)))
            .filter(|c| c.network.covers(&net) && c.network != net)
            .map(|c| c.site.clone())
            .collect();
    }
    Ok(())
}

/// Longest role and administrator name.
pub(super) const MAX_NAME: usize = 64;

/// The facts of `command`'s target (`target` is its requirement's).
///
/// # Errors
/// Store failures, and arguments that cannot be understood (an unknown operation, a
/// parent or site that does not exist).
pub fn target_facts(
    ctx: &AdminContext,
    actor: &Actor,
    command: &Command,
    target: &Target,
    roles: &RoleMap,
) -> Result<TargetFacts, AdminError> {
    let store = ctx.store();
    // The Super Administrator manages even a role whose ancestry a damaged store broke.
    let manages = |role_name: &str| role::manages(roles, &actor.rights.role, role_name);
    let mut facts = match target {
        Target::Role(name) => {
            roles
                .get(&name.to_lowercase())
                .map_or_else(TargetFacts::default, |r| TargetFacts {
                    exists: true,
                    created_by: Some(r.created_by.clone()),
                    below_actor: manages(&r.def.name)
                        && !r.def.name.eq_ignore_ascii_case(SUPER_ADMINISTRATOR),
                    ..TargetFacts::default()
                })
        }
        Target::Admin(name) => {
            store
                .admin(name)?
                .map_or_else(TargetFacts::default, |a| TargetFacts {
                    exists: true,
                    created_by: Some(a.created_by.clone()),
                    below_actor: manages(&a.role),
                    ..TargetFacts::default()
                })
        }
        Target::Site(name) | Target::SiteRename { name, .. } => {
            store.site(name)?.map_or_else(TargetFacts::default, of_site)
        }
        Target::Client(name) | Target::ClientMove { name, .. } => store
            .client(name)?
            .map_or_else(TargetFacts::default, of_client),
        Target::User { domain, name } => store
            .user(domain, name)?
            .map_or_else(TargetFacts::default, of_user),
        Target::Directory(name) => store
            .directory(name)?
            .map_or_else(TargetFacts::default, of_directory),
        Target::Policy { kind, name } => match ctx.store().policy_owner(*kind, name)? {
            Some(created_by) => TargetFacts {
                exists: true,
                created_by: Some(created_by),
                ..TargetFacts::default()
            },
            None => TargetFacts::default(),
        },
        Target::Assignment { policy, subject } => {
            let mut facts = match ctx.store().policy_owner(PolicyKind::User, policy)? {
                Some(created_by) => TargetFacts {
                    exists: true,
                    created_by: Some(created_by),
                    ..TargetFacts::default()
                },
                None => TargetFacts::default(),
            };
            if let Subject::User { domain, name } = subject
                && let Some(u) = store.user(domain, name)?
            {
                facts.user_found = true;
                facts.domain = Some(u.domain);
                facts.ou_path = u.ou_path;
            }
            facts
        }
        Target::ComputerRule(name) => match store.computer_rule(name)? {
            Some(r) => TargetFacts {
                exists: true,
                created_by: Some(r.created_by),
                site: r.rule.site,
                ..TargetFacts::default()
            },
            None => TargetFacts::default(),
        },
        Target::Computer(id) | Target::ComputerMove { id, .. } => {
            match store.computer_named(id)? {
                Some(c) => TargetFacts {
                    exists: true,
                    site: Some(c.site),
                    ..TargetFacts::default()
                },
                None => TargetFacts::default(),
            }
        }
        Target::Explanation {
            domain,
            name,
            client,
        } => {
            let mut facts = TargetFacts::default();
            if let Some(u) = store.user(domain, name)? {
                facts.user_found = true;
                facts.domain = Some(u.domain);
                facts.ou_path = u.ou_path;
            }
            // The live client table: no secret is opened for this.
            facts.client_site = ctx
                .radius
                .clients()
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(client))
                .map(|c| c.site.clone());
            facts
        }
        Target::Appliance
        | Target::NewPolicy { .. }
        | Target::NewComputerRule { .. }
        | Target::Listing
        | Target::NewClient { .. }
        | Target::NewUsers { .. }
        | Target::PlacedUsers
        | Target::NewDirectory(_)
        | Target::NewRole(_)
        | Target::NewAdmin(_)
        | Target::NewSite(_) => TargetFacts::default(),
    };
    match command {
        Command::RoleCreate(a) => facts.role_change = Some(role_create(ctx, a, roles)?),
        Command::RoleEdit(a) if facts.exists => {
            facts.role_change = Some(role_edit(ctx, a, roles)?);
        }
        Command::AdminAdd(a) => facts.assign = Some(assignable(&a.role, roles)?),
        Command::ClientAdd(a) => {
            let site = a.site.as_deref().unwrap_or(&ctx.site);
            client_address(ctx, &mut facts, &a.address, site, None, a.allow_overlap)?;
        }
        Command::ClientEdit(a) if facts.exists && (a.address.is_some() || a.site.is_some()) => {
            let table = ctx.radius.clients();
            if let Some(current) = table.iter().find(|c| c.name.eq_ignore_ascii_case(&a.name)) {
                let address = a
                    .address
                    .clone()
                    .unwrap_or_else(|| current.network.to_string());
                let site = a.site.clone().unwrap_or_else(|| current.site.clone());
                let except = current.name.clone();
                client_address(
                    ctx,
                    &mut facts,
                    &address,
                    &site,
                    Some(&except),
                    a.allow_overlap,
                )?;
            }
        }
        Command::PendingImport(a) => {
            let users = super::handlers::pending::parse_csv(&a.csv).map_err(AdminError::invalid)?;
            let mut places: Vec<(String, Option<String>)> =
                users.into_iter().map(|u| (u.domain, u.ou_path)).collect();
            places.sort();
            places.dedup();
            facts.placements = places;
        }
        Command::ComputerRuleEdit(a) if facts.exists => facts.new_site = a.site.clone(),
        Command::AdminSetRole(AdminRoleArgs { role, .. }) if facts.exists => {
            facts.assign = Some(assignable(role, roles)?);
        }
        _ => {}
    }
    Ok(facts)
}

/// A role that may be given to an administrator: it exists and is not a template.
fn assignable(name: &str, roles: &RoleMap) -> Result<String, AdminError> {
    let def = roles
        .role(&name.to_lowercase())
        .ok_or_else(|| AdminError::invalid(format!("role: no role named {name}")))?;
    if def.requires_scope {
        return Err(AdminError::invalid(format!(
            "role: {0} is a template; derive a role for your sites and assign that (gatehousectl role create NAME --parent \"{0}\" --computer-scope SITE --user-scope DOMAIN)",
            def.name
        )));
    }
    Ok(def.name.clone())
}

fn role_create(
    ctx: &AdminContext,
    a: &RoleArgs,
    roles: &RoleMap,
) -> Result<RoleChange, AdminError> {
    // Whether the name is free (or looks like one taken) is the handler's business,
    // after the decision: nothing about existing roles is told to who may not know.
    let name = names::normalise("role", &a.name, MAX_NAME, &[])?;
    let parent_name = a
        .parent
        .as_deref()
        .ok_or_else(|| AdminError::invalid("parent: required (--parent ROLE)"))?;
    let parent = roles
        .role(&parent_name.to_lowercase())
        .ok_or_else(|| AdminError::invalid(format!("parent: no role named {parent_name}")))?;
    let mut def = RoleDef {
        name,
        parent: Some(parent.name.clone()),
        description: String::new(),
        ops: None,
        user_scope: None,
        computer_scope: None,
        requires_scope: false,
    };
    apply_args(ctx, a, &mut def)?;
    // A role derived from a site template names its sites, and reaches the users it
    // names: nothing when it names none.
    if parent.requires_scope {
        if def.computer_scope.is_none() {
            return Err(AdminError::invalid(format!(
                "computer_scope: a role derived from {} must name its sites (--computer-scope SITE,…)",
                parent.name
            )));
        }
        if def.user_scope.is_none() {
            def.user_scope = Some(UserScope::Domains(Vec::new()));
        }
    }
    let granted = def.clone();
    Ok(RoleChange {
        new_parent: def.parent.clone(),
        proposed: def,
        granted,
        base_version: None,
    })
}

fn role_edit(ctx: &AdminContext, a: &RoleArgs, roles: &RoleMap) -> Result<RoleChange, AdminError> {
    let current = roles
        .get(&a.name.to_lowercase())
        .ok_or_else(|| AdminError::not_found(format!("role {}", a.name)))?;
    let mut def = current.def.clone();
    apply_args(ctx, a, &mut def)?;
    let mut new_parent = None;
    if let Some(p) = &a.parent {
        let parent = roles
            .role(&p.to_lowercase())
            .ok_or_else(|| AdminError::invalid(format!("parent: no role named {p}")))?;
        if parent.name.eq_ignore_ascii_case(&def.name)
            || role::is_strictly_below(roles, &parent.name, &def.name)
        {
            return Err(AdminError::invalid(format!(
                "parent: {} is {} itself or below it (a role cannot descend from itself)",
                parent.name, def.name
            )));
        }
        def.parent = Some(parent.name.clone());
        new_parent = def.parent.clone();
    }
    // Only what this edit sets is a grant; restrictions left as they were are not.
    let granted = RoleDef {
        ops: a.ops.as_ref().and(def.ops.clone()),
        user_scope: a.user_scope.as_ref().and(def.user_scope.clone()),
        computer_scope: a.computer_scope.as_ref().and(def.computer_scope.clone()),
        ..def.clone()
    };
    Ok(RoleChange {
        proposed: def,
        granted,
        new_parent,
        base_version: Some(current.version),
    })
}

/// Sets the restrictions `a` gives on `def`.
fn apply_args(ctx: &AdminContext, a: &RoleArgs, def: &mut RoleDef) -> Result<(), AdminError> {
    if let Some(d) = &a.description {
        def.description.clone_from(d);
    }
    if let Some(ops) = &a.ops {
        def.ops = parse_ops(ops)?;
    }
    if let Some(s) = &a.user_scope {
        def.user_scope = parse_user_scope(s)?;
    }
    if let Some(s) = &a.computer_scope {
        def.computer_scope = parse_computer_scope(ctx, s)?;
    }
    Ok(())
}

/// A restriction list as given: `same` (as the parent), `*` (everything) or items.
enum ListArg<'a> {
    Same,
    All,
    Items(Vec<&'a str>),
}

fn list_arg(list: &[String], sep: char) -> ListArg<'_> {
    if list.len() == 1 && list[0] == "same" {
        return ListArg::Same;
    }
    if list.iter().any(|s| s == "*") {
        return ListArg::All;
    }
    ListArg::Items(
        list.iter()
            .flat_map(|s| s.split(sep))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

fn parse_ops(list: &[String]) -> Result<Option<BTreeMap<Operation, AccessLevel>>, AdminError> {
    let items = match list_arg(list, ',') {
        ListArg::Same => return Ok(None),
        ListArg::All => Operation::ALL.iter().map(|o| o.id()).collect(),
        ListArg::Items(items) => items,
    };
    let mut out = BTreeMap::new();
    for item in items {
        let (id, level) = match item.split_once(':') {
            Some((id, "own")) => (id, AccessLevel::Own),
            Some((id, "all")) => (id, AccessLevel::All),
            Some((_, other)) => {
                return Err(AdminError::invalid(format!(
                    "ops: access level `{other}` (use :own or :all)"
                )));
            }
            None => (item, AccessLevel::All),
        };
        let op = Operation::from_id(id).ok_or_else(|| {
            AdminError::invalid(format!(
                "ops: unknown operation `{id}` (see `gatehousectl role ops`)"
            ))
        })?;
        out.insert(op, level);
    }
    Ok(Some(out))
}

fn parse_user_scope(list: &[String]) -> Result<Option<UserScope>, AdminError> {
    let items = match list_arg(list, ';') {
        ListArg::Same => return Ok(None),
        ListArg::All => return Ok(Some(UserScope::Everything)),
        ListArg::Items(items) => items,
    };
    let mut out = Vec::new();
    for item in items {
        match item.split_once(':') {
            Some((d, ou)) if !d.is_empty() && canonical_dn(ou).is_some() => {
                out.push((d.to_string(), Some(ou.to_string())));
            }
            Some(_) => {
                return Err(AdminError::invalid(format!(
                    "user_scope: `{item}` should be DOMAIN or DOMAIN:OU_DN (an OU such as ou=Sales,dc=corp)"
                )));
            }
            None => out.push((item.to_string(), None)),
        }
    }
    Ok(Some(UserScope::Domains(out)))
}

fn parse_computer_scope(
    ctx: &AdminContext,
    list: &[String],
) -> Result<Option<ComputerScope>, AdminError> {
    let items = match list_arg(list, ',') {
        ListArg::Same => return Ok(None),
        ListArg::All => return Ok(Some(ComputerScope::Everything)),
        ListArg::Items(items) => items,
    };
    let mut sites = Vec::new();
    for s in items {
        if !s.eq_ignore_ascii_case(&ctx.site) && ctx.site_record(s)?.is_none() {
            return Err(AdminError::invalid(format!(
                "computer_scope: no site named {s} (gatehousectl site add {s})"
            )));
        }
        sites.push(s.to_string());
    }
    Ok(Some(ComputerScope::Sites(sites)))
}
