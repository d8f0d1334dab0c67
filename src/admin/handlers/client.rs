//! RADIUS clients. Every source address belongs to one client: an address that equals or
//! overlaps another client's is refused, naming the holder when the caller may see it;
//! only an address strictly inside another client's network is accepted, when asked for
//! (`--allow-overlap`, audited) by someone whose scope covers both. A scoped administrator
//! uses only addresses inside its site's subnets when the site has any.

use serde_json::{Value, json};

use super::{AdminError, HandlerResult};
use crate::admin::command::{ClientAddArgs, ClientEditArgs};
use crate::admin::context::Call;
use crate::model::{ClientRecord, ClientSpec, IpNet, Secret};
use crate::store::WriteOp;

/// RFC 2865 asks for secrets of at least 16 octets; shorter ones are refused outright
/// below 6 and accepted with a warning up to 15, as deployed NAS configurations demand.
const MIN_SECRET: usize = 6;
const RECOMMENDED_SECRET: usize = 16;

fn check_name(name: &str) -> Result<(), AdminError> {
    super::check_name("client", name)
}

fn check_address(address: &str) -> Result<(IpNet, String), AdminError> {
    let net = address
        .parse::<IpNet>()
        .map_err(|e| AdminError::invalid(e.to_string()))?;
    let text = if net.is_host() {
        net.addr().to_string()
    } else {
        net.to_string()
    };
    Ok((net, text))
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
fn check_site(call: &Call<'_>, site: &str) -> Result<(), AdminError> {
    if call.read().site_exists(site)? {
        Ok(())
    } else {
        Err(AdminError::invalid(format!(
            "site: no site named {site} (gatehousectl site add {site})"
        )))
    }
}

/// The address rules of the module documentation that are not about scope (those were
/// decided before the handler ran: subnets, nesting in an unseen client). Returns
/// whether the address lies inside another client's network (allowed explicitly).
fn check_address_use(
    call: &Call<'_>,
    net: &IpNet,
    except: Option<&str>,
    allow_overlap: bool,
) -> Result<bool, AdminError> {
    let mut nested = false;
    for o in call.read().overlapping(net, except) {
        let holder = o.name.as_ref().map_or_else(
            || "a client outside your scope".to_string(),
            |n| format!("client {n}"),
        );
        if !(o.more_specific && allow_overlap) {
            let hint = if o.more_specific {
                " (a more specific client inside it needs --allow-overlap)"
            } else {
                ""
            };
            return Err(AdminError::conflict(format!(
                "address {net} overlaps {holder} ({}){hint}",
                o.address
            )));
        }
        nested = true;
    }
    Ok(nested)
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

fn committed(call: &Call<'_>, name: &str) -> HandlerResult {
    let client = call
        .read()
        .client(name)?
        .ok_or_else(|| AdminError::not_found(format!("client {name}")))?;
    Ok(json!({"client": view(&client)}))
}

pub(super) async fn add(call: &Call<'_>, a: ClientAddArgs) -> HandlerResult {
    check_name(&a.name)?;
    let (net, address) = check_address(&a.address)?;
    let (secret, warning) = check_secret(&a.secret)?;
    let site = a
        .site
        .clone()
        .unwrap_or_else(|| call.read().default_site().to_string());
    check_site(call, &site)?;
    let nested = check_address_use(call, &net, None, a.allow_overlap)?;
    if nested {
        call.annotate("overlap_allowed", json!(true));
    }
    let spec = ClientSpec {
        name: a.name.clone(),
        address,
        secret,
        site,
        require_message_authenticator: a.require_message_authenticator.unwrap_or(true),
        rate_limit: a.rate_limit.filter(|r| *r > 0),
    };
    call.commit(vec![WriteOp::AddClient {
        spec,
        created_by: call.actor_name().to_string(),
        allow_more_specific: nested,
    }])
    .await?;
    let mut out = committed(call, &a.name)?;
    out["warnings"] = json!(warning.into_iter().collect::<Vec<_>>());
    Ok(out)
}

pub(super) fn list(call: &Call<'_>) -> HandlerResult {
    let clients: Vec<Value> = call.read().clients()?.iter().map(view).collect();
    Ok(json!({"clients": clients}))
}

pub(super) fn show(call: &Call<'_>, name: &str) -> HandlerResult {
    committed(call, name)
}

pub(super) async fn edit(call: &Call<'_>, a: ClientEditArgs) -> HandlerResult {
    let current = call
        .read()
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
    let site = a.site.clone().unwrap_or(current.site.clone());
    if a.site.is_some() {
        check_site(call, &site)?;
    }
    let (net, address) = match &a.address {
        Some(addr) => check_address(addr)?,
        None => check_address(&current.address)?,
    };
    let nested = if a.address.is_some() || a.site.is_some() {
        check_address_use(call, &net, Some(&current.name), a.allow_overlap)?
    } else {
        false
    };
    let spec = ClientSpec {
        name: name.clone(),
        address,
        secret,
        site,
        require_message_authenticator: a
            .require_message_authenticator
            .unwrap_or(current.require_message_authenticator),
        rate_limit: match a.rate_limit {
            Some(0) => None,
            Some(r) => Some(r),
            None => current.rate_limit,
        },
    };
    call.commit(vec![WriteOp::UpdateClient {
        current_name: a.name.clone(),
        spec,
        // An unchanged address keeps whatever overlap it was allowed.
        allow_more_specific: nested || a.address.is_none(),
    }])
    .await?;
    let mut out = committed(call, &name)?;
    out["warnings"] = json!(warnings);
    Ok(out)
}

pub(super) async fn delete(call: &Call<'_>, name: &str) -> HandlerResult {
    call.commit(vec![WriteOp::DeleteClient {
        name: name.to_string(),
    }])
    .await?;
    Ok(json!({"deleted": name}))
}
