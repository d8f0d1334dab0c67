//! Directory connections and their syncs.
//!
//! The stored bind password only ever goes where it was given for: changing where a
//! directory connects (its URLs, TLS, trusted CAs or bind DN) needs the bind password
//! again, so that nobody who may edit a directory can point it at their own server and
//! collect the password. `ldap://` without StartTLS is refused unless accepted with
//! `--insecure-plaintext`, and then warned about.

use base64::Engine as _;
use serde_json::{Value, json};

use super::{AdminError, HandlerResult};
use crate::admin::command::{DeleteDirectoryArgs, DirectoryArgs, SyncArgs};
use crate::admin::context::Call;
use crate::admin::proto::ErrorCode;
use crate::directory::plan::Mode;
use crate::directory::spec::DirectorySpec;
use crate::model::Secret;
use crate::store::WriteOp;
use crate::store::directory::{DirectoryOp, DirectoryRecord};
use crate::sync::service::{SyncError, Trigger};

impl From<SyncError> for AdminError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::NotFound(n) => AdminError::not_found(format!("directory {n}")),
            SyncError::Store(s) => s.into(),
            SyncError::AlreadyRunning(_) | SyncError::Plan(_) => AdminError {
                code: ErrorCode::Conflict,
                message: e.to_string(),
            },
            SyncError::UnknownCert(_) => AdminError::invalid(e.to_string()),
            other => AdminError {
                code: ErrorCode::Internal,
                message: other.to_string(),
            },
        }
    }
}

fn view(d: &DirectoryRecord) -> Value {
    let s = &d.spec;
    json!({
        "name": s.name,
        "urls": s.urls,
        "starttls": s.starttls,
        "insecure_plaintext": s.insecure_plaintext,
        "ca_certs": s.ca_certs,
        "bind_dn": s.bind_dn,
        "base_dns": s.base_dns,
        "user_filter": s.user_filter,
        "ous": s.ous,
        "upn_suffixes": s.upn_suffixes,
        "attributes": s.attributes,
        "page_size": s.page_size,
        "connect_timeout_secs": s.connect_timeout_secs,
        "search_timeout_secs": s.search_timeout_secs,
        "schedule": s.schedule,
        "full_schedule": s.full_schedule,
        "disable_threshold_percent": s.disable_threshold_percent,
        "retention_days": s.retention_days,
        "bind_pool_size": s.bind_pool_size,
        "group_base_dn": s.group_base_dn,
        "group_filter": s.group_filter,
        "group_member_attribute": s.group_member_attribute,
        "nested_groups": s.nested_groups,
        "high_water": d.high_water,
        "last_full_at": d.last_full_at,
        "created_by": d.created_by,
    })
}

/// Applies the given fields onto `spec`.
fn merge(mut spec: DirectorySpec, a: &DirectoryArgs) -> DirectorySpec {
    fn put<T: Clone>(dst: &mut T, src: Option<&T>) {
        if let Some(v) = src {
            dst.clone_from(v);
        }
    }
    put(&mut spec.urls, a.urls.as_ref());
    put(&mut spec.bind_dn, a.bind_dn.as_ref());
    put(&mut spec.base_dns, a.base_dns.as_ref());
    put(&mut spec.user_filter, a.user_filter.as_ref());
    put(&mut spec.attributes.username, a.username_attribute.as_ref());
    put(&mut spec.attributes.email, a.email_attribute.as_ref());
    put(
        &mut spec.attributes.display_name,
        a.display_name_attribute.as_ref(),
    );
    put(&mut spec.attributes.groups, a.groups_attribute.as_ref());
    put(&mut spec.attributes.disabled, a.disabled_flag.as_ref());
    put(&mut spec.starttls, a.starttls.as_ref());
    put(&mut spec.insecure_plaintext, a.insecure_plaintext.as_ref());
    put(&mut spec.ca_certs, a.ca_certs.as_ref());
    put(&mut spec.ous, a.ous.as_ref());
    put(&mut spec.upn_suffixes, a.upn_suffixes.as_ref());
    put(&mut spec.page_size, a.page_size.as_ref());
    put(
        &mut spec.connect_timeout_secs,
        a.connect_timeout_secs.as_ref(),
    );
    put(
        &mut spec.search_timeout_secs,
        a.search_timeout_secs.as_ref(),
    );
    put(&mut spec.full_schedule, a.full_schedule.as_ref());
    put(
        &mut spec.disable_threshold_percent,
        a.disable_threshold_percent.as_ref(),
    );
    put(&mut spec.retention_days, a.retention_days.as_ref());
    put(&mut spec.bind_pool_size, a.bind_pool_size.as_ref());
    if let Some(v) = &a.schedule {
        spec.schedule = (!v.is_empty() && v != "manual").then(|| v.clone());
    }
    if let Some(v) = &a.group_base_dn {
        spec.group_base_dn = (!v.trim().is_empty()).then(|| v.clone());
    }
    put(&mut spec.group_filter, a.group_filter.as_ref());
    put(
        &mut spec.group_member_attribute,
        a.group_member_attribute.as_ref(),
    );
    put(&mut spec.nested_groups, a.nested_groups.as_ref());
    spec
}

