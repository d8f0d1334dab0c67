//! `status`: the daemon's health, listeners and per-client counters — cut to the caller's
//! scope like everything else (clients at their sites, users they reach).

use serde_json::json;

use super::HandlerResult;
use crate::admin::context::Call;
use crate::model::IpNet;

pub(super) fn status(call: &Call<'_>) -> HandlerResult {
    let ctx = call.context();
    let read = call.read();
    let rights = &call.permit().actor().rights;
    let table = ctx.radius.clients();
    let mut clients: Vec<_> = table
        .iter()
        .filter(|c| rights.can_see_site(&c.site))
        .map(|c| json!({"name": c.name, "site": c.site, "counters": c.counters.snapshot()}))
        .collect();
    clients.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let mut warnings = Vec::<String>::new();
    let supers = read.enabled_super_admins()?;
    if supers < 2 {
        warnings.push(format!("{supers} enabled Super Administrator(s): add a second one so that losing one account does not lock you out"));
    }
    if ctx.locked_down() {
        warnings.push(
            "the appliance is locked down: only holders of system.lockdown may administer".into(),
        );
    }
    if table.iter().next().is_none() {
        warnings.push("no RADIUS clients are configured: every request is dropped".into());
    }
    // Clients stored before addresses were checked may still overlap.
    let mut seen: Vec<(IpNet, &str)> = Vec::new();
    for c in table.iter().filter(|c| rights.can_see_site(&c.site)) {
        if let Some((_, other)) = seen.iter().find(|(n, _)| n.overlaps(&c.network)) {
            warnings.push(format!(
                "clients {other} and {} have overlapping addresses: give each its own",
                c.name
            ));
        }
        seen.push((c.network, &c.name));
    }
    for d in read.directories()? {
        for w in d.spec.warnings() {
            warnings.push(format!("directory {}: {w}", d.spec.name));
        }
    }
    let global = rights.is_global();
    let mut out = json!({
        "appliance": ctx.appliance,
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": ctx.started.elapsed().as_secs(),
        "listeners": ctx.listeners.iter().map(|(k, a)| json!({"kind": k, "address": a.to_string()})).collect::<Vec<_>>(),
        "store": {
            "users": read.user_counts()?.into_iter().collect::<std::collections::BTreeMap<_, _>>(),
        },
        "radius": {
            "clients": clients,
        },
        "administrator": {"name": call.actor_name(), "role": rights.role},
        "warnings": warnings,
    });
    // What belongs to no site or user is the whole appliance's business.
    if global {
        out["store"]["path"] = json!(ctx.store().path().display().to_string());
        out["store"]["accounting_records"] = json!(ctx.store().acct_event_count()?);
        out["radius"]["global"] = json!(ctx.radius.global_counters());
        out["radius"]["duplicate_cache_entries"] = json!(ctx.radius.duplicate_cache_entries());
    }
    Ok(out)
}
