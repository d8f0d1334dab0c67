use serde_json::{Value, json};

use super::{AdminError, HandlerResult};
use crate::admin::authz::Permit;
use crate::admin::command::{
    SetPasswordArgs, UserAddArgs, UserEditArgs, UserImportArgs, UserListArgs, parse_user,
};
use crate::admin::server::AdminContext;
use crate::auth::password;
use crate::model::{LOCAL_DOMAIN, NewUser, UserChanges, UserRecord, UserStatus};
use crate::store::WriteOp;

const MAX_IMPORT: usize = 1_000_000;

fn view(u: &UserRecord) -> Value {
    json!({
        "domain": u.domain,
        "name": u.name,
        "dn": u.dn,
        "ou_path": u.ou_path,
        "display_name": u.display_name,
        "email": u.email,
        "status": u.status.as_str(),
        "password": u.password_hash.as_deref().map(|h| password::check_hash(h).map_or("unknown", |k| k.as_str())),
        "created_by": u.created_by,
        "created_at": u.created_at,
        "updated_at": u.updated_at,
        "last_login": u.last_login,
    })
}

fn check_user_name(name: &str) -> Result<(), AdminError> {
    if name.is_empty()
        || name.len() > 253
        || name
            .chars()
            .any(|c| c.is_control() || c == '\\' || c == '@' || c == ':')
    {
        return Err(AdminError::invalid(format!(
            "user name `{name}`: 1-253 characters, no control characters, `\\`, `@` or `:`"
        )));
    }
    Ok(())
}

fn check_local(domain: &str) -> Result<(), AdminError> {
    if domain.eq_ignore_ascii_case(LOCAL_DOMAIN) {
        Ok(())
    } else {
        Err(AdminError::invalid(format!(
            "domain {domain}: users of directory domains come from their directory; only `local` users are created here"
        )))
    }
}

fn hash_from(password: Option<&str>, hash: Option<&str>) -> Result<Option<String>, AdminError> {
    match (password, hash) {
        (Some(_), Some(_)) => Err(AdminError::invalid(
            "give a password or a password hash, not both",
        )),
        (Some(pw), None) => {
            let pw = pw.trim_end_matches(['\n', '\r']);
            password::hash_password(pw.as_bytes())
                .map(Some)
                .map_err(|e| AdminError::invalid(e.to_string()))
        }
        (None, Some(h)) => {
            let h = h.trim();
            password::check_hash(h).map_err(|e| AdminError::invalid(e.to_string()))?;
            Ok(Some(h.to_string()))
        }
        (None, None) => Err(AdminError::invalid(
            "a password (--password-stdin) or a hash (--password-hash-stdin) is required",
        )),
    }
}

pub(super) async fn add(ctx: &AdminContext, permit: &Permit, a: UserAddArgs) -> HandlerResult {
    let (domain, name) = parse_user(&a.user);
    check_local(&domain)?;
    check_user_name(&name)?;
    let hash = {
        let pw = a.password.and_then(|s| s.expose_str().map(str::to_string));
        let h = a
            .password_hash
            .and_then(|s| s.expose_str().map(str::to_string));
        // argon2 is deliberately slow: keep it off the async workers.
        tokio::task::spawn_blocking(move || hash_from(pw.as_deref(), h.as_deref()))
            .await
            .map_err(|_| AdminError::invalid("hashing failed"))??
    };
    let user = NewUser {
        domain: LOCAL_DOMAIN.into(),
        name: name.clone(),
        display_name: a.display_name,
        email: a.email,
        status: UserStatus::Active,
        password_hash: hash,
        ou_path: None,
    };
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::AddUsers {
                users: vec![user],
                created_by: permit.actor().name.clone(),
            }],
        )
        .await?;
    let u = ctx
        .store
        .user(LOCAL_DOMAIN, &name)?
        .ok_or_else(|| AdminError::not_found(format!("user {name}")))?;
    Ok(json!({"user": view(&u)}))
}

/// Parses `name:hash` (or `name,hash`) lines; every problem names its line.
fn parse_import(text: &str) -> Result<Vec<(String, String)>, AdminError> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, hash)) = line.split_once(':').or_else(|| line.split_once(',')) else {
            return Err(AdminError::invalid(format!(
                "line {n}: expected `name:hash`"
            )));
        };
        let name = name.trim();
        check_user_name(name)
            .map_err(|e| AdminError::invalid(format!("line {n}: {}", e.message)))?;
        password::check_hash(hash.trim())
            .map_err(|e| AdminError::invalid(format!("line {n}: {e}")))?;
        if !seen.insert(name.to_ascii_lowercase()) {
            return Err(AdminError::invalid(format!(
                "line {n}: user {name} appears twice"
            )));
        }
        out.push((name.to_string(), hash.trim().to_string()));
        if out.len() > MAX_IMPORT {
            return Err(AdminError::invalid(format!(
                "line {n}: more than {MAX_IMPORT} users in one import"
            )));
        }
    }
    if out.is_empty() {
        return Err(AdminError::invalid("the import holds no users"));
    }
    Ok(out)
}

