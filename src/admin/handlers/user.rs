use serde_json::{Value, json};

use super::{AdminError, HandlerResult};
use crate::admin::command::{
    SetPasswordArgs, UserAddArgs, UserEditArgs, UserImportArgs, UserListArgs, parse_user,
};
use crate::admin::context::Call;
use crate::auth::password;
use crate::model::names;
use crate::model::{LOCAL_DOMAIN, NewUser, UserChanges, UserRecord, UserStatus};
use crate::store::WriteOp;

const MAX_IMPORT: usize = 1_000_000;

/// Most users one list returns; `--offset` pages through the rest.
pub(super) const MAX_LIST: u32 = 10_000;
/// Users a list returns when no limit is given.
const DEFAULT_LIST: u32 = 1_000;

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

/// A local user's name: NFC, no surrounding spaces, no control or invisible characters,
/// none of `\\`, `@` or `:` (they separate domains and import fields).
fn check_user_name(name: &str) -> Result<String, AdminError> {
    Ok(names::normalise("user", name, 253, &['\\', '@', ':'])?)
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

pub(super) async fn add(call: &Call<'_>, a: UserAddArgs) -> HandlerResult {
    let (domain, name) = parse_user(&a.user);
    check_local(&domain)?;
    let name = check_user_name(&name)?;
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
    call.commit(vec![WriteOp::AddUsers {
        users: vec![user],
        created_by: call.actor_name().to_string(),
    }])
    .await?;
    let u = call
        .read()
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
        let name = check_user_name(name.trim())
            .map_err(|e| AdminError::invalid(format!("line {n}: {}", e.message)))?;
        password::check_hash(hash.trim())
            .map_err(|e| AdminError::invalid(format!("line {n}: {e}")))?;
        if !seen.insert(names::key(&name)) {
            return Err(AdminError::invalid(format!(
                "line {n}: user {name} appears twice (or looks like another line's)"
            )));
        }
        out.push((name, hash.trim().to_string()));
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

pub(super) async fn import(call: &Call<'_>, a: UserImportArgs) -> HandlerResult {
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
    commit_imported(call, users).await
}

/// Adds imported `users` in one job with the request's audit record; shared with the
/// pending-user import.
pub(super) async fn commit_imported(call: &Call<'_>, users: Vec<NewUser>) -> HandlerResult {
    let count = users.len();
    call.commit(vec![WriteOp::AddUsers {
        users,
        created_by: call.actor_name().to_string(),
    }])
    .await?;
    Ok(json!({"imported": count}))
}

pub(super) fn list(call: &Call<'_>, a: &UserListArgs) -> HandlerResult {
    let limit = a.limit.unwrap_or(DEFAULT_LIST);
    if limit > MAX_LIST {
        return Err(AdminError::invalid(format!(
            "limit: at most {MAX_LIST} users at a time (page with --offset)"
        )));
    }
    let offset = a.offset.unwrap_or(0);
    let (users, total) = call.read().users(a.domain.as_deref(), limit, offset)?;
    let shown = users.len();
    let users: Vec<Value> = users.iter().map(view).collect();
    Ok(json!({
        "users": users,
        "total": total,
        "offset": offset,
        "more": u64::from(offset) + (shown as u64) < total,
    }))
}

/// Changes a user's descriptive fields (shared by `user edit` and `pending update`).
pub(super) async fn update_fields(
    call: &Call<'_>,
    u: &UserRecord,
    display_name: Option<String>,
    email: Option<String>,
) -> Result<(), AdminError> {
    if display_name.is_none() && email.is_none() {
        return Err(AdminError::invalid(
            "nothing to change: give --display-name or --email",
        ));
    }
    call.commit(vec![WriteOp::UpdateUser {
        domain: u.domain.clone(),
        name: u.name.clone(),
        changes: UserChanges {
            display_name,
            email,
        },
    }])
    .await?;
    Ok(())
}

pub(super) fn find(call: &Call<'_>, user: &str) -> Result<UserRecord, AdminError> {
    let (domain, name) = parse_user(user);
    call.read()
        .user(&domain, &name)?
        .ok_or_else(|| AdminError::not_found(format!("user {domain}\\{name}")))
}

pub(super) fn show(call: &Call<'_>, user: &str) -> HandlerResult {
    let u = find(call, user)?;
    let read = call.read();
    let mut v = view(&u);
    v["groups"] = json!(u.groups);
    let lock = read.lock_state(u.id)?;
    let now = call.clock().now_unix();
    v["lockout"] = json!({
        "failures": lock.failures,
        "locked": lock.locked_at(now),
        "locked_until": lock.locked_until.filter(|t| lock.locked_at(now) && *t < i64::MAX),
    });
    if let Ok(snapshot) = read.policy_snapshot() {
        let (policy, via) = snapshot.set.user_policy(&u);
        v["user_policy"] = json!(policy.name);
        v["user_policy_via"] = json!(via.map_or_else(
            || "default".to_string(),
            |a| format!(
                "{} {} (priority {})",
                a.subject.kind(),
                a.subject.display(),
                a.priority
            )
        ));
    }
    Ok(json!({ "user": v }))
}

/// Clears a user's failed-login count and lock, and an administrator's lock.
pub(super) async fn unlock(call: &Call<'_>, user: &str) -> HandlerResult {
    let u = find(call, user)?;
    call.commit(vec![WriteOp::Policy(
        crate::store::policy::PolicyOp::Unlock { user_id: u.id },
    )])
    .await?;
    show(call, user)
}

pub(super) async fn edit(call: &Call<'_>, a: UserEditArgs) -> HandlerResult {
    let u = find(call, &a.user)?;
    update_fields(call, &u, a.display_name, a.email).await?;
    show(call, &a.user)
}

pub(super) async fn set_status(call: &Call<'_>, user: &str, enable: bool) -> HandlerResult {
    let u = find(call, user)?;
    let status = if enable {
        UserStatus::Active
    } else {
        UserStatus::Disabled
    };
    set_user_status(call, &u, status).await?;
    show(call, user)
}

/// Sets a user's status with the request's audit record; shared with pending users.
pub(super) async fn set_user_status(
    call: &Call<'_>,
    u: &UserRecord,
    status: UserStatus,
) -> Result<(), AdminError> {
    call.commit(vec![WriteOp::SetUserStatus {
        domain: u.domain.clone(),
        name: u.name.clone(),
        status,
    }])
    .await?;
    Ok(())
}

pub(super) async fn delete(call: &Call<'_>, user: &str) -> HandlerResult {
    delete_record(call, &find(call, user)?).await
}

/// Deletes `u` with the request's audit record; shared with pending users.
pub(super) async fn delete_record(call: &Call<'_>, u: &UserRecord) -> HandlerResult {
    call.commit(vec![WriteOp::DeleteUser {
        domain: u.domain.clone(),
        name: u.name.clone(),
    }])
    .await?;
    Ok(json!({"deleted": format!("{}\\{}", u.domain, u.name)}))
}

pub(super) async fn set_password(call: &Call<'_>, a: SetPasswordArgs) -> HandlerResult {
    let u = find(call, &a.user)?;
    check_local(&u.domain)?;
    let pw = a.password.expose_str().unwrap_or_default().to_string();
    let hash = tokio::task::spawn_blocking(move || hash_from(Some(&pw), None))
        .await
        .map_err(|_| AdminError::invalid("hashing failed"))??
        .unwrap_or_default();
    call.commit(vec![WriteOp::SetPasswordHash {
        domain: u.domain.clone(),
        name: u.name.clone(),
        hash,
    }])
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
