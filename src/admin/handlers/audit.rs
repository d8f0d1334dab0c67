use std::collections::HashMap;

use serde_json::{Value, json};

use super::HandlerResult;
use crate::admin::authz::{Permit, Rights};
use crate::admin::command::AuditListArgs;
use crate::admin::server::AdminContext;
use crate::audit::ChainedRecord;
use crate::model::{ComputerScope, UserScope};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether a scoped administrator may see this record: their own actions, and events
/// whose target (or, for authentication decisions, whose RADIUS client) is in scope.
/// Decides which records a scoped administrator may see: their own actions, and events
/// whose target (or, for authentication decisions, whose RADIUS client) is in scope.
/// Client sites come from the live client table and user lookups are remembered, so a
/// long window costs one read per distinct user, not one per record.
struct Visibility<'a> {
    ctx: &'a AdminContext,
    rights: &'a Rights,
    me: &'a str,
    client_sites: HashMap<String, String>,
    users: HashMap<String, bool>,
}

impl<'a> Visibility<'a> {
    fn new(ctx: &'a AdminContext, rights: &'a Rights, me: &'a str) -> Self {
        let client_sites = ctx
            .radius
            .clients()
            .iter()
            .map(|c| (c.name.clone(), c.site.clone()))
            .collect();
        Self {
            ctx,
            rights,
            me,
            client_sites,
            users: HashMap::new(),
        }
    }

    fn client(&self, name: &str) -> bool {
        self.client_sites
            .get(name)
            .is_some_and(|site| self.rights.can_see_site(site))
    }

    fn user(&mut self, who: &str) -> bool {
        if let Some(v) = self.users.get(who) {
            return *v;
        }
        let (d, n) = crate::admin::command::parse_user(who);
        let v = match self.ctx.store.user(&d, &n).ok().flatten() {
            Some(u) => self.rights.can_see_user(&u.domain, u.ou_path.as_deref()),
            // A user that no longer exists: visible only with the whole domain in scope.
            None => self.rights.can_see_user(&d, None),
        };
        self.users.insert(who.to_string(), v);
        v
    }

    fn record(&mut self, r: &ChainedRecord) -> bool {
        let e = &r.event;
        let me = self.me;
        if e.actor == me
            || e.actor.ends_with(&format!(" as {me}"))
            || e.actor.starts_with(&format!("{me} ("))
        {
            return true;
        }
        if let Some(client) = e.actor.strip_prefix("radius:") {
            return self.client(client);
        }
        match e.target.split_once(':') {
            Some(("client", name)) => self.client(name),
            Some(("site", name)) => self.rights.can_see_site(name),
            Some(("directory" | "domain", name)) => self.rights.can_see_user(name, None),
            Some(("user", who)) => self.user(who),
            _ => false,
        }
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
        let mut seen = Visibility::new(ctx, rights, &permit.actor().name);
        ctx.store
            .audit_records(limit.saturating_mul(20), a.operation.as_deref())?
            .into_iter()
            .filter(|r| seen.record(r))
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