pub(super) async fn import(
    ctx: &AdminContext,
    permit: &Permit,
    a: UserImportArgs,
) -> HandlerResult {
    let domain = a.domain.unwrap_or_else(|| LOCAL_DOMAIN.into());
    check_local(&domain)?;
    let text = a.lines.expose_str().unwrap_or_default().to_string();
    let entries = tokio::task::spawn_blocking(move || parse_import(&text))
        .await
        .map_err(|_| AdminError::invalid("import parsing failed"))??;
    let users: Vec<NewUser> = entries
        .into_iter()
        .map(|(name, hash)| NewUser {
            domain: LOCAL_DOMAIN.into(),
            name,
            display_name: None,
            email: None,
            status: UserStatus::Active,
            password_hash: Some(hash),
            ou_path: None,
        })
        .collect();
    commit_imported(ctx, permit, users).await
}

/// Adds imported `users` in one job with the request's audit record; shared with the
/// pending-user import.
pub(super) async fn commit_imported(
    ctx: &AdminContext,
    permit: &Permit,
    users: Vec<NewUser>,
) -> HandlerResult {
    let count = users.len();
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::AddUsers {
                users,
                created_by: permit.actor().name.clone(),
            }],
        )
        .await?;
    Ok(json!({"imported": count}))
}

pub(super) fn list(ctx: &AdminContext, permit: &Permit, a: &UserListArgs) -> HandlerResult {
    let rights = &permit.actor().rights;
    let users: Vec<Value> = ctx
        .store
        .users(
            a.domain.as_deref(),
            &rights.user_scope,
            a.limit.unwrap_or(1000),
        )?
        .iter()
        .map(view)
        .collect();
    Ok(json!({"users": users}))
}

/// Changes a user's descriptive fields (shared by `user edit` and `pending update`).
pub(super) async fn update_fields(
    ctx: &AdminContext,
    permit: &Permit,
    u: &UserRecord,
    display_name: Option<String>,
    email: Option<String>,
) -> Result<(), AdminError> {
    if display_name.is_none() && email.is_none() {
        return Err(AdminError::invalid(
            "nothing to change: give --display-name or --email",
        ));
    }
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::UpdateUser {
                domain: u.domain.clone(),
                name: u.name.clone(),
                changes: UserChanges {
                    display_name,
                    email,
                },
            }],
        )
        .await?;
    Ok(())
}

fn find(ctx: &AdminContext, user: &str) -> Result<UserRecord, AdminError> {
    let (domain, name) = parse_user(user);
    ctx.store
        .user(&domain, &name)?
        .ok_or_else(|| AdminError::not_found(format!("user {domain}\\{name}")))
}

pub(super) fn show(ctx: &AdminContext, user: &str) -> HandlerResult {
    Ok(json!({"user": view(&find(ctx, user)?)}))
}

pub(super) async fn edit(ctx: &AdminContext, permit: &Permit, a: UserEditArgs) -> HandlerResult {
    let u = find(ctx, &a.user)?;
    update_fields(ctx, permit, &u, a.display_name, a.email).await?;
    show(ctx, &a.user)
}

pub(super) async fn set_status(
    ctx: &AdminContext,
    permit: &Permit,
    user: &str,
    enable: bool,
) -> HandlerResult {
    let u = find(ctx, user)?;
    let status = if enable {
        UserStatus::Active
    } else {
        UserStatus::Disabled
    };
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::SetUserStatus {
                domain: u.domain.clone(),
                name: u.name.clone(),
                status,
            }],
        )
        .await?;
    show(ctx, user)
}

pub(super) async fn delete(ctx: &AdminContext, permit: &Permit, user: &str) -> HandlerResult {
    delete_record(ctx, permit, &find(ctx, user)?).await
}

/// Deletes `u` with the request's audit record; shared with pending users.
pub(super) async fn delete_record(
    ctx: &AdminContext,
    permit: &Permit,
    u: &UserRecord,
) -> HandlerResult {
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::DeleteUser {
                domain: u.domain.clone(),
                name: u.name.clone(),
            }],
        )
        .await?;
    Ok(json!({"deleted": format!("{}\\{}", u.domain, u.name)}))
}

pub(super) async fn set_password(
    ctx: &AdminContext,
    permit: &Permit,
    a: SetPasswordArgs,
) -> HandlerResult {
    let u = find(ctx, &a.user)?;
    check_local(&u.domain)?;
    let pw = a.password.expose_str().unwrap_or_default().to_string();
    let hash = tokio::task::spawn_blocking(move || hash_from(Some(&pw), None))
        .await
        .map_err(|_| AdminError::invalid("hashing failed"))??
        .unwrap_or_default();
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::SetPasswordHash {
                domain: u.domain.clone(),
                name: u.name.clone(),
                hash,
            }],
        )
        .await?;
    Ok(json!({"user": format!("{}\\{}", u.domain, u.name), "password": "set"}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_errors_name_the_line() {
        let e = parse_import("a:$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1\nb:plain\n").unwrap_err();
        assert!(e.message.starts_with("line 2:"), "{}", e.message);
        let e = parse_import("# header\n\nnocolon\n").unwrap_err();
        assert!(e.message.starts_with("line 3:"), "{}", e.message);
        assert!(parse_import("").is_err());
    }
}
