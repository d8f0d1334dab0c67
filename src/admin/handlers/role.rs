//! Roles, administrators and their anti-escalation rules: an administrator creates, edits
//! and assigns only roles strictly below their own, never grants what they do not hold,
//! and never touches the Super Administrator; the last enabled Super Administrator cannot
//! be removed, demoted or disabled.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{AdminError, HandlerResult};
use crate::admin::authz::role::{self, RoleLookup as _};
use crate::admin::authz::{self, Actor, Permit, Rights};
use crate::admin::command::{
    AdminAddArgs, AdminRoleArgs, ExplainArgs, Requirement, RoleArgs, Target,
};
use crate::admin::proto::ErrorCode;
use crate::admin::server::{AdminContext, user_id};
use crate::model::AdminRecord;
use crate::model::operation::{BUNDLES, Operation};
use crate::model::role::{RoleDef, SUPER_ADMINISTRATOR};
use crate::model::{AccessLevel, ComputerScope, UserScope};
use crate::store::WriteOp;
use crate::store::admin::AdminOp;

fn denied(message: impl Into<String>) -> AdminError {
    AdminError {
        code: ErrorCode::PermissionDenied,
        message: message.into(),
    }
}

fn conflict(message: impl Into<String>) -> AdminError {
    AdminError {
        code: ErrorCode::Conflict,
        message: message.into(),
    }
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
            Some((d, ou)) if !d.is_empty() && ou.contains('=') => {
                out.push((d.to_string(), Some(ou.to_string())))
            }
            Some(_) => {
                return Err(AdminError::invalid(format!(
                    "user_scope: `{item}` should be DOMAIN or DOMAIN:OU_DN"
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
        if ctx.store.site(s)?.is_none() && !s.eq_ignore_ascii_case(&ctx.site) {
            return Err(AdminError::invalid(format!(
                "computer_scope: no site named {s} (gatehousectl site add {s})"
            )));
        }
        sites.push(s.to_string());
    }
    Ok(Some(ComputerScope::Sites(sites)))
}

/// Refuses a restriction that asks for more than the actor holds.
fn check_grants(actor: &Actor, def: &RoleDef) -> Result<(), AdminError> {
    let mine = &actor.rights;
    if let Some(ops) = &def.ops {
        for (op, level) in ops {
            match mine.ops.get(op) {
                None => {
                    return Err(denied(format!(
                        "permission denied: you cannot grant {} (you do not hold it)",
                        op.id()
                    )));
                }
                Some(AccessLevel::Own) if *level == AccessLevel::All => {
                    return Err(denied(format!(
                        "permission denied: you hold {} only for your own objects",
                        op.id()
                    )));
                }
                _ => {}
            }
        }
    }
    if let Some(s) = &def.user_scope
        && !role::user_scope_within(s, &mine.user_scope)
    {
        return Err(denied(
            "permission denied: the user scope is wider than yours",
        ));
    }
    if let Some(s) = &def.computer_scope
        && !role::computer_scope_within(s, &mine.computer_scope)
    {
        return Err(denied(
            "permission denied: the computer scope is wider than yours",
        ));
    }
    Ok(())
}

/// Whether `actor` may put a role under `parent` (their own role or one below it).
fn check_parent(ctx: &AdminContext, actor: &Actor, parent: &str) -> Result<String, AdminError> {
    let defs = ctx.roles();
    let parent_def = defs
        .role(&parent.to_lowercase())
        .ok_or_else(|| AdminError::invalid(format!("parent: no role named {parent}")))?;
    let mine = &actor.rights.role;
    if !(parent_def.name.eq_ignore_ascii_case(mine)
        || role::is_strictly_below(&*defs, &parent_def.name, mine))
    {
        return Err(denied(format!(
            "permission denied: {} is not your role or below it",
            parent_def.name
        )));
    }
    Ok(parent_def.name.clone())
}

fn rights_json(r: &Rights) -> Value {
    json!({
        "ops": r.ops.iter().map(|(o, l)| format!("{}{}", o.id(), if *l == AccessLevel::Own { ":own" } else { "" })).collect::<Vec<_>>(),
        "user_scope": r.user_scope,
        "computer_scope": r.computer_scope,
    })
}

fn def_json(d: &RoleDef) -> Value {
    json!({
        "ops": d.ops.as_ref().map(|m| m.iter().map(|(o, l)| format!("{}{}", o.id(), if *l == AccessLevel::Own { ":own" } else { "" })).collect::<Vec<_>>()),
        "user_scope": d.user_scope,
        "computer_scope": d.computer_scope,
    })
}

pub(super) fn ops() -> HandlerResult {
    let ops: Vec<Value> = Operation::ALL
        .iter()
        .map(|o| json!({"id": o.id(), "category": o.category().as_str(), "description": o.description()}))
        .collect();
    let bundles: Vec<Vec<&str>> = BUNDLES
        .iter()
        .map(|b| b.iter().map(|o| o.id()).collect())
        .collect();
    Ok(json!({"operations": ops, "bundles": bundles}))
}

pub(super) fn list(ctx: &AdminContext) -> HandlerResult {
    let roles = ctx.roles();
    let admins = ctx.store.admins()?;
    let mut out: Vec<Value> = roles
        .values()
        .map(|(d, by)| {
            json!({
                "name": d.name,
                "parent": d.parent,
                "description": d.description,
                "holders": admins.iter().filter(|a| a.role.eq_ignore_ascii_case(&d.name)).count(),
                "created_by": by,
            })
        })
        .collect();
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Ok(json!({"roles": out}))
}

pub(super) fn show(ctx: &AdminContext, name: &str) -> HandlerResult {
    let defs = ctx.roles();
    let def = defs
        .role(&name.to_lowercase())
        .ok_or_else(|| AdminError::not_found(format!("role {name}")))?;
    let eff = role::effective(&*defs, name).map_err(|e| conflict(e.to_string()))?;
    let ancestry: Vec<String> = role::ancestry(&*defs, name)
        .map_err(|e| conflict(e.to_string()))?
        .iter()
        .map(|r| r.name.clone())
        .collect();
    let holders: Vec<String> = ctx
        .store
        .admins()?
        .into_iter()
        .filter(|a| a.role.eq_ignore_ascii_case(&def.name))
        .map(|a| a.name)
        .collect();
    Ok(json!({
        "role": {
            "name": def.name,
            "parent": def.parent,
            "description": def.description,
            "ancestry": ancestry,
            "own": def_json(def),
            "effective": rights_json(&eff),
            "holders": holders,
        },
        "warnings": role::warnings(&eff),
    }))
}

fn build_def(ctx: &AdminContext, a: &RoleArgs, base: RoleDef) -> Result<RoleDef, AdminError> {
    let mut def = base;
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
    Ok(def)
}

pub(super) async fn create(ctx: &AdminContext, permit: &Permit, a: RoleArgs) -> HandlerResult {
    let actor = permit.actor();
    if a.name.trim().is_empty() || a.name.len() > 64 || a.name.chars().any(char::is_control) {
        return Err(AdminError::invalid("role name: 1-64 printable characters"));
    }
    if a.name.eq_ignore_ascii_case(SUPER_ADMINISTRATOR) {
        return Err(denied(
            "permission denied: there is exactly one Super Administrator role",
        ));
    }
    let parent = a
        .parent
        .as_deref()
        .ok_or_else(|| AdminError::invalid("parent: required (--parent ROLE)"))?;
    let parent = check_parent(ctx, actor, parent)?;
    let def = build_def(
        ctx,
        &a,
        RoleDef {
            name: a.name.clone(),
            parent: Some(parent),
            description: String::new(),
            ops: None,
            user_scope: None,
            computer_scope: None,
        },
    )?;
    check_grants(actor, &def)?;
    save(ctx, permit, def, true).await
}

async fn save(ctx: &AdminContext, permit: &Permit, def: RoleDef, create: bool) -> HandlerResult {
    let name = def.name.clone();
    let created_by = permit.actor().name.clone();
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::Admin(AdminOp::PutRole {
                def,
                created_by,
                create,
            })],
        )
        .await?;
    ctx.reload_roles()?;
    show(ctx, &name)
}

pub(super) async fn edit(ctx: &AdminContext, permit: &Permit, a: RoleArgs) -> HandlerResult {
    let actor = permit.actor();
    let defs = ctx.roles();
    let current = defs
        .role(&a.name.to_lowercase())
        .cloned()
        .ok_or_else(|| AdminError::not_found(format!("role {}", a.name)))?;
    if current.name == SUPER_ADMINISTRATOR {
        return Err(denied(
            "permission denied: the Super Administrator role cannot be edited",
        ));
    }
    let mut def = build_def(ctx, &a, current.clone())?;
    if let Some(p) = &a.parent {
        let p = check_parent(ctx, actor, p)?;
        if p.eq_ignore_ascii_case(&def.name) || role::is_strictly_below(&*defs, &p, &def.name) {
            return Err(AdminError::invalid(format!(
                "parent: {p} is {} itself or below it (a role cannot descend from itself)",
                def.name
            )));
        }
        def.parent = Some(p);
    }
    // Only what this edit changes is a grant; restrictions left as they were are not.
    let changed = RoleDef {
        ops: if a.ops.is_some() {
            def.ops.clone()
        } else {
            None
        },
        user_scope: if a.user_scope.is_some() {
            def.user_scope.clone()
        } else {
            None
        },
        computer_scope: if a.computer_scope.is_some() {
            def.computer_scope.clone()
        } else {
            None
        },
        ..def.clone()
    };
    check_grants(actor, &changed)?;
    save(ctx, permit, def, false).await
}

pub(super) async fn delete(ctx: &AdminContext, permit: &Permit, name: &str) -> HandlerResult {
    let defs = ctx.roles();
    let def = defs
        .role(&name.to_lowercase())
        .ok_or_else(|| AdminError::not_found(format!("role {name}")))?;
    if def.name == SUPER_ADMINISTRATOR {
        return Err(denied(
            "permission denied: the Super Administrator role cannot be deleted",
        ));
    }
    if let Some(child) = defs.values().map(|(d, _)| d).find(|r| {
        r.parent
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case(&def.name))
    }) {
        return Err(conflict(format!(
            "role {} has child role {}; delete or move it first",
            def.name, child.name
        )));
    }
    let holders: Vec<String> = ctx
        .store
        .admins()?
        .into_iter()
        .filter(|a| a.role.eq_ignore_ascii_case(&def.name))
        .map(|a| a.name)
        .collect();
    if !holders.is_empty() {
        return Err(conflict(format!(
            "role {} is held by {}; give them another role first",
            def.name,
            holders.join(", ")
        )));
    }
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::Admin(AdminOp::DeleteRole {
                name: def.name.clone(),
            })],
        )
        .await?;
    ctx.reload_roles()?;
    Ok(json!({"deleted": def.name}))
}

