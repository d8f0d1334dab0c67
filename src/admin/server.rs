//! The admin socket: identity from SO_PEERCRED, one JSON request per line, and
//! [`dispatch`] — the only way from a request to a handler.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use std::collections::HashMap;

use super::authz::role;
use super::authz::{self, Actor, AuditSlot, Rights, TargetFacts};
use super::command::{Command, Target};
use super::handlers;
use super::proto::{ErrorCode, MAX_LINE, PROTOCOL_VERSION, Request, Response};
use crate::audit::{AuditEvent, EventKind, Outcome};
use crate::model::role::{RoleDef, SUPER_ADMINISTRATOR};
use crate::radius::context::RadiusContext;
use crate::store::{Store, StoreError, WriteOp};
use crate::time::now_micros;

/// Identity settings that SIGHUP may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySettings {
    pub root_is_super_admin: bool,
}

pub struct AdminContext {
    pub store: Store,
    /// Roles as stored, keyed by lower-cased name, with their creators; reloaded on change.
    pub roles: RwLock<Arc<RoleMap>>,
    pub directories: Arc<crate::sync::service::DirectoryService>,
    pub radius: Arc<RadiusContext>,
    pub started: Instant,
    pub appliance: String,
    /// The appliance's own site: new clients default to it.
    pub site: String,
    pub listeners: Vec<(&'static str, SocketAddr)>,
    pub identity: RwLock<IdentitySettings>,
    /// The daemon's own uid: that account already owns the store and key file, so treating
    /// it as a break-glass administrator grants nothing it does not have.
    pub daemon_uid: u32,
}

pub type RoleMap = HashMap<String, (RoleDef, String)>;

impl AdminContext {
    /// The current role map.
    #[must_use]
    pub fn roles(&self) -> Arc<RoleMap> {
        self.roles
            .read()
            .map_or_else(|p| Arc::clone(&p.into_inner()), |r| Arc::clone(&r))
    }

    /// Re-reads the roles after a change.
    ///
    /// # Errors
    /// A store failure.
    pub fn reload_roles(&self) -> Result<(), StoreError> {
        let roles = Arc::new(self.store.roles()?);
        match self.roles.write() {
            Ok(mut r) => *r = roles,
            Err(p) => *p.into_inner() = roles,
        }
        Ok(())
    }

    /// Effective rights of a role.
    ///
    /// # Errors
    /// A damaged hierarchy (unknown parent, cycle).
    pub fn rights_of(&self, role: &str) -> Result<Rights, role::RoleError> {
        role::effective(&*self.roles(), role)
    }

    /// Rebuilds the RADIUS client table after a change.
    ///
    /// # Errors
    /// A store failure while reading clients back.
    pub fn reload_clients(&self) -> Result<(), StoreError> {
        self.radius.replace_clients(self.store.clients()?);
        Ok(())
    }
}

/// Creates the socket file (replacing a stale one), mode 0660, optionally group-owned.
///
/// # Errors
/// Binding or permission failures, naming the path.
pub fn bind(path: &Path, group: &str) -> anyhow::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("{}: cannot create directory: {e}", dir.display()))?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => anyhow::bail!("{}: cannot remove stale socket: {e}", path.display()),
    }
    let listener = UnixListener::bind(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot bind admin socket: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if !group.is_empty() {
        let gid = group_id(group)
            .ok_or_else(|| anyhow::anyhow!("admin.socket_group: no group named `{group}`"))?;
        std::os::unix::fs::chown(path, None, Some(gid))
            .map_err(|e| anyhow::anyhow!("{}: chown to group {group}: {e}", path.display()))?;
    }
    Ok(listener)
}

/// (name, numeric id) of every entry of /etc/passwd or /etc/group (`name:x:id:…`).
fn id_entries(path: &str) -> Vec<(String, u32)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            Some((name.to_string(), f.nth(1)?.parse().ok()?))
        })
        .collect()
}

