//! Roles and administrators. Who may create, edit and assign what is decided with every
//! other rule in `authz::decide` (see `authz::escalation`); the invariants two requests
//! could race — acyclic ancestry, edits that do not overwrite each other, no deleted role
//! held, the last enabled Super Administrator — are decided by the store, in the write.
//! So these handlers only carry out what was decided, and report what was committed.

use serde_json::{Value, json};

use super::{AdminError, HandlerResult};
use crate::admin::authz::role;
use crate::admin::authz::{self, Actor, Gate, Rights, TargetFacts};
use crate::admin::command::{
    AdminAddArgs, AdminRoleArgs, ExplainArgs, Requirement, Target, parse_user,
};
use crate::admin::context::Call;
use crate::admin::facts::{self, MAX_NAME};
use crate::model::names;
use crate::model::operation::{BUNDLES, Operation};
use crate::model::role::{RoleDef, SUPER_ADMINISTRATOR, StoredRole};
use crate::model::scope::AccessLevel;
use crate::model::{AdminRecord, LOCAL_DOMAIN};
use crate::store::WriteOp;
use crate::store::admin::AdminOp;

fn ops_json<'a>(ops: impl Iterator<Item = (&'a Operation, &'a AccessLevel)>) -> Vec<String> {
    ops.map(|(o, l)| {
        format!(
            "{}{}",
            o.id(),
            if *l == AccessLevel::Own { ":own" } else { "" }
        )
    })
    .collect()
}

fn rights_json(r: &Rights) -> Value {
    json!({
        "ops": ops_json(r.ops.iter()),
        "user_scope": r.user_scope,
        "computer_scope": r.computer_scope,
    })
}

fn def_json(d: &RoleDef) -> Value {
    json!({
        "ops": d.ops.as_ref().map(|m| ops_json(m.iter())),
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

pub(super) fn list(call: &Call<'_>) -> HandlerResult {
    let read = call.read();
    let admins = read.admins()?;
    let out: Vec<Value> = read
        .roles()?
        .iter()
        .map(|r| {
            json!({
                "name": r.def.name,
                "parent": r.def.parent,
                "description": r.def.description,
                "holders": admins.iter().filter(|a| a.role.eq_ignore_ascii_case(&r.def.name)).count(),
                "template": r.def.requires_scope,
                "created_by": r.created_by,
            })
        })
        .collect();
    Ok(json!({"roles": out}))
}

/// A role as shown: its own and effective rights, ancestry, holders, warnings. A role
/// whose ancestry a damaged store broke is still shown (and can be repaired), with the
/// damage as a warning.
fn role_view(call: &Call<'_>, stored: &StoredRole) -> HandlerResult {
    let read = call.read();
    let roles = read.role_map()?;
    let def = &stored.def;
    let mut warnings = Vec::new();
    let effective = match role::effective(&*roles, &def.name) {
        Ok(eff) => {
            warnings.extend(role::warnings(&eff));
            Some(rights_json(&eff))
        }
        Err(e) => {
            warnings.push(format!("{e}: edit its parent to repair it"));
            None
        }
    };
    let ancestry: Vec<String> = role::ancestry(&*roles, &def.name)
        .map(|chain| chain.iter().map(|r| r.name.clone()).collect())
        .unwrap_or_default();
    if def.requires_scope {
        warnings.push(format!(
            "template: derive a role with --computer-scope SITE (and --user-scope) and assign that (role create NAME --parent \"{}\")",
            def.name
        ));
    }
    let holders: Vec<String> = read
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
            "effective": effective,
            "holders": holders,
            "template": def.requires_scope,
            "version": stored.version,
        },
        "warnings": warnings,
    }))
}

pub(super) fn show(call: &Call<'_>, name: &str) -> HandlerResult {
    let stored = call
        .read()
        .role(name)?
        .ok_or_else(|| AdminError::not_found(format!("role {name}")))?;
    role_view(call, &stored)
}