fn parse_target(t: &str) -> Result<Target, AdminError> {
    let (kind, rest) = t.split_once(':').ok_or_else(|| AdminError::invalid(format!("target `{t}`: use user:NAME, client:NAME, directory:NAME, site:NAME, role:NAME or admin:NAME")))?;
    Ok(match kind {
        "user" => {
            let (domain, name) = crate::admin::command::parse_user(rest);
            Target::User { domain, name }
        }
        "client" => Target::Client(rest.into()),
        "directory" => Target::Directory(rest.into()),
        "site" => Target::Site(rest.into()),
        "role" => Target::Role(rest.into()),
        "admin" => Target::Admin(rest.into()),
        other => {
            return Err(AdminError::invalid(format!(
                "target kind `{other}` is not one of user, client, directory, site, role, admin"
            )));
        }
    })
}

fn find_admin(ctx: &AdminContext, name: &str) -> Result<AdminRecord, AdminError> {
    ctx.store
        .admin(name)?
        .ok_or_else(|| AdminError::not_found(format!("administrator {name}")))
}

pub(super) fn explain(ctx: &AdminContext, a: &ExplainArgs) -> HandlerResult {
    let admin = find_admin(ctx, &a.admin)?;
    let rights = ctx
        .rights_of(&admin.role)
        .map_err(|e| conflict(e.to_string()))?;
    let op = Operation::from_id(&a.operation)
        .ok_or_else(|| AdminError::invalid(format!("unknown operation `{}`", a.operation)))?;
    let target = a
        .target
        .as_deref()
        .map(parse_target)
        .transpose()?
        .unwrap_or(Target::Appliance);
    let ops: &'static [Operation] = Operation::ALL
        .iter()
        .position(|o| *o == op)
        .map_or(&[], |i| &Operation::ALL[i..=i]);
    let req = Requirement {
        all_of: ops,
        read_family: None,
        target,
    };
    let subject = Actor {
        name: admin.name.clone(),
        via: "explain".into(),
        rights: rights.clone(),
    };
    let facts = crate::admin::server::target_facts(ctx, &subject, &req.target)?;
    let decision = authz::explain(&subject, &req, &facts);
    let level = rights
        .ops
        .get(&op)
        .map(|l| if *l == AccessLevel::Own { "own" } else { "all" });
    Ok(json!({
        "administrator": admin.name,
        "role": admin.role,
        "operation": op.id(),
        "target": a.target,
        "allowed": decision.is_ok(),
        "why": match &decision { Ok(()) => format!("{} holds {} ({}) and the target is within scope", admin.name, op.id(), level.unwrap_or("-")), Err(d) => d.audit_reason() },
        "access_level": level,
        "user_scope": rights.user_scope,
        "computer_scope": rights.computer_scope,
    }))
}

