//! Sites (name, subnets, timezone) and the appliance-wide lockdown switch.

use serde_json::{Value, json};

use super::{AdminError, HandlerResult};
use crate::admin::command::SiteArgs;
use crate::admin::context::Call;
use crate::model::{IpNet, SiteRecord};
use crate::store::WriteOp;
use crate::store::admin::AdminOp;

fn view(s: &SiteRecord) -> Value {
    json!({"name": s.name, "subnets": s.subnets, "timezone": s.timezone, "created_by": s.created_by})
}

fn check(name: &str, subnets: &[String], tz: &str) -> Result<Vec<String>, AdminError> {
    super::check_name("site", name)?;
    if jiff::tz::TimeZone::get(tz).is_err() {
        return Err(AdminError::invalid(format!(
            "timezone `{tz}`: not an IANA time zone such as Europe/Paris or UTC"
        )));
    }
    subnets
        .iter()
        .map(|s| {
            s.parse::<IpNet>()
                .map(|n| n.to_string())
                .map_err(|e| AdminError::invalid(e.to_string()))
        })
        .collect()
}

pub(super) async fn add(call: &Call<'_>, a: SiteArgs) -> HandlerResult {
    let tz = a.timezone.clone().unwrap_or_else(|| "UTC".into());
    let subnets = check(&a.name, a.subnets.as_deref().unwrap_or_default(), &tz)?;
    let site = SiteRecord {
        name: a.name.clone(),
        subnets,
        timezone: tz,
        created_by: call.actor_name().to_string(),
        created_at: 0,
    };
    call.commit(vec![WriteOp::Admin(AdminOp::PutSite {
        site,
        current_name: None,
    })])
    .await?;
    show(call, &a.name)
}

pub(super) async fn edit(call: &Call<'_>, a: SiteArgs) -> HandlerResult {
    let cur = call
        .read()
        .site(&a.name)?
        .ok_or_else(|| AdminError::not_found(format!("site {}", a.name)))?;
    let name = a.new_name.clone().unwrap_or(cur.name.clone());
    let tz = a.timezone.clone().unwrap_or(cur.timezone.clone());
    let subnets = check(&name, a.subnets.as_deref().unwrap_or(&cur.subnets), &tz)?;
    let site = SiteRecord {
        name: name.clone(),
        subnets,
        timezone: tz,
        created_by: cur.created_by.clone(),
        created_at: cur.created_at,
    };
    call.commit(vec![WriteOp::Admin(AdminOp::PutSite {
        site,
        current_name: Some(cur.name),
    })])
    .await?;
    show(call, &name)
}

pub(super) fn list(call: &Call<'_>) -> HandlerResult {
    Ok(json!({"sites": call.read().sites()?.iter().map(view).collect::<Vec<_>>()}))
}

pub(super) fn show(call: &Call<'_>, name: &str) -> HandlerResult {
    let read = call.read();
    let s = read
        .site(name)?
        .ok_or_else(|| AdminError::not_found(format!("site {name}")))?;
    let clients: Vec<String> = read
        .clients()?
        .into_iter()
        .filter(|c| c.site.eq_ignore_ascii_case(&s.name))
        .map(|c| c.name)
        .collect();
    let mut v = view(&s);
    v["clients"] = json!(clients);
    Ok(json!({"site": v}))
}

pub(super) async fn delete(call: &Call<'_>, name: &str) -> HandlerResult {
    call.commit(vec![WriteOp::Admin(AdminOp::DeleteSite {
        name: name.to_string(),
    })])
    .await?;
    Ok(json!({"deleted": name}))
}

pub(super) async fn lockdown(call: &Call<'_>, on: bool) -> HandlerResult {
    call.commit(vec![WriteOp::Admin(AdminOp::SetLockdown(on))])
        .await?;
    Ok(json!({"lockdown": on}))
}
