use serde_json::{Value, json};

use super::HandlerResult;
use crate::admin::authz::Permit;
use crate::admin::command::AuditListArgs;
use crate::admin::server::AdminContext;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(super) fn list(ctx: &AdminContext, _permit: &Permit, a: &AuditListArgs) -> HandlerResult {
    let records = ctx
        .store
        .audit_records(a.limit.unwrap_or(50).min(10_000), a.operation.as_deref())?;
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