// --- administrators ------------------------------------------------------------------------

fn may_assign(ctx: &AdminContext, actor: &Actor, role_name: &str) -> Result<String, AdminError> {
    let defs = ctx.roles();
    let def = defs
        .role(&role_name.to_lowercase())
        .ok_or_else(|| AdminError::invalid(format!("role: no role named {role_name}")))?;
    let mine = &actor.rights.role;
    let super_admin = mine.eq_ignore_ascii_case(SUPER_ADMINISTRATOR);
    if !(super_admin || role::is_strictly_below(&*defs, &def.name, mine)) {
        return Err(denied(format!(
            "permission denied: you can only assign roles below {mine}"
        )));
    }
    Ok(def.name.clone())
}

fn enabled_super_admins(ctx: &AdminContext) -> Result<Vec<AdminRecord>, AdminError> {
    Ok(ctx
        .store
        .admins()?
        .into_iter()
        .filter(|a| a.enabled && a.role.eq_ignore_ascii_case(SUPER_ADMINISTRATOR))
        .collect())
}

/// Refuses a change that would leave no enabled Super Administrator.
fn protect_last_super(ctx: &AdminContext, name: &str) -> Result<(), AdminError> {
    let supers = enabled_super_admins(ctx)?;
    if supers.len() == 1 && supers[0].name.eq_ignore_ascii_case(name) {
        return Err(conflict(format!(
            "{name} is the last enabled Super Administrator: add another one first"
        )));
    }
    Ok(())
}

