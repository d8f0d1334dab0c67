use serde_json::{Value, json};

use super::{AdminError, HandlerResult};
use crate::admin::authz::Permit;
use crate::admin::command::{ClientAddArgs, ClientEditArgs};
use crate::admin::server::AdminContext;
use crate::model::cidr::IpNet;
use crate::model::{ClientRecord, ClientSpec, Secret};
use crate::store::WriteOp;

/// RFC 2865 asks for secrets of at least 16 octets; shorter ones are refused outright
/// below 6 and accepted with a warning up to 15, as deployed NAS configurations demand.
const MIN_SECRET: usize = 6;
const RECOMMENDED_SECRET: usize = 16;

fn check_name(name: &str) -> Result<(), AdminError> {
    super::check_name("client", name)
}

fn check_address(address: &str) -> Result<String, AdminError> {
    address
        .parse::<IpNet>()
        .map(|n| {
            if n.is_host() {
                n.addr().to_string()
            } else {
                n.to_string()
            }
        })
        .map_err(|e| AdminError::invalid(e.to_string()))
}

/// The secret as typed (one trailing line break dropped), and a warning when it is short.
fn check_secret(given: &Secret) -> Result<(Secret, Option<String>), AdminError> {
    let secret = Secret::from_text(given.expose_str().unwrap_or_default());
    if secret.len() < MIN_SECRET {
        return Err(AdminError::invalid(format!(
            "the shared secret must be at least {MIN_SECRET} characters ({RECOMMENDED_SECRET}+ recommended)"
        )));
    }
    let warning = (secret.len() < RECOMMENDED_SECRET).then(|| {
        format!("the shared secret is shorter than the {RECOMMENDED_SECRET} characters RFC 2865 recommends")
    });
    Ok((secret, warning))
}

/// Clients belong to a site: the appliance's own, or one created with `site add`.
fn check_site(ctx: &AdminContext, site: &str) -> Result<(), AdminError> {
    if site.eq_ignore_ascii_case(&ctx.site) || ctx.store.site(site)?.is_some() {
        Ok(())
    } else {
        Err(AdminError::invalid(format!(
            "site: no site named {site} (gatehousectl site add {site})"
        )))
    }
}

fn view(c: &ClientRecord) -> Value {
    json!({
        "name": c.name,
        "address": c.address,
        "site": c.site,
        "require_message_authenticator": c.require_message_authenticator,
        "rate_limit": c.rate_limit,
        "created_by": c.created_by,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    })
}

pub(super) async fn add(ctx: &AdminContext, permit: &Permit, a: ClientAddArgs) -> HandlerResult {
    check_name(&a.name)?;
    let address = check_address(&a.address)?;
    let (secret, warning) = check_secret(&a.secret)?;
    if let Some(site) = &a.site {
        check_site(ctx, site)?;
    }
    let spec = ClientSpec {
        name: a.name.clone(),
        address,
        secret,
        site: a.site.clone().unwrap_or_else(|| ctx.site.clone()),
        require_message_authenticator: a.require_message_authenticator.unwrap_or(true),
        rate_limit: a.rate_limit.filter(|r| *r > 0),
    };
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::AddClient {
                spec,
                created_by: permit.actor().name.clone(),
            }],
        )
        .await?;
    ctx.reload_clients()?;
    let client = ctx
        .store
        .client(&a.name)?
        .ok_or_else(|| AdminError::not_found(format!("client {}", a.name)))?;
    Ok(json!({"client": view(&client), "warnings": warning.into_iter().collect::<Vec<_>>()}))
}

pub(super) fn list(ctx: &AdminContext, permit: &Permit) -> HandlerResult {
    let rights = &permit.actor().rights;
    let clients: Vec<Value> = ctx
        .store
        .clients()?
        .iter()
        .filter(|c| rights.can_see_site(&c.site))
        .map(view)
        .collect();
    Ok(json!({"clients": clients}))
}

pub(super) fn show(ctx: &AdminContext, _permit: &Permit, name: &str) -> HandlerResult {
    let c = ctx
        .store
        .client(name)?
        .ok_or_else(|| AdminError::not_found(format!("client {name}")))?;
    Ok(json!({"client": view(&c)}))
}

pub(super) async fn edit(ctx: &AdminContext, permit: &Permit, a: ClientEditArgs) -> HandlerResult {
    let current = ctx
        .store
        .client(&a.name)?
        .ok_or_else(|| AdminError::not_found(format!("client {}", a.name)))?;
    let mut warnings = Vec::new();
    let name = a.new_name.clone().unwrap_or_else(|| current.name.clone());
    check_name(&name)?;
    let secret = match &a.secret {
        Some(s) => {
            let (secret, warning) = check_secret(s)?;
            warnings.extend(warning);
            secret
        }
        None => current.secret.clone(),
    };
    let spec = ClientSpec {
        name: name.clone(),
        address: match &a.address {
            Some(addr) => check_address(addr)?,
            None => current.address.clone(),
        },
        secret,
        site: a.site.clone().unwrap_or(current.site.clone()),
        require_message_authenticator: a
            .require_message_authenticator
            .unwrap_or(current.require_message_authenticator),
        rate_limit: match a.rate_limit {
            Some(0) => None,
            Some(r) => Some(r),
            None => current.rate_limit,
        },
    };
    if let Some(site) = &a.site {
        check_site(ctx, site)?;
    }
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::UpdateClient {
                current_name: a.name.clone(),
                spec,
            }],
        )
        .await?;
    ctx.reload_clients()?;
    let c = ctx
        .store
        .client(&name)?
        .ok_or_else(|| AdminError::not_found(format!("client {name}")))?;
    Ok(json!({"client": view(&c), "warnings": warnings}))
}

pub(super) async fn delete(ctx: &AdminContext, permit: &Permit, name: &str) -> HandlerResult {
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::DeleteClient {
                name: name.to_string(),
            }],
        )
        .await?;
    ctx.reload_clients()?;
    Ok(json!({"deleted": name}))
}
