use base64::Engine as _;
use serde_json::{Value, json};

use super::{AdminError, HandlerResult, Progress};
use crate::admin::authz::Permit;
use crate::admin::command::{DeleteDirectoryArgs, DirectoryArgs, SyncArgs};
use crate::admin::proto::ErrorCode;
use crate::admin::server::AdminContext;
use crate::directory::plan::Mode;
use crate::directory::spec::DirectorySpec;
use crate::model::Secret;
use crate::store::WriteOp;
use crate::store::directory::{DirectoryOp, DirectoryRecord};
use crate::sync::service::{SyncError, Trigger};
use crate::time::now_unix;

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
        "ca_certs": s.ca_certs,
        "bind_dn": s.bind_dn,
        "base_dns": s.base_dns,
        "user_filter": s.user_filter,
        "ous": s.ous,
        "attributes": s.attributes,
        "page_size": s.page_size,
        "connect_timeout_secs": s.connect_timeout_secs,
        "search_timeout_secs": s.search_timeout_secs,
        "schedule": s.schedule,
        "full_schedule": s.full_schedule,
        "disable_threshold_percent": s.disable_threshold_percent,
        "retention_days": s.retention_days,
        "bind_pool_size": s.bind_pool_size,
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
    put(&mut spec.ca_certs, a.ca_certs.as_ref());
    put(&mut spec.ous, a.ous.as_ref());
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
    spec
}

fn check_certs(ctx: &AdminContext, spec: &DirectorySpec) -> Result<(), AdminError> {
    for c in &spec.ca_certs {
        if ctx.store.cert(c)?.is_none() {
            return Err(AdminError::invalid(format!(
                "ca: no trusted certificate named {c} (see `gatehousectl cert list`)"
            )));
        }
    }
    Ok(())
}

pub(super) async fn add(ctx: &AdminContext, permit: &Permit, a: DirectoryArgs) -> HandlerResult {
    let spec = merge(
        DirectorySpec {
            name: a.name.clone(),
            ..DirectorySpec::default()
        },
        &a,
    );
    spec.validate()
        .map_err(|e| AdminError::invalid(e.to_string()))?;
    check_certs(ctx, &spec)?;
    let pw = a
        .bind_password
        .as_ref()
        .map(|p| Secret::from_text(p.expose_str().unwrap_or_default()))
        .unwrap_or_default();
    if pw.is_empty() {
        return Err(AdminError::invalid(
            "bind_password: required (--bind-password-file)",
        ));
    }
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::Directory(DirectoryOp::AddDirectory {
                spec: spec.clone(),
                bind_password: pw,
                created_by: permit.actor().name.clone(),
            })],
        )
        .await?;
    ctx.radius.invalidate_directories();
    show(ctx, &spec.name)
}

pub(super) async fn edit(ctx: &AdminContext, permit: &Permit, a: DirectoryArgs) -> HandlerResult {
    let current = find_directory(ctx, &a.name)?;
    if a.new_name
        .as_ref()
        .is_some_and(|n| !n.eq_ignore_ascii_case(&current.spec.name))
    {
        return Err(AdminError::invalid(
            "new_name: a directory's name is its users' domain and cannot change; delete and add it instead",
        ));
    }
    let spec = merge(current.spec.clone(), &a);
    spec.validate()
        .map_err(|e| AdminError::invalid(e.to_string()))?;
    check_certs(ctx, &spec)?;
    let bind_password = a
        .bind_password
        .as_ref()
        .map(|p| Secret::from_text(p.expose_str().unwrap_or_default()));
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::Directory(DirectoryOp::UpdateDirectory {
                current_name: current.spec.name.clone(),
                spec: spec.clone(),
                bind_password,
            })],
        )
        .await?;
    ctx.radius.invalidate_directories();
    show(ctx, &spec.name)
}

pub(super) fn list(ctx: &AdminContext, permit: &Permit) -> HandlerResult {
    let rights = &permit.actor().rights;
    let dirs: Vec<Value> = ctx
        .store
        .directories()?
        .iter()
        .filter(|d| rights.can_see_user(&d.spec.name, None))
        .map(|d| {
            let mut v = view(d);
            v["users"] = json!(ctx.store.domain_user_count(&d.spec.name).unwrap_or(0));
            v
        })
        .collect();
    Ok(json!({"directories": dirs}))
}

