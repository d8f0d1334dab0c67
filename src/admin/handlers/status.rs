use serde_json::json;

use super::HandlerResult;
use crate::admin::authz::Permit;
use crate::admin::server::AdminContext;

pub(super) fn status(ctx: &AdminContext, permit: &Permit) -> HandlerResult {
    let rights = &permit.actor().rights;
    let table = ctx.radius.clients();
    let mut clients: Vec<_> = table
        .iter()
        .filter(|c| rights.can_see_site(&c.site))
        .map(|c| json!({"name": c.name, "site": c.site, "counters": c.counters.snapshot()}))
        .collect();
    clients.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let users = ctx.store.user_counts()?;
    let mut warnings = Vec::<String>::new();
    warnings.extend(super::role::super_admin_warning(ctx));
    if ctx.store.lockdown()? {
        warnings.push(
            "the appliance is locked down: only holders of system.lockdown may administer".into(),
        );
    }
    if table.iter().next().is_none() {
        warnings.push("no RADIUS clients are configured: every request is dropped".into());
    }
    Ok(json!({
        "appliance": ctx.appliance,
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": ctx.started.elapsed().as_secs(),
        "listeners": ctx.listeners.iter().map(|(k, a)| json!({"kind": k, "address": a.to_string()})).collect::<Vec<_>>(),
        "store": {
            "path": ctx.store.path().display().to_string(),
            "users": users.into_iter().collect::<std::collections::BTreeMap<_, _>>(),
            "accounting_records": ctx.store.acct_event_count()?,
        },
        "radius": {
            "global": ctx.radius.global_counters(),
            "duplicate_cache_entries": ctx.radius.duplicate_cache_entries(),
            "clients": clients,
        },
        "administrator": {"name": permit.actor().name, "role": rights.role},
        "warnings": warnings,
    }))
}
