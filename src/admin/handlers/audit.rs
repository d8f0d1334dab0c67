//! The audit log: listed newest first, filtered and cut to the reader's scope in the query
//! (typed columns, see `store::scoped`), and verified end to end.

use serde_json::{Value, json};

use super::{AdminError, HandlerResult};
use crate::admin::command::AuditListArgs;
use crate::admin::context::Call;
use crate::audit::ChainedRecord;
use crate::audit::Outcome;
use crate::model::UserRef;
use crate::store::scoped::AuditFilter;

/// Most records one list returns.
const MAX_LIST: u32 = 10_000;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn filter(a: &AuditListArgs) -> Result<AuditFilter, AdminError> {
    let limit = a.limit.unwrap_or(50);
    if limit > MAX_LIST {
        return Err(AdminError::invalid(format!(
            "limit: at most {MAX_LIST} records at a time (narrow with --since/--until)"
        )));
    }
    if let Some(o) = &a.outcome
        && !Outcome::ALL.iter().any(|x| x.as_str() == o)
    {
        let all: Vec<&str> = Outcome::ALL.iter().map(|x| x.as_str()).collect();
        return Err(AdminError::invalid(format!(
            "outcome `{o}`: one of {}",
            all.join(", ")
        )));
    }
    let user = match &a.user {
        Some(u) => {
            let r = UserRef::parse(u).map_err(|e| AdminError::invalid(format!("user: {e}")))?;
            Some((r.domain().map(str::to_string), r.name().to_string()))
        }
        None => None,
    };
    let micros = |s: i64| s.saturating_mul(1_000_000);
    Ok(AuditFilter {
        limit,
        operation: a.operation.clone(),
        user,
        client: a.client.clone(),
        outcome: a.outcome.clone(),
        since_micros: a.since.map(micros),
        until_micros: a.until.map(micros),
    })
}

fn row(r: &ChainedRecord) -> Value {
    let e = &r.event;
    let tags = e.tags.clone().unwrap_or_default();
    json!({
        "seq": r.seq,
        "time_micros": e.time_micros,
        "kind": e.kind,
        "actor": e.actor,
        "operation": e.operation,
        "target": e.target,
        "outcome": e.outcome,
        "detail": serde_json::from_str::<Value>(&e.detail).unwrap_or(Value::String(e.detail.clone())),
        "tags": {
            "admin_id": tags.admin_id,
            "target_kind": tags.target_kind,
            "target_id": tags.target_id,
            "site": tags.site,
            "domain": tags.domain,
            "ou": tags.ou,
            "client": tags.client,
            "reason": tags.reason,
        },
        "hash": hex(&r.hash),
    })
}

pub(super) fn list(call: &Call<'_>, a: &AuditListArgs) -> HandlerResult {
    let filter = filter(a)?;
    let records = call.read().audit(&filter)?;
    let more = records.len() as u64 == u64::from(filter.limit);
    let rows: Vec<Value> = records.iter().map(row).collect();
    Ok(json!({"records": rows, "more": more}))
}

pub(super) fn verify(call: &Call<'_>) -> HandlerResult {
    match call.read().verify_audit()? {
        Ok(count) => Ok(json!({"intact": true, "records": count})),
        Err(b) => Err(AdminError::conflict(format!("audit chain broken: {b}"))),
    }
}
