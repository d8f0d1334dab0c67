//! The only path from a request to a handler: identify, parse, load the target's facts,
//! decide, run, audit. Every request leaves exactly one audit record, allowed or denied,
//! with typed tags so that scoped readers find it.

use std::sync::Arc;

use serde_json::json;

use super::authz::{self, Actor, Denied, Gate, Rights, TargetFacts};
use super::command::Command;
use super::context::{AdminContext, AuditSlot, Call};
use super::facts;
use super::handlers::{self, AdminError, HandlerResult, Progress};
use super::proto::{ErrorCode, Request, Response};
use crate::audit::{AuditEvent, EventKind, Outcome, Tags};
use crate::model::scope::canonical_dn;
use crate::store::WriteOp;

/// Who `uid` is: a break-glass account, or the administrator bound to it (or, for a
/// break-glass account with `--as`, the administrator it acts as).
///
/// Break-glass accounts: uid 0 when `root_is_super_admin` is set, and the daemon's own
/// (non-root) account, which owns the store and key file anyway. Nothing else — in
/// particular not whoever owns the database file.
///
/// # Errors
/// A refusal fit to show the caller.
pub fn resolve_actor(ctx: &AdminContext, uid: u32, act_as: Option<&str>) -> Result<Actor, String> {
    let break_glass = if uid == 0 {
        ctx.identity()
            .root_is_super_admin
            .then(|| "root".to_string())
    } else if uid == ctx.daemon_uid {
        Some(ctx.daemon_account.clone())
    } else {
        None
    };
    let roles = ctx
        .roles()
        .map_err(|e| format!("role lookup failed: {e}"))?;
    let as_admin = |name: &str, via: String| -> Result<Actor, String> {
        let admin = ctx
            .store()
            .admin(name)
            .map_err(|e| format!("administrator lookup failed: {e}"))?
            .ok_or_else(|| format!("no administrator named {name}"))?;
        if !admin.enabled {
            return Err(format!("administrator {} is disabled", admin.name));
        }
        let rights = authz::role::effective(&*roles, &admin.role).map_err(|e| e.to_string())?;
        Ok(Actor {
            name: admin.name,
            admin_id: Some(admin.id),
            via,
            rights,
        })
    };
    match (break_glass, act_as) {
        (Some(who), None) => Ok(Actor {
            name: who.clone(),
            admin_id: None,
            via: who,
            rights: Rights::super_admin(),
        }),
        (Some(who), Some(other)) => as_admin(other, format!("{who} as {other}")),
        (None, Some(_)) => Err(format!(
            "uid {uid}: only a break-glass account may act as another administrator (--as)"
        )),
        (None, None) => {
            let admin = ctx
                .store()
                .admin_by_uid(uid)
                .map_err(|e| format!("administrator lookup failed: {e}"))?
                .ok_or_else(|| format!("uid {uid} is not an administrator"))?;
            let name = admin.name.clone();
            as_admin(&name, format!("{name} (uid {uid})"))
        }
    }
}

/// The typed tags of an admin request's audit record: what it touches and where.
fn tags_for(command: &Command, facts: &TargetFacts, actor: &Actor) -> Tags {
    let mut tags = Tags {
        admin_id: actor.admin_id,
        ..Tags::default()
    };
    if let Some(subject) = command.audit_subject() {
        tags.target_kind = Some(subject.kind.to_string());
        tags.target_id = Some(subject.id);
        tags.domain = subject.domain;
        tags.site = subject.site;
    }
    if let Some(site) = &facts.site {
        tags.site = Some(site.clone());
    }
    if let Some(domain) = &facts.domain {
        tags.domain = Some(domain.clone());
    }
    tags.ou = facts.ou_path.as_deref().and_then(canonical_dn);
    tags
}

fn denied_code(denied: &Denied) -> ErrorCode {
    match denied {
        Denied::OutOfScope { .. } | Denied::NotFound { .. } => ErrorCode::NotFound,
        _ => ErrorCode::PermissionDenied,
    }
}