fn group_id(name: &str) -> Option<u32> {
    id_entries("/etc/group")
        .into_iter()
        .find_map(|(n, id)| (n == name).then_some(id))
}

/// The uid of the Unix user `name`.
#[must_use]
pub fn user_id(name: &str) -> Option<u32> {
    id_entries("/etc/passwd")
        .into_iter()
        .find_map(|(n, id)| (n == name).then_some(id))
}

/// The login name of `uid`, for audit records.
#[must_use]
pub fn user_name(uid: u32) -> Option<String> {
    id_entries("/etc/passwd")
        .into_iter()
        .find_map(|(n, id)| (id == uid).then_some(n))
}

/// Accepts connections until `shutdown`.
pub async fn serve(
    listener: UnixListener,
    ctx: Arc<AdminContext>,
    mut shutdown: watch::Receiver<bool>,
    path: PathBuf,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let ctx = Arc::clone(&ctx);
                    conns.spawn(async move { connection(stream, ctx).await });
                }
                Err(e) => tracing::warn!(error = %e, "admin accept failed"),
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    // Requests in progress finish; idle connections are closed with the listener.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    let _ = std::fs::remove_file(path);
}

async fn connection(stream: UnixStream, ctx: Arc<AdminContext>) {
    let uid = match stream.peer_cred() {
        Ok(c) => c.uid(),
        Err(e) => {
            tracing::warn!(error = %e, "admin peer credentials unavailable");
            return;
        }
    };
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    let mut hello_done = false;
    loop {
        line.clear();
        let Ok(n) = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .await
        else {
            return;
        };
        if n == 0 {
            return;
        }
        if line.len() > MAX_LINE {
            let _ = send(
                &mut write,
                &Response::err(0, ErrorCode::InvalidArgument, "request too long"),
            )
            .await;
            return;
        }
        let response = match serde_json::from_slice::<Request>(&line) {
            Err(e) => Response::err(
                0,
                ErrorCode::InvalidArgument,
                format!("malformed request: {e}"),
            ),
            Ok(req) if req.op == "hello" => {
                let version = req.args.get("version").and_then(serde_json::Value::as_u64);
                if version == Some(u64::from(PROTOCOL_VERSION)) {
                    hello_done = true;
                    Response::ok(
                        req.id,
                        json!({"version": PROTOCOL_VERSION, "server": concat!("gatehoused ", env!("CARGO_PKG_VERSION"))}),
                    )
                } else {
                    Response::err(
                        req.id,
                        ErrorCode::UnsupportedVersion,
                        format!("this daemon speaks protocol version {PROTOCOL_VERSION}"),
                    )
                }
            }
            Ok(req) if !hello_done => {
                Response::err(req.id, ErrorCode::InvalidArgument, "send hello first")
            }
            Ok(req) => {
                let id = req.id;
                let (tx, mut rx) = tokio::sync::mpsc::channel(16);
                let work = dispatch(&ctx, uid, req, handlers::Progress::new(tx));
                tokio::pin!(work);
                loop {
                    tokio::select! {
                        r = &mut work => break r,
                        Some(p) = rx.recv() => {
                            let line = json!({"id": id, "progress": p});
                            let mut bytes = line.to_string().into_bytes();
                            bytes.push(b'\n');
                            if write.write_all(&bytes).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        };
        if send(&mut write, &response).await.is_err() {
            return;
        }
    }
}

async fn send(write: &mut tokio::net::unix::OwnedWriteHalf, r: &Response) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(r).unwrap_or_else(|_| b"{}".to_vec());
    bytes.push(b'\n');
    write.write_all(&bytes).await
}

/// Maps a peer uid (and `--as`) to an administrator.
fn resolve_actor(ctx: &AdminContext, uid: u32, act_as: Option<&str>) -> Result<Actor, String> {
    let root_ok = ctx.identity.read().is_ok_and(|s| s.root_is_super_admin);
    let break_glass = if uid == 0 && root_ok {
        Some("root".to_string())
    } else if uid == ctx.daemon_uid {
        Some(user_name(uid).unwrap_or_else(|| format!("uid{uid}")))
    } else {
        None
    };
    let as_admin = |name: &str, via: String| -> Result<Actor, String> {
        let admin = ctx
            .store
            .admin(name)
            .map_err(|e| format!("administrator lookup failed: {e}"))?
            .ok_or_else(|| format!("no administrator named {name}"))?;
        if !admin.enabled {
            return Err(format!("administrator {} is disabled", admin.name));
        }
        let rights = ctx.rights_of(&admin.role).map_err(|e| e.to_string())?;
        Ok(Actor {
            name: admin.name,
            via,
            rights,
        })
    };
    match (break_glass, act_as) {
        (Some(who), None) => Ok(Actor {
            name: who.clone(),
            via: who,
            rights: Rights::super_admin(),
        }),
        (Some(who), Some(other)) => as_admin(other, format!("{who} as {other}")),
        (None, Some(_)) => Err(format!(
            "uid {uid}: only root may act as another administrator (--as)"
        )),
        (None, None) => {
            let admin = ctx
                .store
                .admin_by_uid(uid)
                .map_err(|e| format!("administrator lookup failed: {e}"))?
                .ok_or_else(|| format!("uid {uid} is not an administrator"))?;
            let name = admin.name.clone();
            as_admin(&name, format!("{name} (uid {uid})"))
        }
    }
}

/// The facts authorization needs about `target`, read before deciding.
///
/// # Errors
/// Store failures.
pub fn target_facts(
    ctx: &AdminContext,
    actor: &Actor,
    target: &Target,
) -> Result<TargetFacts, StoreError> {
    let store = &ctx.store;
    // Every role but Super Administrator itself lies below Super Administrator, so this
    // needs no special case for the break-glass administrators.
    let roles = ctx.roles();
    let below = |role_name: &str| role::is_strictly_below(&*roles, role_name, &actor.rights.role);
    Ok(match target {
        Target::Role(name) => {
            ctx.roles()
                .get(&name.to_lowercase())
                .map_or_else(TargetFacts::default, |(def, by)| TargetFacts {
                    exists: true,
                    created_by: Some(by.clone()),
                    below_actor: below(&def.name),
                    ..TargetFacts::default()
                })
        }
        Target::Admin(name) => {
            store
                .admin(name)?
                .map_or_else(TargetFacts::default, |a| TargetFacts {
                    exists: true,
                    created_by: Some(a.created_by.clone()),
                    // The Super Administrator manages every administrator, other super
                    // administrators included (the last one is protected by the handler).
                    below_actor: actor.rights.role.eq_ignore_ascii_case(SUPER_ADMINISTRATOR)
                        || below(&a.role),
                    ..TargetFacts::default()
                })
        }
        Target::Site(name) => {
            store
                .site(name)?
                .map_or_else(TargetFacts::default, |site| TargetFacts {
                    exists: true,
                    created_by: Some(site.created_by),
                    site: Some(site.name),
                    ..TargetFacts::default()
                })
        }
        Target::Client(name) | Target::ClientMove { name, .. } => {
            store
                .client(name)?
                .map_or_else(TargetFacts::default, |c| TargetFacts {
                    exists: true,
                    created_by: Some(c.created_by),
                    site: Some(c.site),
                    ..TargetFacts::default()
                })
        }
        Target::User { domain, name } => {
            store
                .user(domain, name)?
                .map_or_else(TargetFacts::default, |u| TargetFacts {
                    exists: true,
                    created_by: Some(u.created_by),
                    domain: Some(u.domain),
                    ou_path: u.ou_path,
                    ..TargetFacts::default()
                })
        }
        Target::Directory(name) => store
            .directory(name)?
            .map_or_else(TargetFacts::default, |d| TargetFacts {
                exists: true,
                created_by: Some(d.created_by),
                domain: Some(d.spec.name),
                ..TargetFacts::default()
            }),
        Target::Appliance
        | Target::Listing
        | Target::NewClient { .. }
        | Target::NewUsers { .. }
        | Target::NewDirectory(_)
        | Target::NewRole(_)
        | Target::NewSite(_) => TargetFacts::default(),
    })
}

/// The only path from a request to a handler: identify, parse, load facts, decide, audit,
/// run. Every request leaves exactly one audit record, allowed or denied.
pub async fn dispatch(
    ctx: &AdminContext,
    uid: u32,
    req: Request,
    progress: handlers::Progress,
) -> Response {
    let id = req.id;
    let mut event = AuditEvent {
        time_micros: now_micros(),
        kind: EventKind::AdminRequest,
        actor: format!("uid {uid}"),
        operation: req.op.clone(),
        target: String::new(),
        outcome: Outcome::Denied,
        detail: "{}".into(),
        tags: crate::audit::Tags::default(),
    };
    let actor = match resolve_actor(ctx, uid, req.act_as.as_deref()) {
        Ok(a) => a,
        Err(why) => {
            event.detail = json!({"reason": why}).to_string();
            record(ctx, event).await;
            return Response::err(id, ErrorCode::PermissionDenied, why);
        }
    };
    event.actor = actor.via.clone();
    let command = match Command::parse(&req.op, req.args) {
        Ok(c) => c,
        Err(e) => {
            event.outcome = Outcome::Failed;
            event.detail = json!({"reason": e.0}).to_string();
            record(ctx, event).await;
            return Response::err(id, ErrorCode::InvalidArgument, e.0);
        }
    };
    event.target = command.audit_target();
    let detail = command.audit_detail();
    let requirement = command.requirement();
    let locked = ctx.store.lockdown().unwrap_or(true);
    if locked
        && !actor
            .rights
            .ops
            .contains_key(&crate::model::operation::Operation::SystemLockdown)
    {
        event.detail = json!({"reason": authz::Denied::LockedDown.to_string()}).to_string();
        event.operation = command.name().to_string();
        record(ctx, event).await;
        return Response::err(
            id,
            ErrorCode::PermissionDenied,
            authz::Denied::LockedDown.to_string(),
        );
    }
    // Records the RADIUS path queued without waiting (audit rows, logins) must be visible
    // to what this request reads.
    if let Err(e) = ctx.store.settle().await {
        tracing::error!(error = %e, "settling queued writes failed");
        return Response::err(id, ErrorCode::Internal, "the store is unavailable");
    }
    let facts = match target_facts(ctx, &actor, &requirement.target) {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "loading target facts failed");
            return Response::err(id, ErrorCode::Internal, "the store is unavailable");
        }
    };
    event.outcome = Outcome::Allowed;
    event.detail = detail.to_string();
    let slot = AuditSlot::new(event.clone());
    let authorized = match authz::decide(&actor, command, &facts, slot.clone()) {
        Ok(a) => a,
        Err(denied) => {
            let _ = slot.take();
            event.outcome = Outcome::Denied;
            event.detail = json!({"request": detail, "reason": denied.audit_reason()}).to_string();
            record(ctx, event).await;
            let code = match denied {
                authz::Denied::OutOfScope { .. } | authz::Denied::NotFound { .. } => {
                    ErrorCode::NotFound
                }
                _ => ErrorCode::PermissionDenied,
            };
            return Response::err(id, code, denied.to_string());
        }
    };
    let result = handlers::run(authorized, ctx, &progress).await;
    if let Some(mut left) = slot.take() {
        if let Err(e) = &result {
            left.outcome = Outcome::Failed;
            left.detail = json!({"request": detail, "error": e.message}).to_string();
        }
        record(ctx, left).await;
    }
    match result {
        Ok(value) => Response::ok(id, value),
        Err(e) => Response::err(id, e.code, e.message),
    }
}

/// Writes an audit record durably before the reply that follows it.
async fn record(ctx: &AdminContext, event: AuditEvent) {
    event.log();
    if let Err(e) = ctx.store.write(vec![WriteOp::Audit(event)]).await {
        tracing::error!(error = %e, "audit record not written");
    }
}