/// The spec's named CAs exist, and its UPN suffixes are no other directory's suffix or
/// name.
fn check_spec(call: &Call<'_>, spec: &DirectorySpec) -> Result<(), AdminError> {
    spec.validate()
        .map_err(|e| AdminError::invalid(e.to_string()))?;
    let read = call.read();
    for c in &spec.ca_certs {
        if read.cert(c)?.is_none() {
            return Err(AdminError::invalid(format!(
                "ca: no trusted certificate named {c} (see `gatehousectl cert list`)"
            )));
        }
    }
    for other in read.all_directories()? {
        if other.spec.name.eq_ignore_ascii_case(&spec.name) {
            continue;
        }
        for suffix in &spec.upn_suffixes {
            if other.spec.name.eq_ignore_ascii_case(suffix)
                || other
                    .spec
                    .upn_suffixes
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(suffix))
            {
                return Err(AdminError::conflict(format!(
                    "upn_suffix: {suffix} already names another directory"
                )));
            }
        }
    }
    Ok(())
}

fn bind_password(a: &DirectoryArgs) -> Option<Secret> {
    a.bind_password
        .as_ref()
        .map(|p| Secret::from_text(p.expose_str().unwrap_or_default()))
        .filter(|p| !p.is_empty())
}

fn shown(call: &Call<'_>, d: &DirectoryRecord) -> Result<Value, AdminError> {
    let mut v = view(d);
    v["users"] = json!(call.read().domain_user_count(&d.spec.name)?);
    Ok(v)
}

fn find_directory(call: &Call<'_>, name: &str) -> Result<DirectoryRecord, AdminError> {
    call.read()
        .directory(name)?
        .ok_or_else(|| AdminError::not_found(format!("directory {name}")))
}

pub(super) fn show(call: &Call<'_>, name: &str) -> HandlerResult {
    let d = find_directory(call, name)?;
    Ok(json!({"directory": shown(call, &d)?, "warnings": d.spec.warnings()}))
}

pub(super) async fn add(call: &Call<'_>, a: DirectoryArgs) -> HandlerResult {
    let spec = merge(
        DirectorySpec {
            name: a.name.clone(),
            ..DirectorySpec::default()
        },
        &a,
    );
    check_spec(call, &spec)?;
    let Some(pw) = bind_password(&a) else {
        return Err(AdminError::invalid(
            "bind_password: required (--bind-password-file)",
        ));
    };
    call.commit(vec![WriteOp::Directory(DirectoryOp::AddDirectory {
        spec: spec.clone(),
        bind_password: pw,
        created_by: call.actor_name().to_string(),
    })])
    .await?;
    show(call, &spec.name)
}

pub(super) async fn edit(call: &Call<'_>, a: DirectoryArgs) -> HandlerResult {
    let current = find_directory(call, &a.name)?;
    if a.new_name
        .as_ref()
        .is_some_and(|n| !n.eq_ignore_ascii_case(&current.spec.name))
    {
        return Err(AdminError::invalid(
            "new_name: a directory's name is its users' domain and cannot change; delete and add it instead",
        ));
    }
    let spec = merge(current.spec.clone(), &a);
    check_spec(call, &spec)?;
    let bind_password = bind_password(&a);
    let old = &current.spec;
    let moved = spec.urls != old.urls
        || spec.starttls != old.starttls
        || spec.ca_certs != old.ca_certs
        || spec.bind_dn != old.bind_dn;
    if moved && bind_password.is_none() {
        return Err(AdminError::invalid(
            "bind_password: changing where the directory connects (--url, --starttls, --ca, --bind-dn) needs the bind password again (--bind-password-file)",
        ));
    }
    call.commit(vec![WriteOp::Directory(DirectoryOp::UpdateDirectory {
        current_name: current.spec.name.clone(),
        spec: spec.clone(),
        bind_password,
    })])
    .await?;
    show(call, &spec.name)
}