/// Creates or edits the role worked out (and authorized) from the arguments, then shows
/// it as committed (a view that fails after the commit is the dispatcher's warning).
pub(super) async fn save(call: &Call<'_>) -> HandlerResult {
    let change = call
        .facts()
        .role_change
        .clone()
        .ok_or_else(|| AdminError::internal("role arguments were not worked out"))?;
    let name = change.proposed.name.clone();
    if change.base_version.is_none() {
        let roles = call.read().role_map()?;
        names::check_not_confusable(
            "role",
            &name,
            roles
                .values()
                .map(|r| r.def.name.as_str())
                .filter(|n| !n.eq_ignore_ascii_case(&name)),
        )?;
    }
    call.commit(vec![WriteOp::Admin(AdminOp::PutRole {
        def: change.proposed,
        created_by: call.actor_name().to_string(),
        expected_version: change.base_version,
    })])
    .await?;
    let stored = call
        .read()
        .role(&name)?
        .ok_or_else(|| AdminError::not_found(format!("role {name}")))?;
    role_view(call, &stored)
}

pub(super) async fn delete(call: &Call<'_>, name: &str) -> HandlerResult {
    let canonical = call
        .read()
        .role_named(name)?
        .ok_or_else(|| AdminError::not_found(format!("role {name}")))?;
    call.commit(vec![WriteOp::Admin(AdminOp::DeleteRole {
        name: canonical.clone(),
    })])
    .await?;
    Ok(json!({"deleted": canonical}))
}

