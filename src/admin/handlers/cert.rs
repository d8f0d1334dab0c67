//! Trusted certificates: the roots for LDAPS/StartTLS (and later RadSec clients).

use serde_json::{Value, json};

use super::{AdminError, HandlerResult};
use crate::admin::command::CertTrustArgs;
use crate::admin::context::Call;
use crate::store::WriteOp;
use crate::store::directory::{CertRecord, DirectoryOp};
use crate::tls::certs;

fn view(c: &CertRecord, now: i64) -> Value {
    json!({
        "name": c.name,
        "subject": c.info.subject,
        "issuer": c.info.issuer,
        "serial": c.info.serial,
        "not_before": c.info.not_before,
        "not_after": c.info.not_after,
        "sha256_fingerprint": c.info.sha256_fingerprint,
        "is_ca": c.info.is_ca,
        "created_by": c.created_by,
        "warnings": c.info.warnings(now),
    })
}

fn shown(call: &Call<'_>, name: &str) -> Result<Value, AdminError> {
    let c = call
        .read()
        .cert(name)?
        .ok_or_else(|| AdminError::not_found(format!("certificate {name}")))?;
    Ok(view(&c, call.clock().now_unix()))
}

pub(super) async fn trust(call: &Call<'_>, a: CertTrustArgs) -> HandlerResult {
    super::check_name("certificate", &a.name)?;
    let bytes = super::directory::decode_upload(&a.data_base64)?;
    // A private key has no business on the admin socket, let alone in the trust store.
    if certs::holds_private_key(&bytes) {
        return Err(AdminError::invalid(
            "the file holds a private key: give the certificate alone (the key was not stored)",
        ));
    }
    let info = certs::inspect(&bytes).map_err(|e| AdminError::invalid(e.to_string()))?;
    call.annotate("sha256_fingerprint", json!(info.sha256_fingerprint));
    call.commit(vec![WriteOp::Directory(DirectoryOp::AddCert {
        name: a.name.clone(),
        info,
        created_by: call.actor_name().to_string(),
    })])
    .await?;
    let v = shown(call, &a.name)?;
    Ok(json!({"cert": v, "warnings": v["warnings"]}))
}

pub(super) fn list(call: &Call<'_>) -> HandlerResult {
    let now = call.clock().now_unix();
    Ok(json!({"certs": call.read().certs()?.iter().map(|c| view(c, now)).collect::<Vec<_>>()}))
}

pub(super) fn show(call: &Call<'_>, name: &str) -> HandlerResult {
    Ok(json!({"cert": shown(call, name)?}))
}

pub(super) async fn delete(call: &Call<'_>, name: &str) -> HandlerResult {
    let users: Vec<String> = call
        .read()
        .all_directories()?
        .into_iter()
        .filter(|d| d.spec.ca_certs.iter().any(|c| c.eq_ignore_ascii_case(name)))
        .map(|d| d.spec.name)
        .collect();
    if !users.is_empty() {
        return Err(AdminError::conflict(format!(
            "certificate {name} is used by directory {}; change its --ca first",
            users.join(", ")
        )));
    }
    call.commit(vec![WriteOp::Directory(DirectoryOp::DeleteCert {
        name: name.to_string(),
    })])
    .await?;
    Ok(json!({"deleted": name}))
}