pub(super) fn list(call: &Call<'_>) -> HandlerResult {
    let read = call.read();
    let dirs: Vec<Value> = read
        .directories()?
        .iter()
        .map(|d| shown(call, d))
        .collect::<Result<_, _>>()?;
    Ok(json!({"directories": dirs}))
}

pub(super) fn status(call: &Call<'_>, name: &str) -> HandlerResult {
    let d = find_directory(call, name)?;
    let read = call.read();
    let runs = read.sync_runs(&d.spec.name, 20)?;
    let running = call.sync().progress(name).map(|p| {
        use std::sync::atomic::Ordering;
        json!({
            "entries": p.entries.load(Ordering::Relaxed),
            "pages": p.pages.load(Ordering::Relaxed),
            "started_at": p.started_at.load(Ordering::Relaxed),
        })
    });
    Ok(json!({
        "warnings": d.spec.warnings(),
        "directory": d.spec.name,
        "running": running,
        "users": read.domain_user_count(&d.spec.name)?,
        "runs": runs,
    }))
}

pub(super) async fn test(call: &Call<'_>, name: &str) -> HandlerResult {
    let report = call.sync().test(name).await.map_err(|e| match e {
        SyncError::NotFound(_) | SyncError::Store(_) => AdminError::from(e),
        other => AdminError {
            code: ErrorCode::Internal,
            message: format!("directory test failed: {other}"),
        },
    })?;
    Ok(json!({"test": report, "ok": true}))
}

fn plan_json(p: &crate::directory::plan::SyncPlan, entries: usize, applied: bool) -> Value {
    json!({
        "mode": p.mode,
        "entries": entries,
        "counts": p.counts,
        "changes": p.changes,
        "duplicates": p.duplicates,
        "applied": applied,
    })
}

fn mode(a: &SyncArgs) -> Option<Mode> {
    Some(if a.incremental {
        Mode::Incremental
    } else {
        Mode::Full
    })
}

/// What a sync would do; with `force`, what a forced one would (past the threshold).
pub(super) async fn preview(call: &Call<'_>, a: &SyncArgs) -> HandlerResult {
    let report =
        |pages: u64, entries: u64| call.progress(json!({"pages": pages, "entries": entries}));
    let prepared = call
        .sync()
        .prepare(&a.name, Trigger::Preview, mode(a), a.force, &report)
        .await?;
    Ok(plan_json(&prepared.plan, prepared.entries, false))
}

pub(super) async fn sync(call: &Call<'_>, a: &SyncArgs) -> HandlerResult {
    let report =
        |pages: u64, entries: u64| call.progress(json!({"pages": pages, "entries": entries}));
    let mut prepared = call
        .sync()
        .prepare_run(&a.name, Trigger::Manual, mode(a), a.force, &report)
        .await?;
    call.commit(std::mem::take(&mut prepared.ops)).await?;
    Ok(plan_json(&prepared.plan, prepared.entries, true))
}

pub(super) async fn delete(call: &Call<'_>, a: &DeleteDirectoryArgs) -> HandlerResult {
    if !a.confirmed {
        return Err(AdminError::invalid(
            "deleting a directory removes all its users: confirm with --yes",
        ));
    }
    let count = call.read().domain_user_count(&a.name)?;
    call.annotate("users_removed", json!(count));
    call.commit(vec![WriteOp::Directory(DirectoryOp::DeleteDirectory {
        name: a.name.clone(),
    })])
    .await?;
    Ok(json!({"deleted": a.name, "users_removed": count}))
}

pub(super) fn decode_upload(b64: &str) -> Result<Vec<u8>, AdminError> {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| AdminError::invalid(format!("upload is not base64: {e}")))
}