fn parse_target(t: &str) -> Result<Target, AdminError> {
    let (kind, rest) = t.split_once(':').ok_or_else(|| AdminError::invalid(format!("target `{t}`: use user:NAME, client:NAME, directory:NAME, site:NAME, role:NAME or admin:NAME")))?;
    Ok(match kind {
        "user" => {
            let (domain, name) = parse_user(rest);
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

/// The facts of an explained target as the caller may see them: what lies outside the
/// caller's own scope is explained exactly as a missing object.
fn visible_facts(
    call: &Call<'_>,
    target: &Target,
    subject: &Actor,
) -> Result<TargetFacts, AdminError> {
    let read = call.read();
    let roles = read.role_map()?;
    let manages = |role_name: &str| role::manages(&*roles, &subject.rights.role, role_name);
    Ok(match target {
        Target::User { domain, name } => read
            .user(domain, name)?
            .map_or_else(TargetFacts::default, facts::of_user),
        Target::Client(name) => read
            .client(name)?
            .map_or_else(TargetFacts::default, facts::of_client),
        Target::Site(name) => read
            .site(name)?
            .map_or_else(TargetFacts::default, facts::of_site),
        Target::Directory(name) => read
            .directory(name)?
            .map_or_else(TargetFacts::default, facts::of_directory),
        Target::Role(name) => read
            .role(name)?
            .map_or_else(TargetFacts::default, |r| TargetFacts {
                exists: true,
                created_by: Some(r.created_by),
                below_actor: manages(&r.def.name)
                    && !r.def.name.eq_ignore_ascii_case(SUPER_ADMINISTRATOR),
                ..TargetFacts::default()
            }),
        Target::Admin(name) => {
            read.admin(name)?
                .map_or_else(TargetFacts::default, |a| TargetFacts {
                    exists: true,
                    created_by: Some(a.created_by),
                    below_actor: manages(&a.role),
                    ..TargetFacts::default()
                })
        }
        _ => TargetFacts::default(),
    })
}

pub(super) fn explain(call: &Call<'_>, a: &ExplainArgs) -> HandlerResult {
    let read = call.read();
    let admin = read
        .admin(&a.admin)?
        .ok_or_else(|| AdminError::not_found(format!("administrator {}", a.admin)))?;
    let roles = read.role_map()?;
    let rights =
        role::effective(&*roles, &admin.role).map_err(|e| AdminError::conflict(e.to_string()))?;
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
        admin_id: Some(admin.id),
        via: "explain".into(),
        rights: rights.clone(),
    };
    let facts = visible_facts(call, &req.target, &subject)?;
    let gate = Gate {
        lockdown: false,
        roles: &roles,
    };
    let decision = authz::explain(&subject, &req, &facts, &gate);
    let level = rights
        .ops
        .get(&op)
        .map(|l| if *l == AccessLevel::Own { "own" } else { "all" });
    let why = match &decision {
        Ok(()) => format!(
            "{} holds {} ({}) and the target is within scope",
            admin.name,
            op.id(),
            level.unwrap_or("-")
        ),
        Err(authz::Denied::OutOfScope { what }) => {
            format!("out of scope for {}: {what}", admin.name)
        }
        Err(d) => d.to_string(),
    };
    Ok(json!({
        "administrator": admin.name,
        "role": admin.role,
        "operation": op.id(),
        "target": a.target,
        "allowed": decision.is_ok(),
        "why": why,
        "access_level": level,
        "user_scope": rights.user_scope,
        "computer_scope": rights.computer_scope,
    }))
}

// --- administrators ------------------------------------------------------------------------

fn admin_json(a: &AdminRecord) -> Value {
    json!({"name": a.name, "unix_user": a.unix_user, "uid": a.uid, "role": a.role, "enabled": a.enabled, "created_by": a.created_by})
}

fn find_admin(call: &Call<'_>, name: &str) -> Result<AdminRecord, AdminError> {
    call.read()
        .admin(name)?
        .ok_or_else(|| AdminError::not_found(format!("administrator {name}")))
}

pub(super) fn admin_list(call: &Call<'_>) -> HandlerResult {
    Ok(json!({"admins": call.read().admins()?.iter().map(admin_json).collect::<Vec<_>>()}))
}

/// Names that could pass for someone else in the audit trail or in ownership checks:
/// the break-glass accounts, the system's own actors, and the shapes the trail uses
/// (`NAME (uid N)`, `root as NAME`, `sync:DOMAIN`, `radius:CLIENT`).
fn check_admin_name(call: &Call<'_>, name: &str) -> Result<String, AdminError> {
    let name = names::normalise("administrator", name, MAX_NAME, &[':', '(', ')', '\\', '@'])?;
    if name.chars().any(char::is_whitespace) {
        return Err(AdminError::invalid(
            "administrator name: no spaces (it appears in the audit trail)",
        ));
    }
    let daemon = call.daemon_account();
    let reserved = ["root", "system", "scheduler", "explain", LOCAL_DOMAIN];
    if reserved.iter().any(|r| r.eq_ignore_ascii_case(&name)) || daemon.eq_ignore_ascii_case(&name)
    {
        return Err(names::NameError::ReservedName {
            kind: "administrator",
            name,
        }
        .into());
    }
    let existing = call.read().all_admin_names()?;
    names::check_not_confusable("administrator", &name, existing.iter().map(String::as_str))?;
    Ok(name)
}

pub(super) async fn admin_add(call: &Call<'_>, a: AdminAddArgs) -> HandlerResult {
    let name = check_admin_name(call, &a.name)?;
    let role = call
        .facts()
        .assign
        .clone()
        .ok_or_else(|| AdminError::internal("the role to assign was not worked out"))?;
    let uid = call.accounts().uid_of(&a.unix_user).ok_or_else(|| {
        AdminError::invalid(format!("unix_user: no Unix user named {}", a.unix_user))
    })?;
    let record = AdminRecord {
        id: 0,
        name: name.clone(),
        unix_user: a.unix_user.clone(),
        uid,
        role,
        enabled: true,
        created_by: call.actor_name().to_string(),
        created_at: 0,
    };
    call.commit(vec![WriteOp::Admin(AdminOp::AddAdmin { record })])
        .await?;
    Ok(json!({"admin": admin_json(&find_admin(call, &name)?)}))
}

pub(super) async fn admin_set_role(call: &Call<'_>, a: AdminRoleArgs) -> HandlerResult {
    let role = call
        .facts()
        .assign
        .clone()
        .ok_or_else(|| AdminError::internal("the role to assign was not worked out"))?;
    call.commit(vec![WriteOp::Admin(AdminOp::SetAdminRole {
        name: a.name.clone(),
        role,
    })])
    .await?;
    Ok(json!({"admin": admin_json(&find_admin(call, &a.name)?)}))
}

pub(super) async fn admin_set_enabled(call: &Call<'_>, name: &str, enabled: bool) -> HandlerResult {
    call.commit(vec![WriteOp::Admin(AdminOp::SetAdminEnabled {
        name: name.to_string(),
        enabled,
    })])
    .await?;
    Ok(json!({"admin": admin_json(&find_admin(call, name)?)}))
}

pub(super) async fn admin_remove(call: &Call<'_>, name: &str) -> HandlerResult {
    call.commit(vec![WriteOp::Admin(AdminOp::RemoveAdmin {
        name: name.to_string(),
    })])
    .await?;
    Ok(json!({"removed": name}))
}
