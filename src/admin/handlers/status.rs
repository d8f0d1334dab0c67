//! `status`: the daemon's health, listeners and per-client counters — cut to the caller's
//! scope like everything else (clients at their sites, users they reach).

use serde_json::json;

use super::HandlerResult;
use crate::admin::context::Call;
use crate::model::IpNet;
use crate::model::operation::Family;

pub(super) fn status(call: &Call<'_>) -> HandlerResult {
    let read = call.read();
    let appliance = call.appliance();
    let rights = &call.permit().actor().rights;
    let mut live = read.live_clients();
    live.sort_by(|a, b| a.name.cmp(&b.name));
    let clients: Vec<_> = live
        .iter()
        .map(|c| json!({"name": c.name, "site": c.site, "counters": c.counters.snapshot()}))
        .collect();
    let mut warnings = Vec::<String>::new();
    let supers = read.enabled_super_admins()?;
    if supers < 2 {
        warnings.push(format!("{supers} enabled Super Administrator(s): add a second one so that losing one account does not lock you out"));
    }
    if appliance.locked_down {
        warnings.push(
            "the appliance is locked down: only holders of system.lockdown may administer".into(),
        );
    }
    if !appliance.has_clients {
        warnings.push("no RADIUS clients are configured: every request is dropped".into());
    }
    // Clients stored before addresses were checked may still overlap.
    let mut seen: Vec<(IpNet, &str)> = Vec::new();
    for c in &live {
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
    let mut out = json!({
        "appliance": appliance.name,
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": appliance.uptime.as_secs(),
        "listeners": appliance.listeners.iter().map(|(k, a)| json!({"kind": k, "address": a.to_string()})).collect::<Vec<_>>(),
        "store": {
            "users": read.user_counts()?.into_iter().collect::<std::collections::BTreeMap<_, _>>(),
        },
        "radius": {
            "clients": clients,
        },
        "administrator": {"name": call.actor_name(), "role": rights.role},
        "warnings": warnings,
    });
    // Hit counters as last written (the request path writes them every 10 s).
    let counters = |name: &str, h: crate::policy::stored::Hits| json!({"name": name, "hits": h.hits, "would_deny": h.would_deny, "last_hit": h.last_hit});
    if rights.can_read(Family::UserPolicy) {
        out["policies"]["user"] = json!(
            read.user_policies()?
                .iter()
                .map(|p| counters(&p.name, p.hits))
                .collect::<Vec<_>>()
        );
    }
    if rights.can_read(Family::ComputerPolicy) {
        out["policies"]["computer"] = json!(
            read.computer_policies()?
                .iter()
                .map(|p| counters(&p.name, p.hits))
                .collect::<Vec<_>>()
        );
    }
    if rights.can_read(Family::ComputerRule) {
        out["policies"]["rules"] = json!(
            read.computer_rules()?
                .iter()
                .map(|r| counters(&r.rule.name, r.hits))
                .collect::<Vec<_>>()
        );
    }
    if let Some(wide) = read.appliance_wide()? {
        out["store"]["path"] = wide["store_path"].clone();
        out["store"]["accounting_records"] = wide["accounting_records"].clone();
        out["radius"]["global"] = wide["radius_global"].clone();
        out["radius"]["duplicate_cache_entries"] = wide["duplicate_cache_entries"].clone();
    }
    Ok(out)
}
