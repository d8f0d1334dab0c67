//! Sites (name, subnets, timezone) and the appliance-wide lockdown switch.

use serde_json::{Value, json};

use super::{AdminError, HandlerResult};
use crate::admin::authz::Permit;
use crate::admin::command::SiteArgs;
use crate::admin::proto::ErrorCode;
use crate::admin::server::AdminContext;
use crate::model::SiteRecord;
use crate::model::cidr::IpNet;
use crate::store::WriteOp;
use crate::store::admin::AdminOp;

fn view(s: &SiteRecord) -> Value {
    json!({"name": s.name, "subnets": s.subnets, "timezone": s.timezone, "created_by": s.created_by})
}

fn check(name: &str, subnets: &[String], tz: &str) -> Result<Vec<String>, AdminError> {
    super::check_name("site", name)?;
    if tz.is_empty()
        || !tz
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c))
    {
        return Err(AdminError::invalid(format!(
            "timezone `{tz}`: an IANA name such as Europe/Paris or UTC"
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

pub(super) async fn add(ctx: &AdminContext, permit: &Permit, a: SiteArgs) -> HandlerResult {
    let tz = a.timezone.clone().unwrap_or_else(|| "UTC".into());
    let subnets = check(&a.name, a.subnets.as_deref().unwrap_or_default(), &tz)?;
    let site = SiteRecord {
        name: a.name.clone(),
        subnets,
        timezone: tz,
        created_by: permit.actor().name.clone(),
        created_at: 0,
    };
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::Admin(AdminOp::PutSite {
                site,
                current_name: None,
            })],
        )
        .await?;
    show(ctx, &a.name)
}

pub(super) async fn edit(ctx: &AdminContext, permit: &Permit, a: SiteArgs) -> HandlerResult {
    let cur = ctx
        .store
        .site(&a.name)?
        .ok_or_else(|| AdminError::not_found(format!("site {}", a.name)))?;
    let name = a.new_name.clone().unwrap_or(cur.name.clone());
    let tz = a.timezone.clone().unwrap_or(cur.timezone.clone());
    let subnets = check(&name, a.subnets.as_deref().unwrap_or(&cur.subnets), &tz)?;
    if !name.eq_ignore_ascii_case(&cur.name)
        && ctx
            .store
            .clients()?
            .iter()
            .any(|c| c.site.eq_ignore_ascii_case(&cur.name))
    {
        return Err(AdminError {
            code: ErrorCode::Conflict,
            message: format!(
                "site {} has RADIUS clients; move them before renaming",
                cur.name
            ),
        });
    }
    let site = SiteRecord {
        name: name.clone(),
        subnets,
        timezone: tz,
        created_by: cur.created_by.clone(),
        created_at: cur.created_at,
    };
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::Admin(AdminOp::PutSite {
                site,
                current_name: Some(cur.name),
            })],
        )
        .await?;
    show(ctx, &name)
}

pub(super) fn list(ctx: &AdminContext, permit: &Permit) -> HandlerResult {
    let rights = &permit.actor().rights;
    Ok(
        json!({"sites": ctx.store.sites()?.iter().filter(|s| rights.can_see_site(&s.name)).map(view).collect::<Vec<_>>()}),
    )
}

pub(super) fn show(ctx: &AdminContext, name: &str) -> HandlerResult {
    let s = ctx
        .store
        .site(name)?
        .ok_or_else(|| AdminError::not_found(format!("site {name}")))?;
    let clients: Vec<String> = ctx
        .store
        .clients()?
        .into_iter()
        .filter(|c| c.site.eq_ignore_ascii_case(&s.name))
        .map(|c| c.name)
        .collect();
    let mut v = view(&s);
    v["clients"] = json!(clients);
    Ok(json!({"site": v}))
}

pub(super) async fn delete(ctx: &AdminContext, permit: &Permit, name: &str) -> HandlerResult {
    let clients: Vec<String> = ctx
        .store
        .clients()?
        .into_iter()
        .filter(|c| c.site.eq_ignore_ascii_case(name))
        .map(|c| c.name)
        .collect();
    if !clients.is_empty() {
        return Err(AdminError {
            code: ErrorCode::Conflict,
            message: format!(
                "site {name} still has RADIUS clients: {}",
                clients.join(", ")
            ),
        });
    }
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::Admin(AdminOp::DeleteSite {
                name: name.to_string(),
            })],
        )
        .await?;
    Ok(json!({"deleted": name}))
}

pub(super) async fn lockdown(ctx: &AdminContext, permit: &Permit, on: bool) -> HandlerResult {
    permit
        .commit(&ctx.store, vec![WriteOp::Admin(AdminOp::SetLockdown(on))])
        .await?;
    Ok(json!({"lockdown": on}))
}
