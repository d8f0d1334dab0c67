use serde_json::{Value, json};

use super::{AdminError, HandlerResult};
use crate::admin::authz::Permit;
use crate::admin::command::CertTrustArgs;
use crate::admin::server::AdminContext;
use crate::store::WriteOp;
use crate::store::directory::{CertRecord, DirectoryOp};
use crate::time::now_unix;
use crate::tls::certs;

fn view(c: &CertRecord) -> Value {
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
        "warnings": c.info.warnings(now_unix()),
    })
}

pub(super) async fn trust(ctx: &AdminContext, permit: &Permit, a: CertTrustArgs) -> HandlerResult {
    super::check_name("certificate", &a.name)?;
    let bytes = super::directory::decode_upload(&a.data_base64)?;
    let info = certs::inspect(&bytes).map_err(|e| AdminError::invalid(e.to_string()))?;
    permit.annotate("sha256_fingerprint", json!(info.sha256_fingerprint));
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::Directory(DirectoryOp::AddCert {
                name: a.name.clone(),
                info,
                created_by: permit.actor().name.clone(),
            })],
        )
        .await?;
    ctx.radius.invalidate_directories();
    let c = ctx
        .store
        .cert(&a.name)?
        .ok_or_else(|| AdminError::not_found(format!("certificate {}", a.name)))?;
    let v = view(&c);
    Ok(json!({"cert": v, "warnings": v["warnings"]}))
}

pub(super) fn list(ctx: &AdminContext) -> HandlerResult {
    Ok(json!({"certs": ctx.store.certs()?.iter().map(view).collect::<Vec<_>>()}))
}

pub(super) fn show(ctx: &AdminContext, name: &str) -> HandlerResult {
    let c = ctx
        .store
        .cert(name)?
        .ok_or_else(|| AdminError::not_found(format!("certificate {name}")))?;
    Ok(json!({"cert": view(&c)}))
}

pub(super) async fn delete(ctx: &AdminContext, permit: &Permit, name: &str) -> HandlerResult {
    let users: Vec<String> = ctx
        .store
        .directories()?
        .into_iter()
        .filter(|d| d.spec.ca_certs.iter().any(|c| c.eq_ignore_ascii_case(name)))
        .map(|d| d.spec.name)
        .collect();
    if !users.is_empty() {
        return Err(AdminError {
            code: crate::admin::proto::ErrorCode::Conflict,
            message: format!(
                "certificate {name} is used by directory {}; change its --ca first",
                users.join(", ")
            ),
        });
    }
    permit
        .commit(
            &ctx.store,
            vec![WriteOp::Directory(DirectoryOp::DeleteCert {
                name: name.to_string(),
            })],
        )
        .await?;
    ctx.radius.invalidate_directories();
    Ok(json!({"deleted": name}))
}