fn find_directory(ctx: &AdminContext, name: &str) -> Result<DirectoryRecord, AdminError> {
    ctx.store
        .directory(name)?
        .ok_or_else(|| AdminError::not_found(format!("directory {name}")))
}

pub(super) fn show(ctx: &AdminContext, name: &str) -> HandlerResult {
    let d = find_directory(ctx, name)?;
    let mut v = view(&d);
    v["users"] = json!(ctx.store.domain_user_count(&d.spec.name)?);
    Ok(json!({"directory": v}))
}

pub(super) fn status(ctx: &AdminContext, name: &str) -> HandlerResult {
    let d = find_directory(ctx, name)?;
    let runs = ctx.store.sync_runs(&d.spec.name, 20)?;
    let running = ctx.directories.progress(name).map(|p| {
        use std::sync::atomic::Ordering;
        json!({
            "entries": p.entries.load(Ordering::Relaxed),
            "pages": p.pages.load(Ordering::Relaxed),
            "started_at": p.started_at.load(Ordering::Relaxed),
        })
    });
    Ok(
        json!({"directory": d.spec.name, "running": running, "users": ctx.store.domain_user_count(&d.spec.name)?, "runs": runs}),
    )
}

pub(super) async fn test(ctx: &AdminContext, name: &str) -> HandlerResult {
    let report = ctx.directories.test(name).await.map_err(|e| match e {
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

pub(super) async fn preview(
    ctx: &AdminContext,
    a: &SyncArgs,
    progress: &Progress,
) -> HandlerResult {
    let mode = Some(if a.incremental {
        Mode::Incremental
    } else {
        Mode::Full
    });
    let report =
        |pages: u64, entries: u64| progress.send(json!({"pages": pages, "entries": entries}));
    let prepared = ctx
        .directories
        .prepare(&a.name, Trigger::Preview, mode, a.force, &report)
        .await?;
    Ok(plan_json(&prepared.plan, prepared.entries, false))
}

pub(super) async fn sync(
    ctx: &AdminContext,
    permit: &Permit,
    a: &SyncArgs,
    progress: &Progress,
) -> HandlerResult {
    let mode = Some(if a.incremental {
        Mode::Incremental
    } else {
        Mode::Full
    });
    let started = now_unix();
    let report =
        |pages: u64, entries: u64| progress.send(json!({"pages": pages, "entries": entries}));
    let mut prepared = match ctx
        .directories
        .prepare(&a.name, Trigger::Manual, mode, a.force, &report)
        .await
    {
        Ok(p) => p,
        Err(e) => {
            if !matches!(e, SyncError::NotFound(_) | SyncError::AlreadyRunning(_)) {
                ctx.directories
                    .record_failure(&a.name, Trigger::Manual, started, &e)
                    .await;
            }
            return Err(e.into());
        }
    };
    permit
        .commit(&ctx.store, std::mem::take(&mut prepared.ops))
        .await?;
    Ok(plan_json(&prepared.plan, prepared.entries, true))
}

pub(super) async fn delete(
    ctx: &AdminContext,
    permit: &Permit,
    a: &DeleteDirectoryArgs,
) -> HandlerResult {
    if !a.confirmed {
        return Err(AdminError::invalid(
            "deleting a directory removes all its users: confirm with --yes",
        ));
    }
    let count = ctx.store.domain_user_count(&a.name)?;
    permit.annotate("users_removed", json!(count));
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::Directory(DirectoryOp::DeleteDirectory {
                name: a.name.clone(),
            })],
        )
        .await?;
    ctx.radius.invalidate_directories();
    Ok(json!({"deleted": a.name, "users_removed": count}))
}

pub(super) fn decode_upload(b64: &str) -> Result<Vec<u8>, AdminError> {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| AdminError::invalid(format!("upload is not base64: {e}")))
}