/// Handles one request.
pub async fn dispatch(
    ctx: &Arc<AdminContext>,
    uid: u32,
    req: Request,
    progress: Progress,
) -> Response {
    let id = req.id;
    let mut event = AuditEvent {
        time_micros: ctx.clock.now_micros(),
        kind: EventKind::AdminRequest,
        actor: format!("uid {uid}"),
        operation: req.op.clone(),
        target: String::new(),
        outcome: Outcome::Denied,
        detail: "{}".into(),
        tags: Tags::default(),
    };
    let actor = match resolve_actor(ctx, uid, req.act_as.as_deref()) {
        Ok(a) => a,
        Err(why) => {
            event.detail = json!({"reason": why}).to_string();
            record(ctx, event).await;
            return Response::err(id, ErrorCode::PermissionDenied, why);
        }
    };
    event.actor = actor.via.clone();
    event.tags.admin_id = actor.admin_id;
    let command = match Command::parse(&req.op, req.args) {
        Ok(c) => c,
        Err(e) => {
            event.outcome = Outcome::Failed;
            event.detail = json!({"reason": e.0}).to_string();
            record(ctx, event).await;
            return Response::err(id, ErrorCode::InvalidArgument, e.0);
        }
    };
    event.operation = command.name().to_string();
    event.target = command.audit_target();
    let detail = command.audit_detail();
    // Records the RADIUS path queued without waiting (audit rows, logins) must be visible
    // to what this request reads.
    if let Err(e) = ctx.store().settle().await {
        tracing::error!(error = %e, "settling queued writes failed");
        return Response::err(id, ErrorCode::Internal, "the store is unavailable");
    }
    let roles = match ctx.roles() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "loading roles failed");
            return Response::err(id, ErrorCode::Internal, "the store is unavailable");
        }
    };
    let gate = Gate {
        lockdown: ctx.locked_down(),
        roles: &roles,
    };
    let requirement = command.requirement();
    // Under lockdown nothing about the target is read for someone who will be refused.
    let facts = if authz::admits(&actor, &gate).is_err() {
        Ok(TargetFacts::default())
    } else {
        facts::target_facts(ctx, &actor, &command, &requirement.target, &roles)
    };
    let facts = match facts {
        Ok(f) => f,
        Err(e) => {
            event.outcome = Outcome::Failed;
            event.detail = json!({"request": detail, "error": e.message}).to_string();
            record(ctx, event).await;
            return Response::err(id, e.code, e.message);
        }
    };
    event.tags = tags_for(&command, &facts, &actor);
    let authorized = match authz::decide(&actor, command, &facts, &gate) {
        Ok(a) => a,
        Err(denied) => {
            event.detail = json!({"request": detail, "reason": denied.audit_reason()}).to_string();
            record(ctx, event).await;
            return Response::err(id, denied_code(&denied), denied.to_string());
        }
    };
    event.outcome = Outcome::Allowed;
    event.detail = detail.to_string();
    let slot = Arc::new(AuditSlot::new(event));
    let (command, permit) = authorized.into_parts();
    let result = if command.is_read() {
        run_read(ctx, command, permit, Arc::clone(&slot), progress, facts).await
    } else {
        let call = Call {
            ctx,
            permit,
            audit: &slot,
            progress: &progress,
            facts,
        };
        handlers::run(command, &call).await
    };
    let committed = match slot.take() {
        Some(mut left) => {
            if let Err(e) = &result {
                left.outcome = Outcome::Failed;
                left.detail = json!({"request": detail, "error": e.message}).to_string();
            }
            record(ctx, left).await;
            false
        }
        // The audit record left with a commit: the change is made, whatever came after.
        None => true,
    };
    match result {
        Ok(value) => Response::ok(id, value),
        // The caller is told about the commit, never "failed" for a change that was made:
        // only showing the result went wrong.
        Err(e) if committed => Response::ok(
            id,
            json!({"warnings": [format!("done; showing the result failed: {}", e.message)]}),
        ),
        Err(e) => Response::err(id, e.code, e.message),
    }
}

/// Runs a reading command on the blocking pool, a few at a time: large reads (a long
/// user list, the whole audit chain) must not hold up the runtime RADIUS runs on.
async fn run_read(
    ctx: &Arc<AdminContext>,
    command: Command,
    permit: authz::Permit,
    slot: Arc<AuditSlot>,
    progress: Progress,
    facts: TargetFacts,
) -> HandlerResult {
    let Ok(_turn) = ctx.readers.acquire().await else {
        return Err(AdminError::internal("the daemon is stopping"));
    };
    let ctx = Arc::clone(ctx);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let call = Call {
            ctx: &ctx,
            permit,
            audit: &slot,
            progress: &progress,
            facts,
        };
        runtime.block_on(handlers::run(command, &call))
    })
    .await
    .unwrap_or_else(|_| {
        Err(AdminError::internal(
            "the request failed (see the daemon log)",
        ))
    })
}

/// Writes an audit record durably before the reply that follows it.
pub(super) async fn record(ctx: &AdminContext, event: AuditEvent) {
    event.log();
    if let Err(e) = ctx.store().write(vec![WriteOp::Audit(event)]).await {
        tracing::error!(error = %e, "audit record not written");
    }
}