fn admin_json(a: &AdminRecord) -> Value {
    json!({"name": a.name, "unix_user": a.unix_user, "uid": a.uid, "role": a.role, "enabled": a.enabled, "created_by": a.created_by})
}

pub(super) fn admin_list(ctx: &AdminContext) -> HandlerResult {
    Ok(json!({"admins": ctx.store.admins()?.iter().map(admin_json).collect::<Vec<_>>()}))
}

pub(super) async fn admin_add(
    ctx: &AdminContext,
    permit: &Permit,
    a: AdminAddArgs,
) -> HandlerResult {
    if a.name.trim().is_empty()
        || a.name.len() > 64
        || a.name.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(AdminError::invalid(
            "administrator name: 1-64 characters without spaces",
        ));
    }
    let role = may_assign(ctx, permit.actor(), &a.role)?;
    let uid = user_id(&a.unix_user).ok_or_else(|| {
        AdminError::invalid(format!("unix_user: no Unix user named {}", a.unix_user))
    })?;
    let record = AdminRecord {
        name: a.name.clone(),
        unix_user: a.unix_user.clone(),
        uid,
        role,
        enabled: true,
        created_by: permit.actor().name.clone(),
        created_at: 0,
    };
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::Admin(AdminOp::AddAdmin { record })],
        )
        .await?;
    let added = find_admin(ctx, &a.name)?;
    Ok(json!({"admin": admin_json(&added)}))
}

pub(super) async fn admin_set_role(
    ctx: &AdminContext,
    permit: &Permit,
    a: AdminRoleArgs,
) -> HandlerResult {
    let role = may_assign(ctx, permit.actor(), &a.role)?;
    if !role.eq_ignore_ascii_case(SUPER_ADMINISTRATOR) {
        protect_last_super(ctx, &a.name)?;
    }
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::Admin(AdminOp::SetAdminRole {
                name: a.name.clone(),
                role,
            })],
        )
        .await?;
    let a2 = find_admin(ctx, &a.name)?;
    Ok(json!({"admin": admin_json(&a2)}))
}

pub(super) async fn admin_set_enabled(
    ctx: &AdminContext,
    permit: &Permit,
    name: &str,
    enabled: bool,
) -> HandlerResult {
    if !enabled {
        protect_last_super(ctx, name)?;
    }
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::Admin(AdminOp::SetAdminEnabled {
                name: name.to_string(),
                enabled,
            })],
        )
        .await?;
    let a = find_admin(ctx, name)?;
    Ok(json!({"admin": admin_json(&a)}))
}

pub(super) async fn admin_remove(ctx: &AdminContext, permit: &Permit, name: &str) -> HandlerResult {
    protect_last_super(ctx, name)?;
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::Admin(AdminOp::RemoveAdmin {
                name: name.to_string(),
            })],
        )
        .await?;
    Ok(json!({"removed": name}))
}

/// For `status`: fewer than two enabled Super Administrators is a single point of failure.
pub(crate) fn super_admin_warning(ctx: &AdminContext) -> Option<String> {
    let n = enabled_super_admins(ctx).map(|v| v.len()).unwrap_or(0);
    (n < 2).then(|| format!("{n} enabled Super Administrator(s): add a second one so that losing one account does not lock you out"))
}
