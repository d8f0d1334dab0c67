use serde_json::{Value, json};

use super::HandlerResult;
use crate::admin::authz::{ComputerScope, Permit, Rights, UserScope};
use crate::admin::command::AuditListArgs;
use crate::admin::server::AdminContext;
use crate::audit::ChainedRecord;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether a scoped administrator may see this record: their own actions, and events
/// whose target (or, for authentication decisions, whose RADIUS client) is in scope.
fn visible(ctx: &AdminContext, rights: &Rights, me: &str, r: &ChainedRecord) -> bool {
    let e = &r.event;
    if e.actor == me
        || e.actor.ends_with(&format!(" as {me}"))
        || e.actor.starts_with(&format!("{me} ("))
    {
        return true;
    }
    let client_site = |name: &str| {
        ctx.store
            .client(name)
            .ok()
            .flatten()
            .is_some_and(|c| rights.can_see_site(&c.site))
    };
    if let Some(client) = e.actor.strip_prefix("radius:") {
        return client_site(client);
    }
    match e.target.split_once(':') {
        Some(("client", name)) => client_site(name),
        Some(("site", name)) => rights.can_see_site(name),
        Some(("directory" | "domain", name)) => rights.can_see_user(name, None),
        Some(("user", who)) => {
            let (d, n) = crate::admin::command::parse_user(who);
            match ctx.store.user(&d, &n).ok().flatten() {
                Some(u) => rights.can_see_user(&u.domain, u.ou_path.as_deref()),
                // A user that no longer exists: visible only with the whole domain in scope.
                None => rights.can_see_user(&d, None),
            }
        }
        _ => false,
    }
}

pub(super) fn list(ctx: &AdminContext, permit: &Permit, a: &AuditListArgs) -> HandlerResult {
    let limit = a.limit.unwrap_or(50).min(10_000);
    let rights = &permit.actor().rights;
    let global = rights.user_scope == UserScope::Everything
        && rights.computer_scope == ComputerScope::Everything;
    let records: Vec<ChainedRecord> = if global {
        ctx.store.audit_records(limit, a.operation.as_deref())?
    } else {
        // Scoped readers: a wider window, cut down to what they may see.
        ctx.store
            .audit_records(limit.saturating_mul(20), a.operation.as_deref())?
            .into_iter()
            .filter(|r| visible(ctx, rights, &permit.actor().name, r))
            .take(limit as usize)
            .collect()
    };
    let rows: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "seq": r.seq,
                "time_micros": r.event.time_micros,
                "kind": r.event.kind,
                "actor": r.event.actor,
                "operation": r.event.operation,
                "target": r.event.target,
                "outcome": r.event.outcome,
                "detail": serde_json::from_str::<Value>(&r.event.detail).unwrap_or(Value::String(r.event.detail.clone())),
                "hash": hex(&r.hash),
            })
        })
        .collect();
    Ok(json!({"records": rows}))
}

pub(super) fn verify(ctx: &AdminContext) -> HandlerResult {
    match ctx.store.verify_audit()? {
        Ok(count) => Ok(json!({"intact": true, "records": count})),
        Err(b) => Err(super::AdminError {
            code: crate::admin::proto::ErrorCode::Conflict,
            message: format!("audit chain broken: {b}"),
        }),
    }
}
